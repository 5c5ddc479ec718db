"""Preflight: what would go wrong if this plan were launched now, said before anything is launched.

``run_checks`` looks at the plan, the live inventory, the account's active jobs, the launch configurations
and the point-in-time choice, and returns one ``Check`` per finding (the rules are in
``preflight.rules``); ``planned_calls`` (in ``preflight.calls``) lists the calls the run would make. Both
feed ``drs-desktop run --dry-run`` and the confirmation step before any real run.

FAIL means the run, or a critical server of it, would fail or be refused: DRS refuses a whole
StartRecovery when one server is unknown (ResourceNotFound) or already in a job (Conflict), so those fail
whatever the server's impact. What only hurts an optional server is a WARN, like anything the engine
handles by itself (quotas: it splits and queues). PASS lines are summaries, not one per server, so a
250-server plan still reads in one screen. Pure: everything, the clock included, is passed in.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.recovery_point import RecoveryPointChoice
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.automation import ScriptStep
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import Problem, Severity, validate_plan
from drs_desktop.domain.preflight.calls import (
    DRY_RUN_EXECUTION_ID,
    CallKind,
    PlannedCall,
    planned_calls,
)
from drs_desktop.domain.preflight.rules import (
    INVENTORY,
    KNOWN,
    PLAN,
    Check,
    CheckStatus,
    Member,
    OtherExecution,
    busy_checks,
    execution_checks,
    lag_checks,
    launch_config_checks,
    quota_checks,
    replication_checks,
    snapshot_checks,
    wave_size_checks,
)

__all__ = [
    "DRY_RUN_EXECUTION_ID",
    "ActiveJob",
    "CallKind",
    "Check",
    "CheckStatus",
    "OtherExecution",
    "PlannedCall",
    "PreflightReport",
    "confirmation_problem",
    "plan_members",
    "planned_calls",
    "run_checks",
]

logger = logging.getLogger(__name__)

#: An inventory older than this may show replication states and lags that changed since.
INVENTORY_MAX_AGE = timedelta(minutes=15)

#: (job ID, source server IDs, is active): a DRS job as the checks need it (``DrsJobView`` reduced).
ActiveJob = tuple[str, Sequence[str], bool]


@dataclass(frozen=True)
class PreflightReport:
    """The checks and the calls the run would make. ``ok``: nothing FAILed (warnings allowed)."""

    checks: tuple[Check, ...]
    planned_calls: tuple[PlannedCall, ...] = ()
    plan_name: str = ""
    mode: Mode | None = None
    checked_at: datetime | None = None
    #: The launch configurations read for the checks (None: DRS has none for the server): a run keeps
    #: them as its baseline, the dashboard compares them with the last good drill's.
    launch_configs: Mapping[str, LaunchConfigView | None] = field(default_factory=dict)
    #: Script steps whose file this desktop could trust (untrusted, or changed since): the run dialog
    #: offers "Trust…" for them (``services.preflight_automation``).
    trustable_scripts: tuple[ScriptStep, ...] = ()

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status is CheckStatus.FAIL)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status is CheckStatus.WARN)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def start_calls(self) -> tuple[PlannedCall, ...]:
        return tuple(c for c in self.planned_calls if c.kind is CallKind.START_RECOVERY)


def confirmation_problem(mode: Mode, plan_name: str, confirm: str | None) -> str | None:
    """Why a run may not start from the CLI without more from the operator, or None.

    A RECOVERY launches production instances in AWS, so the operator types the plan's exact name
    (``--confirm NAME``); a drill needs nothing.
    """
    if mode is not Mode.RECOVERY:
        return None
    if confirm is None:
        return (
            "a RECOVERY launches real recovery instances: to go ahead, repeat the plan's name with "
            f"--confirm {shlex.quote(plan_name)}"
        )
    if confirm != plan_name:
        return f"--confirm {confirm!r} does not match the plan's name {plan_name!r} (exact, case included)"
    return None


def run_checks(
    plan: RecoveryPlan,
    wave_servers: Mapping[str, Sequence[str]],
    inventory: Inventory,
    *,
    mode: Mode,
    active_jobs: Iterable[ActiveJob],
    launch_configs: Mapping[str, LaunchConfigView | None],
    limits: Limits,
    rpo_minutes: int | None,
    now: datetime,
    snapshot_choice: RecoveryPointChoice | None = None,
    other_executions: Sequence[OtherExecution] = (),
) -> list[Check]:
    """Every finding about launching ``plan`` (waves resolved to ``wave_servers``) now.

    ``active_jobs``: the account's DRS jobs (only the active ones count); ``launch_configs``: per known
    server, its launch configuration or None when DRS has none (a server left out was not checked);
    ``snapshot_choice``: the point-in-time choice, None to recover from the latest data.
    """
    members = plan_members(plan, wave_servers)
    by_id = inventory.by_id()
    known = [m for m in members if m.server_id in by_id]
    active = [(job_id, tuple(servers)) for job_id, servers, is_active in active_jobs if is_active]
    checks = _plan_checks(plan, inventory, members)
    checks += _inventory_check(inventory, now)
    checks += _known_checks(members, by_id, inventory)
    checks += replication_checks(known, by_id, snapshot_choice)
    checks += lag_checks(known, by_id, rpo_minutes, snapshot_choice)
    checks += snapshot_checks(known, by_id, snapshot_choice)
    checks += launch_config_checks(known, by_id, launch_configs, mode)
    checks += busy_checks(members, by_id, active)
    checks += execution_checks(members, other_executions)
    checks += quota_checks(plan, wave_servers, active, limits)
    checks += wave_size_checks(plan, wave_servers, limits)
    logger.debug(
        "preflight of %r: %d check(s), %d failure(s)",
        plan.name,
        len(checks),
        sum(c.status is CheckStatus.FAIL for c in checks),
    )
    return checks


def plan_members(plan: RecoveryPlan, wave_servers: Mapping[str, Sequence[str]]) -> list[Member]:
    """Each server of the run once, in wave order, with its wave and whether it is critical."""
    members: list[Member] = []
    seen: set[str] = set()
    for index, wave in enumerate(plan.waves):
        for server_id in wave_servers.get(wave.name, ()):
            if server_id not in seen:
                seen.add(server_id)
                critical = server_id not in wave.optional
                members.append(Member(index, wave.name, server_id, critical))
    return members


def _where(inventory: Inventory) -> str:
    where = "/".join(part for part in (inventory.account_id, inventory.region) if part)
    return where or "this account"


# -- the plan and the inventory


def _covered_elsewhere(problem: Problem) -> bool:
    """Validation findings another check reports better: unknown servers (one FAIL per server, in
    ``known-servers``) and the split of a big wave (``wave-size``, with the job sizes)."""
    if problem.severity is Severity.ERROR:
        return problem.message.startswith("unknown source server ")
    return "will split it into" in problem.message


def _plan_checks(plan: RecoveryPlan, inventory: Inventory, members: Sequence[Member]) -> list[Check]:
    problems = [p for p in validate_plan(plan, inventory) if not _covered_elsewhere(p)]
    checks = [
        Check(
            PLAN,
            CheckStatus.FAIL if problem.severity is Severity.ERROR else CheckStatus.WARN,
            str(problem),
        )
        for problem in problems
    ]
    if not members:
        checks.append(
            Check(PLAN, CheckStatus.FAIL, "the plan resolves to no source server: nothing to launch")
        )
    if not checks:
        checks.append(
            Check(
                PLAN,
                CheckStatus.PASS,
                f"the plan is valid: {len(plan.waves)} wave(s), {len(members)} server(s)",
            )
        )
    return checks


def _inventory_check(inventory: Inventory, now: datetime) -> list[Check]:
    count = f"{len(inventory.servers)} source server(s) in {_where(inventory)}"
    if inventory.fetched_at is None:
        return [Check(INVENTORY, CheckStatus.WARN, f"{count}, read at an unknown time: states may be stale")]
    age = now - inventory.fetched_at
    if age > INVENTORY_MAX_AGE:
        return [
            Check(
                INVENTORY,
                CheckStatus.WARN,
                f"{count}, read {format_duration(age.total_seconds())} ago: replication states and lags "
                "may have changed; refresh the inventory",
            )
        ]
    when = "just now" if age <= timedelta(minutes=1) else f"{format_duration(age.total_seconds())} ago"
    return [Check(INVENTORY, CheckStatus.PASS, f"{count}, read {when}")]


def _known_checks(
    members: Sequence[Member], by_id: Mapping[str, SourceServer], inventory: Inventory
) -> list[Check]:
    checks = [
        Check(
            KNOWN,
            CheckStatus.FAIL,
            f"{m.server_id} is not a source server of {_where(inventory)}: DRS would refuse its whole "
            "StartRecovery (ResourceNotFound)",
            m.server_id,
            m.wave,
        )
        for m in members
        if m.server_id not in by_id
    ]
    if members and not checks:
        checks.append(Check(KNOWN, CheckStatus.PASS, f"all {len(members)} server(s) are in the inventory"))
    return checks
