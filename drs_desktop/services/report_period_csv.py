"""The period roll-up as one CSV table (issue 18; docs/evidence-report.md, "Period roll-up").

One file, one header, one table, so a spreadsheet filter or ``csv.DictReader`` reads it whole: the first
column, ``record``, says what a row is: ``run`` (one per run in the period), ``plan`` (one per plan in
scope, with its counts, last good drill, next test due and cadence as of a stated time), ``untested`` (a
plan with no run in the period) and ``finding`` (one per finding still open, also those raised before the
period). Columns that do not apply to a row's record are empty. Times are UTC ISO-8601 with ``Z``,
durations whole seconds, booleans ``yes``/``no`` and an unknown value empty. Every text goes through
``scrub_text``, and a cell a spreadsheet would run as a formula starts with an apostrophe, as in the
single-run CSV.
"""

from __future__ import annotations

import csv
import io

from drs_desktop.domain.views.period import OpenFinding, PeriodReport, PlanPeriod, RunFacts
from drs_desktop.services.report_values import iso, scrub_text, seconds

__all__ = ["PERIOD_CSV_COLUMNS", "period_csv"]

PERIOD_CSV_COLUMNS = (
    "record",  # run | plan | untested | finding
    "period_first_day",
    "period_last_day",
    "plan",
    "plan_exists",
    "execution_id",
    "started_at",
    "ended_at",
    "mode",
    "test_type",
    "result",
    "verdict",  # passed | failed | unknown (the report's definition of "passed")
    "rto_achieved_s",
    "rto_target_s",
    "rto_met",
    "rpo_worst_s",
    "rpo_target_s",
    "rpo_met",
    "rpo_servers_unknown",
    "findings_open",
    "findings_total",
    "sign_off",
    "signed_by",
    "tests",
    "passed",
    "failed",
    "unknown",
    "last_test_at",
    "last_good_drill_ended_at",  # the cadence's last good drill (domain.views.cadence), dated by its end
    "next_due",
    "next_due_reason",
    "cadence",  # the cadence's headline as of cadence_as_of
    "cadence_as_of",
    "finding_id",
    "finding",
    "severity",
    "owner",
    "due",
    "finding_status",
    "overdue",
    "raised_before_period",
)


def period_csv(report: PeriodReport) -> str:
    """The roll-up's rows: runs, then plans, then untested plans, then open findings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PERIOD_CSV_COLUMNS)
    common = {
        "period_first_day": report.period.first_day.isoformat(),
        "period_last_day": report.period.last_day.isoformat(),
    }
    exists = {row.plan.plan_id: row.plan.exists for row in report.plans}
    rows: list[dict[str, object]] = []
    rows.extend(_run(run, exists.get(run.plan_id, True)) for run in report.runs)
    rows.extend(_plan("plan", row) for row in report.plans)
    rows.extend(_plan("untested", row) for row in report.untested)
    rows.extend(_finding(item) for item in report.open_findings)
    for row in rows:
        merged = {**common, **row}
        writer.writerow([_cell(merged.get(column)) for column in PERIOD_CSV_COLUMNS])
    return out.getvalue()


def _run(run: RunFacts, plan_exists: bool) -> dict[str, object]:
    latest = run.audit.sign_off
    return {
        "record": "run",
        "plan": run.plan_name,
        "plan_exists": _yes(plan_exists),
        "execution_id": run.execution_id,
        "started_at": iso(run.started_at),
        "ended_at": iso(run.finished_at),
        "mode": run.mode,
        "test_type": run.test_type,
        "result": run.result_text,
        "verdict": run.verdict,
        "rto_achieved_s": _whole(seconds(run.rto_achieved)),
        "rto_target_s": _whole(seconds(run.rto_target)),
        "rto_met": _yes(run.rto_met),
        "rpo_worst_s": _whole(seconds(run.rpo_worst)),
        "rpo_target_s": _whole(seconds(run.rpo_target)),
        "rpo_met": _yes(run.rpo_met),
        "rpo_servers_unknown": run.rpo_unknown,
        "findings_open": run.findings_open,
        "findings_total": run.findings_total,
        "sign_off": run.sign_off_text,
        "signed_by": latest.arn if latest is not None else None,
    }


def _plan(record: str, row: PlanPeriod) -> dict[str, object]:
    good = row.cadence.last_good
    return {
        "record": record,
        "plan": row.plan.name,
        "plan_exists": _yes(row.plan.exists),
        "tests": len(row.tests),
        "passed": row.passed,
        "failed": row.failed,
        "unknown": row.unknown,
        "last_test_at": iso(row.last_test.started_at) if row.last_test else None,
        "last_good_drill_ended_at": iso(good.finished_at) if good is not None else None,
        "next_due": row.next_due.isoformat() if row.next_due else None,
        "next_due_reason": row.due_reason,
        "cadence": row.cadence.headline,
        "cadence_as_of": iso(row.cadence.at),
    }


def _finding(item: OpenFinding) -> dict[str, object]:
    finding = item.finding
    return {
        "record": "finding",
        "plan": item.plan_name,
        "execution_id": item.execution_id,
        "started_at": iso(item.run_started_at),
        "finding_id": finding.finding_id,
        "finding": finding.text,
        "severity": finding.severity.value,
        "owner": finding.owner,
        "due": finding.due,
        "finding_status": finding.status.value,
        "overdue": _yes(item.overdue),
        "raised_before_period": _yes(item.before_period),
    }


def _yes(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _whole(value: float | int | None) -> int | None:
    return None if value is None else round(value)


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = scrub_text(str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
