"""The headless engine commands: ``run``, ``executions``, ``cleanup``.

``run`` exits 0 when the execution succeeded, 1 when it failed or was cancelled, 3 when it waits for a
person (an approval gate without ``--auto-approve``, or a run held by a critical failure or paused, once
nothing is left in flight); progress goes to stderr, and with ``--json`` one JSON object with the
execution's ID and outcome goes to stdout. An interrupted run (Ctrl-C, a crash, a ``kill -9``) is picked
up again with ``run --resume ID``: the journal holds everything, and the engine reconciles with DRS
before it launches anything.

A run holds the execution's driver lock (``services.driver_lock``) from the moment the execution exists
until it returns; ``run --resume`` refuses (exit 1, saying which process drives it) while another
process holds it. Controls from other terminals reach the run through the control inbox
(``cli_control``); a run paused that way waits for the resume instead of returning.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, EXIT_USAGE, EXIT_WAITING
from drs_desktop.cli_native_text import native_lines
from drs_desktop.cli_show import print_problems, reason_changes
from drs_desktop.config import AppPaths
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.aws.drs_clock import DrsClock
    from drs_desktop.aws.simulator_clock import SimulatorClock
    from drs_desktop.domain.engine.commands import Command
    from drs_desktop.domain.engine.events import Event
    from drs_desktop.domain.engine.record import ExecutionRecord
    from drs_desktop.domain.engine.state import ExecutionState
    from drs_desktop.domain.preflight.checks import PreflightReport
    from drs_desktop.domain.views.report_chart import PdfReport
    from drs_desktop.services.lease_keeper import LeaseKeeper
    from drs_desktop.services.patient_reads import PatientReads
    from drs_desktop.services.runner import ExecutionRunner, RunResult
    from drs_desktop.storage.db import Database

CONTROL_ACTIONS = ("approve", "reject", "retry", "skip", "cancel", "pause", "resume")


class UsageError(DrsDesktopError):
    """A command line that cannot be carried out as written (exit 2)."""


def add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", metavar="URL", help="DRS endpoint, e.g. a simulator's URL")
    parser.add_argument(
        "--profile", help="AWS profile (default: the setting aws.profile, or the default chain)"
    )
    parser.add_argument("--region", help="AWS Region (default: the setting aws.region)")


def add_commands(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    run = commands.add_parser("run", help="run a plan as a drill or a recovery (or resume one)")
    add_home(run)
    run.add_argument("plan", nargs="?", help="the plan's name")
    run.add_argument(
        "--mode", choices=("drill", "recovery"), help="DRILL or RECOVERY (required for a new run)"
    )
    run.add_argument("--resume", metavar="ID", help="carry on an interrupted execution")
    run.add_argument("--revision", type=int, help="the plan revision to run (default: the latest)")
    run.add_argument(
        "--point-in-time", metavar="T", help="ISO-8601 time: launch from the newest snapshot before T"
    )
    add_target_options(run)
    run.add_argument("--poll-interval", type=float, metavar="SECONDS", help="fix the DRS poll interval")
    run.add_argument(
        "--json", action="store_true", help="print the execution ID and outcome as JSON on stdout"
    )
    run.add_argument("--auto-approve", action="store_true", help="approve every gate (as the CLI user)")
    run.add_argument(
        "--dry-run", action="store_true", help="preflight only: checks and the calls it would make"
    )
    run.add_argument("--confirm", metavar="PLAN_NAME", help="required for a RECOVERY: the plan's name again")
    run.add_argument(
        "--isolation-override",
        metavar="REASON",
        default="",
        help="run a drill although its network's isolation check fails (the reason goes into the evidence)",
    )

    executions = commands.add_parser("executions", help="list or show executions")
    add_home(executions)
    actions = executions.add_subparsers(dest="executions_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="executions, newest first")
    add_home(listing)
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--plan", help="only this plan's executions")
    show = actions.add_parser("show", help="one execution: waves, servers, evidence")
    add_home(show)
    show.add_argument("execution_id")
    show.add_argument("--json", action="store_true")

    control = commands.add_parser(
        "control", help="approve, reject, retry, skip, cancel, pause or resume an execution, then drive it on"
    )
    add_home(control)
    control.add_argument("execution_id")
    control.add_argument("action", choices=CONTROL_ACTIONS)
    control.add_argument("--wave", help="wave number (1-based) or name; default: the one waiting")
    control.add_argument("--comment", default="", help="a note kept with the decision (evidence)")
    control.add_argument("--by", help="who decides (default: the AWS identity of the run)")
    control.add_argument(
        "--terminate-drill-instances",
        action="store_true",
        help="with cancel: also terminate the drill's instances",
    )
    control.add_argument(
        "--no-wait",
        action="store_true",
        help="return at once: queued for the live driver, or journaled without driving on",
    )
    control.add_argument("--json", action="store_true", help="print the execution ID and outcome as JSON")
    add_target_options(control)
    control.add_argument("--poll-interval", type=float, metavar="SECONDS", help=argparse.SUPPRESS)

    report = commands.add_parser("report", help="write an execution's evidence report")
    add_home(report)
    report.add_argument("execution_id")
    report.add_argument("--format", choices=("html", "json", "csv", "pdf"), default="html")
    report.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")

    cleanup = commands.add_parser("cleanup", help="terminate the recovery instances a drill launched")
    add_home(cleanup)
    cleanup.add_argument("execution_id")
    add_target_options(cleanup)
    cleanup.add_argument("--poll-interval", type=float, metavar="SECONDS", help=argparse.SUPPRESS)


def _open_database(paths: AppPaths) -> Database:
    from drs_desktop.storage.db import Database

    return Database.open(paths.database)


def _gateway(db: Database, args: argparse.Namespace, saved: dict[str, Any] | None = None) -> DrsGateway:
    """The DRS to talk to: the command line first, then what the execution recorded, then settings."""
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.aws.session import AwsTarget, EndpointUrlError, check_endpoint_url
    from drs_desktop.storage.settings import get_int, get_str

    if args.endpoint:
        try:  # before anything is stored or logged: a password or token in it would land in SQLite
            check_endpoint_url(args.endpoint)
        except EndpointUrlError as exc:
            raise UsageError(f"--endpoint: {exc}") from None
    saved = saved or {}
    endpoint = args.endpoint or saved.get("endpoint_url")
    profile = args.profile or saved.get("profile") or get_str(db, "aws.profile") or None
    region = args.region or saved.get("region") or get_str(db, "aws.region")
    if not region:
        raise UsageError("no AWS Region: pass --region or set the aws.region setting")
    followed = _simulator_clock(endpoint)
    return DrsGateway(
        AwsTarget(profile=profile, region=region, endpoint_url=endpoint),
        read_timeout=float(get_int(db, "aws.read_timeout_seconds")),
        drs_clock=followed.drs_clock() if followed is not None else _drs_clock(),
    )


def _record_gateway(db: Database, args: argparse.Namespace, record: ExecutionRecord) -> DrsGateway:
    """The DRS an existing execution talks to: the command line's, else the target it recorded."""
    return _gateway(db, args, dict(record.options.get("target") or {}))


