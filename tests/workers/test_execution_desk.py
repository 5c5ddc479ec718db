"""ExecutionDesk end to end: the simulator, a real database, one real loop thread per execution running
the runner's own ``run()``, the task thread for requests, and the coalescing timer on the GUI thread.

Start, resume at start, controls (refused, woken at once), delivery to another process's driver, two
executions side by side, a finished drill's cleanup, and shutdown (every loop woken and ended, its driver
lock given back)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.controls import ControlAction, ControlRequest, RunChoice
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import ExecutionStatus, Mode
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Wave
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.services.driver_lock import DriverLock, lock_path
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.workers.execution_desk import APPLY_INTERVAL_MS, ExecutionDesk
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, Recorder, Running, drill_session, ids, step_until

# The shared fixtures (see execution_helpers), registered in this module.
sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services
services_factory = helpers.services_factory
running = helpers.running

SIGNALS = (
    "started",
    "resumed",
    "progressed",
    "finished",
    "refused",
    "delivered",
    "failed",
    "unfinished_loaded",
    "active_changed",
)


def recorders(desk: ExecutionDesk) -> dict[str, Recorder]:
    seen = {}
    for name in SIGNALS:
        recorder = Recorder()
        getattr(desk, name).connect(recorder.record)
        seen[name] = recorder
    return seen


def latest(recorder: Recorder, execution_id: str | None = None) -> ProgressSnapshot:
    for call in reversed(recorder.calls):
        snapshot = call[0]
        assert isinstance(snapshot, ProgressSnapshot)
        if execution_id is None or snapshot.execution_id == execution_id:
            return snapshot
    raise AssertionError("no snapshot")


def has_status(recorder: Recorder, status: ExecutionStatus, execution_id: str | None = None) -> bool:
    return bool(recorder.calls) and latest(recorder, execution_id).status is status


def prepared_for(qtbot: QtBot, desk: ExecutionDesk, choice: RunChoice) -> object:
    answers: list[tuple[object, object]] = []
    desk.prepare(choice, lambda prepared, report: answers.append((prepared, report)), answers.append)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: bool(answers), timeout=TIMEOUT)
    prepared, report = answers[0]
    assert report.ok, report  # type: ignore[attr-defined]
    return prepared


def start(qtbot: QtBot, desk: ExecutionDesk, seen: dict[str, Recorder], name: str = "Shop") -> str:
    choice = RunChoice(name, Mode.DRILL)
    before = len(seen["started"].calls)
    desk.start(prepared_for(qtbot, desk, choice), choice)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: len(seen["started"].calls) > before, timeout=TIMEOUT)
    return str(seen["started"].calls[-1][0].execution_id)  # type: ignore[attr-defined]


def save_crm_plan(db: Database, sim: EmbeddedSimulator) -> None:
    """A second plan on other servers than the shop's, with its gate before wave 2 as well."""
    gate = (ApprovalStep(message="Web checked?"),)
    web = Wave(name="Web", servers=ids(sim, "crm-web-01"))
    app = Wave(name="App", servers=ids(sim, "crm-app-01"), before=gate)
    save_plan(db, RecoveryPlan(name="CRM", waves=(web, app)))


def released(db: Database, execution_id: str) -> bool:
    """Whether this process could take the execution's driver lock now (then gives it back)."""
    lock = DriverLock(lock_path(db.path, execution_id))
    if not lock.acquire():
        return False
    lock.release()
    return True


