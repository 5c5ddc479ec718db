"""The period roll-up report (issue 18): read the runs of a date range, fold each journal, write the
report as HTML, CSV or (laid out by the ui layer) PDF.

``drs-desktop report --period FROM..TO`` and the GUI's "Period report…" dialog share everything here.
Each run is rebuilt from its journal the way the history and the single-run report rebuild it
(``services.journal_replay``), its annotations folded into its audit record (``views.audit``), and its
targets read from the plan revision it pinned (a plan edited since does not move an old run's targets).
A run whose journal cannot be read is listed as unreadable, never dropped. The roll-up itself is pure
(``domain.views.period``); the formats are ``report_period_html`` and ``report_period_csv``.

Which plans: the plans that exist now, plus the plans that ran in the period and were deleted since (a
deleted plan's tests are still evidence); or only the plans named, each one a plan that exists or one
with runs. Time comes in (``now``): it decides which findings are overdue.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from drs_desktop.domain.engine.reducer import replay
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.audit import audit_record
from drs_desktop.domain.views.period import (
    PeriodReport,
    PlanInfo,
    RunFacts,
    roll_up,
    run_facts,
    unreadable_run,
)
from drs_desktop.domain.views.period_range import PeriodRequest
from drs_desktop.domain.views.report_chart import PdfReport, TimelineChart
from drs_desktop.services.journal_replay import rebuild_journal
from drs_desktop.services.report_period_csv import period_csv
from drs_desktop.services.report_period_html import period_html, period_pdf_html
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Readable
from drs_desktop.storage.executions_started import executions_started_before
from drs_desktop.storage.pinned_revisions import load_revision_by_id

logger = logging.getLogger(__name__)

__all__ = [
    "PERIOD_FORMATS",
    "PeriodFormat",
    "PeriodReportError",
    "PeriodReports",
    "PeriodRequest",
    "build_period_report",
    "period_pdf_report",
    "plan_choices",
    "plans_in_scope",
    "render_period",
    "write_period_report",
]

PeriodFormat = Literal["html", "csv", "pdf"]
PERIOD_FORMATS: tuple[PeriodFormat, ...] = ("pdf", "html", "csv")


class PeriodReportError(DrsDesktopError):
    """The roll-up cannot be made: a plan named that is unknown, an unknown format, an unwritable file."""


def plans_in_scope(db: Readable, request: PeriodRequest) -> list[PlanInfo]:
    """The plans the roll-up covers (see the module's docstring), in name order. PeriodReportError for a
    name that is neither a plan now nor a plan that ever ran."""
    current = [_plan_info(db, summary.plan_id, summary.name) for summary in plan_store.list_plans(db)]
    known = {plan.plan_id for plan in current}
    gone: dict[str, PlanInfo] = {}
    records = executions_started_before(db, request.period.end)
    for record in records:
        if record.plan_id not in known:  # oldest first: the newest name a deleted plan ran under wins
            gone[record.plan_id] = PlanInfo(record.plan_id, record.plan_name, exists=False)
    if not request.plan_names:
        ran = {r.plan_id for r in records if request.period.contains(r.started_at)}
        chosen = current + [plan for plan_id, plan in gone.items() if plan_id in ran]
    else:
        chosen = []
        for name in request.plan_names:
            found = [p for p in (*current, *gone.values()) if p.name.casefold() == name.casefold()]
            if not found:
                raise PeriodReportError(f"no plan named {name!r} exists or ever ran")
            chosen.extend(p for p in found if p not in chosen)
    return sorted(chosen, key=lambda p: (p.name.casefold(), p.name, p.plan_id))


def _plan_info(db: Readable, plan_id: str, name: str) -> PlanInfo:
    try:
        cadence = plan_store.get_plan(db, name).cadence
    except DrsDesktopError as exc:  # a plan whose stored document no longer reads: no cadence known
        logger.warning("plan %r has no readable cadence for the roll-up: %s", name, exc)
        return PlanInfo(plan_id, name)
    return PlanInfo(plan_id, name, cadence=cadence)


def build_period_report(db: Readable, request: PeriodRequest, *, now: datetime) -> PeriodReport:
    """The roll-up of ``request``: every run of its plans up to the period's end, folded."""
    plans = plans_in_scope(db, request)
    records = executions_started_before(db, request.period.end, plan_ids={p.plan_id for p in plans})
    targets: dict[str, tuple[int | None, int | None]] = {}
    runs: list[RunFacts] = []
    for record in records:
        try:
            replayed = rebuild_journal(db, record, replay)
        except (DrsDesktopError, ValueError, TypeError, KeyError) as exc:
            logger.warning("execution %s cannot be replayed for the roll-up: %s", record.execution_id, exc)
            runs.append(unreadable_run(record, f"its journal cannot be replayed: {exc}"))
            continue
        if record.plan_revision_id not in targets:
            targets[record.plan_revision_id] = _pinned_targets(db, record.plan_revision_id)
        rto_minutes, rpo_minutes = targets[record.plan_revision_id]
        audit = audit_record(replayed.events)
        runs.append(
            run_facts(record, replayed.state, audit, rto_minutes=rto_minutes, rpo_minutes=rpo_minutes)
        )
    scope = "all plans" if not request.plan_names else ", ".join(p.name for p in plans)
    report = roll_up(request.period, plans, runs, now=now, scope=scope)
    logger.info(
        "period roll-up %s: %d plans, %d runs in the period (%d read)",
        request.period.label,
        len(plans),
        len(report.runs),
        len(records),
    )
    return report


def _pinned_targets(db: Readable, revision_id: str) -> tuple[int | None, int | None]:
    """RTO and RPO minutes of the pinned plan revision; None where it has none or cannot be read."""
    found = load_revision_by_id(db, revision_id)
    if found is None:
        return None, None
    try:
        document = json.loads(found[1])
    except ValueError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    return _minutes(document.get("rto_minutes")), _minutes(document.get("rpo_minutes"))


def _minutes(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def render_period(report: PeriodReport, fmt: str) -> str:
    """The roll-up as ``html`` or ``csv`` text (a PDF is laid out by the ui layer: ``period_pdf_report``)."""
    if fmt == "html":
        return period_html(report)
    if fmt == "csv":
        return period_csv(report)
    raise PeriodReportError(f"unknown period report format {fmt!r}; use one of {', '.join(PERIOD_FORMATS)}")


def period_pdf_report(report: PeriodReport) -> PdfReport:
    """The roll-up ready for the PDF layout of the single-run report (``ui.executions.report_pdf``), which
    lays out landscape A4 pages: its HTML names no timeline picture, so the chart it carries is empty."""
    return PdfReport(
        title=f"DR test roll-up {report.period.label}",
        html=period_pdf_html(report),
        timeline=TimelineChart(started_at="", span=1.0, rows=()),
        rows_per_picture=1,
    )


def write_period_report(report: PeriodReport, fmt: str, path: str | os.PathLike[str]) -> Path:
    """Write the HTML or CSV roll-up atomically (a temporary file in the same folder, renamed over
    ``path``), so a reader never sees half a report. Returns the path written."""
    text = render_period(report, fmt)
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise PeriodReportError(f"cannot write the report to {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="" if fmt == "csv" else None) as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(temp_name, target)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise PeriodReportError(f"cannot write the report to {target}: {exc.strerror or exc}") from exc
    logger.info("%s period roll-up written to %s", fmt, target)
    return target


def plan_choices(db: Readable) -> list[str]:
    """The plan names a dialog offers: the plans now, then deleted plans that ran, by name."""
    names = {s.name for s in plan_store.list_plans(db)}
    names.update(r.plan_name for r in executions_started_before(db, datetime.max.replace(tzinfo=UTC)))
    return sorted(names, key=str.casefold)


class PeriodReports:
    """The roll-up's use cases over one reader: the GUI's ``local`` task thread reaches them through its
    history service (``ExecutionHistory.period_reports``), so they read through that thread's connection."""

    def __init__(self, db: Readable) -> None:
        self._db = db

    def plan_choices(self) -> list[str]:
        return plan_choices(self._db)

    def report(self, request: PeriodRequest, *, now: datetime) -> PeriodReport:
        return build_period_report(self._db, request, now=now)

    def write(self, request: PeriodRequest, fmt: str, path: str | os.PathLike[str], *, now: datetime) -> Path:
        """Build and write the HTML or CSV roll-up; returns the path written."""
        if fmt not in ("html", "csv"):
            raise PeriodReportError(f"a {fmt} roll-up is not written here; a PDF is laid out by the GUI")
        return write_period_report(self.report(request, now=now), fmt, path)

    def pdf(self, request: PeriodRequest, *, now: datetime) -> PdfReport:
        return period_pdf_report(self.report(request, now=now))
