"""The period roll-up over real drills (tests/reports/period_estate.py): what it says about a plan with a
passed and a failed drill in the period, one tested only before it, and one never tested; in the
roll-up itself, in the CSV (parsed) and in the HTML (its text)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from drs_desktop.domain.views.period import PASSED_RULE, PeriodReport
from drs_desktop.domain.views.period_range import PeriodRequest
from drs_desktop.services.report_period import (
    PeriodReportError,
    build_period_report,
    plans_in_scope,
    render_period,
    write_period_report,
)
from drs_desktop.services.report_period_csv import PERIOD_CSV_COLUMNS
from drs_desktop.storage.db import Database
from drs_desktop.storage.executions import append_events
from tests.reports.period_estate import NOW, PERIOD, REVIEWER, Estate, build_estate


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Estate]]:
    home: Path = tmp_path_factory.mktemp("period")
    with Database.open(home / "drs-desktop.sqlite3") as db:
        yield db, build_estate(db)


@pytest.fixture(scope="module")
def report(estate: tuple[Database, Estate]) -> PeriodReport:
    db, _ = estate
    return build_period_report(db, PeriodRequest(PERIOD), now=NOW)


def test_runs_in_the_period_with_their_results(report: PeriodReport, estate: tuple[Database, Estate]) -> None:
    _, ids = estate
    assert [r.execution_id for r in report.runs] == [ids.alpha_passed, ids.alpha_failed]
    passed, failed = report.runs
    assert (passed.verdict, passed.result_text) == ("passed", "SUCCEEDED")
    # The run succeeded, its optional server failed: not passed.
    assert (failed.verdict, failed.result_text) == ("failed", "SUCCEEDED with 1 server failed")
    assert passed.test_type == "drill"
    assert passed.rto_target == timedelta(minutes=90) and passed.rto_met is True
    assert passed.rpo_target == timedelta(minutes=30)
    # shop-db-01's data is 10 min older than the start, plus 60 s of lag when it was an instance's point.
    assert passed.rpo_worst == timedelta(minutes=11) and passed.rpo_met is True
    assert failed.rpo_met is None and failed.rpo_unknown == 1  # no recovery point journaled
    assert passed.sign_off_text == "signed off independently" and passed.audit.sign_off is not None
    assert passed.audit.sign_off.arn == REVIEWER
    assert failed.sign_off_text == "self-signed"
    assert (passed.findings_open, passed.findings_total) == (0, 1)
    assert (failed.findings_open, failed.findings_total) == (1, 1)


def test_plans_untested_and_findings(report: PeriodReport, estate: tuple[Database, Estate]) -> None:
    _, ids = estate
    by_name = {row.plan.name: row for row in report.plans}
    assert list(by_name) == ["Alpha", "Bravo", "Charlie"]
    alpha = by_name["Alpha"]
    assert (len(alpha.tests), alpha.passed, alpha.failed) == (2, 1, 1)
    assert alpha.last_good is not None and alpha.last_good.execution_id == ids.alpha_passed
    assert [row.plan.name for row in report.untested] == ["Bravo", "Charlie"]
    bravo = by_name["Bravo"]
    assert bravo.last_test is not None and bravo.last_test.execution_id == ids.bravo_before
    assert by_name["Charlie"].last_test is None
    found = {(f.finding.finding_id, f.overdue, f.before_period) for f in report.open_findings}
    assert found == {("b1", True, True), ("a2", False, False)}  # a1 was resolved
    s = report.summary
    assert (s.plans, s.plans_tested, s.plans_not_tested) == (3, 1, 2)
    assert (s.runs, s.passed, s.failed, s.unknown) == (2, 1, 1, 0)
    assert (s.rto_met, s.rto_breached, s.rto_unknown) == (2, 0, 0)
    assert (s.open_findings, s.overdue_findings) == (2, 1)
    assert (s.signed_independently, s.self_signed, s.not_signed) == (1, 1, 0)


def test_plans_chosen_by_name(estate: tuple[Database, Estate]) -> None:
    db, ids = estate
    only = build_period_report(db, PeriodRequest(PERIOD, ("bravo",)), now=NOW)
    assert [row.plan.name for row in only.plans] == ["Bravo"] and only.runs == ()
    assert only.scope == "Bravo"
    assert [f.execution_id for f in only.open_findings] == [ids.bravo_before]
    with pytest.raises(PeriodReportError, match="no plan named 'Delta'"):
        plans_in_scope(db, PeriodRequest(PERIOD, ("Delta",)))


def test_csv_says_it_all(report: PeriodReport, estate: tuple[Database, Estate], tmp_path: Path) -> None:
    _, ids = estate
    written = write_period_report(report, "csv", tmp_path / "rollup.csv")
    with written.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == PERIOD_CSV_COLUMNS
    runs = {r["execution_id"]: r for r in rows if r["record"] == "run"}
    assert list(runs) == [ids.alpha_passed, ids.alpha_failed]
    assert runs[ids.alpha_passed]["verdict"] == "passed"
    assert runs[ids.alpha_passed]["rto_met"] == "yes" and runs[ids.alpha_passed]["rto_target_s"] == "5400"
    assert runs[ids.alpha_passed]["rpo_worst_s"] == "660" and runs[ids.alpha_passed]["rpo_met"] == "yes"
    assert runs[ids.alpha_passed]["sign_off"] == "signed off independently"
    assert runs[ids.alpha_failed]["verdict"] == "failed" and runs[ids.alpha_failed]["rpo_met"] == ""
    assert runs[ids.alpha_failed]["sign_off"] == "self-signed"
    assert {r["plan"] for r in rows if r["record"] == "untested"} == {"Bravo", "Charlie"}
    plans = {r["plan"]: r for r in rows if r["record"] == "plan"}
    assert (plans["Alpha"]["tests"], plans["Alpha"]["passed"], plans["Alpha"]["failed"]) == ("2", "1", "1")
    findings = {r["finding_id"]: r for r in rows if r["record"] == "finding"}
    assert set(findings) == {"a2", "b1"}
    assert findings["b1"]["overdue"] == "yes" and findings["b1"]["raised_before_period"] == "yes"
    assert findings["a2"]["owner"] == "erin" and findings["a2"]["due"] == "2026-12-31"
    assert {r["period_first_day"] for r in rows} == {"2026-01-01"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def test_html_says_it_all(report: PeriodReport, estate: tuple[Database, Estate]) -> None:
    _, ids = estate
    markup = render_period(report, "html")
    assert "<script" not in markup and "http" not in markup.replace('lang="en"', "")
    assert "CRM runbook &lt;outdated&gt;" in markup  # escaped
    text = html_text(markup)
    assert "DR test roll-up: 2026-01-01 to 2026-06-30 (UTC)" in text
    assert "3 plans in scope: 1 tested in the period, 2 not tested (Bravo, Charlie)." in text
    assert "2 runs: 1 passed, 1 failed, 0 unknown." in text
    assert "Open findings: 2, of which 1 overdue." in text
    assert "1 signed off independently, 1 self-signed, 0 not signed" in text
    assert " ".join(PASSED_RULE.split()) in text
    assert "SUCCEEDED with 1 server failed" in text and "never tested" in text
    assert "2025-12-01 OVERDUE" in text and "(before the period)" in text
    assert ids.alpha_failed in text
    # The summary comes before the tables.
    assert text.index("Auditor's summary") < text.index("Runs in the period") < text.index("Open findings ")


def test_unknown_format_is_refused(report: PeriodReport) -> None:
    with pytest.raises(PeriodReportError, match="unknown period report format 'json'"):
        render_period(report, "json")


def test_a_run_whose_journal_cannot_be_read_is_listed_unknown(tmp_path: Path) -> None:
    """An entry this version cannot decode (a newer DRS Desktop's event) leaves the run in the roll-up,
    unreadable and counted as unknown, never dropped."""
    with Database.open(tmp_path / "drs-desktop.sqlite3") as db:
        ids = build_estate(db)
        append_events(db, ids.alpha_failed, [{"type": "EventFromTheFuture", "at": NOW.isoformat()}])
        report = build_period_report(db, PeriodRequest(PERIOD), now=NOW)
    broken = next(r for r in report.runs if r.execution_id == ids.alpha_failed)
    assert broken.verdict == "unknown" and broken.result_text.startswith("UNREADABLE: its journal")
    assert (report.summary.passed, report.summary.failed, report.summary.unknown) == (1, 0, 1)
    assert "UNREADABLE" in render_period(report, "html")
