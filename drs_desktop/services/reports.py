"""Evidence reports of an execution: ``drs-desktop report ID --format html|json|csv -o FILE``.

``load_execution_view`` rebuilds the execution from its journal exactly as the runner does after a crash
(``spec_from_json(record.spec)`` + replay), so a report written a year later says what the live run
knew. It adds the plan revision the execution pinned (read by its row ID, so a plan renamed or deleted
since still shows the document that ran, with its content hash checked) and, where the local inventory
cache knows them, hostnames.

The three renderers all start from one document (``services.report_document``): JSON is that document; CSV is
one row per server per attempt; HTML is a self-contained, printable page (inline CSS, no script, no
external resource). None of them ever holds a credential.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from drs_desktop.domain.engine.events import is_core
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.event_log import journal_log
from drs_desktop.domain.views.evidence import collect_evidence
from drs_desktop.domain.views.report import ExecutionView, PinnedPlan, replay_trail
from drs_desktop.services.cadence import plan_cadence_facts
from drs_desktop.services.journal_replay import rebuild_journal
from drs_desktop.services.report_audit import audit_csv_rows
from drs_desktop.services.report_document import build_report_document
from drs_desktop.services.report_html import html_from_document
from drs_desktop.services.report_values import scrub_text
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage.db import Readable
from drs_desktop.storage.pinned_revisions import load_revision_by_id

logger = logging.getLogger(__name__)

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "ReportError",
    "ReportFormat",
    "load_execution_view",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "write_report",
]

ReportFormat = Literal["html", "json", "csv"]
FORMATS: tuple[ReportFormat, ...] = ("html", "json", "csv")

CSV_COLUMNS = (
    "execution_id",
    "wave_index",
    "wave",
    "server_id",
    "hostname",
    "impact",
    "attempt",
    "final_attempt",
    "retries",
    "job_id",
    "queued_at",
    "job_started_at",
    "snapshot_started_at",
    "snapshot_ended_at",
    "conversion_started_at",
    "conversion_ended_at",
    "launch_started_at",
    "launched_at",
    "ready_at",
    "failed_at",
    "outcome",
    "failed_stage",
    "reason",
    "recovery_instance_id",
    "ec2_instance_id",
    "terminated_at",
    "terminate_job_id",
    "held_by",
    "run_in",  # "DRS" for a run in DRS, "desktop" for a run here
    "native_step",  # a run in DRS: the native step whose DRS job this attempt was
)


class ReportError(DrsDesktopError):
    """The report cannot be made (an unreadable journal, an unknown format, an unwritable file)."""


# -- loading


def load_execution_view(db: Readable, execution_id: str) -> ExecutionView:
    """Everything a report of ``execution_id`` (or a unique prefix of it) shows.

    ExecutionNotFoundError for an unknown ID; JournalUnreadableError (one line) for a journal entry this
    version cannot decode; ReportError when the stored spec or journal cannot be rebuilt (a report must
    not guess). A journal cut short still gives a view, with ``journal_warning`` saying so.
    """
    record = execution_store.get_execution(db, execution_id)
    try:
        replayed = rebuild_journal(db, record, replay_trail)
    except (ValueError, TypeError, KeyError) as exc:
        raise ReportError(
            f"execution {record.execution_id} cannot be rebuilt from its journal: {exc}"
        ) from exc
    journal, trail = replayed.journal, replayed.state
    entries = journal.entries
    if journal.warning:
        logger.info("%s", journal.warning)
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(_canonical(entry.payload).encode("utf-8"))
        digest.update(b"\n")
    hostnames = _hostnames(db, record.identity, record.options)
    cadence, cadence_problem = plan_cadence_facts(db, record.plan_id)
    view = ExecutionView(
        record=record,
        state=trail.state,
        evidence=collect_evidence(trail.state, trail.native_started),
        plan=_pinned_plan(db, record.plan_revision_id, record.plan_revision),
        earlier_attempts=trail.earlier_attempts,
        controls=trail.controls,
        retries=trail.retries,
        hostnames=hostnames,
        journal_events=len(entries),
        journal_sha256=digest.hexdigest(),
        journal_warning=journal.warning or "",
        log=journal_log(trail.state.spec, replayed.events, hostnames),
        audit_events=trail.audit_events,
        annotations=tuple(event for event in replayed.events if not is_core(event)),
        cadence=cadence,  # the plan's next test due, decided at the report's time (report_audit)
        cadence_problem=cadence_problem,
    )
    logger.info("execution %s loaded for a report (%d events)", record.execution_id, len(entries))
    return view


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _pinned_plan(db: Readable, revision_id: str, number: int) -> PinnedPlan:
    found = load_revision_by_id(db, revision_id)
    if found is None:
        return PinnedPlan(
            None, None, False, f"plan revision {number} ({revision_id}) is not in this database"
        )
    revision, text = found
    verified = hashlib.sha256(text.encode("utf-8")).hexdigest() == revision.content_hash
    problem = "" if verified else "the stored document does not match its recorded content hash"
    try:
        document = json.loads(text)
    except ValueError:
        return PinnedPlan(revision, None, False, "the stored plan document is not valid JSON")
    if not isinstance(document, dict):
        return PinnedPlan(revision, None, False, "the stored plan document is not a JSON object")
    return PinnedPlan(revision, document, verified, problem)


def _hostnames(db: Readable, identity: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, str]:
    """Hostnames from the inventory cache of the execution's account and region (best effort; none
    when the account is unknown, rather than another account's names)."""
    target = options.get("target")
    region = target.get("region") if isinstance(target, Mapping) else None
    account = identity.get("account")
    if not account:
        return {}
    try:
        inventory = inventory_store.load_inventory(db, str(account), str(region) if region else None)
    except DrsDesktopError as exc:  # a damaged cache must not stop a report
        logger.warning("no hostnames for the report: %s", exc)
        return {}
    if inventory is None:
        return {}
    return {s.source_server_id: s.hostname for s in inventory.servers if s.hostname}


