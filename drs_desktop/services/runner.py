"""ExecutionRunner: carries out the engine's commands against DRS and journals every step.

The rules live in ``domain.engine.decide.decide``; this module only does what a command says, in the order the
engine's runner contract gives (see ``domain.engine.decide``):

- every event is journaled (committed) *before* anything acts on it, and then applied to the state;
- StartRecovery and TerminateRecoveryInstances are preceded by their intent (``StartRequested``,
  ``TerminateRequested``) and go out once, with botocore's retries off (``aws.drs``), so after a crash or
  an unclear failure the engine reconciles instead of launching twice;
- operator controls (pause, approve, retry, ...) may come from any thread: they are queued, checked with
  ``engine.reducer.control_error`` and journaled by the runner's own thread, between two commands;
- controls from other processes arrive through the control inbox (``storage.control_inbox``): the runner
  takes them at the same point, checks them the same way, and journals them itself (the inbox row marked
  in the same transaction) or refuses them with the reason. A sleeping runner looks at the inbox every
  ``INBOX_POLL_SECONDS``. Whoever drives a runner holds the execution's driver lock
  (``services.driver_lock``); the runner itself does not take it.

Time comes from an injected clock and waiting from an injected sleeper, so the same loop runs in real
time against AWS and in virtual time against the simulator (tests advance the simulator's clock instead
of sleeping).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar, assert_never

from drs_desktop.aws.assume_role import EXPIRED_CODES
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.lambda_fn import LambdaGateway
from drs_desktop.aws.native_runs import NativeRunsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.aws.ssm import SsmGateway
from drs_desktop.domain.drs.errors import DrsAuthError, DrsConflict, DrsError, DrsThrottled
from drs_desktop.domain.drs.observations import (
    external_load,
    job_log_observed,
    jobs_observed,
    post_launch_events,
)
from drs_desktop.domain.drs.views import RecoveryInstanceView
from drs_desktop.domain.engine.accounts import account_of, event_target
from drs_desktop.domain.engine.commands import (
    AwaitApproval,
    Command,
    FetchJobLog,
    FindNative,
    FindRecoveryInstances,
    FindSsm,
    Finish,
    PointTemplates,
    PollJobs,
    PollNative,
    PollSsm,
    ProbeHealth,
    Reconcile,
    ReconcileTerminations,
    Record,
    RestoreTemplates,
    RunAutomation,
    SendNativeControl,
    SizeExternalLoad,
    StartJob,
    StartNative,
    SurveyInstances,
    TerminateInstances,
    VerifyJobs,
    WakeAt,
)
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.events import (
    CONTROL_EVENTS,
    CredentialsNeeded,
    CredentialsRenewed,
    Event,
    ExecutionFinished,
    InstancesTerminated,
    JobStarted,
    JobsVerified,
    Outcome,
    PollFailed,
    RecoveryInstancesObserved,
    RunnerRestarted,
    StartFailed,
    StartRequested,
    TerminateFailed,
    TerminateRequested,
    Throttled,
    event_from_json,
    event_to_json,
)
from drs_desktop.domain.engine.instance_events import TerminationsReconciled
from drs_desktop.domain.engine.queries import execution_status, has_work
from drs_desktop.domain.engine.reconcile_events import InstancesSurveyed, StartsReconciled
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.reducer import apply, control_error
from drs_desktop.domain.engine.state import ExecutionState, ExecutionStatus
from drs_desktop.domain.engine.takeover import TakeoverFacts, takeover_event
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.services import drs_records
from drs_desktop.services.automation_calls import (
    AutomationCalls,
    LambdaCalls,
    SsmCalls,
    TrustCheck,
    trust_check,
)
from drs_desktop.services.drill_net_calls import DrillNetCommands
from drs_desktop.services.drs_calls import DrsCalls
from drs_desktop.services.journal_replay import replay_journal
from drs_desktop.services.native_commands import NativeCommands
from drs_desktop.services.run_points import RecoveryPoints, recorded_servers
from drs_desktop.services.target_runs import recorded_target_gateways
from drs_desktop.storage import control_inbox as inbox
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.sync_apply import foreign_writer

logger = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], datetime]
Sleeper = Callable[[float], None]
Listener = Callable[[ExecutionState, ExecutionState, Event], None]
#: How long before credentials that need a person expire their target is held for that person.
CREDENTIALS_MARGIN = timedelta(minutes=10)
#: How often (real seconds) the loop looks at those expiries: reading them may read the config files.
CREDENTIALS_CHECK_SECONDS = 30.0
#: The gateway of a named target of a run across targets (``engine.accounts``), made on first use.
TargetGateways = Callable[[str], DrsCalls]

#: The longest the loop sleeps without looking at its control queue.
MAX_SLEEP_SECONDS = 30.0
#: How often a sleeping runner looks for controls queued by other processes (one cheap SELECT).
INBOX_POLL_SECONDS = 1.0


class DrivingPaused(DrsDesktopError):
    """The act guard refused a launch or termination now (team sync's lease unconfirmed): the step
    ends before its intent is journaled, and ``run`` returns."""


class ForeignExecutionError(DrsDesktopError):
    """The execution was started on another desktop and came here through team sync: not driven here."""


class ControlRefused(DrsDesktopError):
    """An operator control that cannot apply now (the message says why)."""


@dataclass(frozen=True)
class StepResult:
    acted: bool
    wake_at: datetime | None
    approvals: tuple[AwaitApproval, ...]
    finished: Outcome | None


@dataclass(frozen=True)
class RunResult:
    """Where ``run`` stopped: finished (``outcome``), or waiting for a person (``approvals``)."""

    outcome: Outcome | None
    status: ExecutionStatus
    approvals: tuple[AwaitApproval, ...] = ()


class ExecutionRunner:
    """Drives one execution. Not thread-safe except ``submit``; one runner per execution at a time."""

    def __init__(
        self,
        db: Database,
        gateway: DrsCalls,
        record: ExecutionRecord,
        state: ExecutionState,
        *,
        clock: Clock | None = None,
        post_launch_actions: dict[str, int] | None = None,
        target_gateways: TargetGateways | None = None,
    ) -> None:
        self._db = db
        # The engine paces its own reads (Retry-After, backoff): botocore's in-call retries would resend a
        # throttled read at once, so every call of the runner goes out once.
        self._gateway = gateway.with_single_attempt_reads()
        # A run across targets (``engine.accounts``): each command goes to its target's gateway, made on
        # first use on this thread by ``target_gateways`` (the connected one keeps the run's clock).
        self._target_gateways = target_gateways or recorded_target_gateways(record, gateway)
        self._by_target: dict[str, DrsCalls] = {}
        self._target = ""  # the target of the command being executed
        self._credentials_due = 0.0  # monotonic time of the next look at credential expiries
        self._renewed: set[str] = set()  # targets whose gateway is renewing refused credentials itself
        # DRS's time by default (``aws.drs_clock``): no decision may depend on the desktop's clock.
        self._journal_seq = record.event_count  # the last journal entry this runner has applied
        self._record = record
        self._state = state
        self._clock = clock or self._gateway.drs_clock.now
        self._controls: queue.Queue[Event] = queue.Queue()
        self._wake = threading.Event()
        self._act_guard: Callable[[], bool] | None = None
        self._listeners: list[Listener] = []
        self._refusals: list[str] = []
        self._status = execution_status(state)
        #: Makes the EC2 gateway of a DRS target (a drill into the drill network: ``engine.drill_net``);
        #: tests may replace it before the run starts.
        self.ec2_factory: Callable[[AwsTarget], Ec2Gateway] = Ec2Gateway
        self._ec2_by_target: dict[str, Ec2Gateway] = {}
        #: The SSM and Lambda gateways of a DRS target (automation steps: ``engine.automation``), and this
        #: desktop's trust in a local script (``services.script_trust``); tests may replace them.
        self.ssm_factory: Callable[[AwsTarget], SsmCalls] = SsmGateway
        self.lambda_factory: Callable[[AwsTarget], LambdaCalls] = LambdaGateway
        self.script_trust: TrustCheck = trust_check(db)
        self._ssm_by_target: dict[str, SsmCalls] = {}
        self._lambda_by_target: dict[str, LambdaCalls] = {}
        self._automation_calls: AutomationCalls | None = None
        #: The launched servers' recovery points, journaled for the achieved RPO (``services.run_points``).
        self._points = RecoveryPoints(
            record.options,
            read=self._read_instances,
            record=self._record_event,
            clock=self._clock,
            recorded=lambda: recorded_servers(journal.read_journal(db, self._record).events),
        )
        options_actions = record.options.get("post_launch_actions", {})
        self._post_launch_actions = post_launch_actions or {
            str(k): int(v) for k, v in options_actions.items()
        }

    # -- construction

    @classmethod
    def resume(
        cls,
        db: Database,
        gateway: DrsCalls,
        execution_id: str,
        *,
        clock: Clock | None = None,
        target_gateways: TargetGateways | None = None,
        takeover: TakeoverFacts | None = None,
    ) -> ExecutionRunner:
        """Rebuild an execution from its journal. The engine reconciles any start whose outcome the
        journal does not hold before it launches anything.

        ``takeover``: this desktop took the run over from a silent one (the caller holds the lease and
        cleared the foreign mark; docs/sync.md, "Leases"): ``TakenOver`` is journaled after
        ``RunnerRestarted``, and the engine checks every chunk this journal shows never started in DRS's
        records before it starts anything (``engine.takeover``). A finished execution is refused."""
        record = journal.get_execution(db, execution_id)
        writer = None if takeover is not None else foreign_writer(db, execution_id)
        if writer is not None:
            # Its journal here is only as new as the last pull: driving it from it could launch again
            # what its own desktop launched since. Only a takeover (``takeover``, with the lease) may.
            raise ForeignExecutionError(
                f"execution {execution_id} was started on desktop {writer} and reached this desktop "
                "through team sync: it is shown here read-only, and only its own desktop drives it"
            )
        # One line, never a traceback, for an entry this version cannot read; refused when cut short.
        replayed = replay_journal(db, record, whole=True)
        state, events = replayed.state, replayed.events
        logger.info("execution %s resumed from %d journaled events", record.execution_id, len(events))
        if takeover is not None and state.finished is not None:
            raise ValueError(
                f"execution {execution_id} has finished ({state.finished.value}): there is nothing to take "
                "over and drive"
            )
        runner = cls(db, gateway, record, state, clock=clock, target_gateways=target_gateways)
        runner._repair_listing()
        if state.finished is None:
            # Calls a crash cut off become UNCERTAIN, and the evidence shows the restart (in DRS's time).
            runner._sync_clock()
            runner._record_event(RunnerRestarted(at=runner._clock()))
            if takeover is not None:
                runner._record_event(takeover_event(takeover, runner._clock()))
        return runner

    def _repair_listing(self) -> None:
        """The journal and the listing's summary (status, outcome, end) are two commits, so a crash
        between them leaves the listing behind: a finished run still listed RUNNING and unfinished.
        The journal is the truth; set the listing from it when reopening."""
        finished = self._state.finished
        outcome = finished.value if finished else None
        record = self._record
        if (
            record.status == self._status.value
            and record.outcome == outcome
            and (record.finished_at is not None) == (self._state.finished_at is not None)
        ):
            return
        logger.info(
            "execution %s: listing said %s, the journal says %s",
            record.execution_id,
            record.status,
            self._status.value,
        )
        journal.set_execution_status(
            self._db,
            record.execution_id,
            self._status.value,
            outcome=outcome,
            finished_at=self._state.finished_at,
        )
        self._record = journal.get_execution(self._db, record.execution_id)

    # -- what callers read

    @property
    def execution_id(self) -> str:
        return self._record.execution_id

    @property
    def record(self) -> ExecutionRecord:
        return self._record

    @property
    def state(self) -> ExecutionState:
        return self._state

    @property
    def status(self) -> ExecutionStatus:
        return self._status

    def now(self) -> datetime:
        """The runner's clock: DRS's time unless the caller gave another (the simulator's, in tests)."""
        return self._clock()

    def add_listener(self, listener: Listener) -> None:
        """``listener(before, after, event)`` after each journaled event, on the runner's thread."""
        self._listeners.append(listener)

    def take_refusals(self) -> list[str]:
        """Why queued controls were refused since the last call (for the CLI and the GUI to show)."""
        refusals, self._refusals = self._refusals, []
        return refusals

    # -- operator controls

    def submit(self, control: Event) -> None:
        """Queue an operator control from any thread; the runner checks and journals it before its next
        decision and wakes up for it."""
        if not isinstance(control, CONTROL_EVENTS):
            raise TypeError(f"{type(control).__name__} is not an operator control")
        self._controls.put(control)
        self._wake.set()

    def wake(self) -> None:
        """End the loop's current (or next) sleep without a control: a driver that stops ``run`` through
        ``should_stop`` calls this so the loop sees it at once, not at its next wake-up."""
        self._wake.set()

    def sleep_until_woken(self, seconds: float) -> None:
        """``run``'s own sleeper (a control or ``wake`` ends it, the inbox is looked at), for a driver that
        wraps it: the GUI publishes progress before each sleep and paces demo time."""
        self._sleep_until_woken(seconds)

    def wait_beside(self, seconds: float) -> bool:
        """Wait up to ``seconds`` (real time) for what runs beside the loop (a Lambda function, a script)
        to end; whether nothing runs there now. For drivers that move a virtual clock in jumps: a jump
        must not overtake a call the real clock is still serving."""
        calls = self._automation_calls
        return True if calls is None else calls.wait(seconds)

    def control(self, control: Event) -> None:
        """Apply a control now, on the caller's (the runner's) thread; ControlRefused says why not."""
        problem = control_error(self._state, control)
        if problem is not None:
            raise ControlRefused(problem)
        self._record_event(self._stamped(control))

    def _drain_controls(self) -> None:
        while True:
            try:
                control = self._controls.get_nowait()
            except queue.Empty:
                break
            problem = control_error(self._state, control)
            if problem is None:
                self._record_event(self._stamped(control))
            else:
                logger.info("control %s refused: %s", type(control).__name__, problem)
                self._refusals.append(f"{type(control).__name__}: {problem}")
        self.take_inbox()

    def take_inbox(self) -> None:
        """Decide the controls other processes queued for this execution, oldest first: journal each
        (with its inbox row marked in the same transaction) or refuse it with the reason. The control is
        stamped with this runner's clock: the journal's time is the driver's."""
        for row in inbox.queued_controls(self._db, self.execution_id):
            try:
                control: Event | None = event_from_json(row.control)
            except ValueError:
                control = None
            if not isinstance(control, CONTROL_EVENTS):
                problem: str | None = f"not an operator control: {row.kind}"
            else:
                control = self._stamped(control)
                problem = control_error(self._state, control)
            if problem is not None or control is None:
                logger.info("control %s from %s refused: %s", row.kind, row.submitted_by, problem)
                if inbox.refuse(self._db, row.id, problem or "not an operator control"):
                    self._refusals.append(f"{row.kind} ({row.submitted_by}): {problem}")
                continue
            try:
                self._journal_seq = inbox.journal_control(
                    self._db,
                    row.id,
                    self.execution_id,
                    event_to_json(control),
                    expected_last=self._journal_seq,
                )
            except inbox.InboxConflictError as exc:  # decided by someone else: nothing was journaled
                logger.warning("%s", exc)
                continue
            logger.info("control %s from %s journaled", row.kind, row.submitted_by)
            self._apply_journaled(control)

    def _stamped(self, control: Event) -> Event:
        """The control at the runner's time: whoever sent it, every journaled time is DRS's, so pauses
        and approvals measure against the same clock as the waves they hold."""
        return replace(control, at=self._clock())

    # -- the loop

    def set_act_guard(self, guard: Callable[[], bool] | None) -> None:
        """``guard()`` False: no StartRecovery or TerminateRecoveryInstances goes out now, checked right
        before each is journaled (team sync's lease: ``services.execution_lease``). The step ends there
        (``DrivingPaused``) with nothing journaled, ``run`` returns, and the engine decides it again
        when the caller runs it again."""
        self._act_guard = guard

    def _check_act(self) -> None:
        if self._act_guard is not None and not self._act_guard():
            raise DrivingPaused(
                f"execution {self.execution_id}: no launch or termination until the lease is confirmed"
            )

    def step(self) -> StepResult:
        """Take queued controls, ask the engine what to do now, and do it. A decision holds for the state
        it was made on: once a command's events changed the state, the rest waits for a new decision
        (the engine's runner contract, point 3)."""
        self._drain_controls()
        if self._automation_calls is not None:
            self._automation_calls.drain()  # what Lambda functions and scripts reported meanwhile
        if self._state.finished is None and time.monotonic() >= self._credentials_due:
            self._credentials_due = time.monotonic() + CREDENTIALS_CHECK_SECONDS
            self.check_credentials()
        self._record_points()
        decided_on = self._state
        acted = False
        wake_at: datetime | None = None
        approvals: list[AwaitApproval] = []
        for command in decide(decided_on, self._clock()):
            if self._state is not decided_on:
                break
            match command:
                case WakeAt():
                    wake_at = command.at
                case AwaitApproval():
                    approvals.append(command)
                case _:
                    self._execute(command)
                    acted = True
        return StepResult(acted, wake_at, tuple(approvals), self._state.finished)

    def run(
        self,
        *,
        sleep: Sleeper | None = None,
        return_on_approval: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
        max_steps: int | None = None,
    ) -> RunResult:
        """Step until the execution has finished and has nothing left to do, or waits for an approval
        (with ``return_on_approval``), or ``should_stop()``. ``sleep`` defaults to a real wait that a
        submitted control interrupts."""
        sleeper = sleep or self._sleep_until_woken
        steps = 0
        while not should_stop():
            try:
                result = self.step()
            except DrivingPaused as paused:
                logger.info("%s", paused)
                break
            steps += 1
            if max_steps is not None and steps >= max_steps:
                break
            if result.acted:
                continue
            if result.finished is not None and result.wake_at is None and self._controls.empty():
                # Finished, and no cleanup left to follow (a TERMINATE job to its end, a backoff).
                return RunResult(result.finished, self._status)
            if result.approvals and return_on_approval and self._controls.empty():
                return RunResult(None, self._status, result.approvals)
            delay = MAX_SLEEP_SECONDS
            if result.wake_at is not None:
                delay = min(delay, max(0.0, (result.wake_at - self._clock()).total_seconds()))
            if self._controls.empty():
                sleeper(delay)
        return RunResult(self._state.finished, self._status)

    def _record_points(self) -> None:
        """Journal the recovery points of servers that launched; a failure here never stops the run."""
        try:
            self._points.step(self._state)
        except Exception:
            logger.exception("execution %s: recovery points not recorded this step", self.execution_id)

    def _read_instances(self, target: str, server_ids: Sequence[str]) -> list[RecoveryInstanceView]:
        """DescribeRecoveryInstances of ``server_ids`` in ``target`` (its own gateway in a run across
        targets); a DrsError goes back to the caller, nothing is journaled for it."""
        self._target = target
        try:
            return self._gw().describe_recovery_instances(source_server_ids=server_ids)
        finally:
            self._target = ""

    def _sleep_until_woken(self, seconds: float) -> None:
        """Sleep up to ``seconds``; a submitted control ends it at once, one queued in the inbox by
        another process within ``INBOX_POLL_SECONDS``."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self._wake.wait(min(remaining, INBOX_POLL_SECONDS)):
                break
            if inbox.has_queued(self._db, self.execution_id):
                break
        self._wake.clear()

    # -- commands

    def _gw(self) -> DrsCalls:
        """The gateway of the command being executed: its target's, or the connected one."""
        if not self._target:
            return self._gateway
        gateway = self._by_target.get(self._target)
        if gateway is None:
            if self._target_gateways is None:
                raise DrsAuthError(
                    f"no way to reach target {self._target!r}: this run was opened without its targets",
                    code="NoTargetGateway",
                )
            gateway = self._target_gateways(self._target).with_single_attempt_reads()
            self._by_target[self._target] = gateway
        return gateway

    def _renewing(self, error: DrsError) -> bool:
        """Whether the gateway renews the refused credentials by itself (an expired session of a role
        that needs no code): once per target until a call goes through again, so a renewal that keeps
        failing (the source profile's own keys expired) asks a person instead of trying forever."""
        if not _renews_itself(self._gw(), error) or self._target in self._renewed:
            return False
        self._renewed.add(self._target)
        return True

    def _credentials_needed(self, error: DrsError) -> None:
        """The target's calls would be refused again until a person renews its credentials."""
        reason = f"{error.code}: {error}" if error.code else str(error)
        self._record_event(CredentialsNeeded(target=self._target, reason=reason, at=self._clock()))

    def check_credentials(self, wall_now: datetime | None = None) -> None:
        """Before credentials that only a person can renew (an MFA role, an SSO sign-in) expire, hold
        their target for that person (``CredentialsNeeded``), ``CREDENTIALS_MARGIN`` ahead: a call
        refused at the expiry would fail mid-wave. Expiries are the credentials' own, in real time,
        as botocore reads them (``wall_now``: the desktop's clock by default)."""
        now = wall_now or datetime.now(UTC)
        # In a run across targets the connected gateway only tells DRS's time: its credentials are not
        # the run's.
        home = [] if self._state.spec.targets else [("", self._gateway)]
        for target, gateway in [*home, *self._by_target.items()]:
            if target and target not in self._state.spec.targets:
                continue
            if not has_work(self._state, target):
                continue  # nothing left to call it for: its expiry holds nobody
            if not getattr(gateway, "refresh_needs_person", False):
                continue
            if account_of(self._state, target).auth_problem:
                continue
            try:
                expires = gateway.credentials_expire_at()  # type: ignore[attr-defined]
            except DrsError:
                continue
            if expires is None or expires - CREDENTIALS_MARGIN > now:
                continue
            where = f"target {target!r}" if target else "the connected target"
            self._record_event(
                CredentialsNeeded(
                    target=target,
                    reason=f"the credentials of {where} expire at {expires:%H:%M} UTC and only a person can "
                    "renew them (an MFA code, an SSO sign-in)",
                    at=self._clock(),
                    expires_at=expires,
                )
            )

    def _forget_session(self, target: str) -> None:
        """The operator renewed ``target``'s credentials: its next call builds a new session (botocore
        would keep using the refused ones until their stated expiry)."""
        gateway = self._by_target.pop(target, None) if target else self._gateway
        if gateway is not None:
            gateway.close()
        forget = getattr(self._target_gateways, "forget", None)
        if target and forget is not None:
            forget(target)  # a new session: the renewed credentials, not the refused ones

    def close(self) -> None:
        """Close the gateways this runner made for its targets (on the thread that used them)."""
        for gateway in self._by_target.values():
            gateway.close()
        self._by_target.clear()
        for ec2 in self._ec2_by_target.values():
            ec2.close()
        self._ec2_by_target.clear()
        for client in (*self._ssm_by_target.values(), *self._lambda_by_target.values()):
            closing = getattr(client, "close", None)
            if closing is not None:
                closing()
        self._ssm_by_target.clear()
        self._lambda_by_target.clear()
        if self._automation_calls is not None:
            self._automation_calls.close()

    def _execute(self, command: Command) -> None:
        self._target = getattr(command, "target", "") or ""
        try:
            if self._target:
                try:
                    self._gw()  # a target that cannot become a gateway: nothing is sent, a person decides
                except (DrsError, KeyError, ValueError) as error:
                    logger.warning("target %s cannot be reached: %s", self._target, error)
                    self._record_event(
                        CredentialsNeeded(target=self._target, reason=str(error), at=self._clock())
                    )
                    return
            self._dispatch(command)
        finally:
            self._target = ""

    def _dispatch(self, command: Command) -> None:
        match command:
            case StartJob():
                self._start_job(command)
            case PollJobs():
                self._poll_jobs(command)
            case SizeExternalLoad():
                self._size_external_load(command)
            case FetchJobLog():
                self._fetch_job_log(command)
            case VerifyJobs():
                self._verify_jobs(command)
            case Reconcile():
                self._reconcile(command)
            case SurveyInstances():
                self._survey(command)
            case FindRecoveryInstances():
                self._find_instances(command)
            case TerminateInstances():
                self._terminate(command)
            case ReconcileTerminations():
                self._reconcile_terminations(command)
            case StartNative():
                self._sync_clock()
                self._check_act()
                self._native().start(command)
            case FindNative():
                self._native().find(command)
            case PollNative():
                self._native().poll(command)
            case SendNativeControl():
                self._check_act()
                self._native().control(command)
            case PointTemplates():
                self._sync_clock()
                self._check_act()
                self._drill_net().point(command)
            case RestoreTemplates():
                self._drill_net().restore(command)
            case RunAutomation():
                self._sync_clock()
                self._automation().run(command)
            case ProbeHealth():
                self._automation().probe(command)
            case PollSsm():
                self._automation().poll(command)
            case FindSsm():
                self._automation().find(command)
            case Record():
                self._record_event(command.event)
            case Finish():
                self._record_event(ExecutionFinished(outcome=command.outcome, at=self._clock()))
            case AwaitApproval() | WakeAt():
                pass  # not work: ``step`` shows or waits for these
            case _:
                assert_never(command)

    def _native(self) -> NativeCommands:
        """The calls of a run in DRS (``engine.native``), through the connected target's gateway."""

        def gateway() -> NativeRunsGateway:
            return NativeRunsGateway(self._gw())  # type: ignore[arg-type]

        def on_auth(error: DrsAuthError) -> None:
            if not self._renewing(error):
                self._credentials_needed(error)

        return NativeCommands(gateway, self._record_event, self._read, self._clock, on_auth)

    def _drill_net(self) -> DrillNetCommands:
        """The EC2 calls of a drill into the drill network, through the command's target's EC2 gateway."""
        target = self._target

        def ec2() -> Ec2Gateway:
            if target not in self._ec2_by_target:
                self._ec2_by_target[target] = self.ec2_factory(self._gw().target)  # type: ignore[attr-defined]
            return self._ec2_by_target[target]

        return DrillNetCommands(ec2, self._record_event, self._clock, self._read)

    def _automation(self) -> AutomationCalls:
        """The calls of automation steps: one for the runner's life (a Lambda function or a script runs
        beside the loop, and its end comes back through it: ``drain``)."""
        if self._automation_calls is None:

            def gateway_target(target: str) -> AwsTarget:
                """The AWS target of a DRS target's gateway (on the runner's thread only)."""
                current, self._target = self._target, target
                try:
                    return self._gw().target  # type: ignore[attr-defined]
                finally:
                    self._target = current

            def ssm(target: str) -> SsmCalls:
                if target not in self._ssm_by_target:
                    self._ssm_by_target[target] = self.ssm_factory(gateway_target(target))
                return self._ssm_by_target[target]

            def lambdas(target: str) -> LambdaCalls:
                if target not in self._lambda_by_target:
                    self._lambda_by_target[target] = self.lambda_factory(gateway_target(target))
                return self._lambda_by_target[target]

            def ec2(target: str) -> Ec2Gateway:
                if target not in self._ec2_by_target:
                    self._ec2_by_target[target] = self.ec2_factory(gateway_target(target))
                return self._ec2_by_target[target]

            def own_lambda(target: str) -> LambdaCalls:
                """A gateway for one thread beside the loop: never kept, never shared (it closes it)."""
                return self.lambda_factory(gateway_target(target))

            self._automation_calls = AutomationCalls(
                ssm=ssm,
                lambdas=lambdas,
                ec2=ec2,
                own_lambda=own_lambda,
                trust=self.script_trust,
                record=self._record_event,
                clock=self._clock,
                wake=self._wake.set,
            )
        return self._automation_calls

    def _sync_clock(self) -> None:
        """Let DRS answer once before anything is journaled with its time (a no-op once it has)."""
        if not self._gateway.drs_clock.anchored:
            try:
                self._gateway.sync_clock()
            except DrsError as error:  # the engine's own reads will meet it again, and pace themselves
                logger.info("could not read DRS's time yet: %s", error)

    def _start_job(self, command: StartJob) -> None:
        # The intent's time must be DRS's: reconcile looks from it.
        self._sync_clock()
        self._check_act()
        # A drill into the drill network: its templates may have been set back behind the run's back.
        if command.drill_versions and not self._drill_net().still_pointed(command):
            return
        self._record_event(StartRequested(chunk_id=command.chunk_id, at=self._clock()))
        try:
            job = self._gw().start_recovery(
                command.server_ids,
                is_drill=command.is_drill,
                tags=command.tags,
                snapshot_ids=dict(command.snapshot_ids) or None,
            )
        except DrsError as error:
            self._record_event(
                StartFailed(
                    chunk_id=command.chunk_id,
                    reason=error.code or type(error).__name__,
                    definite=error.definite,
                    retry_after=error.retry_after,
                    at=self._clock(),
                    busy=isinstance(error, DrsConflict),  # a server in another job (engine.busy)
                    auth=isinstance(error, DrsAuthError),  # refused credentials launch nothing
                )
            )
            if isinstance(error, DrsAuthError) and not self._renewing(error):
                self._credentials_needed(error)
            return
        except Exception:  # a bug of ours after the call may have gone out: the engine must reconcile
            logger.exception("StartRecovery for chunk %s ended unexpectedly", command.chunk_id)
            self._record_event(
                StartFailed(
                    chunk_id=command.chunk_id, reason="unexpected error", definite=False, at=self._clock()
                )
            )
            return
        self._renewed.discard(self._target)
        self._record_event(JobStarted(chunk_id=command.chunk_id, job_id=job.job_id, at=self._clock()))

    def _poll_jobs(self, command: PollJobs) -> None:
        jobs = self._read("DescribeJobs", lambda: self._gw().describe_jobs(command.job_ids))
        if jobs is None:
            return
        now = self._clock()
        found = {job.job_id for job in jobs}
        missing = tuple(job_id for job_id in command.job_ids if job_id not in found)
        views = tuple(j.to_engine() for j in jobs)
        self._record_event(jobs_observed(self._state, views, missing, now))
        for event in post_launch_events(self._state, jobs, self._post_launch_actions, now):
            self._record_event(event)

    def _size_external_load(self, command: SizeExternalLoad) -> None:
        listed = self._read("DescribeJobs", lambda: self._gw().jobs_since(command.since))
        if listed is not None:
            self._record_event(external_load(self._state, listed, self._clock()))

    def _fetch_job_log(self, command: FetchJobLog) -> None:
        entries = self._read("DescribeJobLogItems", lambda: self._gw().job_log(command.job_id))
        if entries is not None:
            self._record_event(job_log_observed(self._state, command.job_id, entries, self._clock()))

    def _verify_jobs(self, command: VerifyJobs) -> None:
        jobs = self._read("DescribeJobs", lambda: self._gw().describe_jobs(command.job_ids))
        if jobs is None:
            return
        found = {job.job_id for job in jobs}
        self._record_event(
            JobsVerified(
                wave_index=command.wave_index,
                jobs=tuple(job.to_engine() for job in jobs),
                missing_job_ids=tuple(j for j in command.job_ids if j not in found),
                at=self._clock(),
            )
        )

    def _reconcile(self, command: Reconcile) -> None:
        """One look at DRS's records for unknown starts; ``domain.engine.reconcile`` decides what it means."""
        found = drs_records.look(self._gw(), self._read, self.execution_id, command.since, command.server_ids)
        if found is None:
            return
        logger.info(
            "reconcile of chunk(s) %s: %d job(s) tagged with this execution, DRS time %s",
            ", ".join(command.chunk_ids),
            len(found.tagged_jobs),
            found.drs_time.isoformat() if found.drs_time else "unknown",
        )
        self._record_event(
            StartsReconciled(
                chunk_ids=command.chunk_ids,
                tagged_jobs=found.tagged_jobs,
                last_launches=found.last_launches,
                drs_time=found.drs_time,
                at=self._clock(),
            )
        )

    def _survey(self, command: SurveyInstances) -> None:
        """Before a cleanup: this execution's jobs and every recovery instance of its servers."""
        found = drs_records.look(self._gw(), self._read, self.execution_id, command.since, command.server_ids)
        if found is None:
            return
        instances = drs_records.recovery_instances(self._gw(), self._read, command.server_ids)
        if instances is None:
            return
        self._record_event(
            InstancesSurveyed(
                tagged_jobs=found.with_last_launch_jobs(self.execution_id),
                instances=instances,
                at=self._clock(),
            )
        )

    def _find_instances(self, command: FindRecoveryInstances) -> None:
        found = self._read(
            "DescribeRecoveryInstances",
            lambda: self._gw().describe_recovery_instances(source_server_ids=command.server_ids),
        )
        if found is None:
            return
        self._points.saw(found)
        self._record_event(
            RecoveryInstancesObserved(
                server_ids=command.server_ids,
                instances=tuple(instance.to_engine() for instance in found),
                at=self._clock(),
            )
        )

    def _terminate(self, command: TerminateInstances) -> None:
        ids = command.recovery_instance_ids
        self._check_act()
        self._record_event(TerminateRequested(instance_ids=ids, at=self._clock()))
        try:
            job = self._gw().terminate_recovery_instances(ids)
        except DrsError as error:
            self._record_event(
                TerminateFailed(
                    instance_ids=ids,
                    reason=error.code or type(error).__name__,
                    definite=error.definite,
                    at=self._clock(),
                    auth=isinstance(error, DrsAuthError),
                )
            )
            if isinstance(error, DrsAuthError) and not self._renewing(error):
                self._credentials_needed(error)
            return
        except Exception:  # after TerminateRequested: the outcome is unknown, the engine tries again
            logger.exception("TerminateRecoveryInstances ended unexpectedly")
            self._record_event(
                TerminateFailed(instance_ids=ids, reason="unexpected error", definite=False, at=self._clock())
            )
            return
        self._record_event(
            InstancesTerminated(instance_ids=ids, job_id=job.job_id, at=self._clock(), awaits_job=True)
        )

    def _reconcile_terminations(self, command: ReconcileTerminations) -> None:
        """After a crash cut a termination off: the TERMINATE jobs DRS lists that hold its instances."""
        found = drs_records.terminate_jobs(self._gw(), self._read, command.since, command.instance_ids)
        if found is not None:
            self._record_event(
                TerminationsReconciled(instance_ids=command.instance_ids, jobs=found, at=self._clock())
            )

    def _read(self, operation: str, call: Callable[[], T]) -> T | None:
        """A read call; throttling and failures become events the engine paces itself by."""
        try:
            return call()
        except DrsThrottled as error:
            self._record_event(
                Throttled(at=self._clock(), retry_after=error.retry_after or 0.0, operation=operation)
            )
        except DrsError as error:
            logger.warning("%s failed: %s", operation, error)
            self._record_event(
                PollFailed(
                    at=self._clock(),
                    transient=error.transient,
                    reason=error.code or "",
                    auth=isinstance(error, DrsAuthError),
                )
            )
        return None

    # -- journal

    def _record_event(self, event: Event) -> None:
        """Commit the event to the journal, then apply it; keep the listing's status in step. An answer
        from a target's DRS is journaled with that target (``engine.accounts``)."""
        if self._target and event_target(event) == "":
            event = replace(event, target=self._target)  # type: ignore[arg-type]
        self._journal_seq = journal.append_events(
            self._db, self.execution_id, [event_to_json(event)], expected_last=self._journal_seq
        )
        self._apply_journaled(event)

    def _apply_journaled(self, event: Event) -> None:
        """Apply an event that is committed to the journal; keep the listing's status in step."""
        before = self._state
        self._state = apply(before, event)
        if isinstance(event, CredentialsRenewed):
            self._forget_session(event.target)
        status = execution_status(self._state)
        if status is not self._status or isinstance(event, ExecutionFinished):
            self._status = status
            finished = self._state.finished
            journal.set_execution_status(
                self._db,
                self.execution_id,
                status.value,
                outcome=finished.value if finished else None,
                finished_at=self._state.finished_at,
            )
        for listener in self._listeners:
            try:
                listener(before, self._state, event)
            except Exception:
                logger.exception("execution listener failed")


def _renews_itself(gateway: DrsCalls, error: DrsError) -> bool:
    """Whether the gateway assumes its role again by itself after this refusal (an expired session of a
    role that needs no MFA code): the next call goes through, no person needed."""
    target = getattr(gateway, "target", None)
    return (
        error.code in EXPIRED_CODES
        and getattr(target, "role", None) is not None
        and not getattr(gateway, "refresh_needs_person", True)
    )
