"""The retention's rules (domain/views/retention.py): each reason a run is kept, and the cutoff."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from drs_desktop.domain.views.retention import (
    RunFacts,
    kept_reasons,
    retention_cutoff,
    select_for_retention,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OLD = RunFacts(
    execution_id="e-old",
    plan_name="Payroll",
    mode="DRILL",
    started_at=NOW - timedelta(days=100, hours=1),
    finished_at=NOW - timedelta(days=100),
    outcome="SUCCEEDED",
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"finished_at": None, "outcome": None}, "not finished"),
        ({"finished_at": NOW - timedelta(days=3)}, "ended after 2026-09-02 12:00 UTC"),
        ({"driven_by": "pid 42 on host-a"}, "being driven right now (pid 42 on host-a)"),
        ({"instances_running": ("i-1", "i-2")}, "2 drill instance(s) still running (i-1, i-2)"),
        ({"left_pointed": ("s-1",)}, "launch templates of 1 server(s) may still point at a drill version"),
        ({"open_findings": ("DNS late", "a", "b", "c")}, "4 open finding(s): DNS late, a, b and 1 more"),
        ({"unreadable": "entries 5 to 7 are missing"}, "its journal cannot be read (entries 5 to 7"),
        ({"conflict": True}, "an open sync conflict"),
    ],
)
def test_each_reason_keeps_the_run_and_says_why(change: dict[str, object], expected: str) -> None:
    run = replace(OLD, **change)  # type: ignore[arg-type]
    plan = select_for_retention([run], 90, NOW)
    assert plan.goes == ()
    assert len(plan.kept) == 1 and expected in " | ".join(plan.kept[0].reasons)


def test_an_old_finished_run_with_nothing_against_it_goes_and_the_goes_are_oldest_first() -> None:
    older = replace(OLD, execution_id="e-older", finished_at=NOW - timedelta(days=200))
    plan = select_for_retention([OLD, older], 90, NOW)
    assert [f.execution_id for f in plan.goes] == ["e-older", "e-old"]
    assert plan.kept == () and plan.held == ()


def test_every_reason_is_said_not_only_the_first() -> None:
    run = replace(OLD, instances_running=("i-1",), open_findings=("x",), conflict=True)
    assert len(kept_reasons(run, NOW - timedelta(days=90))) == 3


def test_zero_days_keeps_everything_and_a_named_deletion_ignores_the_age() -> None:
    assert retention_cutoff(NOW, 0) is None
    plan = select_for_retention([OLD], 0, NOW)
    assert plan.goes == () and plan.kept[0].reasons == ("the retention keeps everything (0 days)",)
    recent = replace(OLD, finished_at=NOW - timedelta(hours=1))
    assert kept_reasons(recent, None) == ()


@pytest.mark.parametrize("days", [-1, 1.5, True, "30"])
def test_a_retention_that_is_not_whole_days_is_refused(days: object) -> None:
    with pytest.raises(ValueError, match="whole number of days"):
        retention_cutoff(NOW, days)  # type: ignore[arg-type]


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        retention_cutoff(NOW.replace(tzinfo=None), 30)