# -- rendering


def render_json(view: ExecutionView, *, generated_at: datetime | None = None) -> str:
    """The report document as indented JSON, keys in documented order, ending with a newline."""
    document = build_report_document(view, generated_at)
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_csv(view: ExecutionView, *, generated_at: datetime | None = None) -> str:
    """One row per server per attempt, columns ``CSV_COLUMNS``; a server that never started has one row
    with no job. Then the audit sections (test, RPO, findings, sign-offs: ``report_audit``), each after a
    blank row. Cells that a spreadsheet would run as a formula are prefixed with an apostrophe."""
    document = build_report_document(view, generated_at)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    execution_id = document["execution"]["id"]
    run_in = document["execution"]["run_in"]
    native = document["native"]
    steps = {job: step["index"] for step in native["steps"] for job in step["job_ids"]} if native else {}
    for server in document["servers"]:
        for attempt in server["attempts"]:
            stages = attempt["stages"]
            row = (
                execution_id,
                server["wave_index"] + 1,
                server["wave"],
                server["server_id"],
                server["hostname"],
                server["impact"],
                attempt["attempt"],
                "yes" if attempt["final"] else "no",
                server["retries"],
                attempt["job_id"],
                attempt["queued_at"],
                attempt["job_started_at"],
                stages["snapshot"]["started_at"],
                stages["snapshot"]["ended_at"],
                stages["conversion"]["started_at"],
                stages["conversion"]["ended_at"],
                stages["launch"]["started_at"],
                attempt["launched_at"],
                attempt["ready_at"],
                attempt["failed_at"],
                attempt["status"],
                attempt["failed_stage"],
                attempt["reason"],
                attempt["recovery_instance_id"],
                attempt["ec2_instance_id"],
                attempt["terminated_at"],
                attempt["terminate_job_id"],
                attempt["held_by"],
                run_in,
                steps.get(attempt["job_id"]),
            )
            writer.writerow([_cell(value) for value in row])
    for section_row in audit_csv_rows(document):  # issue 18's sections, after the attempt rows (report_audit)
        writer.writerow([_cell(value) for value in section_row])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = scrub_text(str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_html(view: ExecutionView, *, generated_at: datetime | None = None) -> str:
    """A self-contained, printable HTML page of the report."""
    return html_from_document(build_report_document(view, generated_at))


def render(view: ExecutionView, fmt: str, *, generated_at: datetime | None = None) -> str:
    """The report in ``fmt`` ("html", "json" or "csv"); ReportError for another format."""
    if fmt == "json":
        return render_json(view, generated_at=generated_at)
    if fmt == "csv":
        return render_csv(view, generated_at=generated_at)
    if fmt == "html":
        return render_html(view, generated_at=generated_at)
    raise ReportError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_report(
    view: ExecutionView, fmt: str, path: str | os.PathLike[str], *, generated_at: datetime | None = None
) -> Path:
    """Write the report atomically: a temporary file in the same folder, flushed, then renamed over
    ``path``, so a reader never sees half a report. Returns the path written."""
    text = render(view, fmt, generated_at=generated_at)
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {target}: {exc.strerror or exc}") from exc
    try:
        newline = "" if fmt == "csv" else None  # the csv module wrote its own CRLFs
        with os.fdopen(handle, "w", encoding="utf-8", newline=newline) as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private; a report is meant to be shared like any file the user saves.
        os.chmod(temp_name, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(temp_name, target)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise ReportError(f"cannot write the report to {target}: {exc.strerror or exc}") from exc
    logger.info("%s report of execution %s written to %s", fmt, view.record.execution_id, target)
    return target
