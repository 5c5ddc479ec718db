"""RunDialog: preflight checks shown with their results, Run gated by the checks and, for a RECOVERY, by
the plan's name typed exactly. The checks run on the execution desk's task thread against the simulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.controls import RunChoice
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.executions.run_dialog import RunDialog
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


@pytest.fixture
def dialog(qtbot: QtBot, running: Running, sim: EmbeddedSimulator) -> RunDialog:
    """The dialog wired for checks only: Run is captured, nothing is started."""
    made = RunDialog(plan_names=["Shop", "Broken"], plan_name="Shop", now=sim.clock.now())
    made.connect_desk(running.desk)
    qtbot.addWidget(made)
    made.show()
    return made


def check(qtbot: QtBot, dialog: RunDialog) -> None:
    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(
        lambda: dialog.check_button.isEnabled() and "Checking" not in dialog.verdict_text(), timeout=TIMEOUT
    )


def test_a_recovery_runs_only_once_the_plan_name_is_typed_exactly(qtbot: QtBot, dialog: RunDialog) -> None:
    runs: list[tuple[object, object]] = []
    dialog.run_requested.connect(lambda prepared, choice: runs.append((prepared, choice)))
    dialog.recovery_radio.setChecked(True)
    assert dialog.confirm_edit.isVisible() and "Shop" in dialog.confirm_label.text()
    assert dialog.run_button.text() == "Run RECOVERY"
    check(qtbot, dialog)
    report = dialog.report()
    assert report is not None and report.ok and report.mode is Mode.RECOVERY
    for typed in ("", "shop", "Shop ", "Sho"):
        dialog.confirm_edit.setText(typed)
        assert not dialog.run_button.isEnabled(), f"{typed!r} must not confirm a RECOVERY"
    qtbot.mouseClick(dialog.run_button, LEFT)
    assert runs == []
    dialog.confirm_edit.clear()
    qtbot.keyClicks(dialog.confirm_edit, "Shop")
    assert dialog.run_button.isEnabled()
    qtbot.mouseClick(dialog.run_button, LEFT)
    assert len(runs) == 1
    prepared, choice = runs[0]
    assert choice == RunChoice("Shop", Mode.RECOVERY)
    assert prepared is not None
    assert dialog.result() == RunDialog.DialogCode.Accepted


def test_the_checks_are_listed_with_their_results_and_the_calls(qtbot: QtBot, dialog: RunDialog) -> None:
    check(qtbot, dialog)
    report = dialog.report()
    assert report is not None
    table = dialog.checks_table
    assert table.rowCount() == len(report.checks) > 0
    for row, finding in enumerate(report.checks):
        result = table.item(row, 0)
        assert result is not None and result.text() == finding.status.value
        assert not result.icon().isNull()
        message = table.item(row, 4)
        assert message is not None and message.text() == finding.message
    calls = dialog.calls_view.toPlainText()
    assert calls.count("StartRecovery") >= 3  # one per wave of the shop plan
    assert "Ready to run" in dialog.verdict_text()
    assert dialog.run_button.isEnabled() and dialog.run_button.text() == "Run drill"


def test_changing_the_choice_after_a_check_asks_for_a_new_check(qtbot: QtBot, dialog: RunDialog) -> None:
    check(qtbot, dialog)
    assert dialog.run_button.isEnabled()
    dialog.recovery_radio.setChecked(True)
    assert dialog.report() is None and dialog.checks_table.rowCount() == 0
    assert not dialog.run_button.isEnabled()
    dialog.drill_radio.setChecked(True)
    assert not dialog.run_button.isEnabled(), "the old result is gone; check again"
    check(qtbot, dialog)
    assert dialog.run_button.isEnabled()
    dialog.point_radio.setChecked(True)
    assert not dialog.run_button.isEnabled()


def test_a_failed_check_keeps_run_disabled(qtbot: QtBot, dialog: RunDialog, db: Database) -> None:
    save_plan(db, RecoveryPlan(name="Broken", waves=(Wave(name="Ghosts", servers=("s-00000000000000abc",)),)))
    dialog.plan_combo.setCurrentText("Broken")
    check(qtbot, dialog)
    report = dialog.report()
    assert report is not None and not report.ok
    results = [dialog.checks_table.item(row, 0).text() for row in range(dialog.checks_table.rowCount())]  # type: ignore[union-attr]
    assert "FAIL" in results
    assert "NOT READY" in dialog.verdict_text()
    assert not dialog.run_button.isEnabled()


def test_a_check_that_cannot_run_says_why(qtbot: QtBot, dialog: RunDialog) -> None:
    dialog.plan_combo.setCurrentText("No such plan")
    check(qtbot, dialog)
    assert dialog.report() is None
    assert "The check failed" in dialog.verdict_text() and "No such plan" in dialog.verdict_text()
    assert not dialog.run_button.isEnabled()


def test_the_point_in_time_is_utc(qtbot: QtBot) -> None:
    dialog = RunDialog(plan_names=["Shop"], plan_name="Shop", now=datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    qtbot.addWidget(dialog)
    assert dialog.choice().point_in_time is None
    assert not dialog.point_edit.isEnabled()
    dialog.point_radio.setChecked(True)
    assert dialog.point_edit.isEnabled()
    dialog.set_point_in_time(datetime(2026, 1, 5, 7, 30, 15, tzinfo=UTC))
    chosen = dialog.choice().point_in_time
    assert chosen == datetime(2026, 1, 5, 7, 30, 15, tzinfo=UTC) and chosen.tzinfo is UTC
    assert dialog.point_edit.text() == "2026-01-05 07:30:15 UTC"
