"""The plan editor's Test brief and Cadence sections: an edit is one undoable step that marks the plan
changed, a refused one says why, and a save through the plans pane stores a revision holding it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.model import Cadence, RecoveryPlan
from drs_desktop.domain.plan.model import TestBrief as Brief  # not a test class to pytest
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.storage.db import Database
from drs_desktop.storage.inventory import save_inventory
from drs_desktop.storage.plans import diff_revisions, load_plan
from drs_desktop.ui.plans.plan_editor_widget import PlanEditorWidget
from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
from tests.ui.pane_tasks import desktop_clock, pane_threads
from tests.ui.plan_helpers import F, sample_inventory, sample_plan

TIMEOUT = 5000
REVISION = PlanRevision("id-1", "Payroll", 1, datetime(2025, 1, 1, tzinfo=UTC), "hash")


@pytest.fixture
def editor(qtbot: QtBot) -> PlanEditorWidget:
    widget = PlanEditorWidget()
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.set_inventory(sample_inventory())
    widget.load_plan(sample_plan(), REVISION)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def current(editor: PlanEditorWidget) -> RecoveryPlan:
    plan = editor.plan()
    assert plan is not None
    return plan


def leave(edit: QPlainTextEdit) -> None:
    """The list loses the focus, as when the operator clicks or tabs elsewhere."""
    QApplication.sendEvent(edit, QFocusEvent(QEvent.Type.FocusOut))


def type_brief(editor: PlanEditorWidget) -> None:
    section = editor.plan_properties.brief_section
    section.scenario_edit.setText("  Loss of the primary site ")
    section.scenario_edit.editingFinished.emit()
    section.objectives_edit.setPlainText("Recover payroll\n\n  Prove the runbook  \n")
    leave(section.objectives_edit)
    section.criteria_edit.setPlainText("Payroll answers")
    leave(section.criteria_edit)
    section.participants_edit.setPlainText("DR lead\nDBA")
    leave(section.participants_edit)


def test_brief_sections_show_the_plan_and_edits_are_undoable_steps(editor: PlanEditorWidget) -> None:
    section = editor.plan_properties.brief_section
    assert section.isEnabled() and section.title() == "Test brief"
    assert not editor.is_dirty()
    type_brief(editor)
    assert current(editor).brief == Brief(
        "Loss of the primary site",
        ("Recover payroll", "Prove the runbook"),
        ("Payroll answers",),
        ("DR lead", "DBA"),
    )
    assert editor.is_dirty() and editor.undo_stack.count() == 4
    assert editor.undo_stack.undoText() == "Change test brief"
    assert section.scenario_edit.text() == "Loss of the primary site"  # shown as the plan holds it
    assert section.objectives_edit.toPlainText() == "Recover payroll\nProve the runbook"
    leave(section.objectives_edit)  # left again, unchanged: no edit
    assert editor.undo_stack.count() == 4
    for _ in range(4):
        editor.undo_stack.undo()
    assert current(editor) == sample_plan() and not editor.is_dirty()
    assert section.scenario_edit.text() == "" and section.participants_edit.toPlainText() == ""
    editor.undo_stack.redo()
    assert current(editor).brief.scenario == "Loss of the primary site"


def test_cadence_section_edits_the_plan_and_undoes(editor: PlanEditorWidget) -> None:
    section = editor.plan_properties.cadence_section
    assert section.every_spin.specialValueText() == "none" and section.every_spin.maximum() == 3660
    assert section.retest_spin.maximum() == 365
    section.every_spin.setValue(90)
    section.every_spin.editingFinished.emit()
    section.retest_spin.setValue(30)
    section.retest_spin.editingFinished.emit()
    section.after_changes_check.click()
    assert current(editor).cadence == Cadence(every_days=90, retest_days=30, after_changes=True)
    assert editor.is_dirty() and editor.undo_stack.undoText() == "Change cadence"
    editor.undo_stack.undo()
    assert current(editor).cadence == Cadence(every_days=90, retest_days=30)
    assert not section.after_changes_check.isChecked()
    section.every_spin.setValue(0)  # "none": the rule is dropped
    section.every_spin.editingFinished.emit()
    assert current(editor).cadence == Cadence(retest_days=30)


def test_a_brief_validation_refuses_is_not_applied_and_the_reason_is_shown(editor: PlanEditorWidget) -> None:
    section = editor.plan_properties.brief_section
    section.participants_edit.setPlainText("\n".join(f"person {n}" for n in range(21)))
    leave(section.participants_edit)
    assert editor.undo_stack.count() == 0 and current(editor).brief == Brief()
    assert "Change test brief: Test brief, participants: holds 21 entries; at most 20" in editor.message()


def test_a_problem_of_the_brief_is_listed_in_the_editors_words(editor: PlanEditorWidget) -> None:
    section = editor.plan_properties.cadence_section
    section.every_spin.setValue(14)
    section.every_spin.editingFinished.emit()
    section.retest_spin.setValue(30)
    section.retest_spin.editingFinished.emit()
    items = [editor.problems_list.item(i).text() for i in range(editor.problems_list.count())]
    assert any(
        item.startswith("warning: Cadence, re-test within: a re-test within 30 days") for item in items
    )


# --------------------------------------------------------------------------- through the plans pane


@pytest.fixture
def pane(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[PlansPaneWidget, Database]]:
    db = Database.open(tmp_path / "drs.sqlite3")
    save_inventory(db, sample_inventory())
    try:
        with pane_threads(db) as threads:
            widget = PlansPaneWidget(clock=desktop_clock)
            qtbot.addWidget(widget)
            widget.connect_tasks(threads.local)
            widget.resize(1500, 850)
            widget.show()
            qtbot.waitExposed(widget)
            yield widget, db
    finally:
        db.close()


def test_a_saved_brief_and_cadence_are_in_the_revision_and_its_diff(
    pane: tuple[PlansPaneWidget, Database], qtbot: QtBot
) -> None:
    widget, db = pane
    widget.new_plan()
    editor = widget.editor
    assert editor.add_entries_to_wave([F], [], 0)
    with qtbot.waitSignal(widget.plan_list.model().rowsInserted, timeout=TIMEOUT):
        editor.save()
    qtbot.waitUntil(lambda: not editor.is_dirty(), timeout=TIMEOUT)

    type_brief(editor)
    cadence = editor.plan_properties.cadence_section
    cadence.every_spin.setValue(90)
    cadence.every_spin.editingFinished.emit()
    assert editor.is_dirty()
    editor.comment_edit.setText("brief and cadence")
    editor.save()
    qtbot.waitUntil(lambda: not editor.is_dirty(), timeout=TIMEOUT)
    assert editor.revision() is not None and editor.revision().revision == 2  # type: ignore[union-attr]

    stored = load_plan(db, "New plan").plan
    assert stored.brief == current(editor).brief and stored.brief.participants == ("DR lead", "DBA")
    assert stored.cadence == Cadence(every_days=90)
    diff = diff_revisions(db, "New plan", 1, 2)
    assert "test scenario: none -> 'Loss of the primary site'" in diff
    assert "test objective 'Prove the runbook' added" in diff
    assert "cadence every_days: none -> 90 days" in diff
