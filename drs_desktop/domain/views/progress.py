"""What the progress view shows of a running execution: a frozen ``ProgressSnapshot`` per update.

The execution's thread builds snapshots from its ``ExecutionState`` and hands them to the GUI thread,
which must only *show* them (DESIGN §3): so a snapshot holds every row already computed (wave counts,
elapsed, ETA, each server's phase and last job-log event), the controls that apply now, the job-log
lines that are new since the previous snapshot, and a delta naming the wave and server rows that
changed, so that the tree model emits ``dataChanged`` on those rows only.

Building one must stay cheap for 1,000 servers updated every second. ``ProgressTracker`` keeps the
previous state and rows: the reducer replaces only the ``ServerState`` objects an event touched, so an
identity check finds the changed servers and every other row is reused as is. Pure; the time is passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from drs_desktop.domain.engine.accounts import CredentialHold, credential_holds
from drs_desktop.domain.engine.commands import AwaitApproval
from drs_desktop.domain.engine.controls import AvailableControls, available_controls
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.queries import (
    drill_instances_running,
    execution_status,
    is_held,
    pending_approval,
    wave_failed,
)
from drs_desktop.domain.engine.state import (
    AuditEntry,
    ExecutionState,
    ExecutionStatus,
    Mode,
    ServerState,
    ServerStatus,
    WavePhase,
    WaveState,
)
from drs_desktop.domain.engine.takeover import CHECKING_PHASE, checking_text, unchecked_chunks
from drs_desktop.domain.engine.waves import wait_until
from drs_desktop.domain.views.end_states import EndStates, end_states, wave_end
from drs_desktop.domain.views.evidence import instance_problems, rto_achieved
from drs_desktop.domain.views.holders import waiting_text, wave_waiting_text
from drs_desktop.domain.views.progress_native import NativeView, native_controls, native_view
from drs_desktop.domain.views.progress_stages import (
    Durations,
    current_stage,
    milestones,
    server_phase,
    server_progress,
    stage_durations,
    stage_medians,
    wave_eta,
)
from drs_desktop.domain.views.progress_steps import StepRow, step_rows, step_wave_detail

__all__ = [
    "LogLine",
    "ProgressSnapshot",
    "ProgressTracker",
    "ServerRow",
    "SnapshotDelta",
    "WaveCounts",
    "WaveRow",
    "coalesce",
]

#: Log lines a snapshot carries at most once unshown snapshots are folded together (the view keeps
#: fewer; the journal keeps everything).
COALESCED_LOG_LINES = 5000


@dataclass(frozen=True)
class ServerRow:
    """One server as the tree and the timeline show it. ``row`` is its position within its wave."""

    server_id: str
    hostname: str
    wave_index: int
    row: int
    critical: bool
    status: ServerStatus
    phase: str
    progress: int  # percent
    job_id: str | None = None
    last_event: str = ""
    last_event_at: datetime | None = None
    recovery_instance_id: str | None = None
    ec2_instance_id: str | None = None
    reason: str = ""
    retries: int = 0
    queued_at: datetime | None = None
    started_at: datetime | None = None  # StartRecovery requested
    ended_at: datetime | None = None  # ready, or failed
    stage: int | None = None  # index into progress_stages.STAGES while launching
    stage_started_at: datetime | None = None
    durations: Durations = ()
    waiting: str = ""  # what it waits for outside the run: "waiting: held by job ..." (views.holders)
    #: Earlier tries that a retry replaced: (first, last job-log time, status), so the timeline keeps
    #: the failed attempt's bar next to the new one.
    earlier: tuple[tuple[datetime, datetime, ServerStatus], ...] = ()
    target: str = ""  # the DRS target it is in, in a run across targets (``engine.accounts``)

    @property
    def impact(self) -> str:
        return "critical" if self.critical else "optional"

    @property
    def label(self) -> str:
        """Its hostname (or ID), and in a run across targets the target it is in: the same hostname in
        two accounts is two servers."""
        name = self.hostname or self.server_id
        return f"{name} · {self.target}" if self.target else name


@dataclass(frozen=True)
class WaveCounts:
    total: int = 0
    pending: int = 0
    running: int = 0  # starting or launching, or launched with post-launch actions still running
    launched: int = 0
    failed: int = 0
    not_run: int = 0  # skipped or cancelled


@dataclass(frozen=True)
class WaveRow:
    index: int
    name: str
    phase: WavePhase
    detail: str  # what the wave waits for, in words
    counts: WaveCounts
    progress: int  # percent: the mean of its servers'
    held: bool  # a critical server failed: the run waits for retry, skip or cancel
    started_at: datetime | None
    ended_at: datetime | None
    elapsed: timedelta | None  # whole seconds
    eta: timedelta | None  # while launching, once the other servers' stage durations tell
    busy: bool = False  # waiting servers held by other DRS jobs (``detail`` names them; ``engine.busy``)
    final: str = (
        ""  # a stopped run's wave that did not complete: CANCELLING, FAILED or CANCELLED (end_states)
    )


@dataclass(frozen=True)
class LogLine:
    """One line of the event stream: a server's job-log event, or a note about the execution."""

    at: datetime
    text: str
    server_id: str | None = None
    event: str = ""

    def format(self) -> str:
        return f"{self.at:%H:%M:%S}  {self.text}"


