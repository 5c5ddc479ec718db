"""The poll timer: asks the execution worker to step every N ms, never twice at once (DESIGN §3.5).

The QTimer lives on the GUI thread; the step runs on the worker's thread. A step against AWS can take
longer than the interval (DRS throttling, a slow network): queuing a second request behind it would
only pile up steps that each find nothing new, and delay the operator's controls queued behind them.
So a tick while a step is in flight is skipped (and counted), and the next tick after the worker's
``stepped`` answer sends the next request. The timer runs only while the worker drives an execution.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal, Slot

logger = logging.getLogger(__name__)

#: The GUI's default tick. The engine paces the DRS calls itself (``WakeAt``); a tick with nothing due
#: is a pure ``decide`` on the worker thread, so a short interval costs little and shows time moving.
DEFAULT_INTERVAL_MS = 1000


class ExecutionPoller(QObject):
    step_requested = Signal()

    def __init__(self, interval_ms: int = DEFAULT_INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, interval_ms))
        self._timer.timeout.connect(self._tick)
        self._in_flight = False
        self.ticks = 0
        self.skipped = 0
        self.requests = 0

    def attach(self, worker: QObject) -> None:
        """Connect to an ``ExecutionWorker``: step requests out; ``stepped`` and ``active_changed`` in."""
        self.step_requested.connect(worker.step)  # type: ignore[attr-defined]
        worker.stepped.connect(self.on_stepped)  # type: ignore[attr-defined]
        worker.active_changed.connect(self.on_active_changed)  # type: ignore[attr-defined]

    @property
    def in_flight(self) -> bool:
        return self._in_flight

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def set_interval_ms(self, interval_ms: int) -> None:
        self._timer.setInterval(max(1, interval_ms))

    def is_active(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        if not self._timer.isActive():
            self._timer.start()
            logger.debug("execution poller started (%d ms)", self._timer.interval())

    def stop(self) -> None:
        """Stop ticking (at shutdown: before the worker's thread is stopped)."""
        self._timer.stop()

    @Slot()
    def on_stepped(self) -> None:
        self._in_flight = False

    @Slot(int)
    def on_active_changed(self, count: int) -> None:
        if count > 0:
            self.start()
        else:
            self.stop()

    @Slot()
    def _tick(self) -> None:
        self.ticks += 1
        if self._in_flight:
            self.skipped += 1
            return
        self._in_flight = True
        self.requests += 1
        self.step_requested.emit()