def _resume_runner(db: Database, args: argparse.Namespace, record: ExecutionRecord) -> ExecutionRunner:
    """A runner for an existing execution, on DRS's clock (the caller holds its driver lock)."""
    from drs_desktop.services.runner import ExecutionRunner

    return ExecutionRunner.resume(db, _record_gateway(db, args, record), record.execution_id)


def _drs_clock() -> DrsClock:
    """DRS's time for this command, read from its answers (``aws.drs_clock``). Tests that run the CLI in
    the simulator's virtual time swap in one whose monotonic clock is the simulator's."""
    from drs_desktop.aws.drs_clock import DrsClock

    return DrsClock()


def _simulator_clock(endpoint: str | None) -> SimulatorClock | None:
    """The virtual clock of a DRS Desktop simulator at ``endpoint`` (``aws.simulator_clock``), so a
    plan's waits and polls run on it; None for AWS. Tests that drive the clock themselves swap this."""
    from drs_desktop.aws.simulator_clock import SimulatorClock

    return SimulatorClock.probe(endpoint)


def _runner_sleeper(runner: ExecutionRunner) -> Callable[[float], None] | None:
    """How the runner waits: a test's sleeper, else on a simulator's clock the real time a virtual wait
    lasts at its scale (the runner's own wait, which a control cuts short), else the runner's own."""
    if _runner_sleep is not None:
        return _runner_sleep
    target = runner.record.options.get("target") or {}
    followed = _simulator_clock(target.get("endpoint_url"))
    if followed is None:
        return None
    print(f"following the simulator's clock (time scale {followed.scale})", file=sys.stderr)
    return lambda seconds: runner.sleep_until_woken(followed.real_seconds(seconds))


