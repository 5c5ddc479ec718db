"""The plan as a tree: waves as top-level rows, each wave's protection groups and servers as its children.

The model never edits the plan. A drop emits ``drop_requested`` with what was dropped and where; the
editor turns it into an undoable ``domain.plan.edit`` change and hands the resulting plan back through
``set_plan``, which updates the rows with fine-grained remove/move/insert/dataChanged signals (see
``ui.model_sync``) so that selection, expansion and scroll survive every edit and every undo. Only
``load_plan`` (a whole plan opened) resets the model; it is what the 200 ms budget for opening a
1,000-server plan is spent on, so it builds nothing per row beyond one key tuple.

Validation problems arrive with the plan; each is mapped from its field path (``waves[2].servers[5]``)
to the offending row, which shows an error or warning icon with the problem's text as its tooltip; a
protection group's problem (``protection_groups[1].target``) shows on every row of that group.

A plan that declares targets (plan format 2) looks each server up in its own target's cached inventory
(``set_parts``: every target's) and names the target beside the hostname: "web-01 · staging-01".
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyle

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.inventory_targets import TargetInventory, connected_part
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan, Wave
from drs_desktop.domain.plan.targets import entry_target, plan_inventories
from drs_desktop.domain.plan.validation import Problem, Severity
from drs_desktop.ui.model_sync import sync_rows
from drs_desktop.ui.plans import plan_mime
from drs_desktop.ui.plans.plan_mime import DragPayload
from drs_desktop.ui.plans.plan_problem_spots import map_problems, spots_of
from drs_desktop.ui.plans.plan_row_marks import RowMarks

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex
EntryKey = tuple[str, str, int]  # ("group" | "server", name or ID, occurrence in the wave)

COLUMNS = ("Wave / server", "Hostname", "Impact", "State")
KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # "wave", "group" or "server"
KEY_ROLE = Qt.ItemDataRole.UserRole + 2  # wave name, group name or server ID
WAVE_ROLE = Qt.ItemDataRole.UserRole + 3  # row of the wave (the entry's wave for entries)
PROBLEMS_ROLE = Qt.ItemDataRole.UserRole + 4  # tuple[Problem, ...] of this row

_COLUMN_COUNT = len(COLUMNS)
_ROOT_FLAGS = Qt.ItemFlag.ItemIsDropEnabled
_ENTRY_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
_WAVE_FLAGS = _ENTRY_FLAGS | Qt.ItemFlag.ItemIsDropEnabled


@dataclass(frozen=True)
class DropRequest:
    """A drop the editor should turn into an edit.

    Entries (``payload.servers``/``groups``) go into wave ``wave`` at entry ``row`` (None: the end), or,
    with ``wave`` -1, into a new wave inserted at ``row``. Waves (``payload.waves``) move before ``row``.
    """

    payload: DragPayload
    wave: int
    row: int | None


@dataclass(eq=False)
class _WaveNode:
    key: int  # stable while the wave lives: children carry it as their internal id
    wave: Wave
    entries: list[EntryKey] = field(default_factory=list)


def entry_keys(wave: Wave) -> list[EntryKey]:
    """The children of a wave: groups then servers, numbered per repeat so that keys stay unique."""
    groups = [("group", name, 0) for name in wave.groups]
    servers = [("server", sid, 0) for sid in wave.servers]
    keys = groups + servers
    if len(set(wave.groups)) == len(wave.groups) and len(set(wave.servers)) == len(wave.servers):
        return keys
    seen: Counter[tuple[str, str]] = Counter()
    numbered = []
    for kind, name, _ in keys:
        numbered.append((kind, name, seen[(kind, name)]))
        seen[(kind, name)] += 1
    return numbered


class PlanTreeModel(QAbstractItemModel):
    """Waves and their entries, with validation and inventory details; drops become requests."""

    drop_requested = Signal(object)  # DropRequest

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._plan: RecoveryPlan | None = None
        self._waves: list[_WaveNode] = []
        self._by_key: dict[int, _WaveNode] = {}
        self._next_key = 1
        self._servers: dict[str, SourceServer] | None = None
        self._inventory: Inventory | None = None
        self._parts: tuple[TargetInventory, ...] = ()
        self._by_target: dict[str, dict[str, SourceServer]] = {}  # plan target name -> its servers
        self._inventories: dict[str, Inventory] = {}
        self._mapped_targets: tuple[PlanTarget, ...] = ()
        self.marks = RowMarks()  # counts through groups, readiness, problems in the operator's words
        self._problems: dict[tuple[int, int], tuple[Problem, ...]] = {}
        self._icons: dict[Severity, QIcon] = {}

    # ------------------------------------------------------------------------------- plan updates

    def plan(self) -> RecoveryPlan | None:
        return self._plan

    def load_plan(self, plan: RecoveryPlan | None, problems: Sequence[Problem] = ()) -> None:
        """Show a whole (other) plan: one reset."""
        self.beginResetModel()
        self._plan = plan
        self._waves = [self._new_node(wave) for wave in plan.waves] if plan is not None else []
        self._by_key = {node.key: node for node in self._waves}
        self._problems = map_problems(plan, problems)
        self._targets_changed(plan)
        self.endResetModel()

    def set_plan(self, plan: RecoveryPlan, problems: Sequence[Problem] = ()) -> None:
        """Show an edited version of the current plan with the fewest row changes."""
        if self._plan is None:
            self.load_plan(plan, problems)
            return
        old_problems = self._problems
        old_rpo, old_groups = self._plan.rpo_minutes, self._plan.protection_groups
        old_targets = self._plan.targets
        self._plan = plan
        self._targets_changed(plan)
        targets = self._match_waves(plan.waves)
        old_waves = {node.key: node.wave for node in self._waves}
        self._by_key.update({node.key: node for node in targets})  # new waves answer from their insert on
        sync_rows(self, QModelIndex(), self._waves, targets)
        self._by_key = {node.key: node for node in self._waves}
        for row, (node, wave) in enumerate(zip(self._waves, plan.waves, strict=True)):
            before = old_waves.get(node.key)
            if before is None:
                continue  # inserted just now, with its entries
            parent = self.index(row, 0)
            if before.groups != wave.groups or before.servers != wave.servers:
                sync_rows(self, parent, node.entries, entry_keys(wave))
            node.wave = wave
            plan_wide = (old_rpo, old_groups, old_targets) != (
                plan.rpo_minutes,
                plan.protection_groups,
                plan.targets,
            )
            if before != wave or plan_wide:
                self._row_changed(QModelIndex(), row)  # counts and readiness follow groups and the RPO
                if node.entries and (
                    plan_wide
                    or before.optional != wave.optional
                    or before.target != wave.target
                    or before.server_targets != wave.server_targets
                ):
                    self._rows_changed(parent, 0, len(node.entries) - 1)
        self._problems = map_problems(plan, problems)
        for spot in set(old_problems) | set(self._problems):
            if old_problems.get(spot) != self._problems.get(spot):
                self._problem_changed(*spot)

    def set_inventory(self, inventory: Inventory | None) -> None:
        """Hostnames and replication states come from the cached inventory (the connected target's)."""
        self._servers = inventory.by_id() if inventory is not None else None
        self._inventory = inventory
        self._targets_changed(self._plan, force=True)
        if self._waves:
            self._rows_changed(QModelIndex(), 0, len(self._waves) - 1)  # server counts and readiness
        for row, node in enumerate(self._waves):
            if node.entries:
                self._rows_changed(self.index(row, 0), 0, len(node.entries) - 1)

    def set_parts(self, parts: tuple[TargetInventory, ...]) -> None:
        """Every target's cached servers: the connected one's for a plan without targets, each declared
        target's (matched by account and Region) for a plan that declares them."""
        self._parts = parts
        connected = connected_part(parts)
        self.set_inventory(connected.inventory if connected is not None else None)

    def _targets_changed(self, plan: RecoveryPlan | None, *, force: bool = False) -> None:
        """Each declared target's servers, looked up again only when the targets or the parts change."""
        targets = plan.targets if plan is not None else ()
        if force or targets != self._mapped_targets:
            self._mapped_targets = targets
            self._inventories = plan_inventories(plan, self._parts)
            self._by_target = {name: inventory.by_id() for name, inventory in self._inventories.items()}
        self.marks.update(plan, self._inventory, self._inventories)

    # ------------------------------------------------------------------------------------ lookups

    def wave_index(self, row: int, column: int = 0) -> QModelIndex:
        return self.index(row, column)

    def find(self, kind: str, key: str) -> list[QModelIndex]:
        """Every row of a server or group, in any wave."""
        return [
            self.index(row, 0, self.index(wave_row, 0))
            for wave_row, node in enumerate(self._waves)
            for row, (entry_kind, name, _) in enumerate(node.entries)
            if entry_kind == kind and name == key
        ]

    def kind_of(self, index: AnyIndex) -> str:
        if not index.isValid():
            return ""
        return "wave" if index.internalId() == 0 else self._entry(index)[0]

    def wave_row_of(self, index: AnyIndex) -> int:
        if not index.isValid():
            return -1
        return index.row() if index.internalId() == 0 else self._waves.index(self._by_key[index.internalId()])

    def key_of(self, index: AnyIndex) -> str:
        if not index.isValid():
            return ""
        if index.internalId() == 0:
            return self._waves[index.row()].wave.name
        return self._entry(index)[1]

    def problems_at(self, index: AnyIndex) -> tuple[Problem, ...]:
        if not index.isValid():
            return ()
        entry_row = -1 if index.internalId() == 0 else index.row()
        return self._problems.get((self.wave_row_of(index), entry_row), ())

    def index_for_path(self, path: str) -> QModelIndex:
        """The row a validation problem's field path points at, or an invalid index (plan-level)."""
        spots = spots_of(self._plan, path)
        if not spots:
            return QModelIndex()
        wave_row, entry_row = spots[0]
        parent = self.index(wave_row, 0)
        return parent if entry_row < 0 else self.index(entry_row, 0, parent)

    # ------------------------------------------------------------------------- QAbstractItemModel

    # These are called thousands of times per edit by the views: plain int checks, no enum arithmetic.

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if row < 0 or not 0 <= column < _COLUMN_COUNT:
            return QModelIndex()
        if not parent.isValid():
            if row < len(self._waves):
                return self.createIndex(row, column, 0)
            return QModelIndex()
        if parent.internalId() == 0 and parent.column() == 0:
            node = self._waves[parent.row()]
            if row < len(node.entries):
                return self.createIndex(row, column, node.key)
        return QModelIndex()

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        key = index.internalId()
        if key == 0:
            return QModelIndex()
        node = self._by_key.get(key)
        if node is None:
            return QModelIndex()
        return self.createIndex(self._waves.index(node), 0, 0)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._waves)
        if parent.column() != 0 or parent.internalId() != 0:
            return 0
        return len(self._waves[parent.row()].entries)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return _ROOT_FLAGS  # between waves: reorder, or a new wave
        return _WAVE_FLAGS if index.internalId() == 0 else _ENTRY_FLAGS  # onto a wave: append to it

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() > 0:  # a narrow column's whole text
            return self.data(index, Qt.ItemDataRole.DisplayRole) or None
        if index.internalId() == 0:
            return self._wave_data(index, self._waves[index.row()].wave, role)
        node = self._by_key[index.internalId()]
        return self._entry_data(index, node.wave, node.entries[index.row()], role)

    # ------------------------------------------------------------------------------ drag and drop

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [plan_mime.MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({(self.wave_row_of(i), -1 if i.internalId() == 0 else i.row()) for i in indexes})
        waves = tuple(dict.fromkeys(wave for wave, entry in rows if entry < 0))
        if waves:
            return plan_mime.encode(DragPayload("plan", waves=waves))
        servers: list[tuple[int, str]] = []
        groups: list[tuple[int, str]] = []
        for wave, entry in rows:
            kind, key, _ = self._waves[wave].entries[entry]
            (servers if kind == "server" else groups).append((wave, key))
        return plan_mime.encode(
            DragPayload("plan", servers=tuple(dict.fromkeys(servers)), groups=tuple(dict.fromkeys(groups)))
        )

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex
    ) -> bool:
        return self._drop_request(data, action, row, parent) is not None

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex
    ) -> bool:
        request = self._drop_request(data, action, row, parent)
        if request is None:
            return False
        self.drop_requested.emit(request)
        return True

    def _drop_request(
        self, data: QMimeData, action: Qt.DropAction, row: int, parent: AnyIndex
    ) -> DropRequest | None:
        if self._plan is None or action not in (Qt.DropAction.MoveAction, Qt.DropAction.CopyAction):
            return None
        payload = plan_mime.decode(data)
        if payload is None or payload.is_empty:
            return None
        count = len(self._waves)
        if payload.waves:
            if payload.origin != "plan" or any(not 0 <= w < count for w in payload.waves):
                return None
            if not parent.isValid():
                return DropRequest(payload, -1, count if row < 0 else row)
            if parent.internalId() != 0:
                return None
            target = parent.row() + (1 if min(payload.waves) < parent.row() else 0)
            return DropRequest(payload, -1, target)
        if payload.origin == "plan" and any(
            not 0 <= w < count for w, _ in (*payload.servers, *payload.groups)
        ):
            return None
        if not parent.isValid():
            return DropRequest(payload, -1, count if row < 0 else row)  # a new wave there
        wave_row = self.wave_row_of(parent)
        if parent.internalId() != 0:
            return DropRequest(payload, wave_row, parent.row())
        return DropRequest(payload, wave_row, None if row < 0 else row)

    # ---------------------------------------------------------------------------------- internals

    def _new_node(self, wave: Wave) -> _WaveNode:
        node = _WaveNode(self._next_key, wave, entry_keys(wave))
        self._next_key += 1
        return node

    def _match_waves(self, waves: Sequence[Wave]) -> list[_WaveNode]:
        """The node for each new wave: the old wave of that name, else an unmatched old one (a rename)."""
        by_name: dict[str, list[_WaveNode]] = defaultdict(list)
        for old in self._waves:
            by_name[old.wave.name].append(old)
        chosen: list[_WaveNode | None] = []
        used: set[int] = set()
        for wave in waves:
            candidates = by_name.get(wave.name)
            match = candidates.pop(0) if candidates else None
            chosen.append(match)
            if match is not None:
                used.add(match.key)
        spare = iter([node for node in self._waves if node.key not in used])
        result: list[_WaveNode] = []
        for wave, found in zip(waves, chosen, strict=True):
            # A reused node (a renamed wave) keeps its old wave until set_plan syncs its entries.
            result.append(found or next(spare, None) or self._new_node(wave))
        return result

    def _entry(self, index: AnyIndex) -> EntryKey:
        return self._by_key[index.internalId()].entries[index.row()]

    def _wave_data(self, index: AnyIndex, wave: Wave, role: int) -> Any:
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return wave.name
            if column == 1:
                return self.marks.wave_summary(index.row())
            if column == 3:
                return self._dependency_text(index.row())
            return None
        if role == Qt.ItemDataRole.FontRole and column == 0:
            font = QFont()
            font.setBold(True)
            return font
        return self._common_data(index, role, ("wave", wave.name))

    def _entry_data(self, index: AnyIndex, wave: Wave, entry: EntryKey, role: int) -> Any:
        kind, key, _ = entry
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if kind == "group":
                return key if column == 0 else self.marks.group_text(key) if column == 1 else None
            if column == 0:
                return key
            target, servers = self._server_source(wave, key)
            server = servers.get(key) if servers is not None else None
            if column == 1:  # an extended server names its staging account; a target, its target
                host = server.hostname_and_origin() if server is not None else ""
                return " · ".join(part for part in (host, target) if part)
            if column == 2:
                return str(wave.impact_of(key))
            if column == 3:
                if server is not None:
                    return server.replication_state
                return "not in inventory" if servers is not None else ""
            return None
        if role == Qt.ItemDataRole.ForegroundRole and kind == "server" and key in wave.optional:
            return QBrush(QApplication.palette().color(QPalette.ColorRole.PlaceholderText))
        return self._common_data(index, role, (kind, key))

    def _server_source(self, wave: Wave, server_id: str) -> tuple[str, dict[str, SourceServer] | None]:
        """(the server's target name, "" without targets; the inventory it is looked up in, None when
        that target's is not cached)."""
        plan = self._plan
        if plan is None or not plan.targets:
            return "", self._servers
        target = entry_target(plan, wave, server_id) or ""
        return target, self._by_target.get(target)

    def _common_data(self, index: AnyIndex, role: int, ident: tuple[str, str]) -> Any:
        if role == KIND_ROLE:
            return ident[0]
        if role == KEY_ROLE:
            return ident[1]
        if role == WAVE_ROLE:
            return self.wave_row_of(index)
        if role == PROBLEMS_ROLE:
            return self.problems_at(index)
        if index.column() != 0 or role not in (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole):
            return None
        problems = self.problems_at(index)
        kind, key = ident
        reason = self.marks.wave_reason(index.row()) if kind == "wave" else self.marks.entry_reason(kind, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(t for t in (self.marks.problems_text(problems), reason) if t) or None
        if not problems:
            return self.marks.icon() if reason else None
        worst = Severity.ERROR if any(p.severity is Severity.ERROR for p in problems) else Severity.WARNING
        return self._icon(worst)

    def _icon(self, severity: Severity) -> QIcon:
        if severity not in self._icons:
            pixmap = (
                QStyle.StandardPixmap.SP_MessageBoxCritical
                if severity is Severity.ERROR
                else QStyle.StandardPixmap.SP_MessageBoxWarning
            )
            self._icons[severity] = QApplication.style().standardIcon(pixmap)
        return self._icons[severity]

    def _dependency_text(self, row: int) -> str:
        if self._plan is None or row >= len(self._plan.waves):
            return ""
        names = self._plan.dependencies(row)
        return "after " + ", ".join(names) if names else "starts at once"

    def _problem_changed(self, wave_row: int, entry_row: int) -> None:
        if not 0 <= wave_row < len(self._waves):
            return
        if entry_row < 0:
            self._row_changed(QModelIndex(), wave_row)
        elif entry_row < len(self._waves[wave_row].entries):
            self._row_changed(self.index(wave_row, 0), entry_row)

    def _row_changed(self, parent: AnyIndex, row: int) -> None:
        self._rows_changed(parent, row, row)

    def _rows_changed(self, parent: AnyIndex, first: int, last: int) -> None:
        self.dataChanged.emit(self.index(first, 0, parent), self.index(last, len(COLUMNS) - 1, parent))
