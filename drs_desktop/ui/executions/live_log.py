"""The progress view's event log: lines appended in batches, a pass of the event loop at a time.

Why its own widget: a snapshot of a 1,000-server execution can bring hundreds of lines at once, and
appending them inside the update would stall the GUI thread (DESIGN §3). ``enqueue`` only queues them;
a zero-interval timer appends ``LOG_BATCH`` lines per pass until the queue is empty. The lines are
those of ``views.event_log``: the same as the History log and the report's.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QPlainTextEdit, QWidget

logger = logging.getLogger(__name__)

#: The event log keeps this many lines (the journal keeps everything).
LOG_MAX_LINES = 5000
#: Lines appended per pass of the event loop, so a burst of 1,000 servers' events never stalls it.
LOG_BATCH = 250


class LiveLog(QPlainTextEdit):
    """A read-only, unwrapped log whose appends are spread over passes of the event loop."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progress-log")
        self.setReadOnly(True)
        self.setMaximumBlockCount(LOG_MAX_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._queue: deque[str] = deque()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._drain)

    def enqueue(self, lines: Iterable[str]) -> None:
        """Queue ``lines``; they appear over the next passes of the event loop."""
        self._queue.extend(lines)
        if self._queue and not self._timer.isActive():
            self._timer.start()

    def reset(self) -> None:
        """Empty the log and drop what is queued (another execution is shown)."""
        self.clear()
        self._queue.clear()

    def lines(self) -> list[str]:
        """What the log shows, the lines still queued included."""
        return self.toPlainText().splitlines() + list(self._queue)

    def _drain(self) -> None:
        batch = [self._queue.popleft() for _ in range(min(LOG_BATCH, len(self._queue)))]
        if batch:
            self.appendPlainText("\n".join(batch))
        if self._queue:
            self._timer.start()
