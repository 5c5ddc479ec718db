"""The live view's account of a run in DRS: the native execution and its steps, as DRS last showed them.

A run in DRS's waves and servers show in the progress tree like any run's (the servers' jobs are the
steps' jobs, adopted). This panel adds what only DRS knows: that it is a run in DRS, the execution's ARN
and DRS's status, each native step in DRS's order (server steps and wait steps) with its status and DRS's
error message, and the operator's controls still on their way to DRS. It shows ``ProgressSnapshot.native``
(``views.progress_native``) and nothing else; it is hidden for a run here.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.views.progress_native import NativeStepRow, NativeView
from drs_desktop.ui.executions.history_format import clock_text

logger = logging.getLogger(__name__)

#: No time column: DRS's step listing carries no update time (only GetRecoveryPlanExecutionStep does), and
#: the waves above show when each wave began and ended.
STEP_COLUMNS = ("#", "Step", "Kind", "Wave", "What", "Status in DRS", "DRS's error")
INDEX, NAME, KIND, WAVE, WHAT, STATUS, ERROR = range(len(STEP_COLUMNS))
_FAILED = ("FAILED", "TIMED_OUT")
_ERROR_COLOUR = "#b00020"
_DONE_COLOUR = "#1b7f3b"


class NativeRunPanel(QWidget):
    """A header line, the table of native steps, and the controls waiting for DRS."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("native-run")
        self._view: NativeView | None = None
        self.header = QLabel()
        self.header.setObjectName("native-run-header")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.steps = QTableWidget(0, len(STEP_COLUMNS))
        self.steps.setObjectName("native-steps")
        self.steps.setHorizontalHeaderLabels(list(STEP_COLUMNS))
        self.steps.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.steps.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.steps.verticalHeader().setVisible(False)
        self.steps.horizontalHeader().setSectionResizeMode(ERROR, QHeaderView.ResizeMode.Stretch)
        self.steps.setMaximumHeight(170)
        self.pending = QLabel()
        self.pending.setObjectName("native-pending")
        self.pending.setWordWrap(True)
        self.pending.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.steps)
        layout.addWidget(self.pending)
        self.setVisible(False)

    def view(self) -> NativeView | None:
        return self._view

    def set_view(self, view: NativeView | None) -> None:
        """Show ``view`` (None: a run here, the panel hides)."""
        if view == self._view:
            return
        self._view = view
        self.setVisible(view is not None)
        if view is None:
            return
        self.header.setText(self._header_text(view))
        self.header.setToolTip(f"Native plan {view.plan_arn}")
        self._fill_steps(view.steps)
        self.pending.setText("\n".join(f"⏳ {text}" for text in view.pending))
        self.pending.setVisible(bool(view.pending))

    # -- for tests and the status line

    def step_statuses(self) -> list[tuple[str, str]]:
        """(step name, status) of each row, in DRS's order."""
        rows = []
        for row in range(self.steps.rowCount()):
            name, status = self.steps.item(row, NAME), self.steps.item(row, STATUS)
            rows.append((name.text() if name else "", status.text() if status else ""))
        return rows

    def header_text(self) -> str:
        return self.header.text()

    # -- helpers

    @staticmethod
    def _header_text(view: NativeView) -> str:
        how = "attached to an execution started elsewhere" if view.attached else "server-side"
        parts = [f"<b>Run in DRS</b> ({how})"]
        if view.native_name:
            parts.append(f"native plan {html.escape(view.native_name)!r}")
        status = html.escape(view.status_text)
        colour = _ERROR_COLOUR if view.status in ("FAILED", "CANCELLED") or view.start_refused else ""
        parts.append(
            f"DRS status: <span style='color: {colour}'><b>{status}</b></span>"
            if colour
            else (f"DRS status: <b>{status}</b>")
        )
        if view.observed_at is not None:
            parts.append(f"read {clock_text(view.observed_at)} UTC")
        text = " — ".join(parts)
        if view.execution_arn:
            text += f"<br>execution <code>{html.escape(view.execution_arn)}</code>"
        if view.error:
            text += f"<br><span style='color: {_ERROR_COLOUR}'>DRS: {html.escape(view.error)}</span>"
        return text

    def _fill_steps(self, rows: tuple[NativeStepRow, ...]) -> None:
        table = self.steps
        resize = table.rowCount() != len(rows)
        table.setRowCount(len(rows))
        for position, step in enumerate(rows):
            texts = (
                str(step.index),
                step.name,
                step.kind,
                step.wave_name,
                step.what,
                step.status.replace("_", " "),
                step.error,
            )
            for column, text in enumerate(texts):
                item = table.item(position, column)
                if item is None:
                    item = QTableWidgetItem()
                    table.setItem(position, column, item)
                if item.text() != text:
                    item.setText(text)
                if column in (STATUS, ERROR):
                    colour = (
                        _ERROR_COLOUR
                        if step.status in _FAILED
                        else (_DONE_COLOUR if step.status == "COMPLETED" else "")
                    )
                    item.setForeground(QBrush(QColor(colour)) if colour else QBrush())
                if column == ERROR:
                    item.setToolTip(text)
        if resize:
            table.resizeColumnsToContents()
            table.horizontalHeader().setSectionResizeMode(ERROR, QHeaderView.ResizeMode.Stretch)
