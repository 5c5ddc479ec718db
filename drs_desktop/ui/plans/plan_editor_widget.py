"""The plan editor: waves as ordered lanes of servers, built by drag and drop or from the keyboard.

Every change, whether a drop, a key, a toolbar button or a field of the properties panels, goes through
``edit()``: a ``domain.plan.edit`` function becomes a ``PlanEditCommand`` on the undo stack, so every
change can be undone, an impossible one is refused with its reason in the message line, and the plan on
screen is always one frozen ``RecoveryPlan``. After each change the plan is validated against the cached
inventory and the problems are shown twice: on the offending row (icon and tooltip) and in the list
under the tree (activate one to jump to its row).

The editor does no I/O. Saving emits ``save_requested``; the plans pane saves it on its task thread
and calls ``mark_saved`` with the new revision.

Keyboard paths for the drags: Ctrl+M moves the selected servers/groups to a wave, Ctrl+Enter adds the
inventory's selection to a wave, Ctrl+Shift+Up/Down moves the selected waves (or servers within their
wave), Delete removes, Ctrl+T toggles CRITICAL/OPTIONAL, Ctrl+Shift+N adds a wave.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import TargetInventory, connected_part
from drs_desktop.domain.plan.edit import EntryRef, PlanEditError
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.domain.plan.validation import Problem, Severity, validate_plan
from drs_desktop.domain.settings.target_list import CONNECTED_NAME
from drs_desktop.domain.targets import Target
from drs_desktop.ui.plans.editor_toolbar import install_toolbar, tooltip
from drs_desktop.ui.plans.inventory_panel_widget import InventoryPanelWidget
from drs_desktop.ui.plans.plan_editor_operations import PlanEditorOperations, count
from drs_desktop.ui.plans.plan_model import PlanTreeModel
from drs_desktop.ui.plans.plan_properties_widget import PlanPropertiesWidget
from drs_desktop.ui.plans.plan_undo import Edit, MergingEditCommand, PlanEditCommand, Ref
from drs_desktop.ui.plans.wave_properties_widget import WavePropertiesWidget

logger = logging.getLogger(__name__)

#: The problems list shows at most this many lines (a plan against the wrong inventory has thousands).
MAX_LISTED_PROBLEMS = 300
#: Starting widths of the tree's columns (wave / server ID, hostname and target, impact): whole at 1366x768,
#: a long "host · target" is elided in the middle (its target stays in sight); the state takes the rest.
TREE_COLUMN_WIDTHS = (190, 172, 75)
_MESSAGE_STYLE = "color: #b00020"
_NOTICE_STYLE = "color: #7a4b00; background: #fff4e5; padding: 2px 4px"
#: The toolbar's buttons, in order ("" a separator): icons only, so none moves when a label changes.
TOOLBAR: tuple[str, ...] = (
    "undo",
    "redo",
    "",
    "new_wave",
    "delete",
    "move_up",
    "move_down",
    "move_to_wave",
    "",
)
TOOLBAR += ("toggle_optional", "add_to_wave", "add_approval", "add_wait")


class PlanEditorWidget(PlanEditorOperations, QWidget):
    """Edit one recovery plan: inventory, wave tree, problems, properties, undo stack and save."""

    save_requested = Signal(object, str)  # RecoveryPlan, comment
    dirty_changed = Signal(bool)
    plan_changed = Signal(object)  # RecoveryPlan, after every edit, undo and redo

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plan: RecoveryPlan | None = None
        self._inventory: Inventory | None = None
        self._parts: tuple[TargetInventory, ...] = ()
        self._problems: list[Problem] = []
        self._revision: PlanRevision | None = None
        self._stored_name = ""
        self._save_index = -1
        self._was_dirty = False
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._stack_changed)
        self.undo_stack.indexChanged.connect(self._stack_changed)

        self.model = PlanTreeModel(self)
        self.model.drop_requested.connect(self.handle_drop)
        self.model.rowsInserted.connect(self._expand_inserted)
        self.tree = QTreeView()
        self.tree.setObjectName("plan-tree")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.tree.setDropIndicatorShown(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        # "host · target" ends with what tells servers of two targets apart (s01-00255 · staging-01 and
        # s06-00255 · staging-06 both cut to "· staging…" at the end): elide the middle.
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        for column, width in enumerate(TREE_COLUMN_WIDTHS):
            self.tree.header().resizeSection(column, width)
        self.tree.selectionModel().currentChanged.connect(lambda *_: self._update_wave_panel())

        self.inventory_panel = InventoryPanelWidget()
        self.side_tabs = QTabWidget()
        self.side_tabs.setObjectName("editor-side-tabs")
        self.problems_list = QListWidget()
        self.problems_list.setObjectName("problems")
        self.problems_list.itemActivated.connect(self._jump_to_problem)
        self.plan_properties = PlanPropertiesWidget()
        self.wave_properties = WavePropertiesWidget()
        self._connect_properties()

        self.comment_edit = QLineEdit()
        self.comment_edit.setObjectName("save-comment")
        self.comment_edit.setPlaceholderText("What changed (saved with the revision)")
        self.save_button = QPushButton("Save")
        self.status_label = QLabel()
        self.status_label.setObjectName("editor-status")
        self.message_label = QLabel()
        self.message_label.setObjectName("editor-message")
        self.message_label.setWordWrap(True)

        self.toolbar = QToolBar()
        self.toolbar.setObjectName("editor-toolbar")
        undo = self.undo_stack.createUndoAction(self, "Undo")
        redo = self.undo_stack.createRedoAction(self, "Redo")
        self.editor_actions = self._create_actions(self, undo, redo)
        save = self.editor_actions["save"] = self._save_action()
        install_toolbar(self.toolbar, self.editor_actions, TOOLBAR)
        self.save_button.setToolTip(tooltip("Save the plan as a new revision", save))
        for key in ("move_to_wave", "toggle_optional", "move_up", "move_down", "delete"):
            self.tree.addAction(self.editor_actions[key])
        self.save_button.clicked.connect(save.trigger)
        self._layout()
        self._update_enabled()
        self._update_status()

    # ------------------------------------------------------------------------------- public API

    def plan(self) -> RecoveryPlan | None:
        return self._plan

    def problems(self) -> list[Problem]:
        return list(self._problems)

    def revision(self) -> PlanRevision | None:
        return self._revision

    def inventory(self) -> Inventory | None:
        """The inventory the plan is validated against (None before any was read)."""
        return self._inventory

    def stored_name(self) -> str:
        """The name the plan is stored under ("" for a plan never saved): a rename is saved as one."""
        return self._stored_name

    def is_dirty(self) -> bool:
        return self._plan is not None and (self._revision is None or not self.undo_stack.isClean())

    def message(self) -> str:
        return self.message_label.text()

    def load_plan(self, plan: RecoveryPlan | None, revision: PlanRevision | None = None) -> None:
        """Open a whole plan (the model resets once); the undo history starts afresh."""
        self._plan = plan
        self._revision = revision
        self._stored_name = revision.name if revision is not None else ""
        self._problems = self._validate(plan)
        self.undo_stack.clear()
        self.model.load_plan(plan, self._problems)
        self.tree.expandAll()
        self.inventory_panel.set_plan(plan)
        self.plan_properties.set_plan(plan)
        if plan is not None and plan.waves:
            self.tree.setCurrentIndex(self.model.index(0, 0))
        self._refresh_problems()
        self._update_wave_panel()
        self._show_message("")
        self._update_enabled()
        self._stack_changed()

    def new_plan(self, name: str) -> None:
        self.load_plan(RecoveryPlan(name=name, waves=(Wave("Wave 1"),)))

    def set_inventory(self, inventory: Inventory | None) -> None:
        """A newer inventory of the connected target (the other targets' parts stay as they were)."""
        parts = self._parts or (TargetInventory(CONNECTED_NAME, Target(), None, connected=True),)
        self.set_parts(tuple(replace(p, inventory=inventory) if p.connected else p for p in parts))

    def set_parts(self, parts: tuple[TargetInventory, ...]) -> None:
        """Every target's cached servers: the inventory lists them all, the plan is validated against the
        connected target's (``validate_plan`` checks only the servers of the inventory's own target)."""
        self._parts = parts
        connected = connected_part(parts)
        self._inventory = connected.inventory if connected is not None else None
        self.inventory_panel.set_parts(parts)
        self.inventory_panel.set_plan(self._plan)
        self.model.set_parts(parts)
        if self._plan is not None:
            self._problems = self._validate(self._plan)
            self.model.set_plan(self._plan, self._problems)
            self._refresh_problems()
            self._update_status()
            self._update_wave_panel()  # the servers a step may choose, and their hostnames

    def mark_saved(self, revision: PlanRevision) -> None:
        """The plan sent by the last ``save_requested`` is stored as ``revision``."""
        self._revision = revision
        self._stored_name = revision.name
        if self.undo_stack.index() == self._save_index:
            self.undo_stack.setClean()
            self.comment_edit.clear()
        self._stack_changed()

    def save(self) -> None:
        if self._plan is None:
            return
        self._save_index = self.undo_stack.index()
        self.save_requested.emit(self._plan, self.comment_edit.text().strip())

    def edit(self, text: str, change: Edit, *, select: Sequence[Ref] = (), merge_key: object = None) -> bool:
        """Apply ``change`` as one undoable step; False (and the reason shown) when it cannot be made."""
        if self._plan is None:
            return False
        try:
            if merge_key is None:
                command: PlanEditCommand = PlanEditCommand.build(self, text, self._plan, change, select)
            else:
                command = MergingEditCommand.build_merging(self, text, self._plan, change, merge_key, select)
        except PlanEditError as exc:
            self._show_message(f"{text}: {exc}")
            return False
        if command.after == command.before:
            return False
        self._show_message("")
        self.undo_stack.push(command)
        return True

    def apply_plan(self, plan: RecoveryPlan, select: Sequence[Ref] = ()) -> None:
        """Show an edited plan (the undo commands call this): rows change in place, never a reset."""
        self._plan = plan
        self._problems = self._validate(plan)
        self.model.set_plan(plan, self._problems)
        self.inventory_panel.set_plan(plan)
        self.plan_properties.set_plan(plan)
        if select:
            self.select_refs(select)
        self._refresh_problems()
        self._update_wave_panel()
        self._update_enabled()
        self.plan_changed.emit(plan)

    def select_refs(self, refs: Sequence[Ref]) -> None:
        """Select the rows of these waves, servers and groups, and make the first one current."""
        selection = QItemSelection()
        first = None
        for kind, key in refs:
            if kind == "wave":
                rows = [
                    self.model.index(r, 0)
                    for r in range(self.model.rowCount())
                    if self.model.key_of(self.model.index(r, 0)) == key
                ]
            else:
                rows = self.model.find(kind, key)
            for index in rows:
                if first is None:
                    first = index
                selection.select(index, index.siblingAtColumn(self.model.columnCount() - 1))
                if index.parent().isValid():
                    self.tree.expand(index.parent())
        model = self.tree.selectionModel()
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if first is not None:
            model.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.tree.scrollTo(first)

    # ---------------------------------------------------------------------------------- internals

    def _save_action(self) -> QAction:
        action = QAction("Save", self)
        action.setObjectName("save")
        action.setShortcut(QKeySequence.StandardKey.Save)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: self.save())
        self.addAction(action)
        return action

    def _layout(self) -> None:
        """Tree and problems in the middle; inventory and properties as tabs on the right.

        Side by side, the three needed about 1,150 pixels beside the plans list and clipped fields at
        1366x768; as tabs, the tree (the drop target) and either source stay whole from 1366x768 up.
        """
        problems_box = QWidget()
        problems_layout = QVBoxLayout(problems_box)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        problems_layout.addWidget(QLabel("<b>Problems</b> — activate one to select its row"))
        problems_layout.addWidget(self.problems_list)
        center = QSplitter(Qt.Orientation.Vertical)
        center.addWidget(self.tree)
        center.addWidget(problems_box)
        center.setStretchFactor(0, 4)
        center.setStretchFactor(1, 1)
        properties = QWidget()
        properties_layout = QVBoxLayout(properties)
        properties_layout.addWidget(self.plan_properties)
        properties_layout.addWidget(self.wave_properties)
        properties_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(properties)
        self.side_tabs.addTab(self.inventory_panel, "Inventory")
        self.side_tabs.addTab(scroll, "Plan and wave")
        splitter = QSplitter()
        splitter.addWidget(center)
        splitter.addWidget(self.side_tabs)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 410])
        self.side_tabs.setMinimumWidth(properties.minimumSizeHint().width() + 24)
        self.tree.setMinimumWidth(360)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.comment_edit, 1)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message_label)
        layout.addLayout(bottom)

    def _selection(self) -> tuple[list[int], list[EntryRef], list[EntryRef]]:
        """Selected (wave rows, server refs, group refs), in tree order."""
        waves: list[int] = []
        servers: list[EntryRef] = []
        groups: list[EntryRef] = []
        rows = self.tree.selectionModel().selectedRows(0)
        rows.sort(
            key=lambda i: (self.model.wave_row_of(i), -1 if self.model.kind_of(i) == "wave" else i.row())
        )
        for index in rows:
            kind = self.model.kind_of(index)
            if kind == "wave":
                waves.append(index.row())
            elif kind == "server":
                servers.append((self.model.wave_row_of(index), self.model.key_of(index)))
            elif kind == "group":
                groups.append((self.model.wave_row_of(index), self.model.key_of(index)))
        return waves, servers, groups

    def _current_wave(self) -> int:
        return self.model.wave_row_of(self.tree.currentIndex())

    def _validate(self, plan: RecoveryPlan | None) -> list[Problem]:
        return validate_plan(plan, self._inventory) if plan is not None else []

    def _refresh_problems(self) -> None:
        self.problems_list.clear()
        style = self.style()
        icons = {
            Severity.ERROR: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            Severity.WARNING: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
        }
        for problem in self._problems[:MAX_LISTED_PROBLEMS]:
            item = QListWidgetItem(icons[problem.severity], self.model.marks.problems_text([problem]))
            item.setData(Qt.ItemDataRole.UserRole, problem.path)
            self.problems_list.addItem(item)
        hidden = len(self._problems) - MAX_LISTED_PROBLEMS
        if hidden > 0:
            self.problems_list.addItem(f"... and {count(hidden, 'more problem')}")
        self._update_status()

    def _jump_to_problem(self, item: QListWidgetItem) -> None:
        index = self.model.index_for_path(str(item.data(Qt.ItemDataRole.UserRole) or ""))
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
            self.tree.setFocus()

    def _update_wave_panel(self) -> None:
        self.wave_properties.set_wave(self._plan, self._current_wave(), self._inventory)

    def _update_enabled(self) -> None:
        has_plan = self._plan is not None
        for key, action in self.editor_actions.items():
            if key not in ("undo", "redo"):
                action.setEnabled(has_plan)
        self.save_button.setEnabled(has_plan)
        self.comment_edit.setEnabled(has_plan)
        self.tree.setEnabled(has_plan)

    def _update_status(self) -> None:
        if self._plan is None:
            self.status_label.setText("No plan open")
            return
        parts_: list[str] = [self._plan.name]
        parts_.append(f"revision {self._revision.revision}" if self._revision else "never saved")
        errors = sum(1 for p in self._problems if p.severity is Severity.ERROR)
        warnings = len(self._problems) - errors
        parts_.append(
            f"{count(errors, 'error')}, {count(warnings, 'warning')}" if self._problems else "no problems"
        )
        not_ready = self.model.marks.not_ready_count()
        if not_ready:
            parts_.append(f"{count(not_ready, 'server')} not ready (marked)")
        if self.is_dirty():
            parts_.append("unsaved changes")
        self.status_label.setText(" · ".join(parts_))

    def _show_message(self, text: str) -> None:
        """A refusal or a hint: in red."""
        self.message_label.setStyleSheet(_MESSAGE_STYLE)
        self.message_label.setText(text)

    def _show_notice(self, text: str) -> None:
        """What an edit did besides the obvious (a server taken from another wave): not an error."""
        self.message_label.setStyleSheet(_NOTICE_STYLE)
        self.message_label.setText(text)

    def _hostnames(self) -> dict[str, str]:
        servers = self._inventory.servers if self._inventory is not None else ()
        return {server.source_server_id: server.hostname for server in servers if server.hostname}

    def _stack_changed(self, *_: object) -> None:
        try:
            dirty = self.is_dirty()
        except RuntimeError:  # the stack empties itself while the editor is being destroyed
            return
        self._update_status()
        if dirty != self._was_dirty:
            self._was_dirty = dirty
            self.dirty_changed.emit(dirty)

    def _expand_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            for row in range(first, last + 1):
                self.tree.expand(self.model.index(row, 0))
