"""What the three native-plan dialogs (publish, drift, import) share, so that they behave alike.

Each runs one DRS job at a time on the ``aws`` task thread (never on the GUI thread) and says in one
status line what it is doing, what came back, or, in red, why it failed (the first line of the error).
While a job runs, a progress bar turns and the dialog's action buttons are off: the subclass says which
buttons are on in ``_update_buttons``, called after every change of the busy state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QWidget

from drs_desktop.ui.change_hub import moment_text
from drs_desktop.workers.pane_tasks import AwsTasks

ERROR_STYLE = "color: #b00020"


class NativeTaskDialog(QDialog):
    """A dialog with a status line, a busy bar and a Close button, running its jobs on ``tasks``."""

    def __init__(
        self,
        tasks: AwsTasks,
        object_name: str,
        title: str,
        size: tuple[int, int],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(*size)
        self._tasks = tasks
        self._busy = False
        self.status_label = QLabel()
        self.status_label.setObjectName(f"{object_name.removesuffix('-dialog')}-status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)

    def _start(
        self, doing: str, job: Callable[[Any], Any], done: Callable[[Any], None], failure: str, name: str
    ) -> None:
        """Says ``doing`` (busy) and runs ``job`` on the ``aws`` thread; its answer goes to ``done``, its
        error to the status line after ``failure``. The dialog owns the task, so an answer after it
        closed is dropped."""
        self._set_busy(True, doing)
        self._tasks.run_task(job, done, lambda message: self._failed(failure, message), owner=self, name=name)

    def _button_row(self, *left: QWidget, right: tuple[QWidget, ...] = ()) -> QHBoxLayout:
        """The bottom row: the busy bar and ``left``, a stretch, then ``right`` and Close."""
        row = QHBoxLayout()
        for widget in (self.busy_bar, *left):
            row.addWidget(widget)
        row.addStretch(1)
        for widget in (*right, self.close_button):
            row.addWidget(widget)
        return row

    def is_busy(self) -> bool:
        return self._busy

    def status_text(self) -> str:
        return self.status_label.text()

    def _failed(self, what: str, message: str) -> None:
        line = message.splitlines()[0] if message else "no reason given"
        self._set_busy(False, f"{what}: {line}", error=True)

    def _set_busy(self, busy: bool, text: str, *, error: bool = False) -> None:
        self._busy = busy
        self.busy_bar.setVisible(busy)
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")
        self.status_label.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        """Turns the dialog's action buttons on or off for the busy state and what was read."""


def details_view(object_name: str) -> QPlainTextEdit:
    """The read-only text under the status line: what will be sent, what drifted."""
    details = QPlainTextEdit()
    details.setObjectName(object_name)
    details.setReadOnly(True)
    return details


def read_at_line(read_at: datetime) -> str:
    """When DRS was read, so that the operator knows how old what the dialog shows is."""
    return f"DRS read {moment_text(read_at)}."
