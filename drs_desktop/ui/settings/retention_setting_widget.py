"""The Settings page's Retention section: how many days a finished execution and its evidence are kept
(``retention.executions_days``; 0, the default, keeps everything).

Why saving it deletes nothing: the retention is applied by a person who has seen the list (History,
"Apply retention…", or ``drs-desktop executions prune``), never in the background; the words here say
so. The setting is read and saved on the ``local`` task thread (it is a row of the database).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks, retention
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

__all__ = ["RetentionSettingWidget"]

_ERROR_STYLE = "color: #b00020"


class RetentionSettingWidget(QGroupBox):
    """The retention setting, with what it does in words, and its own Save."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Retention of executions and evidence", parent)
        self.setObjectName("retention-setting")
        self._ask: Requester[LocalServices] = Requester(self, self._failed)
        self._connected = False
        self.days_spin = QSpinBox()
        self.days_spin.setObjectName("retention-setting-days")
        self.days_spin.setRange(0, 36_500)
        self.days_spin.setSuffix(" days")
        self.days_spin.setSpecialValueText("keep everything (0)")
        self.save_button = QPushButton("Save retention")
        self.save_button.setObjectName("retention-setting-save")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save)
        self.status = QLabel()
        self.status.setObjectName("retention-setting-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # names and paths shown as typed
        self.status.setWordWrap(True)
        words = QLabel(
            "Keep a finished execution, its journal and the evidence files the app wrote for it this many "
            "days after it ended; 0 keeps everything. Saving deletes nothing: History's \"Apply "
            'retention…" (or drs-desktop executions prune) lists what would go and what is kept and why, '
            "and deletes only once you confirm. With team sync, a deletion reaches the team's desktops."
        )
        words.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Keep finished executions for"))
        row.addWidget(self.days_spin)
        row.addWidget(self.save_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(words)
        layout.addLayout(row)
        layout.addWidget(self.status)

    def connect_tasks(self, tasks: LocalTasks) -> None:
        """Read and save on ``tasks`` (the ``local`` thread) from now on; reads the setting."""
        self._ask.connect(tasks)
        self._connected = True
        self._ask("load_retention", lambda s: retention(s).days(), self.show_days)

    def save(self) -> bool:
        if not self._connected:
            return False
        days = self.days_spin.value()
        self.save_button.setEnabled(False)
        self._ask("save_retention", lambda s: retention(s).set_days(days), self._saved)
        return True

    def show_days(self, days: int) -> None:
        self.days_spin.setValue(days)
        self.save_button.setEnabled(True)

    def _saved(self, days: int) -> None:
        self.show_days(days)
        self.status.setStyleSheet("")
        self.status.setText(
            "Saved: everything is kept." if days == 0 else f"Saved: {days} days. Nothing was deleted."
        )

    def _failed(self, operation: str, message: str) -> None:
        self.save_button.setEnabled(self._connected)
        self.status.setStyleSheet(_ERROR_STYLE)
        self.status.setText(f"Could not {operation.replace('_', ' ')}: {message}")
