"""ExecutionWorker and ExecutionPoller end to end: the simulator, a real database, a real QThread, queued
signals both ways, the poller's in-flight rule, resuming at start, controls, history and reports."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from pytestqt.qtbot import QtBot

from drs_desktop.domain.execution_events import Outcome
from drs_desktop.domain.execution_state import ExecutionStatus, Mode
from drs_desktop.domain.operator_controls import ControlAction, ControlRequest, RunChoice
from drs_desktop.domain.progress_view import ProgressSnapshot
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.workers.thread import WorkerThread
from drs_desktop.workers.thread_state import ThreadStatePin
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, Recorder, Running, drill_session, step_until

# The shared fixtures (see execution_helpers), registered in this module.
sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services
running = helpers.running


class Requests(QObject):
    """The GUI side: signals queued to the worker's slots."""

    prepare = Signal(object)
    start = Signal(object, object)
    resume_unfinished = Signal()
    control = Signal(str, object)
    load_history = Signal(str)
    export_report = Signal(str, str, str)


def wired(running: Running) -> tuple[Requests, dict[str, Recorder]]:
    worker = running.worker
    requests = Requests()
    for name in ("prepare", "start", "resume_unfinished", "control", "load_history", "export_report"):
        getattr(requests, name).connect(getattr(worker, name))
    recorders = {}
    for name in (
        "prepared",
        "started",
        "resumed",
        "progressed",
        "finished",
        "refused",
        "delivered",
        "unfinished_loaded",
        "history_loaded",
        "report_written",
        "failed",
    ):
        recorder = Recorder()
        getattr(worker, name).connect(recorder.record)
        recorders[name] = recorder
    return requests, recorders


def last_snapshot(recorder: Recorder) -> ProgressSnapshot:
    snapshot = recorder.calls[-1][0]
    assert isinstance(snapshot, ProgressSnapshot)
    return snapshot


def test_prepare_start_approve_and_finish(qtbot: QtBot, running: Running, sim: EmbeddedSimulator) -> None:
    requests, seen = wired(running)
    requests.prepare.emit(RunChoice("Shop", Mode.DRILL))
    qtbot.waitUntil(lambda: bool(seen["prepared"].calls), timeout=TIMEOUT)
    prepared, report = seen["prepared"].calls[0]
    assert report.ok and report.plan_name == "Shop"  # type: ignore[attr-defined]
    assert not sim.backend.launch_records(), "a preflight launches nothing"

    requests.start.emit(prepared, RunChoice("Shop", Mode.DRILL))
    qtbot.waitUntil(lambda: bool(seen["started"].calls), timeout=TIMEOUT)
    execution_id = seen["started"].calls[0][0].execution_id  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: running.poller.is_active(), timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: (
            bool(seen["progressed"].calls)
            and last_snapshot(seen["progressed"]).status is ExecutionStatus.WAITING_APPROVAL
        ),
        timeout=TIMEOUT,
    )
    requests.control.emit(execution_id, ControlRequest(ControlAction.APPROVE, wave_index=1))
    qtbot.waitUntil(lambda: bool(seen["finished"].calls), timeout=TIMEOUT)
    assert seen["finished"].calls == [(execution_id, Outcome.SUCCEEDED)]
    qtbot.waitUntil(lambda: not running.poller.is_active(), timeout=TIMEOUT)
    assert running.poller.requests == running.poller.ticks - running.poller.skipped
    sequences = [s[0].sequence for s in seen["progressed"].calls]  # type: ignore[attr-defined]
    assert sequences == sorted(sequences), "snapshots arrive in order"
    assert not seen["failed"].calls


