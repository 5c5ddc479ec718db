"""Cadence day counts across a daylight-saving change: a plan's next test is due ``every_days`` calendar
days after the last good drill's local day, whatever the clocks did in between (``domain.views.cadence``
and the roll-up, which judges it in the period's zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from drs_desktop.domain.plan.model import Cadence
from drs_desktop.domain.views.cadence import CadenceFacts, CadenceKind, DrillFact, plan_cadence

NEW_YORK = ZoneInfo("America/New_York")  # EST (UTC-5) until 2026-03-08, EDT (UTC-4) after


def _state(finished_at: datetime, now: datetime, cadence: Cadence):  # type: ignore[no-untyped-def]
    drill = DrillFact("e-1", finished_at, "SUCCEEDED")
    return plan_cadence(CadenceFacts("web", cadence, (drill,)), now)


def test_spring_forward_a_late_evening_drill_is_due_on_its_own_day_plus_every_days() -> None:
    # 2026-03-01 23:30 EST is 04:30 UTC on 2026-03-02: the drill's day is March 1, so due March 31.
    finished = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
    now = datetime(2026, 3, 31, 12, 0, tzinfo=NEW_YORK)
    found = _state(finished, now, Cadence(every_days=30))
    assert found.due_on == date(2026, 3, 31)
    assert found.kind is CadenceKind.DUE_TODAY, found.headline
    assert "last good drill 2026-03-01" in found.reasons[0].text


def test_fall_back_an_early_morning_drill_is_not_due_a_day_early() -> None:
    # 2026-10-20 00:30 EDT is 04:30 UTC: the drill's day is October 20, so due November 19 (after the
    # clocks went back on November 1), not November 18.
    finished = datetime(2026, 10, 20, 4, 30, tzinfo=UTC)
    now = datetime(2026, 11, 18, 12, 0, tzinfo=NEW_YORK)
    found = _state(finished, now, Cadence(every_days=30))
    assert found.due_on == date(2026, 11, 19)
    assert found.kind is CadenceKind.DUE and found.headline == "due in 1 day"


def test_retest_clock_counts_calendar_days_too() -> None:
    drill = DrillFact("e-f", datetime(2026, 3, 2, 4, 30, tzinfo=UTC), "FAILED")
    now = datetime(2026, 3, 15, 12, 0, tzinfo=NEW_YORK)
    found = plan_cadence(CadenceFacts("web", Cadence(retest_days=14), (drill,)), now)
    assert found.due_on == date(2026, 3, 15)  # failed on March 1 (local), re-test within 14 days
    assert found.kind is CadenceKind.RETEST_DUE and found.headline == "failed, re-test due today"
