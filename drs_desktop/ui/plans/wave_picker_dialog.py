"""Pick a target wave from the keyboard: the keyboard path of every drag into or between waves.

Opened with ``open()`` (window-modal, never a nested ``exec()`` loop), it lists the waves plus "New
wave"; arrows and Enter choose, Escape cancels, and the choice leaves as ``wave_chosen``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)

NEW_WAVE = -1


class WavePickerDialog(QDialog):
    """A list of waves; ``wave_chosen(row)`` on accept, ``NEW_WAVE`` (-1) for a new wave at the end."""

    wave_chosen = Signal(int)

    def __init__(
        self, title: str, prompt: str, waves: Sequence[str], current: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("wave-picker")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.list = QListWidget()
        for row, name in enumerate(waves):
            item = QListWidgetItem(f"{row + 1}. {name}")
            item.setData(Qt.ItemDataRole.UserRole, row)
            self.list.addItem(item)
        new = QListWidgetItem("+ New wave")
        new.setData(Qt.ItemDataRole.UserRole, NEW_WAVE)
        self.list.addItem(new)
        self.list.setCurrentRow(current if 0 <= current < len(waves) else len(waves))
        self.list.itemActivated.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.list.setFocus()

    def chosen_row(self) -> int:
        item = self.list.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else NEW_WAVE

    def accept(self) -> None:
        self.wave_chosen.emit(self.chosen_row())
        super().accept()
