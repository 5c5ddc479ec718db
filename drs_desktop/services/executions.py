"""Starting executions: from a saved plan to a journaled execution the runner can drive.

``prepare_execution`` reads what a run needs from DRS (the live inventory to resolve tag groups, the
recovery snapshots for a point in time, the post-launch actions a recovery must wait for) without
launching anything; ``create_execution`` pins the plan revision, records who runs it, and journals the
spec. Both the CLI and the GUI go through here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.drs.errors import DrsNotFound
from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.drill_net_state import DrillNetSpec
from drs_desktop.domain.engine.events import event_to_json
from drs_desktop.domain.engine.native_state import NativeRunSpec
from drs_desktop.domain.engine.polling import PollSettings
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.recovery_point import RecoveryPointChoice, choose_snapshots
from drs_desktop.domain.engine.reducer import initial_state
from drs_desktop.domain.engine.state import ExecutionSpec, Mode, spec_from_plan, spec_to_json
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import PlanTarget, TestBrief
from drs_desktop.domain.plan.revisions import StoredPlan
from drs_desktop.domain.plan.targets import Connected, runs_across_targets, unplaced, used_target_names
from drs_desktop.domain.plan.validation import resolve_wave_servers
from drs_desktop.domain.preflight.checks import PreflightReport
from drs_desktop.domain.views.drift import BASELINE_KEY, baseline_of, baseline_to_json
from drs_desktop.domain.views.stranded import SIMULATOR_WORLD_KEY
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.run_points import POINTS_KEY, points_options
from drs_desktop.services.run_test import test_recorded
from drs_desktop.services.runner import Clock, ExecutionRunner
from drs_desktop.services.target_runs import (
    TARGETS_KEY,
    TargetGatewayFactory,
    TargetSessions,
    read_targets,
    recorded_target_gateways,
    targets_to_json,
)
from drs_desktop.storage import executions as journal
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage import settings as settings_store
from drs_desktop.storage.db import Database, Readable

logger = logging.getLogger(__name__)


class ExecutionSetupError(DrsDesktopError):
    """The plan cannot be run as asked (no snapshot for the point in time, an empty plan, ...)."""


@dataclass(frozen=True)
class RunRequest:
    """What the operator asked for. ``target`` (endpoint, profile, region; never credentials) is kept
    so that ``--resume`` reaches the same DRS."""

    plan_name: str
    mode: Mode
    revision: int | None = None
    point_in_time: datetime | None = None
    poll_interval_seconds: float | None = None
    wave_timeout_minutes: int | None = None
    cancel_grace_minutes: int | None = None
    limits: Limits = field(default_factory=Limits)
    target: Mapping[str, str | None] = field(default_factory=dict)
    #: A drill run although its network's isolation check failed: the operator's reason (kept with the
    #: execution and in its evidence; ``services.preflight_isolation``). Empty: no override.
    isolation_override: str = ""
    #: The test brief the operator edited before the run (issue 18); None: the plan's own.
    brief: TestBrief | None = None


@dataclass(frozen=True)
class EngineSettings:
    """The operator's stored ``engine.*`` settings, as a new run takes them (GUI and CLI alike).

    ``poll_interval_seconds`` is None unless the operator chose an interval: the declared default
    stands for the engine's adaptive polling, which a fixed interval would switch off."""

    poll_interval_seconds: float | None
    wave_timeout_minutes: int
    cancel_grace_minutes: int = 45


def engine_settings(db: Readable) -> EngineSettings:
    """The stored engine settings; a flag the operator passes for a run overrides its setting."""
    poll = settings_store.overrides(db).get("engine.poll_interval_seconds")
    return EngineSettings(
        poll_interval_seconds=float(poll) if isinstance(poll, int | float) else None,
        wave_timeout_minutes=settings_store.get_int(db, "engine.wave_timeout_minutes"),
        cancel_grace_minutes=settings_store.get_int(db, "engine.cancel_grace_minutes"),
    )


