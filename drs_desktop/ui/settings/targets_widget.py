"""The Settings page's table of targets: the connected one first (from the AWS box, not editable here),
then the listed ones, with Add, Edit and Remove.

An edit goes through ``TargetDialog``, which checks the entry at its fields before it closes; the whole
new list is then handed to the settings pane (``targets_edited``), which stores it on its task thread and
shows the stored list back (``set_targets``). Until the store answers, the table shows what was asked,
marked as saving, and a failure shows the stored list again with the reason in the pane's status.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.settings.target_list import CONNECTED_NAME, reached_by
from drs_desktop.domain.targets import Target
from drs_desktop.ui.settings.target_dialog import TargetDialog
from drs_desktop.ui.target_badge import target_colour

__all__ = ["TargetsWidget"]

COLUMNS = ("Name", "Account", "Region", "Reached through")


class TargetsWidget(QWidget):
    """Targets table with Add / Edit / Remove; ``targets_edited`` carries the whole new list."""

    targets_edited = Signal(object)  # tuple[PlanTarget, ...]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings-targets")
        self._targets: tuple[PlanTarget, ...] = ()
        self._connected: Target | None = None
        self._dialog: TargetDialog | None = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("settings-targets-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.cellDoubleClicked.connect(lambda _row, _column: self.edit())
        self.add_button = QPushButton("Add…")
        self.add_button.setObjectName("settings-target-add")
        self.add_button.clicked.connect(self.add)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setObjectName("settings-target-edit")
        self.edit_button.clicked.connect(self.edit)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("settings-target-remove")
        self.remove_button.clicked.connect(self.remove)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.add_button, self.edit_button, self.remove_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._show()

    # ---------------------------------------------------------------------------------- content

    def set_targets(self, targets: tuple[PlanTarget, ...]) -> None:
        """The stored list (after a load or a save)."""
        self._targets = targets
        self._show()

    def set_connected(self, target: Target | None) -> None:
        """The connected target, shown first (where the application is now)."""
        self._connected = target
        self._show()

    def targets(self) -> tuple[PlanTarget, ...]:
        return self._targets

    def dialog(self) -> TargetDialog | None:
        return self._dialog

    def texts(self) -> list[list[str]]:
        """The table's cells, row by row (for tests)."""
        cells = []
        for row in range(self.table.rowCount()):
            items = (self.table.item(row, column) for column in range(len(COLUMNS)))
            cells.append([item.text() if item is not None else "" for item in items])
        return cells

    # ---------------------------------------------------------------------------------- actions

    def add(self) -> TargetDialog:
        return self._open(TargetDialog(self._targets, None, self))

    def edit(self) -> TargetDialog | None:
        index = self._selected()
        if index is None:
            return None
        return self._open(TargetDialog(self._targets, index, self))

    def remove(self) -> None:
        index = self._selected()
        if index is not None:
            self.targets_edited.emit(self._targets[:index] + self._targets[index + 1 :])

    def select(self, index: int) -> None:
        """Select listed target ``index`` (the row under the connected one)."""
        self.table.selectRow(index + 1)

    # ---------------------------------------------------------------------------------- internals

    def _open(self, dialog: TargetDialog) -> TargetDialog:
        self._dialog = dialog
        dialog.accepted.connect(lambda: self.targets_edited.emit(dialog.targets()))
        dialog.finished.connect(self._dialog_closed)
        dialog.open()
        return dialog

    def _dialog_closed(self, _result: int) -> None:
        dialog, self._dialog = self._dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _selected(self) -> int | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        row = min(rows) if rows else 0
        return row - 1 if row >= 1 else None

    def _show(self) -> None:
        selected = self._selected()
        self.table.setRowCount(1 + len(self._targets))
        connected = self._connected
        if connected is None:
            first = [CONNECTED_NAME, "", "", "set in the AWS box above"]
        elif connected.demo:
            first = [
                CONNECTED_NAME,
                connected.account or "?",
                connected.region,
                "the built-in simulator (demo)",
            ]
        else:
            how = f"profile {connected.profile}" if connected.profile else "the default profile"
            first = [CONNECTED_NAME, connected.account or "?", connected.region, f"{how} (the AWS box above)"]
        self._row(0, first, connected, editable=False)
        for index, target in enumerate(self._targets, start=1):
            badge = Target(account=target.account, region=target.region, profile=target.profile)
            self._row(
                index, [target.name, target.account, target.region, reached_by(target)], badge, editable=True
            )
        if selected is not None and selected < len(self._targets):
            self.select(selected)
        self._update_buttons()

    def _row(self, row: int, texts: list[str], target: Target | None, *, editable: bool) -> None:
        for column, text in enumerate(texts):
            item = QTableWidgetItem(text)
            if not editable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
                item.setForeground(QBrush(QColor("#555555")))
                item.setToolTip("The connected target: change it in the AWS box above")
            if column == 0 and target is not None:
                item.setData(Qt.ItemDataRole.DecorationRole, target_colour(target))
            self.table.setItem(row, column, item)

    def _update_buttons(self) -> None:
        chosen = self._selected() is not None
        self.edit_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)
