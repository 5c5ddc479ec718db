"""Runs in DRS through the GUI: the run dialog's choice per run (here or in DRS, with what each gives and
lacks, and the reason when a run in DRS is not possible), a run in DRS started from the dialog and
followed in the live view to its end (DRS's execution and step statuses shown, no Pause), a held run in
DRS retried (the retry shown on its way to DRS until DRS is read again), Attach, and the history marks.

All real: the simulator over loopback HTTP with the real boto3 client (a plan published to it as a native
recovery plan), the SQLite database, the execution desk's task thread and loop threads, real widgets.
"""

from __future__ import annotations

import dataclasses
import html

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_runs import NativeRunsGateway
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import ExecutionStatus, Mode
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.services import history, reports
from drs_desktop.services.native_publish import publish
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage import native_links
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import load_plan, save_plan
from drs_desktop.ui.executions.execution_details_widget import ExecutionDetailsWidget
from drs_desktop.ui.executions.executions_model import MODE, ExecutionsModel
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from drs_desktop.ui.executions.run_dialog import RunDialog
from drs_desktop.workers.native_offer import plan_differences
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, Running

# The shared fixtures (see execution_helpers), registered in this module.
sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services
services_factory = helpers.services_factory
running = helpers.running

LEFT = Qt.MouseButton.LeftButton
NATIVE = "Native"  # the shop plan without its approval gate, published to DRS


@pytest.fixture
def published(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator) -> RecoveryPlan:
    shop = helpers.shop_plan(sim, name=NATIVE, approval=False)
    # The web wave depends on nothing: here it starts with the first wave, in DRS after the App step.
    web = dataclasses.replace(shop.waves[2], depends_on=())
    plan = dataclasses.replace(shop, waves=(*shop.waves[:2], web))
    save_plan(db, plan)
    result = publish(db, NativeRunsGateway(gateway), NATIVE, sleep=lambda _: None, clock=sim.clock.now)
    assert result.outcome == "published", result
    return plan


def open_dialog(qtbot: QtBot, running: Running, sim: EmbeddedSimulator, plan: str) -> RunDialog:
    dialog = RunDialog(plan_names=["Shop", NATIVE], plan_name=plan, now=sim.clock.now())
    dialog.connect_desk(running.desk)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def check(qtbot: QtBot, dialog: RunDialog) -> None:
    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(
        lambda: dialog.check_button.isEnabled() and "Checking" not in dialog.verdict_text(), timeout=TIMEOUT
    )


def live_view(qtbot: QtBot, running: Running) -> ProgressWidget:
    progress = ProgressWidget()
    progress.confirm = lambda _title, _question: True
    progress.connect_desk(running.desk)
    qtbot.addWidget(progress)
    progress.resize(1300, 900)
    progress.show()
    return progress


