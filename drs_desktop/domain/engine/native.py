"""A run in DRS: a native recovery plan execution, followed by the same engine as a local run.

DRS starts every job of a native execution itself; the desktop never calls StartRecovery for it. What the
desktop does is what it does for a local run once a job exists, so the run is an ordinary execution whose
spec carries ``native`` (``engine.native_state``):
- it starts the execution once (``StartNative``, with a client token: a resend after a lost answer returns
  the execution the first call started), or attaches to one already running (``NativeStarted(attached)``);
- it reads the execution and its steps (``PollNative`` -> ``NativeObserved``) at the engine's adaptive
  pace. Each SERVER step is a wave; each DRS job a step shows for its servers is adopted as a chunk's job
  (a retry's new job as a new chunk), so DescribeJobs, the job log, the recovery instances, the evidence
  and a drill's cleanup work as they do for a local run. Cleanup terminates only the instances of those
  jobs: DRS's native plans never terminate what a drill launched;
- wave phases follow the step statuses (a WAIT step is its wave's before or after step); nothing moves a
  wave but a reading (``waves.settle`` leaves a run in DRS alone);
- a FAILED execution holds the run, as a critical failure holds a local one: the operator retries the
  failed step, skips it, or cancels (which, DRS refusing to cancel a FAILED execution, ends the run here as
  FAILED). Retry, skip and cancel are queued as ``NativeControl`` and sent once
  (``SendNativeControl``); none takes a token, so after a lost answer the execution is read again and the
  control is sent again only if the step still wants it;
- pause and approvals do not exist in DRS's native executions and are refused;
- the run finishes when DRS is done (COMPLETED or CANCELLED, or FAILED with the operator's cancel), every
  job it adopted has ended and every instance lookup is done.
Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from drs_desktop.domain.engine.commands import (
    Command,
    FindNative,
    PollNative,
    Record,
    SendNativeControl,
    StartNative,
)
from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    ApprovalRejected,
    Cancel,
    Outcome,
    Pause,
    Resume,
    RetryFailed,
    SkipWave,
    StepPhase,
)
from drs_desktop.domain.engine.grace import jobs_in_flight
from drs_desktop.domain.engine.instances import lookups_pending
from drs_desktop.domain.engine.native_drift import not_found, note_drift
from drs_desktop.domain.engine.native_events import (
    NativeControlFailed,
    NativeControlSent,
    NativeLooked,
    NativeObserved,
    NativeStarted,
    NativeStartFailed,
    NativeStartRequested,
    NativeStepSeen,
)
from drs_desktop.domain.engine.native_state import (
    CANCEL,
    NATIVE_ACTIVE,
    RETRY,
    SKIP,
    STEP_FAILED,
    NativeControl,
    NativeRunState,
    NativeStepMap,
)
from drs_desktop.domain.engine.observe import abandon, adopt_job, fail, reset_for_retry
from drs_desktop.domain.engine.polling import after_read_ok, backoff_delay, poll_interval
from drs_desktop.domain.engine.queries import job_active
from drs_desktop.domain.engine.state import (
    ChunkState,
    ChunkStatus,
    ExecutionState,
    ServerState,
    ServerStatus,
    StepRecord,
    StopRequest,
    WavePhase,
    WaveState,
    chunk_id_for,
)

#: The tag a started native execution carries: which execution of this desktop's it is.
TAG_EXECUTION = "drs-desktop:execution"
#: How far before a start's intent a look for its execution begins (DRS's clock may be read late).
LOOK_MARGIN = timedelta(minutes=5)
#: Step statuses after which a step does nothing more by itself.
_STEP_OVER = ("COMPLETED", "SKIPPED", "FAILED", "TIMED_OUT")


def is_native(state: ExecutionState) -> bool:
    return state.native is not None


def native_of(state: ExecutionState) -> NativeRunState:
    assert state.native is not None, "not a run in DRS"
    return state.native


def native_held(state: ExecutionState) -> bool:
    """DRS failed a step and waits for a retry or a skip: the run is held for the operator."""
    return state.native is not None and state.native.status == "FAILED" and state.stop is None


def _with(state: ExecutionState, **changes: Any) -> ExecutionState:
    return replace(state, native=replace(native_of(state), **changes))


# -- starting


def on_start_requested(state: ExecutionState, event: NativeStartRequested) -> ExecutionState:
    native = native_of(state)
    if native.execution_arn:
        return state
    return _with(
        state,
        start_requested_at=native.start_requested_at or event.at,
        start_attempts=native.start_attempts + 1,
        start_not_before=None,
        look_due=True,  # until DRS answers, the outcome of this start is unknown
    )


def on_started(state: ExecutionState, event: NativeStarted) -> ExecutionState:
    native = native_of(state)
    if native.execution_arn:
        return state
    state = _with(
        state, execution_arn=event.execution_arn, changed_at=event.at, start_not_before=None, look_due=False
    )
    how = "attached to" if event.attached else "started"
    return state.noting("run in DRS", event.at, "", f"{how} {event.execution_arn}")


def on_start_failed(state: ExecutionState, event: NativeStartFailed) -> ExecutionState:
    native = native_of(state)
    if native.execution_arn or native.start_refused:
        return state
    if event.definite:
        state = _with(state, start_refused=event.reason or "refused", look_due=False)
        waiting = [c for c in state.chunks.values() if c.status is ChunkStatus.PLANNED]
        reason = f"DRS did not start the plan: {event.reason}"
        return abandon(state, waiting, ServerStatus.CANCELLED, reason).noting(
            "run in DRS", event.at, "", reason
        )
    seed = f"{state.spec.jitter_seed}:native-start"
    delay = max(
        timedelta(seconds=event.retry_after or 0.0),
        backoff_delay(state.spec.polling, native.start_attempts, seed),
    )
    return _with(state, start_not_before=event.at + delay)


def on_looked(state: ExecutionState, event: NativeLooked) -> ExecutionState:
    """The look before a resend: DRS has this run's execution (it is followed), or has none (the start
    is sent again, with the same token)."""
    native = native_of(state)
    if native.execution_arn:
        return state
    if event.execution_arn:
        state = _with(state, execution_arn=event.execution_arn, changed_at=event.at, look_due=False)
        return state.noting("run in DRS", event.at, "", f"found {event.execution_arn} after a lost answer")
    return _with(state, look_due=False)


# -- readings


def on_observed(state: ExecutionState, event: NativeObserved) -> ExecutionState:
    native = native_of(state)
    if not native.execution_arn or state.finished is not None or native.gone:
        return state
    if event.gone:
        return not_found(state, event.at)
    changed = event.status != native.status or event.steps != native.steps
    state = replace(state, poll=after_read_ok(state.poll))  # a good read ends a streak of failed ones
    state = _with(
        state,
        status=event.status,
        error=event.error,
        steps=event.steps,
        observed_at=event.at,
        quiet_reads=0 if changed else native.quiet_reads + 1,
        changed_at=event.at if changed else native.changed_at,
        started_at=event.started_at or native.started_at,
        completed_at=event.completed_at,
        read_after_stop=state.stop is not None,
        missing_reads=0,
    )
    state = note_drift(state, event.steps, event.at)
    state = _adopt_jobs(state, event.steps, event.at)
    state = _move_waves(state, event.at)
    skipped = {w.index for w in state.waves if w.phase is WavePhase.SKIPPED}
    waiting = [
        c
        for c in state.chunks.values()
        if c.wave_index in skipped and c.status in (ChunkStatus.PLANNED, ChunkStatus.QUEUED)
    ]
    state = abandon(state, waiting, ServerStatus.SKIPPED, "DRS skipped its step") if waiting else state
    state = _failed_without_job(state, event.at)
    state = _settle_controls(state)
    if event.status in ("CANCELLING", "CANCELLED") and state.stop is None:
        state = _cancelled_in_drs(state, event.at)
    state = _cancel_still_wanted(state)
    if event.status in ("COMPLETED", "CANCELLED"):
        waiting = [c for c in state.chunks.values() if c.status in (ChunkStatus.PLANNED, ChunkStatus.QUEUED)]
        why = "DRS skipped its step" if event.status == "COMPLETED" else "the run in DRS was cancelled"
        gone = ServerStatus.SKIPPED if event.status == "COMPLETED" else ServerStatus.CANCELLED
        state = abandon(state, waiting, gone, why)
    return state


def _cancelled_in_drs(state: ExecutionState, at: datetime) -> ExecutionState:
    """Someone cancelled the execution in DRS (the console, another desktop): the run is stopping."""
    stop = StopRequest(at=at, by="DRS", outcome=Outcome.CANCELLED, reason="cancelled in DRS")
    return replace(state, stop=stop).noting("cancel", at, "DRS", "the execution was cancelled in DRS")


def _cancel_still_wanted(state: ExecutionState) -> ExecutionState:
    """The run is stopping but DRS runs its execution (a retry whose answer was lost went through
    before the cancel, someone retried the held run in the console, the cancel came before the attach was
    recorded): DRS is asked to cancel, once a reading shows it at work and no cancel is on its way."""
    native = native_of(state)
    if state.stop is None or native.status not in ("CREATED", "IN_PROGRESS"):
        return state
    if any(c.kind == CANCEL for c in native.pending):
        return state
    control = NativeControl(kind=CANCEL, step_index=0, requested_at=state.stop.at, by=state.stop.by)
    return _queue(state, control)


def _adopt_jobs(state: ExecutionState, steps: Iterable[NativeStepSeen], at: datetime) -> ExecutionState:
    """Every DRS job a SERVER step shows that this run does not follow yet becomes a chunk's job."""
    spec = state.spec.native
    assert spec is not None
    for step in steps:
        where = spec.step(step.index)
        if where is None or where.kind != "SERVER" or step.kind != "SERVER":
            continue
        by_job: dict[str, list[str]] = {}
        for server in step.servers:
            known = state.servers.get(server.server_id)
            if server.job_id and known is not None and known.wave_index == where.wave_index:
                by_job.setdefault(server.job_id, []).append(server.server_id)
        for job_id, members in by_job.items():
            if job_id in state.jobs or job_id in state.terminate_jobs:
                continue
            state = _adopt(state, where.wave_index, job_id, tuple(members), at)
    return state


