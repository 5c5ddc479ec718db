"""The status bar's team sync item: one line that is always true, and the way to the conflicts.

It shows what the sync worker last read or reported (``domain.views.sync_status.status_text``): off, a
round's progress, failing or offline since when (with the error in one line), conflicts, changes
waiting, or up to date with the time of the last successful sync; the tooltip holds every detail. A
click opens the conflicts dialog (``conflicts_requested``; the composition root opens it).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QToolButton, QWidget

from drs_desktop.domain.views.sync_status import SyncProgress, SyncStatus, status_details, status_text
from drs_desktop.workers.sync_worker import SyncWorker

_ERROR_STYLE = "color: #b00020"
_WARNING_STYLE = "color: #8a4b00"


class SyncStatusWidget(QToolButton):
    """A flat button in the status bar, fed by a ``SyncWorker``."""

    conflicts_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sync-status")
        self.setAutoRaise(True)
        self._status: SyncStatus | None = None
        self._progress: SyncProgress | None = None
        self.clicked.connect(self.conflicts_requested.emit)
        self._update()

    def connect_worker(self, worker: SyncWorker) -> None:
        worker.status_changed.connect(self.set_status)
        worker.progressed.connect(self.set_progress)

    def set_status(self, status: SyncStatus) -> None:
        self._status = status
        self._update()

    def set_progress(self, progress: SyncProgress | None) -> None:
        self._progress = progress
        self._update()

    def _update(self) -> None:
        status, progress = self._status, self._progress
        self.setText(status_text(status, progress))
        self.setMinimumWidth(0)
        self.setMinimumWidth(self.sizeHint().width())  # the whole line: the other labels give way
        self.setToolTip(status_details(status))
        style = ""
        if status is not None and status.configured and progress is None:
            if status.failing:
                style = _ERROR_STYLE
            elif status.conflicts:
                style = _WARNING_STYLE
        self.setStyleSheet(style)
