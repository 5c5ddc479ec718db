"""Rows of name and value: an SSM document's parameters, a local script's environment variables.

A table rather than one text box of ``name=value`` lines, so a value may hold ``=``, spaces or quotes
without an escaping rule to learn. An empty row is ignored (it is where the next entry is typed); a value
without a name is a problem, shown by the form with OK disabled, never dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)


class KeyValueTableWidget(QWidget):
    """A two-column table with Add and Remove; ``repeat_keys``: a name may have several rows (values)."""

    changed = Signal()

    def __init__(
        self, key_title: str, value_title: str, *, repeat_keys: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._key_title = key_title
        self._repeat_keys = repeat_keys
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([key_title, value_title])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().resizeSection(0, 160)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(110)
        self.table.setMaximumHeight(150)
        self.table.itemChanged.connect(lambda _item: self.changed.emit())
        self.add_button = QPushButton("Add row")
        self.remove_button = QPushButton("Remove row")
        self.add_button.clicked.connect(self.add_row)
        self.remove_button.clicked.connect(self._remove_current)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def add_row(self, key: str = "", value: str = "") -> None:
        """A row at the end (typed into at once when added by the button)."""
        row = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(key))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        self.table.blockSignals(False)
        self.table.setCurrentCell(row, 0)
        self.changed.emit()

    def set_rows(self, rows: Sequence[tuple[str, str]]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self.table.blockSignals(False)
        for key, value in rows:
            self.add_row(key, value)

    def rows(self) -> list[tuple[str, str]]:
        """Every row that is not empty, names stripped (values kept as typed)."""
        found = []
        for row in range(self.table.rowCount()):
            key, value = (self._text(row, column) for column in (0, 1))
            if key.strip() or value:
                found.append((key.strip(), value))
        return found

    def problem(self) -> str:
        """Why the rows cannot be taken ("" when they can)."""
        seen: set[str] = set()
        for key, _value in self.rows():
            if not key:
                return f"a row has a value but no {self._key_title.lower()}"
            if key in seen and not self._repeat_keys:
                return f"{self._key_title} {key!r} is set twice"
            seen.add(key)
        return ""

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def _remove_current(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self.changed.emit()
