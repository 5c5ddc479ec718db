"""One execution's loop on a thread of its own, and the board where loops leave news for the GUI thread.

``ExecutionLoop`` is a QThread whose ``run()`` is the execution's whole life in this process: build the
thread's own services (its DRS gateway and read connection, DESIGN §3.5), take the driver lock and open the
execution (a new one, or one resumed from its journal), then ``ExecutionSession.drive``: the CLI's
``ExecutionRunner.run()`` loop, asleep until the engine's next wake-up, an operator's control or one
another process queued in the control inbox. It ends when the execution has nothing left to do, or when
``stop()`` asks (window closed): the session gives the driver lock back and the thread closes its
clients. Python owns the thread's whole run, so nothing it builds needs a thread-local.

Loops never touch widgets or signals: they leave news on a ``SnapshotBoard``, the latest snapshot of each
execution (a newer one folds an unshown older one in: ``views.progress.coalesce``, never a queue) and
notices (opened, busy, failed, refused; kept in order). The GUI thread takes it on a timer
(``workers.execution_desk``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread

from drs_desktop.domain.engine.controls import ControlRequest
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.progress import ProgressSnapshot, coalesce
from drs_desktop.services.driver_lock import DriverBusyError
from drs_desktop.services.execution_session import ExecutionServices, ExecutionSession, Pace
from drs_desktop.services.runner import ControlRefused
from drs_desktop.workers.tasks import error_message

logger = logging.getLogger(__name__)

Control = ControlRequest | Event
#: Builds one thread's services (its own gateway and reader); called on the loop's thread.
ServicesFactory = Callable[[], ExecutionServices]
#: Opens the execution with the thread's services: ``open_new(record)`` or ``resume(execution_id)``.
Opener = Callable[[ExecutionServices], ExecutionSession]


@dataclass(frozen=True)
class LoopOpened:
    record: ExecutionRecord
    resumed: bool


@dataclass(frozen=True)
class LoopBusy:
    """Another process drives the execution: nothing was journaled; ``controls`` were not applied."""

    execution_id: str
    message: str
    controls: tuple[Control, ...]


@dataclass(frozen=True)
class LoopFailed:
    execution_id: str
    operation: str  # "start", "resume", "take_over" or "drive"
    message: str


@dataclass(frozen=True)
class LoopRefused:
    execution_id: str
    reason: str


Notice = LoopOpened | LoopBusy | LoopFailed | LoopRefused


class SnapshotBoard:
    """Thread-safe: loops ``post`` and ``notice``; the GUI thread ``take``s everything at its own pace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, ProgressSnapshot] = {}
        self._notices: list[Notice] = []

    def post(self, snapshot: ProgressSnapshot) -> None:
        with self._lock:
            older = self._latest.get(snapshot.execution_id)
            self._latest[snapshot.execution_id] = snapshot if older is None else coalesce(older, snapshot)

    def notice(self, notice: Notice) -> None:
        with self._lock:
            self._notices.append(notice)

    def take(self) -> tuple[list[Notice], list[ProgressSnapshot]]:
        """Every notice in order, then the latest snapshot of each execution; the board is left empty."""
        with self._lock:
            notices, self._notices = self._notices, []
            snapshots = list(self._latest.values())
            self._latest.clear()
        return notices, snapshots

    def pending(self) -> bool:
        with self._lock:
            return bool(self._notices or self._latest)


class ExecutionLoop(QThread):
    """Drives one execution until it has nothing left to do or ``stop()``; see the module docstring."""

    def __init__(
        self,
        execution_id: str,
        services: ServicesFactory,
        open_session: Opener,
        board: SnapshotBoard,
        *,
        resumed: bool,
        controls: tuple[Control, ...] = (),
        pace: Pace | None = None,
        operation: str = "",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"execution-{execution_id[:8]}")
        self._operation = operation  # what a failure to open is reported as ("" : start or resume)
        self._execution_id = execution_id
        self._make_services = services
        self._open = open_session
        self._board = board
        self._resumed = resumed
        self._pace = pace
        self._lock = threading.Lock()
        self._pending: list[Control] = list(controls)  # controls given before the session is open
        self._session: ExecutionSession | None = None
        self._ended = False
        self._stopping = False

    @property
    def execution_id(self) -> str:
        return self._execution_id

    def submit(self, control: Control) -> bool:
        """Queue an operator control (from the GUI thread): the sleeping loop wakes for it at once.
        ControlRefused when it names nothing to act on; False when the loop has ended or could not open
        the execution (nothing queued: the caller resumes the execution, or queues it for its driver)."""
        with self._lock:
            session = self._session
            if session is None:
                if self._ended:
                    return False
                self._pending.append(control)
                return True
        return session.submit(control)

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Ask the loop to end, wake it, and wait for the thread; True once it has ended. A DRS call in
        flight finishes first (the runner journals its answer)."""
        with self._lock:
            self._stopping = True
            session = self._session
        if session is not None:
            session.stop()
        if not self.isRunning():
            return True
        ended = bool(self.wait(timeout_ms))
        if not ended:
            logger.error("execution loop %s did not stop within %d ms", self._execution_id, timeout_ms)
        return ended

    def run(self) -> None:  # the thread's whole life: Qt calls it once, on the new thread
        operation = self._operation or ("resume" if self._resumed else "start")
        try:
            services = self._make_services()
        except Exception as exc:
            logger.exception("execution %s: no services for its loop", self._execution_id)
            self._fail(operation, exc)
            return
        try:
            self._open_and_drive(services, operation)
        finally:
            try:
                services.close()
            except Exception:
                logger.exception("execution %s: closing the loop's services failed", self._execution_id)

    def _open_and_drive(self, services: ExecutionServices, operation: str) -> None:
        try:
            session = self._open(services)
        except DriverBusyError as busy:
            with self._lock:
                self._ended = True
                controls, self._pending = tuple(self._pending), []
            logger.info("execution %s: %s", self._execution_id, busy)
            self._board.notice(LoopBusy(self._execution_id, str(busy), controls))
            return
        except Exception as exc:
            self._fail(operation, exc)
            return
        try:
            with self._lock:
                self._session = session
                pending, self._pending = self._pending, []
                stopping = self._stopping
            self._board.notice(LoopOpened(session.record, self._resumed))
            for control in pending:
                try:
                    session.submit(control)
                except ControlRefused as refused:
                    self._board.notice(LoopRefused(self._execution_id, str(refused)))
            if not stopping:
                session.drive(self._board.post, pace=self._pace)
        except Exception as exc:
            self._fail("drive", exc)
        finally:
            session.close()

    def _fail(self, operation: str, exc: Exception) -> None:
        with self._lock:
            self._ended = True
            self._pending = []
        if isinstance(exc, DrsDesktopError):
            logger.warning("execution %s: %s failed: %s", self._execution_id, operation, exc)
        else:
            logger.exception("execution %s: %s failed unexpectedly", self._execution_id, operation)
        self._board.notice(LoopFailed(self._execution_id, operation, error_message(exc)))
