"""Handlers of DRS's classic operations: source servers, jobs, recovery instances, snapshots, launch
configuration and post-launch actions. Each takes the validated ``params`` and returns the output dict.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from drs_desktop.simulator import errors
from drs_desktop.simulator.contract import paginate
from drs_desktop.simulator.entities import Server
from drs_desktop.simulator.fleet import FROZEN_STATES, REPLICATING_STATES, pit_snapshots, replicating_count
from drs_desktop.simulator.ids import parse_instant_us, parse_ts, stable_hex, stream
from drs_desktop.simulator.jobs import JobEngine
from drs_desktop.simulator.views import (
    instance_view,
    job_view,
    launch_config_view,
    log_view,
    server_view,
    snapshot_view,
)
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)
T = TypeVar("T")
Handler = Callable[[dict[str, Any]], dict[str, Any]]


def page(
    w: World, operation: str, items: Sequence[T], params: dict[str, Any], scope: object = None
) -> tuple[list[T], str | None]:
    """One page under the simulator's page cap; the token is bound to the operation and its filters."""
    cap = w.quotas.max_page_size
    size = min(params.get("maxResults") or cap, cap)
    digest = stable_hex(json.dumps(scope, sort_keys=True, default=str), length=12)
    return paginate(
        items, size, params.get("nextToken") or None, scope=f"{operation}:{digest}", default_page=cap
    )


def _ts(value: str, field: str) -> float:
    try:
        return parse_ts(value)
    except ValueError:
        raise errors.invalid(f"{value!r} is not an ISO 8601 date-time", field) from None


def _instant(value: str, field: str) -> int:
    """An ISO 8601 time as whole microseconds since the epoch: exact, whatever its digits."""
    try:
        return parse_instant_us(value)
    except ValueError:
        raise errors.invalid(f"{value!r} is not an ISO 8601 date-time", field) from None


