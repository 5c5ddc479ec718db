"""A whole drill in demo mode, driven through the GUI: click Check and Run in the run dialog, approve the
gate with the progress view's Approve button, wait for the end, export the report.

Everything is real: the simulator over loopback on a manual clock (the runner's clock is the
simulator's), the SQLite database, the execution desk with its task thread, each execution's loop thread
running the runner's own loop, and the timer that applies the latest snapshot. Each sleep of a loop moves
the simulator's clock (``VirtualPace``), the way demo mode paces the runner's sleeps.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import ExecutionStatus, ServerStatus
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.close_guard import CloseGuard
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from drs_desktop.ui.executions.run_dialog import RunDialog
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, Recorder, Running, drill_session, step_until

# The shared fixtures (see execution_helpers), registered in this module.
sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services
services_factory = helpers.services_factory
running = helpers.running

LEFT = Qt.MouseButton.LeftButton


def test_a_whole_drill_through_the_gui(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator, db: Database, tmp_path: Path
) -> None:
    desk = running.desk
    progress = ProgressWidget()
    progress.connect_desk(desk)
    qtbot.addWidget(progress)
    progress.resize(1200, 800)
    progress.show()
    dialog = RunDialog(plan_names=["Shop"], plan_name="Shop", now=sim.clock.now())
    dialog.connect_desk(desk)
    dialog.run_requested.connect(progress.start_run)
    qtbot.addWidget(dialog)
    dialog.show()

    model = progress.model
    structural: list[str] = []
    model.modelReset.connect(lambda: structural.append("reset"))
    model.rowsRemoved.connect(lambda *_: structural.append("remove"))
    model.rowsInserted.connect(lambda _parent, top, end: structural.extend(["insert"] * (end - top + 1)))
    changed_rows: list[int] = []
    model.dataChanged.connect(lambda top, bottom, _roles: changed_rows.append(bottom.row() - top.row() + 1))

    # Preflight, then Run.
    assert not dialog.run_button.isEnabled()
    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(lambda: dialog.report() is not None, timeout=TIMEOUT)
    report = dialog.report()
    assert report is not None and report.ok
    assert dialog.checks_table.rowCount() == len(report.checks)
    assert "StartRecovery" in dialog.calls_view.toPlainText()
    assert dialog.run_button.isEnabled()
    assert not dialog.confirm_edit.isVisible(), "a drill needs no typed confirmation"
    started = Recorder()
    desk.started.connect(started.record)
    qtbot.mouseClick(dialog.run_button, LEFT)
    qtbot.waitUntil(lambda: bool(started.calls), timeout=TIMEOUT)
    execution_id = started.calls[0][0].execution_id  # type: ignore[attr-defined]
    assert not dialog.isVisible()
    qtbot.waitUntil(
        lambda: progress.following() == execution_id and progress.snapshot() is not None, timeout=TIMEOUT
    )
    assert desk.active_ids() == [execution_id], "a loop drives the execution"
    assert progress.is_running()

    # The gate: a prompt, a notification, and the toolbar's Approve button.
    qtbot.waitUntil(lambda: progress.approve_button.isEnabled(), timeout=TIMEOUT)
    snapshot = progress.snapshot()
    assert snapshot is not None and snapshot.status is ExecutionStatus.WAITING_APPROVAL
    prompt = progress.approval_prompt()
    assert prompt is not None and prompt.isVisible() and not prompt.isModal()
    assert "DB checked?" in prompt.message.text()
    assert [title for title, _ in progress.notifications] == ["Approval needed"]
    launched = {r.source_server_id for r in sim.backend.launch_records()}
    assert launched == {snapshot.servers[0][0].server_id}, "only wave 1 may launch before the gate"
    qtbot.mouseClick(progress.approve_button, LEFT)
    qtbot.waitUntil(lambda: progress.approval_prompt() is None, timeout=TIMEOUT)

    # The end.
    qtbot.waitUntil(lambda: progress.snapshot() is not None and progress.snapshot().finished, timeout=TIMEOUT)  # type: ignore[union-attr]
    final = progress.snapshot()
    assert final is not None and final.outcome is Outcome.SUCCEEDED
    assert all(row.status is ServerStatus.LAUNCHED for rows in final.servers for row in rows)
    qtbot.waitUntil(lambda: desk.active_ids() == [], timeout=TIMEOUT)  # nothing left to drive
    assert not progress.is_running()
    assert progress.notifications[-1][0] == "Execution finished"
    lines = len(final.waves) + final.server_count
    assert structural == ["insert"] * lines, "each line inserted once, then updated in place during the run"
    assert changed_rows and max(changed_rows) < final.server_count + len(final.waves)
    assert any("SNAPSHOT_START" in line for line in progress.log_lines())
    assert any("approved by alice" in line for line in progress.log_lines())
    assert len(progress.timeline.bars()) >= 3 + 5  # a bar per wave, at least one per server
    assert not progress.pause_button.isEnabled() and not progress.cancel_button.isEnabled()
    assert progress.cleanup_button.isEnabled(), "a finished drill's instances can be terminated"

    record = journal.get_execution(db, execution_id)
    assert (record.status, record.outcome) == ("SUCCEEDED", "SUCCEEDED")
    approvals = [a for a in final.waves if a.name == "App"]
    assert approvals

    # The evidence report, written on the desk's task thread.
    target = tmp_path / "drill-report.html"
    assert progress.export_report(target)
    qtbot.waitUntil(lambda: progress.status_text() == f"Report written to {target}", timeout=TIMEOUT)
    html = target.read_text(encoding="utf-8")
    assert execution_id in html and "Shop" in html and "alice" in html

    # The PDF from the progress view: laid out on the desk's task thread, landscape, summary first.
    pdf_target = tmp_path / "drill-report.pdf"
    assert progress.export_report(pdf_target)
    qtbot.waitUntil(lambda: progress.status_text() == f"Report written to {pdf_target}", timeout=TIMEOUT)
    pdf = QPdfDocument()
    assert pdf.load(str(pdf_target)) == QPdfDocument.Error.None_
    assert pdf.pagePointSize(0).width() > pdf.pagePointSize(0).height()
    first_page = pdf.getAllText(0).text()
    assert "SUCCEEDED" in first_page and "alice" in first_page and execution_id in first_page


def test_the_tree_follows_the_selected_wave_for_retry_and_skip(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator
) -> None:
    """Skip applies to the selected wave: selecting the blocked Web wave enables Skip for it."""
    desk = running.desk
    progress = ProgressWidget()
    progress.connect_desk(desk)
    qtbot.addWidget(progress)
    dialog = RunDialog(plan_names=["Shop"], plan_name="Shop", now=sim.clock.now())
    dialog.connect_desk(desk)
    dialog.run_requested.connect(progress.start_run)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(dialog.run_button.isEnabled, timeout=TIMEOUT)
    qtbot.mouseClick(dialog.run_button, LEFT)
    qtbot.waitUntil(lambda: progress.approve_button.isEnabled(), timeout=TIMEOUT)
    assert not progress.skip_button.isEnabled(), "no wave selected and none held"
    progress.tree.setCurrentIndex(progress.model.index(2, 0, QModelIndex()))
    assert progress.selected_wave() == 2
    assert progress.skip_button.isEnabled()
    assert not progress.retry_button.isEnabled(), "nothing failed"
    running.pace.seconds = 0  # hold the clock: the skip must be what moves the run
    qtbot.mouseClick(progress.skip_button, LEFT)
    qtbot.waitUntil(lambda: progress.snapshot().waves[2].phase.value == "SKIPPED", timeout=TIMEOUT)  # type: ignore[union-attr]
    assert any("skip of wave 3 by alice" in line for line in progress.log_lines())


def test_an_unfinished_execution_is_picked_up_at_start_and_guards_the_close(
    qtbot: QtBot, running: Running, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    """The last run of the application left an execution in wave 1; this start shows it and drives it,
    and closing the window meanwhile asks first."""
    session = drill_session(services)
    step_until(session, sim, lambda s: bool(s.servers[0][0].job_id))
    execution_id = session.execution_id
    session.close()  # that application ended: it gave its driver lock back

    progress = ProgressWidget()
    progress.connect_desk(running.desk)
    window = QMainWindow()
    window.setCentralWidget(progress)
    qtbot.addWidget(window)
    asked: list[object] = []

    def ask(parent: object) -> bool:
        asked.append(parent)
        return False

    CloseGuard(progress.is_running, ask, parent=window).install(window)
    window.show()

    progress.pick_up_unfinished()
    qtbot.waitUntil(
        lambda: progress.following() == execution_id and progress.snapshot() is not None, timeout=TIMEOUT
    )
    assert progress.is_running() and "picked up again" in progress.status_text()
    assert window.close() is False and asked == [window], "closing during an execution asks first"
    qtbot.waitUntil(lambda: progress.approve_button.isEnabled(), timeout=TIMEOUT)
    qtbot.mouseClick(progress.approve_button, LEFT)
    qtbot.waitUntil(lambda: not progress.is_running(), timeout=TIMEOUT)
    final = progress.snapshot()
    assert final is not None and final.outcome is Outcome.SUCCEEDED
    assert window.close() is True and len(asked) == 1, "nothing runs: no question"


def test_an_execution_another_process_drives_is_not_picked_up_and_says_who(
    qtbot: QtBot, running: Running, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    """A ``drs-desktop run`` in a terminal drives it (here: a session holding its driver lock): the GUI
    does not take it over, and says which process drives it."""
    import os

    other = drill_session(services)
    step_until(other, sim, lambda s: bool(s.servers[0][0].job_id))
    progress = ProgressWidget()
    progress.connect_desk(running.desk)
    qtbot.addWidget(progress)

    progress.pick_up_unfinished()
    expected = f"Could not resume: execution {other.execution_id} is being driven by pid {os.getpid()} on "
    qtbot.waitUntil(lambda: progress.status_text().startswith(expected), timeout=TIMEOUT)
    assert not progress.is_running() and progress.following() is None

    progress.follow(other.execution_id)
    progress.pause()  # the view's control goes to that driver's inbox
    expected = f"Pause queued: execution {other.execution_id} is being driven by pid {os.getpid()} on "
    qtbot.waitUntil(lambda: progress.status_text().startswith(expected), timeout=TIMEOUT)
    assert running.desk.active_ids() == []
    other.close()
