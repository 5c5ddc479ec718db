"""The progress tree: waves, each with its servers, read from the latest ``ProgressSnapshot``.

An update never resets the model while an execution runs (DESIGN §3.5): a reset drops the selection,
the expanded waves and the scroll position, and with 1,000 servers it repaints everything every second.
Each snapshot names the rows that changed (``SnapshotDelta``), and the model emits ``dataChanged`` for
those rows only, one signal per run of adjacent rows. Rows are inserted once, when the model first
shows an execution, and removed only when it shows another one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

from drs_desktop.domain.engine.state import ServerStatus, WavePhase
from drs_desktop.domain.views.progress import ProgressSnapshot, ServerRow, WaveRow
from drs_desktop.ui.executions.history_format import duration_text
from drs_desktop.ui.executions.progress_delegate import OUTCOME_ROLE, PROGRESS_ROLE
from drs_desktop.ui.status_icons import color_of, status_icon

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex

COLUMNS = (
    "Wave / server",
    "Status",
    "Progress",
    "Phase",
    "Servers",
    "Elapsed",
    "ETA",
    "Job",
    "Instance",
    "Last event",
)
NAME, STATUS, PROGRESS, PHASE, SERVERS, ELAPSED, ETA, JOB, INSTANCE, LAST_EVENT = range(len(COLUMNS))
#: The role answering the wave index of a row (a wave's own, or its server's wave).
WAVE_ROLE = int(Qt.ItemDataRole.UserRole) + 2
#: The role answering a server row's server ID (None for a wave).
SERVER_ROLE = int(Qt.ItemDataRole.UserRole) + 3
#: The roles ``data`` answers. A view asks each cell for about ten roles on every repaint (font,
#: alignment, background, check state, ...); the others return at once, before any lookup.
_ROLES = frozenset(
    int(role)
    for role in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.ForegroundRole,
        PROGRESS_ROLE,
        OUTCOME_ROLE,
        WAVE_ROLE,
        SERVER_ROLE,
    )
)
#: Rows change from this column on: a wave's or a server's name never changes, so ``dataChanged`` leaves
#: the first column out (a tree view re-examines the children of every row whose first column changed).
_FIRST_CHANGING = 1


def _clock(moment: datetime | None) -> str:
    return f"{moment:%H:%M:%S}" if moment is not None else ""


def wave_state_name(wave: WaveRow) -> str:
    """A stopped run's wave that did not complete says how it ended (``WaveRow.final``), never the launch
    phase it was in when the run stopped."""
    return wave.final or ("HELD" if wave.held else wave.phase.value)


#: Server states shown in red (failed) or grey (did not run) across the row, never as a blue bar.
_ENDED_WITHOUT_LAUNCH = {
    ServerStatus.FAILED: "FAILED",
    ServerStatus.CANCELLED: "CANCELLED",
    ServerStatus.SKIPPED: "SKIPPED",
}


#: A stopped run's wave that did not complete (``WaveRow.final``) -> its outcome: red, grey or amber.
_WAVE_FINALS = {"FAILED": "FAILED", "CANCELLED": "CANCELLED", "CANCELLING": "CANCELLING"}


def wave_outcome(wave: WaveRow) -> str | None:
    """How a wave ended, or is ending, without launching all it should: "HELD" (a critical server
    failed), "FAILED" or "CANCELLED" (a stopped run's wave that did not complete), "CANCELLING" (its DRS
    jobs still run after a cancel), "SKIPPED"; None while it runs on or once it completed. Its servers'
    mean progress (a failed or cancelled server counts as 100) must never read as a blue bar then."""
    if wave.held:
        return "HELD"
    if wave.final in _WAVE_FINALS:
        return _WAVE_FINALS[wave.final]
    return "SKIPPED" if wave.phase is WavePhase.SKIPPED else None


def server_outcome(server: ServerRow) -> str | None:
    """How a server ended without launching ("FAILED", "CANCELLED", "SKIPPED"), or None."""
    return _ENDED_WITHOUT_LAUNCH.get(server.status)


def runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of adjacent rows."""
    out: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if out and row == out[-1][1] + 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


