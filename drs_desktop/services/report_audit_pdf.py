"""The audit sections of the PDF evidence report (issue 18), in the Qt rich-text subset the PDF's other
sections use: the test, the RPO achieved, the findings, the review and sign-off, and their lines on the
summary page.

Made from the document's ``audit`` part (``services.report_audit``), so the PDF says what the other forms
say. The PDF wraps text only between words (``ui.executions.report_pdf``), which keeps an ID whole but
would let one long word typed into a finding run off the page: so a run of more than ``_LONGEST``
characters without a space (longer than any ID or ARN) gets zero-width break opportunities. A
self-signed review is said in red, bold, on the summary page and over the review; no test, no finding,
no sign-off are said in words.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from drs_desktop.services.report_audit import next_due_lines
from drs_desktop.services.report_audit_html import finding_history_lines
from drs_desktop.services.report_html import _duration, _e, _when

__all__ = ["audit_pdf_facts", "audit_pdf_sections"]

#: A word longer than this (characters without a space) may be broken in the PDF.
_LONGEST = 120
_LONG_WORD = re.compile(rf"\S{{{_LONGEST + 1},}}")
_TABLE = '<table width="100%" border="1" cellspacing="0" cellpadding="3" style="border-color: #c9d1d9;">'
_RESULT_CSS = {"met": "ok", "not met": "fail"}


def _t(value: object) -> str:
    """Free text for the PDF: escaped, long words breakable, line breaks kept."""
    if value is None or value == "":
        return _e(None)
    text = _LONG_WORD.sub(lambda m: "\u200b".join(re.findall(".{1,10}", m.group(0))), str(value))
    return _e(text).replace("\n", "<br>")


def _given(value: object) -> str:
    return _t(value) if value else '<span class="none">none given</span>'


def _mono(value: object) -> str:
    return f'<span class="mono">{_t(value)}</span>'


def _lines(values: Sequence[str]) -> str:
    return "<br>".join(f"• {_t(v)}" for v in values) if values else '<span class="none">none given</span>'


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f'<tr><th width="16%">{html.escape(k)}</th><td>{v}</td></tr>' for k, v in rows)
    return f'<table class="facts" width="100%" cellspacing="0" cellpadding="2">{body}</table>'


def _table(headers: Sequence[tuple[str, int]], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th width="{width}%">{html.escape(label)}</th>' for label, width in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>\n" for row in rows)
    return f"{_TABLE}<thead><tr>{head}</tr></thead>\n{body}</table>"


def _result(result: str) -> str:
    return f'<span class="{_RESULT_CSS.get(result, "warn")}">{_e(result)}</span>'


def _next_due(test: dict[str, Any]) -> str:
    due, state = next_due_lines(test["next_test_due"])
    return f'<p><b>{_t(due)}</b></p><p class="small">{_t(state)}</p>'


def _test(audit: dict[str, Any]) -> str:
    test = audit["test"]
    if not test["recorded"]:
        return f"<p><b>{_e(test['text'])}</b></p>" + _next_due(test)
    facts = _facts(
        [
            ("Type", f"<b>{_e(test['type'])}</b>"),
            ("Scenario", _given(test["scenario"])),
            ("Objectives", _lines(test["objectives"])),
            ("Success criteria", _lines(test["success_criteria"])),
            ("Participants", _lines(test["participants"])),
            ("Recorded", f"{_when(test['recorded_at'])} by {_given(test['recorded_by'])}"),
        ]
    )
    return facts + _next_due(test)


def _rpo(audit: dict[str, Any]) -> str:
    rpo = audit["rpo"]
    summary = rpo["summary"]
    reference = "the chosen point in time" if rpo["reference"] == "point in time" else "the run's start"
    target = _duration(rpo["target_seconds"]) if rpo["target_seconds"] is not None else "none known"
    rows = [
        (
            f"{_mono(r['server_id'])}<br>{_e(r['hostname'])}",
            _when(r["data_from"])
            + (f'<br><span class="small">{_e(r["data_source"])}</span>' if r["data_source"] else ""),
            _when(r["reference_at"]),
            _duration(r["achieved_seconds"]),
            _duration(r["target_seconds"]),
            _result(r["result"])
            + (f'<br><span class="small">{_t(r["unknown_because"])}</span>' if r["unknown_because"] else ""),
        )
        for r in rpo["servers"]
    ]
    widths = (("Server", 20), ("Data from", 18), ("Reference", 16), ("Achieved", 12), ("Target", 10),
              ("Result", 24))  # fmt: skip
    table = _table(widths, rows) if rows else '<p class="none">No server launched: no RPO to measure.</p>'
    return (
        f"<p><b>{_result(summary['result'])}</b>: {_t(summary['text'])}</p>\n"
        f"<p>Reference: {reference}, {_when(rpo['reference_at'])} · target: {target}, from "
        f"{_t(rpo['target_source'])}</p>\n{table}\n"
        f'<p class="small">{_e(rpo["definition"])}</p>'
    )


def _findings(audit: dict[str, Any]) -> str:
    rows = [
        (
            _mono(f["id"]),
            _e(f["severity"]),
            f'<span class="{"warn" if f["open"] else "ok"}">{_e(f["status"])}</span>',
            _t(f["text"]),
            _given(f["owner"]),
            _given(f["due"]),
            f'<span class="small">{"<br>".join(_t(line) for line in finding_history_lines(f))}</span>',
        )
        for f in audit["findings"]
    ]
    widths = (("ID", 7), ("Severity", 7), ("Status", 8), ("Finding", 28), ("Owner", 10), ("Due", 8),
              ("History (who changed what, when)", 32))  # fmt: skip
    summary = f"<p>{_e(audit['findings_summary']['text'])}</p>"
    return summary + (_table(widths, rows) if rows else "")


def _review(audit: dict[str, Any]) -> str:
    review = audit["review"]
    current = review["current"]
    if current is None:
        return f'<p class="fail"><b>{_e(review["text"])}</b></p>'
    decision_css = "ok" if current["decision"] == "accepted" else "fail"
    if current["self_signed"]:
        mark = f'<p class="fail" style="font-size: 11pt;"><b>SELF-SIGNED: {_e(current["note"])}</b></p>'
    else:
        mark = f'<p class="ok"><b>{_e(current["note"])}</b></p>'
    facts = _facts(
        [
            ("Decision", f'<span class="{decision_css}"><b>{_e(current["decision"])}</b></span>'),
            ("Signed by", f"{_mono(current['arn'])} {_e(current['by'])}"),
            ("Account", _mono(current["account"])),
            ("Profile", _given(current["profile"])),
            ("User ID", _mono(current["user_id"])),
            ("Signed at", _when(current["at"])),
            ("Review", _given(current["review"])),
        ]
    )
    earlier = [
        (
            _when(s["at"]),
            _e(s["decision"]),
            f"{_mono(s['arn'])}<br>{_e(s['profile'])}",
            '<span class="fail"><b>self-signed</b></span>' if s["self_signed"] else "independent",
            _given(s["review"]),
        )
        for s in review["superseded"]
    ]
    superseded = ""
    if earlier:
        widths = (("Signed at", 14), ("Decision", 8), ("Signed by", 34), ("Identity", 10), ("Review", 34))
        superseded = "<h3>Earlier sign-offs (superseded)</h3>\n" + _table(widths, earlier)
    return f"{mark}\n{facts}\n{superseded}"


def audit_pdf_sections(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(heading, rich text) of each audit section."""
    audit = doc["audit"]
    return [
        ("The test", _test(audit)),
        ("RPO achieved", _rpo(audit)),
        ("Findings", _findings(audit)),
        ("Review and sign-off", _review(audit)),
    ]


def audit_pdf_facts(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary page's lines for the audit: the test, the RPO, the findings, the sign-off."""
    audit = doc["audit"]
    test, review = audit["test"], audit["review"]
    tested = _e(test["text"])
    if test["recorded"] and test["scenario"]:
        tested += f": {_t(test['scenario'].splitlines()[0])}"
    signed = _t(review["text"])
    if review["self_signed"] or review["current"] is None:
        signed = f'<span class="fail"><b>{signed}</b></span>'
    rpo = audit["rpo"]["summary"]
    return [
        ("Test", tested),
        ("RPO", f"{_result(rpo['result'])}: {_t(rpo['text'])}"),
        ("Findings", _e(audit["findings_summary"]["text"])),
        ("Sign-off", signed),
    ]
