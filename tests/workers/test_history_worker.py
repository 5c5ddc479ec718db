"""HistoryWorker end to end: a history made by real runs, a real QThread, queued signals both ways."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from pytestqt.qtbot import QtBot

from drs_desktop.domain.execution_history import CleanupResult, ExecutionSummary, HistoryFilter
from drs_desktop.domain.report_model import ExecutionView
from drs_desktop.services.history import ExecutionHistory, gateway_factory
from drs_desktop.services.reports import CSV_COLUMNS
from drs_desktop.workers.history_worker import HistoryWorker
from drs_desktop.workers.thread import WorkerThread
from tests.services.history_estate import Estate, build_estate

TIMEOUT = 10_000


class Requests(QObject):
    """The GUI side: signals connected to the worker's slots, so every call is queued to its thread."""

    load_executions = Signal(object)
    load_plan_names = Signal()
    load_details = Signal(str)
    clean_up = Signal(str, str)
    export_report = Signal(str, str, str)
    render_report = Signal(str, str)


@dataclass
class Running:
    requests: Requests
    worker: HistoryWorker
    thread: WorkerThread
    estate: Estate


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    with build_estate(tmp_path_factory.mktemp("history-worker")) as built:
        yield built


def start(estate: Estate) -> Running:
    history = ExecutionHistory(
        estate.db, gateway_factory(estate.target), clock=estate.clock, sleep=estate.sleep
    )
    worker = HistoryWorker(history)
    thread = WorkerThread(worker, "history-test", on_stop=worker.close)
    requests = Requests()
    for name in ("load_executions", "load_plan_names", "load_details", "clean_up", "export_report"):
        getattr(requests, name).connect(getattr(worker, name))
    requests.render_report.connect(worker.render_report)
    thread.start()
    return Running(requests, worker, thread, estate)


def stop(run: Running) -> None:
    run.worker.request_stop()
    assert run.thread.stop()
    assert not run.thread.is_running()


@pytest.fixture
def running(shared: Estate, qtbot: QtBot) -> Iterator[Running]:
    run = start(shared)
    try:
        yield run
    finally:
        stop(run)


@pytest.fixture
def running_fresh(tmp_path: Path, qtbot: QtBot) -> Iterator[Running]:
    with build_estate(tmp_path) as estate:
        run = start(estate)
        try:
            yield run
        finally:
            stop(run)


def test_lists_with_a_filter_off_the_gui_thread(running: Running, qtbot: QtBot) -> None:
    threads: list[int] = []
    running.worker.executions_loaded.connect(
        lambda *_: threads.append(threading.get_ident()), Qt.ConnectionType.DirectConnection
    )
    flt = HistoryFilter(drill_instances_running=True)
    with qtbot.waitSignal(running.worker.executions_loaded, timeout=TIMEOUT) as blocker:
        running.requests.load_executions.emit(flt)
    answered, rows = blocker.args
    assert answered == flt
    assert all(isinstance(row, ExecutionSummary) for row in rows)
    assert [r.execution_id for r in rows] == [running.estate.fax_waiting, running.estate.shop_left]
    assert threads and threads[0] != threading.get_ident(), "the listing ran on the GUI thread"
    with qtbot.waitSignal(running.worker.plan_names_loaded, timeout=TIMEOUT) as names:
        running.requests.load_plan_names.emit()
    assert names.args[0] == ["CRM", "Fax", "Shop"]


def test_details_and_exports(running: Running, qtbot: QtBot, tmp_path: Path) -> None:
    shop = running.estate.shop_left
    with qtbot.waitSignal(running.worker.details_loaded, timeout=TIMEOUT) as blocker:
        running.requests.load_details.emit(shop)
    view = blocker.args[0]
    assert isinstance(view, ExecutionView) and view.record.execution_id == shop
    assert sorted(view.evidence.drill_instances_running) == list(running.estate.shop_instances)
    for fmt in ("html", "json", "csv"):
        path = tmp_path / f"report.{fmt}"
        with qtbot.waitSignal(running.worker.report_exported, timeout=TIMEOUT) as exported:
            running.requests.export_report.emit(shop, fmt, str(path))
        assert exported.args == [shop, fmt, str(path)]
    assert json.loads((tmp_path / "report.json").read_text("utf-8"))["execution"]["id"] == shop
    rows = list(csv.reader(io.StringIO((tmp_path / "report.csv").read_text("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert (tmp_path / "report.html").read_text("utf-8").lower().lstrip().startswith("<!doctype html")
    with qtbot.waitSignal(running.worker.report_rendered, timeout=TIMEOUT) as rendered:
        running.requests.render_report.emit(shop, "html")
    assert rendered.args[:2] == [shop, "html"] and "<html" in rendered.args[2].lower()


def test_failures_come_back_as_failed(running: Running, qtbot: QtBot, tmp_path: Path) -> None:
    with qtbot.waitSignal(running.worker.failed, timeout=TIMEOUT) as blocker:
        running.requests.load_details.emit("no-such-execution")
    assert blocker.args[0] == "load_details" and "no execution" in blocker.args[1]
    missing = tmp_path / "no-such-folder" / "r.html"
    with qtbot.waitSignal(running.worker.failed, timeout=TIMEOUT) as blocker:
        running.requests.export_report.emit(running.estate.shop_left, "html", str(missing))
    assert blocker.args[0] == "export_report" and "cannot write" in blocker.args[1]
    with qtbot.waitSignal(running.worker.failed, timeout=TIMEOUT) as blocker:
        running.requests.render_report.emit(running.estate.shop_left, "xml")
    assert blocker.args[0] == "render_report" and "unknown report format" in blocker.args[1]


def test_cleanup_terminates_that_drills_instances(running_fresh: Running, qtbot: QtBot) -> None:
    estate = running_fresh.estate
    others = estate.live_instance_ids() - set(estate.shop_instances)
    with qtbot.waitSignal(running_fresh.worker.cleanup_finished, timeout=TIMEOUT) as blocker:
        running_fresh.requests.clean_up.emit(estate.shop_left, "dave")
    result = blocker.args[0]
    assert isinstance(result, CleanupResult)
    assert (result.by, result.refused, result.complete) == ("dave", "", True)
    assert sorted(result.terminated) == list(estate.shop_instances)
    live = estate.live_instance_ids()
    assert not (live & set(estate.shop_instances)) and others <= live
    with qtbot.waitSignal(running_fresh.worker.cleanup_finished, timeout=TIMEOUT) as blocker:
        running_fresh.requests.clean_up.emit(estate.fax_waiting, "dave")
    assert "has not finished" in blocker.args[0].refused
