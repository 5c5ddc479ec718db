"""What an evidence report of one execution is made of: the ``ExecutionView`` and its per-attempt rows.

An auditor asks for every try of every server, not only the last: "app-02 failed its conversion at
08:41 in job X, bob retried it at 08:50, it launched in job Y at 09:02". The execution state keeps a
retried server's earlier tries only in outline (``AttemptRecord``), so ``replay_trail`` replays the
journal itself and keeps each server's full state as it stood just before every retry, and the operator
controls that took effect. The view is frozen: the GUI's history view receives it as a signal payload.
Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from drs_desktop.domain.engine.events import CONTROL_EVENTS, Event, RetryFailed
from drs_desktop.domain.engine.native_events import NativeStarted
from drs_desktop.domain.engine.queries import server_ready
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.reducer import apply, initial_state
from drs_desktop.domain.engine.state import (
    ExecutionSpec,
    ExecutionState,
    InstanceRecord,
    ServerState,
    ServerStatus,
    WavePhase,
)
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.domain.views.cadence import CadenceFacts
from drs_desktop.domain.views.evidence import ExecutionEvidence
from drs_desktop.domain.views.holders import held_text
from drs_desktop.domain.views.progress import LogLine

__all__ = [
    "ExecutionView",
    "PhaseSpan",
    "PinnedPlan",
    "ReplayTrail",
    "RetryRecord",
    "ServerAttempt",
    "phase_spans",
    "replay_trail",
    "rto_decider",
    "server_attempts",
]


@dataclass(frozen=True)
class PinnedPlan:
    """The plan revision the execution pinned. ``document``: the stored document exactly as saved;
    ``hash_verified``: its SHA-256 equals the content hash recorded at save time. ``problem`` says why
    the document is missing or unverified (the row was removed, the text does not parse, ...)."""

    revision: PlanRevision | None
    document: Mapping[str, Any] | None
    hash_verified: bool
    problem: str = ""


@dataclass(frozen=True)
class RetryRecord:
    """A retry that took effect: who asked, when, and the servers it actually started again.

    In a run in DRS the operator's retry goes to DRS, and it takes effect when a reading shows the new
    job of the step's servers (``relaunched_at``). One that no operator of this desktop asked for (a retry
    in DRS's console) has ``by`` "" and ``at`` the reading that showed it."""

    wave_index: int
    at: datetime
    by: str
    server_ids: tuple[str, ...]
    relaunched_at: datetime | None = None
    in_drs: bool = False


@dataclass(frozen=True)
class ReplayTrail:
    """The journal replayed: the final state, each server's earlier tries (its full state just before
    each retry, oldest first), the operator controls that took effect, in journal order, and the
    retries with the servers each one started again. ``audit_events``: the event that wrote each entry
    of ``state.audit`` (same order and length; () if they do not line up); ``native_started``: a run in
    DRS's ``NativeStarted`` (the execution it follows, started or attached)."""

    state: ExecutionState
    earlier_attempts: Mapping[str, tuple[ServerState, ...]]
    controls: tuple[Event, ...]
    retries: tuple[RetryRecord, ...] = ()
    audit_events: tuple[Event, ...] = ()
    native_started: NativeStarted | None = None


