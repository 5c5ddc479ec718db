"""The date range of a period roll-up (issue 18): whole days, both ends inclusive, in one time zone.

An auditor names a period in days ("2026-01-01..2026-12-31"); the executions are stamped in UTC. The
range is turned into a half-open interval of instants, ``[start, end)``, where ``end`` is the midnight
after the last day, so a run at 23:59:59 on the last day is in and one at midnight after is not, and
two adjacent periods never both hold a run. The zone is passed in (the caller looks it up): this module
reads no clock and no time zone database. Pure, stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from drs_desktop.domain.errors import DrsDesktopError

__all__ = ["Period", "PeriodError", "PeriodRequest", "parse_period", "period_of"]

_SEPARATOR = ".."


class PeriodError(DrsDesktopError):
    """The period cannot be used: not two dates, a date that does not exist, or its end before its start."""


@dataclass(frozen=True)
class Period:
    """Days ``first_day`` to ``last_day`` inclusive in ``zone_name``; ``start``/``end`` the instants
    that bound it (``end`` excluded)."""

    first_day: date
    last_day: date
    zone_name: str
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def label(self) -> str:
        """``2026-01-01 to 2026-12-31 (UTC)``: how every report names the period."""
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()} ({self.zone_name})"


@dataclass(frozen=True)
class PeriodRequest:
    """What the operator asked for: the period, and the plans by name (empty: all plans). A frozen value,
    so the GUI hands it to its task thread as it is."""

    period: Period
    plan_names: tuple[str, ...] = ()


def period_of(first_day: date, last_day: date, zone: tzinfo = UTC, zone_name: str = "UTC") -> Period:
    """The period from ``first_day`` to ``last_day`` (both included) in ``zone``."""
    if last_day < first_day:
        raise PeriodError(
            f"the period ends ({last_day.isoformat()}) before it starts ({first_day.isoformat()})"
        )
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
    return Period(first_day, last_day, zone_name, start, end)


def parse_period(text: str, zone: tzinfo = UTC, zone_name: str = "UTC") -> Period:
    """``YYYY-MM-DD..YYYY-MM-DD`` as a period; PeriodError (one line, naming what was wrong) otherwise."""
    raw = text.strip()
    if raw.count(_SEPARATOR) != 1:
        raise PeriodError(f"the period {text!r} is not FROM..TO (two dates, e.g. 2026-01-01..2026-12-31)")
    first_text, last_text = (part.strip() for part in raw.split(_SEPARATOR))
    return period_of(_day(first_text, "start"), _day(last_text, "end"), zone, zone_name)


def _day(text: str, which: str) -> date:
    if len(text) != 10:
        raise PeriodError(f"the period's {which} {text!r} is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"the period's {which} {text!r} is not a date YYYY-MM-DD") from None
