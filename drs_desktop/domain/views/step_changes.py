"""The log's lines about a wave's automation steps (``change_text.describe_change`` adds them): an attempt
requested, an SSM command sent, waiting for agents, a probe round ("probes: 1 of 2 passed"), an SSM
command found again after a crash, an attempt's end with its detail, a lost outcome, how the step
ended (warned, failed its wave, waiting for the operator), and the operator's decision with who made it.

Like the rest of the log, a line says what changed, not every poll: a probe round is said when its
count of passing targets changes (the attempt's end says the last), agents not online yet once per
attempt (the send says when it went out), an SSM read only when it failed. The CLI prints these on
stderr; the GUI's logs and the report's event log show the same lines. Pure, stdlib only.
"""

from __future__ import annotations

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.engine.automation import SSM_AGENT_WAIT, allowed_attempts, step_at
from drs_desktop.domain.engine.automation_events import (
    AutomationAnswered,
    AutomationLost,
    AutomationRequested,
    AutomationSent,
    HealthProbed,
    SsmLooked,
    SsmPolled,
    SsmWaiting,
)
from drs_desktop.domain.engine.automation_state import (
    AttemptStatus,
    StepAttempt,
    StepOutcome,
    StepRun,
    parse_key,
    step_key,
)
from drs_desktop.domain.engine.events import Event, StepDecided
from drs_desktop.domain.engine.state import ExecutionState

__all__ = ["skipped_lines", "step_lines"]

#: How many characters of a detail a log line keeps (the evidence keeps the whole of it).
DETAIL_CHARS = 300
#: What may have run when an outcome is lost, by kind.
_WHAT_RAN = {"lambda": "the Lambda function", "script": "the script"}


def step_lines(before: ExecutionState, after: ExecutionState, event: Event) -> list[str]:
    """Lines for an automation event (and for what it changed in its step); [] for any other event."""
    key = _key_of(event)
    if key is None:
        return []
    old, new = before.automation.get(key), after.automation.get(key)
    if new is None:
        return []
    at = event.at.strftime("%H:%M:%S")
    label = _label(after, key, new)
    lines = [f"{at} {label}: {text}" for text in _event_text(after, event, old, new)]
    lines.extend(
        f"{at} {label}: {text}" for text in _ending(old, new, decided=isinstance(event, StepDecided))
    )
    return lines


def _key_of(event: Event) -> str | None:
    match event:
        case (
            AutomationRequested()
            | AutomationSent()
            | HealthProbed()
            | SsmPolled()
            | SsmLooked()
            | SsmWaiting()
            | AutomationAnswered()
            | AutomationLost()
        ):
            return event.key
        case StepDecided():
            return step_key(event.wave_index, event.phase, event.step_index)
        case _:
            return None


def _label(state: ExecutionState, key: str, run: StepRun) -> str:
    """``wave 2 'web' after step 1 ssm 'smoke'``."""
    wave_index, phase, index = parse_key(key)
    wave = state.waves[wave_index]
    return f"wave {wave_index + 1} {wave.name!r} {phase.lower()} step {index + 1} {run.kind} {run.name!r}"


