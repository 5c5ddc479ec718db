"""Executions as the GUI drives them: prepare and check a run, create or resume it, drive it, show it.

The GUI drives an execution with the CLI's loop: ``ExecutionSession.drive`` runs ``ExecutionRunner.run()``
(same steps, same sleeper, woken by the engine's ``WakeAt``, an operator's ``submit`` or a control another
process queued in the inbox) on a thread of its own, and publishes a ``ProgressSnapshot`` before each
sleep (and a few times a second while the runner keeps acting). Everything here is Qt-free, so the same
flow is testable without a display.

``ExecutionServices`` is what one thread uses: the database, its own DRS gateway (boto3 clients are not
shared between threads, DESIGN §3.5), its own read connection, and the runner's clock (DRS's time against
AWS, the simulator's virtual clock in demo mode); the composition root builds one per thread through a
factory, so the GUI never imports storage or aws. The runner writes through the process's one shared
write connection (``Database``).

A session drives its execution only while it holds the execution's driver lock (``services.driver_lock``),
like ``drs-desktop run``: ``ExecutionServices.open_new`` and ``resume`` take it (``resume`` raises
``DriverBusyError``, naming the process, when a ``run`` in a terminal drives it) and
``ExecutionSession.close`` gives it back. A control for an execution another process drives goes to that
driver's control inbox (``queue_control``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.commands import WakeAt
from drs_desktop.domain.engine.controls import ControlRequest, RunChoice, control_event
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.events import (
    CONTROL_EVENTS,
    Event,
    event_to_json,
)
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.reducer import control_error, initial_state
from drs_desktop.domain.engine.state import ExecutionState, spec_from_json
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.lease import Lease
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.preflight.checks import PreflightReport
from drs_desktop.domain.views.event_log import event_lines, history_snapshot
from drs_desktop.domain.views.progress import LogLine, ProgressSnapshot, ProgressTracker
from drs_desktop.domain.views.report_chart import PdfReport
from drs_desktop.services import reports
from drs_desktop.services.driver_lock import DriverLock, describe_driver, lock_path, take_driver_lock
from drs_desktop.services.execution_lease import ExecutionLeases, give_back, wait_for_lease
from drs_desktop.services.execution_takeover import TakeoverRefused, take_over_execution
from drs_desktop.services.executions import (
    PreparedExecution,
    RunRequest,
    create_execution,
    engine_settings,
    prepare_execution,
    with_launch_configs,
)
from drs_desktop.services.journal_replay import replayed_state
from drs_desktop.services.lease_keeper import LeaseKeeper
from drs_desktop.services.native_run import NativePreparation, attach, prepare_native
from drs_desktop.services.preflight import preflight
from drs_desktop.services.report_pdf import pdf_report
from drs_desktop.services.run_alerts import RunAlerts, attach_run_alerts
from drs_desktop.services.runner import Clock, ControlRefused, ExecutionRunner, RunResult, TargetGateways
from drs_desktop.services.stranded_runs import (
    StrandedRun,
    abandon_execution,
    split_unfinished,
    target_here,
    what_is_in_drs,
)
from drs_desktop.services.target_runs import TargetSessions, recorded_target_gateways
from drs_desktop.storage import control_inbox as inbox
from drs_desktop.storage import executions as journal
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database, LazyReader, Readable

logger = logging.getLogger(__name__)

__all__ = ["ExecutionServices", "ExecutionSession", "Pace", "hostnames_for"]

#: While the runner keeps acting (a wave of 200 starts, a burst of polls), a snapshot at most this often
#: (seconds of real time); one is always published before the loop sleeps. The GUI shows ~5 a second.
PUBLISH_SECONDS = 0.2
#: After the finish, how long to wait before looking again when the engine still has cleanup to do but
#: named no wake-up time.
_AFTER_FINISH_RETRY = timedelta(seconds=1)
#: How long a session's end waits for its run alerts still being sent (a webhook's timeout is 10 s): the
#: loop's thread ends after it, and the app's shutdown waits for that thread.
ALERTS_CLOSE_SECONDS = 5.0

#: How long the loop really sleeps for a sleep of the runner's clock (seconds in, seconds out): None is
#: one for one; demo mode divides by the simulator's time scale; tests move the virtual clock instead.
Pace = Callable[[float], float]


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


# -- one execution driven by the GUI


class ExecutionSession:
    """A runner plus what the GUI needs of it: its loop with snapshots, and controls from button presses.

    ``drive`` runs on the session's own thread; ``submit`` and ``stop`` may be called from any thread.
    """

    def __init__(
        self,
        runner: ExecutionRunner,
        *,
        clock: Clock,
        operator: str = "",
        hostnames: Mapping[str, str] | None = None,
        lock: DriverLock | None = None,
        lease: LeaseKeeper | None = None,
        alerts: RunAlerts | None = None,
    ) -> None:
        self._runner = runner
        self._lock = lock
        self._lease = lease
        self._alerts = alerts
        if lease is not None:  # checked again right before each launch or termination, within a step
            runner.set_act_guard(lease.may_drive)
        self._clock = clock
        self._operator = operator
        self._hostnames = dict(hostnames or {})
        # The log is the journal's (``views.event_log``): one line source for live, history and reports.
        self._tracker = ProgressTracker(hostnames, job_log=False)
        self._notes: list[LogLine] = []
        self._guard = threading.Lock()  # submit (any thread) against the loop's end (its thread)
        self._submitted = 0
        self._ended = False
        self._stop = threading.Event()
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

    def submit(self, control: ControlRequest | Event) -> bool:
        """Queue a control for the loop and wake it. ControlRefused when a button press names nothing to
        act on (the runner checks the event itself; its refusals come with the next snapshot). False when
        the loop has ended: nothing was queued, the caller resumes the execution to apply it."""
        if isinstance(control, ControlRequest):
            try:
                event = control_event(control, self._runner.state, at=self._clock(), by=self.operator)
            except ValueError as exc:
                raise ControlRefused(str(exc)) from exc
        elif isinstance(control, CONTROL_EVENTS):
            event = control
        else:
            raise TypeError(f"not an operator control: {type(control).__name__}")
        with self._guard:
            if self._ended:
                return False
            self._submitted += 1
            self._runner.submit(event)
        return True

    def stop(self) -> None:
        """Ask the loop to end (from any thread): it sees it at once, even asleep."""
        self._stop.set()
        self._runner.wake()

    @property
    def ended(self) -> bool:
        with self._guard:
            return self._ended

    def drive(
        self,
        publish: Callable[[ProgressSnapshot], None],
        *,
        should_stop: Callable[[], bool] = lambda: False,
        pace: Pace | None = None,
    ) -> RunResult:
        """Run the runner's loop (the CLI's ``run()``) until the execution has finished and the engine has
        nothing left to do (a drill's cleanup included), or ``stop``/``should_stop``. ``publish`` gets a
        snapshot on this thread whenever what the operator sees changed: before every sleep, and at most
        every ``PUBLISH_SECONDS`` while the runner acts."""
        last = time.monotonic()

        def stopping() -> bool:
            nonlocal last
            if time.monotonic() - last >= PUBLISH_SECONDS:
                self._publish(publish)
                last = time.monotonic()
            return self._stop.is_set() or should_stop() or not self._may_drive()

        def sleep(seconds: float) -> None:
            nonlocal last
            self._publish(publish)
            last = time.monotonic()
            if self._stop.is_set() or should_stop():
                return
            self._runner.sleep_until_woken(pace(seconds) if pace is not None else seconds)

        self._publish(publish)
        try:
            while True:
                with self._guard:
                    submitted = self._submitted
                result = self._runner.run(sleep=sleep, should_stop=stopping)
                if self._stop.is_set() or should_stop():
                    break
                if not self._may_drive():
                    if not self._wait_for_lease(publish, should_stop):
                        break
                    continue
                wake = self._after_finish()
                with self._guard:
                    # A control submitted while run() returned is still queued: run again to take it.
                    if wake is None and self._submitted == submitted:
                        self._ended = True
                        break
                if wake is not None:
                    sleep(max(0.0, (wake - self._clock()).total_seconds()))
        finally:
            self._publish(publish)
        logger.info("execution %s: the loop ended (%s)", self.execution_id, result.status.value)
        return result

    def _may_drive(self) -> bool:
        """Whether a step may start: always without sync; with it, while the lease is confirmed."""
        return self._lease is None or self._lease.may_drive()

    def _wait_for_lease(
        self, publish: Callable[[ProgressSnapshot], None], should_stop: Callable[[], bool]
    ) -> bool:
        """The lease cannot be confirmed: no step starts until it is again (True), or the loop ends
        (False: lost, or the session stops). ``execution_lease.wait_for_lease`` says why in the log."""
        assert self._lease is not None

        def say(text: str) -> None:
            self._note(text)
            self._publish(publish)

        return wait_for_lease(self._lease, say, lambda: self._stop.is_set() or should_stop(), self._stop.wait)

    def _note(self, text: str) -> None:
        self._notes.append(LogLine(self._clock(), text, event="LeaseNote"))

    def _after_finish(self) -> datetime | None:
        """When to look again at a finished execution (``run`` returned): None when the engine has
        nothing left to do; its wake-up (a throttled cleanup) otherwise."""
        now = self._clock()
        commands = decide(self._runner.state, now)
        if not commands:
            return None
        for command in commands:
            if isinstance(command, WakeAt):
                return command.at
        not_before = self._runner.state.poll.not_before
        return not_before if not_before is not None and not_before > now else now + _AFTER_FINISH_RETRY

    def _publish(self, publish: Callable[[ProgressSnapshot], None]) -> None:
        snapshot = self._tracker.update(
            self._runner.state,
            self._clock(),
            notes=self._take_notes(),
            refusals=self._runner.take_refusals(),
        )
        if snapshot is not None:
            publish(snapshot)

    @property
    def lock(self) -> DriverLock | None:
        """The execution's driver lock this session holds (None: the caller manages it)."""
        return self._lock

    @property
    def lease(self) -> LeaseKeeper | None:
        """The team sync lease this session keeps (None without sync)."""
        return self._lease

    def close(self) -> None:
        """Stop driving: give the lease (team sync) and the driver lock back, so another desktop or a
        ``run --resume`` may take the execution on. A lost lease is not given back: it is not ours."""
        with self._guard:
            self._ended = True
        give_back(self._lease)
        if self._lock is not None:
            self._lock.release()
        if self._alerts is not None:  # what the run said goes out before its thread ends (bounded)
            self._alerts.close(timeout=ALERTS_CLOSE_SECONDS)

    def snapshot(self) -> ProgressSnapshot:
        """The current snapshot, even if nothing changed (on the session's thread)."""
        snapshot = self._tracker.update(
            self._runner.state, self._clock(), notes=self._take_notes(), force=True
        )
        assert snapshot is not None  # force always builds one
        return snapshot

    def _on_event(self, before: ExecutionState, after: ExecutionState, event: Event) -> None:
        self._notes.extend(event_lines(before, after, event, self._hostnames))

    def _take_notes(self) -> list[LogLine]:
        notes, self._notes = self._notes, []
        return notes


# -- what one thread uses


class ExecutionServices:
    """The database, DRS and clock for executions, used by one thread (the GUI's task thread, or one
    execution's loop thread): its gateway and read connection are plain attributes, closed by ``close``
    on that thread.

    ``gateway_for(target)`` gives the gateway for an execution recorded against ``target`` (endpoint,
    profile, Region); by default this thread's gateway. ``poll_interval_seconds`` fixes DRS polling (None:
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
        sessions: TargetSessions | None = None,
        leases: ExecutionLeases | None = None,
    ) -> None:
        self._db = db
        # Team sync's leases (``services.execution_lease``): None without sync, and then nothing changes.
        self._leases = leases
        # The credentials of each declared target (``services.target_runs``), shared by the reads before a
        # run, its preflight and its gateways, on every thread of the application that is given the same
        # one; its MFA prompter (a dialog in the GUI) gives the code of a role that needs one.
        self._sessions = sessions or TargetSessions()
        self._gateway = gateway
        self._clock = clock
        self._operator = operator
        self._gateway_for = gateway_for
        self._poll_interval = poll_interval_seconds
        self._reader = LazyReader(db)
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
        return RunRequest(
            plan_name=choice.plan_name,
            mode=choice.mode,
            revision=choice.revision,
            point_in_time=choice.point_in_time,
            poll_interval_seconds=poll,
            wave_timeout_minutes=stored.wave_timeout_minutes,
            cancel_grace_minutes=stored.cancel_grace_minutes,
            target=self._current_target(),
            isolation_override=choice.isolation_override,
            brief=choice.brief,
        )

    def prepare(self, choice: RunChoice | RunRequest) -> tuple[PreparedExecution, PreflightReport]:
        """Read what the run needs and check it: the preflight the run dialog shows. Launches nothing."""
        request = self.request_for(choice)
        prepared = prepare_execution(self._db, self._gateway, request, sessions=self._sessions)
        report = preflight(
            self._db,
            self._gateway,
            prepared,
            request,
            now=self._clock(),
            target_gateways=self._sessions.gateway_of(self._gateway),
        )
        return with_launch_configs(prepared, report), report

    def prepare_native(self, choice: RunChoice | RunRequest) -> NativePreparation:
        """The same plan as a run in DRS (``services.native_run``): its preflight, and the executions of
        its native plan DRS has not ended. ``NativePlanError`` when it cannot run in DRS (not published,
        changed in DRS, ...). ``start(preparation.prepared, choice)`` then starts it."""
        return prepare_native(self._db, self._gateway, self.request_for(choice), now=self._clock())

    def attach_native(self, choice: RunChoice | RunRequest, execution_arn: str) -> ExecutionSession:
        """Follow ``execution_arn``, an execution of the plan's native plan started elsewhere, as a new
        execution of this desktop's (nothing is started in DRS)."""
        return self.open_new(self.attach_record(choice, execution_arn))

    def attach_record(self, choice: RunChoice | RunRequest, execution_arn: str) -> ExecutionRecord:
        """Journal the new execution ``attach_native`` follows, without driving it: the GUI drives it on
        a loop thread of its own (``open_new``), as it does a run ``create`` journaled."""
        runner = attach(self._db, self._gateway, self.request_for(choice), execution_arn, clock=self._clock)
        return runner.record

    def plan(self, plan_name: str, revision: int | None = None) -> RecoveryPlan:
        """The saved plan (its latest revision by default): what the run dialog weighs a run in DRS
        against. ``PlanNotFoundError`` when there is none."""
        return plan_store.load_plan(self._reader(), plan_name, revision).plan

    def create(self, prepared: PreparedExecution, choice: RunChoice | RunRequest) -> ExecutionRecord:
        """Journal a new execution of ``prepared`` (nothing launched); a loop thread drives it
        (``open_new``)."""
        runner = create_execution(
            self._db,
            self._gateway,
            prepared,
            self.request_for(choice),
            clock=self._clock,
            sessions=self._sessions,
        )
        return runner.record

    def open_new(self, record: ExecutionRecord) -> ExecutionSession:
        """Drive an execution ``create`` has just journaled, on this thread's gateway: takes its driver
        lock (a new ID: nobody else has it). Nothing ran yet, so no restart is journaled."""
        lock = take_driver_lock(self._db.path, record.execution_id)
        lease: LeaseKeeper | None = None
        try:
            lease = self._take_lease(record.execution_id)
            state = initial_state(spec_from_json(record.spec))
            gateway = self._gateway_of(record)
            runner = ExecutionRunner(
                self._db,
                gateway,
                record,
                state,
                clock=self._clock,
                target_gateways=self._targets_of(record, gateway),
            )
            return self._session(runner, hostnames_for(self._reader(), record), lock, lease)
        except BaseException:
            give_back(lease)
            lock.release()
            raise

    def start(self, prepared: PreparedExecution, choice: RunChoice | RunRequest) -> ExecutionSession:
        """``create`` then ``open_new``, on this thread."""
        return self.open_new(self.create(prepared, choice))

    def resume(self, execution_id: str) -> ExecutionSession:
        """Pick an execution up from its journal (an unfinished one, or a finished one for its cleanup);
        DriverBusyError (nothing journaled) when another process drives it."""
        record = journal.get_execution(self._reader(), execution_id)
        gateway = self._gateway_of(record)
        lock = take_driver_lock(self._db.path, record.execution_id)
        lease: LeaseKeeper | None = None
        try:
            lease = self._take_lease(record.execution_id)
            runner = ExecutionRunner.resume(
                self._db,
                gateway,
                record.execution_id,
                clock=self._clock,
                target_gateways=self._targets_of(record, gateway),
            )
            return self._session(runner, hostnames_for(self._reader(), record), lock, lease)
        except BaseException:
            give_back(lease)
            lock.release()
            raise

    def take_over(self, execution_id: str, seen: Lease | None, *, expired: bool) -> ExecutionSession:
        """Drive an execution another desktop drove, once the caller's ``LeaseWatch`` saw its lease
        expire (``expired``, on the pair ``seen``) or found it free (``seen`` None): lock, lease taken
        over, a pull, then the resume with ``TakenOver`` journaled (``services.execution_takeover``).
        ``TakeoverRefused`` without sync; ``LeaseHeld`` when someone else was faster."""
        if self._leases is None:
            raise TakeoverRefused("team sync is off: there is no lease to take over (Settings, Team sync)")
        record = journal.get_execution(self._reader(), execution_id)
        gateway = self._gateway_of(record)
        taken = take_over_execution(
            self._db,
            gateway,
            execution_id,
            seen,
            expired=expired,
            leases=self._leases,
            operator=self._operator or "desktop operator",
            clock=self._clock,
            target_gateways=self._targets_of(record, gateway),
        )
        return self._session(taken.runner, hostnames_for(self._reader(), record), taken.lock, taken.lease)

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
        """Executions with no end that run against this thread's DRS target, oldest first: the GUI picks
        them up again when it starts (the others: ``stranded``)."""
        return self._split_unfinished()[0]

    def stranded(self) -> list[StrandedRun]:
        """Unfinished executions that cannot be resumed against this thread's DRS target, and why."""
        return self._split_unfinished()[1]

    def _split_unfinished(self) -> tuple[list[ExecutionRecord], list[StrandedRun]]:
        records = journal.unfinished_executions(self._reader())
        if not records:  # nothing to compare: no need to ask who this target's caller is
            return [], []
        resumable, left = split_unfinished(records, target_here(self._gateway))
        # What a run that is only elsewhere may still have at work in its DRS (the dialog names it).
        reader = self._reader()
        return resumable, [
            run if run.gone else what_is_in_drs(run, replayed_state(reader, run.record)) for run in left
        ]

    def abandon(self, execution_id: str, reason: str) -> ExecutionRecord:
        """End an unfinished run that cannot be picked up again, its reason journaled
        (``services.stranded_runs.abandon_execution``)."""
        operator = self._operator or "desktop operator"
        return abandon_execution(self._db, execution_id, reason, by=operator, at=self._clock())

    def _current_target(self) -> dict[str, str | None]:
        target = self._gateway.target
        return {"endpoint_url": target.endpoint_url, "profile": target.profile, "region": target.region}

    def history_snapshot(self, execution_id: str) -> ProgressSnapshot:
        """A read-only snapshot of any execution, rebuilt from its journal (no controls): the same one
        the History tab shows (``views.event_log.history_snapshot``), as of its end or, unfinished, now."""
        view = reports.load_execution_view(self._reader(), execution_id)
        return history_snapshot(view, view.state.finished_at or self._clock())

    def write_report(self, execution_id: str, fmt: str, path: str | Path) -> Path:
        view = reports.load_execution_view(self._reader(), execution_id)
        return reports.write_report(view, fmt, path, generated_at=self._clock())

    def pdf_report(self, execution_id: str) -> PdfReport:
        """The PDF form, ready for the ui's layout function (which the task calls on this thread)."""
        view = reports.load_execution_view(self._reader(), execution_id)
        return pdf_report(view, generated_at=self._clock())

    def close(self) -> None:
        """Release this thread's read connection and DRS clients (on the thread that used them)."""
        self._reader.close()
        for gateway in self._gateways:
            gateway.close()

    # -- helpers

    def _session(
        self,
        runner: ExecutionRunner,
        hostnames: Mapping[str, str],
        lock: DriverLock | None = None,
        lease: LeaseKeeper | None = None,
    ) -> ExecutionSession:
        gateway = self._gateway_of(runner.record)
        # Run events to the plan's alert routes (held, failed, succeeded, RTO), sent off this thread.
        alerts = attach_run_alerts(self._db, runner, target=lambda: gateway.target)
        return ExecutionSession(
            runner,
            clock=self._clock,
            operator=self._operator,
            hostnames=hostnames,
            lock=lock,
            lease=lease,
            alerts=alerts,
        )

    def _take_lease(self, execution_id: str) -> LeaseKeeper | None:
        """The execution's team sync lease (None without sync); ``LeaseHeld`` when another desktop
        drives it, which refuses the start or resume with its name."""
        if self._leases is None:
            return None
        return self._leases.take(execution_id)

    def _targets_of(self, record: ExecutionRecord, gateway: DrsGateway) -> TargetGateways | None:
        """The gateways of a run across targets, asking this thread's prompter for MFA codes."""
        return recorded_target_gateways(record, gateway, sessions=self._sessions)

    def _gateway_of(self, record: ExecutionRecord) -> DrsGateway:
        target = record.options.get("target")
        if self._gateway_for is None or not isinstance(target, Mapping):
            return self._gateway
        gateway = self._gateway_for(target)
        if gateway not in self._gateways:
            self._gateways.append(gateway)
        return gateway