def _failed_without_job(state: ExecutionState, at: datetime) -> ExecutionState:
    """DRS failed a SERVER step before it started a job for some of its servers (it could not start one:
    a server busy in another job, a quota): they are FAILED with DRS's reason, not left waiting."""
    spec = state.spec.native
    assert spec is not None
    waiting = (ChunkStatus.PLANNED, ChunkStatus.QUEUED)
    for step in native_of(state).steps:
        where = spec.step(step.index)
        if where is None or where.kind != "SERVER" or step.status not in STEP_FAILED:
            continue
        jobless = {s.server_id for s in step.servers if not s.job_id}
        chunks = [
            c
            for c in state.wave_chunks(where.wave_index)
            if c.status in waiting and jobless & set(c.server_ids)
        ]
        if not chunks:
            continue
        reason = f"DRS failed its step before launching it: {step.error or step.status.lower()}"
        failed = [
            fail(state.servers[s], reason, step.updated_at or at)
            for c in chunks
            for s in c.server_ids
            if state.servers[s].status is ServerStatus.PENDING
        ]
        abandoned = [replace(c, status=ChunkStatus.ABANDONED, reason=reason) for c in chunks]
        state = state.with_chunks(*abandoned).with_servers(*failed)
    return state


def _adopt(
    state: ExecutionState, wave_index: int, job_id: str, members: tuple[str, ...], at: datetime
) -> ExecutionState:
    waiting = (ChunkStatus.PLANNED, ChunkStatus.QUEUED)
    chunks = [c for c in state.wave_chunks(wave_index) if c.status in waiting]
    same = next((c for c in chunks if set(c.server_ids) == set(members)), None)
    if same is not None:
        return adopt_job(state, same, job_id, at)
    # A retry's job, or a job with some of a step's servers: a chunk of its own, taken out of the one
    # that planned them.
    wave = state.waves[wave_index]
    taken = set(members)
    shrunk = []
    for chunk in chunks:
        if taken & set(chunk.server_ids):
            rest = tuple(s for s in chunk.server_ids if s not in taken)
            status = chunk.status if rest else ChunkStatus.ABANDONED
            reason = chunk.reason if rest else "DRS launched its servers in another job"
            shrunk.append(replace(chunk, server_ids=rest, status=status, reason=reason))
    chunk = ChunkState(
        chunk_id=chunk_id_for(wave_index, wave.next_chunk_seq),
        wave_index=wave_index,
        seq=wave.next_chunk_seq,
        server_ids=members,
        status=ChunkStatus.PLANNED,
        is_retry=any(_attempted(state.servers[s]) for s in members),
        queued_at=at,
    )
    servers = [
        reset_for_retry(state.servers[s], chunk.chunk_id, at)
        if _attempted(state.servers[s])
        else state.servers[s]
        for s in members
    ]
    state = state.with_wave(replace(wave, next_chunk_seq=wave.next_chunk_seq + 1))
    state = state.with_chunks(*shrunk, chunk).with_servers(*servers)
    return adopt_job(state, chunk, job_id, at)