def test_a_control_that_does_not_apply_is_refused_with_the_reason(qtbot: QtBot, running: Running) -> None:
    requests, seen = wired(running)
    requests.prepare.emit(RunChoice("Shop", Mode.DRILL))
    qtbot.waitUntil(lambda: bool(seen["prepared"].calls), timeout=TIMEOUT)
    running.clock.seconds = 0  # stand still: the run stays in wave 1
    requests.start.emit(seen["prepared"].calls[0][0], RunChoice("Shop", Mode.DRILL))
    qtbot.waitUntil(lambda: bool(seen["started"].calls), timeout=TIMEOUT)
    execution_id = seen["started"].calls[0][0].execution_id  # type: ignore[attr-defined]
    requests.control.emit(execution_id, ControlRequest(ControlAction.APPROVE, wave_index=1))
    requests.control.emit(execution_id, ControlRequest(ControlAction.RESUME))
    qtbot.waitUntil(lambda: len(seen["refused"].calls) == 2, timeout=TIMEOUT)
    assert seen["refused"].calls[0] == (execution_id, "wave 2 is not waiting for an approval")
    assert seen["refused"].calls[1] == (execution_id, "Resume: not paused")
    requests.control.emit(execution_id, ControlRequest(ControlAction.PAUSE))
    qtbot.waitUntil(
        lambda: last_snapshot(seen["progressed"]).status is ExecutionStatus.PAUSED, timeout=TIMEOUT
    )
    assert last_snapshot(seen["progressed"]).controls.resume


def test_an_unknown_plan_fails_the_prepare(qtbot: QtBot, running: Running) -> None:
    requests, seen = wired(running)
    requests.prepare.emit(RunChoice("No such plan", Mode.DRILL))
    qtbot.waitUntil(lambda: bool(seen["failed"].calls), timeout=TIMEOUT)
    operation, message = seen["failed"].calls[0]
    assert operation == "prepare" and "No such plan" in str(message)
    assert not seen["prepared"].calls


def test_an_unfinished_execution_is_picked_up_at_start(
    qtbot: QtBot, running: Running, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    # The last run of the application launched wave 1, then closed (no session left).
    session = drill_session(services)
    step_until(session, sim, lambda s: s.waves[0].phase.value in ("AFTER", "COMPLETED"))
    execution_id = session.execution_id
    session.close()  # that application ended: it gave its driver lock back

    requests, seen = wired(running)
    requests.resume_unfinished.emit()
    qtbot.waitUntil(lambda: bool(seen["resumed"].calls), timeout=TIMEOUT)
    assert [r.execution_id for r in seen["unfinished_loaded"].calls[0][0]] == [execution_id]  # type: ignore[attr-defined]
    assert seen["resumed"].calls[0][0].execution_id == execution_id  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: running.poller.is_active(), timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: last_snapshot(seen["progressed"]).status is ExecutionStatus.WAITING_APPROVAL, timeout=TIMEOUT
    )
    requests.control.emit(execution_id, ControlRequest(ControlAction.APPROVE, wave_index=1))
    qtbot.waitUntil(lambda: bool(seen["finished"].calls), timeout=TIMEOUT)
    assert seen["finished"].calls[0] == (execution_id, Outcome.SUCCEEDED)
    counts = Counter(r.source_server_id for r in sim.backend.launch_records())
    assert len(counts) == 5 and set(counts.values()) == {1}, "a server was launched twice"


