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

from dataclasses import replace
from datetime import datetime, timedelta

from drs_desktop.domain.engine.commands import (
    Command,
    FindNative,
    PollNative,
    Record,
    SendNativeControl,
    StartNative,
)
from drs_desktop.domain.engine.events import (
    Outcome,
)
from drs_desktop.domain.engine.grace import jobs_in_flight
from drs_desktop.domain.engine.instances import lookups_pending
from drs_desktop.domain.engine.native_access import native_held, native_of, with_native
from drs_desktop.domain.engine.native_controls import (
    cancel_outcome,
    control_error,
    on_cancel,
    on_control_failed,
    on_control_sent,
    on_restarted,
    on_retry,
    on_skip,
    queue_control,
    settle_controls,
)
from drs_desktop.domain.engine.native_drift import not_found, note_drift
from drs_desktop.domain.engine.native_events import (
    NativeLooked,
    NativeObserved,
    NativeStarted,
    NativeStartFailed,
    NativeStartRequested,
)
from drs_desktop.domain.engine.native_state import (
    CANCEL,
    NativeControl,
)
from drs_desktop.domain.engine.native_waves import adopt_jobs, failed_without_job, move_waves
from drs_desktop.domain.engine.observe import abandon
from drs_desktop.domain.engine.polling import after_read_ok, backoff_delay, poll_interval
from drs_desktop.domain.engine.state import (
    ChunkStatus,
    ExecutionState,
    ServerStatus,
    StopRequest,
    WavePhase,
)

__all__ = [
    "cancel_outcome",
    "control_error",
    "decide_native",
    "finish_outcome",
    "native_held",
    "native_wake_at",
    "on_cancel",
    "on_control_failed",
    "on_control_sent",
    "on_looked",
    "on_observed",
    "on_restarted",
    "on_retry",
    "on_skip",
    "on_start_failed",
    "on_start_requested",
    "on_started",
]

#: The tag a started native execution carries: which execution of this desktop's it is.
TAG_EXECUTION = "drs-desktop:execution"

#: How far before a start's intent a look for its execution begins (DRS's clock may be read late).
LOOK_MARGIN = timedelta(minutes=5)


def on_start_requested(state: ExecutionState, event: NativeStartRequested) -> ExecutionState:
    native = native_of(state)
    if native.execution_arn:
        return state
    return with_native(
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
    state = with_native(
        state, execution_arn=event.execution_arn, changed_at=event.at, start_not_before=None, look_due=False
    )
    how = "attached to" if event.attached else "started"
    return state.noting("run in DRS", event.at, "", f"{how} {event.execution_arn}")


def on_start_failed(state: ExecutionState, event: NativeStartFailed) -> ExecutionState:
    native = native_of(state)
    if native.execution_arn or native.start_refused:
        return state
    if event.definite:
        state = with_native(state, start_refused=event.reason or "refused", look_due=False)
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
    return with_native(state, start_not_before=event.at + delay)


def on_looked(state: ExecutionState, event: NativeLooked) -> ExecutionState:
    """The look before a resend: DRS has this run's execution (it is followed), or has none (the start
    is sent again, with the same token)."""
    native = native_of(state)
    if native.execution_arn:
        return state
    if event.execution_arn:
        state = with_native(state, execution_arn=event.execution_arn, changed_at=event.at, look_due=False)
        return state.noting("run in DRS", event.at, "", f"found {event.execution_arn} after a lost answer")
    return with_native(state, look_due=False)


def on_observed(state: ExecutionState, event: NativeObserved) -> ExecutionState:
    native = native_of(state)
    if not native.execution_arn or state.finished is not None or native.gone:
        return state
    if event.gone:
        return not_found(state, event.at)
    changed = event.status != native.status or event.steps != native.steps
    state = replace(state, poll=after_read_ok(state.poll))  # a good read ends a streak of failed ones
    state = with_native(
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
    state = adopt_jobs(state, event.steps, event.at)
    state = move_waves(state, event.at)
    skipped = {w.index for w in state.waves if w.phase is WavePhase.SKIPPED}
    waiting = [
        c
        for c in state.chunks.values()
        if c.wave_index in skipped and c.status in (ChunkStatus.PLANNED, ChunkStatus.QUEUED)
    ]
    state = abandon(state, waiting, ServerStatus.SKIPPED, "DRS skipped its step") if waiting else state
    state = failed_without_job(state, event.at)
    state = settle_controls(state)
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
    return queue_control(state, control)


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
