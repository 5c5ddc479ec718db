"""What can be dragged into a plan: the plan's protection groups, then the cached inventory's servers.

A flat table, so that one ``QSortFilterProxyModel`` sorts and filters it by any column (hostname, ID,
OS, replication state, tags). The "Wave" column says where a server or group already sits in the plan
being edited, because dropping it elsewhere moves it (a server belongs to one wave). Rows are updated
in place (``ui.model_sync``) when the plan's groups change; only a new inventory resets the model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import resolve_wave_servers
from drs_desktop.ui.flat_table_model import FlatTableModel
from drs_desktop.ui.model_sync import sync_rows
from drs_desktop.ui.plans import plan_mime
from drs_desktop.ui.plans.plan_mime import DragPayload
from drs_desktop.ui.plans.plan_model import KEY_ROLE, KIND_ROLE

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex
RowKey = tuple[str, str]  # ("group", name) | ("server", ID)

COLUMNS = ("Name / ID", "Hostname", "OS", "Replication", "Tags", "Wave")
WAVE_COLUMN = 5
PLACED_ROLE = Qt.ItemDataRole.UserRole + 10  # bool: already in a wave of the plan


class InventoryModel(FlatTableModel):
    """Protection groups and source servers, draggable into the plan tree."""

    columns = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[RowKey] = []
        self._inventory: Inventory | None = None
        self._servers: dict[str, SourceServer] = {}
        self._server_order: list[str] = []
        self._plan: RecoveryPlan | None = None
        self._placed: dict[RowKey, str] = {}

    def set_inventory(self, inventory: Inventory | None) -> None:
        self.beginResetModel()
        servers = inventory.servers if inventory is not None else ()
        self._inventory = inventory
        self._servers = {server.source_server_id: server for server in servers}
        self._server_order = list(self._servers)
        self._rows = self._wanted_rows()
        self._placed = self._placement()
        self.endResetModel()

    def set_plan(self, plan: RecoveryPlan | None) -> None:
        """Follow the edited plan: its groups (rows) and where each server and group is placed."""
        self._plan = plan
        sync_rows(self, QModelIndex(), self._rows, self._wanted_rows())
        placed = self._placement()
        if placed != self._placed:
            self._placed = placed
            if self._rows:
                last = len(self._rows) - 1
                self.dataChanged.emit(self.index(0, WAVE_COLUMN), self.index(last, WAVE_COLUMN))

    def row_of(self, kind: str, key: str) -> int:
        try:
            return self._rows.index((kind, key))
        except ValueError:
            return -1

    # ------------------------------------------------------------------------- QAbstractItemModel

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def _row_count(self) -> int:
        return len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        kind, key = self._rows[index.row()]
        if role == KIND_ROLE:
            return kind
        if role == KEY_ROLE:
            return key
        if role == PLACED_ROLE:
            return (kind, key) in self._placed
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == WAVE_COLUMN:
                return self._placed.get((kind, key), "")
            return self._group_text(key, index.column()) if kind == "group" else self._server_text(key, index)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in (0, 1):
            where = self._placed.get((kind, key))
            what = "protection group" if kind == "group" else "source server"
            text = f"{what} {key}" + (f", in wave {where!r}" if where else ", not in the plan yet")
            server = self._servers.get(key) if kind == "server" else None
            return f"{text}\n{server.extended_from()}" if server is not None and server.is_extended else text
        return None

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return [plan_mime.MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes if index.isValid()})
        keys = [self._rows[row] for row in rows]
        return plan_mime.encode(
            DragPayload(
                "inventory",
                servers=tuple((-1, key) for kind, key in keys if kind == "server"),
                groups=tuple((-1, key) for kind, key in keys if kind == "group"),
            )
        )

    # ---------------------------------------------------------------------------------- internals

    def _placement(self) -> dict[RowKey, str]:
        """Where each group and server sits in the plan; servers brought by a group say so."""
        placed: dict[RowKey, str] = {}
        plan = self._plan
        for index, wave in enumerate(plan.waves if plan is not None else ()):
            for name in wave.groups:
                placed.setdefault(("group", name), wave.name)
            for server_id in wave.servers:
                placed.setdefault(("server", server_id), wave.name)
            if wave.groups and plan is not None:
                for server_id in resolve_wave_servers(plan, index, self._inventory):
                    placed.setdefault(("server", server_id), f"{wave.name} (group)")
        return placed

    def _wanted_rows(self) -> list[RowKey]:
        groups = [("group", group.name) for group in self._plan.protection_groups] if self._plan else []
        return list(dict.fromkeys([*groups, *(("server", sid) for sid in self._server_order)]))

    def _group_text(self, name: str, column: int) -> str:
        group = self._plan.group(name) if self._plan is not None else None
        if column == 0:
            return name
        if group is None:
            return ""
        if column == 1:
            count = len(group.server_ids)
            return (
                "tag selector" if group.tags is not None else f"group of {count} server{'s' * (count != 1)}"
            )
        if column == 4 and group.tags is not None:
            return ", ".join(f"{k}={v}" for k, v in group.tags.items())
        return ""

    def _server_text(self, server_id: str, index: AnyIndex) -> str:
        server = self._servers.get(server_id)
        column = index.column()
        if column == 0:
            return server_id
        if server is None:
            return ""
        if column == 1:
            return server.hostname_and_origin()
        if column == 2:
            return server.os
        if column == 3:
            return server.replication_state
        if column == 4:
            return ", ".join(f"{k}={v}" for k, v in sorted(server.tags.items()))
        return ""


class InventoryFilterModel(QSortFilterProxyModel):
    """Filters by text in any column (case-insensitive), optionally hiding what the plan already holds."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._unplaced_only = False
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_unplaced_only(self, enabled: bool) -> None:
        if enabled != self._unplaced_only:
            self.beginFilterChange()
            self._unplaced_only = enabled
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if self._unplaced_only:
            source = self.sourceModel()
            if source.data(source.index(source_row, 0, source_parent), PLACED_ROLE):
                return False
        return super().filterAcceptsRow(source_row, source_parent)
