"""The cached inventory as a checklist: the explicit members of a protection group.

Checking a row adds the server to the group, unchecking removes it. A member the inventory does not
know (a server since removed from DRS, or a plan file typed by hand) is listed first, checked, so the
operator can see it and take it out. A ``QSortFilterProxyModel`` over this model filters by any column.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.ui.flat_table_model import FlatTableModel

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex

PICK_COLUMNS = ("Server ID", "Hostname", "Tags", "Replication")
SERVER_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class ServerPickModel(FlatTableModel):
    """Inventory servers with a check box each; ``checked_ids()`` is the group's member list."""

    columns = PICK_COLUMNS

    checked_changed = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._ids: list[str] = []
        self._servers: dict[str, SourceServer] = {}
        self._checked: list[str] = []  # in the order the operator picked them

    def set_inventory(self, inventory: Inventory | None) -> None:
        self.beginResetModel()
        self._servers = inventory.by_id() if inventory is not None else {}
        self._ids = self._wanted_ids()
        self.endResetModel()

    def set_checked(self, server_ids: Iterable[str]) -> None:
        """The group's members (a new group: none)."""
        self.beginResetModel()
        self._checked = list(dict.fromkeys(server_ids))
        self._ids = self._wanted_ids()
        self.endResetModel()
        self.checked_changed.emit()

    def checked_ids(self) -> tuple[str, ...]:
        return tuple(self._checked)

    def set_server_checked(self, server_id: str, checked: bool) -> bool:
        row = self._ids.index(server_id) if server_id in self._ids else -1
        if row < 0:
            return False
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        return self.setData(self.index(row, 0), state.value, Qt.ItemDataRole.CheckStateRole)

    # ----------------------------------------------------------------------- QAbstractItemModel

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def _row_count(self) -> int:
        return len(self._ids)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        server_id = self._ids[index.row()]
        server = self._servers.get(server_id)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(server_id, server, column)
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            checked = server_id in self._checked
            return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        if role == SERVER_ID_ROLE:
            return server_id
        if role == Qt.ItemDataRole.ToolTipRole and server is None:
            return f"{server_id} is a member but not in the cached inventory"
        return None

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or index.column() != 0:
            return False
        if not 0 <= index.row() < len(self._ids):
            return False
        server_id = self._ids[index.row()]
        checked = _is_checked(value)
        if checked == (server_id in self._checked):
            return True
        if checked:
            self._checked.append(server_id)
        else:
            self._checked.remove(server_id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checked_changed.emit()
        return True

    # ----------------------------------------------------------------------------------- helpers

    def _wanted_ids(self) -> list[str]:
        unknown = [sid for sid in self._checked if sid not in self._servers]
        return [*unknown, *self._servers]


def _is_checked(value: Any) -> bool:
    if isinstance(value, Qt.CheckState):
        return value == Qt.CheckState.Checked
    try:
        return int(value) == Qt.CheckState.Checked.value
    except (TypeError, ValueError):
        return False


def _text(server_id: str, server: SourceServer | None, column: int) -> str:
    if column == 0:
        return server_id
    if server is None:
        return "(not in the inventory)" if column == 1 else ""
    if column == 1:
        return server.hostname
    if column == 2:
        return ", ".join(f"{k}={v}" for k, v in sorted(server.tags.items()))
    if column == 3:
        return server.replication_state
    return ""
