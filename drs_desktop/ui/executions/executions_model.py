"""The execution history as a flat table: one row per execution, newest first.

Rows are keyed by execution ID and updated in place (``ui.model_sync``): a refresh after a cleanup keeps
the operator's selection and scroll position, and only the rows that changed send ``dataChanged``. A
finished drill that left recovery instances running is highlighted (background, a warning icon, a
tooltip), because each such instance costs money and holds a copy of production data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from drs_desktop.domain.views.history import ExecutionSummary
from drs_desktop.ui.executions.history_format import (
    CLEANUP_BACKGROUND,
    CLEANUP_FOREGROUND,
    RTO_MET,
    RTO_MISSED,
    duration_text,
    outcome_text,
    rto_text,
    utc_text,
)
from drs_desktop.ui.flat_table_model import FlatTableModel
from drs_desktop.ui.model_sync import sync_rows

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex

COLUMNS = (
    "Started (UTC)",
    "Plan",
    "Rev",
    "Mode",
    "Status",
    "Duration",
    "RTO achieved / target",
    "Drill instances running",
)
STARTED, PLAN, REV, MODE, STATUS, DURATION, RTO, RUNNING = range(len(COLUMNS))

SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1  # ExecutionSummary
ID_ROLE = Qt.ItemDataRole.UserRole + 2  # execution ID
NEEDS_CLEANUP_ROLE = Qt.ItemDataRole.UserRole + 3  # bool: highlighted row
SORT_ROLE = Qt.ItemDataRole.UserRole + 4  # a value that sorts the column right (times, seconds)


class ExecutionsModel(FlatTableModel):
    """Execution summaries (``ExecutionSummary``) as table rows."""

    columns = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._ids: list[str] = []
        self._summaries: dict[str, ExecutionSummary] = {}

    # ------------------------------------------------------------------------------------ content

    def set_summaries(self, summaries: Sequence[ExecutionSummary]) -> None:
        """Show ``summaries`` in their order; rows already shown move or change in place."""
        incoming = {s.execution_id: s for s in summaries}
        changed = [i for i in self._ids if i in incoming and incoming[i] != self._summaries[i]]
        self._summaries.update(incoming)
        sync_rows(self, QModelIndex(), self._ids, list(incoming))
        self._summaries = incoming
        last = len(COLUMNS) - 1
        for execution_id in changed:
            row = self._ids.index(execution_id)
            self.dataChanged.emit(self.index(row, 0), self.index(row, last))

    def summary_at(self, row: int) -> ExecutionSummary | None:
        if 0 <= row < len(self._ids):
            return self._summaries[self._ids[row]]
        return None

    def summary(self, execution_id: str) -> ExecutionSummary | None:
        return self._summaries.get(execution_id)

    def row_of(self, execution_id: str) -> int:
        try:
            return self._ids.index(execution_id)
        except ValueError:
            return -1

    def execution_ids(self) -> list[str]:
        return list(self._ids)

    def highlighted_rows(self) -> list[int]:
        return [row for row, i in enumerate(self._ids) if self._summaries[i].needs_cleanup]

    # ----------------------------------------------------------------------- QAbstractItemModel

    def _row_count(self) -> int:
        return len(self._ids)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        summary = self._summaries[self._ids[index.row()]]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(summary, column)
        if role == SUMMARY_ROLE:
            return summary
        if role == ID_ROLE:
            return summary.execution_id
        if role == NEEDS_CLEANUP_ROLE:
            return summary.needs_cleanup
        if role == SORT_ROLE:
            return self._sort_key(summary, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(summary, column)
        if role == Qt.ItemDataRole.BackgroundRole and summary.needs_cleanup:
            return QBrush(QColor(CLEANUP_BACKGROUND))
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(summary, column)
        if role == Qt.ItemDataRole.DecorationRole and column == RUNNING and summary.needs_cleanup:
            return _warning_icon()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (REV, DURATION, RUNNING):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # ----------------------------------------------------------------------------------- helpers

    @staticmethod
    def _text(summary: ExecutionSummary, column: int) -> str:
        record = summary.record
        if column == STARTED:
            return utc_text(record.started_at)
        if column == PLAN:
            return record.plan_name
        if column == REV:
            return str(record.plan_revision)
        if column == MODE:  # a run in DRS is marked: DRS ran it, this desktop followed it
            return f"{record.mode} · run in DRS" if summary.run_in_drs else record.mode
        if column == STATUS:
            return outcome_text(summary)
        if column == DURATION:
            return duration_text(summary.duration) if summary.finished else "running"
        if column == RTO:
            return rto_text(summary)
        if column == RUNNING:
            if not summary.is_drill:
                return ""
            return str(len(summary.drill_instances_running))
        return ""

    @staticmethod
    def _sort_key(summary: ExecutionSummary, column: int) -> Any:
        record = summary.record
        if column == STARTED:
            return record.started_at.timestamp()
        if column == REV:
            return record.plan_revision
        if column == DURATION:
            return sort_seconds(summary.duration)
        if column == RTO:
            return sort_seconds(summary.rto_achieved)
        if column == RUNNING:
            return len(summary.drill_instances_running)
        return ExecutionsModel._text(summary, column).casefold()

    @staticmethod
    def _tooltip(summary: ExecutionSummary, column: int) -> str | None:
        if summary.problem:
            return f"Execution {summary.execution_id}: {summary.problem}"
        if summary.needs_cleanup:
            count = len(summary.drill_instances_running)
            return (
                f"This drill left {count} recovery instance{'s' * (count != 1)} running: "
                + ", ".join(summary.drill_instances_running)
                + ". Select it and choose Clean up."
            )
        if column == RTO and summary.rto_met is not None:
            return "RTO target met" if summary.rto_met else "RTO target missed"
        if column == STARTED:
            return f"Execution {summary.execution_id}"
        if column == MODE and summary.run_in_drs:
            return "Run in DRS: a native recovery plan execution, followed by this desktop"
        return None

    @staticmethod
    def _foreground(summary: ExecutionSummary, column: int) -> QBrush | None:
        if summary.needs_cleanup:
            return QBrush(QColor(CLEANUP_FOREGROUND))
        if column == RTO and summary.rto_met is not None:
            return QBrush(QColor(RTO_MET if summary.rto_met else RTO_MISSED))
        if column == STATUS and (summary.outcome in ("FAILED", "CANCELLED") or summary.problem):
            return QBrush(QColor(RTO_MISSED))
        return None


def _warning_icon() -> QIcon | None:
    """The style's warning icon (None without a QApplication, e.g. a model used headless)."""
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    return style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning) if style is not None else None


def sort_seconds(span: timedelta | None) -> float:
    """Seconds of ``span`` for sorting; an unknown span sorts last."""
    return span.total_seconds() if span is not None else float("inf")