def _target_of(gateway: DrsGateway) -> dict[str, str | None]:
    target = gateway.target
    return {"endpoint_url": target.endpoint_url, "profile": target.profile, "region": target.region}


def _now() -> datetime:
    return datetime.now(UTC)


def _sleep(seconds: float) -> None:
    """How the CLI waits out DRS throttling before an execution exists (tests swap it)."""
    time.sleep(seconds)


#: How the runner waits for its next step: None is its own wait, which a control cuts short. Tests that
#: run the CLI in the simulator's virtual time swap in a sleeper that advances the clock (with ``_now``).
_runner_sleep: Callable[[float], None] | None = None


def run_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services.driver_lock import take_driver_lock
    from drs_desktop.services.runner import ExecutionRunner

    if args.resume and args.plan:
        raise UsageError("give either a plan or --resume ID, not both")
    with _open_database(paths) as db:
        if args.resume:
            from drs_desktop.storage import executions as journal

            record = journal.get_execution(db, args.resume)
            gateway = _record_gateway(db, args, record)
            # DriverBusyError (exit 1) names the process that drives it, LeaseHeld (exit 1, team sync)
            # the desktop: nothing is journaled.
            with take_driver_lock(db.path, record.execution_id), _leased(db, record.execution_id) as lease:
                runner = ExecutionRunner.resume(
                    db,
                    gateway,
                    record.execution_id,
                )  # on DRS's clock
                return drive_resumed(db, runner, args, out, lease)
        runner_or_code = _new_run(db, args, out)
        if isinstance(runner_or_code, int):
            return runner_or_code
        with (
            take_driver_lock(db.path, runner_or_code.execution_id),
            _leased(db, runner_or_code.execution_id) as lease,
        ):
            return _drive(db, runner_or_code, args, out, lease)


def drive_resumed(
    db: Database,
    runner: ExecutionRunner,
    args: argparse.Namespace,
    out: TextIO,
    lease: LeaseKeeper | None,
) -> int:
    """Drive an execution picked up from its journal (``run --resume``, ``sync takeover``) to its end or
    to a person, with ``run``'s exit codes; the caller holds its driver lock (and lease)."""
    print(f"resuming execution {runner.execution_id} of {runner.record.plan_name!r}", file=sys.stderr)
    _credentials_renewed(runner)
    return _drive(db, runner, args, out, lease)


def record_gateway(db: Database, args: argparse.Namespace, record: ExecutionRecord) -> DrsGateway:
    """The DRS an existing execution talks to: the command line's (``add_target_options``), else the
    target it recorded."""
    return _record_gateway(db, args, record)


@contextmanager
def _leased(db: Database, execution_id: str) -> Iterator[LeaseKeeper | None]:
    """With team sync on, the execution's lease for the time this process drives it (docs/sync.md,
    "Leases"); ``LeaseHeld`` (exit 1, naming the desktop) when another desktop drives it."""
    from drs_desktop.services.execution_lease import give_back, leases_for

    leases = leases_for(db)
    keeper = leases.take(execution_id) if leases is not None else None
    try:
        yield keeper
    finally:
        give_back(keeper)


