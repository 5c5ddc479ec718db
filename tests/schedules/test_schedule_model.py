"""The schedule's validation (one clear line per problem) and its due times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.schedule.model import Frequency, ScheduleError, check_schedule, parse_time_of_day
from drs_desktop.domain.schedule.timing import LastRun, last_due, missed_alerts, next_due, schedule_status
from tests.schedules.values import CREATED, a_schedule


def identity(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def back(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"schedule_id": "BAD ID"}, "schedule ID"),
        ({"frequency": Frequency.WEEKLY}, "needs a day of the week"),
        ({"frequency": Frequency.MONTHLY, "day_of_month": 31}, "from 1 to 28"),
        ({"weekday": 2}, "takes no day of the week"),
        ({"hour": 24}, "the hour is 0-23"),
        ({"soak_minutes": -1}, "soak -1 minutes"),
        ({"report_dir": "reports"}, "must be an absolute path"),
        ({"plan_name": "Shop\nx"}, "control character"),
        ({"profile": "two words"}, "no spaces"),
        ({"region": "Frankfurt"}, "not an AWS Region code"),
    ],
)
def test_a_bad_schedule_is_refused_with_the_field_named(changes: dict[str, object], expected: str) -> None:
    with pytest.raises(ScheduleError, match=expected):
        check_schedule(a_schedule(**changes))


def test_a_good_schedule_passes() -> None:
    schedule = a_schedule(frequency=Frequency.WEEKLY, weekday=6)
    assert check_schedule(schedule) is schedule
    assert schedule.describe_when() == "weekly on Sunday at 02:30"


def test_time_of_day_parses_or_says_how() -> None:
    assert parse_time_of_day(" 2:05 ") == (2, 5)
    with pytest.raises(ScheduleError, match="HH:MM"):
        parse_time_of_day("25:00")


def test_due_times_follow_the_calendar() -> None:
    weekly = a_schedule(frequency=Frequency.WEEKLY, weekday=6)  # Sunday 02:30
    now = datetime(2026, 11, 25, 12, 0)  # a Wednesday
    assert last_due(weekly, now) == datetime(2026, 11, 22, 2, 30)
    assert next_due(weekly, now) == datetime(2026, 11, 29, 2, 30)
    monthly = a_schedule(frequency=Frequency.MONTHLY, day_of_month=28)
    assert last_due(monthly, now) == datetime(2026, 10, 28, 2, 30)
    assert next_due(monthly, now) == datetime(2026, 11, 28, 2, 30)
    daily = a_schedule()
    assert last_due(daily, datetime(2026, 11, 25, 2, 30)) == datetime(2026, 11, 25, 2, 30)
    assert last_due(daily, datetime(2026, 11, 25, 2, 29)) == datetime(2026, 11, 24, 2, 30)


def test_a_run_not_started_within_the_grace_is_missed() -> None:
    schedule = a_schedule()  # daily 02:30, created 2026-11-01 09:00
    now = datetime(2026, 11, 25, 4, 31, tzinfo=UTC)  # 2 h 1 min after today's due time
    alerts = missed_alerts([(schedule, None)], now, identity, back)
    assert [a.kind for a in alerts] == [AlertKind.SCHEDULE_MISSED]
    assert "missed the run due 2026-11-25 02:30" in alerts[0].title
    # within the grace: yesterday's run counts, today's is not late yet
    yesterday = LastRun(
        started_at=datetime(2026, 11, 24, 2, 30, 5, tzinfo=UTC),
        ended_at=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        outcome="succeeded",
        report_path="/srv/r.html",
    )
    early = datetime(2026, 11, 25, 4, 29, tzinfo=UTC)
    assert missed_alerts([(schedule, yesterday)], early, identity, back) == []
    assert missed_alerts([(schedule, yesterday)], now, identity, back)[0].title.startswith(
        "scheduled drill of 'Shop' missed"
    )


def test_a_schedule_is_not_expected_to_have_run_before_it_existed() -> None:
    schedule = a_schedule(created_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    now = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    status = schedule_status(schedule, None, now, identity, back)
    assert status.alert is None
    assert status.text == "no run yet; next 2026-11-26 02:30 local time"


def test_a_run_without_a_report_raises_an_alert_with_its_reason() -> None:
    schedule = a_schedule()
    refused = LastRun(
        started_at=datetime(2026, 11, 25, 2, 30, tzinfo=UTC),
        ended_at=datetime(2026, 11, 25, 2, 31, tzinfo=UTC),
        outcome="refused",
        detail="execution abc123 holds server s-1",
    )
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    status = schedule_status(schedule, refused, now, identity, back)
    assert status.alert is not None and "did not report" in status.alert.title
    assert status.alert.detail == "refused: execution abc123 holds server s-1"
    running = LastRun(started_at=now - timedelta(minutes=20))
    assert schedule_status(schedule, running, now, identity, back).alert is None
    assert CREATED < now