def replay_trail(spec: ExecutionSpec, events: Iterable[Event]) -> ReplayTrail:
    """Like ``engine.reducer.replay`` (the same state comes out), keeping what evidence needs on the way.

    A server's try ends whenever its retry count grows: at the operator's ``RetryFailed`` in a run here,
    at the reading that adopts DRS's new job in a run in DRS (the retry was asked for earlier, and DRS
    may have refused it)."""
    state = initial_state(spec)
    attempts: dict[str, list[ServerState]] = {}
    controls: list[Event] = []
    retries: list[RetryRecord] = []
    audit_events: list[Event] = []
    asked: dict[int, RetryFailed] = {}  # a run in DRS: the retry of each wave on its way to DRS
    started: NativeStarted | None = None
    for event in events:
        before = state
        state = apply(state, event)
        noted = len(state.audit) - len(before.audit)
        audit_events.extend([event] * max(noted, 0))
        if isinstance(event, CONTROL_EVENTS) and noted > 0:
            controls.append(event)  # a control the reducer ignored left no audit entry
        if isinstance(event, NativeStarted) and started is None and state.native is not None:
            started = event if state.native.execution_arn == event.execution_arn else None
        if isinstance(event, RetryFailed) and noted > 0 and state.native is not None:
            asked[event.wave_index] = event
        by_wave: dict[int, list[str]] = {}
        for server_id, server in state.servers.items():
            previous = before.servers[server_id]
            if server.retries > previous.retries:
                attempts.setdefault(server_id, []).append(previous)
                by_wave.setdefault(server.wave_index, []).append(server_id)
        for wave_index, retried in by_wave.items():
            if isinstance(event, RetryFailed):
                retries.append(RetryRecord(event.wave_index, event.at, event.by, tuple(retried)))
                continue
            at = _event_time(event) or state.spec.started_at
            request = asked.pop(wave_index, None)
            retries.append(
                RetryRecord(
                    wave_index,
                    request.at if request is not None else at,
                    request.by if request is not None else "",
                    tuple(retried),
                    relaunched_at=at,
                    in_drs=state.native is not None,
                )
            )
    return ReplayTrail(
        state=state,
        earlier_attempts={k: tuple(v) for k, v in attempts.items()},
        controls=tuple(controls),
        retries=tuple(retries),
        audit_events=tuple(audit_events) if len(audit_events) == len(state.audit) else (),
        native_started=started,
    )


def _event_time(event: Event) -> datetime | None:
    at = getattr(event, "at", None)
    return at if isinstance(at, datetime) else None


@dataclass(frozen=True)
class ExecutionView:
    """One execution as a report shows it: its record (plan revision, identity, options), the state
    rebuilt from its journal, the evidence, the pinned plan, and the inventory's hostnames (from the
    local cache, so possibly newer than the run; empty when unknown). ``journal_sha256`` fingerprints
    the journal the state was rebuilt from, so a report can be tied to the database it came from."""

    record: ExecutionRecord
    state: ExecutionState
    evidence: ExecutionEvidence
    plan: PinnedPlan
    earlier_attempts: Mapping[str, tuple[ServerState, ...]] = field(default_factory=dict)
    controls: tuple[Event, ...] = ()
    retries: tuple[RetryRecord, ...] = ()
    hostnames: Mapping[str, str] = field(default_factory=dict)
    journal_events: int = 0
    journal_sha256: str = ""
    journal_warning: str = ""  # set when the journal looks cut short (domain.engine.journal_integrity)
    #: The event log (``views.event_log.journal_log``): the lines the live and history logs show.
    log: tuple[LogLine, ...] = ()
    #: The event that wrote each entry of ``state.audit`` (``ReplayTrail.audit_events``; () unknown).
    audit_events: tuple[Event, ...] = ()
    #: The journal's annotations (test, findings, sign-offs, recovery points; ``engine.annotation_events``)
    #: in journal order, for the report's audit sections (``views.evidence_audit``).
    annotations: tuple[Event, ...] = ()
    #: The run's plan's drill cadence facts as the database held them when the view was loaded
    #: (``services.cadence``); the report decides the state at its own time. None: not read, and
    #: ``cadence_problem`` says why ("" for a view built without a database).
    cadence: CadenceFacts | None = None
    cadence_problem: str = ""

    @property
    def attempts(self) -> tuple[ServerAttempt, ...]:
        return server_attempts(self.state, self.earlier_attempts, self.hostnames)


@dataclass(frozen=True)
class PhaseSpan:
    """One stage of a launch (snapshot, conversion, launch): from its START log event to its end, or
    to its failure. ``ended_at`` None: still running, or DRS logged no end."""

    name: str
    started_at: datetime | None
    ended_at: datetime | None
    failed: bool = False

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


@dataclass(frozen=True)
class ServerAttempt:
    """One try of one server: a report row. ``attempt`` counts from 1; ``final`` marks the server's
    current (last) try. ``launched_at`` is when the runner saw LAUNCHED (DRS logs no event for it), so
    it lags the real launch by at most one poll interval."""

    wave_index: int
    wave_name: str
    server_id: str
    hostname: str
    critical: bool
    attempt: int
    final: bool
    retries: int
    status: ServerStatus
    reason: str
    chunk_id: str | None
    job_id: str | None
    queued_at: datetime | None
    start_requested_at: datetime | None
    job_started_at: datetime | None
    launched_at: datetime | None
    ready_at: datetime | None
    failed_at: datetime | None
    phases: Mapping[str, datetime]
    recovery_instance_id: str | None
    ec2_instance_id: str | None
    instance: InstanceRecord | None
    held: str = ""  # the job that held the server while this try waited to start (``views.holders``)

    @property
    def impact(self) -> str:
        return "critical" if self.critical else "optional"

    @property
    def spans(self) -> tuple[PhaseSpan, ...]:
        return phase_spans(self.phases, self.launched_at, self.failed_at)

    def phase(self, event: str) -> datetime | None:
        return self.phases.get(event)


