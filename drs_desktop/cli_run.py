"""The headless engine commands: ``run``, ``executions``, ``cleanup``.

``run`` exits 0 when the execution succeeded, 1 when it failed or was cancelled, 3 when it waits for a
person (an approval gate without ``--auto-approve``, or a run held by a critical failure or paused, once
nothing is left in flight); progress goes to stderr, and with ``--json`` one JSON object with the
execution's ID and outcome goes to stdout. An interrupted run (Ctrl-C, a crash, a ``kill -9``) is picked
up again with ``run --resume ID``: the journal holds everything, and the engine reconciles with DRS
before it launches anything.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop.config import AppPaths
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.domain.execution_events import Event
    from drs_desktop.domain.execution_state import ExecutionState
    from drs_desktop.services.runner import ExecutionRunner, RunResult
    from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_WAITING = 3


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
) -> None:  # type: ignore[type-arg]
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
    control.add_argument("--no-wait", action="store_true", help="record the decision and return at once")
    control.add_argument("--json", action="store_true", help="print the execution ID and outcome as JSON")
    add_target_options(control)
    control.add_argument("--poll-interval", type=float, metavar="SECONDS", help=argparse.SUPPRESS)

    report = commands.add_parser("report", help="write an execution's evidence report")
    add_home(report)
    report.add_argument("execution_id")
    report.add_argument("--format", choices=("html", "json", "csv"), default="html")
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
    from drs_desktop.aws.session import AwsTarget
    from drs_desktop.storage.settings import get_str

    saved = saved or {}
    endpoint = args.endpoint or saved.get("endpoint_url")
    profile = args.profile or saved.get("profile") or get_str(db, "aws.profile") or None
    region = args.region or saved.get("region") or get_str(db, "aws.region")
    if not region:
        raise UsageError("no AWS Region: pass --region or set the aws.region setting")
    return DrsGateway(AwsTarget(profile=profile, region=region, endpoint_url=endpoint))


def _target_of(gateway: DrsGateway) -> dict[str, str | None]:
    target = gateway.target
    return {"endpoint_url": target.endpoint_url, "profile": target.profile, "region": target.region}


def _now() -> datetime:
    return datetime.now(UTC)


def run_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services.runner import ExecutionRunner

    if args.resume and args.plan:
        raise UsageError("give either a plan or --resume ID, not both")
    with _open_database(paths) as db:
        if args.resume:
            from drs_desktop.storage import executions as journal

            record = journal.get_execution(db, args.resume)
            gateway = _gateway(db, args, dict(record.options.get("target") or {}))
            runner = ExecutionRunner.resume(db, gateway, record.execution_id, clock=_now)
            print(f"resuming execution {runner.execution_id} of {record.plan_name!r}", file=sys.stderr)
        else:
            runner_or_code = _new_run(db, args, out)
            if isinstance(runner_or_code, int):
                return runner_or_code
            runner = runner_or_code
        return _drive(runner, args, out)


def _new_run(db: Database, args: argparse.Namespace, out: TextIO) -> ExecutionRunner | int:
    from drs_desktop.domain.execution_state import Mode
    from drs_desktop.domain.preflight import confirmation_problem
    from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution

    if not args.plan:
        raise UsageError("name the plan to run, or --resume ID")
    if not args.mode:
        raise UsageError("--mode drill|recovery is required")
    mode = Mode.RECOVERY if args.mode == "recovery" else Mode.DRILL
    point_in_time = _parse_time(args.point_in_time) if args.point_in_time else None
    if args.poll_interval is not None and args.poll_interval <= 0:
        raise UsageError("--poll-interval must be more than 0 seconds")
    gateway = _gateway(db, args)
    request = RunRequest(
        plan_name=args.plan,
        mode=mode,
        revision=args.revision,
        point_in_time=point_in_time,
        poll_interval_seconds=args.poll_interval,
        target=_target_of(gateway),
    )
    prepared = prepare_execution(db, gateway, request)
    preflight_code = _preflight(db, gateway, prepared, request, args, out)
    if preflight_code is not None:
        return preflight_code
    problem = confirmation_problem(mode, prepared.stored.plan.name, args.confirm)
    if problem is not None:
        print(f"drs-desktop: {problem}", file=sys.stderr)
        return EXIT_USAGE
    runner = create_execution(db, gateway, prepared, request, clock=_now)
    print(
        f"execution {runner.execution_id}: {mode.value} of {prepared.stored.plan.name!r} "
        f"rev {prepared.stored.revision.revision}, {len(prepared.server_ids)} servers",
        file=sys.stderr,
    )
    return runner


def _preflight(
    db: Database, gateway: DrsGateway, prepared: Any, request: Any, args: argparse.Namespace, out: TextIO
) -> int | None:
    """Run the preflight checks; print them for --dry-run (then stop) or when something fails."""
    from drs_desktop.services import preflight

    report = preflight.preflight(db, gateway, prepared, request, now=_now())
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


def _drive(runner: ExecutionRunner, args: argparse.Namespace, out: TextIO) -> int:
    """Run to the end (or to a gate), printing progress; approve gates with --auto-approve."""
    from drs_desktop.domain.execution_events import ApprovalGranted

    runner.add_listener(_print_progress)
    approver = _approver(runner)
    try:
        while True:
            result = runner.run(return_on_approval=True, should_stop=_stuck_for_a_person(runner))
            if result.outcome is not None or not result.approvals:
                break
            if not args.auto_approve:
                for gate in result.approvals:
                    message = terminal_safe(gate.message)
                    print(f"waiting for approval: wave {gate.wave_name!r}: {message}", file=sys.stderr)
                break
            for gate in result.approvals:
                runner.submit(
                    ApprovalGranted(
                        wave_index=gate.wave_index,
                        phase=gate.phase,
                        step_index=gate.step_index,
                        by=approver,
                        at=_now(),
                        comment="--auto-approve",
                    )
                )
    except KeyboardInterrupt:
        print(f"interrupted; resume with: drs-desktop run --resume {runner.execution_id}", file=sys.stderr)
        raise
    return _report_result(runner, result, args, out)


def _stuck_for_a_person(runner: ExecutionRunner) -> Callable[[], bool]:
    """``run`` waits for an operator control when the run is held (a critical server failed) or paused
    and the engine has nothing left to do, not even a poll to wake for. The GUI sends that control; a
    command line has nobody to send it, so it stops there (exit 3) instead of sleeping forever."""
    from drs_desktop.domain.engine import decide
    from drs_desktop.domain.execution_state import ExecutionStatus

    def stuck() -> bool:
        if runner.status not in (ExecutionStatus.HELD, ExecutionStatus.PAUSED):
            return False
        return not decide(runner.state, _now())

    return stuck


def _held_waves(state: ExecutionState) -> list[dict[str, str]]:
    """What a held run waits for: per failed wave, its failed critical servers and the choices."""
    from drs_desktop.domain.execution_queries import failed_waves
    from drs_desktop.domain.execution_state import ServerStatus

    waiting = []
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
    from drs_desktop.domain.execution_events import Outcome
    from drs_desktop.domain.execution_state import ExecutionStatus

    waiting_for = [{"wave": gate.wave_name, "message": gate.message} for gate in result.approvals]
    if result.outcome is None and result.status is ExecutionStatus.HELD:
        waiting_for = _held_waves(runner.state)
        for wave in waiting_for:
            print(f"held: wave {wave['wave']!r}: {wave['message']}", file=sys.stderr)
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
    if args.json:
        payload = {
            "execution_id": runner.execution_id,
            "outcome": result.outcome.value if result.outcome else None,
            "status": result.status.value,
            "waiting_for": waiting_for,
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


def _print_progress(before: ExecutionState, after: ExecutionState, event: Event) -> None:
    from drs_desktop.services.progress import describe_change

    for line in describe_change(before, after, event):
        print(terminal_safe(line), file=sys.stderr, flush=True)


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--point-in-time: not an ISO-8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise UsageError("--point-in-time needs a time zone, e.g. 2026-11-25T08:00:00Z")
    return moment.astimezone(UTC)


def executions_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.storage import executions as journal

    with _open_database(paths) as db:
        if args.executions_command == "list":
            records = journal.list_executions(db, plan_name=args.plan)
            if args.json:
                json.dump([_record_json(r) for r in records], out, indent=2)
                out.write("\n")
                return EXIT_OK
            if not records:
                print("no executions yet", file=sys.stderr)
            for r in records:
                print(
                    f"{r.execution_id}  {r.started_at:%Y-%m-%d %H:%M} UTC  {r.mode:<8} {r.status:<16} "
                    f"{terminal_safe(r.plan_name)} rev {r.plan_revision}",
                    file=out,
                )
            return EXIT_OK
        return _show(db, args, out)


def _record_json(record: Any) -> dict[str, Any]:
    return {
        "execution_id": record.execution_id,
        "plan": record.plan_name,
        "plan_revision": record.plan_revision,
        "mode": record.mode,
        "status": record.status,
        "outcome": record.outcome,
        "started_at": record.started_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
    }


def _show(db: Database, args: argparse.Namespace, out: TextIO) -> int:
    from drs_desktop.domain.execution import replay
    from drs_desktop.domain.execution_events import event_from_json
    from drs_desktop.domain.execution_queries import drill_instances_running
    from drs_desktop.domain.execution_state import spec_from_json
    from drs_desktop.storage import executions as journal

    record = journal.get_execution(db, args.execution_id)
    events = [event_from_json(e.payload) for e in journal.load_journal(db, record.execution_id)]
    state = replay(spec_from_json(record.spec), events)
    running = drill_instances_running(state)
    if args.json:
        data = _record_json(record)
        data["waves"] = [
            {
                "name": wave.name,
                "phase": wave.phase.value,
                "servers": [
                    {
                        "server_id": s.server_id,
                        "status": s.status.value,
                        "job_id": s.job_id,
                        "recovery_instance_id": s.recovery_instance_id,
                        "retries": s.retries,
                    }
                    for s in state.wave_servers(wave.index)
                ],
            }
            for wave in state.waves
        ]
        data["drill_instances_running"] = list(running)
        json.dump(data, out, indent=2)
        out.write("\n")
        return EXIT_OK
    print(f"execution {record.execution_id}", file=out)
    print(f"  plan {record.plan_name!r} rev {record.plan_revision}, {record.mode}, {record.status}", file=out)
    print(
        f"  started {record.started_at:%Y-%m-%d %H:%M:%S} UTC by {record.identity.get('arn', '?')}", file=out
    )
    for wave in state.waves:
        print(f"  wave {wave.index + 1} {wave.name!r}: {wave.phase.value}", file=out)
        for server in state.wave_servers(wave.index):
            extra = f" {server.recovery_instance_id}" if server.recovery_instance_id else ""
            print(f"    {server.server_id} {server.status.value}{extra}", file=out)
    if running:
        print(
            f"  drill instances still running: {len(running)} (drs-desktop cleanup {record.execution_id})",
            file=out,
        )
    return EXIT_OK


def cleanup_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    """Terminate the drill's own recovery instances, journaled as cleanup proof, and wait for DRS
    (``services.history.cleanup``, the same path as the GUI's history pane)."""
    from drs_desktop.services import history
    from drs_desktop.storage import executions as journal

    with _open_database(paths) as db:
        record = journal.get_execution(db, args.execution_id)
        gateway = _gateway(db, args, dict(record.options.get("target") or {}))
        by = history.default_actor(record)
        result = history.cleanup(db, gateway, record.execution_id, by, clock=_now, listener=_print_progress)
        if result.refused:
            print(result.describe(), file=sys.stderr)
        else:
            print(f"terminated {len(result.terminated)} of {len(result.targeted)} drill instances", file=out)
        return EXIT_OK if result.complete else EXIT_FAILED


def report_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import reports

    with _open_database(paths) as db:
        view = reports.load_execution_view(db, args.execution_id)
        if args.output:
            written = reports.write_report(view, args.format, args.output)
            print(f"wrote {written}", file=sys.stderr)
        else:
            out.write(reports.render(view, args.format))
    return EXIT_OK


def control_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    """Journal an operator's decision on an execution (the same control the GUI sends), then drive the
    execution on like ``run --resume`` unless ``--no-wait``."""
    from drs_desktop.domain.execution import control_error
    from drs_desktop.services import history
    from drs_desktop.services.runner import ControlRefused, ExecutionRunner
    from drs_desktop.storage import executions as journal

    with _open_database(paths) as db:
        record = journal.get_execution(db, args.execution_id)
        gateway = _gateway(db, args, dict(record.options.get("target") or {}))
        # Decide on the replayed journal first: a refused or mistyped control writes nothing.
        state = history.replayed_state(db, record)
        event = _control_event(state, args, args.by or history.default_actor(record))
        problem = control_error(state, event)
        if problem is not None:
            raise ControlRefused(problem)
        runner = ExecutionRunner.resume(db, gateway, record.execution_id, clock=_now)
        runner.control(event)
        print(f"{args.action} recorded for execution {runner.execution_id}", file=sys.stderr)
        if args.no_wait:
            return EXIT_OK
        args.auto_approve = False
        return _drive(runner, args, out)


def _control_event(state: ExecutionState, args: argparse.Namespace, by: str) -> Event:
    from drs_desktop.domain.execution_events import (
        ApprovalGranted,
        ApprovalRejected,
        Cancel,
        Pause,
        Resume,
        RetryFailed,
        SkipWave,
    )
    from drs_desktop.domain.execution_queries import failed_waves, pending_approval

    now = _now()
    if args.action == "pause":
        return Pause(at=now, by=by)
    if args.action == "resume":
        return Resume(at=now, by=by)
    if args.action == "cancel":
        return Cancel(at=now, by=by, terminate_drill_instances=args.terminate_drill_instances)
    if args.action in ("approve", "reject"):
        waiting = [w.index for w in state.waves if pending_approval(state, w) is not None]
        index = _wave_index(state, args.wave, waiting, "waits for an approval")
        wave = state.waves[index]
        kind = ApprovalGranted if args.action == "approve" else ApprovalRejected
        return kind(
            wave_index=index,
            phase=wave.step_phase(),
            step_index=wave.step_index,
            by=by,
            at=now,
            comment=args.comment,
        )
    index = _wave_index(state, args.wave, list(failed_waves(state)), "has failed servers")
    if args.action == "retry":
        return RetryFailed(wave_index=index, at=now, by=by)
    return SkipWave(wave_index=index, at=now, by=by, reason=args.comment)


def _wave_index(state: ExecutionState, wanted: str | None, candidates: list[int], what: str) -> int:
    """The wave the operator named (number or name), or the only one that ``what``."""
    if wanted is None:
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise UsageError(f"no wave {what}")
        names = ", ".join(f"{i + 1} {state.waves[i].name!r}" for i in candidates)
        raise UsageError(f"several waves {what} ({names}): choose one with --wave")
    if wanted.isdigit() and 1 <= int(wanted) <= len(state.waves):
        return int(wanted) - 1
    for wave in state.waves:
        if wave.name == wanted:
            return wave.index
    raise UsageError(f"no wave {wanted!r} in this execution")
