"""Executions as the GUI drives them: prepare and check a run, start or resume it, step it, show it.

The CLI drives a runner with its blocking ``run()`` loop; the GUI cannot block, so its execution worker
calls ``ExecutionSession.step()`` from a timer instead (one ``runner.step()`` at a time, until the
engine has nothing to do right now) and sends the ``ProgressSnapshot`` each step produces to the GUI
thread. Everything here is Qt-free so the same flow is testable without a display.

``ExecutionServices`` is what the composition root hands the worker: the database, the DRS gateway
and the runner's clock (real UTC time against AWS, the simulator's virtual clock in demo mode), so the
worker never imports storage or aws. Read-only work (history, reports) goes through a read connection
of the calling thread (DESIGN §3.4); the runner writes through the process's one shared connection.

A session drives its execution only while it holds the execution's driver lock (``services.driver_lock``):
``ExecutionServices.start`` and ``resume`` take it (``resume`` raises ``DriverBusyError``, naming the
process, when a ``run`` in a terminal drives it) and ``ExecutionSession.close`` gives it back. A control
for an execution another process drives goes to that driver's control inbox (``queue_control``).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.execution import control_error
from drs_desktop.domain.execution_events import (
    CONTROL_EVENTS,
    Event,
    Outcome,
    event_to_json,
)
from drs_desktop.domain.execution_record import ExecutionRecord
from drs_desktop.domain.execution_state import ExecutionState
from drs_desktop.domain.operator_controls import ControlRequest, RunChoice, control_event
from drs_desktop.domain.preflight import PreflightReport
from drs_desktop.domain.progress_view import LogLine, ProgressSnapshot, ProgressTracker
from drs_desktop.services import reports
from drs_desktop.services.driver_lock import DriverLock, describe_driver, lock_path, take_driver_lock
from drs_desktop.services.executions import (
    PreparedExecution,
    RunRequest,
    create_execution,
    engine_settings,
    prepare_execution,
)
from drs_desktop.services.journal_replay import replay_journal, replayed_state
from drs_desktop.services.preflight import preflight
from drs_desktop.services.progress import describe_change
from drs_desktop.services.runner import Clock, ControlRefused, ExecutionRunner
from drs_desktop.storage import control_inbox as inbox
from drs_desktop.storage import executions as journal
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage.db import Database, Readable, ReadOnlyDatabase

logger = logging.getLogger(__name__)

__all__ = [
    "ExecutionServices",
    "ExecutionSession",
    "SessionStep",
    "prepare_run",
    "resume",
    "start",
    "unfinished",
]

#: ``runner.step()`` calls per ``ExecutionSession.step``: enough for a decision chain (a wave completes,
#: the next starts, its jobs start), few enough that a control queued meanwhile waits little.
MAX_STEPS_PER_TICK = 25
_STAMP = re.compile(r"^\d\d:\d\d:\d\d ")


# -- the use cases, as functions (the CLI-style API)


def prepare_run(
    db: Database, gateway: DrsGateway, request: RunRequest, *, now: datetime
) -> tuple[PreparedExecution, PreflightReport]:
    """Read what the run needs and check it: the preflight the run dialog shows. Launches nothing."""
    prepared = prepare_execution(db, gateway, request)
    return prepared, preflight(db, gateway, prepared, request, now=now)


def start(
    db: Database, gateway: DrsGateway, prepared: PreparedExecution, request: RunRequest, *, clock: Clock
) -> ExecutionRunner:
    """Journal a new execution of ``prepared``; nothing is launched until the runner is stepped."""
    return create_execution(db, gateway, prepared, request, clock=clock)


def resume(db: Database, gateway: DrsGateway, execution_id: str, *, clock: Clock) -> ExecutionRunner:
    """Rebuild an unfinished (or finished, for cleanup) execution from its journal."""
    return ExecutionRunner.resume(db, gateway, execution_id, clock=clock)


def unfinished(db: Readable) -> list[ExecutionRecord]:
    """Executions with no end, oldest first: the GUI picks them up again when it starts."""
    return journal.unfinished_executions(db)


def hostnames_for(db: Readable, record: ExecutionRecord) -> dict[str, str]:
    """Hostnames from the inventory cache of the execution's account and Region (best effort)."""
    account = record.identity.get("account")
    target = record.options.get("target")
    region = target.get("region") if isinstance(target, Mapping) else None
    try:
        inventory = inventory_store.load_inventory(db, str(account) if account else None, region)
    except DrsDesktopError as exc:  # a damaged cache must not stop an execution from being shown
        logger.warning("no hostnames for execution %s: %s", record.execution_id, exc)
        return {}
    if inventory is None:
        return {}
    return {s.source_server_id: s.hostname for s in inventory.servers if s.hostname}


# -- one execution followed by the GUI


@dataclass(frozen=True)
class SessionStep:
    """What one ``ExecutionSession.step`` produced. ``finished``: set once, on the step the execution
    finished in. ``idle``: finished with nothing left to do (cleanup included): the caller may drop it."""

    snapshot: ProgressSnapshot | None
    finished: Outcome | None
    idle: bool


