"""The GUI's side of executions: one loop thread per execution driven, and a task thread for the rest.

``ExecutionDesk`` lives on the GUI thread. It starts an ``ExecutionLoop`` for each execution it drives
(a new one, each unfinished one picked up at start, a finished one a control is sent to, such as a
drill's cleanup), so several run side by side, each asleep until its engine or its operator wakes it.
A QTimer takes the loops' ``SnapshotBoard`` a bounded number of times a second (``APPLY_INTERVAL_MS``)
and emits only the latest snapshot of each execution (``progressed``): a 1,000-server execution that
changes every second costs the GUI thread a handful of updates a second, whatever the loop publishes.
The same tick emits the loops' notices (started, resumed, finished, refused, delivered, failed) and
reaps the loops that ended.

Everything else (preflight, creating an execution, the unfinished list, a history snapshot, a report)
is a request with an answer, through ``TaskThread.run_task``: the answer or the error goes to the caller
alone. The task thread owns its own ``ExecutionServices`` (gateway, reader), built by the same factory
that gives each loop thread its own.

A control for an execution no loop drives resumes it from its journal on a new loop; when another
process drives it (``DriverBusyError``), the control goes to that process's control inbox instead and
the operator reads "delivered". ``stop()`` (shutdown) stops the timer, asks every loop to stop, wakes it
and waits for it, then stops the task thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import assert_never

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from drs_desktop.domain.engine.controls import RunChoice
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.lease import Lease
from drs_desktop.domain.preflight.checks import PreflightReport
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.domain.views.report_chart import PdfReport
from drs_desktop.services.execution_session import ExecutionServices, Pace
from drs_desktop.services.executions import PreparedExecution
from drs_desktop.services.runner import ControlRefused
from drs_desktop.workers.execution_loop import (
    Control,
    ExecutionLoop,
    LoopBusy,
    LoopFailed,
    LoopOpened,
    LoopRefused,
    Notice,
    Opener,
    ServicesFactory,
    SnapshotBoard,
)
from drs_desktop.workers.native_offer import NativeOffer, native_offer
from drs_desktop.workers.tasks import TaskThread

logger = logging.getLogger(__name__)

#: How often the GUI thread applies the latest snapshots: 5 times a second at most.
APPLY_INTERVAL_MS = 200


class ExecutionDesk(QObject):
    """Executions for the GUI; see the module docstring. Signals are emitted on the GUI thread."""

    started = Signal(object)  # ExecutionRecord: a new execution is driven
    resumed = Signal(object)  # ExecutionRecord: an execution picked up again from its journal
    progressed = Signal(object)  # ProgressSnapshot: the latest of one execution
    finished = Signal(str, object)  # execution ID, Outcome (once per execution)
    refused = Signal(str, str)  # execution ID, why a control was refused
    delivered = Signal(str, str)  # execution ID, message: a control queued for another process's driver
    failed = Signal(str, str)  # operation ("start", "resume", "take_over", "drive", ...), message
    unfinished_loaded = Signal(object)  # list[ExecutionRecord] picked up at start
    active_changed = Signal(int)  # how many executions loops drive now
    stranded_loaded = Signal(object)  # list[StrandedRun]: unfinished runs this session cannot resume
    abandoned = Signal(object)  # ExecutionRecord: an unfinished run the operator ended, reason journaled

    def __init__(
        self,
        services: ServicesFactory,
        *,
        pace: Pace | None = None,
        interval_ms: int = APPLY_INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        # Owned by Qt, never by Python: a collection on a loop thread must not delete the desk (and its
        # timer and loops, GUI-thread objects) from that thread (see ``workers.tasks.TaskThread``).
        super().__init__(parent if parent is not None else QCoreApplication.instance())
        self._services = services
        self._pace = pace
        self._board = SnapshotBoard()
        self._loops: dict[str, ExecutionLoop] = {}
        self._after: dict[str, list[Control]] = {}  # controls for a loop that is ending: a new one takes them
        self._latest: dict[str, ProgressSnapshot] = {}
        self._finish_told: set[str] = set()
        self._stopping = False
        self._tasks: TaskThread[ExecutionServices] = TaskThread(
            "execution-tasks", services, close=ExecutionServices.close
        )
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, interval_ms))
        self._timer.timeout.connect(self.apply)

    # -- requests with an answer (to the caller alone)

    def prepare(
        self,
        choice: RunChoice,
        on_done: Callable[[PreparedExecution, PreflightReport], None],
        on_error: Callable[[str], None],
        *,
        owner: QObject | None = None,
    ) -> None:
        """Preflight: read the plan, the inventory and the account; launch nothing."""
        self._tasks.run_task(
            lambda services: services.prepare(choice),
            lambda answer: on_done(*answer),
            on_error,
            owner=owner,
            name="prepare",
        )

    def prepare_native(
        self,
        choice: RunChoice,
        on_done: Callable[[NativeOffer], None],
        on_error: Callable[[str], None],
        *,
        owner: QObject | None = None,
    ) -> None:
        """The same choice as a run in DRS (``native_offer``): its preflight, or why the plan cannot run
        in DRS, and the executions of its native plan DRS has not ended. Reads DRS; launches nothing."""
        self._tasks.run_task(
            lambda services: native_offer(services, choice),
            on_done,
            on_error,
            owner=owner,
            name="prepare_native",
        )

    def attach(
        self, choice: RunChoice, execution_arn: str, on_error: Callable[[str], None] | None = None
    ) -> None:
        """Follow ``execution_arn`` (an execution of the plan's native plan started elsewhere) as a new
        execution, driven on a loop of its own like a started one (``started``); nothing starts in DRS."""
        self._tasks.run_task(
            lambda services: services.attach_record(choice, execution_arn),
            self._drive_new,
            on_error,
            name="attach",
        )

    def start(
        self,
        prepared: PreparedExecution,
        choice: RunChoice,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Journal a new execution, then drive it on a loop of its own (``started`` once it runs);
        ``on_error(message)`` when it could not be created. Whoever asked, the execution is driven."""
        self._tasks.run_task(
            lambda services: services.create(prepared, choice),
            self._drive_new,
            on_error,
            name="start",
        )

    def export_report(
        self,
        execution_id: str,
        fmt: str,
        path: str,
        on_done: Callable[[str], None],
        on_error: Callable[[str], None],
        *,
        owner: QObject | None = None,
        pdf_layout: Callable[[PdfReport, str], Path] | None = None,
    ) -> None:
        """Write an execution's evidence report; ``on_done(path written)``. A PDF is laid out by
        ``pdf_layout`` (the ui's function: this layer imports no QtGui), on the task thread."""

        def write(services: ExecutionServices) -> str:
            if fmt == "pdf" and pdf_layout is not None:
                return str(pdf_layout(services.pdf_report(execution_id), path))
            return str(services.write_report(execution_id, fmt, path))

        self._tasks.run_task(
            write,
            on_done,
            on_error,
            owner=owner,
            name="export_report",
        )

    # -- driving

    @Slot()
    def pick_up_unfinished(self) -> None:
        """Drive every execution the last run of the application left unfinished, each on its loop."""
        self._tasks.run_task(
            lambda services: services.unfinished(),
            self._resume_all,
            lambda message: self.failed.emit("load_unfinished", message),
            name="load_unfinished",
        )

    @Slot()
    def load_stranded(self) -> None:
        """List the unfinished executions this session cannot resume, and why (``stranded_loaded``)."""
        self._tasks.run_task(
            lambda services: services.stranded(),
            self.stranded_loaded.emit,
            lambda message: self.failed.emit("load_stranded", message),
            name="load_stranded",
        )

    def abandon(self, execution_id: str, reason: str) -> None:
        """End an unfinished execution that cannot be picked up again, ``reason`` journaled
        (``abandoned``); one a loop here drives is cancelled instead, never abandoned under it."""
        if execution_id in self._loops:
            self.failed.emit("abandon", f"execution {execution_id} is driven here: cancel it instead")
            return
        self._tasks.run_task(
            lambda services: services.abandon(execution_id, reason),
            self.abandoned.emit,
            lambda message: self.failed.emit("abandon", message),
            name="abandon",
        )

    def take_over(self, execution_id: str, seen: Lease | None, expired: bool) -> None:
        """Drive an execution another desktop drove, on a loop of its own, once the operator confirmed
        (``ExecutionServices.take_over``: the lease taken over on the pair ``seen``, a pull, the resume
        with ``TakenOver`` journaled): ``resumed`` once it runs, else ``failed("take_over", why)``
        (``LeaseHeld``: another desktop was faster)."""
        if execution_id in self._loops:
            self.failed.emit("take_over", f"execution {execution_id} is driven here already")
            return
        self._drive(
            execution_id,
            lambda services: services.take_over(execution_id, seen, expired=expired),
            resumed=True,
            operation="take_over",
        )

    @Slot(str, object)
    def control(self, execution_id: str, control: Control) -> None:
        """An operator's control: to the loop that drives the execution (it wakes at once), else to a
        new loop that resumes it from its journal."""
        loop = self._loops.get(execution_id)
        if loop is None:
            self._drive(execution_id, _resume(execution_id), resumed=True, controls=(control,))
            return
        try:
            queued = loop.submit(control)
        except ControlRefused as refused:
            self.refused.emit(execution_id, str(refused))
            return
        if not queued:  # the loop is ending: the next one (resumed from the journal) applies it
            self._after.setdefault(execution_id, []).append(control)

    @Slot(str)
    def snapshot(self, execution_id: str) -> None:
        """Emit the latest snapshot of a driven execution again (a view that starts to follow it)."""
        latest = self._latest.get(execution_id)
        if latest is not None:
            self.progressed.emit(latest)

    def rebuild_services(self) -> None:
        """The application moved to another DRS target: the task thread's services (its gateway
        resolved the old target once) are built again after the requests already asked, so a preflight,
        a new execution or the unfinished list asked from now on is the new target's. Each loop builds
        its own services when it starts."""
        self._tasks.rebuild()

    def active_ids(self) -> list[str]:
        """Executions a loop drives now."""
        return list(self._loops)

    def loop(self, execution_id: str) -> ExecutionLoop | None:
        return self._loops.get(execution_id)

    @Slot()
    def apply(self) -> None:
        """The timer's tick: the loops' notices, then the latest snapshot of each execution; reap the loops
        that ended (after taking what they left, so their last snapshot is shown)."""
        ended = [execution_id for execution_id, loop in self._loops.items() if loop.isFinished()]
        notices, snapshots = self._board.take()
        for notice in notices:
            self._notice(notice)
        for snapshot in snapshots:
            self._show(snapshot)
        for execution_id in ended:
            loop = self._loops.pop(execution_id)
            loop.wait()
            loop.deleteLater()
            logger.info("execution %s is no longer driven", execution_id)
            after = self._after.pop(execution_id, [])
            if after and not self._stopping:
                self._drive(execution_id, _resume(execution_id), resumed=True, controls=tuple(after))
        if ended:
            self.active_changed.emit(len(self._loops))
        if not self._loops and not self._board.pending():
            self._timer.stop()

    def stop(self) -> None:
        """Shutdown: stop the timer, stop every loop (woken, then waited for), then the task thread; the
        desk itself is deleted later, on the GUI thread."""
        if self._stopping:
            return
        self._stopping = True
        self._timer.stop()
        for loop in list(self._loops.values()):
            if not loop.stop():
                loop.wait()  # a QThread destroyed while it runs aborts the process
        self._loops.clear()
        self._tasks.stop()

    # -- helpers

    def _drive_new(self, record: ExecutionRecord) -> None:
        self._drive(record.execution_id, lambda s: s.open_new(record), resumed=False)

    def _resume_all(self, records: list[ExecutionRecord]) -> None:
        self.unfinished_loaded.emit(records)
        for record in records:
            if record.execution_id not in self._loops:
                self._drive(record.execution_id, _resume(record.execution_id), resumed=True)

    def _drive(
        self,
        execution_id: str,
        opener: Opener,
        *,
        resumed: bool,
        controls: tuple[Control, ...] = (),
        operation: str = "",
    ) -> None:
        if self._stopping:
            return
        loop = ExecutionLoop(
            execution_id,
            self._services,
            opener,
            self._board,
            resumed=resumed,
            controls=controls,
            pace=self._pace,
            operation=operation,
            parent=self,
        )
        self._loops[execution_id] = loop
        loop.start()
        self._timer.start()
        self.active_changed.emit(len(self._loops))

    def _notice(self, notice: Notice) -> None:
        match notice:
            case LoopOpened(record=record, resumed=resumed):
                if record.outcome is not None:
                    self._finish_told.add(record.execution_id)  # finished before: no second "finished"
                else:
                    self._finish_told.discard(record.execution_id)
                (self.resumed if resumed else self.started).emit(record)
            case LoopBusy(execution_id=execution_id, message=message, controls=controls):
                if not controls:
                    self.failed.emit("resume", message)
                for control in controls:
                    self._deliver(execution_id, control)
            case LoopFailed(operation=operation, message=message):
                self.failed.emit(operation, message)
            case LoopRefused(execution_id=execution_id, reason=reason):
                self.refused.emit(execution_id, reason)
            case _:
                assert_never(notice)

    def _show(self, snapshot: ProgressSnapshot) -> None:
        execution_id = snapshot.execution_id
        self._latest[execution_id] = snapshot
        self.progressed.emit(snapshot)
        for refusal in snapshot.refusals:
            self.refused.emit(execution_id, refusal)
        if snapshot.outcome is not None and execution_id not in self._finish_told:
            self._finish_told.add(execution_id)
            self.finished.emit(execution_id, snapshot.outcome)

    def _deliver(self, execution_id: str, control: Control) -> None:
        """Another process drives the execution: queue the control for its driver to decide."""
        self._tasks.run_task(
            lambda services: services.queue_control(execution_id, control),
            lambda message: self.delivered.emit(execution_id, message),
            lambda reason: self.refused.emit(execution_id, reason),
            name="queue_control",
        )


def _resume(execution_id: str) -> Opener:
    return lambda services: services.resume(execution_id)
