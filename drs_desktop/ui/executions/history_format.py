"""How the history pane writes times, durations and RTOs, in one place so the table and the details
panel never disagree. All times are shown in UTC, as the evidence reports give them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.views.history import ExecutionSummary

#: Row highlight of a finished drill with recovery instances still running (amber, readable in both
#: light and dark themes because the text colour is set with it).
CLEANUP_BACKGROUND = "#ffe8b0"
CLEANUP_FOREGROUND = "#4a3000"
RTO_MISSED = "#b00020"
RTO_MET = "#1b7f3b"


def utc_text(moment: datetime | None, *, seconds: bool = False) -> str:
    """``2026-11-25 08:41`` (UTC); empty for None."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def clock_text(moment: datetime | None) -> str:
    """``08:41:07`` (UTC); empty for None."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%H:%M:%S")


def duration_text(span: timedelta | None) -> str:
    """``1 h 5 min 7 s``, ``12 min 30 s``, ``45 s`` (``domain.durations``, exact); empty for None."""
    return "" if span is None else format_duration(span, exact=True)


def rto_text(summary: ExecutionSummary) -> str:
    """``32 m 10 s / 1 h 30 m``: achieved against the target; "not reached" while some critical
    server is not ready."""
    achieved, target = summary.rto_achieved, summary.rto_target
    if achieved is None and target is None:
        return ""
    left = duration_text(achieved) if achieved is not None else "not reached"
    right = duration_text(target) if target is not None else "no target"
    return f"{left} / {right}"


def outcome_text(summary: ExecutionSummary) -> str:
    """The outcome once finished, else the live status (RUNNING, HELD, ...)."""
    if summary.problem:
        return "UNREADABLE"
    return summary.outcome or summary.status
