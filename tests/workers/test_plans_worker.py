"""PlansWorker end to end: a real database, a real QThread, queued signals both ways, clean shutdown."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from pytestqt.qtbot import QtBot

from drs_desktop.domain import plan_edit as pe
from drs_desktop.domain.revisions import PlanRevision, PlanSummary, StoredPlan
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.storage.db import Database
from drs_desktop.storage.inventory import save_inventory
from drs_desktop.workers.guarded import error_message
from drs_desktop.workers.plans_worker import PlansWorker
from drs_desktop.workers.thread import WorkerThread
from tests.ui.plan_helpers import sample_inventory, sample_plan

TIMEOUT = 5000


class Requests(QObject):
    """The GUI side: signals connected to the worker's slots, so every call is queued to its thread."""

    load_plans = Signal()
    load_plan = Signal(str, object)
    save_plan = Signal(object, str, str)
    load_history = Signal(str)
    diff = Signal(str, int, int)
    import_file = Signal(str)
    export_file = Signal(str, str, str)
    delete_plan = Signal(str)
    load_inventory = Signal()


@dataclass
class Running:
    requests: Requests
    worker: PlansWorker
    thread: WorkerThread
    db: Database


@pytest.fixture
def running(tmp_path: Path, qtbot: QtBot) -> Iterator[Running]:
    db = Database.open(tmp_path / "drs.sqlite3")
    worker = PlansWorker(PlanLibrary(db))
    thread = WorkerThread(worker, "plans-test", on_stop=worker.close)
    requests = Requests()
    for name in (
        "load_plans",
        "load_plan",
        "save_plan",
        "load_history",
        "diff",
        "import_file",
        "export_file",
        "delete_plan",
        "load_inventory",
    ):
        getattr(requests, name).connect(getattr(worker, name))
    thread.start()
    try:
        yield Running(requests, worker, thread, db)
    finally:
        assert thread.stop()
        assert not thread.is_running()
        db.close()


def save(run: Running, qtbot: QtBot, plan: object, comment: str = "", previous: str = "") -> PlanRevision:
    with qtbot.waitSignal(run.worker.plan_saved, timeout=TIMEOUT) as blocker:
        run.requests.save_plan.emit(plan, comment, previous)
    revision = blocker.args[0]
    assert isinstance(revision, PlanRevision)
    return revision


def test_save_list_open_history_diff(running: Running, qtbot: QtBot) -> None:
    first = save(running, qtbot, sample_plan(), "first")
    assert first.revision == 1 and first.comment == "first"
    second = save(running, qtbot, pe.add_wave(sample_plan(), "Late"), "late", "Payroll")
    assert second.revision == 2

    with qtbot.waitSignal(running.worker.plans_loaded, timeout=TIMEOUT) as listed:
        running.requests.load_plans.emit()
    summaries = listed.args[0]
    assert [(s.name, s.latest_revision, s.wave_count) for s in summaries] == [("Payroll", 2, 4)]
    assert all(isinstance(s, PlanSummary) for s in summaries)

    with qtbot.waitSignal(running.worker.plan_loaded, timeout=TIMEOUT) as opened:
        running.requests.load_plan.emit("Payroll", 1)
    stored = opened.args[0]
    assert isinstance(stored, StoredPlan) and stored.plan == sample_plan() and stored.revision.revision == 1

    with qtbot.waitSignal(running.worker.history_loaded, timeout=TIMEOUT) as history:
        running.requests.load_history.emit("Payroll")
    assert history.args[0] == "Payroll"
    assert [r.comment for r in history.args[1]] == ["first", "late"]

    with qtbot.waitSignal(running.worker.diff_loaded, timeout=TIMEOUT) as diffed:
        running.requests.diff.emit("Payroll", 1, 2)
    assert diffed.args == ["Payroll", 1, 2, ["wave 'Late' added"]]


def test_saved_problems_come_back_with_the_revision(running: Running, qtbot: QtBot) -> None:
    with qtbot.waitSignal(running.worker.plan_saved, timeout=TIMEOUT) as blocker:
        running.requests.save_plan.emit(pe.add_wave(sample_plan(), "Empty"), "", "")
    problems = blocker.args[1]
    assert any("the wave is empty" in p.message for p in problems)