def _attempted(server: ServerState) -> bool:
    """The server had an attempt already: a job, or a step DRS failed before it started one."""
    return bool(server.job_id) or server.status is ServerStatus.FAILED


def _status_of(state: ExecutionState, where: NativeStepMap) -> NativeStepSeen | None:
    return native_of(state).step(where.index)


def _move_waves(state: ExecutionState, at: datetime) -> ExecutionState:
    """Each wave's phase as its native steps say (nothing else moves a wave in a run in DRS)."""
    spec = state.spec.native
    assert spec is not None
    for wave in state.waves:
        mine = [s for s in spec.steps if s.wave_index == wave.index]
        state = state.with_wave(_wave_from_steps(state, wave, mine, at))
    return state


def _wave_from_steps(
    state: ExecutionState, wave: WaveState, mine: list[NativeStepMap], at: datetime
) -> WaveState:
    server = next(s for s in mine if s.kind == "SERVER")
    before = [s for s in mine if s.kind == "WAIT" and s.phase == "BEFORE"]
    after = [s for s in mine if s.kind == "WAIT" and s.phase == "AFTER"]
    seen = _status_of(state, server)
    status = seen.status if seen is not None else "NOT_STARTED"
    wave = _record_waits(state, wave, before, StepPhase.BEFORE, at)
    wave = _record_waits(state, wave, after, StepPhase.AFTER, at)
    when = (seen.updated_at if seen is not None else None) or at
    if status == "SKIPPED":
        skipped_at = wave.skipped_at or when
        return replace(wave, phase=WavePhase.SKIPPED, skipped_at=skipped_at, step_started_at=None)
    if status in ("EXECUTING", *STEP_FAILED):
        return replace(
            wave,
            phase=WavePhase.LAUNCHING,
            started_at=wave.started_at or when,
            launch_started_at=wave.launch_started_at or when,
            step_started_at=None,
        )
    if status == "COMPLETED":
        wave = replace(
            wave,
            started_at=wave.started_at or when,
            launch_started_at=wave.launch_started_at or when,
            launch_completed_at=wave.launch_completed_at or when,
        )
        return _in_steps(state, wave, after, WavePhase.AFTER, at) or replace(
            wave, phase=WavePhase.COMPLETED, completed_at=wave.completed_at or at, step_started_at=None
        )
    begun = [s for s in before if (_status_of(state, s) or _NOT_STARTED).status != "NOT_STARTED"]
    if begun:
        wave = replace(wave, started_at=wave.started_at or at)
        found = _in_steps(state, wave, before, WavePhase.BEFORE, at)
        if found is not None:
            return found
        return replace(wave, phase=WavePhase.BEFORE, step_index=len(before), step_started_at=None)
    return replace(wave, phase=WavePhase.BLOCKED)


