"""The operator's controls of a run in DRS (``engine.native``): retry, skip and cancel on their way to DRS.

A control is checked (``control_error``), queued as a ``NativeControl``, sent once (``SendNativeControl``),
and kept until the next reading shows what it did: so the same control is never sent twice. After a lost
answer or a restart it is read back first, and sent again only if the step still wants it; a reading that
shows it moot drops it and the audit says so. Pause and approvals do not exist in DRS's executions.
Pure, stdlib only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    ApprovalRejected,
    Cancel,
    Outcome,
    Pause,
    Resume,
    RetryFailed,
    SkipWave,
)
from drs_desktop.domain.engine.native_access import native_held, native_of, with_native
from drs_desktop.domain.engine.native_events import (
    NativeControlFailed,
    NativeControlSent,
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
from drs_desktop.domain.engine.queries import job_active
from drs_desktop.domain.engine.state import (
    ExecutionState,
)


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


def queue_control(state: ExecutionState, control: NativeControl) -> ExecutionState:
    native = native_of(state)
    return with_native(state, pending=(*native.pending, control))


def on_retry(state: ExecutionState, event: RetryFailed) -> ExecutionState:
    if control_error(state, event) is not None or state.stop is not None or state.finished is not None:
        return state
    where = _server_step(state, event.wave_index)
    control = NativeControl(kind=RETRY, step_index=where.index, requested_at=event.at, by=event.by)
    state = queue_control(state, control)
    return state.noting("retry", event.at, event.by, f"wave {state.waves[event.wave_index].name!r} in DRS")


def on_skip(state: ExecutionState, event: SkipWave) -> ExecutionState:
    if control_error(state, event) is not None or state.stop is not None or state.finished is not None:
        return state
    where = _server_step(state, event.wave_index)
    control = NativeControl(kind=SKIP, step_index=where.index, requested_at=event.at, by=event.by)
    state = queue_control(state, control)
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
    state = with_native(state, pending=tuple(c for c in native.pending if c.kind == CANCEL))
    for control in native.pending:
        if control.kind != CANCEL:
            what = control_what(control.kind, control.step_index)
            state = state.noting(
                f"{control.kind} given up", event.at, event.by, f"{what}: the run was cancelled"
            )
    native = native_of(state)
    if any(c.kind == CANCEL for c in native.pending):
        return state
    started = bool(native.execution_arn) or native.start_requested_at is not None
    if not started or native.status not in ("", *NATIVE_ACTIVE) or native.status == "CANCELLING":
        return state
    return queue_control(state, NativeControl(kind=CANCEL, step_index=0, requested_at=event.at, by=event.by))


def cancel_outcome(state: ExecutionState) -> Outcome | None:
    """The outcome a cancel gives a run in DRS: FAILED when DRS failed a step (None: the general rule)."""
    return Outcome.FAILED if native_held(state) else None


def on_restarted(state: ExecutionState, at: datetime) -> ExecutionState:
    """The runner stopped (or another desktop took the run over) with calls on their way: any of them may
    have reached DRS. A start is looked for before it is sent again; a control is read back first and sent
    again only if the step still wants it."""
    native = native_of(state)
    if not native.execution_arn and native.start_requested_at is not None and not native.start_refused:
        state = with_native(state, look_due=True)
        native = native_of(state)
    if not native.pending:
        return state
    return with_native(state, pending=tuple(replace(c, unknown_at=at) for c in native.pending))


def on_control_sent(state: ExecutionState, event: NativeControlSent) -> ExecutionState:
    native = native_of(state)
    key = (event.kind, event.step_index)
    pending = tuple(
        replace(c, sent=c.sent + 1, sent_at=event.at, unknown_at=None) if (c.kind, c.step_index) == key else c
        for c in native.pending
    )
    state = with_native(state, pending=pending, changed_at=event.at, quiet_reads=0)
    return state.noting(f"{event.kind} sent", event.at, "", control_what(event.kind, event.step_index))


def on_control_failed(state: ExecutionState, event: NativeControlFailed) -> ExecutionState:
    native = native_of(state)
    key = (event.kind, event.step_index)
    if event.definite:
        rest = tuple(c for c in native.pending if (c.kind, c.step_index) != key)
        state = with_native(state, pending=rest)
        what = control_what(event.kind, event.step_index)
        return state.noting(f"{event.kind} refused", event.at, "DRS", f"{what}: {event.reason}")
    pending = tuple(
        replace(c, sent=c.sent + 1, unknown_at=event.at) if (c.kind, c.step_index) == key else c
        for c in native.pending
    )
    return with_native(state, pending=pending)


def control_what(kind: str, step_index: int) -> str:
    return "the execution" if kind == CANCEL else f"step {step_index}"


def settle_controls(state: ExecutionState) -> ExecutionState:
    """Controls a reading shows done (sent before it) or moot (done by an earlier call whose answer was
    lost, or by someone else): dropped, never sent again."""
    native = native_of(state)
    keep = tuple(c for c in native.pending if not _seen_done(native, c) and _still_wanted(native, c))
    # This reading is the read-back any control with a lost answer waited for: it goes out again now.
    keep = tuple(replace(c, unknown_at=None) for c in keep)
    if keep == native.pending:
        return state
    state = with_native(state, pending=keep)
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
        what = control_what(control.kind, control.step_index)
        state = state.noting(action, at, "DRS", f"{what}: {lost}{now}")
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