class ExecutionSession:
    """A runner plus what the GUI needs of it: snapshots, notes, controls from button presses."""

    def __init__(
        self,
        runner: ExecutionRunner,
        *,
        clock: Clock,
        operator: str = "",
        hostnames: Mapping[str, str] | None = None,
        max_steps: int = MAX_STEPS_PER_TICK,
        lock: DriverLock | None = None,
    ) -> None:
        self._runner = runner
        self._lock = lock
        self._clock = clock
        self._operator = operator
        self._max_steps = max(1, max_steps)
        self._tracker = ProgressTracker(hostnames)
        self._notes: list[LogLine] = []
        self._finish_reported = runner.state.finished is not None
        self._idle = False
        runner.add_listener(self._on_event)

    @property
    def runner(self) -> ExecutionRunner:
        return self._runner

    @property
    def execution_id(self) -> str:
        return self._runner.execution_id

    @property
    def record(self) -> ExecutionRecord:
        return self._runner.record

    @property
    def state(self) -> ExecutionState:
        return self._runner.state

    @property
    def operator(self) -> str:
        """Who the audit trail names for this desktop's controls."""
        if self._operator:
            return self._operator
        identity = self._runner.record.identity
        return str(identity.get("arn") or identity.get("account") or "desktop operator")

    def submit(self, control: ControlRequest | Event) -> None:
        """Queue a control for the next step; ControlRefused when a button press names nothing to act
        on (the runner checks the event itself and reports refusals through the snapshot)."""
        if isinstance(control, ControlRequest):
            try:
                event = control_event(control, self._runner.state, at=self._clock(), by=self.operator)
            except ValueError as exc:
                raise ControlRefused(str(exc)) from exc
        elif isinstance(control, CONTROL_EVENTS):
            event = control
        else:
            raise TypeError(f"not an operator control: {type(control).__name__}")
        self._idle = False
        self._runner.submit(event)

    def step(self) -> SessionStep:
        """Step the runner until it has nothing to do right now; a snapshot when anything visible changed."""
        result = self._runner.step()
        steps = 1
        while result.acted and steps < self._max_steps:
            result = self._runner.step()
            steps += 1
        state = self._runner.state
        refusals = self._runner.take_refusals()
        snapshot = self._tracker.update(state, self._clock(), notes=self._take_notes(), refusals=refusals)
        finished = None
        if state.finished is not None and not self._finish_reported:
            self._finish_reported = True
            finished = state.finished
        self._idle = state.finished is not None and not result.acted and result.wake_at is None
        return SessionStep(snapshot, finished, self._idle)

    @property
    def idle(self) -> bool:
        return self._idle

    @property
    def lock(self) -> DriverLock | None:
        """The execution's driver lock this session holds (None: the caller manages it)."""
        return self._lock

    def close(self) -> None:
        """Stop driving: give the driver lock back, so a ``run --resume`` may take the execution on."""
        if self._lock is not None:
            self._lock.release()

    def snapshot(self) -> ProgressSnapshot:
        """The current snapshot, even if nothing changed (a view that opens late asks for this)."""
        snapshot = self._tracker.update(
            self._runner.state, self._clock(), notes=self._take_notes(), force=True
        )
        assert snapshot is not None  # force always builds one
        return snapshot

    def _on_event(self, before: ExecutionState, after: ExecutionState, event: Event) -> None:
        for text in describe_change(before, after, event):
            # The lines start with the event's time; the log view prints its own.
            self._notes.append(LogLine(at=event.at, text=_STAMP.sub("", text.strip(), count=1)))

    def _take_notes(self) -> list[LogLine]:
        notes, self._notes = self._notes, []
        return notes


# -- what the composition root gives the execution worker