def test_import_export_and_delete(running: Running, qtbot: QtBot, tmp_path: Path) -> None:
    save(running, qtbot, sample_plan())
    out = tmp_path / "out" / "payroll.yaml"
    out.parent.mkdir()
    with qtbot.waitSignal(running.worker.plan_exported, timeout=TIMEOUT) as exported:
        running.requests.export_file.emit("Payroll", str(out), "")
    assert exported.args == ["Payroll", str(out)]
    assert "format: drs-desktop/plan@1" in out.read_text(encoding="utf-8")

    with qtbot.waitSignal(running.worker.plan_deleted, timeout=TIMEOUT):
        running.requests.delete_plan.emit("Payroll")
    with qtbot.waitSignal(running.worker.plan_imported, timeout=TIMEOUT) as imported:
        running.requests.import_file.emit(str(out))
    revision, warnings = imported.args
    assert revision.name == "Payroll" and revision.revision == 1 and warnings == ()


def test_every_failure_is_reported_not_raised(running: Running, qtbot: QtBot, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: drs-desktop/plan@1\nname: X\nwaves:\n  - name: W\n    servers: [web-01]\n")
    with qtbot.waitSignal(running.worker.failed, timeout=TIMEOUT) as failed:
        running.requests.import_file.emit(str(bad))
    operation, message = failed.args
    assert operation == "import_file"
    assert f"{bad}:5: waves[0].servers[0]" in message

    with qtbot.waitSignal(running.worker.failed, timeout=TIMEOUT) as missing:
        running.requests.load_plan.emit("Nope", None)
    assert missing.args[0] == "load_plan" and "Nope" in missing.args[1]

    with qtbot.waitSignal(running.worker.failed, timeout=TIMEOUT) as wrong:
        running.requests.save_plan.emit("not a plan", "", "")
    assert wrong.args[0] == "save_plan" and "unexpected error (TypeError)" in wrong.args[1]

    save(running, qtbot, sample_plan())
    with qtbot.waitSignal(running.worker.failed, timeout=TIMEOUT) as taken:
        running.requests.save_plan.emit(sample_plan(), "", "")  # a *new* plan with a taken name
    assert "already exists" in taken.args[1]


def test_inventory_and_slots_run_on_the_worker_thread(running: Running, qtbot: QtBot) -> None:
    threads: list[int] = []
    running.worker.inventory_loaded.connect(
        lambda _inv: threads.append(threading.get_ident()), Qt.ConnectionType.DirectConnection
    )
    with qtbot.waitSignal(running.worker.inventory_loaded, timeout=TIMEOUT) as empty:
        running.requests.load_inventory.emit()
    assert empty.args == [None]
    save_inventory(running.db, sample_inventory())
    with qtbot.waitSignal(running.worker.inventory_loaded, timeout=TIMEOUT) as loaded:
        running.requests.load_inventory.emit()
    assert len(loaded.args[0].servers) == 6
    assert threads and all(ident != threading.get_ident() for ident in threads)


def test_stop_closes_the_reader_on_its_own_thread(
    tmp_path: Path, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database.open(tmp_path / "drs.sqlite3")
    library = PlanLibrary(db)
    worker = PlansWorker(library)
    closed_on: list[int] = []

    def close() -> None:
        closed_on.append(threading.get_ident())
        worker.close()

    thread = WorkerThread(worker, "plans-stop", on_stop=close)
    requests = Requests()
    requests.load_plans.connect(worker.load_plans)
    thread.start()
    with qtbot.waitSignal(worker.plans_loaded, timeout=TIMEOUT):
        requests.load_plans.emit()
    with caplog.at_level(logging.ERROR):
        assert thread.stop()
    assert closed_on and closed_on[0] != threading.get_ident()
    assert not [r for r in caplog.records if "reader failed" in r.getMessage()]
    assert thread.stop()  # stopping twice is harmless
    db.close()


def test_error_message_lists_every_plan_file_problem() -> None:
    from drs_desktop.domain.errors import PlanFileError, StorageError

    error = PlanFileError("p.yaml", [("name", 2, "the plan needs a name"), ("waves", None, "x")])
    assert error_message(error) == "p.yaml:2: name: the plan needs a name\np.yaml: waves: x"
    assert error_message(StorageError("disk full")) == "disk full"
    assert error_message(KeyError("k")) == "unexpected error (KeyError): 'k'"
