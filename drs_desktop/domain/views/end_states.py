"""How a stopped or finished run ends, in words every view shares: the progress view, the history,
``drs-desktop executions show`` and the report. Pure.

DRS cannot cancel a job (reference §12.11): a cancelled run is CANCELLING while its DRS jobs go on, until
they end or the cancel grace (``engine.grace``) runs out; then every server has a final state: launched,
failed (with DRS's reason), cancelled before it started, skipped, or "job drsjob-... still running in
DRS". A wave that never completed says how it ended instead of a launch phase frozen where the run
stopped. A RECOVERY's launched recovery instances run in production: they are always listed (server,
recovery instance, EC2 instance, since when), with what comes next. After a recovery that recovered
everything that is failing back in DRS when the source site is ready; after one that did not (cancelled,
failed, or partly launched), deciding about each instance: keep it, or fail back or terminate it in DRS
deliberately. Never something to "clean up". A run the operator ended because it could not be picked up again
(``engine.abandon``) says so, with the operator's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.engine.abandon import ABANDONED
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.grace import grace_ends_at, jobs_in_flight, jobs_left_running
from drs_desktop.domain.engine.queries import server_settled
from drs_desktop.domain.engine.state import (
    ExecutionState,
    Mode,
    ServerState,
    ServerStatus,
    WavePhase,
)

__all__ = [
    "PRODUCTION_ADVICE",
    "RECOVERED_ADVICE",
    "EndStates",
    "ProductionInstance",
    "ServerEnd",
    "end_states",
    "final_phase",
    "wave_end",
]

#: What to do about a recovery's instances: they are production now. Never "clean up".
PRODUCTION_ADVICE = (
    "These recovery instances run in production now. Keep them running, or fail back or terminate "
    "them in DRS deliberately: DRS Desktop never terminates a recovery's instances."
)
#: What comes next after a recovery that recovered every server (reference §3.1: StartFailbackLaunch takes
#: recovery instance IDs; ReverseReplication applies only to recovery instances that originated in EC2).
RECOVERED_ADVICE = (
    "These recovery instances are production now. When the source site is ready, fail back in DRS (a "
    "failback launch of these recovery instances, or reverse replication for those that originated in "
    "EC2): DRS Desktop never terminates a recovery's instances."
)
STILL_RUNNING = "still running in DRS"


@dataclass(frozen=True)
class ServerEnd:
    """One server's final state (or, while the run is cancelling, where it is)."""

    server_id: str
    wave_index: int
    state: str  # launched, failed, cancelled, skipped, still running in DRS, abandoned, or a live status
    text: (
        str  # what the operator reads: "launched (i-...)", "failed: <reason>", "job ... still running in DRS"
    )


@dataclass(frozen=True)
class ProductionInstance:
    """A recovery instance a RECOVERY launched: it serves production until someone decides otherwise."""

    server_id: str
    recovery_instance_id: str | None
    ec2_instance_id: str | None
    since: datetime | None

    def describe(self, hostname: str = "") -> str:
        who = f"{hostname} ({self.server_id})" if hostname else self.server_id
        instance = self.recovery_instance_id or "recovery instance not known yet"
        if self.ec2_instance_id and self.ec2_instance_id != self.recovery_instance_id:
            instance += f" (EC2 {self.ec2_instance_id})"
        since = f" since {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since else ""
        return f"{who}: {instance}{since}"


