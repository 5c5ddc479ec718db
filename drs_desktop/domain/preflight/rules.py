"""The rules of preflight, one function per topic, each returning its ``Check``s.

Shared by ``domain.preflight.checks`` (which runs them in order and builds the report). A rule reports a
problem per server (with its wave) and sums up what passed in one PASS line. Severity follows what DRS and the
engine would do: FAIL when a critical server (or the whole StartRecovery) would fail, WARN when only an
optional server would, or when the engine copes by itself. Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.engine.chunking import Candidate, Limits, Load, admit, split_servers
from drs_desktop.domain.engine.recovery_point import RecoveryPointChoice
from drs_desktop.domain.engine.state import Mode, chunk_id_for
from drs_desktop.domain.inventory import SourceServer
from drs_desktop.domain.plan.model import RecoveryPlan

#: Replication that lets DRS take a fresh snapshot and launch from the latest data.
HEALTHY_STATES = frozenset({"CONTINUOUS"})
#: Still replicating and launchable, but catching up: the data may be older than usual.
DEGRADED_STATES = frozenset({"BACKLOG", "RESCAN", "CREATING_SNAPSHOT"})
#: Replication stopped with the snapshots kept: only a chosen older snapshot can be launched.
FROZEN_STATES = frozenset({"STALLED", "PAUSED"})
#: Lag means something (and is compared with the RPO) only while the server replicates.
REPLICATING_STATES = HEALTHY_STATES | DEGRADED_STATES

_NO_LAUNCH_REASONS = {
    "STALLED": "replication has stopped, so DRS cannot take a fresh snapshot; fix replication, or choose "
    "a point in time to launch from an older snapshot",
    "PAUSED": "replication is paused, so DRS cannot take a fresh snapshot; resume it, or choose a point "
    "in time to launch from an older snapshot",
    "INITIATING": "the initial sync has not finished, so DRS holds no recovery point for it yet",
    "INITIAL_SYNC": "the initial sync has not finished, so DRS holds no recovery point for it yet",
    "STOPPED": "replication is stopped and its snapshots are gone",
    "DISCONNECTED": "the server is disconnected from DRS and its snapshots are gone",
}


def no_launch_reason(state: str) -> str:
    """Why DRS cannot launch a server in replication ``state`` from its latest data (for other modules)."""
    return _NO_LAUNCH_REASONS.get(state, "DRS reports no usable replication for it")


# Check names: stable identifiers for --json and the GUI.
PLAN = "plan"
INVENTORY = "inventory"
KNOWN = "known-servers"
REPLICATION = "replication"
LAG = "lag"
SNAPSHOTS = "snapshots"
LAUNCH_CONFIG = "launch-config"
BUSY = "busy-servers"
EXECUTIONS = "other-executions"
QUOTAS = "quotas"
WAVE_SIZE = "wave-size"
CLOCK = "clock"
#: A drill's network reaches production (``domain.launch.isolation``; ``services.preflight_isolation``).
ISOLATION = "isolation"
#: A drill into the drill network points each server's launch template there: one without a template fails.
DRILL_NETWORK = "drill-network"

#: A desktop clock this far from DRS's is worth telling the operator about (nothing depends on it).
NOTABLE_SKEW = timedelta(minutes=2)


class CheckStatus(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One finding. ``server_id``/``wave`` say where, when it is about one server or one wave."""

    name: str
    status: CheckStatus
    message: str
    server_id: str | None = None
    wave: str | None = None


@dataclass(frozen=True)
class OtherExecution:
    """An unfinished execution of this desktop (same account): it may still launch its servers."""

    execution_id: str
    plan_name: str
    mode: str
    started_at: datetime
    server_ids: tuple[str, ...]


@dataclass(frozen=True)
class Member:
    """A server of the plan, where it is and whether its wave needs it."""

    wave_index: int
    wave: str
    server_id: str
    critical: bool


def server_label(server_id: str, server: SourceServer | None) -> str:
    return f"{server.hostname} ({server_id})" if server is not None and server.hostname else server_id


def by_impact(member: Member) -> tuple[CheckStatus, str]:
    """FAIL for a critical server; WARN, and why, for an optional one (its wave completes without it)."""
    if member.critical:
        return CheckStatus.FAIL, ""
    return CheckStatus.WARN, " (optional: its wave can complete without it)"


# -- replication, lag, point in time


