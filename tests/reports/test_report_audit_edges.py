"""The audit sections at their edges, on real drills on the simulator: a run that recorded no annotation
(and whose plan sets no RPO target) says so in every form, never a blank; hostile annotation text (markup,
newlines, formulas, a secret, 50,000 characters in one word, 500 participants) comes out escaped,
bounded and on its own lines; a sign-off with the run's own ARN is self-signed whatever its event says."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSizeF
from PySide6.QtPdf import QPdfDocument
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    ReviewSignedOff,
    Severity,
    TestRecorded,
    TestType,
)
from drs_desktop.domain.views.evidence_audit import NO_FINDINGS, NOT_RECORDED, NOT_SIGNED, SELF_SIGNED
from drs_desktop.services.report_audit import LINE_LIMIT, LIST_LIMIT, TEXT_LIMIT, csv_sections
from drs_desktop.services.report_pdf import pdf_report
from drs_desktop.services.reports import load_execution_view, render_csv, render_html, render_json
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.report_pdf import build_document, page_layout, write_pdf_report

from .audit_drills import AuditDrill, annotate, as_before_audit, run_drill
from .test_report_formats import parse

GENERATED = datetime.fromisoformat("2026-02-01T12:00:00+00:00")
LONG_WORD = "W" * 50_000
FORGED = "</td></tr></table><h1>forged</h1><script>alert(1)</script>"
KEY = "AKIAABCDEFGHIJKLMNOP"


@dataclass(frozen=True)
class Runs:
    db: Database
    plain: AuditDrill  # no annotation at all, a plan with no RPO target
    hostile: AuditDrill


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    home: Path = tmp_path_factory.mktemp("audit-edges")
    with EmbeddedSimulator("small", seed=11) as sim, Database.open(home / "drs-desktop.sqlite3") as db:
        plain = run_drill(sim, db, "Plain", rpo_minutes=None)
        as_before_audit(db, plain.execution_id)  # a run journaled before DRS Desktop recorded tests
        hostile = run_drill(sim, db, "Hostile")
        end = hostile.state.finished_at
        assert end is not None
        annotate(
            db,
            hostile.execution_id,
            [
                TestRecorded(
                    test_type=TestType.PARTIAL,
                    scenario=f"{FORGED}\nsecond line",
                    participants=tuple(f"person {n}" for n in range(500)),
                    at=hostile.started_at,
                    by="eve\nforged-line",
                ),
                FindingAdded(
                    finding_id="F-<1>", text=f"{LONG_WORD} key {KEY}", severity=Severity.CRITICAL,
                    owner="=cmd|' /C calc'!A0\n<b>x</b>", due="2027-01-01\r\nrow", at=end, by="eve",
                ),
                # The event says independent, but the ARN is the run's own: the report says self-signed.
                ReviewSignedOff(
                    arn=hostile.run_arn, account=hostile.account, user_id="AIDAOPERATOR",
                    review=FORGED, accepted=False, self_signed=False, at=end + timedelta(hours=1),
                ),
            ],
        )  # fmt: skip
        yield Runs(db, plain, hostile)


def report(runs: Runs, drill: AuditDrill, fmt: str) -> str:
    view = load_execution_view(runs.db, drill.execution_id)
    if fmt == "json":
        return render_json(view, generated_at=GENERATED)
    return (
        render_csv(view, generated_at=GENERATED)
        if fmt == "csv"
        else render_html(view, generated_at=GENERATED)
    )


def test_a_run_with_no_annotation_says_so_in_the_json(runs: Runs) -> None:
    audit = json.loads(report(runs, runs.plain, "json"))["audit"]
    assert audit["test"]["recorded"] is False and audit["test"]["text"] == NOT_RECORDED
    assert audit["findings"] == [] and audit["findings_summary"]["text"] == NO_FINDINGS
    assert audit["review"]["state"] == NOT_SIGNED and audit["review"]["current"] is None
    rpo = audit["rpo"]
    assert (
        rpo["target_seconds"] is None and rpo["target_source"] == "none: plan revision 1 sets no RPO target"
    )
    assert len(rpo["servers"]) == 3  # every launched server, each unknown
    assert {(r["result"], r["unknown_because"]) for r in rpo["servers"]} == {
        ("unknown", "no recovery point was recorded for this server")
    }
    assert rpo["summary"]["result"] == "unknown" and rpo["summary"]["text"].startswith("no launched server's")


def test_a_run_with_no_annotation_says_so_in_the_csv_html_and_pdf(
    runs: Runs, tmp_path: Path, qtbot: QtBot
) -> None:
    sections = csv_sections(report(runs, runs.plain, "csv"))
    assert sections["test"].note == NOT_RECORDED and sections["test"].rows[0]["test_type"] == NOT_RECORDED
    assert sections["findings"].note == NO_FINDINGS and sections["findings"].rows == []
    assert sections["sign_offs"].note == NOT_SIGNED and sections["sign_offs"].rows == []
    text = " ".join(parse(report(runs, runs.plain, "html")).text)
    for said in (NOT_RECORDED, NO_FINDINGS, NOT_SIGNED):
        assert said in text
    view = load_execution_view(runs.db, runs.plain.execution_id)
    pdf = QPdfDocument()
    assert pdf.load(str(write_pdf_report(pdf_report(view, generated_at=GENERATED), tmp_path / "p.pdf"))) == (
        QPdfDocument.Error.None_
    )
    first = pdf.getAllText(0).text()
    assert NOT_RECORDED in first.replace("\n", " ") and NOT_SIGNED in first


def test_hostile_text_is_bounded_and_kept_on_its_lines_in_the_json(runs: Runs) -> None:
    audit = json.loads(report(runs, runs.hostile, "json"))["audit"]
    [finding] = audit["findings"]
    assert finding["text"].startswith(LONG_WORD[:TEXT_LIMIT] + "… [cut: ")
    assert re.search(r"\[cut: \d+ more characters in the journal\]$", finding["text"])
    assert len(finding["text"]) < TEXT_LIMIT + 60
    assert finding["owner"] == "=cmd|' /C calc'!A0 <b>x</b>" and finding["due"] == "2027-01-01 row"
    participants = audit["test"]["participants"]
    assert len(participants) == LIST_LIMIT + 1 and participants[-1] == "… and 400 more in the journal"
    assert audit["test"]["recorded_by"] == "eve forged-line"
    assert audit["test"]["scenario"] == f"{FORGED}\nsecond line"  # free text keeps its line break
    assert all(len(p) <= LINE_LIMIT for p in participants)


def test_a_secret_in_a_finding_never_reaches_a_report(runs: Runs) -> None:
    for fmt in ("json", "csv", "html"):
        assert KEY not in report(runs, runs.hostile, fmt), fmt


def test_the_runs_own_arn_makes_a_sign_off_self_signed(runs: Runs) -> None:
    review = json.loads(report(runs, runs.hostile, "json"))["audit"]["review"]
    assert review["self_signed"] is True and review["independent"] is False and review["state"] == "rejected"
    assert SELF_SIGNED in review["text"]
    escaped = SELF_SIGNED.replace("'", "&#x27;")
    assert f'<p class="selfsigned">SELF-SIGNED: {escaped}</p>' in report(runs, runs.hostile, "html")


def test_hostile_text_is_escaped_in_the_html_and_defused_in_the_csv(runs: Runs) -> None:
    page = report(runs, runs.hostile, "html")
    parsed = parse(page)  # every tag closed where it opened: nothing forged a table's end
    assert "<h1>forged" not in page and "<script>" not in page
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;h1&gt;forged" in page
    assert [tag for tag, _ in parsed.tags].count("h1") == 1 and "script" not in {t for t, _ in parsed.tags}
    sections = csv_sections(report(runs, runs.hostile, "csv"))  # every row as wide as its header
    [finding] = sections["findings"].rows
    assert finding["owner"].startswith("'=cmd")  # a spreadsheet formula, defused
    assert finding["finding_id"] == "F-<1>" and len(finding["text"]) < TEXT_LIMIT + 60


def test_a_long_word_breaks_in_the_pdf_instead_of_running_off_the_page(
    runs: Runs, tmp_path: Path, qtbot: QtBot
) -> None:
    view = load_execution_view(runs.db, runs.hostile.execution_id)
    built = pdf_report(view, generated_at=GENERATED)
    page_rect = page_layout().paintRectPixels(96)
    laid_out = build_document(built, page_rect.width())
    laid_out.setPageSize(QSizeF(page_rect.width(), page_rect.height()))
    assert laid_out.size().width() <= page_rect.width(), "a table wider than the page: its right side is cut"
    path = write_pdf_report(built, tmp_path / "h.pdf")
    pdf = QPdfDocument()
    assert pdf.load(str(path)) == QPdfDocument.Error.None_
    text = "".join(pdf.getAllText(n).text() for n in range(pdf.pageCount()))
    assert "SELF-SIGNED" in text and "more characters in the journal" in text and "forged" in text
    assert pdf.pageCount() < 30  # bounded: 50,000 characters did not become pages of W
    for page in range(pdf.pageCount()):  # no text outside the page
        size, ink = pdf.pagePointSize(page), pdf.getAllText(page).boundingRectangle()
        assert size.width() > size.height()
        assert ink.right() <= size.width() and ink.bottom() <= size.height(), f"page {page + 1}: {ink}"
