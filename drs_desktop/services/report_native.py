"""What an evidence report adds for a run in DRS (issue 15): the mark, the native steps, the controls' fate.

A run in DRS is an ordinary execution (its waves, servers, jobs, job logs, recovery instances and drill
cleanup are those of a local run), so its report is the same report, marked "Run in DRS" at the top with
the native plan, the execution, whether this desktop started it or attached to it, and DRS's execution
status, plus a section with the native steps as DRS last reported them. This module makes those parts
of the report document (``services.report_document``) and their HTML cells, shared by the HTML page
(``services.report_html``) and the PDF (``services.report_pdf``), so both say the same.

An operator's retry, skip or cancel of a run in DRS is a request to DRS, which may refuse it: the report
says what DRS did with each (a retry took effect when DRS launched the step's servers again in a new job;
a skip when DRS shows the step SKIPPED).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from drs_desktop.domain.engine.events import SkipWave
from drs_desktop.domain.engine.native_events import NativeControlFailed, NativeControlSent
from drs_desktop.domain.engine.native_state import NATIVE_DONE
from drs_desktop.domain.views.evidence import NativeEvidence
from drs_desktop.domain.views.report import ExecutionView

__all__ = [
    "HOW_TEXT",
    "RUN_IN_DRS",
    "STEP_HEADERS",
    "native_banner_facts",
    "native_document",
    "native_step_rows",
    "operator_actions",
    "retry_by",
    "retry_note",
    "skip_in_drs",
    "skip_note",
    "step_of_jobs",
]

RUN_IN_DRS = "Run in DRS"
#: ``NativeEvidence.how`` as a report says it.
HOW_TEXT = {
    "started": "started by this desktop",
    "attached": "started elsewhere; this desktop attached to it",
    "refused": "DRS refused to start it: nothing ran",
    "unconfirmed": "start sent, DRS's answer never came",
    "not started": "not started yet",
}
STEP_HEADERS = ("#", "Step", "Kind", "Wave", "Status in DRS", "Servers and their DRS job", "Jobs", "Updated")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def native_document(view: ExecutionView) -> dict[str, Any] | None:
    """The report document's ``native`` key: None for a run here."""
    native = view.evidence.native
    if native is None:
        return None
    final = native.status in NATIVE_DONE or (native.status == "FAILED" and view.state.finished is not None)
    return {
        "run_in": "DRS",
        "plan": {"name": native.plan_name or None, "arn": native.plan_arn},
        "account_id": native.account_id or None,
        "region": native.region or None,
        "execution_arn": native.execution_arn or None,
        "how": native.how,
        "how_text": HOW_TEXT.get(native.how, native.how),
        "how_at": _iso(native.how_at),
        "start_refused": native.start_refused or None,
        "status": native.status or None,
        "status_final": final,
        "error": native.error or None,
        "drs_started_at": _iso(native.drs_started_at),
        "drs_completed_at": _iso(native.drs_completed_at),
        "last_read_at": _iso(native.observed_at),
        "steps": _steps(native, view.hostnames),
        "pending_controls": [
            {"kind": kind, "step": index or None, "requested_at": _iso(at), "by": by}
            for kind, index, at, by in native.pending
        ],
    }


def _steps(native: NativeEvidence, hostnames: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "index": step.index,
            "name": step.name,
            "kind": step.kind,
            "wave": step.wave_name or None,
            "wave_index": step.wave_index if step.wave_index >= 0 else None,
            "phase": step.phase or None,
            "status": step.status or None,
            "error": step.error or None,
            "error_code": step.error_code or None,
            "wait_minutes": step.wait_minutes,
            "updated_at": _iso(step.updated_at),
            "servers": [
                {
                    "server_id": s.server_id,
                    "hostname": hostnames.get(s.server_id) or None,
                    "impact": s.impact,
                    "job_id": s.job_id or None,
                }
                for s in step.servers
            ],
            "job_ids": list(step.job_ids),
        }
        for step in native.steps
    ]


def step_of_jobs(view: ExecutionView) -> dict[str, int]:
    """Each DRS job of a run in DRS -> the index of the SERVER step that launched it ({} for a run here)."""
    native = view.evidence.native
    if native is None:
        return {}
    return {job: step.index for step in native.steps if step.kind == "SERVER" for job in step.job_ids}


def _step_names(view: ExecutionView) -> dict[int, str]:
    native = view.evidence.native
    return {step.index: step.name for step in native.steps} if native is not None else {}


def operator_actions(view: ExecutionView) -> list[dict[str, Any]]:
    """The audit trail. In a run in DRS, a control's call to DRS ("retry sent", "skip refused", ...) names
    the native step it went to (``step``: index and name; None otherwise)."""
    names = _step_names(view)
    sources = view.audit_events if len(view.audit_events) == len(view.state.audit) else ()
    rows: list[dict[str, Any]] = []
    for number, entry in enumerate(view.state.audit):
        source = sources[number] if sources else None
        step = None
        if isinstance(source, NativeControlSent | NativeControlFailed) and source.step_index:
            step = {"index": source.step_index, "name": names.get(source.step_index, "")}
        rows.append(
            {
                "action": entry.action,
                "at": _iso(entry.at),
                "by": entry.by,
                "detail": entry.detail,
                "step": step,
            }
        )
    return rows