def replication_checks(
    known: Sequence[Member], by_id: Mapping[str, SourceServer], choice: RecoveryPointChoice | None
) -> list[Check]:
    checks: list[Check] = []
    healthy = 0
    for m in known:
        server = by_id[m.server_id]
        state = server.replication_state or "UNKNOWN"
        label = server_label(m.server_id, server)
        if state in HEALTHY_STATES:
            healthy += 1
        elif state in DEGRADED_STATES:
            message = (
                f"{label}: replication is {state}; DRS can launch it, from data that may be older than usual"
            )
            checks.append(Check(REPLICATION, CheckStatus.WARN, message, m.server_id, m.wave))
        elif state in FROZEN_STATES and choice is not None and m.server_id in choice.chosen:
            message = (
                f"{label}: replication is {state}; it launches from the snapshot chosen for the point in time"
            )
            checks.append(Check(REPLICATION, CheckStatus.WARN, message, m.server_id, m.wave))
        else:
            status, suffix = by_impact(m)
            reason = _NO_LAUNCH_REASONS.get(state, "DRS reports no usable replication for it")
            message = f"{label}: replication is {state}: {reason}{suffix}"
            checks.append(Check(REPLICATION, status, message, m.server_id, m.wave))
    if healthy:
        checks.insert(
            0, Check(REPLICATION, CheckStatus.PASS, f"{healthy} server(s) replicating (CONTINUOUS)")
        )
    return checks


def lag_checks(
    known: Sequence[Member],
    by_id: Mapping[str, SourceServer],
    rpo_minutes: int | None,
    choice: RecoveryPointChoice | None,
) -> list[Check]:
    """Data age against the RPO: replication lag for a run from the latest data, or how far before the
    point in time each chosen snapshot was taken. Servers that do not replicate are left to the
    replication check (their "lag" is how long ago replication stopped)."""
    ages: list[tuple[Member, float]] = []
    unknown: list[Member] = []
    for m in known:
        if choice is not None:
            age = choice.data_age(m.server_id)
            if age is not None:
                ages.append((m, age.total_seconds()))
        elif by_id[m.server_id].replication_state in REPLICATING_STATES:
            lag = by_id[m.server_id].lag_seconds
            if lag is None:
                unknown.append(m)
            else:
                ages.append((m, float(lag)))
    what = "data age before the point in time" if choice is not None else "replication lag"
    if rpo_minutes is None:
        if not ages:
            return []
        worst, seconds = max(ages, key=lambda item: item[1])
        label = server_label(worst.server_id, by_id[worst.server_id])
        message = f"no RPO in the plan; the largest {what} is {format_duration(seconds)} ({label})"
        return [Check(LAG, CheckStatus.PASS, message)]
    rpo = rpo_minutes * 60
    checks: list[Check] = []
    for m, seconds in ages:
        if seconds > rpo:
            status, suffix = by_impact(m)
            label = server_label(m.server_id, by_id[m.server_id])
            shown = format_duration(seconds)
            message = f"{label}: {what} {shown} is over the plan's RPO of {rpo_minutes} min{suffix}"
            checks.append(Check(LAG, status, message, m.server_id, m.wave))
    for m in unknown:
        label = server_label(m.server_id, by_id[m.server_id])
        message = (
            f"{label}: DRS reports no replication lag, so the RPO of {rpo_minutes} min cannot be checked"
        )
        checks.append(Check(LAG, CheckStatus.WARN, message, m.server_id, m.wave))
    within = [(m, s) for m, s in ages if s <= rpo]
    if within:
        largest = max(s for _, s in within)
        message = (
            f"{len(within)} server(s) within the RPO of {rpo_minutes} min (largest {what} "
            f"{format_duration(largest)})"
        )
        checks.insert(0, Check(LAG, CheckStatus.PASS, message))
    return checks


def snapshot_checks(
    known: Sequence[Member], by_id: Mapping[str, SourceServer], choice: RecoveryPointChoice | None
) -> list[Check]:
    if choice is None:
        return [
            Check(SNAPSHOTS, CheckStatus.PASS, "no point in time: every server launches from its latest data")
        ]
    problems = {p.server_id: p for p in choice.problems}
    checks: list[Check] = []
    for m in known:
        if m.server_id in choice.chosen:
            continue
        problem = problems.get(m.server_id)
        detail = problem.message if problem is not None else "has no recovery snapshot chosen"
        message = (
            f"{server_label(m.server_id, by_id[m.server_id])} {detail}: the run cannot start without one"
        )
        checks.append(Check(SNAPSHOTS, CheckStatus.FAIL, message, m.server_id, m.wave))
    chosen = [m for m in known if m.server_id in choice.chosen]
    if chosen:
        when = choice.point_in_time.isoformat()
        oldest = max((choice.data_age(m.server_id) or timedelta(0) for m in chosen), default=timedelta(0))
        message = (
            f"point in time {when}: a snapshot chosen for {len(chosen)} server(s); the oldest was taken "
            f"{format_duration(oldest.total_seconds())} before it"
        )
        checks.insert(0, Check(SNAPSHOTS, CheckStatus.PASS, message))
    return checks