def test_a_published_plan_offers_both_choices_each_with_its_preflight(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    dialog = open_dialog(qtbot, running, sim, NATIVE)
    where = dialog.where
    # Before any check: what each gives and lacks is there to read.
    assert "goes on with this desktop closed" in where.drs_text.text()
    assert "no approval gates" in where.drs_text.text() and "approval gates, pause" in where.here_text.text()
    check(qtbot, dialog)
    assert where.here_radio.isEnabled() and where.drs_radio.isEnabled()
    assert where.reason_text() == ""
    assert where.here_radio.text().endswith("— ready") and where.drs_radio.text().endswith("— ready")
    here = dialog.report()
    assert here is not None and here.ok
    assert dialog.calls_view.toPlainText().count("StartRecovery ") >= 3
    assert dialog.run_button.text() == "Run drill" and dialog.run_button.isEnabled()

    where.drs_radio.setChecked(True)  # the other result, already checked: no new check
    assert dialog.check_button.isEnabled()
    offer = dialog.native_offer()
    assert offer is not None and offer.available and offer.active == ()
    in_drs = dialog.report()
    assert in_drs is not None and in_drs is offer.report and in_drs.ok
    names = [dialog.checks_table.item(r, 1).text() for r in range(dialog.checks_table.rowCount())]  # type: ignore[union-attr]
    assert names[0] == "native-plan" and len(names) == len(in_drs.checks)
    calls = dialog.calls_view.toPlainText()
    assert "StartRecoveryPlanExecution" in calls and "StartRecovery " not in calls
    assert "Ready to run in DRS" in dialog.verdict_text()
    assert dialog.run_button.text() == "Run drill in DRS" and dialog.run_button.isEnabled()
    # The plan's own: its waves run side by side here, one after another in DRS.
    assert offer.differences == plan_differences(published, None) != ()
    assert any("Web" in line for line in offer.differences)
    for line in offer.differences:
        assert html.escape(line) in where.drs_text.text()

    runs: list[tuple[object, object]] = []
    dialog.run_requested.connect(lambda prepared, choice: runs.append((prepared, choice)))
    qtbot.mouseClick(dialog.run_button, LEFT)
    assert len(runs) == 1 and runs[0][0] is offer.prepared


def test_an_unpublished_plan_disables_run_in_drs_with_the_reason(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    dialog = open_dialog(qtbot, running, sim, "Shop")  # saved, with an approval gate, never published
    where = dialog.where
    where.drs_radio.setChecked(True)
    check(qtbot, dialog)
    assert not where.drs_radio.isEnabled() and where.here_radio.isChecked()
    reason = where.reason_text()
    assert (
        "not possible" in reason
        and "'Shop' is not published to DRS from this desktop: publish it first" in reason
    )
    assert where.drs_radio.toolTip() in reason
    assert "this plan has 1 approval gate: a run in DRS cannot have it" in where.drs_text.text()
    # The local run is still offered, with its own preflight.
    report = dialog.report()
    assert report is not None and report.ok and dialog.run_button.isEnabled()
    assert dialog.run_button.text() == "Run drill"


def test_a_point_in_time_is_a_reason_a_run_in_drs_is_not_possible(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    dialog = open_dialog(qtbot, running, sim, NATIVE)
    dialog.point_radio.setChecked(True)
    check(qtbot, dialog)
    assert not dialog.where.drs_radio.isEnabled()
    assert "latest recovery point" in dialog.where.reason_text()
    assert "a point in time is chosen" in dialog.where.drs_text.text()


def test_a_run_in_drs_started_from_the_dialog_is_followed_to_its_end(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator, db: Database, published: RecoveryPlan
) -> None:
    progress = live_view(qtbot, running)
    dialog = open_dialog(qtbot, running, sim, NATIVE)
    dialog.run_requested.connect(progress.start_run)
    check(qtbot, dialog)
    dialog.where.drs_radio.setChecked(True)
    qtbot.mouseClick(dialog.run_button, LEFT)

    panel = progress.native_panel
    qtbot.waitUntil(lambda: progress.snapshot() is not None and panel.isVisible(), timeout=TIMEOUT)
    # A run in DRS from its first snapshot: no Pause, Resume or Approve; Cancel is offered.
    for button in (progress.pause_button, progress.resume_button, progress.approve_button):
        assert not button.isVisible()
    assert progress.cancel_button.isVisible() and progress.retry_button.text() == "Retry wave in DRS"
    assert "run in DRS" in progress.header.text()
    qtbot.waitUntil(lambda: finished(progress), timeout=TIMEOUT * 3)

    snapshot = progress.snapshot()
    assert snapshot is not None and snapshot.outcome is Outcome.SUCCEEDED and snapshot.native is not None
    native = snapshot.native
    assert native.status == "COMPLETED" and native.execution_arn.startswith("arn:")
    header = panel.header_text()
    assert "Run in DRS" in header and native.execution_arn in header and "COMPLETED" in header
    # Every native step in DRS's order: Database, its 5-minute wait, App, Web.
    statuses = panel.step_statuses()
    assert [s for _, s in statuses] == ["COMPLETED"] * 4
    kinds = [panel.steps.item(r, 2).text() for r in range(panel.steps.rowCount())]  # type: ignore[union-attr]
    assert kinds == ["SERVER", "WAIT", "SERVER", "SERVER"]
    assert statuses[0][0] == "Database" and statuses[2][0] == "App"
    # The servers through their (adopted) jobs, and the job log, as for a run here.
    assert all(row.job_id for rows in snapshot.servers for row in rows)
    assert any("LAUNCH_END" in line or "launched" in line.lower() for line in progress.log_lines())
    assert not progress.pause_button.isVisible()

    record = journal.get_execution(db, snapshot.execution_id)
    assert record.options["run_in"] == "DRS"
    _assert_history_marks(qtbot, db, snapshot.execution_id, native.execution_arn)


def _assert_history_marks(qtbot: QtBot, db: Database, execution_id: str, execution_arn: str) -> None:
    model = ExecutionsModel()
    summaries = [history.summarize(db, r) for r in journal.list_executions(db)]
    model.set_summaries(summaries)
    row = model.row_of(execution_id)
    assert row >= 0
    assert model.data(model.index(row, MODE)) == "DRILL · run in DRS"
    others = [s for s in summaries if s.execution_id != execution_id]
    assert all("DRS" not in str(model.data(model.index(model.row_of(s.execution_id), MODE))) for s in others)
    details = ExecutionDetailsWidget()
    qtbot.addWidget(details)
    details.set_view(reports.load_execution_view(db, execution_id))
    text = details.field_text("run_in")
    assert text.startswith("run in DRS") and execution_arn in text and "COMPLETED" in text


def test_a_held_run_in_drs_is_retried_and_the_retry_shows_on_its_way_to_drs(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    sim.faults.fail_launch(servers=["shop-db-01"])
    progress = live_view(qtbot, running)
    dialog = open_dialog(qtbot, running, sim, NATIVE)
    dialog.run_requested.connect(progress.start_run)
    check(qtbot, dialog)
    dialog.where.drs_radio.setChecked(True)
    qtbot.mouseClick(dialog.run_button, LEFT)

    def held() -> bool:
        snapshot = progress.snapshot()
        native = snapshot.native if snapshot is not None else None
        # DRS fails the execution once the step's job has ended: the reading after the server's failure.
        return native is not None and native.status == "FAILED" and snapshot.status is ExecutionStatus.HELD  # type: ignore[union-attr]

    qtbot.waitUntil(held, timeout=TIMEOUT * 3)
    snapshot = progress.snapshot()
    assert snapshot is not None and snapshot.native is not None and snapshot.native.status == "FAILED"
    failed = snapshot.native.steps[0]
    assert failed.status == "FAILED" and failed.error
    assert progress.native_panel.step_statuses()[0] == ("Database", "FAILED")
    error_cell = progress.native_panel.steps.item(0, 6)
    assert error_cell is not None and error_cell.text() == failed.error
    assert not progress.pause_button.isVisible()
    assert progress.retry_button.isEnabled() and progress.skip_button.isEnabled()

    # DRS's clock holds still and its reads are throttled (come back in 10 minutes): the retry goes out,
    # and no reading shows what it did until the clock moves again.
    running.pace.seconds = 0
    sim.faults.clear()
    sim.faults.throttle("GetRecoveryPlanExecution", retry_after=600)
    qtbot.mouseClick(progress.retry_button, LEFT)
    pending = progress.native_panel.pending
    qtbot.waitUntil(lambda: "sent to DRS, waiting for DRS's next reading" in pending.text(), timeout=TIMEOUT)
    assert "retry of wave 'Database'" in pending.text() and pending.isVisible()
    assert progress.native_panel.step_statuses()[0] == ("Database", "FAILED")  # DRS has not shown it yet
    assert not progress.retry_button.isEnabled()  # the engine refuses a second retry on its way

    sim.faults.clear()
    running.pace.seconds = helpers.SECONDS_PER_STEP
    qtbot.waitUntil(lambda: finished(progress), timeout=TIMEOUT * 3)
    snapshot = progress.snapshot()
    assert snapshot is not None and snapshot.outcome is Outcome.SUCCEEDED
    assert not progress.native_panel.pending.isVisible()
    assert [s for _, s in progress.native_panel.step_statuses()] == ["COMPLETED"] * 4


def test_an_execution_drs_still_runs_is_offered_to_attach_to(
    qtbot: QtBot,
    running: Running,
    sim: EmbeddedSimulator,
    db: Database,
    gateway: DrsGateway,
    published: RecoveryPlan,
) -> None:
    plan_id = load_plan(db, NATIVE).revision.plan_id
    link = native_links.get_link(db, plan_id)
    assert link is not None
    elsewhere = NativeRunsGateway(gateway).start_execution(link.recovery_plan_arn, "DRILL", "console-1")
    progress = live_view(qtbot, running)
    dialog = open_dialog(qtbot, running, sim, NATIVE)
    dialog.attach_requested.connect(progress.attach_run)
    check(qtbot, dialog)
    where = dialog.where
    assert where.active_arns() == [elsewhere.arn] and where.attach_button.isVisible()
    dialog.where.drs_radio.setChecked(True)
    assert not dialog.run_button.isEnabled()  # DRS runs one at a time: attach, or wait
    assert "Attach to the execution DRS runs" in dialog.verdict_text()
    qtbot.mouseClick(where.attach_button, LEFT)
    assert dialog.result() == RunDialog.DialogCode.Accepted

    qtbot.waitUntil(lambda: progress.native_panel.isVisible(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: finished(progress), timeout=TIMEOUT * 3)
    snapshot = progress.snapshot()
    assert snapshot is not None and snapshot.native is not None
    assert snapshot.native.execution_arn == elsewhere.arn and snapshot.native.attached
    assert "attached to an execution started elsewhere" in progress.native_panel.header_text()
    assert snapshot.mode is Mode.DRILL and snapshot.native.status == "COMPLETED"


def finished(progress: ProgressWidget) -> bool:
    snapshot = progress.snapshot()
    return snapshot is not None and snapshot.finished
