"""The audit before and during a run through the GUI (issue 18): the run dialog's test brief, pre-filled from
the plan, edited, checked by the plan's rules, and recorded by the run (its ``TestRecorded``) with the
test type the dialog showed; and a finding added from the live progress view while a drill waits at its
gate, which reaches the journal through the run's own loop.

Real parts: the simulator on a manual clock, the database, the execution desk with its task thread and
loop threads, the ``local`` task thread with the ``AuditDesk`` as the composition root builds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.annotation_events import FindingAdded, Severity, TestRecorded, TestType
from drs_desktop.domain.engine.controls import RunChoice
from drs_desktop.domain.plan.model import TestBrief as Brief
from drs_desktop.secrets import SecretStore
from drs_desktop.services.audit_desk import AuditDesk
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.history import ExecutionHistory
from drs_desktop.services.inventory import InventoryService
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from drs_desktop.ui.executions.run_dialog import RunDialog
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks
from drs_desktop.workers.tasks import TaskThread
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, Recorder, Running

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services
services_factory = helpers.services_factory
running = helpers.running

LEFT = Qt.MouseButton.LeftButton
PLAN_BRIEF = Brief(
    scenario="Loss of the primary site",
    objectives=("Shop answers within 90 minutes",),
    success_criteria=("Orders can be placed",),
    participants=("Dana",),
)


@pytest.fixture
def local(db: Database, sim: EmbeddedSimulator) -> Iterator[LocalTasks]:
    resolver = ConnectionResolver(db, SecretStore())

    def build() -> LocalServices:
        return LocalServices(
            PlanLibrary(db),
            ExecutionHistory(db),
            InventoryService(db, resolver),
            audit=AuditDesk(db, clock=sim.clock.now),
        )

    tasks: LocalTasks = TaskThread("test-local", build, close=LocalServices.close)
    try:
        yield tasks
    finally:
        assert tasks.stop(), "the local thread did not stop"


@pytest.fixture
def briefed(db: Database, sim: EmbeddedSimulator) -> str:
    """The shop plan, saved again with a test brief."""
    save_plan(db, replace(helpers.shop_plan(sim), brief=PLAN_BRIEF))
    return "Shop"


def events_of(db: Database, execution_id: str) -> list[object]:
    return list(journal.read_journal(db, journal.get_execution(db, execution_id)).events)


def start_drill(
    qtbot: QtBot, running: Running, local: LocalTasks, sim: EmbeddedSimulator, progress: ProgressWidget
) -> tuple[RunDialog, Recorder]:
    dialog = RunDialog(plan_names=["Shop"], plan_name="Shop", now=sim.clock.now())
    dialog.connect_desk(running.desk)
    dialog.brief_panel.connect_local(local)
    dialog.run_requested.connect(progress.start_run)
    qtbot.addWidget(dialog)
    dialog.show()
    started = Recorder()
    running.desk.started.connect(started.record)
    return dialog, started


def test_the_brief_edited_in_the_run_dialog_is_what_the_run_records(
    qtbot: QtBot, running: Running, local: LocalTasks, sim: EmbeddedSimulator, db: Database, briefed: str
) -> None:
    progress = ProgressWidget()
    progress.connect_desk(running.desk)
    qtbot.addWidget(progress)
    dialog, started = start_drill(qtbot, running, local, sim, progress)
    panel = dialog.brief_panel
    fields = panel.fields
    qtbot.waitUntil(lambda: fields.scenario_edit.text() == PLAN_BRIEF.scenario, timeout=TIMEOUT)
    assert fields.objectives_edit.toPlainText() == "Shop answers within 90 minutes"
    assert panel.brief() is None, "the plan's own brief, unchanged"
    assert panel.test_type_text() == "Recorded as: known once the plan is checked"

    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(lambda: dialog.report() is not None, timeout=TIMEOUT)
    assert dialog.run_button.isEnabled()
    assert panel.test_type_text() == "Recorded as: drill (every wave of the plan launches servers)"

    # A bad entry: said under the fields, Run disabled (the check stays valid: the brief is not the
    # choice checked).
    fields.participants_edit.setPlainText("Dana\nLee\x07")
    assert panel.problem_text() == (
        "Test brief, participant 2: holds a control character (U+0007 BEL) at character 4; a participant "
        "must be one line of printable text"
    )
    assert not dialog.run_button.isEnabled()
    assert dialog.run_button.toolTip() == panel.problem_text()
    fields.participants_edit.setPlainText("Dana\n\nLee (DBA)\n")
    fields.scenario_edit.setText("Ransomware on the primary site")
    assert panel.problem_text() == "" and dialog.run_button.isEnabled()
    edited = panel.brief()
    assert edited == replace(
        PLAN_BRIEF, scenario="Ransomware on the primary site", participants=("Dana", "Lee (DBA)")
    )

    runs = Recorder()
    dialog.run_requested.connect(runs.record)
    qtbot.mouseClick(dialog.run_button, LEFT)
    assert runs.calls and isinstance(runs.calls[0][1], RunChoice) and runs.calls[0][1].brief == edited
    qtbot.waitUntil(lambda: bool(started.calls), timeout=TIMEOUT)
    execution_id = started.calls[0][0].execution_id  # type: ignore[attr-defined]
    first = events_of(db, execution_id)[0]
    assert isinstance(first, TestRecorded) and first.test_type is TestType.DRILL
    assert first.scenario == "Ransomware on the primary site"
    assert first.participants == ("Dana", "Lee (DBA)")
    assert first.objectives == PLAN_BRIEF.objectives and first.success_criteria == PLAN_BRIEF.success_criteria


def test_the_test_type_shown_is_the_one_recorded_for_a_recovery(
    qtbot: QtBot, running: Running, local: LocalTasks, sim: EmbeddedSimulator, briefed: str
) -> None:
    progress = ProgressWidget()
    qtbot.addWidget(progress)
    dialog, _started = start_drill(qtbot, running, local, sim, progress)
    dialog.recovery_radio.setChecked(True)
    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(lambda: dialog.report() is not None, timeout=TIMEOUT)
    assert dialog.brief_panel.test_type_text() == "Recorded as: RECOVERY (a real recovery)"
    dialog.drill_radio.setChecked(True)
    assert dialog.brief_panel.test_type_text() == "Recorded as: known once the plan is checked"


def test_a_finding_added_from_the_live_view_during_a_drill_reaches_the_journal(
    qtbot: QtBot, running: Running, local: LocalTasks, sim: EmbeddedSimulator, db: Database, briefed: str
) -> None:
    progress = ProgressWidget()
    progress.connect_desk(running.desk)
    progress.finding_button.connect_local(local)
    qtbot.addWidget(progress)
    progress.show()
    assert not progress.finding_button.isEnabled(), "no run followed yet"
    dialog, started = start_drill(qtbot, running, local, sim, progress)
    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(dialog.run_button.isEnabled, timeout=TIMEOUT)
    qtbot.mouseClick(dialog.run_button, LEFT)
    qtbot.waitUntil(lambda: bool(started.calls), timeout=TIMEOUT)
    execution_id = started.calls[0][0].execution_id  # type: ignore[attr-defined]
    qtbot.waitUntil(progress.approve_button.isEnabled, timeout=TIMEOUT)  # the drill waits at its gate
    assert progress.finding_button.isEnabled() and running.desk.loop(execution_id) is not None

    qtbot.mouseClick(progress.finding_button, LEFT)
    finding = progress.finding_button.dialog
    assert finding is not None and finding.isVisible()
    finding.text_edit.setPlainText("The gate message does not say what to check")
    finding.severity_combo.setCurrentIndex(finding.severity_combo.findData("medium"))
    finding.owner_edit.setText("Dana")
    qtbot.mouseClick(finding.ok_button, LEFT)
    qtbot.waitUntil(lambda: progress.finding_button.dialog is None, timeout=TIMEOUT)
    assert "handed to the run" in progress.status_text()

    def journaled() -> list[FindingAdded]:
        return [e for e in events_of(db, execution_id) if isinstance(e, FindingAdded)]

    qtbot.waitUntil(lambda: len(journaled()) == 1, timeout=TIMEOUT)
    (added,) = journaled()
    assert added.text == "The gate message does not say what to check"
    assert (added.severity, added.owner) == (Severity.MEDIUM, "Dana")
    snapshot = progress.snapshot()
    assert snapshot is not None and not snapshot.finished, "the run goes on; the finding changes nothing"
    assert progress.approve_button.isEnabled(), "still at its gate"


def test_a_finding_on_a_run_whose_loop_has_ended_is_journaled_directly(
    qtbot: QtBot, running: Running, local: LocalTasks, sim: EmbeddedSimulator, db: Database, briefed: str
) -> None:
    progress = ProgressWidget()
    progress.connect_desk(running.desk)
    progress.finding_button.connect_local(local)
    qtbot.addWidget(progress)
    progress.show()
    dialog, started = start_drill(qtbot, running, local, sim, progress)
    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(dialog.run_button.isEnabled, timeout=TIMEOUT)
    qtbot.mouseClick(dialog.run_button, LEFT)
    qtbot.waitUntil(lambda: bool(started.calls), timeout=TIMEOUT)
    execution_id = started.calls[0][0].execution_id  # type: ignore[attr-defined]
    qtbot.waitUntil(progress.approve_button.isEnabled, timeout=TIMEOUT)
    qtbot.mouseClick(progress.approve_button, LEFT)
    qtbot.waitUntil(lambda: running.desk.active_ids() == [], timeout=TIMEOUT)  # the run ended, no loop
    assert progress.following() == execution_id and progress.finding_button.isEnabled()

    qtbot.mouseClick(progress.finding_button, LEFT)
    finding = progress.finding_button.dialog
    assert finding is not None
    finding.text_edit.setPlainText("Web wave took longer than planned")
    qtbot.mouseClick(finding.ok_button, LEFT)
    qtbot.waitUntil(lambda: progress.finding_button.dialog is None, timeout=TIMEOUT)
    added = [e for e in events_of(db, execution_id) if isinstance(e, FindingAdded)]
    assert [e.text for e in added] == ["Web wave took longer than planned"]
    assert progress.status_text().startswith(f"Finding {added[0].finding_id} added: journal entry ")