_NOT_STARTED = NativeStepSeen(index=0, arn="", name="", kind="", status="NOT_STARTED")


def _in_steps(
    state: ExecutionState, wave: WaveState, steps: list[NativeStepMap], phase: WavePhase, at: datetime
) -> WaveState | None:
    """The wave at its first wait step of ``steps`` that is not over (None: every one is)."""
    for where in steps:
        seen = _status_of(state, where) or _NOT_STARTED
        if seen.status in _STEP_OVER:
            continue
        started = None
        if seen.status == "WAITING":
            # DRS's listing has no update time: the wait began when a reading first saw it waiting.
            same = wave.phase is phase and wave.step_index == where.step_index
            started = (wave.step_started_at if same else None) or seen.updated_at or at
        return replace(wave, phase=phase, step_index=where.step_index, step_started_at=started)
    return None


def _record_waits(
    state: ExecutionState, wave: WaveState, steps: list[NativeStepMap], phase: StepPhase, at: datetime
) -> WaveState:
    """A wait DRS has ended joins the wave's finished steps (evidence), once."""
    done = {(r.phase, r.step_index) for r in wave.steps}
    records = list(wave.steps)
    for where in steps:
        seen = _status_of(state, where)
        if seen is None or seen.status != "COMPLETED" or (phase, where.step_index) in done:
            continue
        minutes = seen.wait_minutes or where.wait_minutes or 0
        began = (
            wave.step_started_at
            if wave.step_phase() is phase and wave.step_index == where.step_index
            else None
        )
        # A reading sees the end late (by up to its interval): a wait seen begin ends its minutes later.
        ended = seen.updated_at or (began + timedelta(minutes=minutes) if began is not None else at)
        records.append(
            StepRecord(
                phase=phase,
                step_index=where.step_index,
                kind="wait",
                started_at=began or ended - timedelta(minutes=minutes),
                ended_at=min(ended, at),
            )
        )
    return replace(wave, steps=tuple(records)) if len(records) != len(wave.steps) else wave


