"""What an operator may do to an execution right now, and a button press turned into a control event.

The GUI enables Pause, Resume, Cancel, Retry, Skip and Approve from ``available_controls``, which asks
``engine.reducer.control_error`` (the one place the rules live) about a probe of each control: a button is
never enabled for a control the runner would refuse, and a rule changed there changes the buttons too.

A button press is a ``ControlRequest`` (what, and for which wave), not an event: the event needs the
time and the operator's name, and the time is the runner's clock (virtual in demo mode), which only the
execution's own thread has. ``control_event`` builds the event there, for the GUI and the CLI alike;
``choose_wave`` turns the wave an operator typed (a number or a name, or none: the only wave the control
can apply to) into the request's ``wave_index``. ``RunChoice`` is what the run
dialog asks for, before the services turn it into a ``RunRequest`` with the settings and the target.
Pure, stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from drs_desktop.domain.engine.accounts import credential_holds
from drs_desktop.domain.engine.automation import held_step
from drs_desktop.domain.engine.commands import AwaitApproval
from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    ApprovalRejected,
    Cancel,
    CleanupRequested,
    CredentialsRenewed,
    Event,
    Pause,
    Resume,
    RetryFailed,
    SkipWave,
    StepDecided,
)
from drs_desktop.domain.engine.queries import failed_waves, pending_approval, pending_approvals
from drs_desktop.domain.engine.reducer import control_error
from drs_desktop.domain.engine.state import ExecutionState, Mode
from drs_desktop.domain.plan.model import TestBrief

__all__ = [
    "WAVE_ACTIONS",
    "AvailableControls",
    "ControlAction",
    "ControlRequest",
    "RunChoice",
    "WaveChoiceError",
    "available_controls",
    "choose_wave",
    "control_event",
]

#: The name the probes carry: ``control_error`` wants an approver's name, any will do for a probe.
_PROBE_BY = "operator"


class ControlAction(StrEnum):
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    CANCEL = "CANCEL"
    RETRY = "RETRY"
    SKIP = "SKIP"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    CLEANUP = "CLEANUP"
    RENEW = "RENEW"  # a target's credentials were renewed: its calls may go out again
    #: A held automation step (``engine.automation``): count it as done, or fail it (and its wave).
    #: RETRY on a wave whose step is held retries the step.
    STEP_DONE = "STEP_DONE"
    STEP_FAIL = "STEP_FAIL"


#: Controls that name a wave.
WAVE_ACTIONS = frozenset(
    {
        ControlAction.RETRY,
        ControlAction.SKIP,
        ControlAction.APPROVE,
        ControlAction.REJECT,
        ControlAction.STEP_DONE,
        ControlAction.STEP_FAIL,
    }
)
#: The decision (``StepDecided.action``) each control means for a held automation step.
STEP_DECISIONS = {
    ControlAction.RETRY: "retry",
    ControlAction.STEP_DONE: "done",
    ControlAction.STEP_FAIL: "fail",
}


class WaveChoiceError(ValueError):
    """The wave a control names cannot be told: none or several could be meant, or no such wave.
    ``choices`` holds the candidate wave indexes when several could be meant (the caller says how to
    pick one)."""

    def __init__(self, message: str, choices: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.choices = choices


@dataclass(frozen=True)
class RunChoice:
    """What the operator chose in the run dialog: the plan, DRILL or RECOVERY, latest or a point in
    time (aware, UTC). ``revision`` None: the plan's latest revision."""

    plan_name: str
    mode: Mode
    point_in_time: datetime | None = None
    revision: int | None = None
    #: A drill run although its network's isolation check fails: the operator's reason ("" none).
    isolation_override: str = ""
    #: The test brief as the operator edited it before the run (issue 18); None: the plan's own.
    brief: TestBrief | None = None


@dataclass(frozen=True)
class ControlRequest:
    """A button press. ``wave_index`` for retry, skip, approve and reject; ``terminate_drill_instances``
    for a cancel; ``comment`` goes to the audit trail with an approval decision."""

    action: ControlAction
    wave_index: int | None = None
    terminate_drill_instances: bool = False
    comment: str = ""
    target: str = ""  # for a renewal: the target whose credentials were renewed ("" the connected one)