@dataclass(frozen=True)
class PreparedExecution:
    stored: StoredPlan
    inventory: Inventory
    wave_servers: dict[str, tuple[str, ...]]
    recovery_point: RecoveryPointChoice | None
    post_launch_actions: dict[str, int]
    #: Launch configurations a preflight read (``with_launch_configs``); kept in the run's baseline.
    launch_configs: Mapping[str, LaunchConfigView | None] = field(default_factory=dict)
    #: A run across targets (``services.target_runs``): the targets used, each server's target, and the
    #: targets DRS did not answer for while preparing (their cached inventory stood in).
    targets: tuple[PlanTarget, ...] = ()
    server_targets: Mapping[str, str] = field(default_factory=dict)
    unreachable: Mapping[str, str] = field(default_factory=dict)
    #: A run in DRS (``services.native_run``): the native plan and its step layout; the client token is
    #: made from the execution ID when the run is created.
    native: NativeRunSpec | None = None

    @property
    def server_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for servers in self.wave_servers.values() for s in servers))


def with_launch_configs(prepared: PreparedExecution, report: PreflightReport) -> PreparedExecution:
    """``prepared`` carrying the launch configurations its preflight read, for the run's baseline."""
    return dataclasses.replace(prepared, launch_configs=dict(report.launch_configs))


def prepare_execution(
    db: Database,
    gateway: DrsGateway,
    request: RunRequest,
    *,
    refresh_inventory: bool = True,
    reads: PatientReads | None = None,
    sessions: TargetSessions | None = None,
) -> PreparedExecution:
    """Read everything the run needs from DRS; launch nothing.

    There is no journal yet to hold the engine's backoff, so each read waits out throttling in place
    (``reads``; by default a real sleep, bounded: call this off the GUI thread)."""
    read = reads or PatientReads()
    stored = plan_store.load_plan(db, request.plan_name, request.revision)
    inventory = run_inventory(db, gateway, refresh=refresh_inventory, read=read)
    plan = stored.plan
    if runs_across_targets(plan, _connected(gateway, inventory)) and not unplaced(plan):
        return _prepare_across_targets(
            db, gateway, request, stored, refresh_inventory, read, sessions or TargetSessions()
        )
    wave_servers = {
        wave.name: resolve_wave_servers(plan, index, inventory) for index, wave in enumerate(plan.waves)
    }
    if not any(wave_servers.values()):
        lost = unplaced(plan)
        elsewhere = f"it does not say which target {', '.join(lost[:5])} is in" if lost else "no servers"
        raise ExecutionSetupError(f"plan {plan.name!r} resolves to {elsewhere} in this account")
    server_ids = tuple(dict.fromkeys(s for servers in wave_servers.values() for s in servers))
    choice, post_launch = _point_and_actions(request, server_ids, lambda _: gateway, read)
    return PreparedExecution(stored, inventory, wave_servers, choice, post_launch)


def _point_and_actions(
    request: RunRequest,
    server_ids: tuple[str, ...],
    gateway_of: Callable[[str], DrsGateway],
    read: PatientReads,
) -> tuple[RecoveryPointChoice | None, dict[str, int]]:
    """The snapshots for a point in time and, for a recovery, the post-launch actions to wait for, each
    read in the server's own target (``gateway_of(server)``)."""
    choice = None
    if request.point_in_time is not None:
        snapshots = [
            snap
            for server in server_ids
            for snap in read(
                partial(gateway_of(server).recovery_snapshots, server, before=request.point_in_time),
                "DescribeRecoverySnapshots",
            )
        ]
        choice = choose_snapshots(request.point_in_time, server_ids, snapshots)
    post_launch: dict[str, int] = {}
    if request.mode is Mode.RECOVERY:
        for server in server_ids:
            found = read(partial(gateway_of(server).launch_actions, server), "ListLaunchActions")
            actions = [a for a in found if a.active]
            if actions:
                post_launch[server] = len(actions)
    return choice, post_launch