def test_prepare_start_approve_and_finish_on_a_loop_of_its_own(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator, db: Database
) -> None:
    desk = running.desk
    seen = recorders(desk)
    answers: list[object] = []
    desk.prepare(RunChoice("Shop", Mode.DRILL), lambda p, r: answers.append(r), answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=TIMEOUT)
    assert answers[0].ok and answers[0].plan_name == "Shop"  # type: ignore[attr-defined]
    assert not sim.backend.launch_records(), "a preflight launches nothing"

    execution_id = start(qtbot, desk, seen)
    loop = desk.loop(execution_id)
    assert loop is not None and loop.isRunning() and desk.active_ids() == [execution_id]
    assert not released(db, execution_id), "the loop holds the driver lock, like drs-desktop run"
    qtbot.waitUntil(lambda: has_status(seen["progressed"], ExecutionStatus.WAITING_APPROVAL), timeout=TIMEOUT)
    desk.control(execution_id, ControlRequest(ControlAction.APPROVE, wave_index=1))
    qtbot.waitUntil(lambda: bool(seen["finished"].calls), timeout=TIMEOUT)
    assert seen["finished"].calls == [(execution_id, Outcome.SUCCEEDED)]
    qtbot.waitUntil(lambda: desk.active_ids() == [], timeout=TIMEOUT)
    assert released(db, execution_id), "the loop ended and gave its lock back"
    sequences = [s[0].sequence for s in seen["progressed"].calls]  # type: ignore[attr-defined]
    assert sequences == sorted(sequences), "snapshots arrive in order"
    assert latest(seen["progressed"]).finished
    assert not seen["failed"].calls and not seen["refused"].calls


def test_a_control_that_does_not_apply_is_refused_with_the_reason(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator
) -> None:
    desk = running.desk
    seen = recorders(desk)
    running.pace.seconds = 0  # stand still: the run stays in wave 1
    execution_id = start(qtbot, desk, seen)
    desk.control(execution_id, ControlRequest(ControlAction.APPROVE, wave_index=1))
    desk.control(execution_id, ControlRequest(ControlAction.RESUME))
    qtbot.waitUntil(lambda: len(seen["refused"].calls) == 2, timeout=TIMEOUT)
    assert seen["refused"].calls[0] == (execution_id, "wave 2 is not waiting for an approval")
    assert seen["refused"].calls[1] == (execution_id, "Resume: not paused")
    desk.control(execution_id, ControlRequest(ControlAction.PAUSE))
    qtbot.waitUntil(lambda: has_status(seen["progressed"], ExecutionStatus.PAUSED), timeout=TIMEOUT)
    assert latest(seen["progressed"]).controls.resume


def test_an_operator_control_wakes_the_sleeping_loop_at_once(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator
) -> None:
    """At the gate the engine has nothing to wake for: the loop sleeps the runner's longest sleep, in
    real time. The approval ends that sleep: the run goes on long before the sleep would have ended."""
    from drs_desktop.services.runner import MAX_SLEEP_SECONDS

    desk, pace = running.desk, running.pace
    seen = recorders(desk)
    execution_id = start(qtbot, desk, seen)
    qtbot.waitUntil(lambda: has_status(seen["progressed"], ExecutionStatus.WAITING_APPROVAL), timeout=TIMEOUT)
    pace.seconds, pace.real = 0, MAX_SLEEP_SECONDS  # from now on every sleep is real and whole
    asked = len(pace.asked)
    qtbot.waitUntil(lambda: len(pace.asked) > asked, timeout=TIMEOUT)  # asleep (or about to be)
    assert pace.asked[-1] == MAX_SLEEP_SECONDS
    desk.control(execution_id, ControlRequest(ControlAction.APPROVE, wave_index=1))
    qtbot.waitUntil(
        lambda: not latest(seen["progressed"]).approvals, timeout=int(MAX_SLEEP_SECONDS * 1000 / 3)
    )
    assert latest(seen["progressed"]).waves[1].phase.value != "WAITING"


def test_an_unknown_plan_fails_the_prepare_for_the_caller_alone(qtbot: QtBot, running: Running) -> None:
    seen = recorders(running.desk)
    errors: list[str] = []
    running.desk.prepare(RunChoice("No such plan", Mode.DRILL), lambda p, r: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=TIMEOUT)
    assert "No such plan" in errors[0]
    assert not seen["failed"].calls, "the answer went to the caller, not to every listener"


