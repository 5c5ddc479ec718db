"""The Servers table: one row per DRS source server, and the proxy that searches and filters it.

Rows are keyed by source server ID and updated in place (``ui.model_sync``) when a refresh brings a new
inventory, so the operator's selection and scroll position survive a refresh, and only rows whose
values changed get ``dataChanged`` (DESIGN §3.5: never a reset for an update). The replication state
has a coloured dot and its name (colour is never the only signal), lag reads as "12 s" / "2 h 5 min",
and "Used by" names the plans and protection groups that would launch the server. An extended source
server (replicated in a staging account, recovered in this one) names its staging account.

Several targets (issue 13): the rows are every target's servers, keyed by (target, server ID) so that
the same ID in two accounts stays two rows, and the Target column names each row's target in its badge
colour (``ui.target_badge.target_colour``), with its account and Region in the tooltip.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QIcon, QPainter, QPixmap

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.inventory_targets import TargetInventory, connected_part
from drs_desktop.domain.plan.server_usage import ServerUsage
from drs_desktop.domain.settings.target_list import CONNECTED_NAME
from drs_desktop.domain.targets import Target
from drs_desktop.domain.views.launch_drift import LaunchDrift
from drs_desktop.ui.flat_table_model import FlatTableModel
from drs_desktop.ui.model_sync import sync_rows
from drs_desktop.ui.target_badge import target_colour

logger = logging.getLogger(__name__)

_LAUNCH_DRIFT = QBrush(QColor("#b35c00"))
_LAUNCH_BLOCKED = QBrush(QColor("#c62828"))

AnyIndex = QModelIndex | QPersistentModelIndex

COLUMNS = (
    "Hostname",
    "Target",
    "Source server ID",
    "OS",
    "Replication",
    "Lag",
    "Tags",
    "Last launch",
    "Staging account",
    "Launch settings",
    "Used by",
)
(HOSTNAME, TARGET, SERVER_ID, OS, REPLICATION, LAG, TAGS, LAST_LAUNCH, STAGING, LAUNCH, USED_BY) = range(
    len(COLUMNS)
)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # a value that sorts right (seconds, ISO time, casefolded text)
SERVER_ID_ROLE = Qt.ItemDataRole.UserRole + 2
TARGET_ROLE = Qt.ItemDataRole.UserRole + 3  # the name of the row's target
#: A row: (target name, source server ID).
RowKey = tuple[str, str]

#: DRS dataReplicationState -> health class, for the dot's colour.
HEALTHY, SYNCING, FAILING, IDLE, UNKNOWN = "healthy", "syncing", "failing", "idle", "unknown"
_STATE_CLASS = {
    "CONTINUOUS": HEALTHY,
    "INITIATING": SYNCING,
    "INITIAL_SYNC": SYNCING,
    "BACKLOG": SYNCING,
    "CREATING_SNAPSHOT": SYNCING,
    "RESCAN": SYNCING,
    "PENDING_SNAPSHOT_SHIPPING": SYNCING,
    "SHIPPING_SNAPSHOT": SYNCING,
    "STALLED": FAILING,
    "DISCONNECTED": FAILING,
    "STOPPED": IDLE,
    "PAUSED": IDLE,
}
_CLASS_COLOR = {
    HEALTHY: "#2e7d32",
    SYNCING: "#f9a825",
    FAILING: "#c62828",
    IDLE: "#757575",
    UNKNOWN: "#9e9e9e",
}


def state_class(state: str) -> str:
    return _STATE_CLASS.get(state.upper(), UNKNOWN) if state else UNKNOWN


def human_lag(seconds: int | None) -> str:
    """Replication lag for people: "—" when DRS reports none, else seconds, minutes, hours or days."""
    return "—" if seconds is None else format_duration(seconds)


def os_family(os_name: str) -> str:
    """ "Windows", "Linux" or "Unknown": what the OS filter offers (DRS reports full OS strings)."""
    if not os_name.strip():
        return "Unknown"
    return "Windows" if "windows" in os_name.casefold() else "Linux"


def format_launch(server: SourceServer) -> str:
    status = server.last_launch_status.replace("_", " ").capitalize() if server.last_launch_status else ""
    if server.last_launched_at is None:
        return "never" if status in ("", "Not started") else status
    when = server.last_launched_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{status}, {when}" if status else when


def format_tags(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(tags.items(), key=lambda kv: kv[0].casefold()))


class ServerTableModel(FlatTableModel):
    """Source servers of every target, with the plans and groups that use each."""

    columns = COLUMNS

    _icons: ClassVar[dict[str, QIcon]] = {}

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._parts: tuple[TargetInventory, ...] = ()
        self._targets: dict[str, TargetInventory] = {}
        self._rows: list[RowKey] = []
        self._servers: dict[RowKey, SourceServer] = {}
        self._usage: Mapping[str, ServerUsage] = {}
        self._launch: LaunchDrift | None = None

    # -- content ------------------------------------------------------------------------------------

    def inventory(self) -> Inventory | None:
        """The connected target's inventory (what plans without targets are checked against)."""
        part = connected_part(self._parts)
        return part.inventory if part is not None else None

    def parts(self) -> tuple[TargetInventory, ...]:
        return self._parts

    def set_inventory(self, inventory: Inventory | None) -> None:
        """Show ``inventory`` as the connected target's, alone (the single-target view)."""
        target = Target(
            account=inventory.account_id if inventory else "", region=inventory.region if inventory else ""
        )
        self.set_parts((TargetInventory(CONNECTED_NAME, target, inventory, connected=True),))

    def set_parts(self, parts: tuple[TargetInventory, ...]) -> None:
        """Show every target's servers: rows added, removed and moved in place; changed rows announced."""
        old = self._servers
        old_targets = {name: part.label for name, part in self._targets.items()}
        self._parts = parts
        self._targets = {part.name: part for part in parts}
        new = {
            (part.name, server.source_server_id): server
            for part in parts
            for server in (part.inventory.servers if part.inventory else ())
        }
        self._servers = {**old, **new}  # rows about to be removed still read consistently meanwhile
        sync_rows(self, QModelIndex(), self._rows, list(new))
        self._servers = new
        last = len(COLUMNS) - 1
        for row, key in enumerate(self._rows):
            if key in old and old[key] != new[key]:
                self.dataChanged.emit(self.index(row, 0), self.index(row, last))
        relabelled = any(
            old_targets.get(name, part.label) != part.label for name, part in self._targets.items()
        )
        if relabelled and self._rows:  # a target's account became known: its tooltip and colour change
            self.dataChanged.emit(self.index(0, TARGET), self.index(len(self._rows) - 1, TARGET))

    def set_usage(self, usage: Mapping[str, ServerUsage]) -> None:
        """New "Used by" values: only that column changes."""
        self._usage = usage
        if self._rows:
            self.dataChanged.emit(self.index(0, USED_BY), self.index(len(self._rows) - 1, USED_BY))

    def set_launch_drift(self, drift: LaunchDrift | None) -> None:
        """New launch settings drift (issue 16): only that column changes."""
        self._launch = drift
        if self._rows:
            self.dataChanged.emit(self.index(0, LAUNCH), self.index(len(self._rows) - 1, LAUNCH))

    def launch_at(self, row: int) -> str:
        """ "as desired", "N field(s) drifted", "blocked: reason", "no desired state"; "" before any
        reading. Plans desire settings of the connected target's servers only."""
        name, server_id = self._rows[row]
        part = self._targets.get(name)
        if self._launch is None or self._launch.read_at is None or part is None or not part.connected:
            return ""
        return self._launch.column_text(server_id)

    def server_at(self, row: int) -> SourceServer:
        return self._servers[self._rows[row]]

    def target_at(self, row: int) -> TargetInventory | None:
        return self._targets.get(self._rows[row][0])

    def usage_at(self, row: int) -> ServerUsage:
        """Plans use the connected target's servers (plans naming targets are resolved per target)."""
        name, server_id = self._rows[row]
        part = self._targets.get(name)
        if part is None or not part.connected:
            return ServerUsage()
        return self._usage.get(server_id, ServerUsage())

    def row_of(self, server_id: str, target: str | None = None) -> int:
        """The row of ``server_id`` (in ``target`` when given, else the first target that has it)."""
        for row, (name, key) in enumerate(self._rows):
            if key == server_id and (target is None or name == target):
                return row
        return -1

    def states(self) -> list[str]:
        """The replication states present, sorted (for the state filter)."""
        return sorted({s.replication_state for s in self._servers.values() if s.replication_state})

    def text(self, row: int, column: int) -> str:
        server = self.server_at(row)
        if column == HOSTNAME:
            return server.hostname
        if column == TARGET:
            return self._rows[row][0]
        if column == SERVER_ID:
            return server.source_server_id
        if column == OS:
            return server.os
        if column == REPLICATION:
            return server.replication_state
        if column == LAG:
            return human_lag(server.lag_seconds)
        if column == TAGS:
            return format_tags(server.tags)
        if column == LAST_LAUNCH:
            return format_launch(server)
        if column == STAGING:
            return server.staging_account_id
        if column == LAUNCH:
            return self.launch_at(row)
        if column == USED_BY:
            return self.usage_at(row).describe()
        return ""

    # -- QAbstractItemModel ------------------------------------------------------------------------

    def _row_count(self) -> int:
        return len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, column)
        if role == SERVER_ID_ROLE:
            return self._rows[row][1]
        if role == TARGET_ROLE:
            return self._rows[row][0]
        if role == SORT_ROLE:
            return self._sort_value(row, column)
        if role == Qt.ItemDataRole.DecorationRole and column == REPLICATION:
            return self._state_icon(state_class(self.server_at(row).replication_state))
        if role == Qt.ItemDataRole.DecorationRole and column == TARGET:
            part = self.target_at(row)
            return self._target_icon(part.target) if part is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == LAUNCH:
            text = self.launch_at(row)
            return (
                _LAUNCH_BLOCKED
                if text.startswith(("blocked", "DRILL VERSION"))
                else _LAUNCH_DRIFT
                if "drifted" in text
                else None
            )
        return None

    # -- internals -----------------------------------------------------------------------------------

    def _sort_value(self, row: int, column: int) -> Any:
        server = self.server_at(row)
        if column == LAG:
            return -1 if server.lag_seconds is None else server.lag_seconds
        if column == LAST_LAUNCH:
            moment = server.last_launched_at
            return moment.astimezone(UTC).isoformat() if moment else ""
        return self.text(row, column).casefold()

    def _tooltip(self, row: int, column: int) -> str | None:
        server = self.server_at(row)
        if column == TARGET:
            part = self.target_at(row)
            return None if part is None else f"{part.label}\n{part.target.describe()}"
        if column == REPLICATION:
            state = server.replication_state
            return f"Replication {state or 'unknown'} ({state_class(state)})"
        if column == LAG and server.lag_seconds is not None:
            return f"{format_duration(server.lag_seconds, exact=True)} behind the source"
        if column == LAUNCH:
            return self._launch_tooltip(row)
        if column == USED_BY:
            usage = self.usage_at(row)
            if not usage.plans:
                return "No saved plan launches this server"
            lines = [f"Plans: {', '.join(usage.plans)}"]
            if usage.groups:
                lines.append(f"Protection groups: {', '.join(usage.groups)}")
            return "\n".join(lines)
        if column in (HOSTNAME, SERVER_ID, STAGING) and server.is_extended:
            return f"{server.hostname or server.source_server_id}: {server.extended_from()}"
        if column == TAGS and server.tags:
            return "\n".join(f"{key} = {value}" for key, value in sorted(server.tags.items()))
        return None

    def _launch_tooltip(self, row: int) -> str | None:
        drift = self._launch
        if drift is None or drift.read_at is None or not self.launch_at(row):
            return "Launch settings not read yet" if self._rows else None
        read = f"read {drift.read_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        details = drift.tooltip(self._rows[row][1])
        return (
            f"{details}\n({read})" if details else f"No plan desires launch settings of this server ({read})"
        )

    @classmethod
    def _target_icon(cls, target: Target) -> QIcon | None:
        """A square in the target's badge colour (the name beside it: colour is never the only signal)."""
        key = f"target:{target.key}"
        icon = cls._icons.get(key)
        if icon is None:
            if QGuiApplication.instance() is None:
                return None
            pixmap = QPixmap(12, 12)
            pixmap.fill(target_colour(target))
            icon = cls._icons[key] = QIcon(pixmap)
        return icon

    @classmethod
    def _state_icon(cls, health: str) -> QIcon | None:
        icon = cls._icons.get(health)
        if icon is None:
            if QGuiApplication.instance() is None:
                return None  # pixmaps need a GUI application (a model used headless has no dots)
            pixmap = QPixmap(12, 12)
            pixmap.fill(QColor(0, 0, 0, 0))
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setBrush(QBrush(QColor(_CLASS_COLOR[health])))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(1, 1, 10, 10)
            painter.end()
            icon = cls._icons[health] = QIcon(pixmap)
        return icon


