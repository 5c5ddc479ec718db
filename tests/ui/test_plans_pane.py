"""PlansPaneWidget asking its real ``local`` task thread (run_task) over a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.storage.db import Database
from drs_desktop.storage.inventory import save_inventory
from drs_desktop.storage.planfile import write_plan_file
from drs_desktop.ui.plans.plan_history_dialog import PlanHistoryDialog
from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
from tests.ui.pane_tasks import desktop_clock, pane_threads
from tests.ui.plan_helpers import F, sample_inventory, sample_plan

TIMEOUT = 5000


@pytest.fixture
def pane(qtbot: QtBot, tmp_path: Path) -> Iterator[PlansPaneWidget]:
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
            yield widget
    finally:
        db.close()


def plan_names(pane: PlansPaneWidget) -> list[str]:
    items = (pane.plan_list.topLevelItem(i) for i in range(pane.plan_list.topLevelItemCount()))
    return [item.text(0) for item in items if item is not None]


def test_new_plan_edit_save_reopen_history(pane: PlansPaneWidget, qtbot: QtBot, tmp_path: Path) -> None:
    with qtbot.waitSignal(pane.editor.inventory_panel.model.modelReset, timeout=TIMEOUT):
        pane.refresh()
    pane.new_plan()
    editor = pane.editor
    assert editor.plan() is not None and editor.plan().name == "New plan"  # type: ignore[union-attr]
    assert editor.add_entries_to_wave([F], [], 0)
    editor.comment_edit.setText("first cut")
    with qtbot.waitSignal(pane.plan_list.model().rowsInserted, timeout=TIMEOUT):
        editor.save()
    qtbot.waitUntil(lambda: not editor.is_dirty(), timeout=TIMEOUT)
    assert editor.revision() is not None and editor.revision().revision == 1  # type: ignore[union-attr]
    assert plan_names(pane) == ["New plan"]
    assert "revision 1" in pane.status_text()

    editor.add_wave()
    editor.save()
    qtbot.waitUntil(lambda: not editor.is_dirty(), timeout=TIMEOUT)
    assert editor.revision().revision == 2  # type: ignore[union-attr]

    dialog = pane.show_history()
    assert isinstance(dialog, PlanHistoryDialog)
    qtbot.waitUntil(lambda: dialog.revisions.topLevelItemCount() == 2, timeout=TIMEOUT)
    dialog.select_revisions(1, 2)
    dialog.compare_selected()
    qtbot.waitUntil(lambda: "wave 'Wave 2' added" in dialog.diff_text(), timeout=TIMEOUT)
    dialog.select_revisions(1)
    dialog.open_button.click()
    qtbot.waitUntil(lambda: _revision(pane) == 1, timeout=TIMEOUT)
    assert len(editor.plan().waves) == 1  # type: ignore[union-attr]
    dialog.close()


def test_import_opens_the_plan_and_bad_files_say_why(
    pane: PlansPaneWidget, qtbot: QtBot, tmp_path: Path
) -> None:
    good = tmp_path / "payroll.yaml"
    write_plan_file(sample_plan(), good)
    pane.import_file(good)
    qtbot.waitUntil(lambda: pane.editor.plan() == sample_plan(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: plan_names(pane) == ["Payroll"], timeout=TIMEOUT)
    assert pane.editor.stored_name() == "Payroll"

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "drs-desktop/plan@1", "name": "X", "waves": [{"name": "W", "servers": [1]}]}')
    pane.import_file(bad)
    qtbot.waitUntil(lambda: "Could not import file" in pane.status_text(), timeout=TIMEOUT)
    assert "waves[0].servers[0]" in pane.status_text()
    assert pane.status.styleSheet()


def test_export_and_delete(pane: PlansPaneWidget, qtbot: QtBot, tmp_path: Path) -> None:
    assert not pane.export_plan(tmp_path / "nothing.yaml")  # nothing saved yet
    pane.import_file(_written(tmp_path))
    qtbot.waitUntil(lambda: pane.editor.stored_name() == "Payroll", timeout=TIMEOUT)
    out = tmp_path / "export.json"
    assert pane.export_plan(out, "json")
    qtbot.waitUntil(out.exists, timeout=TIMEOUT)
    assert '"name": "Payroll"' in out.read_text(encoding="utf-8")
    qtbot.waitUntil(lambda: "Exported" in pane.status_text(), timeout=TIMEOUT)
    pane.delete_plan("Payroll")
    qtbot.waitUntil(lambda: plan_names(pane) == [] and pane.editor.plan() is None, timeout=TIMEOUT)


def test_switching_plans_asks_before_dropping_edits(
    pane: PlansPaneWidget, qtbot: QtBot, tmp_path: Path
) -> None:
    pane.import_file(_written(tmp_path))
    qtbot.waitUntil(lambda: pane.editor.stored_name() == "Payroll", timeout=TIMEOUT)
    pane.editor.add_wave()
    asked: list[str] = []

    def refuse(name: str) -> bool:
        asked.append(name)
        return False

    pane.confirm_discard = refuse
    assert not pane.open_plan("Payroll")
    assert asked == ["Payroll"] and pane.editor.is_dirty()
    pane.confirm_discard = lambda name: True
    assert pane.open_plan("Payroll")
    qtbot.waitUntil(lambda: not pane.editor.is_dirty(), timeout=TIMEOUT)


def test_a_save_says_how_many_errors_the_saved_revision_has(pane: PlansPaneWidget, qtbot: QtBot) -> None:
    pane.new_plan()  # one empty wave: saved (a draft survives a restart), with the problem said
    pane.editor.save()
    qtbot.waitUntil(lambda: not pane.editor.is_dirty(), timeout=TIMEOUT)
    assert pane.status_text() == "Saved 'New plan' as revision 1, with 1 error to fix before it can run."


def test_every_failure_is_said_in_one_line_and_the_pane_goes_on(
    pane: PlansPaneWidget, qtbot: QtBot, tmp_path: Path
) -> None:
    assert pane.open_plan("Nope")
    qtbot.waitUntil(lambda: pane.status_text().startswith("Could not load plan: "), timeout=TIMEOUT)
    assert "Nope" in pane.status_text() and pane.status.styleSheet()
    pane.import_file(_written(tmp_path))
    qtbot.waitUntil(lambda: pane.editor.stored_name() == "Payroll", timeout=TIMEOUT)
    missing = tmp_path / "no-such-folder" / "payroll.yaml"
    assert pane.export_plan(missing)
    qtbot.waitUntil(lambda: pane.status_text().startswith("Could not export file: "), timeout=TIMEOUT)
    # A *new* plan under a taken name is refused, and the operator's edits stay.
    pane.new_plan()
    pane.editor.plan_properties.name_edit.setText("Payroll")
    pane.editor.plan_properties.name_edit.editingFinished.emit()
    assert pane.editor.plan() is not None and pane.editor.plan().name == "Payroll"  # type: ignore[union-attr]
    pane.editor.save()
    qtbot.waitUntil(lambda: pane.status_text().startswith("Could not save plan: "), timeout=TIMEOUT)
    assert "already exists" in pane.status_text() and pane.editor.is_dirty()
    assert plan_names(pane) == ["Payroll"]


def _revision(pane: PlansPaneWidget) -> int:
    revision = pane.editor.revision()
    return revision.revision if revision is not None else 0


def _written(tmp_path: Path) -> Path:
    path = tmp_path / "payroll.yaml"
    write_plan_file(sample_plan(), path)
    return path
