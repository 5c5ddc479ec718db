"""The rows of the trusted scripts dialog: each trusted script with where it stands now.

A flat table of ``ScriptCheck``s (the service's look at each trusted file), replaced whole when the list
is read again: it holds a handful of rows and changes only when the operator trusts or revokes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, Qt

from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.domain.script_trust import ScriptCheck, TrustStatus
from drs_desktop.ui.flat_table_model import AnyIndex, FlatTableModel

__all__ = ["TrustedScriptsModel"]

_STATUS_TEXT = {
    TrustStatus.TRUSTED: "Trusted",
    TrustStatus.UNTRUSTED: "Not trusted",
    TrustStatus.CHANGED: "Changed: not trusted",
    TrustStatus.MISSING: "Missing",
    TrustStatus.NOT_EXECUTABLE: "Not executable",
}


class TrustedScriptsModel(FlatTableModel):
    columns: ClassVar[tuple[str, ...]] = (
        "Status",
        "Script",
        "SHA-256",
        "Trusted by",
        "Trusted at",
        "Command",
    )

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[ScriptCheck] = []

    def set_checks(self, checks: Sequence[ScriptCheck]) -> None:
        self.beginResetModel()
        self._rows = list(checks)
        self.endResetModel()

    def check_at(self, row: int) -> ScriptCheck | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def _row_count(self) -> int:
        return len(self._rows)

    def data(self, index: AnyIndex = QModelIndex(), role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: B008
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        check = self._rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return terminal_safe(check.detail) or None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        trusted = check.trusted
        match index.column():
            case 0:
                return _STATUS_TEXT[check.status]
            case 1:
                return terminal_safe(check.path)
            case 2:
                return trusted.sha256 if trusted else ""
            case 3:
                return terminal_safe(trusted.trusted_by) if trusted else ""
            case 4:
                return f"{trusted.trusted_at:%Y-%m-%d %H:%M} UTC" if trusted else ""
            case 5:
                return terminal_safe(trusted.shown_command) if trusted else ""
        return None
