"""The "Period report…" dialog, offscreen with real widgets and the real ``local`` task thread over the
roll-up estate (tests/reports/period_estate.py): the plans it offers, the roll-up written in each format
off the GUI thread, the chosen plans only, and a refusal that says why."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtPdf import QPdfDocument
from pytestqt.qtbot import QtBot

from drs_desktop.domain.views.report_chart import PdfReport
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.executions_pane_widget import ExecutionsPaneWidget
from drs_desktop.ui.executions.period_report_dialog import PeriodReportDialog
from tests.reports.period_estate import NOW, Estate, build_estate
from tests.ui.pane_tasks import pane_threads

TIMEOUT = 30_000


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Estate]]:
    with Database.open(tmp_path_factory.mktemp("period-gui") / "drs-desktop.sqlite3") as db:
        yield db, build_estate(db)


def clock() -> datetime:
    return NOW


@pytest.fixture
def dialog(qtbot: QtBot, estate: tuple[Database, Estate]) -> Iterator[PeriodReportDialog]:
    db, _ = estate
    with pane_threads(db) as threads:
        widget = PeriodReportDialog(threads.local, clock=clock)
        qtbot.addWidget(widget)
        widget.show()
        qtbot.waitUntil(lambda: widget.plan_list.count() == 3, timeout=TIMEOUT)
        widget.date_from.setDate(QDate(2026, 1, 1))
        widget.date_to.setDate(QDate(2026, 6, 30))
        yield widget
        widget.close()


def test_offers_the_plans_and_defaults_to_this_year(dialog: PeriodReportDialog) -> None:
    names = [dialog.plan_list.item(row).text() for row in range(dialog.plan_list.count())]
    assert names == ["Alpha", "Bravo", "Charlie"]
    assert dialog.all_plans.isChecked() and not dialog.plan_list.isEnabled()


def test_writes_every_format_off_the_gui_thread(
    dialog: PeriodReportDialog, qtbot: QtBot, tmp_path: Path, estate: tuple[Database, Estate]
) -> None:
    _, ids = estate
    layout, threads = dialog.pdf_layout, []

    def lay_out(report: PdfReport, path: str) -> Path:  # the real layout, its thread noted
        threads.append(threading.get_ident())
        return layout(report, path)

    dialog.pdf_layout = lay_out
    for index, fmt in enumerate(("pdf", "html", "csv")):
        dialog.format_box.setCurrentIndex(index)
        assert dialog.chosen_format() == fmt
        target = tmp_path / f"rollup.{fmt}"
        dialog.path_edit.setText(str(target))
        with qtbot.waitSignal(dialog.report_written, timeout=TIMEOUT) as written:
            qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
        assert written.args == [fmt, str(target)]
        assert dialog.status_label.text() == f"Wrote the {fmt.upper()} roll-up to {target}."
    assert threads and threading.get_ident() not in threads, "the PDF is laid out on the task thread"
    pdf = QPdfDocument()
    assert pdf.load(str(tmp_path / "rollup.pdf")) == QPdfDocument.Error.None_
    assert pdf.pagePointSize(0).width() > pdf.pagePointSize(0).height(), "landscape"
    assert "2 not tested (Bravo, Charlie)" in " ".join(pdf.getAllText(0).text().split())
    pdf.close()
    assert "SUCCEEDED with 1 server failed" in (tmp_path / "rollup.html").read_text("utf-8")
    with (tmp_path / "rollup.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["execution_id"] for r in rows if r["record"] == "run"] == [ids.alpha_passed, ids.alpha_failed]


def test_only_the_plans_ticked(dialog: PeriodReportDialog, qtbot: QtBot, tmp_path: Path) -> None:
    dialog.all_plans.setChecked(False)
    assert dialog.plan_list.isEnabled()
    dialog.format_box.setCurrentIndex(2)
    dialog.path_edit.setText(str(tmp_path / "two"))
    assert not dialog.write(), "no plan ticked"
    assert dialog.status_label.text() == "Choose at least one plan, or All plans."
    for row in (1, 2):
        dialog.plan_list.item(row).setCheckState(Qt.CheckState.Checked)
    dialog.format_box.setCurrentIndex(1)  # html: the typed path follows the format
    assert dialog.path_edit.text() == str(tmp_path / "two.html")
    with qtbot.waitSignal(dialog.report_written, timeout=TIMEOUT):
        assert dialog.write()
    page = (tmp_path / "two.html").read_text("utf-8")
    assert "Plans: Bravo, Charlie." in page and "2 plans in scope: 0 tested" in page


def test_refusals_say_why(dialog: PeriodReportDialog, qtbot: QtBot, tmp_path: Path) -> None:
    dialog.path_edit.setText("")
    assert not dialog.write() and dialog.status_label.text() == "Choose the file to write."
    dialog.date_from.setDate(QDate(2026, 7, 1))
    dialog.path_edit.setText(str(tmp_path / "x.pdf"))
    assert not dialog.write()
    assert dialog.status_label.text() == "the period ends (2026-06-30) before it starts (2026-07-01)"
    dialog.date_from.setDate(QDate(2026, 1, 1))
    dialog.path_edit.setText(str(tmp_path / "no-such-folder" / "x.html"))
    dialog.format_box.setCurrentIndex(1)
    with qtbot.waitSignal(dialog.write_button.clicked, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.status_label.text().startswith("The report was not written"), timeout=TIMEOUT
    )
    assert "cannot write the report to" in dialog.status_label.text()
    assert dialog.write_button.isEnabled()


def test_the_executions_pane_opens_it(qtbot: QtBot, estate: tuple[Database, Estate]) -> None:
    db, _ = estate
    with pane_threads(db) as threads:
        pane = ExecutionsPaneWidget(clock=clock)
        qtbot.addWidget(pane)
        assert pane.open_period_report() is None  # not connected yet
        pane.connect_tasks(threads.local, threads.aws)
        qtbot.mouseClick(pane.period_button, Qt.MouseButton.LeftButton)
        dialog = pane.findChild(PeriodReportDialog)
        assert dialog is not None and dialog.isVisible()
        assert dialog.date_from.date() == QDate(2026, 1, 1) and dialog.date_to.date() == QDate(2026, 7, 1)
        qtbot.waitUntil(lambda: dialog.plan_list.count() == 3, timeout=TIMEOUT)
        dialog.close()
