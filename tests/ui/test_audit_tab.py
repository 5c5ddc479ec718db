"""The Audit tab of a run (issue 18) with real widgets: findings added and updated from it reach the
journal and show, the review signed off with a second AWS profile (independent) or the run's own
(the dialog warns; the tab says SELF-SIGNED), and refusals said in the services' words.

Real parts only: a drill run on the simulator (two IAM users in one account: the operator's keys and an
auditor's), a real database, the ``local`` task thread with the ``AuditDesk`` the composition root builds,
the ``settings`` thread with the Settings pane's ``SettingsService`` (profiles from temporary AWS config
files), and STS answered by the simulator over loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingStatus,
    FindingUpdated,
    ReviewSignedOff,
    Severity,
)
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import TestBrief as Brief
from drs_desktop.secrets import SecretStore
from drs_desktop.services.audit_desk import AuditDesk
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.executions import RunRequest
from drs_desktop.services.history import ExecutionHistory
from drs_desktop.services.inventory import InventoryService
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.audit_widget import AuditWidget
from drs_desktop.ui.executions.finding_dialog import FindingDialog
from drs_desktop.ui.executions.sign_off_dialog import SELF_SIGNED_WARNING, SignOffDialog
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks, SettingsTasks
from drs_desktop.workers.tasks import TaskThread
from tests.audit.annot_world import (
    AUDITOR_ARN,
    OPERATOR_ARN,
    advance,
    journal_events,
    new_run,
    shop_plan,
    two_people_scenario,
    write_profiles,
)

TIMEOUT = 20_000
LEFT = Qt.MouseButton.LeftButton
BRIEF = Brief(
    scenario="Loss of the primary region",
    objectives=("Shop answers within 90 minutes",),
    success_criteria=("Orders can be placed",),
    participants=("Dana (operator)", "Lee (DBA)"),
)


@dataclass
class World:
    sim: EmbeddedSimulator
    db: Database
    local: LocalTasks
    settings: SettingsTasks


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    write_profiles(tmp_path, monkeypatch)  # profiles "operator" (the run's keys) and "auditor"
    with (
        EmbeddedSimulator(two_people_scenario(), seed=7) as sim,
        Database.open(tmp_path / "home" / "drs.sqlite3") as db,
    ):
        resolver = ConnectionResolver(db, SecretStore())

        def local() -> LocalServices:
            return LocalServices(
                PlanLibrary(db),
                ExecutionHistory(db),
                InventoryService(db, resolver),
                audit=AuditDesk(db, clock=sim.clock.now, operator="dana-desk"),
            )

        local_tasks: LocalTasks = TaskThread("test-local", local, close=LocalServices.close)
        settings_tasks: SettingsTasks = TaskThread(
            "test-settings", lambda: SettingsService(db, SecretStore())
        )
        try:
            yield World(sim, db, local_tasks, settings_tasks)
        finally:
            assert local_tasks.stop() and settings_tasks.stop(), "a task thread did not stop"


def request(world: World) -> RunRequest:
    """A drill of the shop, recorded with its target (as the GUI's desk records it): the sign-off asks
    STS where the run ran, the simulator."""
    target = {"endpoint_url": world.sim.endpoint_url, "region": world.sim.region, "profile": None}
    return RunRequest(plan_name="Shop", mode=Mode.DRILL, poll_interval_seconds=30, target=target)


def finished_drill(world: World) -> str:
    runner = new_run(world.db, world.sim, shop_plan(world.sim, brief=BRIEF), request(world))
    runner.run(sleep=advance(world.sim), max_steps=5000)
    assert runner.state.finished is not None
    return runner.execution_id


def audit_tab(qtbot: QtBot, world: World, execution_id: str) -> AuditWidget:
    tab = AuditWidget(clock=world.sim.clock.now)
    tab.connect_tasks(world.local)
    tab.connect_settings(world.settings)
    qtbot.addWidget(tab)
    tab.resize(1000, 600)
    tab.show()
    tab.set_execution(execution_id)
    qtbot.waitUntil(lambda: tab.view() is not None, timeout=TIMEOUT)
    return tab


def open_finding_dialog(qtbot: QtBot, tab: AuditWidget, button: QPushButton) -> FindingDialog:
    qtbot.mouseClick(button, LEFT)
    dialog = tab.dialog
    assert isinstance(dialog, FindingDialog) and dialog.isVisible()
    return dialog


def test_findings_added_and_updated_from_the_tab_show_and_reach_the_journal(
    qtbot: QtBot, world: World
) -> None:
    execution_id = finished_drill(world)
    tab = audit_tab(qtbot, world, execution_id)
    assert "Test type: drill" in tab.test_label.text()
    assert "Scenario: Loss of the primary region" in tab.test_label.text()
    assert "Participants: Dana (operator); Lee (DBA)" in tab.test_label.text()
    assert tab.table.rowCount() == 0 and tab.sign_off_label.text() == "Not signed off yet."
    assert not tab.update_button.isEnabled(), "nothing selected to update"

    dialog = open_finding_dialog(qtbot, tab, tab.add_button)
    assert not dialog.ok_button.isEnabled(), "an empty finding cannot be added"
    assert dialog.no_due.isChecked(), "no due date unless one is picked"
    dialog.text_edit.setPlainText("DNS cut-over was done by hand\nand took 20 minutes")
    dialog.severity_combo.setCurrentIndex(dialog.severity_combo.findData("high"))
    dialog.owner_edit.setText("Lee")
    dialog.no_due.setChecked(False)
    now = world.sim.clock.now()
    past = QDate(now.year, now.month, now.day).addDays(-3)
    dialog.due_edit.setDate(past)
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=TIMEOUT)
    assert tab.dialog is None, "the dialog closes once the finding is journaled"
    (added,) = [e for e in journal_events(world.db, execution_id) if isinstance(e, FindingAdded)]
    assert added.text == "DNS cut-over was done by hand\nand took 20 minutes"
    assert (added.severity, added.owner, added.due) == (Severity.HIGH, "Lee", past.toString("yyyy-MM-dd"))
    assert added.by == "dana-desk", "recorded as the desktop's operator, as the GUI's approvals are"
    row = [tab.cell_text(0, column) for column in range(6)]
    assert row[:2] == [added.finding_id, "high"] and row[2] == "DNS cut-over was done by hand"
    assert row[3] == "Lee" and row[4] == f"{added.due} OVERDUE" and row[5] == "open"
    assert tab.status_text().startswith(f"Finding {added.finding_id} added: journal entry ")

    # A second finding, with no due date: open findings first, in the order they were added.
    dialog = open_finding_dialog(qtbot, tab, tab.add_button)
    dialog.text_edit.setPlainText("Runbook step 4 is out of date")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 2, timeout=TIMEOUT)
    assert tab.cell_text(1, 4) == "no due date" and tab.cell_text(1, 3) == "(nobody named)"

    # Update the first: resolved, with a comment. It moves below the open one and is no longer overdue.
    assert tab.select_finding(added.finding_id) and tab.update_button.isEnabled()
    dialog = open_finding_dialog(qtbot, tab, tab.update_button)
    assert dialog.text_edit.toPlainText() == added.text and dialog.owner_edit.text() == "Lee"
    assert not dialog.ok_button.isEnabled(), "an update that changes nothing and says nothing"
    assert "nothing to change" in dialog.problem_text()
    dialog.status_combo.setCurrentIndex(dialog.status_combo.findData("resolved"))
    dialog.comment_edit.setPlainText("Scripted in the runbook")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: tab.cell_text(1, 5) == "resolved", timeout=TIMEOUT)
    assert tab.cell_text(1, 0) == added.finding_id and tab.cell_text(0, 5) == "open"
    assert tab.cell_text(1, 4) == added.due, "a closed finding is not overdue"
    (updated,) = [e for e in journal_events(world.db, execution_id) if isinstance(e, FindingUpdated)]
    assert (updated.finding_id, updated.status, updated.comment) == (
        added.finding_id,
        FindingStatus.RESOLVED,
        "Scripted in the runbook",
    )
    assert (updated.text, updated.owner, updated.due) == (added.text, added.owner, added.due)


def test_bad_entries_are_said_next_to_the_fields_and_keep_ok_disabled(qtbot: QtBot) -> None:
    dialog = FindingDialog(None, today=QDate(2026, 1, 10))
    qtbot.addWidget(dialog)
    dialog.text_edit.setPlainText("Bell \x07 in the text")
    assert not dialog.ok_button.isEnabled()
    assert dialog.problem_text() == "the finding's text contains a control character: type plain text"
    dialog.text_edit.setPlainText("x" * 4001)
    assert dialog.problem_text() == "the finding's text is 4001 characters long: at most 4000"
    dialog.text_edit.setPlainText("fine")
    dialog.owner_edit.setText("o" * 201)
    assert not dialog.ok_button.isEnabled()
    assert dialog.problem_text() == "the owner is 201 characters long: at most 200"
    dialog.owner_edit.setText("Lee")
    assert dialog.ok_button.isEnabled() and dialog.problem_text() == ""
    dialog.no_due.setChecked(False)
    assert dialog.due_text() == "2026-01-10"
    assert dialog.entry().due == "2026-01-10"


def sign_off_dialog(qtbot: QtBot, tab: AuditWidget, profile: str) -> SignOffDialog:
    assert tab.sign_button.isEnabled()
    qtbot.mouseClick(tab.sign_button, LEFT)
    dialog = tab.dialog
    assert isinstance(dialog, SignOffDialog)
    qtbot.waitUntil(lambda: dialog.profile_combo.count() >= 2, timeout=TIMEOUT)
    assert dialog.select_profile(profile)
    assert not dialog.sign_button.isEnabled(), "nothing is signed before the identity is checked"
    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(lambda: dialog.identity() is not None, timeout=TIMEOUT)
    return dialog


def test_a_second_profile_signs_off_independently(qtbot: QtBot, world: World) -> None:
    execution_id = finished_drill(world)
    tab = audit_tab(qtbot, world, execution_id)
    dialog = sign_off_dialog(qtbot, tab, "auditor")
    assert dialog.identity_label.text().startswith(AUDITOR_ARN)
    assert "account 123456789012" in dialog.identity_label.text()
    assert not dialog.warning.isVisible() and dialog.self_signed() is False
    assert "Independent" in dialog.status_text()
    assert not dialog.sign_button.isEnabled(), "a review must be typed"
    dialog.review_edit.setPlainText("Evidence checked against the runbook; RTO met.")
    assert dialog.sign_button.isEnabled()
    qtbot.mouseClick(dialog.sign_button, LEFT)
    qtbot.waitUntil(lambda: tab.dialog is None and "ACCEPTED" in tab.sign_off_label.text(), timeout=TIMEOUT)
    assert tab.status_text().startswith(f"Review accepted by {AUDITOR_ARN} (independent): journal entry")
    text = tab.sign_off_label.text()
    assert AUDITOR_ARN in text and "profile auditor" in text
    assert "independent: signed by someone other than the run's identity" in text
    assert "SELF-SIGNED" not in text
    (signed,) = [e for e in journal_events(world.db, execution_id) if isinstance(e, ReviewSignedOff)]
    assert (signed.arn, signed.profile, signed.accepted, signed.self_signed) == (
        AUDITOR_ARN,
        "auditor",
        True,
        False,
    )
    assert signed.review == "Evidence checked against the runbook; RTO met."


def test_the_runs_own_profile_is_warned_before_signing_and_shown_self_signed(
    qtbot: QtBot, world: World
) -> None:
    execution_id = finished_drill(world)
    tab = audit_tab(qtbot, world, execution_id)
    dialog = sign_off_dialog(qtbot, tab, "operator")
    assert dialog.identity_label.text().startswith(OPERATOR_ARN)
    assert dialog.self_signed() is True
    assert dialog.warning.isVisible() and dialog.warning.text() == SELF_SIGNED_WARNING
    dialog.review_edit.setPlainText("Not good enough")
    dialog.reject_radio.setChecked(True)
    qtbot.mouseClick(dialog.sign_button, LEFT)
    qtbot.waitUntil(lambda: "REJECTED" in tab.sign_off_label.text(), timeout=TIMEOUT)
    assert "SELF-SIGNED: the reviewer is the identity that ran the execution" in tab.sign_off_label.text()
    (signed,) = [e for e in journal_events(world.db, execution_id) if isinstance(e, ReviewSignedOff)]
    assert signed.self_signed and not signed.accepted and signed.arn == OPERATOR_ARN


def test_changing_the_profile_after_the_check_needs_a_new_check(qtbot: QtBot, world: World) -> None:
    tab = audit_tab(qtbot, world, finished_drill(world))
    dialog = sign_off_dialog(qtbot, tab, "auditor")
    dialog.review_edit.setPlainText("ok")
    assert dialog.sign_button.isEnabled()
    assert dialog.select_profile("operator")
    assert dialog.identity() is None and not dialog.sign_button.isEnabled()
    assert dialog.identity_label.text() == "Not checked yet."


def test_an_unfinished_run_cannot_be_signed_off_and_the_button_says_why(qtbot: QtBot, world: World) -> None:
    runner = new_run(world.db, world.sim, shop_plan(world.sim), request(world))
    tab = audit_tab(qtbot, world, runner.execution_id)
    assert not tab.sign_button.isEnabled()
    assert tab.sign_button.toolTip() == "The run has not finished: its review is signed off once it has."
    assert tab.sign_off_label.text() == "Not signed off yet. The run has not finished."
    assert tab.add_button.isEnabled(), "a finding may be added during the run"


def test_a_run_of_another_desktop_refuses_a_finding_in_the_services_words(qtbot: QtBot, world: World) -> None:
    execution_id = finished_drill(world)
    with world.db.transaction() as conn:
        conn.execute(
            "INSERT INTO sync_foreign_executions (execution_id, writer, pulled_at) VALUES (?, ?, ?)",
            (execution_id, "desktop-b", datetime.now(UTC).isoformat()),
        )
    before = len(journal_events(world.db, execution_id))
    tab = audit_tab(qtbot, world, execution_id)
    assert "Run on desktop desktop-b (team sync)" in tab.test_label.text()
    dialog = open_finding_dialog(qtbot, tab, tab.add_button)
    dialog.text_edit.setPlainText("Should not be journaled here")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    refused = "reached this desktop through team sync"
    qtbot.waitUntil(lambda: refused in dialog.problem_text(), timeout=TIMEOUT)
    assert dialog.isVisible() and dialog.text_edit.toPlainText() == "Should not be journaled here"
    assert dialog.ok_button.isEnabled(), "the operator may close it or try again"
    assert "was run on desktop desktop-b" in tab.status_text()
    assert len(journal_events(world.db, execution_id)) == before
    assert tab.table.rowCount() == 0


def test_a_finding_that_looks_like_html_is_shown_as_typed_in_its_tooltip(qtbot: QtBot, world: World) -> None:
    """A finding's text is anyone's (typed here, or synced from a teammate's desktop): a tooltip renders
    text that looks like markup as HTML, so the cell's tooltip must show the text itself."""
    from PySide6.QtGui import Qt as QtGui
    from PySide6.QtGui import QTextDocument

    execution_id = finished_drill(world)
    tab = audit_tab(qtbot, world, execution_id)
    typed = "<b>DNS</b> <img src=x> not switched\nsee <a href='http://x'>runbook</a>"
    dialog = open_finding_dialog(qtbot, tab, tab.add_button)
    dialog.text_edit.setPlainText(typed)
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=TIMEOUT)
    assert tab.cell_text(0, 2) == "<b>DNS</b> <img src=x> not switched"
    item = tab.table.item(0, 2)
    assert item is not None
    tip = item.toolTip()
    shown = QTextDocument()
    if QtGui.mightBeRichText(tip):  # what QToolTip does with it
        shown.setHtml(tip)
    else:
        shown.setPlainText(tip)
    assert shown.toPlainText() == typed