def _prepare_across_targets(
    db: Database,
    gateway: DrsGateway,
    request: RunRequest,
    stored: StoredPlan,
    refresh_inventory: bool,
    read: PatientReads,
    sessions: TargetSessions,
) -> PreparedExecution:
    """``prepare_execution`` of a plan whose servers are in other targets (``services.target_runs``)."""
    plan = stored.plan
    targets = tuple(t for name in used_target_names(plan) if (t := plan.target(name)) is not None)
    factory = TargetGatewayFactory({t.name: t for t in targets}, gateway, sessions=sessions)
    made: dict[str, DrsGateway] = {}

    def gateway_of_target(name: str) -> DrsGateway:
        if name not in made:
            made[name] = factory(name)
        return made[name]

    try:
        found = read_targets(db, plan, gateway_of_target, refresh_inventory=refresh_inventory, reads=read)
        blind = found.unresolved_tags(plan)
        if blind:  # its tag groups would silently launch nothing there
            raise ExecutionSetupError("; ".join(blind))
        if not any(found.wave_servers.values()):
            lost = "; ".join(f"{name}: {why}" for name, why in found.unreachable.items())
            raise ExecutionSetupError(
                f"plan {plan.name!r} resolves to no servers in its targets" + (f" ({lost})" if lost else "")
            )
        server_ids = tuple(dict.fromkeys(s for servers in found.wave_servers.values() for s in servers))
        choice, post_launch = _point_and_actions(
            request, server_ids, lambda server: gateway_of_target(found.server_targets[server]), read
        )
    finally:
        for made_gateway in made.values():
            made_gateway.close()
    return PreparedExecution(
        stored,
        found.merged_inventory(),
        found.wave_servers,
        choice,
        post_launch,
        targets=targets,
        server_targets=found.server_targets,
        unreachable=found.unreachable,
    )


def _connected(gateway: DrsGateway, inventory: Inventory) -> Connected:
    """Where a run lands: the account DRS answered for, the gateway's Region and profile."""
    return Connected(inventory.account_id, gateway.target.region, gateway.target.profile or "")


def run_inventory(db: Database, gateway: DrsGateway, *, refresh: bool, read: PatientReads) -> Inventory:
    """The inventory a run is prepared from: read from DRS now (and cached), or the cached one."""
    if refresh:
        inventory = read(gateway.inventory, "DescribeSourceServers")
        inventory_store.save_inventory(db, inventory)
        return inventory
    cached = inventory_store.load_inventory(db)
    if cached is None:
        raise ExecutionSetupError("no cached inventory: refresh the inventory first")
    return cached


def start_settle_for(read_timeout_seconds: float) -> timedelta:
    """How long after an unknown start DRS may still carry it out: the read timeout plus 5 minutes."""
    return timedelta(seconds=read_timeout_seconds) + START_SETTLE_MARGIN


def spec_from_prepared(
    prepared: PreparedExecution,
    request: RunRequest,
    *,
    execution_id: str,
    started_at: datetime,
    start_settle: timedelta | None = None,
) -> ExecutionSpec:
    """The engine's spec for this request; preflight lists the calls of exactly this spec."""
    settings: dict[str, Any] = {"limits": request.limits}
    if start_settle is not None:
        settings["start_settle"] = start_settle
    if request.poll_interval_seconds is not None:
        settings["polling"] = PollSettings(fixed_interval=timedelta(seconds=request.poll_interval_seconds))
    if request.wave_timeout_minutes is not None:
        settings["wave_timeout"] = timedelta(minutes=request.wave_timeout_minutes)
    if request.cancel_grace_minutes is not None:
        settings["cancel_grace"] = timedelta(minutes=request.cancel_grace_minutes)
    if prepared.recovery_point is not None:
        settings["point_in_time"] = prepared.recovery_point.point_in_time
        settings["snapshot_ids"] = prepared.recovery_point.snapshot_ids
    if prepared.targets:
        settings["targets"] = tuple(target.name for target in prepared.targets)
        settings["server_targets"] = dict(prepared.server_targets)
    if prepared.native is not None:
        token = prepared.native.client_token or native_client_token(execution_id)
        settings["native"] = dataclasses.replace(prepared.native, client_token=token)
    drill_net = drill_net_spec(prepared, request.mode)
    if drill_net is not None:
        settings["drill_net"] = drill_net
    return spec_from_plan(
        prepared.stored.plan,
        prepared.wave_servers,
        execution_id=execution_id,
        mode=request.mode,
        started_at=started_at,
        post_launch=prepared.post_launch_actions,
        **settings,
    )


