"""PlanEditorWidget: undo/redo of every edit, keyboard paths, drops at the view, inline validation, save."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.model import ApprovalStep, Impact, RecoveryPlan, WaitStep
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.ui.plans.inventory_model import WAVE_COLUMN
from drs_desktop.ui.plans.plan_editor_widget import PlanEditorWidget
from drs_desktop.ui.plans.plan_model import PROBLEMS_ROLE, PlanTreeModel
from drs_desktop.ui.plans.wave_picker_dialog import NEW_WAVE, WavePickerDialog
from tests.ui.plan_helpers import A, B, C, D, F, sample_inventory, sample_plan, watched

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
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


def tree_rows(model: PlanTreeModel) -> list[tuple[str, list[str]]]:
    result = []
    for row in range(model.rowCount()):
        wave = model.index(row, 0)
        result.append((wave.data(), [model.index(r, 0, wave).data() for r in range(model.rowCount(wave))]))
    return result


def plan_rows(plan: RecoveryPlan) -> list[tuple[str, list[str]]]:
    return [(wave.name, [*wave.groups, *wave.servers]) for wave in plan.waves]


def current(editor: PlanEditorWidget) -> RecoveryPlan:
    plan = editor.plan()
    assert plan is not None
    return plan


def select(editor: PlanEditorWidget, *refs: tuple[str, str]) -> None:
    editor.select_refs(refs)


def finish(widget: object) -> None:
    widget.editingFinished.emit()  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------ undo / redo


def rename_wave(e: PlanEditorWidget) -> None:
    select(e, ("wave", "DB"))
    e.wave_properties.name_edit.setText("Databases")
    finish(e.wave_properties.name_edit)


def depend_on_nothing(e: PlanEditorWidget) -> None:
    select(e, ("wave", "DB"))
    e.wave_properties.previous_check.setChecked(False)


def depend_on_net_only(e: PlanEditorWidget) -> None:
    select(e, ("wave", "Web"))
    e.wave_properties.depends_list.item(1).setCheckState(Qt.CheckState.Unchecked)


def add_approval(e: PlanEditorWidget) -> None:
    select(e, ("wave", "Web"))
    e.wave_properties.before_steps.add_actions["approval"].trigger()


def edit_wait(e: PlanEditorWidget) -> None:
    select(e, ("wave", "Web"))
    steps = e.wave_properties.after_steps
    steps.select(0)
    steps.minutes_spin.setValue(12)
    finish(steps.minutes_spin)


def remove_wait(e: PlanEditorWidget) -> None:
    select(e, ("wave", "Web"))
    e.wave_properties.after_steps.select(0)
    e.wave_properties.after_steps.remove_button.click()


def move_step(e: PlanEditorWidget) -> None:
    select(e, ("wave", "Web"))
    e.add_step("after", ApprovalStep("Check the load balancer"))
    e.wave_properties.after_steps.select(1)
    e.wave_properties.after_steps.up_button.click()


def set_rto(e: PlanEditorWidget) -> None:
    e.plan_properties.rto_spin.setValue(0)
    finish(e.plan_properties.rto_spin)


def set_rpo(e: PlanEditorWidget) -> None:
    e.plan_properties.rpo_spin.setValue(15)
    finish(e.plan_properties.rpo_spin)


def set_description(e: PlanEditorWidget) -> None:
    e.plan_properties.description_edit.setText("tier 1")
    finish(e.plan_properties.description_edit)


def rename_plan(e: PlanEditorWidget) -> None:
    e.plan_properties.name_edit.setText("Payroll DR")
    finish(e.plan_properties.name_edit)


def selected(
    *keys: tuple[str, str], then: Callable[[PlanEditorWidget], object]
) -> Callable[[PlanEditorWidget], None]:
    """An edit made on a selection: select ``keys``, then ``then(editor)``."""

    def edit(e: PlanEditorWidget) -> None:
        select(e, *keys)
        then(e)

    return edit


EDITS: dict[str, Callable[[PlanEditorWidget], object]] = {
    "add wave": lambda e: e.add_wave(),
    "delete wave": selected(("wave", "DB"), then=lambda e: e.delete_selection()),
    "remove servers and groups": selected(
        ("server", A), ("group", "net"), then=lambda e: e.delete_selection()
    ),
    "rename wave": rename_wave,
    "move wave down": selected(("wave", "Net"), then=lambda e: e.shift_selection(1)),
    "move server up in its wave": selected(("server", B), then=lambda e: e.shift_selection(-1)),
    "toggle optional": selected(("server", A), ("server", B), then=lambda e: e.toggle_optional()),
    "move servers to a wave": lambda e: e.move_entries_to_wave([(1, A), (1, B)], [], 2),
    "move a group to a new wave": lambda e: e.move_entries_to_wave([], [(0, "net")], NEW_WAVE),
    "add inventory entries": lambda e: e.add_entries_to_wave([F], ["dbs"], 1),
    "add to a new wave": lambda e: e.add_entries_to_wave([F], [], NEW_WAVE),
    "depends on nothing": depend_on_nothing,
    "depends on some": depend_on_net_only,
    "add approval": add_approval,
    "edit wait": edit_wait,
    "remove step": remove_wait,
    "move step": move_step,
    "rto": set_rto,
    "rpo": set_rpo,
    "description": set_description,
    "rename plan": rename_plan,
}


@pytest.mark.parametrize("kind", list(EDITS))
def test_every_edit_undoes_and_redoes_exactly(editor: PlanEditorWidget, kind: str) -> None:
    before = current(editor)
    with watched(editor.model):
        EDITS[kind](editor)
        after = current(editor)
        assert after != before, editor.message()
        assert tree_rows(editor.model) == plan_rows(after)
        while editor.undo_stack.canUndo():
            editor.undo_stack.undo()
        assert current(editor) == before
        assert tree_rows(editor.model) == plan_rows(before)
        while editor.undo_stack.canRedo():
            editor.undo_stack.redo()
    assert current(editor) == after
    assert tree_rows(editor.model) == plan_rows(after)


def test_consecutive_renames_merge_into_one_undo_step(editor: PlanEditorWidget) -> None:
    select(editor, ("wave", "DB"))
    for name in ("D", "Da", "Databases"):
        editor.wave_properties.name_edit.setText(name)
        finish(editor.wave_properties.name_edit)
    assert current(editor).waves[1].name == "Databases"
    assert current(editor).waves[2].depends_on == ("Net", "Databases")
    assert editor.undo_stack.count() == 1
    editor.undo_stack.undo()
    assert current(editor) == sample_plan()


def test_an_impossible_edit_is_refused_with_its_reason(editor: PlanEditorWidget) -> None:
    select(editor, ("wave", "DB"))
    editor.wave_properties.name_edit.setText("web")
    finish(editor.wave_properties.name_edit)
    assert "already a wave named 'Web'" in editor.message()
    assert editor.undo_stack.count() == 0
    assert editor.wave_properties.name_edit.text() == "DB"
    select(editor, ("wave", "Net"))
    editor.shift_selection(-1)
    assert "first wave cannot move up" in editor.message()


def test_moved_servers_stay_selected_after_edit_and_undo(editor: PlanEditorWidget) -> None:
    editor.move_entries_to_wave([(1, A)], [], 2)
    selected = editor.tree.selectionModel().selectedRows(0)
    assert [(i.parent().row(), i.data()) for i in selected] == [(2, A)]
    editor.undo_stack.undo()
    selected = editor.tree.selectionModel().selectedRows(0)
    assert [(i.parent().row(), i.data()) for i in selected] == [(1, A)]


# ---------------------------------------------------------------------------------- keyboard paths


@pytest.fixture
def active(editor: PlanEditorWidget, qtbot: QtBot) -> PlanEditorWidget:
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow, timeout=2000)
    editor.tree.setFocus()
    return editor


def picker(editor: PlanEditorWidget, qtbot: QtBot) -> WavePickerDialog:
    qtbot.waitUntil(lambda: any(d.isVisible() for d in editor.findChildren(WavePickerDialog)), timeout=2000)
    return next(d for d in editor.findChildren(WavePickerDialog) if d.isVisible())


def test_ctrl_m_moves_selected_servers_to_a_chosen_wave(active: PlanEditorWidget, qtbot: QtBot) -> None:
    select(active, ("server", A), ("server", B))
    qtbot.keyClick(active.tree, Qt.Key.Key_M, CTRL)
    dialog = picker(active, qtbot)
    dialog.list.setCurrentRow(2)
    qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    assert current(active).waves[2].servers == (C, D, A, B)
    assert current(active).waves[2].optional == (B,)


def test_ctrl_enter_adds_inventory_selection_to_a_new_wave(active: PlanEditorWidget, qtbot: QtBot) -> None:
    view = active.inventory_panel.view
    proxy = active.inventory_panel.proxy
    active.inventory_panel.filter_edit.setText("app-01")
    view.setFocus()
    view.selectionModel().select(
        proxy.index(0, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    qtbot.keyClick(view, Qt.Key.Key_Return, CTRL)
    dialog = picker(active, qtbot)
    assert dialog.list.count() == 4  # three waves and "+ New wave"
    dialog.list.setCurrentRow(3)
    assert dialog.chosen_row() == NEW_WAVE
    qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    assert current(active).waves[-1].servers == (F,)


def test_escape_cancels_the_picker(active: PlanEditorWidget, qtbot: QtBot) -> None:
    select(active, ("server", A))
    qtbot.keyClick(active.tree, Qt.Key.Key_M, CTRL)
    dialog = picker(active, qtbot)
    qtbot.keyClick(dialog.list, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    assert current(active) == sample_plan()


def test_ctrl_shift_arrows_move_waves_and_keep_the_selection(active: PlanEditorWidget, qtbot: QtBot) -> None:
    select(active, ("wave", "Web"))
    qtbot.keyClick(active.tree, Qt.Key.Key_Up, CTRL | SHIFT)
    qtbot.keyClick(active.tree, Qt.Key.Key_Up, CTRL | SHIFT)
    assert [w.name for w in current(active).waves] == ["Web", "Net", "DB"]
    assert [i.data() for i in active.tree.selectionModel().selectedRows(0)] == ["Web"]
    qtbot.keyClick(active.tree, Qt.Key.Key_Down, CTRL | SHIFT)
    assert [w.name for w in current(active).waves] == ["Net", "Web", "DB"]


def test_delete_toggle_undo_redo_and_save_keys(active: PlanEditorWidget, qtbot: QtBot) -> None:
    select(active, ("server", A))
    qtbot.keyClick(active.tree, Qt.Key.Key_T, CTRL)
    assert current(active).waves[1].impact_of(A) is Impact.OPTIONAL
    qtbot.keyClick(active.tree, Qt.Key.Key_Delete)
    assert current(active).waves[1].servers == (B,)
    qtbot.keyClick(active.tree, Qt.Key.Key_Z, CTRL)
    assert current(active).waves[1].servers == (A, B)
    qtbot.keyClick(active.tree, Qt.Key.Key_Z, CTRL | SHIFT)
    assert current(active).waves[1].servers == (B,)
    qtbot.keyClick(active.tree, Qt.Key.Key_N, CTRL | SHIFT)
    assert len(current(active).waves) == 4
    active.comment_edit.setText("tidy up")
    with qtbot.waitSignal(active.save_requested, timeout=1000) as blocker:
        qtbot.keyClick(active.tree, Qt.Key.Key_S, CTRL)
    assert blocker.args == [current(active), "tidy up"]


# ------------------------------------------------------------------------------ drops at the view


def drop_on_view(editor: PlanEditorWidget, data: QMimeData, pos: QPoint, action: Qt.DropAction) -> bool:
    viewport = editor.tree.viewport()
    actions = Qt.DropAction.MoveAction | Qt.DropAction.CopyAction
    point = QPointF(pos)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, actions, data, buttons, mods)  # Qt takes a QPoint here, a QPointF below
    QApplication.sendEvent(viewport, enter)
    move = QDragMoveEvent(pos, actions, data, buttons, mods)
    QApplication.sendEvent(viewport, move)
    event = QDropEvent(point, actions, data, buttons, mods)
    event.setDropAction(action)
    QApplication.sendEvent(viewport, event)
    return event.isAccepted()


def test_drop_server_onto_another_wave_at_the_view(editor: PlanEditorWidget) -> None:
    model = editor.model
    data = model.mimeData([model.index(0, 0, model.index(1, 0))])
    web = editor.tree.visualRect(model.index(2, 0))
    assert drop_on_view(editor, data, web.center(), Qt.DropAction.MoveAction)
    assert current(editor).waves[2].servers == (C, D, A)
    assert tree_rows(model) == plan_rows(current(editor))


def test_drop_server_between_servers_at_the_view(editor: PlanEditorWidget) -> None:
    model = editor.model
    data = model.mimeData([model.index(1, 0, model.index(1, 0))])  # B
    c_rect = editor.tree.visualRect(model.index(0, 0, model.index(2, 0)))
    assert drop_on_view(editor, data, QPoint(c_rect.center().x(), c_rect.top() + 1), Qt.DropAction.MoveAction)
    assert current(editor).waves[2].servers == (B, C, D)
    assert current(editor).waves[2].optional == (B,)


def test_drop_wave_above_the_first_reorders_at_the_view(editor: PlanEditorWidget) -> None:
    model = editor.model
    data = model.mimeData([model.index(2, 0)])
    net = editor.tree.visualRect(model.index(0, 0))
    assert drop_on_view(editor, data, QPoint(net.center().x(), net.top() + 1), Qt.DropAction.MoveAction)
    assert [w.name for w in current(editor).waves] == ["Web", "Net", "DB"]
    editor.undo_stack.undo()
    assert current(editor) == sample_plan()


def test_drop_from_the_inventory_view_at_the_view(editor: PlanEditorWidget) -> None:
    proxy = editor.inventory_panel.proxy
    editor.inventory_panel.filter_edit.setText("app-01")
    data = proxy.mimeData([proxy.index(0, 0)])
    db = editor.tree.visualRect(editor.model.index(1, 0))
    assert drop_on_view(editor, data, db.center(), Qt.DropAction.CopyAction)
    assert current(editor).waves[1].servers == (A, B, F)
    panel = editor.inventory_panel.model
    assert panel.index(panel.row_of("server", F), WAVE_COLUMN).data() == "DB"


def test_a_refused_drop_changes_nothing(editor: PlanEditorWidget) -> None:
    foreign = QMimeData()
    foreign.setText("hello")
    web = editor.tree.visualRect(editor.model.index(2, 0))
    assert not drop_on_view(editor, foreign, web.center(), Qt.DropAction.CopyAction)
    assert current(editor) == sample_plan()
    assert editor.undo_stack.count() == 0


# ---------------------------------------------------------------------------------- validation


def test_inline_validation_appears_and_disappears(editor: PlanEditorWidget, qtbot: QtBot) -> None:
    assert editor.problems() == []
    assert editor.problems_list.count() == 0
    editor.move_entries_to_wave([(1, A), (1, B)], [], 2)
    db = editor.model.index(1, 0)
    assert any("the wave is empty" in p.message for p in db.data(PROBLEMS_ROLE))
    assert "the wave is empty" in db.data(Qt.ItemDataRole.ToolTipRole)
    assert db.data(Qt.ItemDataRole.DecorationRole) is not None
    assert any(
        "Wave 2 'DB': the wave is empty" in editor.problems_list.item(i).text()
        for i in range(editor.problems_list.count())
    )
    assert "1 error" in editor.status_label.text()
    editor.undo_stack.undo()
    assert editor.model.index(1, 0).data(PROBLEMS_ROLE) == ()
    assert editor.problems_list.count() == 0
    assert "no problems" in editor.status_label.text()


def test_unknown_server_is_marked_on_its_row_and_the_list_jumps_to_it(editor: PlanEditorWidget) -> None:
    stranger = "s-99999999999999999"
    editor.add_entries_to_wave([stranger], [], 2)
    row = editor.model.find("server", stranger)[0]
    assert "unknown source server" in row.data(Qt.ItemDataRole.ToolTipRole)
    assert row.siblingAtColumn(3).data() == "not in inventory"
    item = editor.problems_list.item(0)
    assert item.text().startswith(f"Wave 3 'Web', server {stranger}: unknown source server {stranger} (not")
    assert "waves[" not in item.text(), "the editor names waves as the operator sees them"
    editor.problems_list.itemActivated.emit(item)
    assert editor.tree.currentIndex() == row


def test_save_and_mark_saved_clear_the_dirty_state(editor: PlanEditorWidget, qtbot: QtBot) -> None:
    assert not editor.is_dirty()
    with qtbot.waitSignal(editor.dirty_changed, timeout=1000) as dirty:
        editor.add_wave()
    assert dirty.args == [True]
    with qtbot.waitSignal(editor.save_requested, timeout=1000) as saved:
        editor.save_button.click()
    assert saved.args[0] == current(editor)
    editor.mark_saved(PlanRevision("id-1", "Payroll", 2, datetime(2025, 1, 2, tzinfo=UTC), "h2"))
    assert not editor.is_dirty()
    assert "revision 2" in editor.status_label.text()
    editor.add_step("after", WaitStep(3))
    assert editor.is_dirty()


def test_a_new_plan_is_dirty_until_saved(qtbot: QtBot) -> None:
    widget = PlanEditorWidget()
    qtbot.addWidget(widget)
    assert not widget.editor_actions["new_wave"].isEnabled()
    widget.new_plan("Fresh")
    assert widget.is_dirty() and widget.stored_name() == ""
    assert [w.name for w in current(widget).waves] == ["Wave 1"]
    assert widget.editor_actions["new_wave"].isEnabled()