# -- the operator's controls


def control_error(state: ExecutionState, event: object) -> str | None:
    """Why a control cannot go to DRS now (None: it may). Called for a run in DRS before the general
    checks of ``reducer.control_error``, which still apply (a finished run, one already stopping)."""
    native = native_of(state)
    if isinstance(event, Pause | Resume):
        return "a run in DRS cannot be paused: DRS's executions have no pause (cancel stops it)"
    if isinstance(event, ApprovalGranted | ApprovalRejected):
        return "a run in DRS has no approval steps"
    if isinstance(event, RetryFailed | SkipWave):
        if state.finished is not None or state.stop is not None:
            return None  # the general checks say why
        if not 0 <= event.wave_index < len(state.waves):
            return f"there is no wave {event.wave_index + 1}"
        wave = state.waves[event.wave_index]
        where = _server_step(state, event.wave_index)
        seen = native.step(where.index)
        status = seen.status if seen is not None else "NOT_STARTED"
        kind = RETRY if isinstance(event, RetryFailed) else SKIP
        if any(c.kind == kind and c.step_index == where.index for c in native.pending):
            return f"a {kind} of wave {wave.name!r} is already on its way to DRS (or sent, not yet seen done)"
        if isinstance(event, RetryFailed):
            if event.server_ids is not None:
                return (
                    "a run in DRS retries a whole step: DRS launches again the servers of it that did "
                    "not launch"
                )
            if status not in STEP_FAILED or native.status != "FAILED":
                return (
                    f"wave {wave.name!r} is {status.lower().replace('_', ' ')} in DRS: only a failed step "
                    "of a held run is retried"
                )
            # DRS fails a step once its job ended; a step it timed out may still have its job at work.
            jobs = {s.job_id for s in state.wave_servers(wave.index) if s.job_id}
            running = sorted(j for j in jobs if job_active(state.jobs[j]))
            if status == "TIMED_OUT" and running:
                return (
                    f"wave {wave.name!r}: its DRS job {', '.join(running)} is still running (DRS timed the "
                    "step out, not the job): retry once it has ended, or skip the wave"
                )
            return None
        if status not in ("NOT_STARTED", *STEP_FAILED) or native.status not in ("FAILED", *NATIVE_ACTIVE):
            return f"wave {wave.name!r} is {status.lower().replace('_', ' ')} in DRS and cannot be skipped"
        if native.status == "CANCELLING":
            return "the run in DRS is being cancelled"
        return None
    return None