class CoreOperations:
    def __init__(self, world: World, jobs: JobEngine) -> None:
        self.w = world
        self.jobs = jobs

    def handlers(self) -> dict[str, Handler]:
        return {
            "DescribeSourceServers": self.describe_source_servers,
            "StartRecovery": self.start_recovery,
            "DescribeJobs": self.describe_jobs,
            "DescribeJobLogItems": self.describe_job_log_items,
            "DeleteJob": self.delete_job,
            "DescribeRecoveryInstances": self.describe_recovery_instances,
            "TerminateRecoveryInstances": self.terminate_recovery_instances,
            "DescribeRecoverySnapshots": self.describe_recovery_snapshots,
            "GetLaunchConfiguration": self.get_launch_configuration,
            "UpdateLaunchConfiguration": self.update_launch_configuration,
            "ListLaunchActions": self.list_launch_actions,
            "PutLaunchAction": self.put_launch_action,
            "DeleteLaunchAction": self.delete_launch_action,
            "StartReplication": self.start_replication,
            "StopReplication": self.stop_replication,
            "DisconnectSourceServer": self.disconnect_source_server,
            "ListStagingAccounts": self.list_staging_accounts,
        }

    def _server(self, server_id: str) -> Server:
        server = self.w.servers.get(server_id)
        if server is None:
            raise errors.not_found(server_id, "SOURCE_SERVER", f"Source server {server_id} not found")
        return server

    # -- source servers --------------------------------------------------------------------------

    def describe_source_servers(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        filters = params.get("filters") or {}
        servers: Sequence[Server] = list(w.servers.values())
        wanted = filters.get("sourceServerIDs")
        if wanted:
            servers = [w.servers[sid] for sid in dict.fromkeys(wanted) if sid in w.servers]
        hardware = filters.get("hardwareId")
        if hardware:
            servers = [s for s in servers if s.mac.lower() == hardware.lower()]
        staging = filters.get("stagingAccountIDs")
        if staging:
            servers = [s for s in servers if s.staging_account in staging]
        items, token = page(w, "DescribeSourceServers", servers, params, filters)
        return _listing([server_view(w, s) for s in items], token)

    def start_replication(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        server = self._server(params["sourceServerID"])
        if server.replication_state in REPLICATING_STATES:
            raise errors.conflict(
                f"Source server {server.server_id} is already replicating", server.server_id
            )
        if not server.extended and replicating_count(w.servers.values()) >= w.quotas.max_replicating_servers:
            raise errors.quota_exceeded(
                errors.QUOTA_REPLICATING_SERVERS,
                f"At most {w.quotas.max_replicating_servers} source servers may replicate in this account",
                "SOURCE_SERVER",
            )
        if server.replication_state == "DISCONNECTED":
            raise errors.conflict(
                f"Source server {server.server_id} is disconnected; reinstall the agent", server.server_id
            )
        server.replication_state = "RESCAN"
        server.replication_error = None
        span = w.scenario.timings.replication_resume
        resume = w.now + stream(w.seed, f"replication:{server.server_id}:{w.now}").uniform(
            span.low, span.high
        )

        def caught_up() -> None:
            if server.replication_state == "RESCAN":
                server.replication_state = "CONTINUOUS"
                server.replication_stopped_at = None
                server.sync_done_ts = server.sync_done_ts or w.now

        w.schedule(resume, caught_up)
        return {"sourceServer": server_view(w, server)}

    def stop_replication(self, params: dict[str, Any]) -> dict[str, Any]:
        server = self._server(params["sourceServerID"])
        if server.replication_state not in REPLICATING_STATES:
            raise errors.conflict(f"Source server {server.server_id} is not replicating", server.server_id)
        self._freeze(server, "STOPPED")
        return {"sourceServer": server_view(self.w, server)}

    def disconnect_source_server(self, params: dict[str, Any]) -> dict[str, Any]:
        server = self._server(params["sourceServerID"])
        if server.active_job_id is not None:
            raise errors.conflict(errors.SERVER_BUSY, server.server_id, "SOURCE_SERVER")
        instance = next((i for i in self.w.instances.values() if i.server_id == server.server_id), None)
        if instance is not None:
            # DRS refuses while the server has a recovery instance: terminate it first (listed or not yet).
            raise errors.conflict(
                f"Source server {server.server_id} has recovery instance {instance.instance_id}; "
                "terminate it before disconnecting the server",
                server.server_id,
                "SOURCE_SERVER",
            )
        self._freeze(server, "DISCONNECTED")
        return server_view(self.w, server)

    def _freeze(self, server: Server, state: str) -> None:
        server.replication_state = state
        server.replication_error = None
        if state in FROZEN_STATES and server.replication_stopped_at is None:
            server.replication_stopped_at = self.w.now
        # Stopping or disconnecting deletes the server's snapshots (drs_api.md §3.1).
        server.extra_snapshots.clear()

    def list_staging_accounts(self, params: dict[str, Any]) -> dict[str, Any]:
        accounts = [{"accountID": a} for a in self.w.scenario.fleet.staging_accounts]
        items, token = page(self.w, "ListStagingAccounts", accounts, params)
        out: dict[str, Any] = {"accounts": items}
        if token:
            out["nextToken"] = token
        return out

    # -- jobs ------------------------------------------------------------------------------------

    def start_recovery(self, params: dict[str, Any]) -> dict[str, Any]:
        requests = [(s["sourceServerID"], s.get("recoverySnapshotID")) for s in params["sourceServers"]]
        tags = params.get("tags") or {}
        self._check_tag_count(tags)
        job = self.jobs.start_launch(requests, is_drill=bool(params.get("isDrill", False)), tags=tags)
        return {"job": job_view(self.w, job)}

    def _check_tag_count(self, tags: dict[str, str]) -> None:
        if len(tags) > self.w.quotas.max_tags_per_resource - 1:
            raise errors.invalid(f"At most {self.w.quotas.max_tags_per_resource} tags per resource", "tags")

    def describe_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        filters = params.get("filters") or {}
        wanted = filters.get("jobIDs")
        jobs = [w.jobs[j] for j in dict.fromkeys(wanted) if j in w.jobs] if wanted else list(w.jobs.values())
        # Exact instants, both bounds inclusive: each job's creationDateTime as this answer shows it, to
        # the microsecond, against the filter's instant (no float rounding, no truncation to seconds), so
        # a job's own creationDateTime passed back as a bound always finds it.
        if filters.get("fromDate"):
            low = _instant(filters["fromDate"], "filters.fromDate")
            jobs = [j for j in jobs if _instant(w.fmt(j.created_ts), "creationDateTime") >= low]
        if filters.get("toDate"):
            high = _instant(filters["toDate"], "filters.toDate")
            jobs = [j for j in jobs if _instant(w.fmt(j.created_ts), "creationDateTime") <= high]
        jobs.sort(key=lambda j: (j.created_ts, j.seq), reverse=True)  # newest first, as DRS lists them
        items, token = page(w, "DescribeJobs", jobs, params, filters)
        return _listing([job_view(w, j) for j in items], token)

    def describe_job_log_items(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        job = w.jobs.get(params["jobID"])
        log = job.log if job is not None else []
        items, token = page(w, "DescribeJobLogItems", log, params, params["jobID"])
        return _listing([log_view(w, i) for i in items], token)

    def delete_job(self, params: dict[str, Any]) -> dict[str, Any]:
        self.jobs.delete_job(params["jobID"])
        return {}

    # -- recovery instances and snapshots --------------------------------------------------------

    def describe_recovery_instances(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        filters = params.get("filters") or {}
        instances = [i for i in w.instances.values() if i.listed_ts <= w.now]  # listed after a lag
        if filters.get("recoveryInstanceIDs"):
            wanted = set(filters["recoveryInstanceIDs"])
            instances = [i for i in instances if i.instance_id in wanted]
        if filters.get("sourceServerIDs"):
            servers = set(filters["sourceServerIDs"])
            instances = [i for i in instances if i.server_id in servers]
        items, token = page(w, "DescribeRecoveryInstances", instances, params, filters)
        return _listing([instance_view(w, i) for i in items], token)

    def terminate_recovery_instances(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self.jobs.start_terminate(list(params["recoveryInstanceIDs"]))
        return {"job": job_view(self.w, job)}

    def describe_recovery_snapshots(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        server = self._server(params["sourceServerID"])
        snaps = pit_snapshots(server, w.now, w.seed)
        filters = params.get("filters") or {}
        if filters.get("fromDateTime"):
            low = _ts(filters["fromDateTime"], "filters.fromDateTime")
            snaps = [s for s in snaps if s.expected_ts >= low]
        if filters.get("toDateTime"):
            high = _ts(filters["toDateTime"], "filters.toDateTime")
            snaps = [s for s in snaps if s.expected_ts <= high]
        if params.get("order") == "DESC":
            snaps.reverse()
        scope = {"server": server.server_id, "filters": filters, "order": params.get("order")}
        items, token = page(w, "DescribeRecoverySnapshots", snaps, params, scope)
        return _listing([snapshot_view(w, s) for s in items], token)

    # -- launch configuration and post-launch actions -------------------------------------------

    def get_launch_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        return launch_config_view(self._server(params["sourceServerID"]))

    def update_launch_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        server = self._server(params["sourceServerID"])
        if server.active_job_id is not None:
            raise errors.conflict(errors.SERVER_BUSY, server.server_id, "SOURCE_SERVER")
        c = server.launch_config
        simple = {
            "name": "name",
            "launchDisposition": "launch_disposition",
            "targetInstanceTypeRightSizingMethod": "right_sizing",
            "copyPrivateIp": "copy_private_ip",
            "copyTags": "copy_tags",
            "postLaunchEnabled": "post_launch_enabled",
            "recoveryMode": "recovery_mode",
        }
        for member, attr in simple.items():
            if member in params:
                setattr(c, attr, params[member])
        if "licensing" in params:
            c.os_byol = bool(params["licensing"].get("osByol", c.os_byol))
        if "launchIntoInstanceProperties" in params:
            c.launch_into_instance_id = params["launchIntoInstanceProperties"].get("launchIntoEC2InstanceID")
        return launch_config_view(server)

    def _action_owner(self, resource_id: str) -> Server:
        server = self.w.servers.get(resource_id)
        if server is None:
            raise errors.not_found(resource_id, "LAUNCH_ACTION_RESOURCE", f"Resource {resource_id} not found")
        return server

    def list_launch_actions(self, params: dict[str, Any]) -> dict[str, Any]:
        server = self._action_owner(params["resourceId"])
        actions = sorted(server.launch_actions.values(), key=lambda a: (a["order"], a["actionId"]))
        wanted = (params.get("filters") or {}).get("actionIds")
        if wanted:
            actions = [a for a in actions if a["actionId"] in wanted]
        items, token = page(self.w, "ListLaunchActions", actions, params, [params["resourceId"], wanted])
        return _listing([dict(a) for a in items], token)

    def put_launch_action(self, params: dict[str, Any]) -> dict[str, Any]:
        server = self._action_owner(params["resourceId"])
        action_id = params["actionId"]
        if action_id not in server.launch_actions:
            if len(server.launch_actions) >= self.w.quotas.max_launch_actions_per_resource:
                raise errors.quota_exceeded(
                    errors.QUOTA_LAUNCH_ACTIONS,
                    f"At most {self.w.quotas.max_launch_actions_per_resource} launch actions per resource",
                    "LAUNCH_ACTION",
                )
            clash = [a for a in server.launch_actions.values() if a["order"] == params["order"]]
            if clash:
                raise errors.conflict(f"Another launch action already has order {params['order']}", action_id)
        action = {
            "actionId": action_id,
            "actionCode": params["actionCode"],
            "type": "SSM_AUTOMATION" if params["actionCode"].startswith("AWS-") else "SSM_COMMAND",
            "name": params["name"],
            "active": params["active"],
            "order": params["order"],
            "actionVersion": params["actionVersion"],
            "optional": params["optional"],
            "parameters": dict(params.get("parameters") or {}),
            "description": params["description"],
            "category": params["category"],
        }
        server.launch_actions[action_id] = action
        return {"resourceId": server.server_id, **action}

    def delete_launch_action(self, params: dict[str, Any]) -> dict[str, Any]:
        server = self._action_owner(params["resourceId"])
        if server.launch_actions.pop(params["actionId"], None) is None:
            raise errors.not_found(
                params["actionId"], "LAUNCH_ACTION", f"Launch action {params['actionId']} not found"
            )
        return {}


def _listing(items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"items": items}
    if token:
        out["nextToken"] = token
    return out