def _new_run(db: Database, args: argparse.Namespace, out: TextIO) -> ExecutionRunner | int:
    from drs_desktop.domain.engine.state import Mode
    from drs_desktop.domain.preflight.checks import confirmation_problem
    from drs_desktop.services.executions import (
        RunRequest,
        create_execution,
        engine_settings,
        prepare_execution,
    )
    from drs_desktop.services.patient_reads import PatientReads

    if not args.plan:
        raise UsageError("name the plan to run, or --resume ID")
    if not args.mode:
        raise UsageError("--mode drill|recovery is required")
    mode = Mode.RECOVERY if args.mode == "recovery" else Mode.DRILL
    point_in_time = _parse_time(args.point_in_time) if args.point_in_time else None
    if args.poll_interval is not None and args.poll_interval <= 0:
        raise UsageError("--poll-interval must be more than 0 seconds")
    # Reads go out once, as the engine's do: botocore would resend a throttled read at once, ignoring
    # Retry-After; PatientReads waits it out instead (no journal exists yet to hold a backoff in).
    gateway = _gateway(db, args).with_single_attempt_reads()
    reads = PatientReads(sleep=_sleep)
    stored = engine_settings(db)
    request = RunRequest(
        plan_name=args.plan,
        mode=mode,
        revision=args.revision,
        point_in_time=point_in_time,
        poll_interval_seconds=(
            args.poll_interval if args.poll_interval is not None else stored.poll_interval_seconds
        ),
        wave_timeout_minutes=stored.wave_timeout_minutes,
        cancel_grace_minutes=stored.cancel_grace_minutes,
        target=_target_of(gateway),
        isolation_override=args.isolation_override,
    )
    prepared = prepare_execution(db, gateway, request, reads=reads)
    preflight_code = _preflight(db, gateway, prepared, request, args, out, reads)
    if preflight_code is not None:
        return preflight_code
    problem = confirmation_problem(mode, prepared.stored.plan.name, args.confirm)
    if problem is not None:
        print(f"drs-desktop: {problem}", file=sys.stderr)
        return EXIT_USAGE
    runner = create_execution(db, gateway, prepared, request, reads=reads)  # on DRS's clock
    print(
        f"execution {runner.execution_id}: {mode.value} of {prepared.stored.plan.name!r} "
        f"rev {prepared.stored.revision.revision}, {len(prepared.server_ids)} servers",
        file=sys.stderr,
    )
    return runner


def _preflight(
    db: Database,
    gateway: DrsGateway,
    prepared: Any,
    request: Any,
    args: argparse.Namespace,
    out: TextIO,
    reads: PatientReads,
) -> int | None:
    """Run the preflight checks; print them for --dry-run (then stop) or when something fails."""
    from drs_desktop.services import preflight

    report = preflight.preflight(db, gateway, prepared, request, now=gateway.drs_clock.now(), reads=reads)
    return show_preflight(report, args, out)


def show_preflight(report: PreflightReport, args: argparse.Namespace, out: TextIO) -> int | None:
    """A preflight's report as ``run`` shows it: all of it for --dry-run (then an exit code: stop), the
    failures and "nothing launched" when a check fails (exit 1), else its warnings (None: go ahead)."""
    from drs_desktop.services import preflight

    if args.dry_run:
        if args.json:
            json.dump(preflight.report_to_json(report), out, indent=2)
            out.write("\n")
        else:
            for line in preflight.format_report(report):
                print(terminal_safe(line), file=out)
        return EXIT_OK if report.ok else EXIT_FAILED
    if not report.ok:
        for line in preflight.format_report(report):
            print(terminal_safe(line), file=sys.stderr)
        print("preflight failed: nothing launched", file=sys.stderr)
        return EXIT_FAILED
    for check in report.warnings:
        print(f"preflight warning: {terminal_safe(check.message)}", file=sys.stderr)
    return None


