"""The HTML form of an evidence report: one self-contained, printable page.

An auditor may open it years later, offline, or print it: so the CSS is inline, there is no script, no
font, image or link to anything outside the file, and tables repeat their headers across printed
pages. Every value goes through ``html.escape``: plan names, comments and DRS error texts are text, not
markup. The page is made from the report document (``services.report_document``), so it says exactly
what the JSON and CSV forms say.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from typing import Any

from drs_desktop.domain.durations import format_duration
from drs_desktop.services.report_audit_html import AUDIT_CSS, audit_html_sections, audit_summary_items
from drs_desktop.services.report_automation import AUTOMATION_HEADERS, automation_rows_of
from drs_desktop.services.report_end import end_html
from drs_desktop.services.report_native import (
    RUN_IN_DRS,
    STEP_HEADERS,
    native_banner_facts,
    native_step_rows,
    retry_by,
    retry_note,
    skip_note,
)

__all__ = ["html_from_document"]

_CSS = """
:root { color-scheme: light; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1f24;
       margin: 24px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.sub { color: #57606a; margin: 0 0 16px; }
.summary { border: 2px solid #57606a; border-radius: 6px; padding: 12px 16px; display: grid;
           grid-template-columns: max-content 1fr; gap: 4px 16px; break-inside: avoid; }
.summary.SUCCEEDED { border-color: #1a7f37; } .summary.FAILED { border-color: #cf222e; }
.summary.CANCELLED { border-color: #9a6700; }
.summary dt { font-weight: 600; color: #57606a; } .summary dd { margin: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; color: #fff;
         background: #57606a; }
.badge.SUCCEEDED, .badge.met, .badge.LAUNCHED, .badge.COMPLETED, .badge.granted { background: #1a7f37; }
.badge.FAILED, .badge.missed, .badge.rejected { background: #cf222e; }
.badge.CANCELLED, .badge.SKIPPED { background: #9a6700; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { border: 1px solid #d0d7de; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num { text-align: right; }
.mono, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.small { font-size: 11px; color: #57606a; }
.fail { color: #cf222e; }
.none { color: #8c959f; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 8px; white-space: pre-wrap;
      word-break: break-word; }
footer { margin-top: 32px; color: #57606a; font-size: 11px; border-top: 1px solid #d0d7de;
         padding-top: 8px; }
.native { border: 2px solid #0969da; border-radius: 6px; padding: 8px 16px; margin: 0 0 12px;
          break-inside: avoid; }
.native dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0 0; }
.native dt { font-weight: 600; color: #57606a; } .native dd { margin: 0; }
.badge.native-mark { background: #0969da; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; } h2 { break-after: avoid; } .summary { border-width: 1px; } }
"""


def _e(value: object) -> str:
    """Escaped text; None as an em dash."""
    if value is None or value == "":
        return '<span class="none">—</span>'
    return html.escape(str(value), quote=True)


def _when(value: str | None) -> str:
    """An ISO time, readable: "2026-01-05 08:00:00Z" (to the second: the JSON and CSV keep the rest)."""
    if not value:
        return _e(None)
    day, _, clock = value.partition("T")
    return _e(f"{day} {clock.split('.')[0].rstrip('Z')}Z")


def _span(start: str | None, end: str | None) -> str:
    """ "2026-01-05 08:00:09Z → 08:13:46Z": the end's date only when it differs."""
    if start and end and start[:10] == end[:10]:
        return f"{_when(start)} → {_when(end)[11:]}"
    return f"{_when(start)} → {_when(end)}"


def _duration(value: float | None) -> str:
    """``domain.durations`` to the second; a negative span (clocks out of step) keeps its sign."""
    if value is None:
        return _e(None)
    seconds = float(value)
    return ("-" if round(seconds) < 0 else "") + format_duration(abs(seconds), exact=True)


def _badge(text: object, css: str | None = None) -> str:
    if text is None:
        return _e(None)
    kind = html.escape(str(css if css is not None else text), quote=True)
    return f'<span class="badge {kind}">{_e(text)}</span>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    """Rows are already-escaped HTML cells."""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>\n" for row in rows)
    if not body:
        return f'<p class="none">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _stage(stage: dict[str, Any]) -> str:
    if stage["started_at"] is None and stage["ended_at"] is None:
        return _e(None)
    css = ' class="fail"' if stage["failed"] else ""
    label = " failed" if stage["failed"] else ""
    times = _span(stage["started_at"], stage["ended_at"])
    return f'<span{css}>{_duration(stage["seconds"])}{label}</span><br><span class="small">{times}</span>'


def _rto_text(rto: dict[str, Any], hostnames: dict[str, str]) -> str:
    achieved = rto["achieved_seconds"]
    target = rto["target_seconds"]
    shown = _duration(achieved) if achieved is not None else "not achieved (a critical server is not ready)"
    parts = [f"{_e(shown) if achieved is None else shown} against a target of "]
    parts.append(_duration(target) if target is not None else "none set")
    if rto["met"] is not None:
        parts.append(" " + (_badge("met") if rto["met"] else _badge("missed")))
    server = rto["last_critical_server"]
    if server:
        parts.append(
            f'<br><span class="small">{_span(rto["measured_from"], rto["measured_to"])}, set by the last '
            f"critical server ready: {_e(server)} {html.escape(hostnames.get(server, ''))}</span>"
        )
    return "".join(parts)


def _summary(doc: dict[str, Any], audit_items: Sequence[tuple[str, str]] = ()) -> str:
    ex, plan, ident, target = doc["execution"], doc["plan"], doc["identity"], doc["target"]
    point = doc["recovery_point"]
    counts = doc["summary"]
    outcome = ex["outcome"] or ex["status"]
    where = " · ".join(
        f"{label} {_e(target[key])}"
        for label, key in (("region", "region"), ("profile", "profile"), ("endpoint", "endpoint_url"))
        if target[key]
    )
    items = [
        ("Outcome", _badge(outcome)),
        ("Mode", _e(ex["mode"])),
        ("RTO", _rto_text(doc["rto"], {s["server_id"]: s["hostname"] or "" for s in doc["servers"]})),
        ("Run by", f'<span class="mono">{_e(ident["arn"])}</span>'),
        ("Account", f'<span class="mono">{_e(ident["account"])}</span>' + (f" · {where}" if where else "")),
        ("Started", _when(ex["started_at"])),
        ("Finished", _when(ex["finished_at"]) + f" ({_duration(ex['duration_seconds'])})"),
        ("Plan", f"{_e(plan['name'])} revision {_e(plan['revision'])}"),
        ("Recovery point", _e(point["point_in_time"] or "latest snapshot")),
        (
            "Servers",
            f"{counts['servers']} in {counts['waves']} waves: {counts['launched']} launched, "
            f"{counts['failed']} failed, {counts['skipped']} skipped, {counts['cancelled']} cancelled; "
            f"retries: {counts['retries']}",
        ),
        *audit_items,
    ]
    body = "".join(f"<dt>{html.escape(k)}</dt><dd>{v}</dd>\n" for k, v in items)
    return f'<dl class="summary {html.escape(str(outcome), quote=True)}">\n{body}</dl>'


def _waves(doc: dict[str, Any]) -> str:
    rows = [
        (
            str(w["index"] + 1),
            _e(w["name"]),
            _badge(w["phase"]),
            _e(", ".join(w["depends_on"]) or None),
            str(len(w["server_ids"])),
            _when(w["started_at"]),
            _when(w["launch_started_at"]),
            _when(w["launch_completed_at"]),
            _when(w["completed_at"] or w["skipped_at"] or w["timed_out_at"]),
            "<br>".join(_e(text) for text in w["warnings"]) or _e(None),
        )
        for w in doc["waves"]
    ]
    headers = ("#", "Wave", "Phase", "Depends on", "Servers", "Started", "Launch started", "Launched",
               "Completed / skipped / timed out", "Warnings")  # fmt: skip
    return _table(headers, rows, "No waves.")


def _servers(doc: dict[str, Any]) -> str:
    rows = []
    for server in doc["servers"]:
        for attempt in server["attempts"]:
            stages = attempt["stages"]
            end = attempt["launched_at"] or attempt["failed_at"]
            reason = (
                f'<br><span class="small fail">{_e(attempt["reason"])}</span>' if attempt["reason"] else ""
            )
            if attempt.get("held_by"):
                reason += f'<br><span class="small">{_e(attempt["held_by"])}</span>'
            rows.append(
                (
                    _e(server["wave"]),
                    f'<span class="mono">{_e(server["server_id"])}</span><br>{_e(server["hostname"])}',
                    _e(server["impact"]),
                    f"{attempt['attempt']} of {len(server['attempts'])}",
                    f'<span class="mono">{_e(attempt["job_id"])}</span>',
                    _when(attempt["queued_at"]),
                    _when(attempt["job_started_at"]),
                    _stage(stages["snapshot"]),
                    _stage(stages["conversion"]),
                    _stage(stages["launch"]),
                    _when(end),
                    _badge(attempt["status"]) + reason,
                    f'<span class="mono">{_e(attempt["recovery_instance_id"])}<br>'
                    f"{_e(attempt['ec2_instance_id'])}</span>",
                    _when(attempt["terminated_at"]),
                )
            )
    headers = ("Wave", "Server", "Impact", "Try", "Job", "Queued", "Job started", "Snapshot", "Conversion",
               "Launch", "Launched / failed", "Outcome", "Recovery instance / EC2", "Terminated")  # fmt: skip
    return _table(headers, rows, "No servers.")


def _approvals(doc: dict[str, Any]) -> str:
    rows = [
        (
            _e(a["wave"]),
            _e(f"{a['phase'].lower()} step {a['step']}"),
            _e(a["message"]),
            _when(a["requested_at"]),
            _when(a["decided_at"]),
            _e(a["by"]),
            _badge(a["decision"]),
            _e(a["comment"]),
        )
        for a in doc["approvals"]
    ]
    headers = ("Wave", "Step", "Question", "Requested", "Decided", "By", "Decision", "Comment")
    return _table(headers, rows, "No approval was asked for.")


def _automation(doc: dict[str, Any]) -> str:
    """Every automation step with each attempt: what it found per target and the tail of its output."""
    rows = [
        (
            _e(r.wave),
            _e(r.step),
            _badge(r.result, r.result.split(" ")[0].lower()),
            _e(r.attempt or None),
            _e(r.status or None),
            _span(r.started_at, r.ended_at) if r.started_at else _e(None),
            "<br>".join(_e(line) for line in r.found) or _e(None),
            f"<pre>{_e(r.output)}</pre>" if r.output else _e(None),
        )
        for r in automation_rows_of(doc)
    ]
    return _table(AUTOMATION_HEADERS, rows, "") if rows else ""


def _detail(action: dict[str, Any]) -> str:
    """An action's detail; a run in DRS's call to DRS also names its step."""
    step = action.get("step")
    named = f" ({step['name']!r} in DRS)" if step and step.get("name") else ""
    return _e(f"{action['detail']}{named}" if action["detail"] or named else None)


def _actions(doc: dict[str, Any]) -> str:
    rows = [(_when(a["at"]), _e(a["action"]), _e(a["by"]), _detail(a)) for a in doc["operator_actions"]]
    return _table(("When", "Action", "By", "Detail"), rows, "No operator action.")


def _native_banner(doc: dict[str, Any]) -> str:
    """The "Run in DRS" mark under the title ("" for a run here)."""
    native = doc.get("native")
    if not native:
        return ""
    facts = "".join(f"<dt>{html.escape(k)}</dt><dd>{v}</dd>\n" for k, v in native_banner_facts(native))
    mark = _badge(RUN_IN_DRS, "native-mark")
    return f'<div class="native">{mark} an AWS DRS recovery plan execution<dl>\n{facts}</dl></div>\n'


def _native_steps(doc: dict[str, Any]) -> str:
    """The native steps as DRS last reported them ("" for a run here: the section is left out)."""
    native = doc.get("native")
    if not native:
        return ""
    return _table(STEP_HEADERS, native_step_rows(native), "DRS listed no step.")


def _takeovers(doc: dict[str, Any]) -> str:
    """Takeovers from a silent desktop ("" when the run had none: the section is left out)."""
    rows = []
    for t in doc.get("takeovers", ()):
        checked = ", ".join(t["checked_chunks"]) or "none"
        journal = "complete" if t["journal_complete"] else f"cut: checked in DRS: {checked}"
        unknown = "; ".join(
            f"{j['job_id']} (chunk {j['chunk_id']}: {', '.join(j['server_ids'])})" for j in t["unknown_jobs"]
        )
        row = (t["by"], t["previous"] or "unknown", t["operator"], journal, unknown or "none")
        rows.append((_when(t["at"]), *(_e(cell) for cell in row)))
    if not rows:
        return ""
    headers = ("When", "Taken by desktop", "From desktop", "Confirmed by", "Journal", "Jobs it did not know")
    return _table(headers, rows, "")


def _drill_network(doc: dict[str, Any]) -> str:
    """Each server's launch template in a drill into the drill network ("" for any other run)."""
    net = doc.get("drill_network")
    if not net:
        return ""
    rows = []
    for row in net["servers"]:
        version = row["drill_version"]
        cells = (
            row["template_id"] or "none",
            "" if row["production_version"] is None else str(row["production_version"]),
            "" if version is None else str(version),
            row.get("subnet_id") or "",
        )
        outcome = row["status"] if not row["error"] else f"{row['status']}: {row['error']}"
        rows.append(
            (
                _e(row["server_id"]),
                *(_e(cell) for cell in cells),
                _when(row["pointed_at"]),
                _when(row["restored_at"]),
                _e(outcome),
            )
        )
    groups = ", ".join(net["security_group_ids"]) or "its groups"
    subnets = ", ".join(net.get("subnet_ids") or [net["subnet_id"]])
    where = (
        f"<p>Launched into {_e(subnets)} (each server in its production subnet's zone) with "
        f"{_e(groups)}.</p>\n"
    )
    if net["not_restored"]:
        left = _e(", ".join(net["not_restored"]))
        where += (
            f'<p class="fail">Not (or maybe not) restored to production: {left}. '
            "Set them back with <code>drs-desktop launch-settings restore</code>.</p>\n"
        )
    headers = (
        "Server",
        "Template",
        "Production version",
        "Drill version",
        "Drill subnet",
        "Pointed",
        "Restored",
        "Status",
    )
    return where + _table(headers, rows, "no server")


def _event_log(doc: dict[str, Any]) -> str:
    """The event log as the live and history views show it (``views.event_log``)."""
    rows = [(_when(line["at"]), _e(line["text"])) for line in doc.get("event_log", ())]
    return _table(("When", "Event"), rows, "No event.")


def _retries_and_skips(doc: dict[str, Any]) -> str:
    rows = [
        (
            _when(r["at"]),
            "retry",
            _e(r["wave"]),
            retry_by(r),
            _e(", ".join(r["server_ids"])) + retry_note(r),
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
    return _table(("When", "What", "Wave", "By", "Servers / reason"), rows, "No retry and no skip.")


def _jobs(doc: dict[str, Any]) -> str:
    rows = [
        (
            f'<span class="mono">{_e(j["job_id"])}</span>',
            _e(j["kind"] + (" (drill)" if j["drill"] and j["kind"] == "LAUNCH" else "")),
            _e(j["wave"]),
            _e(j["chunk_id"]) + (" retry" if j["retry"] else ""),
            _e(", ".join(j["server_ids"])),
            _e(j["status"]),
            _when(j["started_at"]),
            _when(j["completed_at"]),
        )
        for j in doc["jobs"]
    ]
    headers = ("Job", "Kind", "Wave", "Chunk", "Servers", "Status", "Started", "Completed")
    return _table(headers, rows, "No DRS job was started.")


def _cleanup(doc: dict[str, Any]) -> str:
    cleanup = doc["cleanup"]
    if not cleanup["applies"]:
        return f"<p>{_e(cleanup['note'])}</p>"
    requested = "; ".join(f"{_when(r['at'])} by {_e(r['by'])} ({_e(r['how'])})" for r in cleanup["requested"])
    problems = cleanup.get("instance_problems") or []
    if cleanup["still_running"]:
        state = _badge(f"{len(cleanup['still_running'])} drill instance(s) still running", "FAILED")
    elif problems:  # an instance never found may be running: never "nothing left"
        state = _badge(f"{len(problems)} instance(s) not accounted for", "FAILED")
    else:
        state = _badge("no drill instance left running", "met")
    if problems:
        state += "</p><ul>" + "".join(f"<li>{_e(p)}</li>" for p in problems) + "</ul><p>"
    jobs = ", ".join(f'<span class="mono">{_e(j)}</span>' for j in cleanup["terminate_job_ids"]) or _e(None)
    rows = [
        (
            f'<span class="mono">{_e(i["recovery_instance_id"])}</span>',
            f'<span class="mono">{_e(i["ec2_instance_id"])}</span>',
            f'<span class="mono">{_e(i["server_id"])}</span>',
            f'<span class="mono">{_e(i["launched_by_job"])}</span>'
            + (f" (step {_e(i['native_step'])})" if i.get("native_step") else ""),
            _when(i["terminate_requested_at"]),
            _when(i["terminated_at"]),
            f'<span class="mono">{_e(i["terminate_job_id"])}</span>',
            _e(i["error"]),
        )
        for i in cleanup["instances"]
    ]
    headers = ("Recovery instance", "EC2 instance", "Source server", "Launched by job", "Terminate requested",
               "Terminated", "TERMINATE job", "Error")  # fmt: skip
    others = ""
    if cleanup.get("not_ours"):
        other_rows = [
            (
                f'<span class="mono">{_e(i["recovery_instance_id"])}</span>',
                f'<span class="mono">{_e(i["ec2_instance_id"])}</span>',
                f'<span class="mono">{_e(i["server_id"])}</span>',
                f'<span class="mono">{_e(i["launched_by_job"])}</span>',
                _e(i["reason"]),
            )
            for i in cleanup["not_ours"]
        ]
        others = "<p>Not launched by this drill, left running (never terminated by it):</p>" + _table(
            ("Recovery instance", "EC2 instance", "Source server", "Launched by job", "Why not ours"),
            other_rows,
            "",
        )
    return (
        f"<p>{state} · requested: {requested or _e(None)} · TERMINATE jobs: {jobs}</p>"
        + _table(headers, rows, "This drill launched no recovery instance.")
        + others
        + f'<p class="small">{_e(cleanup["note"])}</p>'
    )


def _plan(doc: dict[str, Any]) -> str:
    plan = doc["plan"]
    verified = (
        _badge("content hash verified", "met") if plan["hash_verified"] else _badge("not verified", "FAILED")
    )
    renamed = ""
    if plan["current_name"] and plan["current_name"] != plan["name"]:
        renamed = f" (since renamed {_e(plan['current_name'])})"
    facts = [
        ("Plan", f"{_e(plan['name'])}{renamed}, revision {_e(plan['revision'])}"),
        ("Saved", f"{_when(plan['saved_at'])} by {_e(plan['author'])} · {_e(plan['comment'])}"),
        ("SHA-256", f'<span class="mono">{_e(plan["content_hash"])}</span> {verified}'),
        ("IDs", f'<span class="mono">plan {_e(plan["id"])} · revision {_e(plan["revision_id"])}</span>'),
    ]
    if plan["problem"]:
        facts.append(("Problem", f'<span class="fail">{_e(plan["problem"])}</span>'))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in facts)
    document = plan["document"]
    shown = json.dumps(document, indent=2, ensure_ascii=False) if document is not None else None
    pre = f"<pre>{_e(shown)}</pre>" if shown is not None else '<p class="none">Document not available.</p>'
    return f"<table><tbody>{body}</tbody></table>\n{pre}"


def html_from_document(doc: dict[str, Any]) -> str:
    """The page for a report document (``build_report_document``'s output)."""
    ex, generated = doc["execution"], doc["generated"]
    title = f"Evidence report: {ex['plan_name']} {ex['mode'].lower()} of {(ex['started_at'] or '')[:10]}"
    if doc.get("native"):
        title += " (run in DRS)"
    sections = [
        ("How it ended", end_html(doc)),
        *audit_html_sections(doc),
        ("Waves", _waves(doc)),
        ("Steps in DRS, as DRS last reported them", _native_steps(doc)),
        ("Servers, one row per attempt", _servers(doc)),
        ("Approvals", _approvals(doc)),
        ("Automation steps", _automation(doc)),
        ("Retries and skips", _retries_and_skips(doc)),
        ("Operator actions", _actions(doc)),
        ("Taken over from a silent desktop", _takeovers(doc)),
        ("Drill network", _drill_network(doc)),
        ("DRS jobs", _jobs(doc)),
        ("Cleanup proof", _cleanup(doc)),
        ("Event log", _event_log(doc)),
        ("Plan revision that ran", _plan(doc)),
    ]
    body = "\n".join(
        f"<section><h2>{html.escape(name)}</h2>\n{content}\n</section>"
        for name, content in sections
        if content
    )
    notes = " ".join(_e(text) for text in doc["notes"].values())
    journal = ex["journal"]
    # A journal cut short still gives a report, but it says so before anything else.
    warning = f'<p class="fail">{_e(journal["warning"])}</p>\n' if journal.get("warning") else ""
    # A drill run although its network's isolation check failed says so first, with the reason.
    if ex.get("isolation_override"):
        warning += (
            '<p class="fail">The drill network\'s isolation check failed and was overridden: '
            f"{_e(ex['isolation_override'])}</p>\n"
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}{AUDIT_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_e(title)}</h1>\n"
        f'<p class="sub">Execution <span class="mono">{_e(ex["id"])}</span></p>\n'
        f"{warning}{_native_banner(doc)}{_summary(doc, audit_summary_items(doc))}\n{body}\n"
        f"<footer><p>{notes}</p>"
        f"<p>Generated {_when(generated['at'])} by {_e(generated['app'])} {_e(generated['app_version'])} · "
        f"report schema {_e(doc['schema'])} v{_e(doc['schema_version'])} · "
        f"journal of {_e(journal['events'])} events, "
        f'SHA-256 <span class="mono">{_e(journal["sha256"])}</span></p></footer>\n'
        "</body>\n</html>\n"
    )