@dataclass(frozen=True)
class SnapshotDelta:
    """What changed since the previous snapshot. ``full``: the first of an execution (rows new)."""

    full: bool = False
    waves: tuple[int, ...] = ()
    servers: tuple[tuple[int, int], ...] = ()  # (wave index, row within the wave)


#: Audit entries a snapshot carries (``ProgressSnapshot.recent_actions``).
RECENT_ACTIONS = 8


@dataclass(frozen=True)
class ProgressSnapshot:
    execution_id: str
    plan_name: str
    mode: Mode
    status: ExecutionStatus
    outcome: Outcome | None
    started_at: datetime
    finished_at: datetime | None
    now: datetime
    sequence: int
    waves: tuple[WaveRow, ...]
    servers: tuple[tuple[ServerRow, ...], ...]  # per wave, in plan order
    approvals: tuple[AwaitApproval, ...]
    controls: AvailableControls
    log: tuple[LogLine, ...] = ()
    delta: SnapshotDelta = field(default_factory=SnapshotDelta)
    rto_target: timedelta | None = None
    rto_achieved: timedelta | None = None
    drill_instances_running: int = 0
    instance_problems: tuple[str, ...] = ()  # ``views.evidence.instance_problems``
    refusals: tuple[str, ...] = ()
    read_only: bool = False
    end: EndStates | None = None  # how a stopped or finished run ends (``views.end_states``)
    #: Audit entries so far (``state.audit``: operator controls, and what the engine notes) and the
    #: newest few: the view tells "Retry sent…" from "Retry applied at 12:04" by a "retry" entry
    #: beyond the count there was when the control was sent.
    actions: int = 0
    recent_actions: tuple[AuditEntry, ...] = ()
    cleanup_requested: bool = False  # a drill's instances were asked to be terminated
    #: Targets whose calls wait for new credentials (``engine.accounts``): the banner asks for them.
    credential_holds: tuple[CredentialHold, ...] = ()
    #: A run in DRS: the native execution and its steps as DRS last showed them (None: a run here).
    native: NativeView | None = None
    #: Per wave, its automation steps (``views.progress_steps``), in plan order.
    steps: tuple[tuple[StepRow, ...], ...] = ()

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def elapsed(self) -> timedelta:
        end = self.finished_at or self.now
        return _whole(max(timedelta(0), end - self.started_at))

    @property
    def server_count(self) -> int:
        return sum(len(rows) for rows in self.servers)

    def server(self, wave_index: int, row: int) -> ServerRow:
        return self.servers[wave_index][row]