@dataclass(frozen=True)
class AvailableControls:
    """Which controls apply now. The default (nothing) is what a finished or read-only view shows."""

    pause: bool = False
    resume: bool = False
    cancel: bool = False
    cancel_terminate: bool = False  # a cancel may also terminate the drill's instances
    cleanup: bool = False  # terminate a finished (or stopping) drill's instances
    retry_waves: tuple[int, ...] = ()
    skip_waves: tuple[int, ...] = ()
    approvals: tuple[AwaitApproval, ...] = ()
    renew_targets: tuple[str, ...] = ()  # targets held for their credentials (``engine.accounts``)
    #: Waves whose automation step waits for a decision (retry, done, fail: ``engine.automation``).
    step_waves: tuple[int, ...] = ()

    def allows(self, action: ControlAction, wave_index: int | None = None) -> bool:
        """Whether ``action`` (for ``wave_index`` where it names a wave) may be sent now."""
        if action is ControlAction.RENEW:
            return bool(self.renew_targets)
        if action is ControlAction.PAUSE:
            return self.pause
        if action is ControlAction.RESUME:
            return self.resume
        if action is ControlAction.CANCEL:
            return self.cancel
        if action is ControlAction.CLEANUP:
            return self.cleanup
        if action is ControlAction.RETRY:
            return wave_index in self.retry_waves or wave_index in self.step_waves
        if action in (ControlAction.STEP_DONE, ControlAction.STEP_FAIL):
            return wave_index in self.step_waves
        if action is ControlAction.SKIP:
            return wave_index in self.skip_waves
        return any(a.wave_index == wave_index for a in self.approvals)

    def approval_for(self, wave_index: int) -> AwaitApproval | None:
        return next((a for a in self.approvals if a.wave_index == wave_index), None)


def available_controls(state: ExecutionState, at: datetime) -> AvailableControls:
    """Every control ``engine.reducer.control_error`` would accept now, found by probing each one."""

    def ok(event: Event) -> bool:
        return control_error(state, event) is None

    renew = tuple(
        hold.target
        for hold in credential_holds(state)
        if ok(CredentialsRenewed(target=hold.target, at=at, by=_PROBE_BY))
    )
    if state.finished is not None:
        return AvailableControls(cleanup=ok(CleanupRequested(at=at, by=_PROBE_BY)), renew_targets=renew)
    waves = range(len(state.waves))
    approvals = tuple(
        gate
        for gate in pending_approvals(state)
        if ok(
            ApprovalGranted(
                wave_index=gate.wave_index,
                phase=gate.phase,
                step_index=gate.step_index,
                by=_PROBE_BY,
                at=at,
            )
        )
    )
    return AvailableControls(
        pause=ok(Pause(at=at, by=_PROBE_BY)),
        resume=ok(Resume(at=at, by=_PROBE_BY)),
        cancel=ok(Cancel(at=at, by=_PROBE_BY)),
        cancel_terminate=state.is_drill and ok(Cancel(at=at, by=_PROBE_BY, terminate_drill_instances=True)),
        cleanup=ok(CleanupRequested(at=at, by=_PROBE_BY)),
        retry_waves=tuple(i for i in waves if ok(RetryFailed(wave_index=i, at=at, by=_PROBE_BY))),
        skip_waves=tuple(i for i in waves if ok(SkipWave(wave_index=i, at=at, by=_PROBE_BY))),
        approvals=approvals,
        renew_targets=renew,
        step_waves=tuple(i for i in waves if _step_decision_ok(state, i, at)),
    )


def _step_decision_ok(state: ExecutionState, wave_index: int, at: datetime) -> bool:
    held = held_step(state, wave_index)
    if held is None:
        return False
    phase, step_index, _ = held
    probe = StepDecided(wave_index=wave_index, phase=phase, step_index=step_index, action="done", at=at)
    return control_error(state, probe) is None


