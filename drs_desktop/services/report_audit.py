"""The report document's ``audit`` part (issue 18): the test, the RPO per launched server, the findings
with their history, the review and sign-off; and the CSV sections that carry them.

Why bounded here: annotations are typed by people (a finding, a review, a participant's name) and sync
from teammates' desktops, so their text is hostile until shown otherwise: markup (every renderer
escapes it), control characters, and any length. The document keeps a one-line field on one line and
cuts a field longer than its limit with a visible mark that says how much more the journal holds, so the
four forms (made from this one document) agree and a 1 MB review cannot swallow the PDF. The journal
itself keeps every character.

The CSV keeps its attempt rows exactly as they were and adds one section per part after a blank line:
a marker row (``# name`` and a note such as "no findings recorded"), a header row, the rows.
``csv_sections`` reads such a file back. Layout and names: docs/evidence-report.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.engine.annotation_events import ReviewSignedOff
from drs_desktop.domain.local_zone import LOCAL_ZONE
from drs_desktop.domain.views.audit import ServerRpo
from drs_desktop.domain.views.cadence import GOOD_DRILL_RULE, plan_cadence
from drs_desktop.domain.views.evidence_audit import (
    NO_FINDINGS,
    NOT_RECORDED,
    NOT_SIGNED,
    RPO_DEFINITION,
    SELF_SIGNED,
    AuditEvidence,
    SignOff,
    audit_evidence,
)
from drs_desktop.domain.views.report import ExecutionView
from drs_desktop.services.report_values import iso, seconds

__all__ = [
    "AUDIT_CSV_SECTIONS",
    "LINE_LIMIT",
    "LIST_LIMIT",
    "TEXT_LIMIT",
    "CsvSection",
    "audit_csv_rows",
    "audit_document",
    "bounded",
    "csv_sections",
    "next_due_lines",
    "next_test_due",
    "readable_time",
]

#: A one-line field (a name, an owner, an ARN, an ID, a due date): at most this many characters.
LINE_LIMIT = 300
#: A free text (a finding, a review, a scenario, a comment, one objective): at most this many characters.
TEXT_LIMIT = 4000
#: At most this many objectives, success criteria or participants are listed.
LIST_LIMIT = 100

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_BREAKS = re.compile(r"[\r\n\t\u2028\u2029]+")


def bounded(text: object, limit: int = TEXT_LIMIT, *, one_line: bool = False) -> str:
    """``text`` without control characters (newlines kept unless ``one_line``), cut at ``limit``
    characters with a mark that says how many more the journal holds."""
    value = "" if text is None else str(text)
    value = _BREAKS.sub(" ", value) if one_line else value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub(" ", value.replace("\t", " "))
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… [cut: {len(value) - limit} more characters in the journal]"


def _line(text: object) -> str:
    return bounded(text, LINE_LIMIT, one_line=True)


def _items(values: Sequence[str]) -> list[str]:
    shown = [bounded(v) for v in values[:LIST_LIMIT]]
    if len(values) > LIST_LIMIT:
        shown.append(f"… and {len(values) - LIST_LIMIT} more in the journal")
    return shown


def readable_time(value: str | None) -> str:
    """An ISO time from the document as a sentence shows it: "2026-01-08 08:41:54Z" (the fields keep the
    rest)."""
    if not value:
        return "an unknown time"
    day, _, clock = value.partition("T")
    return f"{day} {clock.split('.')[0].rstrip('Z')}Z"


def _duration(span: timedelta | None) -> str:
    return "unknown" if span is None else format_duration(span.total_seconds(), exact=True)


# -- the document


def audit_document(view: ExecutionView, at: datetime) -> dict[str, Any]:
    """The ``audit`` part of the report document of ``view``, made at ``at`` (the report's time: the
    plan's next test due is decided then)."""
    evidence = audit_evidence(
        view.annotations,
        view.state,
        plan_document=view.plan.document,
        plan_problem=view.plan.problem,
        run_arn=str(view.record.identity.get("arn", "")),
    )
    findings = [_finding(evidence, f.finding_id) for f in evidence.findings]
    open_count = sum(1 for f in evidence.findings if f.open)
    return {
        "test": {**_test(evidence), "next_test_due": next_test_due(view, at)},
        "rpo": _rpo(evidence, view),
        "findings": findings,
        "findings_summary": {
            "total": len(findings),
            "open": open_count,
            "text": f"{len(findings)} finding(s), {open_count} open" if findings else NO_FINDINGS,
        },
        "review": _review(evidence),
    }


def _test(evidence: AuditEvidence) -> dict[str, Any]:
    test = evidence.test
    if test is None:
        return {
            "recorded": False, "type": None, "text": NOT_RECORDED, "scenario": None, "objectives": [],
            "success_criteria": [], "participants": [], "recorded_at": None, "recorded_by": None,
        }  # fmt: skip
    return {
        "recorded": True,
        "type": test.test_type.value,
        "text": test.test_type.value,
        "scenario": bounded(test.scenario),
        "objectives": _items(test.objectives),
        "success_criteria": _items(test.success_criteria),
        "participants": [_line(p) for p in _items(test.participants)],
        "recorded_at": iso(test.at),
        "recorded_by": _line(test.by),
    }


def next_test_due(view: ExecutionView, at: datetime) -> dict[str, Any]:
    """The run's plan's cadence as of ``at``, decided by the dashboard's code (``views.cadence``) from
    the facts the view was loaded with, days counted in this machine's time zone as the dashboard and
    ``plan cadence`` count them. A plan deleted or unreadable says so: "unknown", never a guessed date."""
    local = at.astimezone(LOCAL_ZONE)
    base: dict[str, Any] = {"as_of": iso(at), "rule": GOOD_DRILL_RULE}
    if view.cadence is None:
        why = view.cadence_problem or "the plan's cadence was not read"
        text = bounded(f"unknown: {why}", LINE_LIMIT, one_line=True)
        return {**base, "state": "unknown", "due_on": None, "text": text, "last_good_drill": None,
                "reasons": []}  # fmt: skip
    state = plan_cadence(view.cadence, local)
    good = state.last_good
    return {
        **base,
        "state": state.headline,
        "due_on": state.due_on.isoformat() if state.due_on is not None else None,
        "text": bounded(state.next_due, LINE_LIMIT, one_line=True),
        "last_good_drill": good.execution_id if good is not None else None,
        "reasons": [bounded(r.text, LINE_LIMIT, one_line=True) for r in state.reasons],
    }


def next_due_lines(due: Mapping[str, Any]) -> tuple[str, str]:
    """The test section's two plain-text lines (every form escapes them its own way): the next test due,
    and the cadence state it comes from, as of the report's time, with the rule that decides it."""
    when = readable_time(due["as_of"])
    return (
        f"Next test due: {due['text']}",
        f"The plan's drill cadence as of {when} (when this report was made): {due['state']}. {due['rule']}",
    )


def _rpo(evidence: AuditEvidence, view: ExecutionView) -> dict[str, Any]:
    target = evidence.rpo_summary.target
    revision = view.record.plan_revision
    if evidence.rpo_target_set:
        source = f"plan revision {revision} (rpo_minutes)"
    elif evidence.rpo_target_problem:
        source = f"unknown: {evidence.rpo_target_problem}"
    else:
        source = f"none: plan revision {revision} sets no RPO target"
    return {
        "definition": RPO_DEFINITION,
        "reference": "point in time" if evidence.reference_is_point else "run start",
        "reference_at": iso(evidence.reference_at),
        "target_seconds": seconds(target),
        "target_source": bounded(source, LINE_LIMIT, one_line=True),
        "servers": [_rpo_row(evidence, row, view.hostnames) for row in evidence.rpo],
        "summary": _rpo_summary(evidence),
    }


def _rpo_row(evidence: AuditEvidence, row: ServerRpo, hostnames: Mapping[str, str]) -> dict[str, Any]:
    point = evidence.points.get(row.server_id)
    if point is None:
        why = "no recovery point was recorded for this server"
    elif row.data_at is None:
        why = "DRS did not say when the recovered data is from"
    elif row.target is None:
        why = evidence.rpo_target_problem or "the plan revision sets no RPO target"
    else:
        why = None
    return {
        "server_id": _line(row.server_id),
        "hostname": hostnames.get(row.server_id) or None,
        "data_from": iso(row.data_at),
        "data_source": _line(point.source) if point is not None else None,
        "replication_lag_seconds": point.lag_seconds if point is not None else None,
        "reference_at": iso(row.reference_at),
        "achieved_seconds": seconds(row.achieved),
        "target_seconds": seconds(row.target),
        "result": _result(row.met),
        "unknown_because": bounded(why, LINE_LIMIT, one_line=True) if why else None,
    }


def _result(met: bool | None) -> str:
    return "unknown" if met is None else "met" if met else "not met"


def _rpo_summary(evidence: AuditEvidence) -> dict[str, Any]:
    summary = evidence.rpo_summary
    worst = summary.worst
    target = f"a target of {_duration(summary.target)}" if summary.target is not None else "no known target"
    if not summary.servers:
        text = "no server launched: there is no RPO to measure"
    elif worst is None:
        text = f"no launched server's recovered data time is known ({target})"
    else:
        text = (
            f"worst achieved {_duration(worst.achieved)} ({worst.server_id}) against {target}: "
            f"{summary.result} ({summary.met} met, {summary.not_met} not met, {summary.unknown} unknown)"
        )
    return {
        "servers": summary.servers,
        "result": summary.result,
        "met": summary.met,
        "not_met": summary.not_met,
        "unknown": summary.unknown,
        "worst_server_id": worst.server_id if worst is not None else None,
        "worst_achieved_seconds": seconds(worst.achieved) if worst is not None else None,
        "target_seconds": seconds(summary.target),
        "text": bounded(text, TEXT_LIMIT, one_line=True),
    }


def _finding(evidence: AuditEvidence, finding_id: str) -> dict[str, Any]:
    finding = next(f for f in evidence.findings if f.finding_id == finding_id)
    history = [
        {
            "at": iso(step.at),
            "by": _line(step.by),
            "what": "added" if step.created else "updated",
            "status": step.status,
            "changes": [
                {"field": c.name, "from": _bounded_field(c.name, c.old), "to": _bounded_field(c.name, c.new)}
                for c in step.changes
            ],
            "comment": bounded(step.comment),
        }
        for step in evidence.histories.get(finding_id, ())
    ]
    return {
        "id": _line(finding.finding_id),
        "text": bounded(finding.text),
        "severity": finding.severity.value,
        "owner": _line(finding.owner),
        "due": _line(finding.due),
        "status": finding.status.value,
        "open": finding.open,
        "added_at": iso(finding.added_at),
        "added_by": _line(finding.added_by),
        "updated_at": iso(finding.updated_at),
        "history": history,
    }


def _bounded_field(name: str, value: str) -> str:
    return bounded(value) if name == "text" else _line(value)


def _review(evidence: AuditEvidence) -> dict[str, Any]:
    latest = evidence.sign_off
    if latest is None:
        return {"state": NOT_SIGNED, "independent": False, "self_signed": False, "text": NOT_SIGNED,
                "current": None, "superseded": []}  # fmt: skip
    decision = "accepted" if latest.event.accepted else "rejected"
    who = _line(latest.event.arn) or "an unknown identity"
    text = f"{decision} by {who} at {readable_time(iso(latest.event.at))}"
    text += f"; {SELF_SIGNED}" if latest.self_signed else "; signed by an identity other than the run's"
    return {
        "state": decision,
        "independent": latest.event.accepted and not latest.self_signed,
        "self_signed": latest.self_signed,
        "text": text,
        "current": _sign_off(latest),
        "superseded": [_sign_off(s) for s in evidence.sign_offs[:-1]],
    }


def _sign_off(sign_off: SignOff) -> dict[str, Any]:
    event: ReviewSignedOff = sign_off.event
    return {
        "at": iso(event.at),
        "by": _line(event.by),
        "arn": _line(event.arn),
        "account": _line(event.account),
        "user_id": _line(event.user_id),
        "profile": _line(event.profile),
        "decision": "accepted" if event.accepted else "rejected",
        "self_signed": sign_off.self_signed,
        "note": SELF_SIGNED if sign_off.self_signed else "independent: not the run's identity",
        "superseded": not sign_off.current,
        "review": bounded(event.review),
    }


# -- the CSV sections

#: Each section's name and columns, in the order they follow the attempt rows.
AUDIT_CSV_SECTIONS: dict[str, tuple[str, ...]] = {
    "test": ("execution_id", "recorded", "test_type", "scenario", "objectives", "success_criteria",
             "participants", "recorded_at", "recorded_by", "next_test_due", "next_test_due_on",
             "cadence", "cadence_as_of"),
    "rpo": ("execution_id", "server_id", "hostname", "data_from", "data_source", "replication_lag_seconds",
            "reference", "reference_at", "achieved_seconds", "target_seconds", "result", "unknown_because"),
    "rpo_summary": ("execution_id", "servers", "worst_server_id", "worst_achieved_seconds", "target_seconds",
                    "target_source", "result", "met", "not_met", "unknown", "definition"),
    "findings": ("execution_id", "finding_id", "severity", "status", "owner", "due", "text", "added_at",
                 "added_by", "updated_at"),
    "finding_history": ("execution_id", "finding_id", "at", "by", "what", "status", "changes", "comment"),
    "sign_offs": ("execution_id", "state", "at", "by", "decision", "self_signed", "arn", "account",
                  "user_id", "profile", "review"),
}  # fmt: skip


def audit_csv_rows(document: Mapping[str, Any]) -> list[tuple[object, ...]]:
    """The rows that follow the attempt rows: per section a blank row, its marker, header and rows."""
    audit, execution_id = document["audit"], document["execution"]["id"]
    test, rpo, review = audit["test"], audit["rpo"], audit["review"]
    due = test["next_test_due"]
    sections: dict[str, tuple[str, list[tuple[object, ...]]]] = {
        "test": ("" if test["recorded"] else NOT_RECORDED, [(
            execution_id, "yes" if test["recorded"] else "no", test["type"] or NOT_RECORDED,
            test["scenario"], "\n".join(test["objectives"]), "\n".join(test["success_criteria"]),
            "\n".join(test["participants"]), test["recorded_at"], test["recorded_by"],
            due["text"], due["due_on"], due["state"], due["as_of"],
        )]),
        "rpo": ("" if rpo["servers"] else rpo["summary"]["text"], [
            (execution_id, r["server_id"], r["hostname"], r["data_from"], r["data_source"],
             r["replication_lag_seconds"], rpo["reference"], r["reference_at"], r["achieved_seconds"],
             r["target_seconds"], r["result"], r["unknown_because"])
            for r in rpo["servers"]
        ]),
        "rpo_summary": ("", [(
            execution_id, rpo["summary"]["servers"], rpo["summary"]["worst_server_id"],
            rpo["summary"]["worst_achieved_seconds"], rpo["target_seconds"], rpo["target_source"],
            rpo["summary"]["result"], rpo["summary"]["met"], rpo["summary"]["not_met"],
            rpo["summary"]["unknown"], rpo["definition"],
        )]),
        "findings": ("" if audit["findings"] else NO_FINDINGS, [
            (execution_id, f["id"], f["severity"], f["status"], f["owner"], f["due"], f["text"],
             f["added_at"], f["added_by"], f["updated_at"])
            for f in audit["findings"]
        ]),
        "finding_history": ("", [
            (execution_id, f["id"], h["at"], h["by"], h["what"], h["status"], _changes_text(h["changes"]),
             h["comment"])
            for f in audit["findings"] for h in f["history"]
        ]),
        "sign_offs": ("" if review["current"] else NOT_SIGNED, [
            (execution_id, "superseded" if s["superseded"] else "current", s["at"], s["by"], s["decision"],
             SELF_SIGNED if s["self_signed"] else "no", s["arn"], s["account"], s["user_id"], s["profile"],
             s["review"])
            for s in [*review["superseded"], *([review["current"]] if review["current"] else [])]
        ]),
    }  # fmt: skip
    rows: list[tuple[object, ...]] = []
    for name, columns in AUDIT_CSV_SECTIONS.items():
        note, body = sections[name]
        rows += [(), (f"# {name}", note), columns, *body]
    return rows


def _changes_text(changes: Iterable[Mapping[str, str]]) -> str:
    return "; ".join(f"{c['field']}: {c['from'] or '(none)'} -> {c['to'] or '(none)'}" for c in changes)


@dataclass(frozen=True)
class CsvSection:
    name: str
    note: str
    rows: list[dict[str, str]] = field(default_factory=list)


def csv_sections(text: str) -> dict[str, CsvSection]:
    """A report CSV read back: its attempt rows as section "attempts", then each added section.
    ValueError for a file that is not laid out so (a header missing, a row of the wrong width)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    sections: dict[str, CsvSection] = {}
    current: CsvSection | None = None
    header: list[str] | None = None
    for row in reader:
        if not row:
            current, header = None, None
        elif current is None and not sections:
            current, header = CsvSection("attempts", ""), row
            sections["attempts"] = current
        elif current is None:
            if not row[0].startswith("# "):
                raise ValueError(f"a report CSV section starts with {row[0]!r}, not '# name'")
            current = CsvSection(row[0][2:], row[1] if len(row) > 1 else "")
            sections[current.name] = current
        elif header is None:
            header = row
        elif len(row) != len(header):
            raise ValueError(f"a row of section {current.name} has {len(row)} cells, not {len(header)}")
        else:
            current.rows.append(dict(zip(header, row, strict=True)))
    return sections