def coalesce(older: ProgressSnapshot, newer: ProgressSnapshot) -> ProgressSnapshot:
    """``newer`` carrying what ``older`` (never shown) brought: its log lines, refusals and changed rows.

    Why: a snapshot names what changed since the one before it (``delta``, new ``log`` lines), and the
    GUI shows only the latest snapshot of an execution at its own pace, dropping the ones it had no time
    for; folded this way, a view that skips snapshots still updates every changed row and shows every line.
    """
    if older.execution_id != newer.execution_id:
        return newer
    delta = SnapshotDelta(
        full=older.delta.full or newer.delta.full,
        waves=tuple(sorted({*older.delta.waves, *newer.delta.waves})),
        servers=tuple(sorted({*older.delta.servers, *newer.delta.servers})),
    )
    log = (older.log + newer.log)[-COALESCED_LOG_LINES:]
    return replace(newer, log=log, refusals=older.refusals + newer.refusals, delta=delta)


def _whole(span: timedelta) -> timedelta:
    return timedelta(seconds=int(span.total_seconds()))


class ProgressTracker:
    """Builds successive snapshots of one execution, reusing the rows of servers that did not change.

    ``update`` returns None when nothing the operator sees changed (same state, same whole second on
    the running waves' clocks, no notes), so a caller can skip sending anything. ``job_log=False``: the
    snapshots' log is the ``notes`` alone (a caller that gives every line, ``views.event_log``'s, the
    servers' job-log events included), so no job-log line comes twice.
    """

    def __init__(
        self, hostnames: Mapping[str, str] | None = None, *, read_only: bool = False, job_log: bool = True
    ) -> None:
        self._hostnames = dict(hostnames or {})
        self._read_only = read_only
        self._job_log = job_log
        self._state: ExecutionState | None = None
        self._last: ProgressSnapshot | None = None
        self._sources: dict[str, ServerState] = {}
        self._checking: frozenset[str] = frozenset()  # servers of a takeover's unchecked chunks, last shown
        self._sequence = 0

    @property
    def last(self) -> ProgressSnapshot | None:
        return self._last

    def update(
        self,
        state: ExecutionState,
        now: datetime,
        *,
        notes: Sequence[LogLine] = (),
        refusals: Sequence[str] = (),
        force: bool = False,
    ) -> ProgressSnapshot | None:
        previous = self._last
        full = previous is None or previous.execution_id != state.spec.execution_id
        same_state = not full and state is self._state
        if full:
            self._sources = {}
        servers, changed, log = (
            (previous.servers, [], [])
            if same_state and previous is not None
            else self._server_rows(state, full)
        )
        medians = stage_medians(row.durations for rows in servers for row in rows)
        waves = tuple(self._wave_row(state, wave, servers[wave.index], medians, now) for wave in state.waves)
        changed_waves = tuple(
            wave.index for wave in waves if full or previous is None or previous.waves[wave.index] != wave
        )
        if not (full or force or changed or changed_waves or notes or refusals or not same_state):
            return None
        if same_state and previous is not None:
            controls, approvals = previous.controls, previous.approvals
            status, rto, running = previous.status, previous.rto_achieved, previous.drill_instances_running
            problems, end, native = previous.instance_problems, previous.end, previous.native
            steps = previous.steps
        else:
            controls = AvailableControls() if self._read_only else available_controls(state, now)
            approvals = () if self._read_only else controls.approvals
            status, rto = execution_status(state), rto_achieved(state)
            running = len(drill_instances_running(state))
            problems = instance_problems(state)
            end = end_states(state)
            native = native_view(state)
            controls = native_controls(controls, native)
            steps = step_rows(state, self._hostnames)
        self._sequence += 1
        snapshot = ProgressSnapshot(
            execution_id=state.spec.execution_id,
            plan_name=state.spec.plan_name,
            mode=state.spec.mode,
            status=status,
            outcome=state.finished,
            started_at=state.spec.started_at,
            finished_at=state.finished_at,
            now=now,
            sequence=self._sequence,
            waves=waves,
            servers=servers,
            approvals=approvals,
            controls=controls,
            log=tuple(sorted(log, key=lambda line: line.at)) + tuple(notes),
            delta=SnapshotDelta(full=full, waves=changed_waves, servers=tuple(changed)),
            rto_target=state.spec.rto_target,
            rto_achieved=rto,
            drill_instances_running=running,
            instance_problems=problems,
            refusals=tuple(refusals),
            read_only=self._read_only,
            end=end,
            actions=len(state.audit),
            recent_actions=state.audit[-RECENT_ACTIONS:],
            cleanup_requested=state.cleanup_requested,
            credential_holds=credential_holds(state),
            native=native,
            steps=steps,
        )
        self._state = state
        self._last = snapshot
        return snapshot

    # -- servers

    def _server_rows(
        self, state: ExecutionState, full: bool
    ) -> tuple[tuple[tuple[ServerRow, ...], ...], list[tuple[int, int]], list[LogLine]]:
        previous = self._last.servers if self._last is not None and not full else None
        sources = self._sources
        checking = frozenset(s for c in unchecked_chunks(state) for s in c.server_ids)
        shown, self._checking = self._checking, checking
        changed: list[tuple[int, int]] = []
        log: list[LogLine] = []
        waves: list[tuple[ServerRow, ...]] = []
        for wave_index, wave in enumerate(state.spec.waves):
            rows: list[ServerRow] = []
            for row_index, server_id in enumerate(wave.server_ids):
                server = state.servers[server_id]
                old = sources.get(server_id)
                if previous is not None and old is server and (server_id in checking) == (server_id in shown):
                    rows.append(previous[wave_index][row_index])
                    continue
                sources[server_id] = server
                if self._job_log:
                    log.extend(self._new_log_lines(server, old))
                row = self._server_row(server, row_index)
                if server_id in checking and server.status is ServerStatus.PENDING:
                    row = replace(row, phase=CHECKING_PHASE)
                if previous is not None and previous[wave_index][row_index] == row:
                    rows.append(previous[wave_index][row_index])  # a new object, the same facts
                    continue
                rows.append(row)
                changed.append((wave_index, row_index))
            waves.append(tuple(rows))
        return tuple(waves), changed, log

    def _server_row(self, server: ServerState, row: int) -> ServerRow:
        times = milestones(server)
        found = current_stage(times) if server.status is ServerStatus.LAUNCHING else None
        last = max(server.phase_times.items(), key=lambda item: item[1], default=None)
        return ServerRow(
            server_id=server.server_id,
            hostname=self._hostnames.get(server.server_id, ""),
            wave_index=server.wave_index,
            row=row,
            critical=server.critical,
            status=server.status,
            phase=server_phase(server, times),
            progress=server_progress(server, times),
            job_id=server.job_id,
            last_event=last[0] if last else "",
            last_event_at=last[1] if last else None,
            recovery_instance_id=server.recovery_instance_id,
            ec2_instance_id=server.ec2_instance_id,
            reason=server.reason,
            retries=server.retries,
            queued_at=server.queued_at,
            started_at=server.start_requested_at or server.job_started_at,
            ended_at=server.ready_at or server.failed_at,
            stage=found[0] if found else None,
            stage_started_at=found[1] if found else None,
            durations=stage_durations(times),
            waiting=waiting_text(server),
            earlier=tuple(
                (min(a.phase_times.values()), max(a.phase_times.values()), a.status)
                for a in server.attempts
                if a.phase_times
            ),
            target=server.target,
        )

    def _new_log_lines(self, server: ServerState, old: ServerState | None) -> list[LogLine]:
        seen = old.phase_times if old is not None and old.job_id == server.job_id else {}
        if server.phase_times is seen:
            return []
        label = self._hostnames.get(server.server_id)
        who = f"{label} ({server.server_id})" if label else server.server_id
        return [
            LogLine(at=at, text=f"{who}  {event}", server_id=server.server_id, event=event)
            for event, at in server.phase_times.items()
            if event not in seen
        ]

    # -- waves

    def _wave_row(
        self,
        state: ExecutionState,
        wave: WaveState,
        rows: Sequence[ServerRow],
        medians: Durations,
        now: datetime,
    ) -> WaveRow:
        counts = _counts(rows)
        ended = wave.completed_at or wave.skipped_at
        if ended is None and wave.started_at is not None and state.finished_at is not None:
            ended = state.finished_at
        elapsed = None
        if wave.started_at is not None:
            elapsed = _whole(max(timedelta(0), (ended or now) - wave.started_at))
        held = wave_failed(state, wave.index) and is_held(state)
        busy = (
            state.finished is None
            and state.stop is None
            and bool(wave_waiting_text(state.wave_servers(wave.index)))
        )
        eta = None
        # No estimate while the wave waits on a person or on another job, or the run is being cancelled
        # (the wave will not complete): it would count down to a launch that is not coming.
        if (
            wave.phase is WavePhase.LAUNCHING
            and state.finished is None
            and not (held or busy or state.paused or state.stop is not None)
        ):
            eta = wave_eta(((r.status, r.stage, r.stage_started_at) for r in rows), medians, now)
        progress = round(sum(r.progress for r in rows) / len(rows)) if rows else 100
        if wave.phase in (WavePhase.BLOCKED, WavePhase.BEFORE):
            progress = 0
        final, detail = wave_end(state, wave.index) or ("", _wave_detail(state, wave, now))
        return WaveRow(
            index=wave.index,
            name=wave.name,
            phase=wave.phase,
            detail=detail,
            counts=counts,
            progress=progress,
            held=held,
            started_at=wave.started_at,
            ended_at=ended,
            elapsed=elapsed,
            eta=eta,
            busy=busy,
            final=final,
        )


