"""A server's and an automation step's line of the progress tree: their words column by column, their
tooltips, icons and colours. The facts are the snapshot's (``ServerRow``, ``views.progress_steps.StepRow``);
this only lays them out in the tree's columns, so the model (``progress_model``) keeps to its rows."""

from __future__ import annotations

from datetime import datetime

from drs_desktop.domain.engine.state import ServerStatus
from drs_desktop.domain.views.progress import ServerRow
from drs_desktop.domain.views.progress_steps import HELD, UNKNOWN_WARNING, StepRow
from drs_desktop.ui.executions.history_format import duration_text

__all__ = [
    "server_outcome",
    "server_texts",
    "server_tooltip",
    "step_icon_state",
    "step_outcome",
    "step_texts",
    "step_tooltip",
]


def _clock(moment: datetime | None) -> str:
    return f"{moment:%H:%M:%S}" if moment is not None else ""


#: Server states shown in red (failed) or grey (did not run) across the row, never as a blue bar.
_ENDED_WITHOUT_LAUNCH = {
    ServerStatus.FAILED: "FAILED",
    ServerStatus.CANCELLED: "CANCELLED",
    ServerStatus.SKIPPED: "SKIPPED",
}


def server_outcome(server: ServerRow) -> str | None:
    """How a server ended without launching ("FAILED", "CANCELLED", "SKIPPED"), or None."""
    return _ENDED_WITHOUT_LAUNCH.get(server.status)


def server_texts(server: ServerRow) -> tuple[str, ...]:
    """A server row's words, column by column."""
    phase = server.waiting or server.phase
    if server.status is ServerStatus.FAILED and server.reason:
        if not server.phase or server.reason in server.phase:
            phase = server.phase or server.reason  # an end state's phase names the reason
        else:
            phase = f"{server.phase}: {server.reason}"
    if server.started_at is None:
        elapsed = ""
    elif server.ended_at is not None:
        elapsed = duration_text(server.ended_at - server.started_at)
    else:
        elapsed = f"since {_clock(server.started_at)}"
    return (
        server.label,
        server.status.value,
        "",
        phase,
        server.impact,
        elapsed,
        "",
        server.job_id or "",
        server.ec2_instance_id or server.recovery_instance_id or "",
        f"{server.last_event} {_clock(server.last_event_at)}".strip(),
    )


def server_tooltip(server: ServerRow) -> str:
    parts = [server.server_id]
    if server.waiting:
        parts.append(server.waiting)
    if server.reason:
        parts.append(server.reason)
    if server.retries:
        parts.append(f"retried {server.retries} time(s)")
    return "\n".join(parts)


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
    """A step line's words: name, status, (no bar), what it does now (or, once it ended, what it found),
    -, elapsed, -, its SSM command or process, -, its last attempt's detail."""
    if step.started_at is None:
        elapsed = ""
    elif step.ended_at is not None:
        elapsed = duration_text(step.ended_at - step.started_at)
    else:
        elapsed = f"since {step.started_at:%H:%M:%S}"
    status = f"DONE by {step.decided_by}" if step.status == "DONE" and step.decided_by else step.status
    # An ended step has nothing under way: its Phase says what its last attempt found.
    texts = (step.label, status, "", step.doing or step.detail, "", elapsed, "", step.ref, "", step.detail)
    return texts[:column_count] + ("",) * (column_count - len(texts))


def step_tooltip(step: StepRow) -> str:
    """Everything the line knows of its step: what it does, its last attempt's detail, the targets that
    failed, the output's tail, who decided and why."""
    parts = [step.label, step.status]
    if step.doing:
        parts.append(step.doing)
    if step.unknown:
        parts.append(UNKNOWN_WARNING)
    if step.waiting:
        parts.append(step.waiting)
    if step.attempt:
        parts.append(f"attempt {step.attempt} of {step.attempts_allowed}: {step.detail or '(no detail yet)'}")
    parts.extend(f"failed: {target}" for target in step.failed_targets)
    if step.output:
        parts.append(f"output: {step.output[-500:]}")
    if step.decided_by:
        parts.append(f"decided by {step.decided_by}" + (f": {step.comment}" if step.comment else ""))
    return "\n".join(parts)
