"""The live preview of a protection group: the source servers it selects right now.

For a tag selector the preview is what ``Inventory.matching`` finds in the cached inventory (the same
rule the engine resolves the group by when a run starts, ``plan.validation.resolve_group``); for a list of
servers it is that list. Each row says when the server is not in the inventory, or already belongs to
another group of the plan (validation refuses a server in two groups). Rows are keyed by server ID and
updated in place as the operator types, so the view does not flicker or lose its scroll position.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.ui.flat_table_model import FlatTableModel
from drs_desktop.ui.model_sync import sync_rows

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex

PREVIEW_COLUMNS = ("Server ID", "Hostname", "Tags", "Replication", "Note")
NOTE_COLUMN = 4
SERVER_ID_ROLE = Qt.ItemDataRole.UserRole + 1
_WARNING = QColor("#b00020")


@dataclass(frozen=True)
class PreviewRow:
    """One server of the preview. ``server`` None: the ID is not in the cached inventory."""

    server_id: str
    server: SourceServer | None
    other_group: str = ""

    @property
    def note(self) -> str:
        if self.server is None:
            return "not in the inventory"
        if self.other_group:
            return f"already in group {self.other_group!r}"
        return ""


def preview_rows(
    server_ids: Sequence[str], inventory: Inventory | None, member_of: Mapping[str, str]
) -> list[PreviewRow]:
    """Rows for ``server_ids``; ``member_of`` maps a server ID to the other group holding it."""
    known = inventory.by_id() if inventory is not None else {}
    return [PreviewRow(sid, known.get(sid), member_of.get(sid, "")) for sid in dict.fromkeys(server_ids)]


class GroupPreviewModel(FlatTableModel):
    """The servers a protection group selects, with a note on each one that needs attention."""

    columns = PREVIEW_COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._ids: list[str] = []
        self._rows: dict[str, PreviewRow] = {}

    def set_rows(self, rows: Sequence[PreviewRow]) -> None:
        incoming = {row.server_id: row for row in rows}
        changed = [sid for sid in self._ids if sid in incoming and incoming[sid] != self._rows[sid]]
        self._rows.update(incoming)
        sync_rows(self, QModelIndex(), self._ids, list(incoming))
        self._rows = incoming
        for sid in changed:
            row = self._ids.index(sid)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(PREVIEW_COLUMNS) - 1))

    def server_ids(self) -> list[str]:
        return list(self._ids)

    def warnings(self) -> list[PreviewRow]:
        return [self._rows[sid] for sid in self._ids if self._rows[sid].note]

    # ----------------------------------------------------------------------- QAbstractItemModel

    def _row_count(self) -> int:
        return len(self._ids)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        row = self._rows[self._ids[index.row()]]
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(row, index.column())
        if role == SERVER_ID_ROLE:
            return row.server_id
        if role == Qt.ItemDataRole.ForegroundRole and row.note:
            return QBrush(_WARNING)
        if role == Qt.ItemDataRole.ToolTipRole and row.note:
            return f"{row.server_id}: {row.note}"
        return None


def _text(row: PreviewRow, column: int) -> str:
    server = row.server
    if column == 0:
        return row.server_id
    if column == NOTE_COLUMN:
        return row.note
    if server is None:
        return ""
    if column == 1:
        return server.hostname
    if column == 2:
        return ", ".join(f"{k}={v}" for k, v in sorted(server.tags.items()))
    if column == 3:
        return server.replication_state
    return ""
