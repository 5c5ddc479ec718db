"""The PDF an auditor reads: landscape, a one-page summary first, the timeline as a picture, tables whose IDs
are never broken, laid out off the GUI thread, and the same from the CLI.

The PDF is read back with Qt's own PDF reader (QtPdf, pdfium: a renderer independent of the writer) for its
page sizes, its text and its pixels.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from html import escape
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage
from PySide6.QtPdf import QPdfDocument
from pytestqt.qtbot import QtBot

from drs_desktop.domain.views.report import ExecutionView
from drs_desktop.domain.views.report_chart import PdfReport
from drs_desktop.services.report_document import build_report_document
from drs_desktop.services.report_pdf import pdf_report
from drs_desktop.services.reports import load_execution_view
from drs_desktop.ui.executions.report_pdf import write_pdf_report
from drs_desktop.ui.executions.report_timeline import STAGE_COLOURS
from drs_desktop.workers.tasks import TaskThread

from .conftest import SECRETS, Drill

TIMEOUT = 30_000


@pytest.fixture(scope="module")
def view(drill: Drill) -> ExecutionView:
    return load_execution_view(drill.db, drill.execution_id)


def pages_text(path: Path) -> tuple[list[str], list[tuple[float, float]], QPdfDocument]:
    document = QPdfDocument()
    assert document.load(str(path)) == QPdfDocument.Error.None_
    texts = [document.getAllText(page).text() for page in range(document.pageCount())]
    points = [document.pagePointSize(page) for page in range(len(texts))]
    sizes = [(size.width(), size.height()) for size in points]
    return texts, sizes, document


def render_page(document: QPdfDocument, page: int) -> QImage:
    size = document.pagePointSize(page)
    return document.render(page, QSize(int(size.width() * 1.5), int(size.height() * 1.5)))


def has_colour(image: QImage, colour: QColor, tolerance: int = 12) -> bool:
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - colour.red()) <= tolerance
                and abs(pixel.green() - colour.green()) <= tolerance
                and abs(pixel.blue() - colour.blue()) <= tolerance
            ):
                return True
    return False


def test_the_summary_page_answers_the_audit_before_anything_else(drill: Drill, view: ExecutionView) -> None:
    report = pdf_report(view)
    summary, _, rest = report.html.partition("page-break-before")
    assert "SUCCEEDED" in summary
    assert f"RTO {drill.rto_text()} against a target of 1 h 30 min" in summary and ">met<" in summary
    app_02 = drill.server("shop-app-02")
    assert app_02 in summary and "failed at conversion (retried)" in summary
    assert "CONVERSION_FAIL" in summary and "InsufficientInstanceCapacity" in summary
    assert "skipped" in summary and "carol" in summary and "CRM is out of scope" in summary
    assert "alice" in summary and "granted" in summary and "DB checked?" in summary
    doc = build_report_document(view)
    assert doc["identity"]["arn"] in summary and doc["plan"]["content_hash"] in summary
    assert "Timeline" not in summary and "Servers, one row per attempt" in rest
    for secret in SECRETS:
        assert secret not in report.html


def test_the_timeline_keeps_the_failed_try_of_a_retried_server(drill: Drill, view: ExecutionView) -> None:
    chart = pdf_report(view).timeline
    rows = {row.server_id: row for row in chart.rows if not row.is_wave}
    app_02 = rows[drill.server("shop-app-02")]
    earlier = [s for s in app_02.segments if s.earlier]
    final = [s for s in app_02.segments if not s.earlier]
    assert any(s.kind == "conversion" and s.failed for s in earlier), "the failed try stays on the picture"
    assert any(s.kind == "launch" and not s.failed for s in final) and app_02.outcome == "LAUNCHED"
    assert max(s.end for s in earlier) <= min(s.start for s in final)
    web_02 = rows[drill.server("shop-web-02")]
    assert web_02.outcome == "FAILED" and any(s.failed and not s.earlier for s in web_02.segments)
    assert [row.label for row in chart.rows if row.is_wave] == ["1. Database", "2. App", "3. Web", "4. =CRM"]
    assert chart.rto_target == 90 * 60 and chart.rto_achieved is not None
    assert chart.rto_achieved < chart.rto_target <= chart.span


def test_pdf_is_written_off_the_gui_thread_landscape_summary_first(
    drill: Drill, view: ExecutionView, qtbot: QtBot, tmp_path: Path
) -> None:
    """The real task primitive runs the ui's layout function on its own thread: QTextDocument, QImage,
    QPainter and QPdfWriter are all made and used there."""
    report = pdf_report(view)
    target = tmp_path / "evidence.pdf"
    tasks: TaskThread[None] = TaskThread("pdf-test", lambda: None)
    answers: list[tuple[int, Path]] = []

    def lay_out(_: None) -> tuple[int, Path]:
        return threading.get_ident(), write_pdf_report(report, target)

    try:
        tasks.run_task(lay_out, answers.append, lambda message: pytest.fail(message))
        qtbot.waitUntil(lambda: bool(answers), timeout=TIMEOUT)
    finally:
        assert tasks.stop()
    thread, written = answers[0]
    assert thread != threading.get_ident(), "the PDF must be laid out off the GUI thread"
    assert written == target and target.read_bytes().startswith(b"%PDF")

    texts, sizes, document = pages_text(target)
    assert len(texts) >= 3
    assert all(width > height for width, height in sizes), f"every page landscape: {sizes}"
    assert all(round(width) == 842 and round(height) == 595 for width, height in sizes), "A4"
    first = texts[0]
    assert "SUCCEEDED" in first
    assert f"RTO {drill.rto_text()} against a target of 1 h 30 min met" in first
    assert "failed at conversion (retried)" in first and "alice" in first and "What failed and why" in first
    assert "Timeline" not in first and "Timeline" in texts[1]

    # Every ID of the report is whole on one line of some page: never broken inside the word.
    doc = build_report_document(view)
    ids = {s["server_id"] for s in doc["servers"]} | {j["job_id"] for j in doc["jobs"]}
    ids |= {i["recovery_instance_id"] for i in doc["cleanup"]["instances"]}
    words = set(re.findall(r"[\w-]+", "\n".join(texts[2:])))
    assert ids and ids <= words, f"IDs broken or missing in the tables: {sorted(ids - words)}"

    # The timeline is a picture: its stage colours are painted on page 2, and the failure in red.
    picture = render_page(document, 1)
    assert has_colour(picture, STAGE_COLOURS["conversion"]) and has_colour(picture, QColor("#c62828"))
    assert not has_colour(render_page(document, 0), STAGE_COLOURS["conversion"])


def test_the_pdf_carries_the_same_event_log_as_the_other_logs(view: ExecutionView) -> None:
    html_page = pdf_report(view).html
    log_part = html_page.partition(">Event log</h2>")[2].partition("</table>")[0]
    assert view.log, "the drill has events"
    at = 0
    for line in view.log:  # every line of the live and history logs, in their order, none left out
        found = log_part.find(escape(line.text), at)
        assert found >= 0, f"missing or out of order: {line.text}"
        at = found + 1


def test_a_big_execution_spreads_its_timeline_over_pictures_that_fit_a_page(
    view: ExecutionView, qtbot: QtBot, tmp_path: Path
) -> None:
    report = pdf_report(view)
    small = PdfReport(report.title, report.html, report.timeline, rows_per_picture=3)
    assert small.timeline_pages == 4  # 10 rows
    # The HTML names as many pictures as the layout paints: the report's own count decides.
    assert 'src="timeline-0"' in report.html and 'src="timeline-1"' not in report.html
    target = write_pdf_report(report, tmp_path / "one.pdf")
    texts, _, _ = pages_text(target)
    assert "Timeline" in texts[1] and "The test" in texts[2] and "Waves" in texts[3]  # the audit: a page


def test_cli_writes_the_same_pdf_headless(drill: Drill, tmp_path: Path) -> None:
    """`drs-desktop report --format pdf` in a process with no display and no Qt platform chosen."""
    home = drill.db.path.parent
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    target = tmp_path / "cli.pdf"
    command = [sys.executable, "-m", "drs_desktop", "report", drill.execution_id[:8], "--home", str(home)]
    done = subprocess.run(
        [*command, "--format", "pdf", "-o", str(target)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {target}" in done.stderr
    texts, sizes, _ = pages_text(target)
    assert sizes[0][0] > sizes[0][1]
    assert "SUCCEEDED" in texts[0] and f"RTO {drill.rto_text()}" in texts[0] and "Timeline" in texts[1]

    no_file = subprocess.run(
        [*command, "--format", "pdf"], capture_output=True, text=True, env=env, timeout=120
    )
    assert no_file.returncode == 2 and "a PDF report needs a file" in no_file.stderr