def _server_step(state: ExecutionState, wave_index: int) -> NativeStepMap:
    spec = state.spec.native
    assert spec is not None
    where = spec.server_step(wave_index)
    assert where is not None, "spec_problems: every wave is one server step"
    return where


def _queue(state: ExecutionState, control: NativeControl) -> ExecutionState:
    native = native_of(state)
    return _with(state, pending=(*native.pending, control))


def on_retry(state: ExecutionState, event: RetryFailed) -> ExecutionState:
    if control_error(state, event) is not None or state.stop is not None or state.finished is not None:
        return state
    where = _server_step(state, event.wave_index)
    control = NativeControl(kind=RETRY, step_index=where.index, requested_at=event.at, by=event.by)
    state = _queue(state, control)
    return state.noting("retry", event.at, event.by, f"wave {state.waves[event.wave_index].name!r} in DRS")


def on_skip(state: ExecutionState, event: SkipWave) -> ExecutionState:
    if control_error(state, event) is not None or state.stop is not None or state.finished is not None:
        return state
    where = _server_step(state, event.wave_index)
    control = NativeControl(kind=SKIP, step_index=where.index, requested_at=event.at, by=event.by)
    state = _queue(state, control)
    detail = f"wave {state.waves[event.wave_index].name!r} in DRS" + (
        f": {event.reason}" if event.reason else ""
    )
    return state.noting("skip", event.at, event.by, detail)


def on_cancel(state: ExecutionState, event: Cancel) -> ExecutionState:
    """After ``reducer``'s own cancel: DRS is asked to cancel, unless its execution is FAILED (DRS refuses
    that: the run ends here as FAILED) or over. A start whose answer is unknown is resolved first (its
    token is sent again), then cancelled."""
    if state.stop is None:
        return state
    # A retry or skip not yet sent is given up: it would relaunch servers of a stopped run. One whose
    # answer was lost is settled by the next reading (DRS at work again: it is cancelled).
    native = native_of(state)
    state = _with(state, pending=tuple(c for c in native.pending if c.kind == CANCEL))
    for control in native.pending:
        if control.kind != CANCEL:
            what = _what(control.kind, control.step_index)
            state = state.noting(
                f"{control.kind} given up", event.at, event.by, f"{what}: the run was cancelled"
            )
    native = native_of(state)
    if any(c.kind == CANCEL for c in native.pending):
        return state
    started = bool(native.execution_arn) or native.start_requested_at is not None
    if not started or native.status not in ("", *NATIVE_ACTIVE) or native.status == "CANCELLING":
        return state
    return _queue(state, NativeControl(kind=CANCEL, step_index=0, requested_at=event.at, by=event.by))


def cancel_outcome(state: ExecutionState) -> Outcome | None:
    """The outcome a cancel gives a run in DRS: FAILED when DRS failed a step (None: the general rule)."""
    return Outcome.FAILED if native_held(state) else None


def on_restarted(state: ExecutionState, at: datetime) -> ExecutionState:
    """The runner stopped (or another desktop took the run over) with calls on their way: any of them may
    have reached DRS. A start is looked for before it is sent again; a control is read back first and sent
    again only if the step still wants it."""
    native = native_of(state)
    if not native.execution_arn and native.start_requested_at is not None and not native.start_refused:
        state = _with(state, look_due=True)
        native = native_of(state)
    if not native.pending:
        return state
    return _with(state, pending=tuple(replace(c, unknown_at=at) for c in native.pending))