@dataclass(frozen=True)
class EndStates:
    """The end of a run (or its cancelling), for every view. ``finished`` False while CANCELLING."""

    finished: bool
    headline: str
    servers: tuple[ServerEnd, ...] = ()
    waiting_for_jobs: tuple[str, ...] = ()  # CANCELLING: the DRS jobs the run still waits for
    gives_up_at: datetime | None = None  # CANCELLING: when the grace runs out for the last of them
    jobs_left_running: tuple[str, ...] = ()
    recovery: bool = False
    production: tuple[ProductionInstance, ...] = ()  # a RECOVERY's launched recovery instances
    production_unknown: tuple[str, ...] = ()  # servers a job still running in DRS may launch in production
    abandoned_reason: str | None = None
    abandoned_by: str = ""
    recovered: bool = False  # a RECOVERY that ended SUCCEEDED with every server launched

    @property
    def production_advice(self) -> str:
        """What to do about the instances in production: what comes next after a complete recovery, a
        decision per instance after a cancelled or partial one; nothing when none runs (or may)."""
        if not (self.production or self.production_unknown):
            return ""
        return RECOVERED_ADVICE if self.recovered else PRODUCTION_ADVICE

    @property
    def production_title(self) -> str:
        """The heading of the production list ("" when it does not apply: a drill, or a recovery that
        is still cancelling and has launched nothing yet)."""
        if not self.recovery or not (self.production or self.finished):
            return ""
        if self.production:
            return (
                f"Running in production: {len(self.production)} recovery instance(s) this recovery launched"
            )
        return "Running in production: nothing this recovery launched"

    def lines(self, hostnames: dict[str, str] | None = None) -> list[str]:
        """Plain text, one fact a line (``executions show``, the report's text, the panel's copy)."""
        names = hostnames or {}
        out = [self.headline]
        if self.abandoned_reason is not None:
            by = f" by {self.abandoned_by}" if self.abandoned_by else ""
            out.append(f"ended{by} without its DRS target: {self.abandoned_reason}")
        out.extend(
            f"job {job} {STILL_RUNNING} when the run ended: instances it may launch are not known to this "
            "run (look in DRS)"
            for job in self.jobs_left_running
        )
        if self.recovery and (self.production or self.production_unknown or self.finished):
            if self.production:
                out.append(f"running in production ({len(self.production)}):")
                out.extend(f"  {p.describe(names.get(p.server_id, ''))}" for p in self.production)
            elif self.finished:
                out.append("running in production: nothing this recovery launched")
            if self.production_unknown:
                unknown = ", ".join(self.production_unknown)
                out.append(f"may still launch in production (its job {STILL_RUNNING}): {unknown}")
            if self.production_advice:
                out.append(self.production_advice)
        return out


def _final(server: ServerState) -> tuple[str, str]:
    status = server.status
    if status is ServerStatus.LAUNCHED:
        instance = server.ec2_instance_id or server.recovery_instance_id
        return "launched", f"launched ({instance})" if instance else "launched"
    if status is ServerStatus.FAILED:
        if server.job_id and f"job {server.job_id} {STILL_RUNNING}" in server.reason:
            return STILL_RUNNING, f"job {server.job_id} {STILL_RUNNING}"
        if server.reason.startswith(ABANDONED):
            return ABANDONED, server.reason
        return "failed", f"failed: {server.reason}" if server.reason else "failed"
    if status is ServerStatus.CANCELLED:
        return "cancelled", "cancelled: not started"
    if status is ServerStatus.SKIPPED:
        return "skipped", "skipped"
    if server.job_id:
        return status.value.lower(), f"{status.value.lower()} in job {server.job_id}"
    return status.value.lower(), status.value.lower()


def final_phase(server: ServerState) -> str | None:
    """What a failed server's Phase column says when "failed" would hide the truth: its job is still
    running in DRS, or the run was abandoned. None: the usual phase says it."""
    if server.status is not ServerStatus.FAILED:
        return None
    state, text = _final(server)
    return text if state in (STILL_RUNNING, ABANDONED) else None


def _count_words(ends: tuple[ServerEnd, ...]) -> str:
    order = ("launched", "failed", STILL_RUNNING, ABANDONED, "cancelled", "skipped")
    counts: dict[str, int] = {}
    for end in ends:
        counts[end.state] = counts.get(end.state, 0) + 1
    words = {
        "launched": "launched",
        "failed": "failed",
        STILL_RUNNING: f"with their job {STILL_RUNNING}",
        ABANDONED: "abandoned",
        "cancelled": "cancelled before they started",
        "skipped": "skipped",
    }
    parts = [f"{counts[key]} {words[key]}" for key in order if counts.get(key)]
    parts += [f"{n} {key}" for key, n in counts.items() if key not in words]
    return ", ".join(parts)


def _who(state: ExecutionState) -> str:
    stop = state.stop
    if stop is None:
        return ""
    by = f" by {stop.by}" if stop.by else ""
    return f"{stop.reason}{by} at {stop.at:%H:%M:%S} UTC"


def _production(state: ExecutionState) -> tuple[ProductionInstance, ...]:
    return tuple(
        ProductionInstance(
            server_id=s.server_id,
            recovery_instance_id=s.recovery_instance_id,
            # A recovery instance's ID is its EC2 instance ID (reference §12 item 12): a job that did not
            # name the EC2 instance leaves nothing unknown.
            ec2_instance_id=s.ec2_instance_id or s.recovery_instance_id,
            since=s.launched_at,
        )
        for wave in state.waves
        for s in state.wave_servers(wave.index)
        if s.status is ServerStatus.LAUNCHED
    )