class ExecutionServices:
    """The database, DRS and clock for executions, behind the calls the execution worker makes.

    ``gateway_for(target)`` gives the gateway for an execution recorded against ``target`` (endpoint,
    profile, Region); by default the one gateway. ``poll_interval_seconds`` fixes DRS polling (None:
    the setting ``engine.poll_interval_seconds`` if the operator set it, else adaptive polling).
    """

    def __init__(
        self,
        db: Database,
        gateway: DrsGateway,
        *,
        clock: Clock,
        operator: str = "",
        gateway_for: Callable[[Mapping[str, Any]], DrsGateway] | None = None,
        poll_interval_seconds: float | None = None,
        max_steps: int = MAX_STEPS_PER_TICK,
    ) -> None:
        self._db = db
        self._gateway = gateway
        self._clock = clock
        self._operator = operator
        self._gateway_for = gateway_for
        self._poll_interval = poll_interval_seconds
        self._max_steps = max_steps
        self._local = threading.local()
        self._gateways: list[DrsGateway] = [gateway]

    @property
    def clock(self) -> Clock:
        return self._clock

    def now(self) -> datetime:
        return self._clock()

    def request_for(self, choice: RunChoice | RunRequest) -> RunRequest:
        """The engine's request for what the operator chose, with the settings and the DRS target."""
        if isinstance(choice, RunRequest):
            return choice
        stored = engine_settings(self._reader())
        poll = self._poll_interval if self._poll_interval is not None else stored.poll_interval_seconds
        target = self._gateway.target
        return RunRequest(
            plan_name=choice.plan_name,
            mode=choice.mode,
            revision=choice.revision,
            point_in_time=choice.point_in_time,
            poll_interval_seconds=poll,
            wave_timeout_minutes=stored.wave_timeout_minutes,
            target={"endpoint_url": target.endpoint_url, "profile": target.profile, "region": target.region},
        )

    def prepare(self, choice: RunChoice | RunRequest) -> tuple[PreparedExecution, PreflightReport]:
        return prepare_run(self._db, self._gateway, self.request_for(choice), now=self._clock())

    def start(self, prepared: PreparedExecution, choice: RunChoice | RunRequest) -> ExecutionSession:
        request = self.request_for(choice)
        runner = start(self._db, self._gateway, prepared, request, clock=self._clock)
        lock = take_driver_lock(self._db.path, runner.execution_id)  # a new ID: nobody else has it
        hostnames = {s.source_server_id: s.hostname for s in prepared.inventory.servers if s.hostname}
        return self._session(runner, hostnames, lock)

    def resume(self, execution_id: str) -> ExecutionSession:
        """Pick an execution up from its journal; DriverBusyError (nothing journaled) when another
        process drives it."""
        record = journal.get_execution(self._reader(), execution_id)
        gateway = self._gateway_of(record)
        lock = take_driver_lock(self._db.path, record.execution_id)
        try:
            runner = resume(self._db, gateway, record.execution_id, clock=self._clock)
            return self._session(runner, hostnames_for(self._reader(), record), lock)
        except BaseException:
            lock.release()
            raise

    def queue_control(self, execution_id: str, control: ControlRequest | Event) -> str:
        """Send a control to the process that drives the execution (its control inbox); what to tell
        the operator. ControlRefused when the journal already shows it cannot apply: nothing is queued.
        The driver checks it again and journals or refuses it before its next step."""
        reader = self._reader()
        record = journal.get_execution(reader, execution_id)
        state = replayed_state(reader, record)
        operator = self._operator or "desktop operator"
        if isinstance(control, ControlRequest):
            try:
                event = control_event(control, state, at=self._clock(), by=operator)
            except ValueError as exc:
                raise ControlRefused(str(exc)) from exc
        elif isinstance(control, CONTROL_EVENTS):
            event = control
        else:
            raise TypeError(f"not an operator control: {type(control).__name__}")
        problem = control_error(state, event)
        if problem is not None:
            raise ControlRefused(problem)
        sender = f"{operator} (desktop, pid {os.getpid()} on {socket.gethostname()})"
        inbox.submit(self._db, record.execution_id, event_to_json(event), submitted_by=sender)
        holder = DriverLock(lock_path(self._db.path, record.execution_id)).holder()
        return f"{type(event).__name__} queued: {describe_driver(record.execution_id, holder)}"

    def unfinished(self) -> list[ExecutionRecord]:
        return unfinished(self._reader())

    def history_snapshot(self, execution_id: str) -> ProgressSnapshot:
        """A read-only snapshot of any execution, rebuilt from its journal (no controls)."""
        reader = self._reader()
        record = journal.get_execution(reader, execution_id)
        replayed = replay_journal(reader, record)
        state, events = replayed.state, replayed.events
        tracker = ProgressTracker(hostnames_for(reader, record), read_only=True)
        moment = state.finished_at or (events[-1].at if events else state.spec.started_at)
        snapshot = tracker.update(state, moment, force=True)
        assert snapshot is not None
        return snapshot

    def write_report(self, execution_id: str, fmt: str, path: str | Path) -> Path:
        view = reports.load_execution_view(self._reader(), execution_id)
        return reports.write_report(view, fmt, path, generated_at=self._clock())

    def close(self) -> None:
        """Release the calling thread's read connection and DRS clients (call it on that thread)."""
        reader: ReadOnlyDatabase | None = getattr(self._local, "reader", None)
        if reader is not None:
            self._local.reader = None
            reader.close()
        for gateway in self._gateways:
            gateway.close()

    # -- helpers

    def _session(
        self, runner: ExecutionRunner, hostnames: Mapping[str, str], lock: DriverLock | None = None
    ) -> ExecutionSession:
        return ExecutionSession(
            runner,
            clock=self._clock,
            operator=self._operator,
            hostnames=hostnames,
            max_steps=self._max_steps,
            lock=lock,
        )

    def _gateway_of(self, record: ExecutionRecord) -> DrsGateway:
        target = record.options.get("target")
        if self._gateway_for is None or not isinstance(target, Mapping):
            return self._gateway
        gateway = self._gateway_for(target)
        if gateway not in self._gateways:
            self._gateways.append(gateway)
        return gateway

    def _reader(self) -> ReadOnlyDatabase:
        reader: ReadOnlyDatabase | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._db.open_reader()
            self._local.reader = reader
        return reader