def choose_wave(state: ExecutionState, action: ControlAction, wanted: str | None) -> int:
    """The wave index for a wave control: the wave ``wanted`` names (its 1-based number or its name),
    or, with none named, the only wave the control can apply to (a failed one for retry and skip, one
    waiting at a gate for approve and reject). WaveChoiceError when that is no wave, or several."""
    if wanted is not None:
        if wanted.isdigit() and 1 <= int(wanted) <= len(state.waves):
            return int(wanted) - 1
        for wave in state.waves:
            if wave.name == wanted:
                return wave.index
        raise WaveChoiceError(f"no wave {wanted!r} in this execution")
    # Waves whose automation step waits for a decision: done and fail decide it, retry retries it.
    steps: dict[int, str] = {}
    if action in (ControlAction.STEP_DONE, ControlAction.STEP_FAIL, ControlAction.RETRY):
        steps = {
            w.index: held[2].name for w in state.waves if (held := held_step(state, w.index)) is not None
        }
    if action in (ControlAction.APPROVE, ControlAction.REJECT):
        candidates = tuple(w.index for w in state.waves if pending_approval(state, w) is not None)
        none, several = "no wave waits for an approval", "several waves wait for an approval"
    elif action in (ControlAction.STEP_DONE, ControlAction.STEP_FAIL):
        candidates = tuple(steps)
        none, several = "no step waits for a decision", "several steps wait for a decision"
    else:
        candidates = tuple(sorted({*failed_waves(state), *steps}))
        none, several = "no wave has failed servers", "several waves have failed servers"
        if action is ControlAction.RETRY:
            none = f"{none} or a step waiting for a decision"
            several = f"{several} or a step waiting for a decision" if steps else several
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise WaveChoiceError(none)
    names = ", ".join(
        f"{i + 1} {state.waves[i].name!r}" + (f" (step {steps[i]!r})" if i in steps else "")
        for i in candidates
    )
    raise WaveChoiceError(f"{several} ({names})", candidates)


def control_event(request: ControlRequest, state: ExecutionState, *, at: datetime, by: str) -> Event:
    """The control event for ``request`` now. ValueError when the request is incomplete (no wave for a
    retry) or names no gate the execution waits at; the runner still checks the event itself."""
    action = request.action
    if action in WAVE_ACTIONS and request.wave_index is None:
        raise ValueError(f"{action.value.lower()} needs a wave")
    if action is ControlAction.PAUSE:
        return Pause(at=at, by=by)
    if action is ControlAction.RESUME:
        return Resume(at=at, by=by)
    if action is ControlAction.CANCEL:
        return Cancel(at=at, by=by, terminate_drill_instances=request.terminate_drill_instances)
    if action is ControlAction.CLEANUP:
        return CleanupRequested(at=at, by=by)
    if action is ControlAction.RENEW:
        return CredentialsRenewed(target=request.target, at=at, by=by)
    wave_index = int(request.wave_index or 0)
    held = held_step(state, wave_index) if action in STEP_DECISIONS else None
    if held is not None:
        phase, step_index, _ = held
        return StepDecided(
            wave_index=wave_index,
            phase=phase,
            step_index=step_index,
            action=STEP_DECISIONS[action],
            at=at,
            by=by,
            comment=request.comment,
        )
    if action in (ControlAction.STEP_DONE, ControlAction.STEP_FAIL):
        raise ValueError(f"wave {wave_index + 1} has no step waiting for a decision")
    if action is ControlAction.RETRY:
        return RetryFailed(wave_index=wave_index, at=at, by=by)
    if action is ControlAction.SKIP:
        return SkipWave(wave_index=wave_index, at=at, by=by, reason=request.comment)
    gate = next((g for g in pending_approvals(state) if g.wave_index == wave_index), None)
    if gate is None:
        raise ValueError(f"wave {wave_index + 1} is not waiting for an approval")
    decision = ApprovalGranted if action is ControlAction.APPROVE else ApprovalRejected
    return decision(
        wave_index=wave_index,
        phase=gate.phase,
        step_index=gate.step_index,
        by=by,
        at=at,
        comment=request.comment,
    )