class ServerFilterModel(QSortFilterProxyModel):
    """Search text over every column, plus filters on replication state, OS family and tags.

    The tag filter takes ``key=value`` pairs separated by commas (all must match; a bare ``key``
    matches any value), compared without regard to case.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._search = ""
        self._state = ""
        self._os = ""
        self._target = ""
        self._tags: list[tuple[str, str | None]] = []
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_search(self, text: str) -> None:
        self._change(lambda: setattr(self, "_search", text.strip().casefold()))

    def set_state(self, state: str) -> None:
        self._change(lambda: setattr(self, "_state", state))

    def set_os(self, family: str) -> None:
        self._change(lambda: setattr(self, "_os", family))

    def set_target(self, name: str) -> None:
        """Only the servers of the target ``name`` ("": every target's)."""
        self._change(lambda: setattr(self, "_target", name))

    def set_tag_filter(self, text: str) -> None:
        pairs: list[tuple[str, str | None]] = []
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if key.strip():
                pairs.append((key.strip().casefold(), value.strip().casefold() if sep else None))
        self._change(lambda: setattr(self, "_tags", pairs))

    def _change(self, apply: Any) -> None:
        self.beginFilterChange()
        apply()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        source = self.sourceModel()
        if not isinstance(source, ServerTableModel) or source_parent.isValid():
            return True
        server = source.server_at(source_row)
        if self._target and source.text(source_row, TARGET) != self._target:
            return False
        if self._state and server.replication_state != self._state:
            return False
        if self._os and os_family(server.os) != self._os:
            return False
        if self._tags:
            tags = {key.casefold(): value.casefold() for key, value in server.tags.items()}
            for key, value in self._tags:
                if key not in tags or (value is not None and tags[key] != value):
                    return False
        if self._search:
            haystack = " ".join(source.text(source_row, column) for column in range(len(COLUMNS)))
            if self._search not in haystack.casefold():
                return False
        return True
