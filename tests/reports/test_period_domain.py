"""The pure roll-up (``domain.views.period``) on values: the passed rule, RPO met only when known, the
cadence's next due date, sign-off words, unreadable runs, deleted plans, and the period's bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from drs_desktop.domain.engine.annotation_events import ReviewSignedOff, TestRecorded, TestType
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.plan.model import Cadence
from drs_desktop.domain.views.audit import AuditRecord, ServerRpo
from drs_desktop.domain.views.cadence import CadenceFacts, DrillFact, plan_cadence
from drs_desktop.domain.views.period import PlanInfo, RunFacts, cadence_time, roll_up, unreadable_run
from drs_desktop.domain.views.period_range import PeriodError, parse_period, period_of

PERIOD = period_of(date(2026, 1, 1), date(2026, 12, 31))
NOW = datetime(2027, 1, 2, tzinfo=UTC)


def run(
    plan: str,
    day: date,
    result: str = "SUCCEEDED",
    *,
    mode: str = "DRILL",
    failed: tuple[str, ...] = (),
    finished: bool = True,
    rpo: tuple[ServerRpo, ...] = (),
    audit: AuditRecord | None = None,
) -> RunFacts:
    started = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return RunFacts(
        execution_id=f"{plan}-{day.isoformat()}",
        plan_id=plan,
        plan_name=plan.capitalize(),
        mode=mode,
        started_at=started,
        finished_at=started + timedelta(hours=1) if finished else None,
        result=result,
        failed_servers=failed,
        rpo=rpo,
        rpo_target=timedelta(minutes=15),
        audit=audit or AuditRecord(),
    )


def rpo(server: str, minutes: int | None) -> ServerRpo:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    achieved = None if minutes is None else timedelta(minutes=minutes)
    return ServerRpo(server, None, at, achieved, timedelta(minutes=15))


def test_passed_needs_success_and_no_failed_server() -> None:
    assert run("a", date(2026, 2, 1)).verdict == "passed"
    assert run("a", date(2026, 2, 1), failed=("s-1",)).verdict == "failed"
    assert run("a", date(2026, 2, 1), "CANCELLED").verdict == "failed"
    assert run("a", date(2026, 2, 1), "FAILED").result_text == "FAILED"
    assert run("a", date(2026, 2, 1), "RUNNING", finished=False).verdict == "unknown"


def test_rpo_is_met_only_when_every_server_is_known_and_within() -> None:
    assert run("a", date(2026, 2, 1), rpo=(rpo("s-1", 5), rpo("s-2", 14))).rpo_met is True
    breached = run("a", date(2026, 2, 1), rpo=(rpo("s-1", 20), rpo("s-2", None)))
    assert breached.rpo_met is False and breached.rpo_worst == timedelta(minutes=20)
    unknown = run("a", date(2026, 2, 1), rpo=(rpo("s-1", 5), rpo("s-2", None)))
    assert unknown.rpo_met is None and unknown.rpo_unknown == 1
    assert run("a", date(2026, 2, 1)).rpo_met is None  # nothing launched: nothing to say


def test_sign_off_words() -> None:
    at = datetime(2026, 2, 2, tzinfo=UTC)

    def signed(*, accepted: bool, self_signed: bool) -> str:
        off = ReviewSignedOff(
            arn="arn:x", account="1", user_id="u", accepted=accepted, self_signed=self_signed, at=at
        )
        return run("a", date(2026, 2, 1), audit=AuditRecord(sign_offs=(off,))).sign_off_text

    assert signed(accepted=True, self_signed=False) == "signed off independently"
    assert signed(accepted=True, self_signed=True) == "self-signed"
    assert signed(accepted=False, self_signed=False) == "review not accepted"
    assert run("a", date(2026, 2, 1)).sign_off_text == "not signed"


def test_next_due_is_the_cadence_modules_answer() -> None:
    plans = [
        PlanInfo("a", "Alpha", cadence=Cadence(every_days=90, retest_days=30)),
        PlanInfo("b", "Bravo", cadence=Cadence(every_days=365)),
        PlanInfo("c", "Charlie"),
    ]
    runs = [
        run("a", date(2026, 3, 1)),  # passed: next due 90 days on
        run("a", date(2026, 4, 1), failed=("s-1",)),  # not passed: re-test within 30 days, sooner
        run("a", date(2026, 4, 2), mode="RECOVERY"),  # a recovery is no drill for the cadence
        run("b", date(2025, 6, 1), "FAILED"),  # never passed, no re-test period set
        run("c", date(2026, 5, 1)),
    ]
    report = roll_up(PERIOD, plans, runs, now=NOW)
    alpha, bravo, charlie = report.plans
    assert alpha.next_due == date(2026, 5, 1)
    assert alpha.due_reason == "re-test within 30 days of the failed drill of 2026-04-01"
    # the last good drill, not the recovery after it: a recovery is no drill
    assert alpha.last_good is not None and alpha.last_good.execution_id == "a-2026-03-01"
    assert alpha.cadence.headline == "failed, re-test overdue by 244 days"
    # the period is over: its cadence is judged at its last moment, in its zone
    assert alpha.cadence.at == cadence_time(PERIOD, NOW) == datetime(2026, 12, 31, 23, 59, 59, 999999, UTC)
    assert (bravo.next_due, bravo.due_reason) == (None, "now: failed on 2025-06-01; no re-test period set")
    assert (charlie.next_due, charlie.due_reason) == (None, "no cadence set")
    assert [row.plan.name for row in report.untested] == ["Bravo"]
    only_good = roll_up(PERIOD, plans[:1], runs[:1], now=NOW).plans[0]
    assert only_good.next_due == date(2026, 5, 30)
    assert only_good.due_reason == "every 90 days after the last good drill of 2026-03-01"


def test_the_roll_up_and_the_cadence_agree_on_every_drill() -> None:
    """The same drills, read by the roll-up (as RunFacts) and by the dashboard's cadence (as DrillFacts
    the way services.cadence builds them): the same last good drill and the same next test due."""
    rules = Cadence(every_days=30, retest_days=14)
    partial = AuditRecord(test=TestRecorded(test_type=TestType.PARTIAL, at=datetime(2026, 6, 1, tzinfo=UTC)))
    runs = [
        run("a", date(2026, 5, 1)),  # good
        run("a", date(2026, 6, 1), audit=partial),  # partial: passed, not good, no fault
        run("a", date(2026, 6, 10), failed=("s-opt",)),  # optional server failed: a failed drill
        run("a", date(2026, 6, 12), "CANCELLED"),  # moves no clock
    ]
    now = datetime(2026, 6, 20, 12, tzinfo=UTC)
    row = roll_up(period_of(date(2026, 6, 1), date(2026, 6, 30)), [PlanInfo("a", "A", cadence=rules)],
                  runs, now=now).plans[0]  # fmt: skip
    facts = (
        DrillFact("a-2026-05-01", datetime(2026, 5, 1, 10, tzinfo=UTC), "SUCCEEDED"),
        DrillFact("a-2026-06-01", datetime(2026, 6, 1, 10, tzinfo=UTC), "SUCCEEDED", partial=True),
        DrillFact("a-2026-06-10", datetime(2026, 6, 10, 10, tzinfo=UTC), "SUCCEEDED", failed_servers=1),
        DrillFact("a-2026-06-12", datetime(2026, 6, 12, 10, tzinfo=UTC), "CANCELLED"),
    )
    dashboard = plan_cadence(CadenceFacts("A", rules, facts), now)
    assert [r.drill_fact() for r in runs] == list(facts)
    assert row.cadence == dashboard
    assert dashboard.last_good is not None and dashboard.last_good.execution_id == "a-2026-05-01"
    assert dashboard.last_failed is not None and dashboard.last_failed.execution_id == "a-2026-06-10"
    assert (row.next_due, dashboard.headline) == (date(2026, 5, 31), "overdue by 20 days")
    assert [r.verdict for r in runs] == ["passed", "passed", "failed", "failed"]


def test_unreadable_runs_count_as_unknown_and_deleted_plans_keep_their_runs() -> None:
    record = ExecutionRecord(
        execution_id="x-1",
        plan_id="gone",
        plan_revision_id="r",
        plan_name="Old plan",
        plan_revision=3,
        mode="DRILL",
        status="RUNNING",
        outcome=None,
        options={},
        identity={},
        started_at=datetime(2026, 5, 5, tzinfo=UTC),
    )
    broken = unreadable_run(record, "its journal cannot be replayed: unknown event")
    report = roll_up(PERIOD, [PlanInfo("gone", "Old plan", exists=False)], [broken], now=NOW)
    assert broken.verdict == "unknown" and broken.result_text.startswith("UNREADABLE: its journal")
    assert report.summary.unknown == 1 and report.summary.rto_unknown == 1 and report.runs == (broken,)


def test_runs_of_plans_out_of_scope_and_after_the_period_are_left_out() -> None:
    runs = [run("a", date(2027, 1, 1)), run("b", date(2026, 6, 1)), run("a", date(2026, 12, 31))]
    report = roll_up(PERIOD, [PlanInfo("a", "Alpha")], runs, now=NOW)
    assert [r.execution_id for r in report.runs] == ["a-2026-12-31"]


def test_the_period_bounds() -> None:
    period = parse_period(" 2026-03-01..2026-03-31 ")
    assert period.contains(datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC))
    assert not period.contains(datetime(2026, 4, 1, tzinfo=UTC))
    assert not period.contains(datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC))
    plus_two = timezone(timedelta(hours=2))
    zoned = parse_period("2026-03-01..2026-03-01", plus_two, "UTC+2")
    assert zoned.start == datetime(2026, 2, 28, 22, tzinfo=UTC) and zoned.label.endswith("(UTC+2)")
    for bad, message in (
        ("2026-03-01", "is not FROM..TO"),
        ("2026-3-1..2026-03-31", "the period's start '2026-3-1' is not a date"),
        ("2026-03-01..2026-13-01", "the period's end '2026-13-01' is not a date"),
        ("2026-03-02..2026-03-01", "the period ends (2026-03-01) before it starts (2026-03-02)"),
    ):
        with pytest.raises(PeriodError) as raised:
            parse_period(bad)
        assert message in str(raised.value)


def test_an_unreadable_drill_counts_as_the_dashboard_counts_it() -> None:
    """The roll-up hands the cadence the outcome the run's row records: FAILED is a failed drill (the
    dashboard reads the same row), SUCCEEDED with no readable journal is not counted."""
    rules = Cadence(every_days=30, retest_days=14)

    def broken(day: date, outcome: str) -> RunFacts:
        record = ExecutionRecord(
            execution_id=f"x-{day}", plan_id="a", plan_revision_id="r", plan_name="A", plan_revision=1,
            mode="DRILL", status=outcome, outcome=outcome, options={}, identity={},
            started_at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
            finished_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        )  # fmt: skip
        return unreadable_run(record, "its journal cannot be replayed: unknown event")

    now = datetime(2026, 6, 20, tzinfo=UTC)
    plan = PlanInfo("a", "A", cadence=rules)
    failed = roll_up(
        PERIOD, [plan], [run("a", date(2026, 6, 1)), broken(date(2026, 6, 10), "FAILED")], now=now
    )
    assert failed.plans[0].cadence.headline == "failed, re-test due in 4 days"
    unproven = roll_up(PERIOD, [plan], [run("a", date(2026, 6, 1)), broken(date(2026, 6, 10), "SUCCEEDED")],
                       now=now)  # fmt: skip
    row = unproven.plans[0]
    assert row.last_good is not None and row.last_good.execution_id == "a-2026-06-01"
    assert "drill of 2026-06-10 not counted: its journal cannot be replayed: unknown event" in [
        r.text for r in row.cadence.reasons
    ]