# -- launch settings


def launch_config_checks(
    known: Sequence[Member],
    by_id: Mapping[str, SourceServer],
    configs: Mapping[str, LaunchConfigView | None],
    mode: Mode,
) -> list[Check]:
    checks: list[Check] = []
    fine = 0
    for m in known:
        label = server_label(m.server_id, by_id[m.server_id])
        if m.server_id not in configs:
            message = f"{label}: its launch configuration was not checked"
            checks.append(Check(LAUNCH_CONFIG, CheckStatus.WARN, message, m.server_id, m.wave))
            continue
        config = configs[m.server_id]
        if config is None:
            status, suffix = by_impact(m)
            message = f"{label} has no launch configuration in DRS, so it cannot be launched{suffix}"
            checks.append(Check(LAUNCH_CONFIG, status, message, m.server_id, m.wave))
        elif not config.ec2_launch_template_id:
            message = f"{label}: its launch configuration names no EC2 launch template"
            checks.append(Check(LAUNCH_CONFIG, CheckStatus.WARN, message, m.server_id, m.wave))
        elif mode is Mode.RECOVERY and config.launch_disposition == "STOPPED":
            message = (
                f"{label} launches STOPPED (launchDisposition): its recovery instance will not boot until "
                "someone starts it, and post-launch actions wait for that"
            )
            checks.append(Check(LAUNCH_CONFIG, CheckStatus.WARN, message, m.server_id, m.wave))
        else:
            fine += 1
    if fine:
        checks.insert(
            0, Check(LAUNCH_CONFIG, CheckStatus.PASS, f"{fine} server(s) have a launch configuration")
        )
    return checks


# -- the account's load


def busy_checks(
    members: Sequence[Member],
    by_id: Mapping[str, SourceServer],
    active: Sequence[tuple[str, tuple[str, ...]]],
) -> list[Check]:
    busy: dict[str, str] = {}
    for job_id, servers in active:
        for server_id in servers:
            busy.setdefault(server_id, job_id)
    checks = []
    for m in members:
        if m.server_id in busy:
            message = (
                f"{server_label(m.server_id, by_id.get(m.server_id))} is already in active DRS job "
                f"{busy[m.server_id]}: DRS refuses to start it (ConflictException) until that job ends, "
                "so the run will wait for it there (its wave's timeout does not count the wait)"
            )
            checks.append(Check(BUSY, CheckStatus.WARN, message, m.server_id, m.wave))
    if not checks:
        message = (
            f"no server of the plan is in an active DRS job ({len(active)} active job(s) in the account)"
        )
        checks.append(Check(BUSY, CheckStatus.PASS, message))
    return checks


def execution_checks(members: Sequence[Member], others: Sequence[OtherExecution]) -> list[Check]:
    ours = {m.server_id for m in members}
    checks = []
    for other in others:
        shared = [s for s in other.server_ids if s in ours]
        if not shared:
            continue
        more = f" and {len(shared) - 3} more" if len(shared) > 3 else ""
        message = (
            f"unfinished execution {other.execution_id} of {other.plan_name!r} ({other.mode}, started "
            f"{other.started_at.isoformat()}) also holds {len(shared)} of these server(s) "
            f"({', '.join(shared[:3])}{more}): it may still launch them; resume or cancel it first"
        )
        checks.append(Check(EXECUTIONS, CheckStatus.WARN, message))
    return checks


