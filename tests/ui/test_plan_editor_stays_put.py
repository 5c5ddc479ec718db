"""The plan editor stays put: a toolbar that never moves, nothing clipped at 1366x768, problems in the
operator's words, group waves counted, servers taken from other waves said, not-ready servers marked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QToolButton
from pytestqt.qtbot import QtBot

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import Wave
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.ui.main_window import MainWindow
from drs_desktop.ui.plans import plan_mime
from drs_desktop.ui.plans.plan_editor_widget import TOOLBAR, PlanEditorWidget
from drs_desktop.ui.plans.plan_mime import DragPayload
from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
from tests.ui.pane_tasks import desktop_clock
from tests.ui.plan_helpers import A, B, D, sample_inventory, sample_plan

REVISION = PlanRevision("id-1", "Payroll", 1, datetime(2025, 1, 1, tzinfo=UTC), "hash")
TOOLTIP = Qt.ItemDataRole.ToolTipRole
DECORATION = Qt.ItemDataRole.DecorationRole


@pytest.fixture
def editor(qtbot: QtBot) -> PlanEditorWidget:
    widget = PlanEditorWidget()
    qtbot.addWidget(widget)
    widget.resize(1200, 760)
    widget.set_inventory(sample_inventory())
    widget.load_plan(sample_plan(), REVISION)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def buttons(editor: PlanEditorWidget) -> dict[str, QToolButton]:
    found = {}
    for key, action in editor.editor_actions.items():
        button = editor.toolbar.widgetForAction(action)
        if isinstance(button, QToolButton):
            found[key] = button
    return found


def test_toolbar_buttons_keep_their_place_and_tell_their_shortcut(editor: PlanEditorWidget) -> None:
    before = {key: button.geometry() for key, button in buttons(editor).items()}
    assert set(before) == {key for key in TOOLBAR if key}
    assert all(b.toolButtonStyle() is Qt.ToolButtonStyle.ToolButtonIconOnly for b in buttons(editor).values())
    assert all(not editor.editor_actions[key].icon().isNull() for key in before)
    assert editor.editor_actions["move_to_wave"].toolTip() == "Move to wave… (Ctrl+M)"
    assert editor.editor_actions["new_wave"].toolTip() == "New wave (Ctrl+Shift+N)"
    assert "Ctrl+S" in editor.save_button.toolTip()

    editor.move_entries_to_wave([(1, A)], [], 2)  # "Undo" becomes "Undo Move 1 entry to 'Web'"
    editor.add_wave()
    after = {key: button.geometry() for key, button in buttons(editor).items()}
    assert after == before, "no button moved when the undo/redo labels changed"
    undo = editor.editor_actions["undo"]
    assert undo.text().startswith("Undo Add wave") and undo.toolTip().startswith("Undo Add wave")
    assert undo.toolTip().endswith("(Ctrl+Z)")
    editor.undo_stack.undo()
    assert buttons(editor)["redo"].geometry() == before["redo"]
    assert editor.editor_actions["redo"].toolTip().startswith("Redo Add wave")


def test_problems_name_waves_as_the_operator_sees_them(editor: PlanEditorWidget) -> None:
    editor.move_entries_to_wave([(1, A), (1, B)], [], 2)  # wave 2 'DB' is empty now
    texts = [editor.problems_list.item(i).text() for i in range(editor.problems_list.count())]
    assert "Wave 2 'DB': the wave is empty: add protection groups or source servers" in texts
    assert not any("waves[" in text for text in texts)
    wave = editor.model.index(1, 0)
    assert wave.data(TOOLTIP).startswith("Wave 2 'DB': the wave is empty")
    # A message that quotes another place names it the same way, not "(waves[0])".
    twice = replace(
        sample_plan(),
        waves=(*sample_plan().waves, Wave("Net", servers=(sample_inventory().servers[5].source_server_id,))),
    )
    editor.load_plan(twice, REVISION)
    texts = [editor.problems_list.item(i).text() for i in range(editor.problems_list.count())]
    assert "Wave 4 'Net', name: duplicate wave name 'Net' (Wave 1 'Net')" in texts


def test_a_wave_of_groups_counts_the_servers_they_select(qtbot: QtBot) -> None:
    editor = PlanEditorWidget()
    qtbot.addWidget(editor)
    plan = replace(sample_plan(), waves=(*sample_plan().waves, Wave("Databases", groups=("dbs",))))
    editor.load_plan(plan, REVISION)
    assert editor.model.index(3, 1).data() == "1 group · servers unknown without an inventory"
    assert editor.model.index(0, 1).data() == "1 group · 1 server", "an ID group counts without inventory"
    editor.set_inventory(sample_inventory())  # tags tier=db select db-01 and db-02
    assert editor.model.index(3, 1).data() == "1 group · 2 servers"
    group_row = editor.model.index(0, 1, editor.model.index(3, 0))
    assert group_row.data() == "tags tier=db · 2 servers"


def test_taking_a_server_from_another_wave_says_so(editor: PlanEditorWidget) -> None:
    # From the inventory (Ctrl+Enter's path): db-01 is in wave 2 'DB'; adding it to 'Web' moves it.
    assert editor.add_entries_to_wave([A], [], 2)
    assert editor.message() == f"Moved db-01 ({A}) from Wave 2 'DB'."
    assert "b00020" not in editor.message_label.styleSheet(), "a notice, not an error"
    editor.undo_stack.undo()
    # A drop from the tree (the model's drop path): db-02 dragged from 'DB' onto 'Net'.
    data = plan_mime.encode(DragPayload("plan", servers=((1, B),)))
    assert editor.model.dropMimeData(data, Qt.DropAction.MoveAction, -1, 0, editor.model.index(0, 0))
    assert editor.message() == f"Moved db-02 ({B}) from Wave 2 'DB'."
    assert editor.plan() is not None and B in editor.plan().waves[0].servers  # type: ignore[union-attr]
    # Adding a server no wave holds says nothing of the kind.
    editor.add_wave()
    assert editor.add_entries_to_wave([sample_inventory().servers[5].source_server_id], [], 3)
    assert not editor.message().startswith("Moved")


def _server_row(editor: PlanEditorWidget, server_id: str) -> QModelIndex:
    (row,) = editor.model.find("server", server_id)
    return row


def test_not_ready_servers_are_marked_in_the_tree(editor: PlanEditorWidget, qtbot: QtBot) -> None:
    stalled = _server_row(editor, D)  # web-02: STALLED in the sample inventory
    assert stalled.data(TOOLTIP).startswith("Not ready: replication is STALLED: replication has stopped")
    assert stalled.data(DECORATION) is not None
    healthy = _server_row(editor, A)
    assert healthy.data(DECORATION) is None and healthy.data(TOOLTIP) is None
    web = editor.model.index(2, 0)
    assert web.data(TOOLTIP).startswith("1 of 2 servers not ready:\n• web-02")
    assert web.data(DECORATION) is not None
    assert editor.model.index(0, 0).data(DECORATION) is None, "wave 'Net' is ready"
    assert "1 server not ready (marked)" in editor.status_label.text()

    # Lag over the plan's RPO marks a replicating server; raising the RPO clears the mark.
    lagging = Inventory(
        servers=tuple(
            replace(s, lag_seconds=3600) if s.source_server_id == A else s for s in sample_inventory().servers
        ),
        account_id="111122223333",
        region="eu-west-1",
    )
    editor.set_inventory(lagging)
    assert _server_row(editor, A).data(DECORATION) is None, "no RPO in the plan: no lag to judge"
    with qtbot.waitSignal(editor.model.dataChanged):
        editor.plan_properties.rpo_spin.setValue(15)
        editor.plan_properties.rpo_spin.editingFinished.emit()
    row = _server_row(editor, A)
    assert row.data(TOOLTIP) == "Not ready: replication lag 1 h is over the plan's RPO of 15 min"
    assert row.data(DECORATION) is not None
    editor.plan_properties.rpo_spin.setValue(120)
    editor.plan_properties.rpo_spin.editingFinished.emit()
    assert _server_row(editor, A).data(DECORATION) is None


def test_nothing_is_clipped_at_1366x768(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    pane = PlansPaneWidget(clock=desktop_clock)
    window.set_pane_widget("plans", pane)
    window.show_pane("plans")
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    many = Inventory(
        servers=(*sample_inventory().servers, SourceServer("s-" + "9" * 17, hostname="a-long-hostname-01")),
        account_id="111122223333",
        region="eu-west-1",
    )
    editor = pane.editor
    editor.set_inventory(many)
    editor.load_plan(sample_plan(), REVISION)
    editor.select_refs([("wave", "Web")])
    layout = window.layout()
    assert layout is not None
    layout.activate()  # the layout as the next pass computes it, without waiting for one
    QApplication.processEvents()
    window.grab().save(str(tmp_path / "editor-1366x768.png"))

    tree = editor.tree
    assert tree.header().length() <= tree.viewport().width(), "every column of the plan tree is whole"
    inventory = editor.inventory_panel.view
    first_four = sum(inventory.header().sectionSize(c) for c in range(4))
    assert first_four <= inventory.viewport().width(), "ID, hostname, OS and replication are whole"
    for side in range(editor.side_tabs.count()):
        editor.side_tabs.setCurrentIndex(side)
        page = editor.side_tabs.currentWidget()
        assert page.minimumSizeHint().width() <= page.width(), f"tab {side} fits"
    extension = editor.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert extension is None or not extension.isVisible(), "every toolbar button shows"
    assert all(button.isVisible() for button in buttons(editor).values())
    for button in (editor.save_button, pane.new_button, pane.import_button, pane.refresh_button):
        assert button.width() >= button.sizeHint().width(), f"{button.text()} is whole"
    assert pane.plan_list.header().length() <= pane.plan_list.viewport().width()