def on_control_sent(state: ExecutionState, event: NativeControlSent) -> ExecutionState:
    native = native_of(state)
    key = (event.kind, event.step_index)
    pending = tuple(
        replace(c, sent=c.sent + 1, sent_at=event.at, unknown_at=None) if (c.kind, c.step_index) == key else c
        for c in native.pending
    )
    state = _with(state, pending=pending, changed_at=event.at, quiet_reads=0)
    return state.noting(f"{event.kind} sent", event.at, "", _what(event.kind, event.step_index))


def on_control_failed(state: ExecutionState, event: NativeControlFailed) -> ExecutionState:
    native = native_of(state)
    key = (event.kind, event.step_index)
    if event.definite:
        rest = tuple(c for c in native.pending if (c.kind, c.step_index) != key)
        state = _with(state, pending=rest)
        what = _what(event.kind, event.step_index)
        return state.noting(f"{event.kind} refused", event.at, "DRS", f"{what}: {event.reason}")
    pending = tuple(
        replace(c, sent=c.sent + 1, unknown_at=event.at) if (c.kind, c.step_index) == key else c
        for c in native.pending
    )
    return _with(state, pending=pending)


def _what(kind: str, step_index: int) -> str:
    return "the execution" if kind == CANCEL else f"step {step_index}"


def _settle_controls(state: ExecutionState) -> ExecutionState:
    """Controls a reading shows done (sent before it) or moot (done by an earlier call whose answer was
    lost, or by someone else): dropped, never sent again."""
    native = native_of(state)
    keep = tuple(c for c in native.pending if not _seen_done(native, c) and _still_wanted(native, c))
    # This reading is the read-back any control with a lost answer waited for: it goes out again now.
    keep = tuple(replace(c, unknown_at=None) for c in keep)
    if keep == native.pending:
        return state
    state = _with(state, pending=keep)
    at = native.observed_at or native.changed_at or state.spec.started_at
    for control in native.pending:
        if _seen_done(native, control) or _still_wanted(native, control):
            continue
        seen = native.step(control.step_index)
        now = f"DRS shows the execution {native.status.lower() or 'not started'}"
        if control.kind != CANCEL and seen is not None:
            now += f" and step {control.step_index} {seen.status.lower().replace('_', ' ')}"
        action = f"{control.kind} not sent" + (" again" if control.unknown_at is not None else "")
        lost = "its answer was lost or cut off; " if control.unknown_at is not None else ""
        state = state.noting(action, at, "DRS", f"{_what(control.kind, control.step_index)}: {lost}{now}")
    return state


def _seen_done(native: NativeRunState, control: NativeControl) -> bool:
    """DRS accepted the control, and this reading (journaled after it: the runner is serial, so its calls
    went out after DRS's answer) shows what it did."""
    return control.sent_at is not None


def _still_wanted(native: NativeRunState, control: NativeControl) -> bool:
    if control.kind == CANCEL:
        return native.status in ("", "CREATED", "IN_PROGRESS")
    seen = native.step(control.step_index)
    status = seen.status if seen is not None else "NOT_STARTED"
    if control.kind == RETRY:
        return status in STEP_FAILED and native.status == "FAILED"
    return status in ("NOT_STARTED", *STEP_FAILED) and native.status in ("FAILED", "CREATED", "IN_PROGRESS")


# -- deciding


