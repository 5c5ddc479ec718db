"""What can be dragged into a plan: the plan's protection groups, then every target's cached servers.

Every target's servers are listed (the connected one first, then the settings' list, as the Servers pane
shows them), each row naming its target (the "Target" column, and ``TARGET_ROLE`` for the panel's filter
by target); a drag carries each server's target, so a drop adds it with its target (``plan.edit_targets``).
The same server ID in two targets is two rows: DRS IDs are per account.

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
from drs_desktop.domain.inventory_targets import TargetInventory, connected_part, part_of_target
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.targets import entry_target
from drs_desktop.domain.plan.validation import resolve_wave_by_target, resolve_wave_servers
from drs_desktop.domain.settings.target_list import CONNECTED_NAME
from drs_desktop.domain.targets import Target
from drs_desktop.ui.flat_table_model import FlatTableModel
from drs_desktop.ui.model_sync import sync_rows
from drs_desktop.ui.plans import plan_mime
from drs_desktop.ui.plans.plan_mime import DragPayload
from drs_desktop.ui.plans.plan_model import KEY_ROLE, KIND_ROLE

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex
RowKey = tuple[str, str, str]  # ("group", name, "") | ("server", ID, the target's name in the inventory)

COLUMNS = ("Name / ID", "Target", "Hostname", "OS", "Replication", "Tags", "Wave")
TARGET_COLUMN = 1
WAVE_COLUMN = 6
PLACED_ROLE = Qt.ItemDataRole.UserRole + 10  # bool: already in a wave of the plan
TARGET_ROLE = Qt.ItemDataRole.UserRole + 11  # str: a server's target ("" for a group)


class InventoryModel(FlatTableModel):
    """Protection groups and source servers, draggable into the plan tree."""

    columns = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[RowKey] = []
        self._parts: tuple[TargetInventory, ...] = ()
        self._servers: dict[tuple[str, str], SourceServer] = {}  # (target, ID)
        self._server_order: list[tuple[str, str]] = []
        self._plan: RecoveryPlan | None = None
        self._placed: dict[RowKey, str] = {}

    def set_inventory(self, inventory: Inventory | None) -> None:
        """Only the connected target's servers (a pane that knows no other target)."""
        self.set_parts((TargetInventory(CONNECTED_NAME, _NO_BADGE, inventory, connected=True),))

    def set_parts(self, parts: tuple[TargetInventory, ...]) -> None:
        """Every target's cached servers, each row named by its target."""
        self.beginResetModel()
        self._parts = parts
        self._servers = {
            (part.name, server.source_server_id): server
            for part in parts
            for server in (part.inventory.servers if part.inventory is not None else ())
        }
        self._server_order = list(self._servers)
        self._rows = self._wanted_rows()
        self._placed = self._placement()
        self.endResetModel()

    def parts(self) -> tuple[TargetInventory, ...]:
        return self._parts

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

    def row_of(self, kind: str, key: str, target: str | None = None) -> int:
        """The row of a group, or of a server (in ``target``; the first target listing it when None)."""
        for row, (row_kind, row_key, row_target) in enumerate(self._rows):
            if row_kind == kind and row_key == key and (target is None or row_target == target):
                return row
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
        row_key = self._rows[index.row()]
        kind, key, target = row_key
        if role == KIND_ROLE:
            return kind
        if role == KEY_ROLE:
            return key
        if role == TARGET_ROLE:
            return target
        if role == PLACED_ROLE:
            return row_key in self._placed
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == WAVE_COLUMN:
                return self._placed.get(row_key, "")
            if index.column() == TARGET_COLUMN:
                return target if kind == "server" else self._group_target(key)
            if kind == "group":
                return self._group_text(key, index.column())
            return self._server_text(self._servers.get((target, key)), key, index.column())
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in (0, 1, 2):
            where = self._placed.get(row_key)
            of = f" of target {target!r}" if len(self._parts) > 1 else ""
            what = "protection group" if kind == "group" else f"source server{of}"
            text = f"{what} {key}" + (f", in wave {where!r}" if where else ", not in the plan yet")
            server = self._servers.get((target, key)) if kind == "server" else None
            return f"{text}\n{server.extended_from()}" if server is not None and server.is_extended else text
        return None

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return [plan_mime.MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes if index.isValid()})
        keys = [self._rows[row] for row in rows]
        home = {part.name for part in self._parts if part.connected}
        servers = [(key, "" if target in home else target) for kind, key, target in keys if kind == "server"]
        return plan_mime.encode(
            DragPayload(
                "inventory",
                servers=tuple((-1, key) for key, _ in servers),
                groups=tuple((-1, key) for kind, key, _ in keys if kind == "group"),
                server_targets=tuple(target for _, target in servers),
            )
        )

    # ---------------------------------------------------------------------------------- internals

    def _placement(self) -> dict[RowKey, str]:
        """Where each group and server sits in the plan (a server of the target the plan puts it in);
        servers brought by a group say so."""
        placed: dict[RowKey, str] = {}
        plan = self._plan
        if plan is None:
            return placed
        connected = connected_part(self._parts)
        home = connected.name if connected is not None else CONNECTED_NAME
        names = {t.name: part.name for t in plan.targets if (part := part_of_target(self._parts, t))}
        inventories = {
            t.name: part.inventory
            for t in plan.targets
            if (part := part_of_target(self._parts, t)) is not None and part.inventory is not None
        }
        for index, wave in enumerate(plan.waves):
            for name in wave.groups:
                placed.setdefault(("group", name, ""), wave.name)
            for server_id in wave.servers:
                where = names.get(entry_target(plan, wave, server_id) or "", "") if plan.targets else home
                placed.setdefault(("server", server_id, where), wave.name)
            if not wave.groups:
                continue
            if plan.targets:
                members = [
                    (sid, names.get(t, "")) for sid, t in resolve_wave_by_target(plan, index, inventories)
                ]
            else:
                inventory = connected.inventory if connected is not None else None
                members = [(sid, home) for sid in resolve_wave_servers(plan, index, inventory)]
            for server_id, where in members:
                placed.setdefault(("server", server_id, where), f"{wave.name} (group)")
        return placed

    def _wanted_rows(self) -> list[RowKey]:
        groups = [("group", group.name, "") for group in self._plan.protection_groups] if self._plan else []
        servers = [("server", sid, target) for target, sid in self._server_order]
        return list(dict.fromkeys([*groups, *servers]))

    def _group_target(self, name: str) -> str:
        group = self._plan.group(name) if self._plan is not None else None
        if group is None or self._plan is None or not self._plan.targets:
            return ""
        return group.target or (self._plan.targets[0].name if len(self._plan.targets) == 1 else "")

    def _group_text(self, name: str, column: int) -> str:
        group = self._plan.group(name) if self._plan is not None else None
        if column == 0:
            return name
        if group is None:
            return ""
        if column == 2:
            count = len(group.server_ids)
            return (
                "tag selector" if group.tags is not None else f"group of {count} server{'s' * (count != 1)}"
            )
        if column == 5 and group.tags is not None:
            return ", ".join(f"{k}={v}" for k, v in group.tags.items())
        return ""

    def _server_text(self, server: SourceServer | None, server_id: str, column: int) -> str:
        if column == 0:
            return server_id
        if server is None:
            return ""
        if column == 2:
            return server.hostname_and_origin()
        if column == 3:
            return server.os
        if column == 4:
            return server.replication_state
        if column == 5:
            return ", ".join(f"{k}={v}" for k, v in sorted(server.tags.items()))
        return ""


_NO_BADGE = Target()


class InventoryFilterModel(QSortFilterProxyModel):
    """Filters by text in any column (case-insensitive) and by target, optionally hiding what the plan
    already holds. Groups are listed whatever the target chosen (a group names its own target)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._unplaced_only = False
        self._target = ""
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_unplaced_only(self, enabled: bool) -> None:
        if enabled != self._unplaced_only:
            self.beginFilterChange()
            self._unplaced_only = enabled
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_target(self, target: str) -> None:
        """Only the servers of ``target`` ("" every target)."""
        if target != self._target:
            self.beginFilterChange()
            self._target = target
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        source = self.sourceModel()
        index = source.index(source_row, 0, source_parent)
        if self._unplaced_only and source.data(index, PLACED_ROLE):
            return False
        if self._target and source.data(index, TARGET_ROLE) not in ("", self._target):
            return False
        return super().filterAcceptsRow(source_row, source_parent)
