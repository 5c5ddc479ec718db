"""When a schedule's drill is due, and whether one was missed (``Alert`` values, ``SCHEDULE_MISSED``).

Why on naive local wall times: the schedulers read the machine's local clock ("02:30 every Sunday"),
and what 02:30 is in UTC changes with daylight saving. The caller turns its aware ``now`` into local
wall time and back (services.schedules); everything here is arithmetic on the calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from drs_desktop.domain.alert_events import Alert, AlertKind, AlertLevel
from drs_desktop.domain.schedule.model import Frequency, Schedule

__all__ = [
    "GRACE",
    "RUN_ALLOWANCE",
    "LastRun",
    "ScheduleStatus",
    "last_due",
    "missed_alerts",
    "next_due",
    "schedule_status",
]

#: A run may start this late (a sleeping laptop, a persistent timer catching up) before it is missed.
GRACE = timedelta(hours=2)
#: A run may last this long plus its soak before a missing end counts as "did not report" (a drill of a
#: large plan launches for an hour or two, then cleans up).
RUN_ALLOWANCE = timedelta(hours=4)
#: A run that starts this early before its due time (clock skew) still counts for it.
_EARLY = timedelta(minutes=10)


@dataclass(frozen=True, kw_only=True)
class LastRun:
    """What the unattended drill recorded of its latest run. ``report_path`` "" means no report was
    written (refused, crashed, or still running); ``outcome`` "" while it runs."""

    started_at: datetime
    ended_at: datetime | None = None
    outcome: str = ""
    detail: str = ""
    execution_id: str = ""
    report_path: str = ""


def _matches(schedule: Schedule, day: datetime) -> bool:
    if schedule.frequency is Frequency.WEEKLY:
        return day.weekday() == schedule.weekday
    if schedule.frequency is Frequency.MONTHLY:
        return day.day == schedule.day_of_month
    return True


def last_due(schedule: Schedule, now_local: datetime) -> datetime:
    """The latest due time at or before ``now_local`` (naive local wall time)."""
    day = now_local.replace(hour=schedule.hour, minute=schedule.minute, second=0, microsecond=0)
    if day > now_local:
        day -= timedelta(days=1)
    for _ in range(32):  # a monthly day 1-28 recurs within 31 days
        if _matches(schedule, day):
            return day
        day -= timedelta(days=1)
    raise AssertionError("a valid schedule is due within 32 days")  # check_schedule rules it out


def next_due(schedule: Schedule, now_local: datetime) -> datetime:
    """The first due time after ``now_local`` (naive local wall time)."""
    day = now_local.replace(hour=schedule.hour, minute=schedule.minute, second=0, microsecond=0)
    if day <= now_local:
        day += timedelta(days=1)
    for _ in range(32):
        if _matches(schedule, day):
            return day
        day += timedelta(days=1)
    raise AssertionError("a valid schedule is due within 32 days")


@dataclass(frozen=True)
class ScheduleStatus:
    """What the schedule list says: one line, and whether it is an alert (``missed`` or no report)."""

    text: str
    alert: Alert | None = None


def schedule_status(
    schedule: Schedule,
    last: LastRun | None,
    now: datetime,
    to_local: Callable[[datetime], datetime],
    from_local: Callable[[datetime], datetime],
) -> ScheduleStatus:
    """The schedule's state at ``now`` (aware). ``to_local``: aware -> naive local wall time;
    ``from_local``: back. A run due before the schedule existed is not expected of it."""
    expected_local = last_due(schedule, to_local(now - GRACE))
    expected = from_local(expected_local)
    due_text = f"{expected_local:%Y-%m-%d %H:%M} local time"
    ran_for_it = last is not None and last.started_at >= expected - _EARLY
    if expected >= schedule.created_at and not ran_for_it:
        title = f"scheduled drill of {schedule.plan_name!r} missed the run due {due_text}"
        detail = (
            f"no unattended drill started within {int(GRACE.total_seconds() // 3600)} hours of its due time "
            f"({schedule.describe_when()}); check the {schedule.entry_kind.value} entry on this machine"
        )
        alert = Alert(
            kind=AlertKind.SCHEDULE_MISSED,
            level=AlertLevel.WARNING,
            plan_name=schedule.plan_name,
            title=title,
            detail=detail,
            execution_id=last.execution_id if last else "",
            at=now,
        )
        return ScheduleStatus(f"missed the run due {due_text}", alert)
    if last is None:
        nxt = next_due(schedule, to_local(now))
        return ScheduleStatus(f"no run yet; next {nxt:%Y-%m-%d %H:%M} local time")
    started = f"{to_local(last.started_at):%Y-%m-%d %H:%M} local time"
    if last.report_path:
        return ScheduleStatus(f"last run {started}: {last.outcome or 'unknown'}, report {last.report_path}")
    allowance = RUN_ALLOWANCE + timedelta(minutes=schedule.soak_minutes)
    if last.ended_at is None and now - last.started_at < allowance:
        return ScheduleStatus(f"last run {started}: running, no report yet")
    why = last.detail or ("it did not end" if last.ended_at is None else "no report was written")
    alert = Alert(
        kind=AlertKind.SCHEDULE_MISSED,
        level=AlertLevel.WARNING if last.outcome != "failed" else AlertLevel.CRITICAL,
        plan_name=schedule.plan_name,
        title=f"scheduled drill of {schedule.plan_name!r} did not report (run of {started})",
        detail=f"{last.outcome or 'no outcome recorded'}: {why}",
        execution_id=last.execution_id,
        at=now,
    )
    return ScheduleStatus(f"last run {started}: {last.outcome or 'no outcome'}, no report: {why}", alert)


def missed_alerts(
    items: list[tuple[Schedule, LastRun | None]],
    now: datetime,
    to_local: Callable[[datetime], datetime],
    from_local: Callable[[datetime], datetime],
) -> list[Alert]:
    """An alert per schedule that missed its last due run or whose last run wrote no report."""
    alerts = []
    for schedule, last in items:
        status = schedule_status(schedule, last, now, to_local, from_local)
        if status.alert is not None:
            alerts.append(status.alert)
    return alerts
