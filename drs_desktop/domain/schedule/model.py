"""A plan's schedule: when its unattended drill runs, as whom, and what happens after it.

Why a value of its own (not a plan field): a schedule is a fact about one desktop (this machine's
scheduler runs it, with a profile of this machine's AWS files), so it never syncs and is never in a plan
file. ``check_schedule`` refuses a schedule that could not be written into every entry format safely:
each refusal is one line naming the field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import PurePath, PurePosixPath, PureWindowsPath

from drs_desktop.domain.errors import DrsDesktopError

__all__ = [
    "MAX_SOAK_MINUTES",
    "WEEKDAYS",
    "EntryKind",
    "Frequency",
    "Schedule",
    "ScheduleChoice",
    "ScheduleError",
    "check_schedule",
    "parse_time_of_day",
    "schedule_problems",
]

#: A drill's instances are left running this long at most before cleanup (a day).
MAX_SOAK_MINUTES = 24 * 60
#: Monday first, as ``datetime.weekday()`` counts.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ID = re.compile(r"^[a-z0-9]{8,32}$")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleError(DrsDesktopError):
    """A schedule that cannot be saved or written: the message says which field and why."""


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"  # on ``weekday``
    MONTHLY = "monthly"  # on ``day_of_month``


class EntryKind(StrEnum):
    """Which scheduler runs it: the entry's format."""

    SYSTEMD = "systemd"  # a systemd user timer (Linux with a user session manager)
    CRON = "cron"  # a line of the user's crontab (Linux without systemd --user, other Unixes)
    TASK_SCHEDULER = "task-scheduler"  # Windows: schtasks /Create /XML
    LAUNCHD = "launchd"  # macOS: a LaunchAgent plist


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """One plan's unattended drill. Times are the machine's local wall clock (what its scheduler
    reads). ``weekday``: 0 Monday .. 6 Sunday, for WEEKLY; ``day_of_month``: 1..28, for MONTHLY (every
    month has it, so no month is silently skipped). ``region`` "" means the setting ``aws.region``.
    ``home``: the DRS Desktop home the command passes with ``--home`` ("" the default home)."""

    schedule_id: str
    plan_id: str
    plan_name: str
    frequency: Frequency
    hour: int
    minute: int
    weekday: int | None = None
    day_of_month: int | None = None
    profile: str
    region: str = ""
    soak_minutes: int = 0
    auto_approve: bool = False
    report_dir: str
    entry_kind: EntryKind
    home: str = ""
    created_at: datetime

    @property
    def at_text(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def describe_when(self) -> str:
        """ "daily at 02:30", "weekly on Sunday at 02:30", "monthly on day 1 at 02:30"."""
        if self.frequency is Frequency.WEEKLY and self.weekday is not None:
            return f"weekly on {WEEKDAYS[self.weekday]} at {self.at_text}"
        if self.frequency is Frequency.MONTHLY:
            return f"monthly on day {self.day_of_month} at {self.at_text}"
        return f"daily at {self.at_text}"


@dataclass(frozen=True)
class ScheduleChoice:
    """What a person chose (the dialog's fields, the CLI's options) before it becomes a ``Schedule``."""

    plan_name: str
    frequency: Frequency
    hour: int
    minute: int
    profile: str
    report_dir: str
    weekday: int | None = None
    day_of_month: int | None = None
    region: str = ""
    soak_minutes: int = 0
    auto_approve: bool = False
    entry_kind: EntryKind | None = None  # None: this system's default (services.schedule_entries)


def parse_time_of_day(text: str) -> tuple[int, int]:
    """``"02:30"`` -> (2, 30); ScheduleError for anything else (a time of day, 24-hour clock)."""
    match = _HHMM.match(text.strip())
    if not match:
        raise ScheduleError(f"time {text!r}: give HH:MM on a 24-hour clock, e.g. 02:30")
    return int(match.group(1)), int(match.group(2))


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def _absolute(path: str) -> bool:
    return PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()


def schedule_problems(schedule: Schedule) -> list[str]:
    """Every reason ``schedule`` cannot be saved, one line each (empty: it can)."""
    s = schedule
    problems: list[str] = []
    if not _ID.match(s.schedule_id):
        problems.append(f"schedule ID {s.schedule_id!r}: 8 to 32 lowercase letters or digits")
    if not s.plan_id.strip():
        problems.append("the plan's ID is missing")
    if not s.plan_name.strip():
        problems.append("the plan's name is missing")
    elif _has_control(s.plan_name):
        problems.append("the plan's name holds a control character: a scheduler entry cannot carry it")
    if not (0 <= s.hour <= 23 and 0 <= s.minute <= 59):
        problems.append(f"time {s.hour}:{s.minute}: the hour is 0-23 and the minute 0-59")
    if s.frequency is Frequency.WEEKLY:
        if s.weekday is None or not 0 <= s.weekday <= 6:
            problems.append("a weekly schedule needs a day of the week (Monday to Sunday)")
    elif s.weekday is not None:
        problems.append(f"a {s.frequency.value} schedule takes no day of the week")
    if s.frequency is Frequency.MONTHLY:
        if s.day_of_month is None or not 1 <= s.day_of_month <= 28:
            problems.append("a monthly schedule needs a day of the month from 1 to 28 (every month has it)")
    elif s.day_of_month is not None:
        problems.append(f"a {s.frequency.value} schedule takes no day of the month")
    if _has_control(s.profile) or s.profile != s.profile.strip() or " " in s.profile:
        problems.append(f"profile {s.profile!r}: a profile name has no spaces or control characters")
    if s.region and not re.match(r"^[a-z]{2}(-[a-z]+)+-\d+$", s.region):
        problems.append(f"region {s.region!r} is not an AWS Region code such as us-east-1")
    if not 0 <= s.soak_minutes <= MAX_SOAK_MINUTES:
        problems.append(f"soak {s.soak_minutes} minutes: from 0 to {MAX_SOAK_MINUTES} (a day)")
    for label, path in (("report folder", s.report_dir), ("home", s.home)):
        if label == "home" and not path:
            continue
        if not path.strip():
            problems.append(f"the {label} is missing")
        elif _has_control(path):
            problems.append(f"the {label} holds a control character: a scheduler entry cannot carry it")
        elif not _absolute(path):
            problems.append(
                f"the {label} {path!r} must be an absolute path (the scheduler has no working folder)"
            )
    if s.created_at.tzinfo is None:
        problems.append("the creation time has no time zone")
    return problems


def check_schedule(schedule: Schedule) -> Schedule:
    """``schedule`` when it can be saved; ScheduleError naming every problem otherwise."""
    problems = schedule_problems(schedule)
    if problems:
        raise ScheduleError("; ".join(problems))
    return schedule


def path_name(path: str) -> str:
    """The last part of ``path`` whichever system wrote it (for short messages)."""
    return (PureWindowsPath(path) if "\\" in path else PurePath(path)).name
