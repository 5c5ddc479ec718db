"""The roll-up in a period's own time zone: a finding's due day is judged on the auditor's day (the
period's zone), not UTC's, as the period's bounds and the cadence already are (``domain.views.period``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from drs_desktop.domain.engine.annotation_events import FindingStatus, Severity
from drs_desktop.domain.views.audit import AuditRecord, Finding
from drs_desktop.domain.views.period import PlanInfo, RunFacts, roll_up
from drs_desktop.domain.views.period_range import period_of

NEW_YORK = ZoneInfo("America/New_York")


def _run_with_finding(due: str) -> RunFacts:
    started = datetime(2026, 6, 1, 13, tzinfo=UTC)
    finding = Finding(
        "f-1", "DNS by hand", Severity.HIGH, "Lee", due, FindingStatus.OPEN, started, "dana", ()
    )
    return RunFacts(
        execution_id="e-1",
        plan_id="p",
        plan_name="Shop",
        mode="DRILL",
        started_at=started,
        finished_at=started + timedelta(hours=1),
        result="SUCCEEDED",
        audit=AuditRecord(findings=(finding,)),
    )


def test_a_finding_due_today_in_the_periods_zone_is_not_overdue_yet() -> None:
    period = period_of(date(2026, 6, 1), date(2026, 6, 30), NEW_YORK, "America/New_York")
    # 02:00 UTC on June 16 is 22:00 on June 15 in New York: the finding is due today, not overdue.
    now = datetime(2026, 6, 16, 2, 0, tzinfo=UTC)
    report = roll_up(period, [PlanInfo("p", "Shop")], [_run_with_finding("2026-06-15")], now=now)
    (item,) = report.open_findings
    assert not item.overdue
    assert report.summary.overdue_findings == 0
    # A day later in New York it is.
    later = roll_up(
        period, [PlanInfo("p", "Shop")], [_run_with_finding("2026-06-15")], now=now + timedelta(days=1)
    )
    assert later.open_findings[0].overdue and later.summary.overdue_findings == 1
