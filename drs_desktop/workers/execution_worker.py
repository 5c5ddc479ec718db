"""The execution worker: prepares, starts, resumes and steps executions on its own QThread (DESIGN §3).

It owns the runners (through ``ExecutionSession``s) and is driven by queued signals only: the run
dialog asks it to ``prepare`` (preflight) and ``start``; ``ExecutionPoller``'s timer asks it to ``step``
and it answers every step request with ``stepped`` (so the poller knows no step is in flight); the
progress view sends ``control``. Each slot catches every exception and answers ``failed(operation,
message)``; payloads are frozen domain values (``ProgressSnapshot``, ``ExecutionRecord``,
``PreflightReport``), plus the services' frozen ``PreparedExecution``, which the GUI only hands back.

Several executions may be driven at once (two unfinished ones picked up at start): each snapshot
names its execution. A finished execution stays until it has nothing left to do (cleanup of a drill's
instances included), then it is dropped; a control for an execution not held is applied after
resuming it from its journal (a drill's cleanup after the window was reopened).

Driving takes the execution's driver lock (``services.driver_lock``): a resume of an execution that a
``drs-desktop run`` in a terminal drives fails with the message naming that process, and a control for
it goes to that process's control inbox instead (``delivered``); a dropped session gives the lock back.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.execution_events import CONTROL_EVENTS
from drs_desktop.domain.operator_controls import ControlRequest, RunChoice
from drs_desktop.services.driver_lock import DriverBusyError
from drs_desktop.services.execution_session import ExecutionServices, ExecutionSession
from drs_desktop.workers.tasks import error_message
from drs_desktop.workers.thread_state import ThreadStatePin

logger = logging.getLogger(__name__)

_P = ParamSpec("_P")


def _guarded(
    operation: str,
) -> Callable[
    [Callable[Concatenate[ExecutionWorker, _P], None]], Callable[Concatenate[ExecutionWorker, _P], None]
]:
    def wrap(
        slot: Callable[Concatenate[ExecutionWorker, _P], None],
    ) -> Callable[Concatenate[ExecutionWorker, _P], None]:
        @functools.wraps(slot)
        def run(self: ExecutionWorker, *args: _P.args, **kwargs: _P.kwargs) -> None:
            try:
                self._pin_thread_state()
                slot(self, *args, **kwargs)
            except Exception as exc:
                if isinstance(exc, DrsDesktopError):
                    logger.warning("%s failed: %s", operation, exc)
                else:
                    logger.exception("%s failed unexpectedly", operation)
                self.failed.emit(operation, error_message(exc))

        return run

    return wrap


def _is_main_thread() -> bool:
    app = QCoreApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()


class ExecutionWorker(QObject):
    """Every execution operation of the GUI, on the worker's thread."""

    prepared = Signal(object, object)  # PreparedExecution, PreflightReport
    started = Signal(object)  # ExecutionRecord of a new execution
    resumed = Signal(object)  # ExecutionRecord of an execution picked up again
    progressed = Signal(object)  # ProgressSnapshot (only when something the operator sees changed)
    finished = Signal(str, object)  # execution ID, Outcome
    refused = Signal(str, str)  # execution ID, why a control was refused
    delivered = Signal(str, str)  # execution ID, message: a control queued for another process's driver
    stepped = Signal()  # a step request was handled (the poller's "no step in flight")
    active_changed = Signal(int)  # how many executions the worker drives now
    unfinished_loaded = Signal(object)  # list[ExecutionRecord]
    history_loaded = Signal(object)  # ProgressSnapshot, read-only
    report_written = Signal(str, str)  # execution ID, path written
    failed = Signal(str, str)  # operation (the slot's name), message for the operator

    def __init__(self, services: ExecutionServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._sessions: dict[str, ExecutionSession] = {}
        self._errors: dict[str, str] = {}
        self._pin = ThreadStatePin()

    # -- lifecycle

    @Slot()
    def close(self) -> None:
        """Release this thread's reader, DRS clients and Python thread state; ``WorkerThread(on_stop=
        worker.close)`` calls it on the worker's thread as it ends."""
        try:
            for session in self._sessions.values():
                session.close()
            self._services.close()
        except Exception:
            logger.exception("closing the execution worker's resources failed")
        finally:
            self._pin.unpin()

    def _pin_thread_state(self) -> None:
        """Keep this thread's Python state (its boto3 clients, its reader) between slot calls; only on
        the worker's own thread (see ``workers.thread_state``)."""
        if not self._pin.pinned and QThread.currentThread() is self.thread() and not _is_main_thread():
            self._pin.pin()

    def active_ids(self) -> list[str]:
        """Executions being driven (read from the worker's thread, or once it has stopped)."""
        return list(self._sessions)

    # -- starting

    @Slot(object)
    @_guarded("prepare")
    def prepare(self, choice: RunChoice) -> None:
        """Preflight: read the plan, the inventory and the account; launch nothing."""
        prepared, report = self._services.prepare(choice)
        self.prepared.emit(prepared, report)

    @Slot(object, object)
    @_guarded("start")
    def start(self, prepared: Any, choice: RunChoice) -> None:
        session = self._services.start(prepared, choice)
        self._adopt(session)
        self.started.emit(session.record)
        self.progressed.emit(session.snapshot())

    @Slot(str)
    @_guarded("resume")
    def resume(self, execution_id: str) -> None:
        if execution_id in self._sessions:
            self.progressed.emit(self._sessions[execution_id].snapshot())
            return
        session = self._services.resume(execution_id)
        self._adopt(session)
        self.resumed.emit(session.record)
        self.progressed.emit(session.snapshot())

    @Slot()
    @_guarded("load_unfinished")
    def load_unfinished(self) -> None:
        self.unfinished_loaded.emit(self._services.unfinished())

    @Slot()
    @_guarded("resume_unfinished")
    def resume_unfinished(self) -> None:
        """Pick up every execution the last run of the application left unfinished."""
        records = self._services.unfinished()
        self.unfinished_loaded.emit(records)
        for record in records:
            self.resume(record.execution_id)

    # -- driving

    @Slot()
    def step(self) -> None:
        """One step of every execution driven; always answered with ``stepped``."""
        try:
            self._pin_thread_state()
            for execution_id, session in list(self._sessions.items()):
                self._step(execution_id, session)
        finally:
            self.stepped.emit()

    def _step(self, execution_id: str, session: ExecutionSession) -> None:
        try:
            result = session.step()
        except Exception as exc:
            # Said once per problem, not once per tick: the poller keeps asking, the problem may last.
            message = error_message(exc)
            if self._errors.get(execution_id) != message:
                logger.exception("step of execution %s failed", execution_id)
                self._errors[execution_id] = message
                self.failed.emit("step", message)
            return
        self._errors.pop(execution_id, None)
        if result.snapshot is not None:
            for refusal in result.snapshot.refusals:
                self.refused.emit(execution_id, refusal)
            self.progressed.emit(result.snapshot)
        if result.finished is not None:
            self.finished.emit(execution_id, result.finished)
        if result.idle:
            del self._sessions[execution_id]
            session.close()
            logger.info("execution %s has nothing left to do; no longer driven", execution_id)
            self.active_changed.emit(len(self._sessions))

    @Slot(str, object)
    @_guarded("control")
    def control(self, execution_id: str, control: ControlRequest) -> None:
        """Queue an operator control and step at once, so the operator sees its effect now."""
        if not isinstance(control, ControlRequest) and not isinstance(control, CONTROL_EVENTS):
            raise TypeError(f"not an operator control: {type(control).__name__}")
        session = self._sessions.get(execution_id)
        if session is None:
            try:
                session = self._services.resume(execution_id)
            except DriverBusyError:
                self._deliver(execution_id, control)
                return
            self._adopt(session)
            self.resumed.emit(session.record)
        try:
            session.submit(control)
        except DrsDesktopError as refused:
            self.refused.emit(execution_id, str(refused))
            return
        self._step(execution_id, session)

    def _deliver(self, execution_id: str, control: ControlRequest) -> None:
        """Another process drives the execution: queue the control for its driver to decide."""
        try:
            message = self._services.queue_control(execution_id, control)
        except DrsDesktopError as refused:
            self.refused.emit(execution_id, str(refused))
            return
        self.delivered.emit(execution_id, message)

    @Slot(str)
    @_guarded("snapshot")
    def snapshot(self, execution_id: str) -> None:
        """Send the current snapshot of a driven execution (a view opened late asks for it)."""
        session = self._sessions.get(execution_id)
        if session is not None:
            self.progressed.emit(session.snapshot())

    # -- history and reports

    @Slot(str)
    @_guarded("load_history")
    def load_history(self, execution_id: str) -> None:
        self.history_loaded.emit(self._services.history_snapshot(execution_id))

    @Slot(str, str, str)
    @_guarded("export_report")
    def export_report(self, execution_id: str, fmt: str, path: str) -> None:
        written = self._services.write_report(execution_id, fmt, path)
        self.report_written.emit(execution_id, str(written))

    def _adopt(self, session: ExecutionSession) -> None:
        self._sessions[session.execution_id] = session
        self.active_changed.emit(len(self._sessions))
