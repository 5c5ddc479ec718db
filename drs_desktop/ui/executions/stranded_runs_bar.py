"""Unfinished runs this session will not pick up again, above the executions pane, each with why.

A demo run after a restart (its simulator world ended with the application) or a run against another
target would otherwise sit RUNNING in the history forever, or worse be resumed against the wrong DRS.
The bar lists them (``ExecutionDesk.load_stranded``); a run whose world is gone, or any the operator
chooses, can be ended here with a reason (``AbandonDialog``, ``ExecutionDesk.abandon``) that is journaled.
Hidden when there is none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.views.stranded import StrandedRun
from drs_desktop.ui.executions.abandon_dialog import ask_reason
from drs_desktop.workers.execution_desk import ExecutionDesk

logger = logging.getLogger(__name__)

_STYLE = "QFrame#stranded-runs { background: #fff4d6; border: 1px solid #d8a200; }"


class StrandedRunsBar(QFrame):
    ended = Signal(str)  # execution ID: ended with its reason journaled

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stranded-runs")
        self.setStyleSheet(_STYLE)
        #: Asks for the reason (None: keep the run). Replaceable for tests and embedding.
        self.ask: Callable[[StrandedRun, QWidget | None], str | None] = ask_reason
        self._desk: ExecutionDesk | None = None
        self._runs: list[StrandedRun] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 8, 4)
        self.message = QLabel()
        self.message.setObjectName("stranded-runs-message")
        self.message.setWordWrap(True)
        self._layout.addWidget(self.message)
        self.buttons: dict[str, QPushButton] = {}
        self._rows: list[QWidget] = []
        self.setVisible(False)

    def connect_desk(self, desk: ExecutionDesk) -> None:
        self._desk = desk
        desk.stranded_loaded.connect(self.show_runs)
        desk.abandoned.connect(self._on_abandoned)
        desk.failed.connect(self._on_failed)

    def refresh(self) -> None:
        if self._desk is not None:
            self._desk.load_stranded()

    def place_above(self, view: QWidget) -> None:
        """Put the bar at the top of ``view``'s own box layout (the live progress view)."""
        layout = view.layout()
        if isinstance(layout, QBoxLayout):
            layout.insertWidget(0, self)

    def runs(self) -> list[StrandedRun]:
        return list(self._runs)

    def show_runs(self, runs: list[StrandedRun]) -> None:
        self._runs = list(runs)
        for row in self._rows:
            self._layout.removeWidget(row)
            row.deleteLater()
        self._rows.clear()
        self.buttons.clear()
        for run in self._runs:
            self._add_row(run)
        count = len(self._runs)
        self.message.setText(
            f"{count} unfinished execution(s) will not be picked up again in this session:" if count else ""
        )
        self.setVisible(bool(count))

    def end_run(self, execution_id: str) -> None:
        """Ask for the reason and end the run (the button's action)."""
        run = next((r for r in self._runs if r.record.execution_id == execution_id), None)
        if run is None or self._desk is None:
            return
        reason = self.ask(run, self.window())
        if reason:
            self.buttons[execution_id].setEnabled(False)
            self._desk.abandon(execution_id, reason)

    def _add_row(self, run: StrandedRun) -> None:
        record = run.record
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        label = QLabel(
            f"{record.plan_name} {record.mode.lower()} {record.execution_id[:8]}, started "
            f"{record.started_at:%Y-%m-%d %H:%M} UTC: {run.reason}"
        )
        label.setWordWrap(True)
        button = QPushButton("End run…")
        button.setObjectName(f"end-run-{record.execution_id}")
        button.setToolTip(
            "Record it as abandoned with a reason; it is not resumed again. DRS is not touched."
        )
        button.clicked.connect(lambda _checked=False, eid=record.execution_id: self.end_run(eid))
        line.addWidget(label, 1)
        line.addWidget(button)
        self._layout.addWidget(row)
        self._rows.append(row)
        self.buttons[record.execution_id] = button

    def _on_abandoned(self, record: ExecutionRecord) -> None:
        self.show_runs([r for r in self._runs if r.record.execution_id != record.execution_id])
        self.ended.emit(record.execution_id)

    def _on_failed(self, operation: str, message: str) -> None:
        if operation == "abandon":
            self.message.setText(f"Could not end the run: {message}")
            for button in self.buttons.values():
                button.setEnabled(True)
