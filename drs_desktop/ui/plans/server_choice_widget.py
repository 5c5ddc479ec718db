"""Which of the wave's servers a step runs on: checkable rows, none checked meaning every server of the wave.

"None checked" is the default and the common case: the step follows the wave as servers are added to it.
A step that names a server the wave no longer has keeps it, checked and marked, so that opening and
accepting a form never drops a choice silently; plan validation reports it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

logger = logging.getLogger(__name__)


class ServerChoiceWidget(QWidget):
    """A checkable list of (server ID, label) with a hint line under it."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName("step-servers")
        self.list.setMinimumHeight(80)
        self.list.setMaximumHeight(130)
        self.list.itemChanged.connect(self._item_changed)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addWidget(self.hint)
        self._update_hint()

    def set_servers(self, servers: Sequence[tuple[str, str]], chosen: Sequence[str] = ()) -> None:
        """Offer ``servers`` ((ID, label) of the wave's servers), with ``chosen`` checked."""
        self.list.blockSignals(True)
        self.list.clear()
        offered = {server_id for server_id, _label in servers}
        rows = list(servers) + [(sid, f"{sid} (not in this wave)") for sid in chosen if sid not in offered]
        for server_id, label in rows:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, server_id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if server_id in chosen else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._update_hint()

    def chosen(self) -> tuple[str, ...]:
        """The checked servers' IDs, in the wave's order; () for every server of the wave."""
        return tuple(
            str(item.data(Qt.ItemDataRole.UserRole))
            for item in (self.list.item(row) for row in range(self.list.count()))
            if item.checkState() == Qt.CheckState.Checked
        )

    def set_checked(self, server_id: str, checked: bool = True) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == server_id:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _item_changed(self, _item: QListWidgetItem) -> None:
        self._update_hint()
        self.changed.emit()

    def _update_hint(self) -> None:
        count = len(self.chosen())
        if not self.list.count():
            self.hint.setText("The wave has no servers yet; the step runs on those it will have.")
        elif count:
            self.hint.setText(f"Runs on the {count} checked server{'' if count == 1 else 's'}.")
        else:
            self.hint.setText("None checked: runs on every server of the wave.")
