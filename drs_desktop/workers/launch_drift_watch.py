"""The GUI's one reading of launch settings drift, shared by the Servers view and the dashboard.

Why a watch and not a request per pane: the drift of every plan is one reading of DRS and EC2 (every
launch configuration, one listing of templates and subnets), and two panes asking for it on each refresh
would read it twice. The composition root asks the watch after each inventory refresh and after a plan
is saved; the panes listen to ``drift_read``. The reading runs on the ``aws`` task thread
(``workers.tasks``), never the GUI thread. A read asked while one is under way is asked again once it
answers (its answer may predate the change that asked), never queued twice.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from drs_desktop.domain.views.launch_drift import LaunchDrift
from drs_desktop.workers.pane_tasks import AwsServices, AwsTasks, launch_drift
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)


class LaunchDriftWatch(QObject):
    """Reads every plan's launch drift on the ``aws`` thread; says each answer or failure."""

    drift_read = Signal(object)  # LaunchDrift
    read_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("launch-drift-watch")
        self._aws: Requester[AwsServices] = Requester(self, self._failed)
        self._busy = False
        self._again = False
        self._latest: LaunchDrift | None = None
        self._error = ""

    def connect_tasks(self, aws: AwsTasks) -> None:
        self._aws.connect(aws)

    def latest(self) -> LaunchDrift | None:
        """The last good reading (None: none yet)."""
        return self._latest

    def error(self) -> str:
        """Why the last reading failed ("" when it did not)."""
        return self._error

    def is_busy(self) -> bool:
        return self._busy

    def read(self, *_: object) -> None:
        """Read every plan's drift again (slot-friendly: ignores what a signal passes)."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._aws("read_launch_drift", lambda s: launch_drift(s).read(), self._read)

    def forget(self) -> None:
        """The target changed: the last reading is another account's."""
        self._latest = None
        self._error = ""
        self.drift_read.emit(LaunchDrift())

    def _read(self, drift: LaunchDrift) -> None:
        self._busy = False
        self._latest = drift
        self._error = ""
        self.drift_read.emit(drift)
        self._next()

    def _failed(self, _operation: str, message: str) -> None:
        self._busy = False
        self._error = message
        logger.info("launch drift not read: %s", message)
        self.read_failed.emit(message)
        self._next()

    def _next(self) -> None:
        if self._again:
            self._again = False
            self.read()
