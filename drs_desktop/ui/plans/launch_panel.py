"""The Plans pane's launch settings line: the open plan's drift as last read, and the dialog's button.

The line comes from the app's one reading of every plan's drift (``workers.launch_drift_watch``), so
opening a plan costs no DRS call; the dialog reads the plan again on demand, on the ``aws`` thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from drs_desktop.domain.views.launch_drift import LaunchDrift
from drs_desktop.ui.change_hub import moment_text
from drs_desktop.ui.plans.launch_settings_dialog import LaunchSettingsDialog
from drs_desktop.workers.pane_tasks import AwsTasks


class LaunchPanel(QWidget):
    """One line ("Launch settings: 3 servers drifted (read 14:03:12 UTC)") and "Launch settings…"."""

    plan_saved = Signal(int)  # an accepted drift saved this revision of the open plan

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], datetime]) -> None:
        super().__init__(parent)
        self.setObjectName("plans-launch")
        self._clock = clock
        self._plan = ""
        self._drift: LaunchDrift | None = None
        self._tasks: AwsTasks | None = None
        self.dialog: LaunchSettingsDialog | None = None
        self.line = QLabel()
        self.line.setObjectName("plans-launch-line")
        self.line.setWordWrap(True)
        self.button = QPushButton("Launch settings…")
        self.button.setObjectName("plans-launch-settings")
        self.button.setToolTip("The plan's launch settings against DRS and EC2: drift, accept, apply")
        self.button.clicked.connect(self.open_dialog)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line)
        layout.addWidget(self.button)
        self.set_plan("")

    def connect_tasks(self, tasks: AwsTasks) -> None:
        self._tasks = tasks

    def set_plan(self, name: str) -> None:
        """The plan open in the editor ("" none, or not saved yet)."""
        self._plan = name
        self.button.setEnabled(bool(name) and self._tasks is not None)
        self._show()

    def set_drift(self, drift: LaunchDrift | None) -> None:
        self._drift = drift
        self._show()

    def text(self) -> str:
        return self.line.text()

    def open_dialog(self) -> LaunchSettingsDialog | None:
        """The open plan's launch settings dialog, read at once on the ``aws`` thread."""
        if not self._plan or self._tasks is None:
            return None
        if self.dialog is not None:
            self.dialog.close()
        dialog = self.dialog = LaunchSettingsDialog(self._plan, self, clock=self._clock)
        dialog.plan_saved.connect(self.plan_saved)
        dialog.finished.connect(lambda _code: setattr(self, "dialog", None))
        dialog.connect_tasks(self._tasks)
        dialog.open()
        dialog.read()
        return dialog

    def _show(self) -> None:
        drift, name = self._drift, self._plan
        plan = drift.plan(name) if drift is not None and name else None
        if drift is None or drift.read_at is None or not name:
            self.line.setText("")
        elif plan is None:
            self.line.setText("Launch settings: none desired.")
        else:
            read = moment_text(drift.read_at, self._clock())
            self.line.setText(f"{plan.summary().capitalize()} (read {read}).")
        self.line.setVisible(bool(self.line.text()))
