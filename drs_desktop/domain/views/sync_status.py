"""What the status bar says about team sync, and what a sync round reports while it runs. Pure.

Why here and not in the widget: the words must be true in every state (never "up to date" after a failed
attempt, never "up to date" with changes waiting), and a pure function of the state is what a test can
check exhaustively. The state is read on the sync thread (``services.team_sync.TeamSync.status``) from
this desktop's database alone, so showing it costs no network call; the same words as
``drs-desktop sync status`` where they say the same thing ("changes waiting" is its "queued").

Times are shown as the rest of the application shows them, in UTC; with the date when the moment is not
on the day the status was read (``as_of``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["SyncProgress", "SyncSettings", "SyncSetup", "SyncStatus", "status_details", "status_text"]

#: The longest error shown in the status bar (the whole of it is in the tooltip).
ERROR_CHARS = 70
#: "DescribeTable: " before an error: which call failed, for the tooltip rather than the status bar.
_OPERATION = re.compile(r"^[A-Z][A-Za-z]+: ")


@dataclass(frozen=True)
class SyncSettings:
    """Where this desktop syncs (never a credential: a profile's name at most) and whether the
    background sync is on. Empty ``table``: none set. ``desktop_id``: this desktop's, for the page."""

    table: str = ""
    region: str = ""
    profile: str = ""
    endpoint: str = ""
    enabled: bool = False
    desktop_id: str = ""


@dataclass(frozen=True)
class SyncSetup:
    """The answer to saving the Team sync settings: what is stored now, whether they were saved, and
    what the table check said (``table_ok``), in words."""

    settings: SyncSettings
    saved: bool
    table_ok: bool
    message: str


@dataclass(frozen=True)
class SyncProgress:
    """A step of a running sync round. ``phase``: ``checking`` (the table), ``pulling``, ``pushing``;
    ``done`` of ``total`` queued changes pushed (``total`` 0 while pulling: ``done`` counts what was
    pulled so far)."""

    phase: str
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class SyncStatus:
    """This desktop's sync state, as its database says (and, for ``failing_since``, as this session saw).

    ``configured``: a table is set; ``enabled``: the background sync is switched on. ``failing_since`` is
    the first failed attempt since the last success (None when the last attempt succeeded);
    ``transient`` whether that failure was the network or DynamoDB being unavailable (None: not known,
    such as an error recorded before this session).
    """

    configured: bool
    enabled: bool
    table: str
    queued: int
    conflicts: int
    last_sync_at: datetime | None
    last_error: str | None
    failing_since: datetime | None
    as_of: datetime
    transient: bool | None = None

    @property
    def failing(self) -> bool:
        return self.last_error is not None


def _moment(at: datetime, as_of: datetime) -> str:
    moment = at.astimezone(UTC)
    if moment.date() == as_of.astimezone(UTC).date():
        return f"{moment:%H:%M} UTC"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _one_line(text: str, limit: int = ERROR_CHARS) -> str:
    """The error for the status bar: one line, without the DynamoDB operation that failed (the tooltip
    has it), cut at a clause (": ") when that keeps its sense, else at ``limit`` with an ellipsis."""
    line = _OPERATION.sub("", " ".join(text.split()), count=1)
    if len(line) <= limit:
        return line
    clause = line.rfind(": ", 0, limit)
    if clause >= 30:
        return line[:clause]
    return line[: limit - 1].rstrip() + "…"


def progress_text(progress: SyncProgress) -> str:
    if progress.phase == "pushing" and progress.total:
        return f"Sync: pushing {min(progress.done, progress.total)} of {progress.total}…"
    if progress.phase == "pulling" and progress.done:
        return f"Sync: pulling… ({_plural(progress.done, 'change', 'changes')} so far)"
    if progress.phase == "checking":
        return "Sync: checking the table…"
    return f"Sync: {progress.phase}…"


def status_text(status: SyncStatus | None, progress: SyncProgress | None = None) -> str:
    """One line for the status bar: off, running, failing, conflicts, waiting, up to date."""
    if status is None:
        return "Sync: reading…"
    if not status.configured or (not status.enabled and progress is None):
        return "Sync: off"
    if progress is not None:
        return progress_text(progress)
    as_of = status.as_of
    last = _moment(status.last_sync_at, as_of) if status.last_sync_at else None
    conflicts = _plural(status.conflicts, "conflict", "conflicts") if status.conflicts else ""
    if status.failing:
        since = status.failing_since or as_of
        word = "failing" if status.transient is False else "offline"
        text = f"Sync: {word} since {_moment(since, as_of)} — {_one_line(status.last_error or '')}"
        return f"{text} · {conflicts}" if conflicts else text
    if conflicts:
        return f"Sync: {conflicts} · last {last}" if last else f"Sync: {conflicts}"
    if status.queued:
        waiting = _plural(status.queued, "change waiting", "changes waiting")
        return f"Sync: {waiting} · last {last}" if last else f"Sync: {waiting} · never synced"
    if last is None:
        return "Sync: not synced yet"
    return f"Sync: up to date · {last}"


def status_details(status: SyncStatus | None) -> str:
    """The tooltip: every fact the line summarises, in full (the error's whole text)."""
    if status is None:
        return "Reading this desktop's sync state…"
    if not status.configured:
        return "Team sync is off: no table is set (Settings, Team sync)."
    as_of = status.as_of
    lines = [f"Table: {status.table}"]
    if not status.enabled:
        lines.append("Background sync is switched off (Settings, Team sync).")
    lines.append(
        "Last successful sync: " + (_moment(status.last_sync_at, as_of) if status.last_sync_at else "never")
    )
    lines.append(f"Queued: {status.queued} local change(s) not pushed yet")
    lines.append(f"Open conflicts: {status.conflicts or 'none'}")
    if status.last_error:
        since = _moment(status.failing_since or as_of, as_of)
        lines.append(f"Failing since {since}: {' '.join(status.last_error.split())}")
    if status.conflicts:
        lines.append("Click to resolve the conflicts.")
    return "\n".join(lines)