def test_history_report_and_cleanup_of_a_finished_drill(
    qtbot: QtBot, running: Running, services: ExecutionServices, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    session = drill_session(services)
    step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
    session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
    step_until(session, sim, lambda s: s.finished)
    execution_id = session.execution_id
    session.close()  # the application that ran it has ended: its driver lock is free

    requests, seen = wired(running)
    requests.load_history.emit(execution_id)
    qtbot.waitUntil(lambda: bool(seen["history_loaded"].calls), timeout=TIMEOUT)
    history = last_snapshot(seen["history_loaded"])
    assert history.read_only and history.outcome is Outcome.SUCCEEDED
    assert history.controls.cleanup is False and history.approvals == ()
    assert history.drill_instances_running == 5
    assert any("SNAPSHOT_START" in line.text for line in history.log)

    target = tmp_path / "report.json"
    requests.export_report.emit(execution_id, "json", str(target))
    qtbot.waitUntil(lambda: bool(seen["report_written"].calls), timeout=TIMEOUT)
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["execution"]["id"] == execution_id

    # Cleanup of an execution the worker no longer drives: resumed from its journal, then driven.
    requests.control.emit(execution_id, ControlRequest(ControlAction.CLEANUP))
    qtbot.waitUntil(lambda: bool(seen["resumed"].calls), timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: (
            bool(seen["progressed"].calls) and last_snapshot(seen["progressed"]).drill_instances_running == 0
        ),
        timeout=TIMEOUT,
    )
    qtbot.waitUntil(lambda: not running.poller.is_active(), timeout=TIMEOUT)
    assert not seen["finished"].calls, "an execution finishes once"


def test_the_poller_skips_ticks_while_a_step_is_in_flight(
    qtbot: QtBot, running: Running, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    requests, seen = wired(running)
    requests.prepare.emit(RunChoice("Shop", Mode.DRILL))
    qtbot.waitUntil(lambda: bool(seen["prepared"].calls), timeout=TIMEOUT)
    sim.faults.latency("DescribeJobs", seconds=0.15)  # every poll of DRS is now slow
    requests.start.emit(seen["prepared"].calls[0][0], RunChoice("Shop", Mode.DRILL))
    poller = running.poller
    qtbot.waitUntil(lambda: poller.skipped >= 20 and not poller.in_flight, timeout=TIMEOUT)
    assert poller.requests == poller.ticks - poller.skipped
    assert poller.requests < poller.ticks / 2, "ticks during a slow step must not queue more steps"
    assert running.clock.advances == poller.requests or running.clock.advances == poller.requests - 1


class LocalProbe(QObject):
    """Reads and bumps a thread-local on each call, pinned the way ExecutionWorker pins its thread."""

    answered = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()
        self.pin = ThreadStatePin()

    @Slot()
    def hit(self) -> None:
        self.pin.pin()
        self.local.count = getattr(self.local, "count", 0) + 1
        self.answered.emit(self.local.count)

    @Slot()
    def close(self) -> None:
        self.pin.unpin()


class Poke(QObject):
    hit = Signal()


def test_a_pinned_worker_thread_keeps_its_thread_locals(qtbot: QtBot) -> None:
    """Without the pin, PySide6 gives each queued slot call a fresh Python thread state (so boto3
    clients and read connections kept in thread-locals were rebuilt on every step)."""
    probe = LocalProbe()
    thread = WorkerThread(probe, "pin-test", on_stop=probe.close)
    poke = Poke()
    poke.hit.connect(probe.hit)
    answers = Recorder()
    probe.answered.connect(answers.record)
    thread.start()
    try:
        for _ in range(3):
            poke.hit.emit()
        qtbot.waitUntil(lambda: len(answers.calls) == 3, timeout=TIMEOUT)
        assert [a[0] for a in answers.calls] == [1, 2, 3]
    finally:
        assert thread.stop()
    assert not probe.pin.pinned, "released on the worker's thread as it ended"


def test_an_execution_another_process_drives_is_not_taken_over(
    qtbot: QtBot, running: Running, services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    """A ``drs-desktop run`` in a terminal drives the execution (here: a session holding its driver lock,
    which excludes every other open of the lock file, as another process would). The GUI's resume says
    who drives it and journals nothing; its control goes to that driver's inbox, which journals it."""
    import os

    from drs_desktop.storage import control_inbox as inbox
    from drs_desktop.storage import executions as journal

    other = drill_session(services)
    step_until(other, sim, lambda s: s.waves[0].phase.value in ("AFTER", "COMPLETED"))
    execution_id = other.execution_id
    events = len(journal.load_journal(db, execution_id))

    requests, seen = wired(running)
    requests.resume_unfinished.emit()
    qtbot.waitUntil(lambda: bool(seen["failed"].calls), timeout=TIMEOUT)
    operation, message = seen["failed"].calls[0]
    assert operation == "resume"
    assert str(message).startswith(f"execution {execution_id} is being driven by pid {os.getpid()} on ")
    assert not seen["resumed"].calls

    requests.control.emit(execution_id, ControlRequest(ControlAction.PAUSE))
    qtbot.waitUntil(lambda: bool(seen["delivered"].calls), timeout=TIMEOUT)
    assert seen["delivered"].calls[0][0] == execution_id
    assert str(seen["delivered"].calls[0][1]).startswith(f"Pause queued: execution {execution_id} is being")
    assert not seen["resumed"].calls
    assert len(journal.load_journal(db, execution_id)) == events, "only the driver journals"

    other.step()  # the driver takes its inbox before its next decision
    assert other.state.paused
    (row,) = inbox.list_controls(db, execution_id)
    assert row.state == inbox.JOURNALED and row.submitted_by.startswith("alice (desktop, pid ")

    other.close()  # that driver ends: now the GUI may pick the execution up
    requests.resume_unfinished.emit()
    qtbot.waitUntil(lambda: bool(seen["resumed"].calls), timeout=TIMEOUT)
    assert seen["resumed"].calls[0][0].execution_id == execution_id  # type: ignore[attr-defined]
