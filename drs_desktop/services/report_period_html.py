"""The period roll-up as HTML (issue 18): a self-contained page for a browser, and the rich text the PDF is
laid out from.

Both say the same things in the same order, the auditor's summary first: what the period and the scope are,
how "passed" is defined, the counts, and the plans not tested; then every run, every plan with its last
good drill, next test due and cadence (as of a stated time), and every finding still open (the overdue ones
marked). The PDF puts the summary alone on page 1 and uses only what Qt's rich text lays out
(``QTextDocument``: tables with ``border``/``cellpadding`` attributes, class selectors,
``page-break-before``). Every text is escaped and scrubbed of secrets (``report_values.scrub_text``); a
value not known is written "unknown", never left blank where an auditor would read blank as "none".
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.views.period import (
    FAILED,
    PASSED,
    PASSED_RULE,
    OpenFinding,
    PeriodReport,
    PlanPeriod,
    RunFacts,
)
from drs_desktop.services.report_values import scrub_text

__all__ = ["period_html", "period_pdf_html", "summary_lines"]

_CSS = """
body { font-family: sans-serif; font-size: 10pt; color: #1b1f24; margin: 24px; }
h1 { font-size: 17pt; margin: 0 0 4px 0; }
h2 { font-size: 13pt; margin: 20px 0 6px 0; }
.sub { color: #57606a; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #c9d1d9; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef1f4; }
.mono { font-family: monospace; font-size: 8.5pt; }
.fail { color: #c62828; font-weight: bold; }
.ok { color: #2e7d32; }
.warn { color: #9a6700; }
.rule { border-left: 3px solid #0969da; padding-left: 8px; }
"""
_PDF_CSS = """
body { font-family: sans-serif; font-size: 8.5pt; color: #1b1f24; }
h1 { font-size: 15pt; }
h2 { font-size: 11.5pt; }
.sub { color: #57606a; }
.mono { font-family: monospace; font-size: 6.5pt; }
.fail { color: #c62828; font-weight: bold; }
.ok { color: #2e7d32; }
.warn { color: #9a6700; }
th { background-color: #eef1f4; font-weight: bold; text-align: left; }
"""
_PDF_TABLE = '<table width="100%" border="1" cellspacing="0" cellpadding="3" style="border-color: #c9d1d9;">'
_NEW_PAGE = ' style="page-break-before: always;"'
_VERDICT_CSS = {PASSED: "ok", FAILED: "fail"}
#: An execution ID on one line: Qt's layout (and a browser's) would break a UUID at its hyphens, and an
#: auditor could not find the ID by searching the PDF. The ``nowrap`` attribute alone is not honoured.
_WHOLE = ' style="white-space: nowrap;"'


def period_html(report: PeriodReport) -> str:
    """A self-contained, printable HTML page (inline CSS, no script, no external resource)."""
    body = _body(report, table="<table>", new_page="")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(_title(report))}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def period_pdf_html(report: PeriodReport) -> str:
    """The rich text of the PDF: the auditor's summary alone on page 1."""
    body = _body(report, table=_PDF_TABLE, new_page=_NEW_PAGE)
    return f"<html><head><style>{_PDF_CSS}</style></head><body>{body}</body></html>"


def _title(report: PeriodReport) -> str:
    return f"DR test roll-up: {report.period.label}"


def summary_lines(report: PeriodReport) -> list[str]:
    """The auditor's summary as sentences (the CLI prints them too)."""
    s = report.summary
    untested = ", ".join(row.plan.name for row in report.untested) or "none"
    return [
        f"{s.plans} plan{_s(s.plans)} in scope: {s.plans_tested} tested in the period, "
        f"{s.plans_not_tested} not tested ({untested}).",
        f"{s.runs} run{_s(s.runs)}: {s.passed} passed, {s.failed} failed, {s.unknown} unknown.",
        f"RTO: met in {s.rto_met}, breached in {s.rto_breached}, unknown in {s.rto_unknown}.",
        f"RPO: met in {s.rpo_met}, breached in {s.rpo_breached}, unknown in {s.rpo_unknown}.",
        f"Open findings: {s.open_findings}, of which {s.overdue_findings} overdue.",
        f"Sign-off: {s.signed_independently} signed off independently, {s.self_signed} self-signed, "
        f"{s.not_signed} not signed.",
    ]


def _body(report: PeriodReport, *, table: str, new_page: str) -> str:
    s = report.summary
    counts = (
        ("Plans in scope", s.plans),
        ("Plans tested in the period", s.plans_tested),
        ("Plans not tested in the period", s.plans_not_tested),
        ("Runs in the period", s.runs),
        ("Passed", s.passed),
        ("Failed", s.failed),
        ("Result unknown (not finished or unreadable)", s.unknown),
        ("RTO met / breached / unknown", f"{s.rto_met} / {s.rto_breached} / {s.rto_unknown}"),
        ("RPO met / breached / unknown", f"{s.rpo_met} / {s.rpo_breached} / {s.rpo_unknown}"),
        ("Open findings (overdue)", f"{s.open_findings} ({s.overdue_findings})"),
        ("Runs signed off independently", s.signed_independently),
        ("Runs self-signed / not signed", f"{s.self_signed} / {s.not_signed}"),
    )
    parts = [
        f"<h1>{_e(_title(report))}</h1>",
        f'<p class="sub">Plans: {_e(report.scope)}. Generated {_e(_when(report.generated_at))}. '
        "Runs are in the period when they started in it.</p>",
        "<h2>Auditor's summary</h2>",
        "".join(f"<p>{_e(line)}</p>" for line in summary_lines(report)),
        table + "".join(f"<tr><th>{_e(k)}</th><td>{_e(str(v))}</td></tr>" for k, v in counts) + "</table>",
        f'<p class="rule"><b>What "passed" and "good drill" mean.</b> {_e(PASSED_RULE)}</p>',
        _untested(report.untested, table),
        f"<h2{new_page}>Runs in the period</h2>",
        _runs(report.runs, table),
        "<h2>Plans</h2>",
        _plans(report.plans, table),
        "<h2>Open findings</h2>",
        _findings(report.open_findings, table),
    ]
    return "\n".join(parts) + "\n"


def _untested(rows: Sequence[PlanPeriod], table: str) -> str:
    head = "<h2>Plans not tested in the period</h2>"
    if not rows:
        return head + "<p>Every plan in scope was tested in the period.</p>"
    lines = []
    for row in rows:
        last = row.last_test
        before = (
            f"last tested {_when(last.started_at)} ({last.verdict})" if last is not None else "never tested"
        )
        gone = "" if row.plan.exists else " (deleted since)"
        lines.append(f"<tr><td>{_e(row.plan.name + gone)}</td><td>{_e(before)}</td></tr>")
    columns = "<thead><tr><th>Plan</th><th>Before the period</th></tr></thead>"
    return head + table + columns + "".join(lines) + "</table>"


def _runs(runs: Sequence[RunFacts], table: str) -> str:
    if not runs:
        return "<p>No run of these plans started in the period.</p>"
    head = (
        "<tr><th>Plan</th><th>Started</th><th>Ended</th><th>Type</th><th>Result</th><th>Passed</th>"
        "<th>RTO achieved / target</th><th>Worst RPO / target</th><th>Findings open / total</th>"
        "<th>Sign-off</th><th>Execution</th></tr>"
    )
    lines = []
    for run in runs:
        css = _VERDICT_CSS.get(run.verdict, "warn")
        lines.append(
            "<tr>"
            f"<td>{_e(run.plan_name)}</td><td>{_e(_when(run.started_at))}</td>"
            f"<td>{_e(_when(run.finished_at) if run.finished_at else 'not finished')}</td>"
            f"<td>{_e(run.test_type)}</td><td>{_e(run.result_text)}</td>"
            f'<td class="{css}">{_e(run.verdict)}</td>'
            f"<td>{_against(run.rto_achieved, run.rto_target, run.rto_met)}</td>"
            f"<td>{_rpo(run)}</td>"
            f"<td>{run.findings_open} / {run.findings_total}</td>"
            f"<td>{_e(run.sign_off_text)}</td>"
            f'<td class="mono"{_WHOLE}>{_e(run.execution_id)}</td>'
            "</tr>"
        )
    return table + f"<thead>{head}</thead>" + "".join(lines) + "</table>"


def _plans(rows: Sequence[PlanPeriod], table: str) -> str:
    if not rows:
        return "<p>No plan is in scope.</p>"
    head = (
        "<tr><th>Plan</th><th>Tests</th><th>Passed</th><th>Failed</th><th>Unknown</th>"
        "<th>Last good drill (ended)</th><th>Next test due</th><th>Cadence</th></tr>"
    )
    lines = []
    for row in rows:
        good = _when(row.cadence.last_good.finished_at) if row.cadence.last_good else "none"
        due = f"{row.next_due.isoformat()} ({row.due_reason})" if row.next_due else row.due_reason
        state = f"{row.cadence.headline} (as of {_when(row.cadence.at)})"
        gone = "" if row.plan.exists else " (deleted since)"
        lines.append(
            f"<tr><td>{_e(row.plan.name + gone)}</td><td>{len(row.tests)}</td><td>{row.passed}</td>"
            f"<td>{row.failed}</td><td>{row.unknown}</td><td>{_e(good)}</td><td>{_e(due)}</td>"
            f"<td>{_e(state)}</td></tr>"
        )
    return table + f"<thead>{head}</thead>" + "".join(lines) + "</table>"


def _findings(items: Sequence[OpenFinding], table: str) -> str:
    if not items:
        return "<p>No finding is open.</p>"
    head = (
        "<tr><th>Plan</th><th>Run started</th><th>Finding</th><th>Severity</th><th>Owner</th>"
        "<th>Due</th><th>Status</th></tr>"
    )
    lines = []
    for item in items:
        f = item.finding
        due = f.due or "no due date"
        due_cell = f'<span class="fail">{_e(due)} OVERDUE</span>' if item.overdue else _e(due)
        run = _when(item.run_started_at) + (" (before the period)" if item.before_period else "")
        lines.append(
            f"<tr><td>{_e(item.plan_name)}</td><td>{_e(run)}</td><td>{_e(f.text)}</td>"
            f"<td>{_e(f.severity.value)}</td><td>{_e(f.owner or 'no owner')}</td><td>{due_cell}</td>"
            f"<td>{_e(f.status.value)}</td></tr>"
        )
    return table + f"<thead>{head}</thead>" + "".join(lines) + "</table>"


def _against(achieved: timedelta | None, target: timedelta | None, met: bool | None) -> str:
    left = _duration(achieved) if achieved is not None else "unknown"
    right = _duration(target) if target is not None else "no target"
    mark = ""
    if met is not None:
        mark = ' <span class="ok">met</span>' if met else ' <span class="fail">breached</span>'
    return f"{_e(left)} / {_e(right)}{mark}"


def _rpo(run: RunFacts) -> str:
    if not run.rpo:
        return _e("unknown (no server launched)" if not run.problem else "unknown")
    text = _against(run.rpo_worst, run.rpo_target, run.rpo_met)
    if run.rpo_unknown:
        text += _e(f" ({run.rpo_unknown} server{_s(run.rpo_unknown)} unknown)")
    return text


def _duration(span: timedelta) -> str:
    return format_duration(span, exact=True)


def _when(moment: datetime | None) -> str:
    return "unknown" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _e(text: str) -> str:
    return html.escape(scrub_text(text), quote=True)