def drill_net_spec(prepared: PreparedExecution, mode: Mode) -> DrillNetSpec | None:
    """Where a drill of a plan with a drill profile launches, and each server's launch template as the
    launch configurations read while preparing name it (``engine.drill_net``). None for a recovery (it
    never uses the drill profile), a plan without a profile, or a run in DRS."""
    profile = prepared.stored.plan.drill_profile
    if mode is not Mode.DRILL or profile is None or not profile.subnets or prepared.native is not None:
        return None
    templates = {
        server_id: config.ec2_launch_template_id
        for server_id, config in prepared.launch_configs.items()
        if config is not None and config.ec2_launch_template_id
    }
    return DrillNetSpec(
        subnet_ids=profile.subnets, security_group_ids=profile.security_groups, templates=templates
    )


def with_drill_templates(
    gateway: DrsGateway, prepared: PreparedExecution, mode: Mode, reads: PatientReads | None = None
) -> PreparedExecution:
    """``prepared`` with the launch configurations a drill into the drill network needs that no preflight
    read yet (each server's launch template); unchanged when it needs none."""
    if drill_net_spec(prepared, mode) is None:
        return prepared
    missing = [s for s in prepared.server_ids if s not in prepared.launch_configs]
    if not missing:
        return prepared
    read = reads or PatientReads()
    found: dict[str, LaunchConfigView | None] = {}
    for server_id in missing:  # a preflight reads them in parallel first; this is the fallback
        try:
            call = partial(gateway.launch_configuration, server_id)
            found[server_id] = read(call, "GetLaunchConfiguration")
        except DrsNotFound:
            found[server_id] = None
    return dataclasses.replace(prepared, launch_configs={**prepared.launch_configs, **found})


def native_client_token(execution_id: str) -> str:
    """StartRecoveryPlanExecution's client token for one execution (at most 64 characters): the same
    execution always sends the same token, so a resend never starts a second native execution."""
    return "drsd-run-" + hashlib.sha256(execution_id.encode("utf-8")).hexdigest()[:40]


#: After an unknown start, DRS's time must pass the read timeout plus this before the start is repeated.
START_SETTLE_MARGIN = timedelta(minutes=5)

#: Where a run runs, in its record's options: "DRS" (a native plan execution) or "desktop".
RUN_IN_KEY = "run_in"

#: The only parts of a run's target that are stored (and so reach reports): never credentials.
TARGET_KEYS = ("endpoint_url", "profile", "region")


def _recorded_target(request: RunRequest, gateway: DrsGateway) -> dict[str, Any]:
    """Where the run goes: endpoint, profile and Region, and against a DRS Desktop simulator its world
    ID (``SIMULATOR_WORLD_KEY``), so that a demo run is never resumed in a later world that happens to
    listen on the same loopback port (``views.stranded``)."""
    target: dict[str, Any] = {key: request.target.get(key) for key in TARGET_KEYS}
    world = gateway.simulator_world()
    if world:
        target[SIMULATOR_WORLD_KEY] = world
    return target


def _points_options(prepared: PreparedExecution) -> dict[str, Any]:
    """Each server's replication lag as the preparation's inventory read it, and each chosen
    snapshot's time (a point-in-time run): the recovery points need no new call for them."""
    by_id = {server.source_server_id: server for server in prepared.inventory.servers}
    lags = {s: by_id[s].lag_seconds if s in by_id else None for s in prepared.server_ids}
    chosen = prepared.recovery_point.chosen if prepared.recovery_point is not None else {}
    return points_options(lags, {s: snapshot.taken_at for s, snapshot in chosen.items()})