def _counts(rows: Sequence[ServerRow]) -> WaveCounts:
    pending = running = launched = failed = not_run = 0
    for row in rows:
        status = row.status
        if status is ServerStatus.PENDING:
            pending += 1
        elif status is ServerStatus.LAUNCHED:
            if row.progress < 100:
                running += 1
            else:
                launched += 1
        elif status is ServerStatus.FAILED:
            failed += 1
        elif status in (ServerStatus.SKIPPED, ServerStatus.CANCELLED):
            not_run += 1
        else:
            running += 1
    return WaveCounts(len(rows), pending, running, launched, failed, not_run)


def _wave_detail(state: ExecutionState, wave: WaveState, now: datetime) -> str:
    checking = checking_text(state, state.wave_chunks(wave.index))
    if checking:
        return checking
    phase = wave.phase
    if phase is WavePhase.BLOCKED:
        deps = state.spec.waves[wave.index].depends_on
        return f"after {', '.join(deps)}" if deps else "waiting to start"
    if phase in (WavePhase.BEFORE, WavePhase.AFTER):
        steps = wave.steps_of(state.spec)
        if wave.step_index >= len(steps):
            return ""
        step = steps[wave.step_index]
        gate = pending_approval(state, wave)
        if gate is not None:
            return f"waiting for approval: {gate.message}"
        until = wait_until(wave, step)
        if until is not None:
            left = _whole(max(timedelta(0), until - now))
            return f"waiting until {until:%H:%M:%S} UTC ({left} left)"
        return step_wave_detail(state, wave)
    if phase is WavePhase.LAUNCHING:
        if not wave_failed(state, wave.index):
            if state.finished is not None or state.stop is not None:
                return "stopped"
            return wave_waiting_text(state.wave_servers(wave.index)) or "launching"
        # Held only while the run waits for the operator; once it stops or ends it holds nothing.
        return "held: a critical server failed" if is_held(state) else "a critical server failed"
    if phase is WavePhase.SKIPPED:
        return "skipped"
    return ""
