"""ExecutionsPaneWidget (the History tab) on its real task threads (reads on ``local``, cleanup on ``aws``),
over a history of real runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QLabel
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from drs_desktop.domain.views.history import ExecutionSummary
from drs_desktop.domain.views.report_chart import PdfReport
from drs_desktop.services.report_audit import csv_sections
from drs_desktop.services.reports import CSV_COLUMNS
from drs_desktop.ui.executions.executions_model import RUNNING
from drs_desktop.ui.executions.executions_pane_widget import ExecutionsPaneWidget
from tests.services.history_estate import Estate, build_estate
from tests.ui.pane_tasks import pane_threads

TIMEOUT = 10_000


@dataclass
class Pane:
    widget: ExecutionsPaneWidget
    estate: Estate


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    with build_estate(tmp_path_factory.mktemp("executions-pane")) as built:
        yield built


@contextmanager
def open_pane(qtbot: QtBot, estate: Estate) -> Iterator[ExecutionsPaneWidget]:
    with pane_threads(
        estate.db, history_gateways=lambda record: estate.gateway, clock=estate.clock, sleep=estate.sleep
    ) as threads:
        widget = ExecutionsPaneWidget(clock=estate.clock)
        qtbot.addWidget(widget)
        widget.connect_tasks(threads.local, threads.aws)
        widget.resize(1400, 900)
        widget.show()
        qtbot.waitExposed(widget)
        widget.refresh()
        qtbot.waitUntil(lambda: widget.model.rowCount() == 4, timeout=TIMEOUT)
        yield widget


@pytest.fixture
def pane(qtbot: QtBot, shared: Estate) -> Iterator[Pane]:
    with open_pane(qtbot, shared) as widget:
        yield Pane(widget, shared)


@pytest.fixture
def fresh_pane(qtbot: QtBot, tmp_path: Path) -> Iterator[Pane]:
    with build_estate(tmp_path) as estate, open_pane(qtbot, estate) as widget:
        yield Pane(widget, estate)


def shown_ids(widget: ExecutionsPaneWidget) -> list[str]:
    proxy = widget.proxy
    return [
        widget.model.summary_at(proxy.mapToSource(proxy.index(row, 0)).row()).execution_id  # type: ignore[union-attr]
        for row in range(proxy.rowCount())
    ]


def select(pane: Pane, qtbot: QtBot, execution_id: str) -> None:
    assert pane.widget.select_execution(execution_id)
    qtbot.waitUntil(lambda: pane.widget.details.execution_id() == execution_id, timeout=TIMEOUT)


def test_history_lists_newest_first_and_highlights_the_leftover_drill(
    pane: Pane, qtbot: QtBot, qtmodeltester: ModelTester
) -> None:
    widget, estate = pane.widget, pane.estate
    qtmodeltester.check(widget.model, force_py=True)
    assert shown_ids(widget) == [
        estate.fax_waiting,
        estate.shop_left,
        estate.crm_recovery,
        estate.crm_cleaned,
    ]
    assert [widget.model.execution_ids()[row] for row in widget.model.highlighted_rows()] == [
        estate.shop_left
    ]
    assert "1 drill left instances running" in widget.status_text()
    qtbot.waitUntil(lambda: widget.plan_filter.count() == 4, timeout=TIMEOUT)
    assert [widget.plan_filter.itemText(i) for i in range(4)] == ["All plans", "CRM", "Fax", "Shop"]


def test_filters_go_to_the_worker_and_narrow_the_table(pane: Pane, qtbot: QtBot) -> None:
    widget, estate = pane.widget, pane.estate

    def shows(expected: list[str]) -> None:
        qtbot.waitUntil(lambda: shown_ids(widget) == expected, timeout=TIMEOUT)

    widget.mode_filter.setCurrentIndex(widget.mode_filter.findData("RECOVERY"))
    shows([estate.crm_recovery])
    widget.mode_filter.setCurrentIndex(0)
    widget.running_filter.setChecked(True)
    shows([estate.fax_waiting, estate.shop_left])
    widget.running_filter.setChecked(False)
    widget.outcome_filter.setCurrentIndex(widget.outcome_filter.findData("UNFINISHED"))
    shows([estate.fax_waiting])
    widget.outcome_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: widget.plan_filter.findData("CRM") > 0, timeout=TIMEOUT)
    widget.plan_filter.setCurrentIndex(widget.plan_filter.findData("CRM"))
    shows([estate.crm_recovery, estate.crm_cleaned])
    assert widget.current_filter().plan_name == "CRM"
    widget.plan_filter.setCurrentIndex(0)
    widget.dates_filter.setChecked(True)  # the last 30 days: the simulator's runs are in 2026-01
    shows([])
    widget.dates_filter.setChecked(False)
    shows([estate.fax_waiting, estate.shop_left, estate.crm_recovery, estate.crm_cleaned])


def test_details_show_the_evidence_read_only_and_feed_the_hook(pane: Pane, qtbot: QtBot) -> None:
    widget, estate = pane.widget, pane.estate
    progress = QLabel("progress view stand-in")
    widget.set_detail_widget(progress, "Progress")
    assert widget.details_tabs.tabText(0) == "Progress" and widget.details_tabs.currentWidget() is progress
    widget.set_detail_widget(progress)
    assert widget.details_tabs.count() == 3, "the same widget is added once (beside Evidence and Audit)"
    with qtbot.waitSignal(widget.view_loaded, timeout=TIMEOUT) as loaded:
        widget.select_execution(estate.shop_left)
    assert loaded.args[0].record.execution_id == estate.shop_left
    details = widget.details
    assert details.field_text("id") == estate.shop_left
    assert details.field_text("status") == "SUCCEEDED"
    assert details.field_text("rto").endswith("met")
    assert details.waves.topLevelItemCount() == 3
    first_wave = details.waves.topLevelItem(0)
    first_server = first_wave.child(0) if first_wave is not None else None
    assert first_server is not None
    assert first_server.text(0) == estate.sim.backend.server_id_of("shop-db-01")
    assert details.cleanup.topLevelItemCount() == 5
    assert details.cleanup_status.text() == "5 drill instances still running."
    assert widget.cleanup_button.isEnabled() and widget.cleanup_button.text() == "Clean up 5 instances"
    select(pane, qtbot, estate.crm_cleaned)
    assert "Every drill instance is terminated" in details.cleanup_status.text()
    actions = (
        details.operator_actions.topLevelItem(i) for i in range(details.operator_actions.topLevelItemCount())
    )
    assert {item.text(2) for item in actions if item is not None} >= {"approve", "cleanup"}
    approval = details.approvals.topLevelItem(0)
    assert details.approvals.topLevelItemCount() == 1 and approval is not None and approval.text(6) == "alice"
    assert not widget.cleanup_button.isEnabled()
    select(pane, qtbot, estate.fax_waiting)
    assert not widget.cleanup_button.isEnabled(), "a live drill is cleaned up from its run"
    assert "still running" in widget.cleanup_button.toolTip()


def test_exports_html_pdf_csv_json(pane: Pane, qtbot: QtBot, tmp_path: Path) -> None:
    widget, estate = pane.widget, pane.estate
    select(pane, qtbot, estate.shop_left)
    asked: list[tuple[str, str]] = []

    def choose(fmt: str, suggested: str) -> str:
        asked.append((fmt, suggested))
        return str(tmp_path / f"report.{fmt}")

    widget.choose_export_path = choose
    layout, threads = widget.pdf_layout, []

    def lay_out(report: PdfReport, path: str) -> Path:  # the real layout, its thread noted
        threads.append(threading.get_ident())
        return layout(report, path)

    widget.pdf_layout = lay_out
    for action in widget.export_menu.actions():
        with qtbot.waitSignal(widget.report_saved, timeout=TIMEOUT) as saved:
            action.trigger()
        assert saved.args == [action.data(), str(tmp_path / f"report.{action.data()}")]
    assert [fmt for fmt, _ in asked] == ["html", "pdf", "csv", "json"]
    assert asked[0][1].startswith("Shop-") and asked[0][1].endswith(".html")
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "report.pdf").stat().st_size > 1000
    assert threads and threading.get_ident() not in threads, "the PDF is laid out on the task thread"
    pdf = QPdfDocument()
    assert pdf.load(str(tmp_path / "report.pdf")) == QPdfDocument.Error.None_
    assert pdf.pagePointSize(0).width() > pdf.pagePointSize(0).height(), "landscape"
    assert "What failed and why" in pdf.getAllText(0).text()
    html = (tmp_path / "report.html").read_text("utf-8")
    assert html.lower().lstrip().startswith("<!doctype html") and estate.shop_left in html
    assert json.loads((tmp_path / "report.json").read_text("utf-8"))["execution"]["id"] == estate.shop_left
    rows = csv_sections((tmp_path / "report.csv").read_text("utf-8"))["attempts"].rows
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 5
    assert "Wrote the JSON report" in widget.status_text()
    widget.choose_export_path = lambda fmt, suggested: ""
    widget.export_menu.actions()[0].trigger()  # cancelled in the file dialog: nothing happens
    assert "Wrote the JSON report" in widget.status_text()


def test_one_click_cleanup_terminates_exactly_that_drills_instances(fresh_pane: Pane, qtbot: QtBot) -> None:
    widget, estate = fresh_pane.widget, fresh_pane.estate
    others = estate.live_instance_ids() - set(estate.shop_instances)
    select(fresh_pane, qtbot, estate.shop_left)
    asked: list[ExecutionSummary] = []

    def refuse(summary: ExecutionSummary) -> bool:  # the operator says no
        asked.append(summary)
        return False

    widget.confirm_cleanup = refuse
    assert not widget.clean_up_selected()
    assert [s.execution_id for s in asked] == [estate.shop_left]
    widget.set_operator("arn:aws:iam::123456789012:user/erin")
    widget.confirm_cleanup = lambda summary: True
    with qtbot.waitSignal(widget.cleanup_completed, timeout=TIMEOUT) as done:
        widget.cleanup_button.click()
        assert not widget.cleanup_button.isEnabled(), "one cleanup at a time"
    result = done.args[0]
    assert sorted(result.terminated) == list(estate.shop_instances)
    assert result.by == "arn:aws:iam::123456789012:user/erin"
    qtbot.waitUntil(lambda: "execution" in widget.status_text(), timeout=TIMEOUT)
    assert widget.status_text().startswith("terminated 5 of 5 drill instances. 4 executions, updated ")
    live = estate.live_instance_ids()
    assert not (live & set(estate.shop_instances)), "a drill instance survived its cleanup"
    assert others <= live, "cleanup touched another execution's instance"
    shop_row = widget.model.row_of(estate.shop_left)
    qtbot.waitUntil(lambda: widget.model.highlighted_rows() == [], timeout=TIMEOUT)
    assert widget.model.data(widget.model.index(shop_row, RUNNING)) == "0"
    qtbot.waitUntil(
        lambda: "Every drill instance is terminated" in widget.details.cleanup_status.text(), timeout=TIMEOUT
    )
    assert not widget.cleanup_button.isEnabled()


def test_failures_are_said_in_one_line(pane: Pane, qtbot: QtBot, tmp_path: Path) -> None:
    widget, estate = pane.widget, pane.estate
    select(pane, qtbot, estate.shop_left)
    missing = tmp_path / "no-such-folder" / "r.html"
    assert widget.export_report("html", str(missing))
    qtbot.waitUntil(lambda: widget.status_text().startswith("Could not export report: "), timeout=TIMEOUT)
    assert "cannot write" in widget.status_text() and "\n" not in widget.status_text()
    assert widget.export_report("xml", str(tmp_path / "r.xml"))
    qtbot.waitUntil(lambda: "unknown report format" in widget.status_text(), timeout=TIMEOUT)
    # The pane goes on answering.
    widget.request_list()
    qtbot.waitUntil(lambda: widget.status_text().startswith("4 executions"), timeout=TIMEOUT)


def test_a_cleanup_never_holds_up_the_listing(tmp_path: Path, qtbot: QtBot) -> None:
    """Cleanup waits for DRS on the aws thread; the listing and details read on the local one meanwhile."""
    import threading

    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.domain.engine.record import ExecutionRecord

    with build_estate(tmp_path) as estate:
        gate = threading.Event()
        entered = threading.Event()

        def slow_drs(record: ExecutionRecord) -> DrsGateway:  # a DRS that takes its time to answer
            entered.set()
            gate.wait(TIMEOUT / 1000)
            return estate.gateway

        with pane_threads(
            estate.db, history_gateways=slow_drs, clock=estate.clock, sleep=estate.sleep
        ) as threads:
            widget = ExecutionsPaneWidget(clock=estate.clock)
            qtbot.addWidget(widget)
            widget.connect_tasks(threads.local, threads.aws)
            widget.refresh()
            qtbot.waitUntil(lambda: widget.model.rowCount() == 4, timeout=TIMEOUT)
            assert widget.select_execution(estate.shop_left)
            widget.confirm_cleanup = lambda summary: True
            done: list[object] = []
            widget.cleanup_completed.connect(done.append)
            try:
                assert widget.clean_up_selected()
                qtbot.waitUntil(entered.is_set, timeout=TIMEOUT)
                widget.mode_filter.setCurrentIndex(widget.mode_filter.findData("RECOVERY"))
                qtbot.waitUntil(lambda: widget.model.rowCount() == 1, timeout=TIMEOUT)
                assert not done and not widget.cleanup_button.isEnabled(), "the cleanup is still under way"
            finally:
                gate.set()
            qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT)
            assert sorted(done[0].terminated) == list(estate.shop_instances)  # type: ignore[attr-defined]


def test_an_unfinished_run_shows_who_drives_it_and_a_finished_one_does_not(pane: Pane, qtbot: QtBot) -> None:
    """The driver strip above the details (``LeaseStrip``), its lease read on a ``lease-watch`` thread
    from moto's DynamoDB server: shown for the run waiting at its gate, gone for a finished one."""
    from drs_desktop.aws import sync_lease
    from drs_desktop.services.execution_lease import ExecutionLeases
    from drs_desktop.services.execution_takeover import LeaseLook
    from drs_desktop.workers.pane_tasks import LeaseTasks
    from drs_desktop.workers.tasks import TaskThread
    from tests.sync.dynamodb_emulator import DynamoDbEmulator
    from tests.sync.lease_helpers import TABLE, make_table

    widget, estate = pane.widget, pane.estate
    emulator = DynamoDbEmulator()
    emulator.start()
    leases = ExecutionLeases(make_table(emulator), "desk-b")
    sync_lease.take(emulator.client(), TABLE, estate.fax_waiting, "desk-a")
    tasks: LeaseTasks = TaskThread(
        "lease-watch", lambda: LeaseLook(estate.db, lambda: leases), close=LeaseLook.close
    )
    try:
        widget.connect_lease_tasks(tasks)
        select(pane, qtbot, estate.fax_waiting)
        strip = widget.lease_strip
        qtbot.waitUntil(
            lambda: strip.text().startswith("Driven by desktop desk-a · heartbeat seen"), timeout=TIMEOUT
        )
        assert strip.isVisible() and strip.watching and not strip.take_button.isEnabled()
        select(pane, qtbot, estate.crm_cleaned)
        assert not strip.isVisible() and not strip.watching
    finally:
        assert tasks.stop()
        emulator.stop()
