"""One definition of a good drill and of the next test due, read three ways from one database of real
drills (tests/reports/period_estate.py): the dashboard's cadence (``services.cadence``), the period
roll-up (``services.report_period``) and a run's evidence report (``services.reports``) must agree.

"Alpha" has a drill that passed (2026-02-10) and then one whose optional server failed its launch
(2026-03-16: the run SUCCEEDED). With a cadence of every 90 days and a re-test within 30, that second
drill is not good: it is a failed drill, so the re-test is due 2026-04-15, sooner than the 90 days after
the good drill (2026-05-11). Journaling the first drill as a partial test leaves no good drill at all.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from drs_desktop.domain.engine.annotation_events import TestRecorded, TestType
from drs_desktop.domain.plan.model import Cadence
from drs_desktop.domain.views.cadence import GOOD_DRILL_RULE, CadenceKind, PlanCadence, plan_cadence
from drs_desktop.domain.views.period import PlanPeriod
from drs_desktop.domain.views.period_range import PeriodRequest, period_of
from drs_desktop.services.cadence import cadence_facts, cadence_to_json, read_cadence
from drs_desktop.services.readiness import ReadinessService
from drs_desktop.services.report_audit import csv_sections
from drs_desktop.services.report_pdf import pdf_report
from drs_desktop.services.report_period import build_period_report, render_period
from drs_desktop.services.reports import load_execution_view, render_csv, render_html, render_json
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database
from tests.reports.period_estate import NOW, OPERATOR, Estate, _annotate, build_estate
from tests.reports.test_period_rollup import html_text

RULES = Cadence(every_days=90, retest_days=30)
#: A period that holds the report's time, so the roll-up judges the cadence at NOW, as the dashboard.
YEAR = period_of(date(2026, 1, 1), date(2026, 12, 31))
RETEST = "2026-04-15 (re-test within 30 days of the failed drill of 2026-03-16)"


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Estate]]:
    # The single report counts days in this machine's zone, as the dashboard does: pin it, so the dates
    # below hold on any machine.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    with Database.open(tmp_path / "drs-desktop.sqlite3") as db:
        ids = build_estate(db)
        plan = plan_store.get_plan(db, "Alpha")
        plan_store.save_plan(db, dataclasses.replace(plan, cadence=RULES), comment="cadence set")
        yield db, ids
    monkeypatch.undo()
    time.tzset()


def dashboard(db: Database) -> PlanCadence:
    """Alpha's cadence as the dashboard decides it: the database's facts, the state at NOW."""
    summary = next(s for s in plan_store.list_plans(db) if s.name == "Alpha")
    plan = plan_store.get_plan(db, "Alpha")
    inventory = inventory_store.load_inventory(db)
    facts = cadence_facts(db, plan, summary.plan_id, summary.latest_revision, inventory)
    return plan_cadence(facts, NOW)


def roll_up_row(db: Database) -> PlanPeriod:
    report = build_period_report(db, PeriodRequest(YEAR, ("Alpha",)), now=NOW)
    return report.plans[0]


def report_due(db: Database, execution_id: str) -> dict[str, object]:
    view = load_execution_view(db, execution_id)
    return dict(json.loads(render_json(view, generated_at=NOW))["audit"]["test"]["next_test_due"])


def test_a_drill_whose_optional_server_failed_is_not_good_anywhere(estate: tuple[Database, Estate]) -> None:
    db, ids = estate
    state = dashboard(db)
    assert state.last_good is not None and state.last_good.execution_id == ids.alpha_passed
    assert state.last_failed is not None and state.last_failed.execution_id == ids.alpha_failed
    assert state.last_failed.failed_servers == 1 and state.last_failed.outcome == "SUCCEEDED"
    assert state.kind is CadenceKind.RETEST_OVERDUE and state.headline == "failed, re-test overdue by 77 days"
    assert (state.due_on, state.next_due) == (date(2026, 4, 15), RETEST)

    row = roll_up_row(db)
    assert row.cadence.at == NOW
    assert row.last_good is not None and row.last_good.execution_id == ids.alpha_passed
    failed = next(r for r in row.tests if r.execution_id == ids.alpha_failed)
    assert failed.verdict == "failed"
    assert (row.next_due, row.cadence.headline, row.cadence.next_due) == (
        state.due_on,
        state.headline,
        state.next_due,
    )
    assert (
        html_text(render_period(build_period_report(db, PeriodRequest(YEAR), now=NOW), "html")).count(
            "2026-04-15 (re-test within 30 days of the failed drill of 2026-03-16)"
        )
        == 1
    )

    for execution_id in (ids.alpha_passed, ids.alpha_failed):  # every run of the plan says the same
        due = report_due(db, execution_id)
        assert (due["due_on"], due["state"], due["text"]) == ("2026-04-15", state.headline, RETEST)
        assert due["last_good_drill"] == ids.alpha_passed

    # the dashboard's plan card names the same last good drill (its changes and RTO are read from it)
    card = next(c for c in ReadinessService(db, clock=lambda: NOW).overview().cards if c.plan_name == "Alpha")
    assert card.last_good_drill is not None and card.last_good_drill.execution_id == ids.alpha_passed
    assert card.last_drill is not None and card.last_drill.execution_id == ids.alpha_failed

    # plan cadence --json says it too
    reading = read_cadence(db, NOW)
    alpha = cadence_to_json(next(p for p in reading.plans if p.plan_name == "Alpha"))
    assert (alpha["due_on"], alpha["next_due"]) == ("2026-04-15", RETEST)
    assert alpha["failed_drill"]["failed_servers"] == 1


def test_a_partial_drill_is_not_good_anywhere(estate: tuple[Database, Estate]) -> None:
    db, ids = estate
    partial = TestRecorded(test_type=TestType.PARTIAL, scenario="Database tier only", at=NOW, by=OPERATOR)
    _annotate(db, ids.alpha_passed, [partial])  # the last TestRecorded is the one that counts
    state = dashboard(db)
    assert state.last_good is None
    assert state.last_failed is not None and state.last_failed.execution_id == ids.alpha_failed
    assert (state.due_on, state.next_due) == (date(2026, 4, 15), RETEST)

    row = roll_up_row(db)
    passed = next(r for r in row.tests if r.execution_id == ids.alpha_passed)
    # the partial test passed as a test of its part, and is no good drill of the plan
    assert (passed.verdict, passed.test_type, passed.partial) == ("passed", "partial", True)
    assert row.last_good is None
    assert (row.next_due, row.due_reason, row.cadence.headline) == (
        date(2026, 4, 15),
        "re-test within 30 days of the failed drill of 2026-03-16",
        state.headline,
    )
    due = report_due(db, ids.alpha_passed)
    assert (due["due_on"], due["text"], due["last_good_drill"]) == ("2026-04-15", RETEST, None)


def test_the_single_report_shows_the_next_test_due_in_every_form(estate: tuple[Database, Estate]) -> None:
    db, ids = estate
    view = load_execution_view(db, ids.alpha_failed)
    text = html_text(render_html(view, generated_at=NOW))
    assert f"Next test due: {RETEST}" in text
    assert "The plan's drill cadence as of 2026-07-01 08:00:00Z (when this report was made): " in text
    assert " ".join(GOOD_DRILL_RULE.split()) in text
    # the CSV's test section, read back
    rows = csv_sections(render_csv(view, generated_at=NOW))["test"].rows
    assert [(r["next_test_due"], r["next_test_due_on"], r["cadence_as_of"]) for r in rows] == [
        (RETEST, "2026-04-15", "2026-07-01T08:00:00Z")
    ]
    assert rows[0]["cadence"] == "failed, re-test overdue by 77 days"
    # the PDF's rich text (laid out by the ui layer) carries the same line
    assert f"Next test due: {RETEST}" in pdf_report(view, generated_at=NOW).html


def test_a_run_of_a_deleted_plan_says_its_next_test_due_is_unknown(estate: tuple[Database, Estate]) -> None:
    db, ids = estate
    plan_store.delete_plan(db, "Bravo")
    due = report_due(db, ids.bravo_before)
    assert due["state"] == "unknown" and due["due_on"] is None
    assert due["text"] == "unknown: the plan no longer exists (deleted since the run)"