def quota_checks(
    plan: RecoveryPlan,
    wave_servers: Mapping[str, Sequence[str]],
    active: Sequence[tuple[str, tuple[str, ...]]],
    limits: Limits,
) -> list[Check]:
    """Whether each wave's jobs fit beside the account's current load, with the engine's own split and
    admission rule. Never a FAIL: a chunk always fits alone in an empty account (the split guarantees
    it), so a job that does not fit now queues and starts when other jobs end. Waves with the same
    dependencies may start together, so they are sized together (an estimate: before-steps and job
    durations decide the real overlap)."""
    external_servers = {s for _, servers in active for s in servers}
    load = Load(jobs=len(active), servers=len(external_servers))
    groups: dict[frozenset[str], list[int]] = {}
    for index in range(len(plan.waves)):
        groups.setdefault(frozenset(plan.dependencies(index)), []).append(index)
    checks: list[Check] = []
    account = f"the account's {len(active)} active job(s) with {len(external_servers)} server(s)"
    for indices in groups.values():
        candidates = [c for i in indices for c in _wave_candidates(plan, wave_servers, i, limits)]
        if not candidates:
            continue
        waiting = len(candidates) - len(admit(candidates, load, limits))
        if waiting:
            names = ", ".join(repr(plan.waves[i].name) for i in indices)
            servers = sum(len(c.server_ids) for c in candidates)
            message = (
                f"wave(s) {names}: {len(candidates)} job(s) with {servers} server(s) may start together; "
                f"beside {account}, {waiting} of them wait for quota and start as other jobs end "
                f"(DRS limits: {limits.max_concurrent_jobs} concurrent jobs, "
                f"{limits.max_servers_in_active_jobs} servers across active jobs)"
            )
            checks.append(Check(QUOTAS, CheckStatus.WARN, message, wave=plan.waves[indices[0]].name))
    if not checks:
        message = (
            f"every job can start when its wave does, beside {account} (DRS limits: "
            f"{limits.max_servers_per_job} servers per job, {limits.max_servers_in_active_jobs} across "
            f"active jobs, {limits.max_concurrent_jobs} concurrent jobs)"
        )
        checks.append(Check(QUOTAS, CheckStatus.PASS, message))
    return checks


def _wave_candidates(
    plan: RecoveryPlan, wave_servers: Mapping[str, Sequence[str]], index: int, limits: Limits
) -> list[Candidate]:
    """The wave's chunks as the engine builds them (``engine.state.build_state``), as candidates."""
    servers = tuple(dict.fromkeys(wave_servers.get(plan.waves[index].name, ())))
    chunks = split_servers(servers, limits.chunk_size)
    return [Candidate(chunk_id_for(index, seq), chunk) for seq, chunk in enumerate(chunks, start=1)]


def wave_size_checks(
    plan: RecoveryPlan, wave_servers: Mapping[str, Sequence[str]], limits: Limits
) -> list[Check]:
    """Informational: a wave bigger than one job is split by the engine, the same way as here."""
    checks = []
    for wave in plan.waves:
        servers = tuple(dict.fromkeys(wave_servers.get(wave.name, ())))
        if len(servers) <= limits.chunk_size:
            continue
        sizes = [len(chunk) for chunk in split_servers(servers, limits.chunk_size)]
        message = (
            f"wave {wave.name!r}: {len(servers)} servers, split into {len(sizes)} jobs "
            f"({' + '.join(str(n) for n in sizes)}; DRS takes at most {limits.max_servers_per_job} per job)"
        )
        checks.append(Check(WAVE_SIZE, CheckStatus.PASS, message, wave=wave.name))
    return checks


def describe_skew(skew: timedelta) -> str:
    """'the desktop clock is 10 min 3 s ahead of DRS' and the like."""
    amount = format_duration(abs(skew), exact=True)
    side = "ahead of" if skew > timedelta(0) else "behind"
    return f"the desktop clock is {amount} {side} DRS"


def clock_checks(skew: timedelta | None) -> list[Check]:
    """How far the desktop's clock is from DRS's (desktop minus DRS, read from DRS's answers).

    The engine measures every wait, timeout and reconcile window in DRS's time, so a skew is never a
    failure; it is worth a warning because the times the operator reads elsewhere on the desktop differ.
    """
    if skew is None:
        return [Check(CLOCK, CheckStatus.WARN, "DRS's time is not known yet (no answer carried a Date)")]
    if abs(skew) < timedelta(seconds=1):
        return [Check(CLOCK, CheckStatus.PASS, "the desktop clock agrees with DRS's (to the second)")]
    if abs(skew) <= NOTABLE_SKEW:
        limit = format_duration(NOTABLE_SKEW.total_seconds())
        return [Check(CLOCK, CheckStatus.PASS, f"{describe_skew(skew)}: less than {limit}, fine")]
    return [
        Check(
            CLOCK,
            CheckStatus.WARN,
            f"{describe_skew(skew)}: every decision of the run is timed in DRS's time, so the run is safe, "
            "but times shown elsewhere on this desktop differ; set the clock right (NTP)",
        )
    ]
