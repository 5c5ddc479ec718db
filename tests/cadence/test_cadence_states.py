"""Each cadence state of a plan at a fixed ``now`` (``domain.views.cadence``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from drs_desktop.domain.plan.model import NO_CADENCE, Cadence
from drs_desktop.domain.views.cadence import (
    CadenceFacts,
    CadenceKind,
    DrillFact,
    NativeKnowledge,
    ServerMembership,
    cadence_summary,
    plan_cadence,
)
from drs_desktop.domain.views.launch_drift import DriftState, PlanDrift, ServerDrift

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
EVERY_30 = Cadence(every_days=30, retest_days=14)


def drill(days_ago: int, outcome: str = "SUCCEEDED", *, partial: bool = False, name: str = "") -> DrillFact:
    return DrillFact(name or f"e-{days_ago}-{outcome}", NOW - timedelta(days=days_ago), outcome, partial)


def state(cadence: Cadence, *drills: DrillFact, **extra: object):  # type: ignore[no-untyped-def]
    return plan_cadence(CadenceFacts("web", cadence, tuple(drills), **extra), NOW)  # type: ignore[arg-type]


def test_no_cadence_says_so_and_gives_no_date() -> None:
    found = state(NO_CADENCE, drill(400))
    assert found.kind is CadenceKind.NO_CADENCE
    assert found.headline == "no cadence set"
    assert not any("due" in r.text for r in found.reasons)
    assert not found.needs_test


def test_never_tested() -> None:
    found = state(EVERY_30)
    assert found.kind is CadenceKind.NEVER_TESTED
    assert found.headline == "never tested"
    assert found.needs_test


def test_due_in_five_days() -> None:
    found = state(EVERY_30, drill(25))
    assert found.kind is CadenceKind.DUE
    assert found.headline == "due in 5 days"
    assert found.reasons[0].days == 5
    assert "last good drill 2026-05-21" in found.reasons[0].text
    assert not found.needs_test


def test_due_today_and_overdue_by_three_days() -> None:
    assert state(EVERY_30, drill(30)).headline == "due today"
    found = state(EVERY_30, drill(33), drill(40))
    assert found.kind is CadenceKind.OVERDUE
    assert found.headline == "overdue by 3 days"
    assert found.needs_test


def test_failed_then_retest_due() -> None:
    found = state(EVERY_30, drill(10), drill(4, "FAILED"))
    assert found.kind is CadenceKind.RETEST_DUE
    assert found.headline == "failed, re-test due in 10 days"
    assert found.last_failed is not None and found.last_failed.finished_at == NOW - timedelta(days=4)
    # the every_days clock still runs from the good drill before, and is listed too
    assert [r.text.split(" (")[0] for r in found.reasons] == [
        "failed, re-test due in 10 days",
        "due in 20 days",
    ]


def test_failed_then_retest_overdue() -> None:
    found = state(EVERY_30, drill(20), drill(16, "FAILED"))
    assert found.kind is CadenceKind.RETEST_OVERDUE
    assert found.headline == "failed, re-test overdue by 2 days"


def test_failed_then_good_clears_the_failure() -> None:
    found = state(EVERY_30, drill(20, "FAILED"), drill(3))
    assert found.kind is CadenceKind.DUE
    assert found.last_failed is None
    assert found.headline == "due in 27 days"


def test_partial_and_cancelled_drills_do_not_count_as_good() -> None:
    found = state(EVERY_30, drill(40), drill(2, partial=True), drill(1, "CANCELLED"))
    assert found.headline == "overdue by 10 days"
    failed_partial = state(EVERY_30, drill(5), drill(1, "FAILED", partial=True))
    assert failed_partial.kind is CadenceKind.RETEST_DUE


def test_failure_without_retest_period_is_named() -> None:
    found = state(Cadence(every_days=30), drill(3, "FAILED"))
    assert found.kind is CadenceKind.FAILED
    assert found.headline == "failed on 2026-06-12; no re-test period set"


def membership(drilled: tuple[str, ...], current: tuple[str, ...] | None) -> ServerMembership:
    names = {"s-1": "web-01", "s-2": "web-02", "s-3": "db-01"}
    return ServerMembership(drilled, current, names, inventory_at=NOW - timedelta(hours=2))


AFTER = Cadence(every_days=30, after_changes=True)


def test_changed_server_added_and_removed_named_by_hostname_with_age() -> None:
    found = state(
        AFTER, drill(5), servers=membership(("s-1", "s-2"), ("s-1", "s-3", "s-9")), drift_read_at=NOW
    )
    assert found.kind is CadenceKind.CHANGED
    assert found.headline == "changed since the last good drill"
    texts = [r.text for r in found.reasons if r.kind is CadenceKind.CHANGED]
    assert texts == [
        "servers added since the drill of 2026-06-10: db-01, s-9 (inventory 2 h ago)",
        "servers removed since the drill of 2026-06-10: web-02 (inventory 2 h ago)",
    ]
    assert found.reason_of(CadenceKind.DUE) is not None  # every reason listed, not just the worst
    assert found.needs_test


def test_changed_by_drift() -> None:
    drifted = ServerDrift("s-1", "web-01", "web", DriftState.DRIFTED)
    fine = ServerDrift("s-2", "web-02", "web", DriftState.AS_DESIRED)
    reading = PlanDrift("web", 3, NOW - timedelta(minutes=7), (drifted, fine))
    found = state(
        AFTER,
        drill(5),
        servers=membership(("s-1",), ("s-1",)),
        drift=reading,
        drift_read_at=NOW - timedelta(minutes=7),
    )
    assert found.kind is CadenceKind.CHANGED
    reason = found.reason_of(CadenceKind.CHANGED)
    assert reason is not None
    assert reason.text == "launch settings drifted from their desired state: web-01 (read 7 min ago)"
    assert reason.known_at == NOW - timedelta(minutes=7)


def test_changed_native_plan() -> None:
    native = NativeKnowledge("arn:plan", changed=True, read_at=NOW - timedelta(days=2))
    found = state(AFTER, drill(5), servers=membership(("s-1",), ("s-1",)), drift_read_at=NOW, native=native)
    assert found.kind is CadenceKind.CHANGED
    reason = found.reason_of(CadenceKind.CHANGED)
    assert reason is not None
    assert reason.text == "the native DRS plan was changed outside the app (read 2 days ago)"


def test_unknown_knowledge_is_listed_never_called_unchanged() -> None:
    native = NativeKnowledge("arn:plan")  # linked, never read
    found = state(Cadence(after_changes=True), drill(5), servers=membership(("s-1",), None), native=native)
    unknown = [r.text for r in found.reasons if r.kind is CadenceKind.UNKNOWN]
    assert unknown == [
        "servers not compared: no inventory cached",
        "launch settings drift: not read yet",
        "native DRS plan: not read since this desktop started",
    ]
    assert found.kind is CadenceKind.WITHIN
    assert found.headline == "within its cadence"


def test_change_rule_off_lists_no_change() -> None:
    found = state(EVERY_30, drill(5), servers=membership(("s-1",), ("s-3",)), drift_read_at=NOW)
    assert found.reason_of(CadenceKind.CHANGED) is None


def test_worst_state_wins_over_changes() -> None:
    found = state(AFTER, drill(40), servers=membership(("s-1",), ("s-3",)), drift_read_at=NOW)
    assert found.headline == "overdue by 10 days"
    assert found.reason_of(CadenceKind.CHANGED) is not None


def test_days_count_in_the_time_zone_of_now() -> None:
    # finished 23:30 UTC on June 1 = June 2 in UTC+2: 30 days later is July 2 there, July 1 in UTC
    plus_two = NOW.astimezone(timezone(timedelta(hours=2)))
    finished = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    facts = CadenceFacts("web", EVERY_30, (DrillFact("e", finished, "SUCCEEDED"),))
    assert plan_cadence(facts, NOW).headline == "due in 16 days"
    assert plan_cadence(facts, plus_two).headline == "due in 17 days"


def test_summary_line() -> None:
    states = [
        state(EVERY_30, drill(33)),
        state(EVERY_30),
        state(EVERY_30, drill(20), drill(3, "FAILED")),
        state(EVERY_30, drill(1)),
    ]
    assert cadence_summary(states) == "2 plans overdue, 1 needs a re-test"
    assert cadence_summary([state(NO_CADENCE)]) == "no plan has a cadence set"
    assert cadence_summary([state(EVERY_30, drill(1))]) == "every plan with a cadence is within it"


def test_one_line_has_the_worst_reason_in_full_then_the_others() -> None:
    found = state(EVERY_30, drill(10), drill(4, "FAILED"))
    assert found.line() == (
        "failed, re-test due in 10 days (drill of 2026-06-11); "
        "due in 20 days (every 30 days; last good drill 2026-06-05)"
    )
    changed = state(AFTER, drill(5), servers=membership(("s-1",), ("s-1", "s-2")), drift_read_at=NOW)
    assert changed.line().startswith("changed since the last good drill; servers added since the drill of")


# ------------------------------------------------------------------ the one rule (GOOD_DRILL_RULE)


def test_a_drill_that_succeeded_with_a_failed_server_is_a_failed_drill() -> None:
    """Its optional server was not proven: not good, and the re-test clock runs from it."""
    lost = DrillFact("opt", NOW - timedelta(days=4), "SUCCEEDED", failed_servers=1)
    assert (lost.passed, lost.good, lost.failed) == (False, False, True)
    found = state(EVERY_30, drill(10, name="whole"), lost)
    assert found.last_good is not None and found.last_good.execution_id == "whole"
    assert found.last_failed is lost
    assert found.headline == "failed, re-test due in 10 days"
    # the re-test (14 days after the failed drill) comes before the next 30-day drill
    assert found.due_on == (NOW + timedelta(days=10)).date()
    assert found.next_due == "2026-06-25 (re-test within 14 days of the failed drill of 2026-06-11)"


def test_a_drill_whose_journal_cannot_be_read_is_not_counted_and_says_so() -> None:
    unread = DrillFact("x", NOW - timedelta(days=2), "SUCCEEDED", problem="its journal cannot be read (bad)")
    assert (unread.passed, unread.good, unread.failed) == (False, False, False)
    found = state(EVERY_30, drill(40), unread)
    assert found.headline == "overdue by 10 days"
    assert "drill of 2026-06-13 not counted: its journal cannot be read (bad)" in [
        r.text for r in found.reasons if r.kind is CadenceKind.UNKNOWN
    ]
    # a drill the record says FAILED failed, whatever its journal: the fault is on record
    assert DrillFact("y", NOW, "FAILED", problem="unreadable").failed is True
    never = state(EVERY_30, unread)
    assert never.kind is CadenceKind.NEVER_TESTED and never.next_due == "now: never tested"


def test_next_due_in_words_when_no_clock_gives_a_day() -> None:
    assert state(NO_CADENCE, drill(3)).next_due == "no cadence set"
    assert state(NO_CADENCE, drill(3)).due_on is None
    failed = state(Cadence(every_days=30), drill(3, "FAILED"))
    assert failed.due_on is None
    assert failed.next_due == "now: failed on 2026-06-12; no re-test period set"
    due = state(EVERY_30, drill(25))
    assert due.next_due == "2026-06-20 (every 30 days after the last good drill of 2026-05-21)"
