"""The user's crontab as text, with one schedule's line put in or taken out and nothing else touched.

Why pure: the crontab is the operator's own file, with lines DRS Desktop never wrote. What is read with
``crontab -l`` goes through these functions and back with ``crontab -``; a line is ours only when it ends
with our marker for that schedule (``entries.cron_marker``), so another line, even one that mentions
drs-desktop, stays as it was.
"""

from __future__ import annotations

from drs_desktop.domain.schedule.entries import cron_marker

__all__ = ["crontab_has", "crontab_with", "crontab_without"]


def _ours(line: str, schedule_id: str) -> bool:
    return line.rstrip().endswith(cron_marker(schedule_id))


def crontab_without(text: str, schedule_id: str) -> str:
    """``text`` without the schedule's line (unchanged when it has none)."""
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not _ours(line, schedule_id)]
    return "".join(kept)


def crontab_with(text: str, schedule_id: str, line: str) -> str:
    """``text`` with the schedule's line replaced by ``line`` (or added at the end), ending in a newline
    (cron ignores a last line without one)."""
    if "\n" in line or not _ours(line, schedule_id):
        raise ValueError("a crontab line for this schedule is one line ending with its marker")
    kept = crontab_without(text, schedule_id)
    if kept and not kept.endswith("\n"):
        kept += "\n"
    return f"{kept}{line}\n"


def crontab_has(text: str, schedule_id: str) -> bool:
    return any(_ours(line, schedule_id) for line in text.splitlines())