def read_due(state: ExecutionState, now: datetime) -> datetime | None:
    """When the execution is read next: at the engine's adaptive pace while DRS works, at once after a
    control went out or its answer was lost; never again once DRS is done and nothing is pending."""
    native = native_of(state)
    if not native.execution_arn or state.finished is not None or native.gone:
        return None
    if native.done and not native.pending:
        return None
    if native.observed_at is None:
        due = now
    else:
        # A control DRS accepted, or whose answer was lost, waits for a reading (the next one drops it or
        # lets it go out again); so does a stop. Ordered by the journal, not by times that may be equal.
        waiting = any(c.sent_at is not None or c.unknown_at is not None for c in native.pending)
        stopped_since = state.stop is not None and not native.read_after_stop
        if waiting or stopped_since:
            due = now
        else:
            due = native.observed_at + poll_interval(state.spec.polling, native.quiet_reads)
    not_before = state.poll.not_before
    return max(due, not_before) if not_before is not None else due


def decide_native(state: ExecutionState, now: datetime) -> list[Command]:
    """Starting the execution, its controls and its readings (DescribeJobs, the job logs, instances and
    cleanup are decided for its jobs as for a local run's, by ``engine.decide``)."""
    native = native_of(state)
    spec = state.spec.native
    assert spec is not None
    if state.auth_problem or (state.poll.not_before is not None and now < state.poll.not_before):
        return []
    if not native.execution_arn and spec.execution_arn:  # attached to an execution started elsewhere
        return [Record(event=NativeStarted(execution_arn=spec.execution_arn, at=now, attached=True))]
    if not native.execution_arn:
        if native.start_refused or (state.stop is not None and native.start_requested_at is None):
            return []  # refused, or cancelled before anything was sent: nothing to start
        if native.start_not_before is not None and now < native.start_not_before:
            return []
        if native.look_due and native.start_requested_at is not None:
            since = native.start_requested_at - LOOK_MARGIN
            return [
                FindNative(plan_arn=spec.plan_arn, since=since, tag=(TAG_EXECUTION, state.spec.execution_id))
            ]
        return [
            StartNative(
                plan_arn=spec.plan_arn,
                mode=state.spec.mode.value,
                client_token=spec.client_token,
                tags={TAG_EXECUTION: state.spec.execution_id},
            )
        ]
    commands: list[Command] = []
    for control in native.pending:
        if control.sent_at is not None:
            continue  # accepted: the next reading shows what it did
        if control.unknown_at is not None:
            continue  # read back first: the next reading clears the mark if DRS still wants it
        seen = native.step(control.step_index)
        commands.append(
            SendNativeControl(
                kind=control.kind,
                step_index=control.step_index,
                step_arn=seen.arn if seen is not None else "",
                execution_arn=native.execution_arn,
            )
        )
        break
    due = read_due(state, now)
    if due is not None and now >= due:
        commands.append(PollNative(execution_arn=native.execution_arn))
    return commands


def spec_arn(state: ExecutionState) -> str:
    return state.spec.native.execution_arn if state.spec.native is not None else ""


def native_wake_at(state: ExecutionState, now: datetime) -> datetime | None:
    native = native_of(state)
    times = [t for t in (read_due(state, now), native.start_not_before) if t is not None and t > now]
    return min(times) if times else None


def finish_outcome(state: ExecutionState) -> Outcome | None:
    """The outcome a run in DRS finishes with now, or None while DRS or a job of it is still at work."""
    native = native_of(state)
    if state.finished is not None:
        return None
    if native.start_refused:
        return Outcome.FAILED
    if not native.execution_arn:
        if state.stop is not None and native.start_requested_at is None and not spec_arn(state):
            return state.stop.outcome
        return None
    if native.pending or jobs_in_flight(state) or lookups_pending(state):
        return None
    if any(s.status in (ServerStatus.STARTING, ServerStatus.LAUNCHING) for s in state.servers.values()):
        return None
    if native.gone:
        return Outcome.FAILED
    if native.status == "COMPLETED":
        return Outcome.SUCCEEDED
    if native.status == "CANCELLED":
        return state.stop.outcome if state.stop is not None else Outcome.CANCELLED
    if native.status == "FAILED" and state.stop is not None and native.read_after_stop:
        return Outcome.FAILED  # DRS refuses to cancel a FAILED execution: it ends here
    return None