def create_execution(
    db: Database,
    gateway: DrsGateway,
    prepared: PreparedExecution,
    request: RunRequest,
    *,
    clock: Clock | None = None,
    reads: PatientReads | None = None,
    sessions: TargetSessions | None = None,
) -> ExecutionRunner:
    """Journal a new execution of the prepared plan and return its runner (nothing launched yet).
    ``clock`` defaults to DRS's (``gateway.drs_clock``): the execution's times are DRS's."""
    lost = unplaced(prepared.stored.plan)
    if lost:  # preflight fails on it too; this holds for any caller that skipped it
        raise ExecutionSetupError(
            f"this plan declares targets but does not say which one {', '.join(lost[:5])} is in"
        )
    if prepared.recovery_point is not None and prepared.recovery_point.problems:
        why = "; ".join(f"{p.server_id} {p.message}" for p in prepared.recovery_point.problems)
        raise ExecutionSetupError(f"no usable recovery snapshot for the point in time: {why}")
    prepared = with_drill_templates(gateway, prepared, request.mode, reads)
    execution_id = str(uuid.uuid4())
    identity = (reads or PatientReads())(gateway.caller_identity, "GetCallerIdentity")
    now = clock or gateway.drs_clock.now
    started_at = now()
    spec = spec_from_prepared(
        prepared,
        request,
        execution_id=execution_id,
        started_at=started_at,
        start_settle=start_settle_for(gateway.read_timeout),
    )
    revision = prepared.stored.revision
    test = test_recorded(
        request.mode,
        prepared.stored.plan,
        prepared.wave_servers,
        request.brief,
        at=started_at,
        by=identity.arn,
    )
    new_record = ExecutionRecord(
        execution_id=execution_id,
        plan_id=revision.plan_id,
        plan_revision_id=revision.revision_id,
        plan_name=revision.name,
        plan_revision=revision.revision,
        mode=request.mode.value,
        status="RUNNING",
        started_at=started_at,
        options={
            "target": _recorded_target(request, gateway),
            "point_in_time": request.point_in_time.isoformat() if request.point_in_time else None,
            "poll_interval_seconds": request.poll_interval_seconds,
            "post_launch_actions": prepared.post_launch_actions,
            TARGETS_KEY: targets_to_json(prepared.targets),
            "isolation_override": request.isolation_override.strip() or None,
            # "DRS" for a run in DRS (a native recovery plan execution), "desktop" otherwise.
            RUN_IN_KEY: "DRS" if prepared.native is not None else "desktop",
            # Each server as this run saw it: what the dashboard compares with today's estate.
            BASELINE_KEY: baseline_to_json(
                baseline_of(prepared.server_ids, prepared.inventory, prepared.launch_configs or None)
            ),
            # What the recovery points need, read while preparing (``services.run_points``).
            POINTS_KEY: _points_options(prepared),
        },
        spec=spec_to_json(spec),
        identity={"account": identity.account, "arn": identity.arn, "user_id": identity.user_id},
    )
    # The execution and its test record (its first journal entry) are one transaction: no run exists
    # without the test it is, and a resumed run never journals a second one (``services.run_test``).
    with db.transaction():
        journal.create_execution(db, new_record)
        journal.append_events(db, execution_id, [event_to_json(test)], expected_last=0)
    record = journal.get_execution(db, execution_id)
    logger.info(
        "execution %s of %r rev %d (%s) created",
        execution_id,
        revision.name,
        revision.revision,
        request.mode.value,
    )
    return ExecutionRunner(
        db,
        gateway,
        record,
        initial_state(spec),
        clock=now,
        post_launch_actions=prepared.post_launch_actions,
        target_gateways=recorded_target_gateways(record, gateway, sessions=sessions),
    )
