"""Start and stop a worker QObject on its own QThread, the one way every worker of the app does it.

Why a helper: a QThread destroyed while it runs aborts the process, and a test that leaves one running
aborts the whole pytest run (DESIGN §3.6). ``WorkerThread`` moves the worker onto a fresh thread, and
``stop()`` quits the thread's event loop and waits for it, after giving the worker a chance to release
what it holds on its own thread (``on_stop`` runs there, right before the thread ends: the place to
close a per-thread SQLite connection or boto3 session).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread

from drs_desktop.workers.thread_state import ThreadStatePin

logger = logging.getLogger(__name__)


class WorkerThread(QObject):
    """One QThread running one worker. The worker must have no parent (Qt cannot move a child)."""

    def __init__(
        self,
        worker: QObject,
        name: str,
        *,
        on_stop: Callable[[], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._name = name
        self._thread = QThread(self)
        self._thread.setObjectName(name)
        worker.moveToThread(self._thread)
        # PySide6 gives each queued slot call a fresh Python thread state, which would drop the
        # thread's threading.local data (boto3 clients, SQLite readers) between calls: pin it for the
        # life of the thread (workers/thread_state.py). started/finished are emitted on the new thread;
        # direct connections run these there.
        self._pin = ThreadStatePin()
        self._thread.started.connect(self._pin.pin, Qt.ConnectionType.DirectConnection)
        if on_stop is not None:
            self._thread.finished.connect(on_stop, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._pin.unpin, Qt.ConnectionType.DirectConnection)

    @property
    def worker(self) -> QObject:
        return self._worker

    @property
    def qthread(self) -> QThread:
        """The QThread the worker lives on (QObject.thread() would give this object's own)."""
        return self._thread

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def start(self) -> None:
        if not self._thread.isRunning():
            self._thread.start()
            logger.debug("worker thread %s started", self._name)

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Quit the thread's event loop and wait for it; True once the thread has ended.

        A slot still running finishes first (Qt cannot interrupt it), so slots must not block for long.
        """
        if not self._thread.isRunning():
            return True
        self._thread.quit()
        ended = bool(self._thread.wait(timeout_ms))
        if ended:
            logger.debug("worker thread %s stopped", self._name)
        else:
            logger.error("worker thread %s did not stop within %d ms", self._name, timeout_ms)
        return ended