class ProgressTreeModel(QAbstractItemModel):
    """Top level: waves (internal ID 0). Children: the wave's servers (internal ID wave index + 1)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._snapshot: ProgressSnapshot | None = None

    # -- feeding

    def snapshot(self) -> ProgressSnapshot | None:
        return self._snapshot

    def set_snapshot(self, snapshot: ProgressSnapshot) -> None:
        """Show ``snapshot``: rows replaced for another execution, ``dataChanged`` on its delta otherwise."""
        old = self._snapshot
        if old is None or old.execution_id != snapshot.execution_id or not _same_shape(old, snapshot):
            self._replace_rows(snapshot)
            return
        self._snapshot = snapshot
        last = len(COLUMNS) - 1
        first = _FIRST_CHANGING
        if snapshot.delta.full:
            if snapshot.waves:
                self.dataChanged.emit(self.index(0, first), self.index(len(snapshot.waves) - 1, last))
            for wave_index, wave_rows in enumerate(snapshot.servers):
                if wave_rows:
                    parent = self.index(wave_index, 0)
                    self.dataChanged.emit(
                        self.index(0, first, parent), self.index(len(wave_rows) - 1, last, parent)
                    )
            return
        for top, end in runs(snapshot.delta.waves):
            self.dataChanged.emit(self.index(top, first), self.index(end, last))
        by_wave: dict[int, list[int]] = {}
        for wave_index, row in snapshot.delta.servers:
            by_wave.setdefault(wave_index, []).append(row)
        for wave_index, rows in by_wave.items():
            parent = self.index(wave_index, 0)
            for top, end in runs(rows):
                self.dataChanged.emit(self.index(top, first, parent), self.index(end, last, parent))

    def clear(self) -> None:
        if self._snapshot is not None and self._snapshot.waves:
            self.beginRemoveRows(QModelIndex(), 0, len(self._snapshot.waves) - 1)
            self._snapshot = None
            self.endRemoveRows()
        self._snapshot = None

    def _replace_rows(self, snapshot: ProgressSnapshot) -> None:
        self.clear()
        if snapshot.waves:
            self.beginInsertRows(QModelIndex(), 0, len(snapshot.waves) - 1)
            self._snapshot = snapshot
            self.endInsertRows()
        else:
            self._snapshot = snapshot

    # -- reading rows

    def wave_at(self, index: AnyIndex) -> WaveRow | None:
        if self._snapshot is None or not index.isValid() or index.internalId() != 0:
            return None
        return self._snapshot.waves[index.row()]

    def server_at(self, index: AnyIndex) -> ServerRow | None:
        if self._snapshot is None or not index.isValid() or index.internalId() == 0:
            return None
        return self._snapshot.servers[index.internalId() - 1][index.row()]

    def wave_index_of(self, index: AnyIndex) -> int | None:
        if not index.isValid():
            return None
        return index.row() if index.internalId() == 0 else index.internalId() - 1

    # -- QAbstractItemModel

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        snapshot = self._snapshot
        if snapshot is None:
            return 0
        if not parent.isValid():
            return len(snapshot.waves)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(snapshot.servers[parent.row()])
        return 0

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            if 0 <= section < len(COLUMNS):
                return COLUMNS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or self._snapshot is None or not index.isValid():
            return None
        if role == WAVE_ROLE:
            return self.wave_index_of(index)
        if index.internalId() == 0:
            return self._wave_data(self._snapshot.waves[index.row()], index.column(), role)
        server = self._snapshot.servers[index.internalId() - 1][index.row()]
        if role == SERVER_ROLE:
            return server.server_id
        return self._server_data(server, index.column(), role)

    def _wave_data(self, wave: WaveRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            counts = wave.counts
            if column == NAME:
                return f"{wave.index + 1}. {wave.name}"
            if column == STATUS:
                return wave_state_name(wave)
            if column == PHASE:
                return wave.detail
            if column == SERVERS:
                text = f"{counts.launched}/{counts.total} launched"
                if counts.failed:
                    text += f", {counts.failed} failed"
                if counts.running:
                    text += f", {counts.running} running"
                return text
            if column == ELAPSED:
                return duration_text(wave.elapsed)
            if column == ETA:
                return duration_text(wave.eta)
            return ""
        if role == PROGRESS_ROLE and column == PROGRESS:
            return wave.progress
        if role == OUTCOME_ROLE and column == PROGRESS:
            return wave_outcome(wave)
        if role == Qt.ItemDataRole.ForegroundRole:
            outcome = wave_outcome(wave)
            return color_of(outcome) if outcome is not None else None
        if role == Qt.ItemDataRole.DecorationRole and column == STATUS:
            return status_icon(wave_state_name(wave))
        if role == Qt.ItemDataRole.ToolTipRole:
            return wave.detail or None
        return None

    def _server_data(self, server: ServerRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == NAME:
                return server.label
            if column == STATUS:
                return server.status.value
            if column == PHASE:
                if server.status is ServerStatus.FAILED and server.reason:
                    if not server.phase or server.reason in server.phase:
                        return server.phase or server.reason  # an end state's phase names the reason
                    return f"{server.phase}: {server.reason}"
                return server.waiting or server.phase
            if column == SERVERS:
                return server.impact
            if column == ELAPSED:
                if server.started_at is None:
                    return ""
                if server.ended_at is not None:
                    return duration_text(server.ended_at - server.started_at)
                return f"since {_clock(server.started_at)}"
            if column == JOB:
                return server.job_id or ""
            if column == INSTANCE:
                return server.ec2_instance_id or server.recovery_instance_id or ""
            if column == LAST_EVENT:
                return f"{server.last_event} {_clock(server.last_event_at)}".strip()
            return ""
        if role == PROGRESS_ROLE and column == PROGRESS:
            return server.progress
        if role == OUTCOME_ROLE and column == PROGRESS:
            return server_outcome(server)
        if role == Qt.ItemDataRole.DecorationRole and column == STATUS:
            return status_icon(server.status.value)
        if role == Qt.ItemDataRole.ForegroundRole:
            outcome = server_outcome(server)
            return color_of(outcome) if outcome is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = [server.server_id]
            if server.waiting:
                parts.append(server.waiting)
            if server.reason:
                parts.append(server.reason)
            if server.retries:
                parts.append(f"retried {server.retries} time(s)")
            return "\n".join(parts)
        return None


def _same_shape(a: ProgressSnapshot, b: ProgressSnapshot) -> bool:
    return len(a.servers) == len(b.servers) and all(
        len(x) == len(y) for x, y in zip(a.servers, b.servers, strict=True)
    )
