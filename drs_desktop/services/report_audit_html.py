"""The audit sections of the HTML evidence report (issue 18): the test, the RPO achieved, the findings, the
review and sign-off, and their lines in the summary at the top.

Made from the document's ``audit`` part (``services.report_audit``), so the page says what the JSON and
CSV say. Every value is escaped (``report_html._e``); a free text keeps its line breaks as ``<br>``
after escaping, and its cells may wrap anywhere (``.audit`` in the page's CSS), so a long word typed
into a review cannot push the table off the printed page. A self-signed review says so in a red box an
auditor cannot miss; a run with no test, no finding or no sign-off says that in words, never a blank.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from drs_desktop.domain.durations import format_duration
from drs_desktop.services.report_audit import next_due_lines, readable_time

__all__ = ["AUDIT_CSS", "audit_html_sections", "audit_summary_items", "finding_history_lines"]

#: Added to the page's CSS (``report_html._CSS``).
AUDIT_CSS = """
.audit td, .audit dd, .audit p, .audit li { overflow-wrap: anywhere; word-break: break-word; }
.selfsigned { border: 2px solid #cf222e; border-radius: 6px; color: #cf222e; font-weight: 700;
              padding: 6px 12px; margin: 6px 0; }
.badge.notmet, .badge.open { background: #cf222e; } .badge.inprogress { background: #9a6700; }
.badge.resolved, .badge.accepted, .badge.independent { background: #1a7f37; }
"""


# The page's cell helpers, as ``report_html`` writes its cells (the same markup and CSS classes). Kept
# here rather than imported: ``report_html`` imports this module, and the package allows no import cycle.


def _e(value: object) -> str:
    """Escaped text; None or "" as an em dash."""
    if value is None or value == "":
        return '<span class="none">—</span>'
    return html.escape(str(value), quote=True)


def _when(value: str | None) -> str:
    return _e(readable_time(value)) if value else _e(None)


def _duration(value: float | None) -> str:
    if value is None:
        return _e(None)
    return ("-" if round(value) < 0 else "") + format_duration(abs(float(value)), exact=True)


def _badge(text: object, css: str) -> str:
    return f'<span class="badge {html.escape(css, quote=True)}">{_e(text)}</span>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    """Rows are already-escaped HTML cells."""
    if not rows:
        return f'<p class="none">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>\n" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _text(value: object) -> str:
    """Free text, escaped, its line breaks kept."""
    return _e(value).replace("\n", "<br>")


def _given(value: object) -> str:
    return _text(value) if value else '<span class="none">none given</span>'


def _list(values: Sequence[str]) -> str:
    if not values:
        return '<span class="none">none given</span>'
    return "<ul>" + "".join(f"<li>{_text(v)}</li>" for v in values) + "</ul>"


def _css(word: str) -> str:
    return word.replace(" ", "")


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def _next_due(test: dict[str, Any]) -> str:
    due, state = next_due_lines(test["next_test_due"])
    return f'\n<p><b>{_e(due)}</b></p>\n<p class="small">{_e(state)}</p>'


def _test(audit: dict[str, Any]) -> str:
    test = audit["test"]
    if not test["recorded"]:
        return f"<p><b>Test: {_e(test['text'])}</b></p>" + _next_due(test)
    facts = _facts(
        [
            ("Type", _badge(test["type"], "native-mark")),
            ("Scenario", _given(test["scenario"])),
            ("Objectives", _list(test["objectives"])),
            ("Success criteria", _list(test["success_criteria"])),
            ("Participants", _list(test["participants"])),
            ("Recorded", f"{_when(test['recorded_at'])} by {_given(test['recorded_by'])}"),
        ]
    )
    return facts + _next_due(test)


def _result(result: str) -> str:
    return _badge(result, {"met": "met", "not met": "notmet"}.get(result, "unknown"))


def _rpo(audit: dict[str, Any]) -> str:
    rpo = audit["rpo"]
    reference = "the chosen point in time" if rpo["reference"] == "point in time" else "the run's start"
    target = _duration(rpo["target_seconds"]) if rpo["target_seconds"] is not None else "none known"
    head = (
        f"<p>{_result(rpo['summary']['result'])} {_e(rpo['summary']['text'])}</p>\n"
        f"<p>Reference: {reference}, {_when(rpo['reference_at'])} · target: {target}, from "
        f"{_e(rpo['target_source'])}</p>\n"
    )
    rows = [
        (
            f'<span class="mono">{_e(r["server_id"])}</span><br>{_e(r["hostname"])}',
            _when(r["data_from"])
            + (f'<br><span class="small">{_e(r["data_source"])}</span>' if r["data_source"] else ""),
            _when(r["reference_at"]),
            _duration(r["achieved_seconds"]),
            _duration(r["target_seconds"]),
            _result(r["result"])
            + (f'<br><span class="small">{_e(r["unknown_because"])}</span>' if r["unknown_because"] else ""),
        )
        for r in rpo["servers"]
    ]
    headers = ("Server", "Data from", "Reference", "Achieved", "Target", "Result")
    table = _table(headers, rows, "No server launched: there is no RPO to measure.")
    return f'{head}{table}\n<p class="small">{_e(rpo["definition"])}</p>'


def finding_history_lines(finding: dict[str, Any]) -> list[str]:
    """Each step of a finding as plain text: "2026-12-03 09:00:00Z ben: updated (resolved): severity
    high -> medium; comment: TTL lowered" (escape before showing)."""
    lines = []
    for step in finding["history"]:
        changed = "; ".join(
            f"{c['field']} {c['from'] or '(none)'} -> {c['to'] or '(none)'}" for c in step["changes"]
        )
        who = step["by"] or "someone unnamed"
        text = f"{readable_time(step['at'])} {who}: {step['what']} ({step['status']})"
        text += f": {changed}" if changed else ""
        text += f"; comment: {step['comment']}" if step["comment"] else ""
        lines.append(text)
    return lines


def _findings(audit: dict[str, Any]) -> str:
    rows = [
        (
            f'<span class="mono">{_e(f["id"])}</span>',
            _badge(f["severity"], "unknown"),
            _badge(f["status"], _css(f["status"])),
            _text(f["text"]),
            _given(f["owner"]),
            _given(f["due"]),
            "<br>".join(_text(line) for line in finding_history_lines(f)),
        )
        for f in audit["findings"]
    ]
    headers = ("ID", "Severity", "Status", "Finding", "Owner", "Due", "History (who changed what, when)")
    summary = audit["findings_summary"]["text"]
    return f"<p>{_e(summary)}</p>\n" + (_table(headers, rows, "") if rows else "")


def _decision(decision: str) -> str:
    return _badge(decision, "granted" if decision == "accepted" else "rejected")


def _self_signed_box(sign_off: dict[str, Any]) -> str:
    if sign_off["self_signed"]:
        return f'<p class="selfsigned">SELF-SIGNED: {_e(sign_off["note"])}</p>'
    return f"<p>{_badge('independent', 'independent')} {_e(sign_off['note'])}</p>"


def _review(audit: dict[str, Any]) -> str:
    review = audit["review"]
    current = review["current"]
    if current is None:
        return f'<p class="fail"><b>{_e(review["text"])}</b></p>'
    facts = _facts(
        [
            ("Decision", _decision(current["decision"])),
            ("Signed by", f'<span class="mono">{_e(current["arn"])}</span> {_e(current["by"])}'),
            ("Account", f'<span class="mono">{_e(current["account"])}</span>'),
            ("Profile", _given(current["profile"])),
            ("User ID", f'<span class="mono">{_e(current["user_id"])}</span>'),
            ("Signed at", _when(current["at"])),
            ("Review", _given(current["review"])),
        ]
    )
    earlier = [
        (
            _when(s["at"]),
            _decision(s["decision"]),
            f'<span class="mono">{_e(s["arn"])}</span><br>{_e(s["account"])} {_e(s["profile"])}',
            '<span class="fail"><b>self-signed</b></span>' if s["self_signed"] else "independent",
            _given(s["review"]),
        )
        for s in review["superseded"]
    ]
    superseded = ""
    if earlier:
        headers = ("Signed at", "Decision", "Signed by", "Identity", "Review")
        superseded = "<h3>Earlier sign-offs (superseded)</h3>\n" + _table(headers, earlier, "")
    return f"{_self_signed_box(current)}\n{facts}\n{superseded}"


def audit_html_sections(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(heading, HTML) of each audit section, each wrapped so its text may wrap anywhere."""
    audit = doc["audit"]
    sections = [
        ("The test", _test(audit)),
        ("RPO achieved", _rpo(audit)),
        ("Findings", _findings(audit)),
        ("Review and sign-off", _review(audit)),
    ]
    return [(name, f'<div class="audit">{content}</div>') for name, content in sections]


def audit_summary_items(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary's lines for the audit: the test, the RPO, the findings, the sign-off."""
    audit = doc["audit"]
    test, review = audit["test"], audit["review"]
    tested = _e(test["text"]) if not test["recorded"] else _e(test["type"])
    if test["recorded"] and test["scenario"]:
        tested += f": {_e(test['scenario'].splitlines()[0])}"
    signed = _e(review["text"])
    if review["self_signed"]:
        signed = f'<span class="fail"><b>{signed}</b></span>'
    elif review["current"] is None:
        signed = f'<span class="fail">{signed}</span>'
    return [
        ("Test", f'<span class="audit">{tested}</span>'),
        ("RPO", f"{_result(audit['rpo']['summary']['result'])} {_e(audit['rpo']['summary']['text'])}"),
        ("Findings", _e(audit["findings_summary"]["text"])),
        ("Sign-off", f'<span class="audit">{signed}</span>'),
    ]
