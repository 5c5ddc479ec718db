"""How a stopped run ends, above the progress tree: the live view and the history's Progress tab.

A cancelled run is CANCELLING while DRS's jobs go on (DRS cannot cancel a job): the panel names the jobs
and when the run stops waiting for them. Once the run has ended it says how, how many servers ended in
each final state, which DRS jobs were still running, and, after a RECOVERY, which recovery instances it
launched run in production and what comes next (failing back after a complete recovery; a deliberate
decision per instance after a cancelled or partial one). Those are production instances: the panel never
offers to "clean them up". It shows ``ProgressSnapshot.end``
(``views.end_states``) and nothing else, so it says exactly what ``executions show`` and the report say.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.views.end_states import EndStates
from drs_desktop.domain.views.progress import ProgressSnapshot

logger = logging.getLogger(__name__)

PRODUCTION_COLUMNS = ("Server", "Hostname", "Recovery instance", "EC2 instance", "Running since (UTC)")
_CANCELLING_STYLE = "QFrame#end-state { background: #fff4d6; border: 1px solid #d8a200; }"
_ENDED_STYLE = "QFrame#end-state { background: #eef0f2; border: 1px solid #9aa3ab; }"
_PRODUCTION_STYLE = "QFrame#end-state { background: #fdecea; border: 1px solid #b00020; }"
_RECOVERED_STYLE = "QFrame#end-state { background: #e8f5e9; border: 1px solid #2e7d32; }"


class EndStatePanel(QFrame):
    """Hidden while a run goes on; shows ``EndStates`` once it is stopped or has ended."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("end-state")
        self.headline = QLabel()
        self.headline.setObjectName("end-state-headline")
        self.headline.setWordWrap(True)
        self.details = QLabel()
        self.details.setObjectName("end-state-details")
        self.details.setWordWrap(True)
        self.production_title = QLabel()
        self.production_title.setObjectName("end-state-production-title")
        self.production = QTableWidget(0, len(PRODUCTION_COLUMNS))
        self.production.setObjectName("end-state-production")
        self.production.setHorizontalHeaderLabels(PRODUCTION_COLUMNS)
        self.production.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.production.verticalHeader().setVisible(False)
        self.production.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.production.horizontalHeader().setStretchLastSection(True)
        self.advice = QLabel()
        self.advice.setObjectName("end-state-advice")
        self.advice.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        for widget in (self.headline, self.details, self.production_title, self.production, self.advice):
            layout.addWidget(widget)
        self._end: EndStates | None = None
        self._plain: list[str] = []
        self.setVisible(False)

    def end(self) -> EndStates | None:
        return self._end

    def show_snapshot(self, snapshot: ProgressSnapshot) -> None:
        end = snapshot.end
        if end == self._end:
            return
        self._end = end
        if end is None:
            self._plain = []
            self.setVisible(False)
            return
        names = {row.server_id: row.hostname for rows in snapshot.servers for row in rows if row.hostname}
        self.headline.setText(f"<b>{html.escape(end.headline)}</b>")
        details = []
        if end.abandoned_reason is not None:
            by = f" by {end.abandoned_by}" if end.abandoned_by else ""
            details.append(f"Ended{by} without its DRS target: {end.abandoned_reason}")
        details += [
            f"Job {job} was still running in DRS when the run ended: instances it may launch are not known "
            "to this run (look in DRS)."
            for job in end.jobs_left_running
        ]
        if end.production_unknown:
            who = ", ".join(names.get(s, s) for s in end.production_unknown)
            details.append(f"May still launch in production (their DRS job did not end): {who}")
        self.details.setText("\n".join(details))
        self.details.setVisible(bool(details))
        title = self._fill_production(end, names)
        self._plain = [end.headline, *details, title, end.production_advice]
        if end.recovered:
            self.setStyleSheet(_RECOVERED_STYLE)
        elif end.production or end.production_unknown:
            self.setStyleSheet(_PRODUCTION_STYLE)
        else:
            self.setStyleSheet(_ENDED_STYLE if end.finished else _CANCELLING_STYLE)
        self.setVisible(True)

    def production_rows(self) -> list[list[str]]:
        """The production table's text, row by row (what the operator reads)."""
        rows = []
        for row in range(self.production.rowCount()):
            cells = [self.production.item(row, col) for col in range(self.production.columnCount())]
            rows.append([cell.text() if cell is not None else "" for cell in cells])
        return rows

    def text(self) -> str:
        """Everything the panel says, as plain text."""
        return "\n".join(self._plain)

    def _fill_production(self, end: EndStates, names: dict[str, str]) -> str:
        self.production.setRowCount(len(end.production))
        for row, instance in enumerate(end.production):
            since = f"{instance.since:%Y-%m-%d %H:%M:%S}" if instance.since else "not known"
            cells = (
                instance.server_id,
                names.get(instance.server_id, ""),
                instance.recovery_instance_id or "not known yet",
                instance.ec2_instance_id or "not known yet",
                since,
            )
            for col, text in enumerate(cells):
                self.production.setItem(row, col, QTableWidgetItem(text))
        height = self.production.horizontalHeader().height() + 4
        height += sum(self.production.rowHeight(r) for r in range(min(len(end.production), 6)))
        self.production.setFixedHeight(height)
        self.production.setVisible(bool(end.production))
        title = end.production_title
        self.production_title.setText(f"<b>{html.escape(title)}</b>" if title else "")
        self.production_title.setVisible(bool(title))
        self.advice.setText(end.production_advice)
        self.advice.setVisible(bool(end.production_advice))
        return title
