"""``DrsBackend``: the simulated DRS account behind the protocol layer (contract.Backend).

One lock guards the world, since the HTTP server is threaded. Every call first brings the world up to
the clock's present (events due by now run, in order), then dispatches on the operation name. Tests may
drive ``handle`` directly with a manual clock; the HTTP server calls exactly the same method.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from drs_desktop.simulator import errors
from drs_desktop.simulator.by_hand import JobsByHand
from drs_desktop.simulator.clock import VirtualClock
from drs_desktop.simulator.contract import TransportFault
from drs_desktop.simulator.ec2 import Ec2Service
from drs_desktop.simulator.ec2 import respond as ec2_respond
from drs_desktop.simulator.entities import LaunchRecord
from drs_desktop.simulator.faults import FaultPlan
from drs_desktop.simulator.ids import stable_hex
from drs_desktop.simulator.jobs import JobEngine
from drs_desktop.simulator.lambda_fn import LambdaService
from drs_desktop.simulator.listeners import HealthListeners
from drs_desktop.simulator.native_plans import PlanEngine
from drs_desktop.simulator.ops_core import CoreOperations, Handler
from drs_desktop.simulator.ops_plans import PlanOperations
from drs_desktop.simulator.outside_jobs import OutsideJob, OutsideJobs
from drs_desktop.simulator.postlaunch import install_scenario_actions
from drs_desktop.simulator.protocol import HttpResponse
from drs_desktop.simulator.scenario import Scenario
from drs_desktop.simulator.scenario_schema import load_scenario
from drs_desktop.simulator.ssm import SsmService
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)
T = TypeVar("T")

ScenarioSource = Scenario | str | Path | Mapping[str, Any] | None
#: DataReplicationErrorString of botocore's DRS model: the errors ``stall_replication`` may inject.
REPLICATION_ERRORS = (
    "AGENT_NOT_SEEN",
    "SNAPSHOTS_FAILURE",
    "NOT_CONVERGING",
    "UNSTABLE_NETWORK",
    "FAILED_TO_CREATE_SECURITY_GROUP",
    "FAILED_TO_LAUNCH_REPLICATION_SERVER",
    "FAILED_TO_BOOT_REPLICATION_SERVER",
    "FAILED_TO_AUTHENTICATE_WITH_SERVICE",
    "FAILED_TO_DOWNLOAD_REPLICATION_SOFTWARE",
    "FAILED_TO_CREATE_STAGING_DISKS",
    "FAILED_TO_ATTACH_STAGING_DISKS",
    "FAILED_TO_PAIR_REPLICATION_SERVER_WITH_AGENT",
    "FAILED_TO_CONNECT_AGENT_TO_REPLICATION_SERVER",
    "FAILED_TO_START_DATA_TRANSFER",
)


class DrsBackend:
    """The world of one account and region, answering DRS operations on plain dicts.

    ``scenario`` is a ``Scenario``, a path, the name of a shipped scenario (``demo``, ``small``,
    ``scale``), a dict, or None for the demo. ``seed`` overrides the scenario's seed. Without ``clock``
    the backend gets a manual clock starting at the scenario's ``start_time``.
    """

    def __init__(
        self, scenario: ScenarioSource = None, *, seed: int | None = None, clock: VirtualClock | None = None
    ) -> None:
        self.scenario = load_scenario(scenario)
        if self.scenario.accounts:
            raise ValueError(
                f"{self.scenario.name} lists accounts: it is several worlds; build an estate.Estate "
                "(or an EmbeddedSimulator) and take its worlds from there"
            )
        self.seed = self.scenario.seed if seed is None else seed
        self.clock = clock if clock is not None else VirtualClock(self.scenario.start_time)
        self._lock = threading.RLock()
        self._requests: Counter[str] = Counter()
        self._requests_lock = threading.Lock()
        self.world = World(self.scenario, self.seed, self.clock.now_ts())
        #: This world's own name, new at every start (seed or not): a run recorded against another world
        #: (a demo before a restart, on a loopback port used again) is never taken for one of this world.
        self.world_id = uuid.uuid4().hex
        install_scenario_actions(self.world)
        self.jobs = JobEngine(self.world)
        self.plans = PlanEngine(self.world, self.jobs)
        #: Tests' hands on held LAUNCH jobs (see ``by_hand``).
        self.by_hand = JobsByHand(self.world, self.jobs, self._lock, self.clock.now_ts)
        #: Jobs other tools start (``outside_jobs``): the scenario's schedule, and ``start_outside_job``.
        self.outside = OutsideJobs(self.world, self.jobs)
        self.outside.schedule_scenario()
        #: EC2's actions on this world (launch templates, networks, instances): ``ec2_answer``.
        self.ec2 = Ec2Service(self.world)
        #: SSM Run Command, Lambda and the health-check listeners of this world (``automation_http``).
        self.ssm = SsmService(self.world)
        self.lambdas = LambdaService(self.world)
        self.listeners = HealthListeners(self.world, self.clock)
        self._handlers: dict[str, Handler] = {
            **CoreOperations(self.world, self.jobs).handlers(),
            **PlanOperations(self.world, self.plans).handlers(),
            "TagResource": self._tag_resource,
            "UntagResource": self._untag_resource,
            "ListTagsForResource": self._list_tags,
            "InitializeService": self._initialize_service,
        }
        logger.info(
            "Simulated DRS account %s in %s: %d source servers (scenario %s, seed %d)",
            self.scenario.account_id,
            self.scenario.region,
            len(self.world.servers),
            self.scenario.name,
            self.seed,
        )

    # -- contract.Backend ------------------------------------------------------------------------

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            handler = self._handlers.get(operation)
            if handler is None:
                raise errors.unsupported(operation)
            if not self.world.initialized and operation != "InitializeService":
                raise errors.uninitialized()
            logger.debug("%s", operation)
            return handler(params)

    def transport_fault(self, operation: str) -> TransportFault | None:
        # The protocol layer asks this once per routed request, before any fault: count it here.
        with self._requests_lock:
            self._requests[operation] += 1
        return self.world.faults.transport_fault(operation)

    def ec2_answer(self, form: dict[str, list[str]], request_id: str, caller_arn: str = "") -> HttpResponse:
        """An EC2 query-protocol request on this world (``ec2``), counted as ``ec2:<Action>``. EC2 needs no
        InitializeService: the account's networks and templates exist whatever DRS's state."""
        action = next(iter(form.get("Action") or []), "")
        with self._requests_lock:
            self._requests[f"ec2:{action}"] += 1
        with self._lock:
            self._catch_up()
            return ec2_respond(form, request_id, self.ec2, caller_arn or self.caller_identity()["Arn"])

    def _catch_up(self) -> None:
        """Run the events due by now, then start (or stop) the listeners of instances launched (gone)."""
        self.world.advance_to(self.clock.now_ts())
        self.listeners.sync()

    # -- SSM and Lambda (``automation_http``) --------------------------------------------------------

    def automation_fault(self, key: str) -> TransportFault | None:
        """The transport fault for one SSM or Lambda call (``ssm:SendCommand``...), counted like EC2's.
        Only a rule named for that key applies: ``*`` rules are DRS's."""
        with self._requests_lock:
            self._requests[key] += 1
        if key not in self.world.faults.transport_rules():
            return None
        return self.world.faults.transport_fault(key)

    def ssm_call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            return self.ssm.handle(operation, params)

    def lambda_call(self, action: Callable[[LambdaService], T]) -> T:
        with self._lock:
            self._catch_up()
            return action(self.lambdas)

    def caller_identity(self) -> dict[str, str]:
        account = self.scenario.account_id
        arn = self.scenario.identity_arn or f"arn:aws:iam::{account}:user/drs-desktop-simulator"
        return {"Account": account, "Arn": arn, "UserId": "AIDA" + stable_hex(arn, length=17).upper()}

    # -- inspection and control (tests, demos, the engine's crash tests) ----------------------------

    @property
    def faults(self) -> FaultPlan:
        return self.world.faults

    @property
    def account_id(self) -> str:
        return self.scenario.account_id

    @property
    def region(self) -> str:
        return self.scenario.region

    def supported_operations(self) -> tuple[str, ...]:
        return tuple(sorted(self._handlers))

    def request_counts(self) -> dict[str, int]:
        """Requests received over HTTP per operation, faulted ones (throttled, 5xx, dropped) included:
        how many calls a client made, for tests and benchmarks. Calls to ``handle`` alone are not
        counted."""
        with self._requests_lock:
            return dict(self._requests)

    def settle(self) -> int:
        """Bring the world up to the clock's present; returns how many events ran."""
        with self._lock:
            ran = self.world.advance_to(self.clock.now_ts())
            self.listeners.sync()
            return ran

    def launch_records(self) -> list[LaunchRecord]:
        """Every launch the simulator accepted, oldest first: which server, which job, when, drill or not."""
        with self._lock:
            self.world.advance_to(self.clock.now_ts())
            return self.world.launch_records()

    def start_outside_job(
        self,
        servers: Sequence[str],
        *,
        drill: bool = True,
        at: float | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> OutsideJob | None:
        """A launch job another tool starts (no orchestrator tags): now, or at virtual time ``at`` (POSIX
        seconds; then None is returned and the job starts when the clock gets there). A refusal (a busy
        server, a quota) comes back with its ``error``, as the other tool would have seen it."""
        with self._lock:
            self.world.advance_to(self.clock.now_ts())
            if at is not None and at > self.world.now:
                self.outside.schedule(at, servers, is_drill=drill, tags=tags)
                return None
            return self.outside.start(servers, is_drill=drill, tags=tags)

    def status(self) -> dict[str, Any]:
        """What the world looks like now, for the control API and a person rehearsing: clock, jobs,
        instances, the faults in force, outside jobs."""
        with self._lock:
            w = self.world
            w.advance_to(self.clock.now_ts())
            active = w.active_jobs()
            return {
                "scenario": self.scenario.name,
                "seed": self.seed,
                "account_id": self.scenario.account_id,
                "region": self.scenario.region,
                "source_servers": len(w.servers),
                "jobs": len(w.jobs),
                "active_jobs": [
                    {"job_id": j.job_id, "initiated_by": j.initiated_by, "servers": len(j.participants)}
                    for j in active
                ],
                "recovery_instances": len(w.instances),
                "launches": len(w.launches),
                "faults": self.faults.describe(),
                "outside_jobs": {
                    "scheduled": self.outside.scheduled,
                    "started": [o.job_id for o in self.outside.started],
                    "refused": [{"servers": list(o.servers), "error": o.error} for o in self.outside.refused],
                },
            }

    def locked(self, action: Callable[[World], T]) -> T:
        """``action(world)`` under the backend's lock, the world first brought up to the clock's present
        (the estate's cross-account operations read and change two worlds this way)."""
        with self._lock:
            self.world.advance_to(self.clock.now_ts())
            return action(self.world)

    def stall_replication(self, servers: Sequence[str], error: str = "UNSTABLE_NETWORK") -> list[str]:
        """A replication fault from now on ``servers`` (IDs or hostnames): STALLED with ``error``, lag
        growing and no newer snapshot until StartReplication. Returns their IDs. In an estate, the
        recovery account's extended servers show it too (they share the staging server's replication)."""
        if error not in REPLICATION_ERRORS:
            raise ValueError(f"error must be one of {', '.join(REPLICATION_ERRORS)}")
        with self._lock:
            w = self.world
            w.advance_to(self.clock.now_ts())
            found = [w.server(ref) for ref in servers]
            missing = [ref for ref, s in zip(servers, found, strict=True) if s is None]
            if missing:
                raise ValueError(f"no source server {', '.join(missing)}")
            ids = []
            for server in found:
                assert server is not None
                server.replication_state = "STALLED"
                server.replication_error = error
                if server.replication_stopped_at is None:
                    server.replication_stopped_at = w.now
                ids.append(server.server_id)
            return ids

    def set_initialized(self, initialized: bool) -> None:
        """Switch the uninitialized-account mode at run time."""
        with self._lock:
            self.world.initialized = initialized

    def source_server_ids(self) -> list[str]:
        with self._lock:
            return list(self.world.servers)

    def server_id_of(self, hostname: str) -> str:
        with self._lock:
            server = self.world.server(hostname)
            if server is None:
                raise KeyError(hostname)
            return server.server_id

    # -- tags and service initialization ---------------------------------------------------------

    def _tags_of(self, arn: str) -> dict[str, str]:
        w = self.world
        parts = w.arns.split(arn)
        target: dict[str, str] | None = None
        if parts is not None:
            kind, rest = parts
            if kind == "source-server" and rest in w.servers:
                target = w.servers[rest].tags
            elif kind == "job" and rest in w.jobs:
                target = w.jobs[rest].tags
            elif kind == "recovery-instance" and rest in w.instances:
                target = w.instances[rest].tags
            elif kind in ("recovery-plan", "recovery-plan-execution"):
                target = self.plans.tags_target(arn)
        if target is None:
            raise errors.not_found(arn, "RESOURCE", f"Resource {arn} not found")
        return target

    def _tag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        tags = self._tags_of(params["resourceArn"])
        reserved = sorted(k for k in params["tags"] if k.lower().startswith("aws:"))
        if reserved:
            raise errors.invalid(
                f"Tag keys starting with 'aws:' are reserved for AWS use: {reserved[0]}", "tags"
            )
        merged = {**tags, **params["tags"]}
        if len(merged) > self.world.quotas.max_tags_per_resource:
            raise errors.invalid(
                f"At most {self.world.quotas.max_tags_per_resource} tags per resource", "tags"
            )
        tags.update(params["tags"])
        return {}

    def _untag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        tags = self._tags_of(params["resourceArn"])
        for key in params["tagKeys"]:
            tags.pop(key, None)
        return {}

    def _list_tags(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": dict(self._tags_of(params["resourceArn"]))}

    def _initialize_service(self, params: dict[str, Any]) -> dict[str, Any]:
        self.world.initialized = True
        return {}