def end_states(state: ExecutionState) -> EndStates | None:
    """The run's end (or its cancelling); None while it runs on (nothing has stopped it)."""
    finished = state.finished is not None
    if not finished and state.stop is None:
        return None
    servers = tuple(
        ServerEnd(s.server_id, s.wave_index, *_final(s))
        for wave in state.waves
        for s in state.wave_servers(wave.index)
    )
    abandoned = next((a for a in reversed(state.audit) if a.action == ABANDONED), None)
    recovery = state.spec.mode is Mode.RECOVERY
    partial = state.finished is not Outcome.SUCCEEDED or any(e.state != "launched" for e in servers)
    production = _production(state) if recovery else ()
    unknown = tuple(
        s.server_id
        for s in state.servers.values()
        if recovery
        and s.job_id
        and s.status is ServerStatus.FAILED
        and _final(s)[0] in (STILL_RUNNING, ABANDONED)
    )
    if not finished:
        jobs = jobs_in_flight(state)
        ends = [end for job in jobs if (end := grace_ends_at(state, job)) is not None]
        gives_up = max(ends) if ends else None
        if jobs:
            names = ", ".join(job.job_id for job in jobs)
            until = f"; the run stops waiting at {gives_up:%H:%M:%S} UTC" if gives_up else ""
            headline = (
                f"Cancelling ({_who(state)}): waiting for DRS job(s) {names} to end, as DRS cannot cancel a "
                f"job{until}, then every server's final state is shown"
            )
        else:
            headline = f"Cancelling ({_who(state)}): finishing"
        return EndStates(
            finished=False,
            headline=headline,
            servers=servers,
            waiting_for_jobs=tuple(job.job_id for job in jobs),
            gives_up_at=gives_up,
            recovery=recovery,
            production=production,
        )
    assert state.finished is not None
    how = state.finished.value.capitalize()
    if abandoned is not None:
        how = f"Abandoned ({state.finished.value.lower()})"
    elif state.stop is not None:
        who = _who(state)  # "cancelled by alice at ...": said once, not "Cancelled (cancelled by ...)"
        how = who[:1].upper() + who[1:] if who.startswith(state.finished.value.lower()) else f"{how} ({who})"
    at = f" at {state.finished_at:%H:%M:%S} UTC" if state.finished_at else ""
    return EndStates(
        finished=True,
        headline=f"{how}, ended{at}: {_count_words(servers)}",
        servers=servers,
        jobs_left_running=jobs_left_running(state),
        recovery=recovery,
        production=production,
        production_unknown=unknown,
        abandoned_reason=abandoned.detail if abandoned is not None else None,
        abandoned_by=abandoned.by if abandoned is not None else "",
        recovered=recovery and not partial,
    )


def wave_end(state: ExecutionState, index: int) -> tuple[str, str] | None:
    """(state name, detail) of a wave of a stopped or finished run that did not complete: CANCELLING
    while a DRS job of it still runs, else FAILED or CANCELLED with how its servers ended. None: the
    wave's own phase tells (it completed, was skipped, or the run goes on)."""
    wave = state.waves[index]
    if state.stop is None and state.finished is None:
        return None
    if wave.phase in (WavePhase.COMPLETED, WavePhase.SKIPPED):
        return None
    members = state.wave_servers(index)
    in_flight = [job for job in jobs_in_flight(state) if any(s.job_id == job.job_id for s in members)]
    if in_flight and state.finished is None:
        names = ", ".join(job.job_id for job in in_flight)
        limits = [end for job in in_flight if (end := grace_ends_at(state, job)) is not None]
        until = f"; stops waiting at {max(limits):%H:%M:%S} UTC" if limits else ""
        return "CANCELLING", f"waiting for DRS job {names} to end (DRS cannot cancel a job){until}"
    if state.finished is None and any(not server_settled(state, s) for s in members):
        return "CANCELLING", "stopping: waiting for DRS to say what became of its starts"
    ends = tuple(ServerEnd(s.server_id, s.wave_index, *_final(s)) for s in members)
    name = "FAILED" if any(e.state in ("failed", STILL_RUNNING, ABANDONED) for e in ends) else "CANCELLED"
    critical = any(s.critical and _final(s)[0] == "failed" for s in members)
    return name, ("a critical server failed; " if critical else "") + f"ended: {_count_words(ends)}"
