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

This module parses the engine commands and prepares a new run (its preflight, its confirmation);
driving an execution is ``cli_drive``'s, and where its DRS is and which clocks it runs on is
``cli_target``'s.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop import cli_target
from drs_desktop.cli_audit import add_audit_commands
from drs_desktop.cli_drive import _drive, _leased, _print_progress, drive_resumed
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from drs_desktop.cli_report_period import add_period_options, period_command
from drs_desktop.cli_retention import add_retention_commands
from drs_desktop.cli_target import (
    _gateway,
    _open_database,
    _record_gateway,
    _target_of,
    add_target_options,
)
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.domain.plan.model import TestBrief
    from drs_desktop.domain.preflight.checks import PreflightReport
    from drs_desktop.domain.views.report_chart import PdfReport
    from drs_desktop.services.patient_reads import PatientReads
    from drs_desktop.services.runner import ExecutionRunner
    from drs_desktop.storage.db import Database

#: ``done`` and ``fail`` decide a held automation step (``retry`` on its wave retries it).
CONTROL_ACTIONS = ("approve", "reject", "retry", "skip", "cancel", "pause", "resume", "done", "fail")


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
    brief = run.add_argument_group("test brief (default: the plan's)")
    brief.add_argument("--scenario", help="what the test simulates (replaces the plan's brief)")
    brief.add_argument("--objective", action="append", default=[], help="an objective (repeatable)")
    brief.add_argument("--criterion", action="append", default=[], help="a success criterion (repeatable)")
    brief.add_argument("--participant", action="append", default=[], help="a participant (repeatable)")
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
    add_retention_commands(actions, add_home)  # prune, delete (cli_retention.py)
    add_audit_commands(actions, add_home)

    control = commands.add_parser(
        "control",
        help="approve, reject, retry, skip, cancel, pause or resume an execution, or decide a held "
        "automation step (retry, done, fail), then drive it on",
    )
    add_home(control)
    control.add_argument("execution_id")
    control.add_argument("action", choices=CONTROL_ACTIONS)
    control.add_argument(
        "--wave",
        help="wave number (1-based) or name; default: the one waiting (for done|fail: its held step)",
    )
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

    report = commands.add_parser("report", help="write an execution's evidence report, or a period roll-up")
    add_home(report)
    report.add_argument("execution_id", nargs="?")
    report.add_argument("--format", choices=("html", "json", "csv", "pdf"), default="html")
    report.add_argument(
        "-o", "--output", "--out", metavar="FILE", help="file to write (default: standard output)"
    )
    add_period_options(report)

    cleanup = commands.add_parser("cleanup", help="terminate the recovery instances a drill launched")
    add_home(cleanup)
    cleanup.add_argument("execution_id")
    add_target_options(cleanup)
    cleanup.add_argument("--poll-interval", type=float, metavar="SECONDS", help=argparse.SUPPRESS)


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
    reads = PatientReads(sleep=cli_target._sleep)
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
        brief=_brief(args),
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


def _brief(args: argparse.Namespace) -> TestBrief | None:
    """The test brief the command line gives (any of --scenario, --objective, --criterion,
    --participant replaces the plan's whole brief); None: the plan's own."""
    from drs_desktop.domain.plan.model import TestBrief

    if args.scenario is None and not (args.objective or args.criterion or args.participant):
        return None
    if any(
        "\n" in item or not item.strip() for item in [*args.objective, *args.criterion, *args.participant]
    ):
        raise UsageError("--objective, --criterion and --participant each take one non-empty line")
    return TestBrief(
        scenario=(args.scenario or "").strip(),
        objectives=tuple(args.objective),
        success_criteria=tuple(args.criterion),
        participants=tuple(args.participant),
    )


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
            db, gateway, record.execution_id, by, listener=_print_progress, sleep=cli_target._runner_sleep
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

    if args.period:
        return period_command(args, paths, pdf_layout)
    if not args.execution_id:
        raise UsageError("name the execution to report on, or give --period FROM..TO")
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