#: (stage, its START event, its END event, its FAIL events), in the order DRS runs them.
_STAGES = (
    ("snapshot", "SNAPSHOT_START", "SNAPSHOT_END", ("SNAPSHOT_FAIL",)),
    ("conversion", "CONVERSION_START", "CONVERSION_END", ("CONVERSION_FAIL",)),
    ("launch", "LAUNCH_START", "", ("LAUNCH_FAILED",)),
)


def phase_spans(
    phases: Mapping[str, datetime], launched_at: datetime | None, failed_at: datetime | None
) -> tuple[PhaseSpan, ...]:
    """Snapshot, conversion and launch spans from the first time of each job-log event. A recovery
    from an earlier snapshot (point in time) logs USING_PREVIOUS_SNAPSHOT instead of a snapshot."""
    spans = []
    for name, start, end, fails in _STAGES:
        started = phases.get(start)
        if name == "snapshot" and started is None and "USING_PREVIOUS_SNAPSHOT" in phases:
            moment = phases["USING_PREVIOUS_SNAPSHOT"]
            spans.append(PhaseSpan(name, moment, moment))
            continue
        failure = next((phases[f] for f in fails if f in phases), None)
        ended = phases.get(end) if end else launched_at
        if failure is not None:
            spans.append(PhaseSpan(name, started, failure, failed=True))
        elif ended is None and started is not None and failed_at is not None and name == "launch":
            spans.append(PhaseSpan(name, started, failed_at, failed=True))
        else:
            spans.append(PhaseSpan(name, started, ended))
    return tuple(spans)


def server_attempts(
    state: ExecutionState,
    earlier: Mapping[str, tuple[ServerState, ...]],
    hostnames: Mapping[str, str],
) -> tuple[ServerAttempt, ...]:
    """Every try of every server, in plan order, each server's tries oldest first."""
    instances = {(i.server_id, i.job_id): i for i in state.instances.values()}
    rows: list[ServerAttempt] = []
    for index, wave in enumerate(state.spec.waves):
        for server_id in wave.server_ids:
            current = state.servers[server_id]
            tries = (*earlier.get(server_id, ()), current)
            for number, tried in enumerate(tries, start=1):
                instance = instances.get((server_id, tried.job_id)) if tried.job_id else None
                rows.append(
                    ServerAttempt(
                        wave_index=index,
                        wave_name=wave.name,
                        server_id=server_id,
                        hostname=hostnames.get(server_id, ""),
                        critical=current.critical,
                        attempt=number,
                        final=number == len(tries),
                        retries=current.retries,
                        status=tried.status,
                        reason=tried.reason,
                        chunk_id=tried.chunk_id,
                        job_id=tried.job_id,
                        queued_at=tried.queued_at,
                        start_requested_at=tried.start_requested_at,
                        job_started_at=tried.job_started_at,
                        launched_at=tried.launched_at,
                        ready_at=tried.ready_at,
                        failed_at=tried.failed_at,
                        phases=dict(sorted(tried.phase_times.items(), key=lambda item: item[1])),
                        recovery_instance_id=tried.recovery_instance_id
                        or (instance.recovery_instance_id if instance else None),
                        ec2_instance_id=tried.ec2_instance_id
                        or (instance.ec2_instance_id if instance else None),
                        instance=instance,
                        held=held_text(tried),
                    )
                )
    return tuple(rows)


def rto_decider(state: ExecutionState) -> ServerState | None:
    """The critical server whose readiness set the RTO achieved (the last one ready), or None while
    some critical server of a wave not skipped is not ready."""
    critical = [
        s
        for s in state.servers.values()
        if s.critical and state.waves[s.wave_index].phase is not WavePhase.SKIPPED
    ]
    if not critical or any(not server_ready(s) or s.ready_at is None for s in critical):
        return None
    return max(critical, key=lambda s: (s.ready_at, s.server_id))
