"""Days are counted in this machine's zone *with its daylight-saving rules*: a drill that ended at 23:30
in winter, seen in summer, is still that day's (``datetime.astimezone()`` would fix today's offset and
date it the next day, its next test due a day late)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from drs_desktop.domain.local_zone import LOCAL_ZONE
from drs_desktop.domain.plan.model import Cadence
from drs_desktop.domain.views.cadence import CadenceFacts, DrillFact, plan_cadence


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is Unix only")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_local_zone_follows_daylight_saving_instant_by_instant(new_york: None) -> None:
    winter = datetime(2026, 1, 11, 4, 30, tzinfo=UTC)  # 23:30 EST on 2026-01-10
    summer = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)  # 12:00 EDT
    assert winter.astimezone(LOCAL_ZONE).date() == date(2026, 1, 10)
    assert winter.astimezone(LOCAL_ZONE).utcoffset() == timedelta(hours=-5)
    assert summer.astimezone(LOCAL_ZONE).utcoffset() == timedelta(hours=-4)
    # What a fixed offset taken today (summer) does to the winter evening: the next day.
    assert winter.astimezone(summer.astimezone().tzinfo).date() == date(2026, 1, 11)


def test_a_winter_evenings_drill_is_due_on_its_own_day_seen_in_summer(new_york: None) -> None:
    ended = datetime(2026, 1, 11, 4, 30, tzinfo=UTC)  # 23:30 EST on 2026-01-10
    facts = CadenceFacts(
        plan_name="Shop",
        cadence=Cadence(every_days=180),
        drills=(DrillFact(execution_id="e1", finished_at=ended, outcome="SUCCEEDED"),),
    )
    now = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    state = plan_cadence(facts, now.astimezone(LOCAL_ZONE))
    assert state.due_on == date(2026, 7, 9)  # 2026-01-10 + 180 days
    fixed = plan_cadence(facts, now.astimezone())  # today's offset, fixed: the bug this avoids
    assert fixed.due_on == date(2026, 7, 10)