def _attempt(run: StepRun | None, number: int) -> StepAttempt | None:
    if run is None:
        return None
    return next((a for a in reversed(run.attempts) if a.number == number), None)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def _event_text(state: ExecutionState, event: Event, old: StepRun | None, new: StepRun) -> list[str]:
    """The event's own words (the attempt's end and the step's outcome follow from the state change)."""
    match event:
        case AutomationRequested():
            step = step_at(state, event.key)
            of = f" of {allowed_attempts(step, new)}" if step is not None else ""
            previous = _attempt(old, event.attempt)
            if previous is not None and previous.waiting:
                return []  # the send tried again while agents come online: said once, by the wait
            again = " again (it never went out)" if previous is not None else ""
            on = f" on {len(event.instances)} instance(s)" if event.instances else ""
            return [f"attempt {event.attempt}{of} requested{again}{on}"]
        case AutomationSent():
            if new.kind == "ssm":
                return [f"SSM command {event.ref} sent"]
            if new.kind == "script":
                return [f"script started (process {event.ref})"]
            return [f"sent ({event.ref})" if event.ref else "sent"]
        case SsmWaiting():
            previous = _attempt(old, event.attempt)
            if previous is not None and previous.waited_at is not None:
                return []  # still waiting: said once per attempt, the send says when it went out
            every = format_duration(SSM_AGENT_WAIT.total_seconds())
            return [f"nothing sent yet: {_short(event.reason)}; trying again every {every} until its timeout"]
        case HealthProbed():
            return _probe_round(old, new, event)
        case SsmPolled():
            return [f"SSM read failed: {_short(event.error)}"] if event.error else []
        case SsmLooked():
            if event.command_id:
                return [
                    f"SSM command {event.command_id} found again by its comment: followed, not sent again"
                ]
            if event.error:
                return [f"looking for the SSM command by its comment failed: {_short(event.error)}"]
            return ["no SSM command with this attempt's comment listed yet"]
        case AutomationLost() if new.kind == "ssm":
            return [
                f"attempt {event.attempt}: the SendCommand answer is lost ({_short(event.reason)}); "
                "looking for the command by its comment before anything is sent again"
            ]
        case StepDecided():
            by = event.by or "operator"
            comment = f" ({_short(event.comment)})" if event.comment else ""
            words = {
                "retry": f"retry decided by {by}: one more attempt",
                "done": f"marked done by {by}: the wave goes on",
            }
            return [words.get(event.action, f"failed by {by}: its wave fails") + comment]
        case _:  # AutomationAnswered, a Lambda's or a script's AutomationLost: the attempt's end, below
            return []


def _probe_round(old: StepRun | None, new: StepRun, event: HealthProbed) -> list[str]:
    """A round of probes, when its count of passing targets is new for the attempt (the first round
    included); the round that ends the attempt is said by the attempt's end."""
    attempt = _attempt(new, event.attempt)
    if attempt is None or attempt.status is not AttemptStatus.RUNNING or not event.results:
        return []
    passed = sum(1 for r in event.results if r.status == "PASS")
    previous = _attempt(old, event.attempt)
    if previous is not None and previous.targets and previous.probes:
        if sum(1 for r in previous.targets if r.status == "PASS") == passed:
            return []
    failing = next((r for r in event.results if r.status != "PASS"), None)
    why = (
        f" ({failing.server_id}: {_short(failing.detail)})" if failing is not None and failing.detail else ""
    )
    return [f"probes: {passed} of {len(event.results)} passed{why}"]


def _ending(old: StepRun | None, new: StepRun, *, decided: bool) -> list[str]:
    """An attempt that ended or was lost, and how the step stands after it (a decision says its own)."""
    lines: list[str] = []
    last = new.last
    if last is not None:
        before = _attempt(old, last.number)
        was = before.status if before is not None else None
        detail = f": {_short(last.detail)}" if last.detail else ""
        if last.status is not was:
            if last.status is AttemptStatus.PASSED:
                lines.append(f"attempt {last.number} passed{detail}")
            elif last.status is AttemptStatus.FAILED and was is not AttemptStatus.UNKNOWN:
                lines.append(f"attempt {last.number} FAILED{detail}")
            elif last.status is AttemptStatus.UNKNOWN:
                what = _WHAT_RAN.get(new.kind, "it")
                lines.append(f"attempt {last.number} outcome LOST{detail}; {what} may have run")
    if decided:
        return lines
    if new.outcome is not None and (old is None or old.outcome is not new.outcome):
        if new.outcome is StepOutcome.WARNED:
            lines.append("failed, only a warning: the wave goes on")
        elif new.outcome is StepOutcome.FAILED:
            lines.append("FAILED: its wave fails")
    elif new.held and not (old is not None and old.held):
        lines.append("waiting for the operator: retry, done or fail")
    return lines


def skipped_lines(before: ExecutionState, after: ExecutionState) -> list[str]:
    """Automation steps that ended at once because they do not run in this mode (``RunIn``)."""
    lines: list[str] = []
    for old, new in zip(before.waves, after.waves, strict=True):
        if new.steps is old.steps:
            continue
        for record in new.steps[len(old.steps) :]:
            if record.outcome == StepOutcome.SKIPPED.value:
                mode = "a drill" if after.is_drill else "a recovery"
                lines.append(
                    f"{record.ended_at:%H:%M:%S} wave {new.index + 1} {new.name!r} {record.phase.lower()} "
                    f"step {record.step_index + 1} {record.kind} {record.name!r}: skipped (not run in {mode})"
                )
    return lines
