"""The progress lines of a run in DRS that ``run``'s own lines (``views.change_text``) do not say: DRS's
execution (started, attached), its status as read, each step's, and the controls sent to it. Printed by
``cli_drive``'s progress listener for any run in DRS (``native run``, ``run --resume``, ``control``).
"""

from __future__ import annotations

from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.native_events import (
    NativeControlFailed,
    NativeControlSent,
    NativeObserved,
    NativeStarted,
    NativeStartFailed,
)
from drs_desktop.domain.engine.state import ExecutionState


def native_lines(before: ExecutionState, after: ExecutionState, event: Event) -> list[str]:
    """What this event says of DRS's execution, in words (nothing for a local run's events)."""
    if after.native is None:
        return []
    if isinstance(event, NativeStarted):
        if event.attached:
            return [f"following DRS execution {event.execution_arn} (started elsewhere)"]
        return [f"DRS started execution {event.execution_arn}"]
    if isinstance(event, NativeStartFailed):
        if event.definite:
            return [f"DRS refused to start the execution: {event.reason}"]
        return [f"no answer to the start ({event.reason}): it is sent again with the same client token"]
    if isinstance(event, NativeControlSent):
        return [f"{event.kind} sent to DRS{_step(after, event.step_index)}"]
    if isinstance(event, NativeControlFailed):
        if event.definite:
            return [f"DRS refused the {event.kind}{_step(after, event.step_index)}: {event.reason}"]
        return [f"no answer to the {event.kind} ({event.reason}): DRS is read again before it is resent"]
    if isinstance(event, NativeObserved):
        return _reading_lines(before, after)
    return []


def _step(state: ExecutionState, index: int) -> str:
    if index <= 0 or state.native is None:
        return ""
    seen = state.native.step(index)
    return f" (step {index} {seen.name!r})" if seen is not None else f" (step {index})"


def _reading_lines(before: ExecutionState, after: ExecutionState) -> list[str]:
    assert after.native is not None
    lines = []
    was = {s.index: s.status for s in before.native.steps} if before.native is not None else {}
    for step in after.native.steps:
        if step.kind == "WAIT" and step.status != was.get(step.index) and step.status == "WAITING":
            minutes = f" {step.wait_minutes} min" if step.wait_minutes else ""
            lines.append(f"DRS step {step.index} {step.name!r}: waiting{minutes}")
        elif step.status != was.get(step.index) and step.status in ("FAILED", "TIMED_OUT", "SKIPPED"):
            error = f": {step.error}" if step.error else ""
            lines.append(f"DRS step {step.index} {step.name!r}: {step.status}{error}")
    old = before.native.status if before.native is not None else ""
    if after.native.status != old:
        error = f": {after.native.error}" if after.native.error and after.native.status == "FAILED" else ""
        lines.append(f"DRS execution {after.native.status}{error}")
    return lines