def _drive(
    db: Database,
    runner: ExecutionRunner,
    args: argparse.Namespace,
    out: TextIO,
    lease: LeaseKeeper | None = None,
) -> int:
    """Run to the end (or to a gate), printing progress; approve gates with --auto-approve. With a team
    sync ``lease``, no step starts while it cannot be confirmed, and a takeover ends the run here (exit 1)."""
    from drs_desktop.domain.engine.controls import ControlAction, ControlRequest, control_event
    from drs_desktop.services.execution_lease import wait_for_lease

    runner.add_listener(_print_progress)
    paused_here = _PausedHere()
    runner.add_listener(paused_here)
    approver = _approver(runner)
    sleeper = _runner_sleeper(runner)
    stuck = _stuck_for_a_person(runner, paused_here)
    if lease is not None:  # checked again right before each launch or termination, within a step
        runner.set_act_guard(lease.may_drive)
        if lease.pushes_before_release:  # teammates follow the run live, as a GUI's sync round lets them
            runner.add_listener(_LivePush(lease.push_before_release))
    try:
        while True:
            result = runner.run(
                sleep=sleeper,
                return_on_approval=True,
                should_stop=lambda: stuck() or (lease is not None and not lease.may_drive()),
            )
            if lease is not None and not lease.may_drive():  # a finished drill's cleanup waits too
                say = lambda text: print(text, file=sys.stderr)  # noqa: E731
                if wait_for_lease(lease, say, lambda: False, time.sleep):
                    continue
                return EXIT_FAILED
            if result.outcome is not None or not result.approvals:
                break
            if not args.auto_approve:
                for gate in result.approvals:
                    message = terminal_safe(gate.message)
                    print(f"waiting for approval: wave {gate.wave_name!r}: {message}", file=sys.stderr)
                break
            for gate in result.approvals:
                request = ControlRequest(
                    ControlAction.APPROVE, wave_index=gate.wave_index, comment="--auto-approve"
                )
                runner.submit(control_event(request, runner.state, at=_now(), by=approver))
    except KeyboardInterrupt:
        print(f"interrupted; resume with: drs-desktop run --resume {runner.execution_id}", file=sys.stderr)
        raise
    print_problems(db, runner)
    return _report_result(runner, result, args, out)


#: Real seconds between two pushes of a run that ``run`` drives with team sync on (the GUI's sync round
#: pushes a live run about as often: after each save, debounced, and every minute).
LIVE_PUSH_SECONDS = 30.0


class _LivePush:
    """A listener: with team sync on, push the run the command line drives at most every
    ``LIVE_PUSH_SECONDS``, on the runner's thread, so that other desktops see it live and the table's
    head stays close to its journal (best effort: ``push`` never raises, a failure is logged)."""

    def __init__(self, push: Callable[[], object], clock: Callable[[], float] = time.monotonic) -> None:
        from drs_desktop.domain.engine.events import StartRequested, TerminateRequested

        self._intents = (StartRequested, TerminateRequested)
        self._push = push
        self._clock = clock
        self._last: float | None = None

    def __call__(self, before: ExecutionState, after: ExecutionState, event: Event) -> None:
        if isinstance(event, self._intents):
            # An intent: its DRS call goes out right after, checked against the lease just before; a
            # push here (up to its time bound when the table is slow) would send the call that much later.
            return
        now = self._clock()
        if self._last is None or now - self._last >= LIVE_PUSH_SECONDS:
            self._last = now
            self._push()


class _PausedHere:
    """A listener: whether this run journaled a pause (one sent from another terminal through the
    control inbox) that no resume has lifted yet."""

    def __init__(self) -> None:
        self.paused = False

    def __call__(self, before: ExecutionState, after: ExecutionState, event: Event) -> None:
        self.paused = after.paused and (self.paused or not before.paused)


def _stuck_for_a_person(runner: ExecutionRunner, paused_here: _PausedHere) -> Callable[[], bool]:
    """``run`` waits for an operator control when the run is held (a critical server failed) or paused
    and the engine has nothing left to do, not even a poll to wake for. Nobody may be there to send it,
    so it stops there (exit 3) instead of sleeping forever; except for a pause another terminal sent
    while this run drove: that operator resumes it the same way, and the run takes the resume from its
    inbox (a sleeping runner looks every second)."""
    from drs_desktop.domain.engine.decide import decide
    from drs_desktop.domain.engine.state import ExecutionStatus

    def stuck() -> bool:
        if runner.status not in (ExecutionStatus.HELD, ExecutionStatus.PAUSED):
            return False
        if runner.status is ExecutionStatus.PAUSED and paused_here.paused:
            return False
        commands = decide(runner.state, runner.now())
        if runner.state.native is not None:  # a run in DRS (``native run``)
            return _native_waits_for_a_person(runner.state, commands)
        return not commands

    return stuck


