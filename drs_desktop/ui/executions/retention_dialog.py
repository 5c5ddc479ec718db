"""History's "Apply retention…": every execution a retention deletes and every one it keeps, with why,
and the deletion only after an explicit confirmation (issue 18, item 6).

Why a checkbox and a button that names the count: deleting history deletes evidence, for the team too
(a deletion syncs as a tombstone), so the operator reads the list, ticks that they did, and presses a
button that says how many go. The list and the deletion run on the ``local`` task thread
(``services.retention``: the list is read again there, and a run that changed since is kept and said);
the GUI thread only shows answers. Nothing here runs on a timer.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.views.retention import KeptRun, RetentionPlan, RunFacts
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks, RetentionOutcome, retention
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

__all__ = ["RetentionDialog"]

_ERROR_STYLE = "color: #b00020"
GOES_COLUMNS = ("Plan", "Mode", "Started (UTC)", "Ended (UTC)", "How it ended", "Evidence files")
KEPT_COLUMNS = ("Plan", "Mode", "Ended (UTC)", "How it ended", "Why it is kept")


class RetentionDialog(QDialog):
    """The retention's list and its confirmation; ``tasks`` is the ``local`` thread."""

    deleted = Signal(object)  # RetentionOutcome, after a deletion (the history refreshes on it)

    def __init__(self, tasks: LocalTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("retention-dialog")
        self.setWindowTitle("Apply retention to the execution history")
        self._ask: Requester[LocalServices] = Requester(self, self._failed)
        self._ask.connect(tasks)
        self.plan: RetentionPlan | None = None
        self._busy = False
        self._note = ("", False)  # what the last deletion did: said again under the new list

        self.days_spin = QSpinBox()
        self.days_spin.setObjectName("retention-days")
        self.days_spin.setRange(0, 36_500)
        self.days_spin.setSuffix(" days")
        self.days_spin.setSpecialValueText("keep everything (0)")
        self.list_button = QPushButton("List what goes")
        self.list_button.setObjectName("retention-list")
        self.list_button.clicked.connect(self.request_plan)
        self.summary = QLabel()
        self.summary.setObjectName("retention-summary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)  # names and paths shown as typed
        self.summary.setWordWrap(True)
        self.goes_table = _table("retention-goes", GOES_COLUMNS)
        self.kept_table = _table("retention-kept", KEPT_COLUMNS)
        self.confirm_check = QCheckBox(
            "I have read the list: delete these executions, their journals and their evidence files for "
            "good (with team sync, on the team's desktops too)"
        )
        self.confirm_check.setObjectName("retention-confirm")
        self.confirm_check.toggled.connect(self._update_buttons)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("retention-delete")
        self.delete_button.clicked.connect(self.delete_listed)
        self.status_label = QLabel()
        self.status_label.setObjectName("retention-status")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)  # names and paths shown as typed
        self.status_label.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        days_row = QHBoxLayout()
        days_row.addWidget(QLabel("Keep finished executions for"))
        days_row.addWidget(self.days_spin)
        days_row.addWidget(self.list_button)
        days_row.addStretch(1)
        note = QLabel(
            "A finished execution whose end is older than this goes with its journal and the evidence "
            "files the app wrote for it. Never deleted: an unfinished run, a drill with instances still "
            "running or launch templates that may still point at a drill version, a run with open "
            "findings or a sync conflict. The days start from the setting (Settings, Retention); nothing "
            "is deleted before you confirm below."
        )
        note.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.delete_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(days_row)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Goes:"))
        layout.addWidget(self.goes_table, 2)
        layout.addWidget(QLabel("Kept:"))
        layout.addWidget(self.kept_table, 1)
        layout.addWidget(self.confirm_check)
        layout.addWidget(self.status_label)
        layout.addLayout(bottom)
        self.resize(900, 600)
        self._update_buttons()

    # -- requests ------------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the setting, then list what it deletes."""
        self._set_busy(True, "Reading the retention setting…")
        self._ask("load_retention_days", lambda s: retention(s).days(), self._days_loaded)

    def request_plan(self) -> None:
        days = self.days_spin.value()
        self._set_busy(True, "Reading the history…")
        self._ask("list_retention", lambda s: retention(s).plan(days), self.show_plan)

    def delete_listed(self) -> bool:
        """Delete what the shown list says goes; only once the confirmation is ticked."""
        plan = self.plan
        if plan is None or not plan.goes or not self.confirm_check.isChecked() or self._busy:
            return False
        self._set_busy(True, f"Deleting {len(plan.goes)} execution(s)…")
        self._ask("apply_retention", lambda s: retention(s).apply(plan), self._deleted)
        return True

    # -- answers -------------------------------------------------------------------------------------

    def _days_loaded(self, days: int) -> None:
        self.days_spin.setValue(days)
        self.request_plan()

    def show_plan(self, plan: RetentionPlan) -> None:
        self.plan = plan
        self._busy = False
        self.confirm_check.setChecked(False)
        _fill(self.goes_table, [_goes_row(f) for f in plan.goes])
        _fill(self.kept_table, [_kept_row(k) for k in plan.kept])
        if plan.cutoff is None:
            self.summary.setText("The retention keeps everything (0 days): nothing goes.")
        else:
            self.summary.setText(
                f"{len(plan.goes)} execution(s) go: finished before {plan.cutoff:%Y-%m-%d %H:%M} UTC. "
                f"{len(plan.kept)} kept ({len(plan.held)} of them old enough, held back for the reason "
                "shown)."
            )
        text, error = self._note
        self.status_label.setText(text)
        self.status_label.setStyleSheet(_ERROR_STYLE if error else "")
        self._update_buttons()

    def _deleted(self, outcome: RetentionOutcome) -> None:
        self._busy = False
        self._note = (outcome.describe(), bool(outcome.files_failed or outcome.kept))
        self.deleted.emit(outcome)
        self.request_plan()

    def _failed(self, operation: str, message: str) -> None:
        self._busy = False
        self.status_label.setStyleSheet(_ERROR_STYLE)
        self.status_label.setText(f"Could not {operation.replace('_', ' ')}: {message}")
        self._update_buttons()

    # -- helpers -------------------------------------------------------------------------------------

    def status_text(self) -> str:
        return self.status_label.text()

    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        self.status_label.setStyleSheet("")
        self.status_label.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        count = len(self.plan.goes) if self.plan is not None else 0
        self.delete_button.setText(f"Delete {count} execution(s)")
        self.confirm_check.setEnabled(count > 0 and not self._busy)
        self.delete_button.setEnabled(count > 0 and self.confirm_check.isChecked() and not self._busy)
        self.list_button.setEnabled(not self._busy)


def _table(name: str, columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))


def _when(facts: RunFacts) -> str:
    return f"{facts.finished_at:%Y-%m-%d %H:%M}" if facts.finished_at else "—"


def _goes_row(facts: RunFacts) -> tuple[str, ...]:
    files = ", ".join(f.rsplit("/", 1)[-1] for f in facts.evidence_files) or "none"
    started = f"{facts.started_at:%Y-%m-%d %H:%M}"
    return (facts.plan_name, facts.mode.capitalize(), started, _when(facts), facts.ended, files)


def _kept_row(kept: KeptRun) -> tuple[str, ...]:
    facts = kept.facts
    return (facts.plan_name, facts.mode.capitalize(), _when(facts), facts.ended, "; ".join(kept.reasons))