def test_two_unfinished_executions_are_picked_up_at_start_each_on_its_loop(
    qtbot: QtBot, running: Running, services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    # The last run of the application launched wave 1 of two drills (of two plans), then closed.
    save_crm_plan(db, sim)
    left = []
    for name in ("Shop", "CRM"):
        session = drill_session(services, name)
        step_until(session, sim, lambda s: s.waves[0].phase.value in ("AFTER", "COMPLETED"))
        session.close()  # that application ended: it gave its driver lock back
        left.append(session.execution_id)

    desk = running.desk
    seen = recorders(desk)
    desk.pick_up_unfinished()
    qtbot.waitUntil(lambda: len(seen["resumed"].calls) == 2, timeout=TIMEOUT)
    assert [r.execution_id for r in seen["unfinished_loaded"].calls[0][0]] == left  # type: ignore[attr-defined]
    assert sorted(desk.active_ids()) == sorted(left)
    loops = [desk.loop(execution_id) for execution_id in left]
    assert all(loop is not None and loop.isRunning() for loop in loops)
    assert len({id(loop) for loop in loops}) == 2, "one loop thread per execution"
    for execution_id in left:
        qtbot.waitUntil(
            lambda e=execution_id: has_status(seen["progressed"], ExecutionStatus.WAITING_APPROVAL, e),  # type: ignore[misc]
            timeout=TIMEOUT,
        )
    for execution_id in left:
        desk.control(execution_id, ControlRequest(ControlAction.APPROVE, wave_index=1))
    qtbot.waitUntil(lambda: len(seen["finished"].calls) == 2, timeout=TIMEOUT)
    assert sorted(seen["finished"].calls) == sorted((e, Outcome.SUCCEEDED) for e in left)
    counts = Counter(r.source_server_id for r in sim.backend.launch_records())
    assert len(counts) == 7 and set(counts.values()) == {1}, "a server was launched twice"
    qtbot.waitUntil(lambda: desk.active_ids() == [], timeout=TIMEOUT)


def test_history_report_and_cleanup_of_a_finished_drill(
    qtbot: QtBot, running: Running, services: ExecutionServices, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    session = drill_session(services)
    step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
    session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
    step_until(session, sim, lambda s: s.finished)
    execution_id = session.execution_id
    session.close()  # the application that ran it has ended: its driver lock is free

    desk = running.desk
    seen = recorders(desk)
    history = services.history_snapshot(execution_id)  # what the History tab shows
    assert history.read_only and history.outcome is Outcome.SUCCEEDED
    assert history.controls.cleanup is False and history.approvals == ()
    assert history.drill_instances_running == 5
    assert any("SNAPSHOT_START" in line.text for line in history.log)

    target = tmp_path / "report.json"
    written: list[str] = []
    desk.export_report(execution_id, "json", str(target), written.append, written.append)
    qtbot.waitUntil(lambda: bool(written), timeout=TIMEOUT)
    assert written == [str(target)]
    assert json.loads(target.read_text(encoding="utf-8"))["execution"]["id"] == execution_id

    # Cleanup of an execution no loop drives: resumed from its journal on a new loop, driven until the
    # engine has nothing left to do (the instances terminated), then that loop ends.
    desk.control(execution_id, ControlRequest(ControlAction.CLEANUP))
    qtbot.waitUntil(lambda: bool(seen["resumed"].calls), timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: bool(seen["progressed"].calls) and latest(seen["progressed"]).drill_instances_running == 0,
        timeout=TIMEOUT,
    )
    qtbot.waitUntil(lambda: desk.active_ids() == [], timeout=TIMEOUT)
    assert not seen["finished"].calls, "an execution finishes once"


def test_an_execution_another_process_drives_is_not_taken_over(
    qtbot: QtBot, running: Running, services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    """A ``drs-desktop run`` in a terminal drives the execution (here: a session holding its driver lock,
    which excludes every other open of the lock file, as another process would). The GUI's resume says
    who drives it and journals nothing; its control goes to that driver's inbox, which journals it."""
    from drs_desktop.storage import control_inbox as inbox

    other = drill_session(services)
    step_until(other, sim, lambda s: s.waves[0].phase.value in ("AFTER", "COMPLETED"))
    execution_id = other.execution_id
    events = len(journal.load_journal(db, execution_id))

    desk = running.desk
    seen = recorders(desk)
    desk.pick_up_unfinished()
    qtbot.waitUntil(lambda: bool(seen["failed"].calls), timeout=TIMEOUT)
    operation, message = seen["failed"].calls[0]
    assert operation == "resume"
    assert str(message).startswith(f"execution {execution_id} is being driven by pid {os.getpid()} on ")
    assert not seen["resumed"].calls

    desk.control(execution_id, ControlRequest(ControlAction.PAUSE))
    qtbot.waitUntil(lambda: bool(seen["delivered"].calls), timeout=TIMEOUT)
    assert seen["delivered"].calls[0][0] == execution_id
    assert str(seen["delivered"].calls[0][1]).startswith(f"Pause queued: execution {execution_id} is being")
    assert not seen["resumed"].calls
    assert len(journal.load_journal(db, execution_id)) == events, "only the driver journals"
    qtbot.waitUntil(lambda: desk.active_ids() == [], timeout=TIMEOUT)

    step_until(other, sim, lambda s: s.status is ExecutionStatus.PAUSED)  # the driver takes its inbox
    (row,) = inbox.list_controls(db, execution_id)
    assert row.state == inbox.JOURNALED and row.submitted_by.startswith("alice (desktop, pid ")

    other.close()  # that driver ends: now the GUI may pick the execution up
    desk.pick_up_unfinished()
    qtbot.waitUntil(lambda: bool(seen["resumed"].calls), timeout=TIMEOUT)
    assert seen["resumed"].calls[0][0].execution_id == execution_id  # type: ignore[attr-defined]


def test_stop_wakes_every_loop_ends_it_and_gives_its_lock_back(
    qtbot: QtBot, services_factory: Callable[[], ExecutionServices], sim: EmbeddedSimulator, db: Database
) -> None:
    pace = helpers.VirtualPace(sim)
    desk = ExecutionDesk(services_factory, pace=pace)
    seen = recorders(desk)
    try:
        save_crm_plan(db, sim)
        first = start(qtbot, desk, seen)
        second = start(qtbot, desk, seen, "CRM")
        for execution_id in (first, second):
            qtbot.waitUntil(
                lambda e=execution_id: has_status(seen["progressed"], ExecutionStatus.WAITING_APPROVAL, e),  # type: ignore[misc]
                timeout=TIMEOUT,
            )
        pace.seconds, pace.real = 0, 3600.0  # asleep for an hour unless woken
        loops = [desk.loop(first), desk.loop(second)]
    finally:
        desk.stop()
    assert all(loop is not None and loop.isFinished() for loop in loops)
    assert released(db, first) and released(db, second)
    unfinished = {record.execution_id for record in journal.unfinished_executions(db)}
    assert unfinished == {first, second}, "picked up again at the next start"


def test_the_gui_applies_only_the_latest_snapshot_a_few_times_a_second(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator
) -> None:
    """The loop publishes after every step; the desk's timer takes only the latest of each execution, so
    the GUI thread sees at most one snapshot per tick, older ones folded in (log lines and changed rows
    kept)."""
    desk = running.desk
    seen = recorders(desk)
    ticks = Recorder()
    desk._timer.timeout.connect(ticks.record)
    published: list[ProgressSnapshot] = []
    post = desk._board.post

    def counted(snapshot: ProgressSnapshot) -> None:  # on the loop's thread
        published.append(snapshot)
        post(snapshot)

    desk._board.post = counted  # type: ignore[method-assign]
    execution_id = start(qtbot, desk, seen)
    qtbot.waitUntil(lambda: has_status(seen["progressed"], ExecutionStatus.WAITING_APPROVAL), timeout=TIMEOUT)
    desk.control(execution_id, ControlRequest(ControlAction.APPROVE, wave_index=1))
    qtbot.waitUntil(lambda: bool(seen["finished"].calls), timeout=TIMEOUT)
    assert len(seen["progressed"].calls) <= len(ticks.calls), "one snapshot per execution per tick"
    assert len(published) > len(seen["progressed"].calls), "more snapshots published than shown"
    lines = [line.text for call in seen["progressed"].calls for line in call[0].log]  # type: ignore[attr-defined]
    assert any("SNAPSHOT_START" in line for line in lines) and any("approved by alice" in t for t in lines)
    assert APPLY_INTERVAL_MS >= 200, "at most 5 updates a second"