def _native_waits_for_a_person(state: ExecutionState, commands: Sequence[Command]) -> bool:
    """Whether ``run``'s driving loop (``cli_run._drive``) stops here, exit 3. A held run in DRS: DRS
    keeps its FAILED execution until someone retries, skips or cancels, and the engine keeps reading it (a
    retry from the console shows up), so the engine always has a next read. Once no control is on its way
    (a control DRS accepted stays pending until a reading shows what it did), only those reads are left:
    nothing this run can do alone."""
    from drs_desktop.domain.engine.commands import PollNative, WakeAt

    native = state.native
    if native is None or native.status != "FAILED" or native.pending or native.observed_at is None:
        return False  # DRS still at work (a critical failure holds the run here first), or a control
    return all(isinstance(command, PollNative | WakeAt) for command in commands)


def _credentials_renewed(runner: ExecutionRunner) -> None:
    """A resume is a new process with sessions of its own: targets held for their credentials may try
    again (each journaled with who resumed; refused again, they hold again)."""
    from drs_desktop.domain.engine.accounts import credential_holds
    from drs_desktop.domain.engine.events import CredentialsRenewed

    for hold in credential_holds(runner.state):
        runner.control(CredentialsRenewed(target=hold.target, at=runner.now(), by=_approver(runner)))
        print(f"credentials of target {hold.target or 'connected'!r}: trying again", file=sys.stderr)


def _held_waves(state: ExecutionState) -> list[dict[str, str]]:
    """What a held run waits for: per failed wave, its failed critical servers and the choices."""
    from drs_desktop.domain.engine.accounts import credential_holds
    from drs_desktop.domain.engine.queries import failed_waves
    from drs_desktop.domain.engine.state import ServerStatus

    waiting = [
        {
            "target": hold.target,
            "message": f"its credentials were refused or are expiring ({terminal_safe(hold.problem)}): "
            "renew them (aws sso login, an MFA code, new keys) and resume the run",
        }
        for hold in credential_holds(state)
    ]
    for index in failed_waves(state):
        failed = [
            s.server_id for s in state.wave_servers(index) if s.critical and s.status is ServerStatus.FAILED
        ]
        waiting.append(
            {
                "wave": state.waves[index].name,
                "message": f"critical servers failed: {', '.join(failed)}; "
                "retry them, skip the wave or cancel the execution",
            }
        )
    return waiting


def _approver(runner: ExecutionRunner) -> str:
    from drs_desktop.services.history import default_actor

    return default_actor(runner.record)


def _report_result(runner: ExecutionRunner, result: RunResult, args: argparse.Namespace, out: TextIO) -> int:
    from drs_desktop.domain.engine.events import Outcome
    from drs_desktop.domain.engine.state import ExecutionStatus

    waiting_for = [{"wave": gate.wave_name, "message": gate.message} for gate in result.approvals]
    if result.outcome is None and result.status is ExecutionStatus.HELD:
        waiting_for = _held_waves(runner.state)
        for wave in waiting_for:
            where = (
                f"wave {wave['wave']!r}" if "wave" in wave else f"target {wave['target'] or 'connected'!r}"
            )
            print(f"held: {where}: {wave['message']}", file=sys.stderr)
        if any("wave" in item for item in waiting_for):
            print(
                f"execution {runner.execution_id} is held for an operator: drs-desktop control "
                f"{runner.execution_id} retry|skip|cancel [--wave N]",
                file=sys.stderr,
            )
    elif result.outcome is None and result.status is ExecutionStatus.PAUSED:
        print(
            f"execution {runner.execution_id} is paused: drs-desktop control {runner.execution_id} resume",
            file=sys.stderr,
        )
    fix = _templates_left(runner) if result.outcome is not None else None
    if args.json:
        payload = {
            "execution_id": runner.execution_id,
            "outcome": result.outcome.value if result.outcome else None,
            "status": result.status.value,
            "waiting_for": waiting_for,
            "restore_command": fix,
        }
        json.dump(payload, out)
        out.write("\n")
    if result.outcome is None:
        print(
            f"execution {runner.execution_id} waits; carry on with: drs-desktop run --resume "
            f"{runner.execution_id}",
            file=sys.stderr,
        )
        return EXIT_WAITING
    return EXIT_OK if result.outcome is Outcome.SUCCEEDED else EXIT_FAILED


