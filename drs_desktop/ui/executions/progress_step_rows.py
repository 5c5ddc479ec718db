"""A wave's automation step as a line of the progress tree: its words column by column, its tooltip, its
icon and colour. The facts are the snapshot's (``views.progress_steps.StepRow``); this only lays them out
in the tree's columns, so the model (``progress_model``) stays about waves and servers."""

from __future__ import annotations

from drs_desktop.domain.views.progress_steps import HELD, StepRow
from drs_desktop.ui.executions.history_format import duration_text

__all__ = ["step_icon_state", "step_outcome", "step_texts", "step_tooltip"]

#: A step's status -> the status icon's state name (``ui.status_icons``).
_ICONS = {
    "PASSED": "PASS",
    "DONE": "PASS",
    "WARNED": "WARN",
    "FAILED": "FAIL",
    HELD: "HELD",
    "SKIPPED": "SKIPPED",
    "NOT RUN": "SKIPPED",
    "STARTING": "RUNNING",
    "RUNNING": "RUNNING",
    "RETRYING": "RUNNING",
}
#: A step's status -> the colour its whole line takes (None: the default text colour).
_OUTCOMES = {"FAILED": "FAILED", HELD: "HELD", "WARNED": "WARN", "SKIPPED": "SKIPPED", "NOT RUN": "SKIPPED"}


def step_icon_state(step: StepRow) -> str:
    return _ICONS.get(step.status, "PENDING")


def step_outcome(step: StepRow) -> str | None:
    return _OUTCOMES.get(step.status)


def step_texts(step: StepRow, column_count: int) -> tuple[str, ...]:
    """A step line's words: name, status, (no bar), what it does now, -, elapsed, -, its SSM command or
    process, -, its last attempt's detail."""
    if step.started_at is None:
        elapsed = ""
    elif step.ended_at is not None:
        elapsed = duration_text(step.ended_at - step.started_at)
    else:
        elapsed = f"since {step.started_at:%H:%M:%S}"
    status = f"DONE by {step.decided_by}" if step.status == "DONE" and step.decided_by else step.status
    texts = (step.label, status, "", step.doing, "", elapsed, "", step.ref, "", step.detail)
    return texts[:column_count] + ("",) * (column_count - len(texts))


def step_tooltip(step: StepRow) -> str:
    """Everything the line knows of its step: what it does, its last attempt's detail, the targets that
    failed, the output's tail, who decided and why."""
    parts = [step.label, step.status]
    if step.doing:
        parts.append(step.doing)
    if step.attempt:
        parts.append(f"attempt {step.attempt} of {step.attempts_allowed}: {step.detail or '(no detail yet)'}")
    parts.extend(f"failed: {target}" for target in step.failed_targets)
    if step.output:
        parts.append(f"output: {step.output[-500:]}")
    if step.decided_by:
        parts.append(f"decided by {step.decided_by}" + (f": {step.comment}" if step.comment else ""))
    return "\n".join(parts)
