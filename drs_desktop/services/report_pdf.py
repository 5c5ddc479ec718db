"""The PDF form of an evidence report, as Qt-free data: a one-page summary, the timeline, the tables.

An auditor reads the PDF first, often printed: so page 1 answers the audit's questions on its own (how it
ended, the RTO achieved against its target, what failed and why, who approved what and when, who ran it,
which plan revision with its hash), the timeline follows as a picture, and the tables come after, on
landscape pages, with column widths set so that IDs are never broken inside a word (they are set smaller
and in a fixed-width font instead; the layout function wraps only at word boundaries).

The HTML here is the subset of HTML and CSS that Qt's rich text lays out (``QTextDocument``): tables
with ``width`` on the header cells, class selectors, ``page-break-after``; no grid, no flexbox. The ui
layer lays it out and paints the timeline pictures into the ``<img src="timeline-N">`` places
(``ui.executions.report_pdf``). Everything comes from the report document (``services.report_document``),
so the PDF says what the JSON, CSV and HTML forms say.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from drs_desktop.domain.views.report import ExecutionView
from drs_desktop.domain.views.report_chart import TIMELINE_IMAGE, PdfReport
from drs_desktop.services.report_audit_pdf import audit_pdf_facts, audit_pdf_sections
from drs_desktop.services.report_automation import AUTOMATION_HEADERS, automation_rows_of
from drs_desktop.services.report_document import build_report_document
from drs_desktop.services.report_html import _detail, _duration, _e, _span, _when
from drs_desktop.services.report_native import (
    RUN_IN_DRS,
    STEP_HEADERS,
    native_banner_facts,
    native_step_rows,
    retry_by,
    retry_note,
    skip_note,
)
from drs_desktop.services.report_pdf_chart import timeline_chart

logger = logging.getLogger(__name__)

__all__ = ["ROWS_PER_PICTURE", "pdf_report", "pdf_report_from_document"]

#: Rows of the timeline in one picture: one picture fits a landscape A4 page under its heading.
ROWS_PER_PICTURE = 34
#: At most this many failures and approvals on the summary page (all of them are in the tables).
_SUMMARY_ITEMS = 8

_CSS = """
body { font-family: sans-serif; font-size: 8.5pt; color: #1b1f24; }
h1 { font-size: 15pt; margin: 0 0 2px 0; }
h2 { font-size: 11.5pt; margin: 14px 0 4px 0; }
h3 { font-size: 9.5pt; margin: 10px 0 3px 0; }
.sub { color: #57606a; }
.mono { font-family: monospace; font-size: 7pt; }
.small { font-size: 7pt; color: #57606a; }
.fail { color: #c62828; }
.ok { color: #2e7d32; }
.warn { color: #9a6700; }
.none { color: #8c959f; }
th { background-color: #eef1f4; font-weight: bold; text-align: left; }
.facts th { background-color: #ffffff; color: #57606a; }
.outcome { font-size: 13pt; font-weight: bold; }
.native { font-size: 11pt; font-weight: bold; color: #0969da; }
pre { font-family: monospace; font-size: 6.5pt; }
"""
_OUTCOME_CSS = {"SUCCEEDED": "ok", "FAILED": "fail", "CANCELLED": "warn"}
#: Fixed widths (pixels at 96 dpi) of columns of IDs in the 7 pt fixed-width font: a server, instance or
#: snapshot ID (19 characters) and a DRS job ID (24) fit on one line with the cell's padding.
_ID = "118"
_JOB_ID = "146"
_NEW_PAGE = ' style="page-break-before: always;"'
_TABLE = '<table width="100%" border="1" cellspacing="0" cellpadding="3" style="border-color: #c9d1d9;">'


def pdf_report(view: ExecutionView, *, generated_at: datetime | None = None) -> PdfReport:
    """The PDF report of ``view``: its page as Qt rich text and its timeline as data."""
    return pdf_report_from_document(build_report_document(view, generated_at))


def pdf_report_from_document(doc: dict[str, Any]) -> PdfReport:
    ex = doc["execution"]
    title = f"Evidence report: {ex['plan_name']} {ex['mode'].lower()} of {(ex['started_at'] or '')[:10]}"
    if doc.get("native"):
        title += " (run in DRS)"
    chart = timeline_chart(doc)
    pages = max(1, -(-len(chart.rows) // ROWS_PER_PICTURE))
    pictures = "".join(
        (f"<p{_NEW_PAGE}>" if page else "<p>") + f'<img src="{TIMELINE_IMAGE.format(page)}"></p>'
        for page in range(pages)
    )
    audit = audit_pdf_sections(doc)
    sections = [
        *audit,  # issue 18: the test, the RPO, findings, review (report_audit_pdf), on pages of their own
        ("Waves", _waves(doc)),
        *([("Steps in DRS, as DRS last reported them", _native_steps(doc))] if doc.get("native") else []),
        ("Servers, one row per attempt", _servers(doc)),
        ("Approvals", _approvals(doc["approvals"])),
        *([("Automation steps", _automation(doc))] if automation_rows_of(doc) else []),
        ("Retries and skips", _retries_and_skips(doc)),
        ("Operator actions", _actions(doc)),
        ("DRS jobs", _jobs(doc)),
        ("Cleanup proof", _cleanup(doc)),
        ("Event log", _event_log(doc)),
        ("Plan revision that ran", _plan(doc)),
    ]
    # Qt breaks pages before a block, not after a container: each part's heading starts a new page.
    body = "\n".join(
        f"<h2{_NEW_PAGE if number in (0, len(audit)) else ''}>{html.escape(name)}</h2>\n{content}"
        for number, (name, content) in enumerate(sections)
    )
    page = (
        f"<html><head><style>{_CSS}</style></head><body>\n"
        f"{_summary_page(doc, title)}\n"
        f"<h2{_NEW_PAGE}>Timeline</h2>\n{pictures}\n"
        f"{body}\n{_footer(doc)}</body></html>\n"
    )
    logger.debug("PDF page of execution %s: %d characters", ex["id"], len(page))
    return PdfReport(title, page, chart, ROWS_PER_PICTURE)


# -- the summary page


def _summary_page(doc: dict[str, Any], title: str) -> str:
    ex, plan, ident, target = doc["execution"], doc["plan"], doc["identity"], doc["target"]
    outcome = ex["outcome"] or f"{ex['status']} (not finished)"
    css = _OUTCOME_CSS.get(str(ex["outcome"]), "warn")
    counts = doc["summary"]
    where = ", ".join(
        f"{label} {_e(target[key])}"
        for label, key in (("region", "region"), ("profile", "profile"), ("endpoint", "endpoint_url"))
        if target[key]
    )
    verified = (
        '<span class="ok">verified</span>'
        if plan["hash_verified"]
        else '<span class="fail">NOT verified</span>'
    )
    journal = ex["journal"]
    facts = [
        ("Run by", f'<span class="mono">{_e(ident["arn"])}</span>'),
        ("Account", f'<span class="mono">{_e(ident["account"])}</span>' + (f", {where}" if where else "")),
        ("Ran", f"{_span(ex['started_at'], ex['finished_at'])} ({_duration(ex['duration_seconds'])})"),
        (
            "Plan",
            f"{_e(plan['name'])}, revision {_e(plan['revision'])}, saved {_when(plan['saved_at'])} "
            f"by {_e(plan['author'])}",
        ),
        ("Plan SHA-256", f'<span class="mono">{_e(plan["content_hash"])}</span> {verified}'),
        ("Recovery point", _e(doc["recovery_point"]["point_in_time"] or "latest snapshot")),
        (
            "Servers",
            f"{counts['servers']} in {counts['waves']} waves: {counts['launched']} launched, "
            f"{counts['failed']} failed, {counts['skipped']} skipped, {counts['cancelled']} cancelled; "
            f"{counts['retries']} retries, {counts['recovery_jobs']} recovery jobs",
        ),
        (
            "Journal",
            f'{_e(journal["events"])} events, SHA-256 <span class="mono">{_e(journal["sha256"])}</span>',
        ),
        *audit_pdf_facts(doc),
    ]
    rows = "".join(f'<tr><th width="14%">{html.escape(k)}</th><td>{v}</td></tr>' for k, v in facts)
    warning = f'<p class="fail"><b>{_e(journal["warning"])}</b></p>' if journal.get("warning") else ""
    override = doc["execution"].get("isolation_override")
    if override:
        warning += (
            '<p class="fail"><b>The drill network\'s isolation check failed and was overridden:</b> '
            f"{_e(override)}</p>"
        )
    return (
        f"<h1>{_e(title)}</h1>\n"
        f'<p class="sub">Execution <span class="mono">{_e(ex["id"])}</span> · {_e(ex["mode"])} · '
        f"generated {_when(doc['generated']['at'])} · times are UTC</p>\n{warning}{_native_mark(doc)}"
        f'<p><span class="outcome {css}">{_e(outcome)}</span>&nbsp;&nbsp;&nbsp;'
        f'<span class="outcome">RTO {_rto(doc["rto"])}</span></p>\n'
        f'<table class="facts" width="100%" cellspacing="0" cellpadding="2">{rows}</table>\n'
        f"<h3>What failed and why</h3>\n{_failures(doc)}\n"
        f"<h3>Approvals</h3>\n{_approvals(doc['approvals'], limit=_SUMMARY_ITEMS)}\n"
    )


def _native_mark(doc: dict[str, Any]) -> str:
    """The "Run in DRS" mark of the summary page ("" for a run here)."""
    native = doc.get("native")
    if not native:
        return ""
    rows = "".join(
        f'<tr><th width="14%">{html.escape(k)}</th><td>{v}</td></tr>' for k, v in native_banner_facts(native)
    )
    return (
        f'<p><span class="native">{RUN_IN_DRS}</span>: an AWS DRS recovery plan execution</p>\n'
        f'<table class="facts" width="100%" cellspacing="0" cellpadding="2">{rows}</table>\n'
    )


def _native_steps(doc: dict[str, Any]) -> str:
    widths: tuple[int | str, ...] = (3, 12, 7, 12, 12, "", _JOB_ID, 10)
    return _table(
        tuple(zip(STEP_HEADERS, widths, strict=True)), native_step_rows(doc["native"]), "DRS listed no step."
    )


def _rto(rto: dict[str, Any]) -> str:
    achieved, target = rto["achieved_seconds"], rto["target_seconds"]
    shown = _duration(achieved) if achieved is not None else "not achieved"
    against = f" against a target of {_duration(target)}" if target is not None else " (no target set)"
    verdict = ""
    if rto["met"] is not None:
        verdict = ' <span class="ok">met</span>' if rto["met"] else ' <span class="fail">MISSED</span>'
    return f"{shown}{against}{verdict}"


def _failures(doc: dict[str, Any]) -> str:
    """Every failed attempt (retried ones too), then skips and a cancel: what an auditor asks first."""
    lines = []
    for server in doc["servers"]:
        for attempt in server["attempts"]:
            if attempt["status"] != "FAILED":
                continue
            stage = f" at {attempt['failed_stage']}" if attempt["failed_stage"] else ""
            retried = " (retried)" if not attempt["final"] else ""
            lines.append(
                f'<span class="mono">{_e(server["server_id"])}</span> {_e(server["hostname"])} '
                f"(wave {_e(server['wave'])}, try {attempt['attempt']}) failed{stage}{retried} "
                f'{_when(attempt["failed_at"])}: <span class="fail">{_e(attempt["reason"])}</span>'
            )
    lines += [
        f"wave {_e(s['wave'])} skipped {_when(s['at'])} by {_e(s['by'])}: {_e(s['reason'])}"
        for s in doc["skips"]
    ]
    lines += [
        f"{_e(a['action'])} {_when(a['at'])} by {_e(a['by'])}: {_e(a['detail'])}"
        for a in doc["operator_actions"]
        if a["action"] == "cancel"
    ]
    if not lines:
        return '<p class="ok">Nothing failed.</p>'
    shown = lines[:_SUMMARY_ITEMS]
    more = len(lines) - len(shown)
    tail = f"<li>and {more} more: see the Servers table</li>" if more else ""
    return "<ul>" + "".join(f"<li>{line}</li>" for line in shown) + tail + "</ul>"


# -- the tables


def _table(headers: Sequence[tuple[str, int | str]], rows: Iterable[Sequence[str]], empty: str) -> str:
    """Headers are (label, width): a percentage of the page as a number or "N%", pixels as "N", or ""
    for the rest. Rows are already-escaped HTML cells."""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>\n" for row in rows)
    if not body:
        return f'<p class="none">{html.escape(empty)}</p>'
    head = "".join(f"<th{_width(width)}>{html.escape(label)}</th>" for label, width in headers)
    return f"{_TABLE}<thead><tr>{head}</tr></thead>\n{body}</table>"


def _width(width: int | str) -> str:
    if width == "":
        return ""
    return f' width="{width}%"' if isinstance(width, int) else f' width="{width}"'


def _mono(value: object) -> str:
    return f'<span class="mono">{_e(value)}</span>'


def _clock(value: str | None) -> str:
    """A time in a table: the clock only (the date is on the summary page), to the second."""
    if not value:
        return _e(None)
    return _e(value.partition("T")[2].split(".")[0].rstrip("Z"))


def _stage(stage: dict[str, Any]) -> str:
    if stage["started_at"] is None and stage["ended_at"] is None:
        return _e(None)
    label = ' <span class="fail">failed</span>' if stage["failed"] else ""
    times = f"{_clock(stage['started_at'])}\u2013{_clock(stage['ended_at'])}"  # may wrap after the dash
    return f'{_bound(_duration(stage["seconds"]))}{label}<br><span class="small">{times}</span>'


def _bound(duration: str) -> str:
    """ "1 min 2 s" with each number bound to its unit, so a narrow cell never ends a line on "1"."""
    return re.sub(r"(\d) ", "\\1&nbsp;", duration)


def _waves(doc: dict[str, Any]) -> str:
    rows = [
        (
            str(w["index"] + 1),
            _e(w["name"]),
            _e(w["phase"]),
            _e(", ".join(w["depends_on"]) or None),
            str(len(w["server_ids"])),
            _clock(w["started_at"]),
            _clock(w["launch_started_at"]),
            _clock(w["launch_completed_at"]),
            _clock(w["completed_at"] or w["skipped_at"] or w["timed_out_at"]),
            "<br>".join(_e(text) for text in w["warnings"]) or _e(None),
        )
        for w in doc["waves"]
    ]
    headers = (("#", 3), ("Wave", 15), ("Phase", 9), ("Depends on", 12), ("Servers", 6), ("Started", 8),
               ("Launch started", 8), ("Launched", 8), ("Completed / skipped", 9),
               ("Warnings", 22))  # fmt: skip
    return _table(headers, rows, "No waves.")


def _servers(doc: dict[str, Any]) -> str:
    rows = []
    for server in doc["servers"]:
        for attempt in server["attempts"]:
            stages = attempt["stages"]
            outcome = _e(attempt["status"])
            if attempt["reason"]:
                outcome += f'<br><span class="small fail">{_e(attempt["reason"])}</span>'
            if attempt.get("held_by"):
                outcome += f'<br><span class="small">{_e(attempt["held_by"])}</span>'
            instance = f"{_mono(attempt['recovery_instance_id'])}<br>{_mono(attempt['ec2_instance_id'])}"
            if attempt["terminated_at"]:
                instance += f'<br><span class="small">terminated {_clock(attempt["terminated_at"])}</span>'
            rows.append(
                (
                    _e(server["wave"]),
                    f"{_mono(server['server_id'])}<br>{_e(server['hostname'])}"
                    + (
                        f'<br><span class="small">{_e(server["impact"])}</span>'
                        if server["impact"] != "critical"
                        else ""
                    ),
                    f"{attempt['attempt']}/{len(server['attempts'])}",
                    _mono(attempt["job_id"]),
                    f"{_clock(attempt['queued_at'])}<br>{_clock(attempt['job_started_at'])}",
                    _stage(stages["snapshot"]),
                    _stage(stages["conversion"]),
                    _stage(stages["launch"]),
                    _clock(attempt["launched_at"] or attempt["failed_at"]),
                    outcome,
                    instance,
                )
            )
    headers = (("Wave", "7%"), ("Server", _ID), ("Try", "3%"), ("Job", _JOB_ID), ("Queued, started", "6%"),
               ("Snapshot", "7%"), ("Conversion", "7%"), ("Launch", "7%"), ("Launched / failed", "6%"),
               ("Outcome", ""), ("Recovery instance, EC2", _ID))  # fmt: skip
    return _table(headers, rows, "No servers.")


def _approvals(approvals: list[dict[str, Any]], *, limit: int | None = None) -> str:
    shown = approvals if limit is None else approvals[:limit]
    rows = [
        (
            _e(a["wave"]),
            _e(f"{a['phase'].lower()} step {a['step']}"),
            _e(a["message"]),
            _when(a["requested_at"]),
            _when(a["decided_at"]),
            _e(a["by"]),
            f'<span class="{"ok" if a["decision"] == "granted" else "fail"}">{_e(a["decision"])}</span>',
            _e(a["comment"]),
        )
        for a in shown
    ]
    headers = (("Wave", 10), ("Step", 8), ("Question", 22), ("Requested", 11), ("Decided", 11), ("By", 18),
               ("Decision", 7), ("Comment", 13))  # fmt: skip
    more = len(approvals) - len(shown)
    tail = f'<p class="small">and {more} more in the Approvals table.</p>' if more else ""
    return _table(headers, rows, "No approval was asked for.") + tail


def _automation(doc: dict[str, Any]) -> str:
    rows = [
        (
            _e(r.wave),
            _e(r.step),
            _e(r.result),
            _e(r.attempt or None),
            _e(r.status or None),
            f"{_clock(r.started_at)}\u2013{_clock(r.ended_at)}" if r.started_at else _e(None),
            "<br>".join(_e(line) for line in r.found) or _e(None),
            f'<span class="mono">{_e(r.output)}</span>'.replace("\n", "<br>") if r.output else _e(None),
        )
        for r in automation_rows_of(doc)
    ]
    widths = (8, 16, 9, 3, 7, 9, 24, 24)
    return _table(tuple(zip(AUTOMATION_HEADERS, widths, strict=True)), rows, "")


def _actions(doc: dict[str, Any]) -> str:
    rows = [(_when(a["at"]), _e(a["action"]), _e(a["by"]), _detail(a)) for a in doc["operator_actions"]]
    return _table((("When", 13), ("Action", 10), ("By", 25), ("Detail", 52)), rows, "No operator action.")


def _event_log(doc: dict[str, Any]) -> str:
    """The same lines as the live and history logs and the HTML report (``views.event_log``)."""
    rows = [(_clock(line["at"]), _e(line["text"])) for line in doc.get("event_log", [])]
    return _table((("Time", 9), ("Event", 91)), rows, "No event recorded.")


def _retries_and_skips(doc: dict[str, Any]) -> str:
    rows = [
        (
            _when(r["at"]),
            "retry",
            _e(r["wave"]),
            retry_by(r),
            " ".join(_mono(s) for s in r["server_ids"]) + retry_note(r),
        )
        for r in doc["retries"]
    ]
    rows += [
        (
            _when(s["at"]),
            "skip",
            _e(s["wave"]),
            _e(s["by"]),
            _e(s["reason"]) + skip_note(s),
        )
        for s in doc["skips"]
    ]
    rows.sort(key=lambda row: row[0])
    headers = (("When", 13), ("What", 6), ("Wave", 14), ("By", 25), ("Servers / reason", 42))
    return _table(headers, rows, "No retry and no skip.")


def _jobs(doc: dict[str, Any]) -> str:
    rows = [
        (
            _mono(j["job_id"]),
            _e(j["kind"] + (" (drill)" if j["drill"] and j["kind"] == "LAUNCH" else "")),
            _e(j["wave"]),
            _e(j["chunk_id"]) + (" retry" if j["retry"] else ""),
            " ".join(_mono(s) for s in j["server_ids"]) or _e(None),
            _e(j["status"]),
            _when(j["started_at"]),
            _when(j["completed_at"]),
        )
        for j in doc["jobs"]
    ]
    headers = (("Job", _JOB_ID), ("Kind", 9), ("Wave", 10), ("Chunk", 10), ("Servers", ""), ("Status", 8),
               ("Started", 11), ("Completed", 11))  # fmt: skip
    return _table(headers, rows, "No DRS job was started.")


def _cleanup(doc: dict[str, Any]) -> str:
    cleanup = doc["cleanup"]
    if not cleanup["applies"]:
        return f"<p>{_e(cleanup['note'])}</p>"
    requested = "; ".join(f"{_when(r['at'])} by {_e(r['by'])} ({_e(r['how'])})" for r in cleanup["requested"])
    problems = cleanup.get("instance_problems") or []
    if cleanup["still_running"]:
        state = f'<span class="fail">{len(cleanup["still_running"])} drill instance(s) still running</span>'
    elif problems:
        state = f'<span class="fail">{len(problems)} instance(s) not accounted for</span>'
    else:
        state = '<span class="ok">no drill instance left running</span>'
    listed = "<ul>" + "".join(f"<li>{_e(p)}</li>" for p in problems) + "</ul>" if problems else ""
    rows = [
        (
            _mono(i["recovery_instance_id"]),
            _mono(i["ec2_instance_id"]),
            _mono(i["server_id"]),
            _mono(i["launched_by_job"]) + (f" (step {_e(i['native_step'])})" if i.get("native_step") else ""),
            _when(i["terminate_requested_at"]),
            _when(i["terminated_at"]),
            _mono(i["terminate_job_id"]),
            _e(i["error"]),
        )
        for i in cleanup["instances"]
    ]
    headers = (("Recovery instance", _ID), ("EC2 instance", _ID), ("Source server", _ID),
               ("Launched by job", _JOB_ID), ("Terminate requested", 11), ("Terminated", 11),
               ("TERMINATE job", _JOB_ID), ("Error", ""))  # fmt: skip
    jobs = " ".join(_mono(j) for j in cleanup["terminate_job_ids"]) or _e(None)
    return (
        f"<p>{state} · requested: {requested or _e(None)} · TERMINATE jobs: {jobs}</p>{listed}"
        + _table(headers, rows, "This drill launched no recovery instance.")
        + f'<p class="small">{_e(cleanup["note"])}</p>'
    )


def _plan(doc: dict[str, Any]) -> str:
    plan = doc["plan"]
    document = plan["document"]
    shown = json.dumps(document, indent=2, ensure_ascii=False) if document is not None else None
    problem = f'<p class="fail">{_e(plan["problem"])}</p>' if plan["problem"] else ""
    return (
        f"<p>{_e(plan['name'])}, revision {_e(plan['revision'])} · plan {_mono(plan['id'])} · revision "
        f"{_mono(plan['revision_id'])} · SHA-256 {_mono(plan['content_hash'])}</p>{problem}"
        + (f"<pre>{_e(shown)}</pre>" if shown is not None else '<p class="none">Document not available.</p>')
    )


def _footer(doc: dict[str, Any]) -> str:
    notes = " ".join(_e(text) for text in doc["notes"].values())
    generated = doc["generated"]
    return (
        f'<p class="small">{notes}</p><p class="small">Generated {_when(generated["at"])} by '
        f"{_e(generated['app'])} {_e(generated['app_version'])} · report schema {_e(doc['schema'])} "
        f"v{_e(doc['schema_version'])}</p>"
    )