def _templates_left(runner: ExecutionRunner) -> str | None:
    """An ended drill that may have left launch templates pointed at the drill network: say which, and
    the command that sets them back (None when none may be)."""
    from drs_desktop.domain.views.drill_net_evidence import maybe_left_pointed, restore_command

    left = maybe_left_pointed(runner.state)
    if not left:
        return None
    command = restore_command(runner.record.plan_name)
    print(
        f"{len(left)} launch template(s) may be left pointed at the drill network (a recovery would launch "
        f"there): {', '.join(left)}; set them back with: {command}",
        file=sys.stderr,
    )
    return command


def _print_progress(before: ExecutionState, after: ExecutionState, event: Event) -> None:
    from drs_desktop.domain.views.change_text import describe_change

    lines = [*describe_change(before, after, event), *reason_changes(before, after)]
    for line in [*lines, *native_lines(before, after, event)]:
        print(terminal_safe(line), file=sys.stderr, flush=True)


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--point-in-time: not an ISO-8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise UsageError("--point-in-time needs a time zone, e.g. 2026-11-25T08:00:00Z")
    return moment.astimezone(UTC)


def cleanup_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    """Terminate the drill's own recovery instances, journaled as cleanup proof, and wait for DRS
    (``services.history.cleanup``, the same path as the GUI's history pane)."""
    from drs_desktop.services import history
    from drs_desktop.storage import executions as journal

    with _open_database(paths) as db:
        record = journal.get_execution(db, args.execution_id)
        gateway = _record_gateway(db, args, record)
        by = history.default_actor(record)
        result = history.cleanup(
            db, gateway, record.execution_id, by, listener=_print_progress, sleep=_runner_sleep
        )
        if result.refused:
            print(result.describe(), file=sys.stderr)
        else:
            print(f"terminated {len(result.terminated)} of {len(result.targeted)} drill instances", file=out)
            for instance, why in result.why_left:
                print(f"  not terminated: {instance}: {why}", file=out)
            for instance, server, why in result.not_ours:
                print(f"  not ours, left running: {instance} of {server}: {why}", file=out)
            for line in result.not_found:
                print(f"  {line}", file=out)
        return EXIT_OK if result.complete else EXIT_FAILED


def report_command(
    args: argparse.Namespace,
    paths: AppPaths,
    out: TextIO,
    pdf_layout: Callable[[PdfReport, str], Any] | None = None,
) -> int:
    """Write the report. A PDF is laid out by ``pdf_layout`` (the GUI's own layout, which ``cli`` hands
    in: this module imports no Qt) and needs ``-o FILE``."""
    from drs_desktop.services import reports
    from drs_desktop.services.report_pdf import pdf_report

    if args.format == "pdf" and not args.output:
        raise UsageError("a PDF report needs a file: pass -o FILE")
    with _open_database(paths) as db:
        view = reports.load_execution_view(db, args.execution_id)
        if view.journal_warning:
            print(view.journal_warning, file=sys.stderr)
        if args.format == "pdf":
            if pdf_layout is None:
                raise UsageError("PDF reports are not available here")
            written = pdf_layout(pdf_report(view), args.output)
            print(f"wrote {written}", file=sys.stderr)
        elif args.output:
            written = reports.write_report(view, args.format, args.output)
            print(f"wrote {written}", file=sys.stderr)
        else:
            out.write(reports.render(view, args.format))
    return EXIT_OK
