"""Extended source servers: a staging account's servers recovered from a recovery account.

DRS replicates at most 300 servers per account, so an estate replicates into several staging accounts and
recovers in one recovery account (drs_api.md §7, "drs-at-scale"). In a multi-account scenario:

- ListStagingAccounts lists the staging accounts of the servers already extended into the caller's
  account and region (so a fresh recovery account lists none);
- ListExtensibleSourceServers(stagingAccountID) lists that account's servers in the caller's region that
  are not yet extended into the caller's account and are not extensions themselves (the model's two
  conditions); it answers for any staging account the scenario links to the caller (``staging_accounts``),
  extended servers or not, since that is how an operator extends the first server;
- CreateExtendedSourceServer(sourceServerArn) creates, in the recovery account, a source server whose
  ``stagingArea`` is ``{status: EXTENDED, stagingAccountID, stagingSourceServerArn}``. It is recovered
  like any other server; its replication does not count against the recovery account's 300-server quota.
  Its ID is derived from (recovery account, staging ARN), so a seed gives the same IDs.

An extended server has no replication of its own: it is the staging server's. Before every operation that
reads or decides on replication (``MIRRORED_OPERATIONS``) the estate copies the staging servers' replication
(state, lag or the moment it stopped, error, initiation and first byte, snapshot schedule, disks) into their
extended servers (``mirror``), so lag growing, a stall or a StopReplication in the staging account shows in
the recovery account as it would in DRS. Locks: the staging worlds are read one at a time, each under its
own lock, then the recovery world is written under its lock; no two world locks are ever held together.
[inferred] ``lifeCycle``'s replication fields (added, first byte, elapsed) follow the staging server; its
``lastLaunch``, ``lastLaunchResult`` and ``recoveryInstanceId`` are the recovery account's own, since that
is where the extended server is launched (no AWS page says otherwise).

Refusals: an ARN of an account that is not one of the caller's staging accounts is AccessDeniedException;
an unknown server ResourceNotFoundException; a server already extended into the account, or one that is
itself an extension, ValidationException. [inferred] No AWS page documents the double extend; the model
lists no ConflictException for CreateExtendedSourceServer (only ResourceNotFound, InternalServer,
ServiceQuotaExceeded, Throttling, AccessDenied, Validation, UninitializedAccount), so the simulator
answers the modeled ValidationException.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from drs_desktop.simulator import errors
from drs_desktop.simulator.contract import SimulatorError
from drs_desktop.simulator.entities import LaunchConfig, Server
from drs_desktop.simulator.ids import stable_hex
from drs_desktop.simulator.ops_core import page
from drs_desktop.simulator.views import server_view
from drs_desktop.simulator.world import World

if TYPE_CHECKING:
    from drs_desktop.simulator.estate import Estate, Target

logger = logging.getLogger(__name__)

EXTENSION_OPERATIONS = frozenset(
    {"ListStagingAccounts", "ListExtensibleSourceServers", "CreateExtendedSourceServer"}
)
#: Operations that read or decide on a server's replication: extended servers mirror their staging
#: server first. Those that never look at replication (DescribeJobs...) skip the copy.
MIRRORED_OPERATIONS = frozenset(
    {
        "DescribeSourceServers",
        "DescribeRecoverySnapshots",
        "StartRecovery",
        "StartReplication",
        "StopReplication",
        "DisconnectSourceServer",
        "CreateRecoveryPlan",
        "StartRecoveryPlanExecution",
    }
)
_SERVER_ARN = re.compile(r"^arn:aws:drs:([a-z0-9-]+):([0-9]{12}):source-server/(s-[0-9a-f]{17})$")
#: ListExtensibleSourceServers' maxResults range in the model is 1..300.
EXTENSIBLE_PAGE = 300


def _access_denied(message: str) -> SimulatorError:
    return SimulatorError("AccessDeniedException", message)


class Extensions:
    """The three cross-account operations of one estate."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        # (recovery account, region) -> {staging server ARN: extended server ID}. Its lock is innermost:
        # never held while a world's lock is taken.
        self._links: dict[tuple[str, str], dict[str, str]] = {}
        self._links_lock = threading.Lock()

    def mirror(self, target: Target) -> None:
        """Copy each staging server's replication into its extended server in ``target``'s world."""
        with self._links_lock:
            links = dict(self._links.get((target.account_id, target.region), {}))
        if not links:
            return
        by_world: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for arn, extended_id in links.items():
            match = _SERVER_ARN.match(arn)
            if match is not None:
                region, account, staging_id = match.groups()
                by_world.setdefault((account, region), []).append((staging_id, extended_id))
        replication: dict[str, tuple[Any, ...]] = {}
        for key, pairs in by_world.items():
            staging = self.estate.worlds.get(key)
            if staging is not None:
                replication.update(staging.locked(partial(_replication_of, pairs=pairs)))
        target.backend.locked(lambda w: _apply_replication(w, replication))

    def handle(self, target: Target, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if not target.backend.world.initialized:
            raise errors.uninitialized()
        if operation == "ListStagingAccounts":
            return target.backend.locked(lambda w: self._staging_accounts(target, w, params))
        if operation == "ListExtensibleSourceServers":
            return self._extensible(target, params)
        return self._create(target, params)

    def _staging_of(self, account_id: str) -> tuple[str, ...]:
        spec = self.estate.account(account_id)
        return spec.staging_accounts if spec is not None else ()

    def _staging_accounts(self, target: Target, w: World, params: dict[str, Any]) -> dict[str, Any]:
        # botocore's model: "Returns an array of staging accounts for existing extended source servers."
        # Only accounts with a server extended into this account (and region) are listed, not every
        # account the scenario links: a fresh recovery account lists none.
        extended = {s.staging_account for s in w.servers.values() if s.staging_source_arn is not None}
        accounts = [{"accountID": a} for a in sorted(a for a in extended if a is not None)]
        items, token = page(w, "ListStagingAccounts", accounts, params)
        return {"accounts": items, **({"nextToken": token} if token else {})}

    def _extensible(self, target: Target, params: dict[str, Any]) -> dict[str, Any]:
        staging_id = params["stagingAccountID"]
        if staging_id not in self._staging_of(target.account_id):
            raise _access_denied(f"Account {staging_id} is not a staging account of {target.account_id}")
        extended = target.backend.locked(lambda w: {s.staging_source_arn for s in w.servers.values()})
        staging = self.estate.worlds.get((staging_id, target.region))
        servers: list[Server] = []
        if staging is not None:
            servers = staging.locked(
                lambda w: [s for s in w.servers.values() if not s.extended and s.arn not in extended]
            )
        items = [{"hostname": s.hostname, "arn": s.arn, "tags": dict(s.tags)} for s in servers]
        capped = {**params, "maxResults": min(params.get("maxResults") or EXTENSIBLE_PAGE, EXTENSIBLE_PAGE)}
        w = target.backend.world
        page_items, token = page(w, "ListExtensibleSourceServers", items, capped, staging_id)
        return {"items": page_items, **({"nextToken": token} if token else {})}

    def _create(self, target: Target, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["sourceServerArn"]
        match = _SERVER_ARN.match(arn)
        if match is None:
            raise errors.invalid(f"{arn} is not a source server ARN", "sourceServerArn")
        region, staging_id, server_id = match.groups()
        if region != target.region:
            raise errors.invalid(f"{arn} is not in {target.region}", "sourceServerArn")
        if staging_id not in self._staging_of(target.account_id):
            raise _access_denied(f"Account {staging_id} is not a staging account of {target.account_id}")
        staging = self.estate.worlds.get((staging_id, region))
        source = staging.locked(lambda w: w.servers.get(server_id)) if staging is not None else None
        if source is None:
            raise errors.not_found(arn, "SOURCE_SERVER", f"Source server {arn} not found")
        if source.extended:
            raise errors.invalid(f"Source server {arn} is itself an extended source server")
        tags = dict(params.get("tags") or {})
        server = target.backend.locked(lambda w: self.extend(w, staging_id, source, tags))
        return {"sourceServer": target.backend.locked(lambda w: server_view(w, server))}

    def extend(self, w: World, staging_id: str, source: Server, tags: dict[str, str]) -> Server:
        """``source`` (of ``staging_id``) as a new extended source server of world ``w``."""
        existing = next((s for s in w.servers.values() if s.staging_source_arn == source.arn), None)
        if existing is not None:
            raise errors.invalid(
                f"Source server {source.arn} is already extended into account {w.arns.account_id} "
                f"as {existing.server_id}"
            )
        if len(w.servers) >= w.quotas.max_source_servers:
            raise errors.quota_exceeded(
                errors.QUOTA_SOURCE_SERVERS,
                f"At most {w.quotas.max_source_servers} source servers per account",
                "SOURCE_SERVER",
            )
        sid = "s-" + stable_hex("extended", w.arns.account_id, source.arn)
        server = replace(
            source,
            server_id=sid,
            arn=w.arns.source_server(sid),
            tags={**source.tags, **tags},
            disks=list(source.disks),
            staging_account=staging_id,
            staging_source_arn=source.arn,
            launch_config=LaunchConfig(
                name=source.hostname, launch_template_id="lt-" + stable_hex("lt", sid)
            ),
            launch_actions={},
            last_launch_result="NOT_STARTED",
            last_launch=None,
            recovery_instance_id=None,
            active_job_id=None,
            extra_snapshots=[],
        )
        w.servers[sid] = server
        w.by_hostname.setdefault(server.hostname, sid)
        with self._links_lock:
            self._links.setdefault((w.scenario.account_id, w.scenario.region), {})[source.arn] = sid
        return server

    def extend_from_scenario(self) -> None:
        """The servers the scenario says were extended before the world started (``extended:``)."""
        for account in self.estate.scenario.accounts:
            for spec in account.extended:
                for region in account.regions:
                    staging = self.estate.worlds.get((spec.staging_account, region))
                    if staging is None:
                        continue
                    recovery = self.estate.worlds[(account.account_id, region)].world
                    candidates = [s for s in staging.world.servers.values() if not s.extended]
                    for source in candidates[: round(spec.fraction * len(candidates))]:
                        self.extend(recovery, spec.staging_account, source, {})


_MIRRORED_FIELDS = (
    "replication_state",
    "lag_seconds",
    "replication_stopped_at",
    "replication_error",
    "added_ts",
    "first_byte_ts",
    "sync_done_ts",
    "snapshot_offset",
)


def _replication_of(w: World, pairs: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
    """{extended server ID: the staging server's replication fields (and disks)}, read in staging world w."""
    out = {}
    for staging_id, extended_id in pairs:
        source = w.servers.get(staging_id)
        if source is not None:
            out[extended_id] = (*(getattr(source, f) for f in _MIRRORED_FIELDS), list(source.disks))
    return out


def _apply_replication(w: World, replication: dict[str, tuple[Any, ...]]) -> None:
    for extended_id, values in replication.items():
        server = w.servers.get(extended_id)
        if server is None or server.staging_source_arn is None:
            continue
        for name, value in zip(_MIRRORED_FIELDS, values, strict=False):
            setattr(server, name, value)
        server.disks = values[-1]