def skip_in_drs(view: ExecutionView, skip: SkipWave) -> str | None:
    """What DRS did with an operator's skip of a run in DRS (None for a run here): "skipped" when DRS shows
    the step SKIPPED, "refused: <why>" when DRS refused the call, else "not confirmed"."""
    native, spec = view.evidence.native, view.state.spec.native
    if native is None or spec is None:
        return None
    where = spec.server_step(skip.wave_index)
    if where is None:
        return "not confirmed"
    seen = next((s for s in native.steps if s.index == where.index), None)
    if seen is not None and seen.status == "SKIPPED":
        return "skipped"
    for event in view.audit_events:
        if (
            isinstance(event, NativeControlFailed)
            and event.definite
            and event.kind == "skip"
            and event.step_index == where.index
            and event.at >= skip.at
        ):
            return f"refused: {event.reason}"
    return "not confirmed"


# -- HTML cells, shared by the HTML page and the PDF (both escape through here)


def _e(value: object) -> str:
    if value is None or value == "":
        return '<span class="none">—</span>'
    return html.escape(str(value), quote=True)


def _mono(value: object) -> str:
    return f'<span class="mono">{_e(value)}</span>'


def _when(value: str | None) -> str:
    if not value:
        return _e(None)
    day, _, clock = value.partition("T")
    return _e(f"{day} {clock.split('.')[0].rstrip('Z')}Z")


def native_banner_facts(native: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, HTML) rows of the "Run in DRS" mark at the top of a report."""
    plan = native["plan"]
    status = native["status"] or "never read"
    when = native["drs_completed_at"] if native["status_final"] else native["last_read_at"]
    qualifier = "final" if native["status_final"] else "last read"
    shown = f"<b>{_e(status)}</b> ({qualifier}{', ' + _when(when) if when else ''})"
    if native["error"]:
        shown += f' <span class="fail">{_e(native["error"])}</span>'
    how = _e(native["how_text"]) + (f" at {_when(native['how_at'])}" if native["how_at"] else "")
    if native["start_refused"]:
        how += f' <span class="fail">{_e(native["start_refused"])}</span>'
    facts = [
        ("Native plan", f"{_e(plan['name'])} {_mono(plan['arn'])}"),
        ("Execution", _mono(native["execution_arn"])),
        ("Started", how),
        ("DRS status", shown),
    ]
    if native["pending_controls"]:
        pending = "; ".join(
            f"{_e(c['kind'])}{' of step ' + str(c['step']) if c['step'] else ''} asked by {_e(c['by'])} "
            f"at {_when(c['requested_at'])}"
            for c in native["pending_controls"]
        )
        facts.append(("Not yet in DRS", f'<span class="fail">{pending}</span>'))
    return facts


def native_step_rows(native: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """One row per native step, cells already escaped (headers ``STEP_HEADERS``)."""
    rows: list[tuple[str, ...]] = []
    for step in native["steps"]:
        kind = step["kind"] + (f" ({step['wait_minutes']} min)" if step["wait_minutes"] else "")
        wave = step["wave"]
        if step["phase"]:
            wave = f"{wave} ({step['phase'].lower()} its launch)"
        status = _e(step["status"] or "not listed")
        if step["error"]:
            code = f" [{step['error_code']}]" if step["error_code"] else ""
            status += f'<br><span class="small fail">{_e(step["error"] + code)}</span>'
        servers = "<br>".join(
            f"{_mono(s['server_id'])} {html.escape(s['hostname'] or '')} "
            f"{'' if s['impact'] == 'CRITICAL' else _e(s['impact'].lower())} {_mono(s['job_id'])}"
            for s in step["servers"]
        )
        rows.append(
            (
                str(step["index"]),
                _e(step["name"]),
                _e(kind),
                _e(wave),
                status,
                servers or _e(None),
                "<br>".join(_mono(job) for job in step["job_ids"]) or _e(None),
                _when(step["updated_at"]),
            )
        )
    return rows


def retry_by(retry: Mapping[str, Any]) -> str:
    """Who retried: a retry DRS made that no operator of this desktop asked for says so."""
    if retry["by"]:
        return _e(retry["by"])
    return _e("in DRS, not from this desktop" if retry.get("relaunched_at") else None)


def retry_note(retry: Mapping[str, Any]) -> str:
    """A run in DRS: when DRS's new job for the retried servers was seen ("" for a run here)."""
    at = retry.get("relaunched_at")
    return f'<br><span class="small">relaunched by DRS {_when(at)}</span>' if at else ""


def skip_note(skip: Mapping[str, Any]) -> str:
    """A run in DRS: what DRS did with the skip ("" for a run here)."""
    done = skip.get("in_drs")
    return f'<br><span class="small">in DRS: {_e(done)}</span>' if done else ""
