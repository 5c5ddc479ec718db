"""``drs-desktop native run PLAN --mode drill|recovery``: run a published plan in DRS (a native recovery
plan execution), followed here like ``run`` follows a local one (docs/native-plans.md, "Running in DRS").

A run in DRS is an ordinary execution of this desktop's (journal, progress, history, evidence, cleanup;
``services.native_run``): this command prepares it (``prepare_native``: the link, drift, DRS's executions
of the native plan, and the preflight a local run has), then creates and drives it with ``run``'s own
path: the same progress lines on stderr, the same ``--json`` object on stdout, the same typed
confirmation for a RECOVERY (``--confirm PLAN``), the same driver lock and lease, and the same exit codes
(``cli_exit``): 0 succeeded, 1 failed or cancelled (or refused before anything started), 2 usage,
3 waits for a person (DRS failed a step: the run is held; ``drs-desktop control ID retry|skip|cancel``),
130 interrupted (``drs-desktop run --resume ID`` follows it again: DRS carried on meanwhile).

``--attach ARN`` follows an execution of the plan's native plan started elsewhere (another desktop, the
console): nothing is started. Without it, when DRS already runs an execution of the native plan (DRS
runs one at a time) the command says so, names the ARN to attach to, and exits 1. ``--detach`` returns
once DRS has the execution (exit 0): DRS runs it on its own; ``run --resume ID`` or the desktop app
follows it later.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop import cli_drive, cli_run, cli_target
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.domain.engine.state import Mode
    from drs_desktop.services.executions import RunRequest
    from drs_desktop.services.lease_keeper import LeaseKeeper
    from drs_desktop.services.native_run import NativePreparation
    from drs_desktop.services.patient_reads import PatientReads
    from drs_desktop.services.runner import ExecutionRunner
    from drs_desktop.storage.db import Database


def add_run_command(actions: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``native run``'s parser (``cli_native`` adds ``--home``, the target options and ``--json``)."""
    from drs_desktop.services.native_run import GIVES, LACKS

    epilog = "A run in DRS gives:\n" + "".join(f"  - {line}\n" for line in GIVES)
    epilog += "and lacks, against a run here:\n" + "".join(f"  - {line}\n" for line in LACKS)
    run = actions.add_parser(
        "run",
        help="run the plan's native plan in DRS (or follow one started elsewhere: --attach)",
        description="Start an execution of the plan's native DRS recovery plan and follow it to its end.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("plan", help="the plan's name (published with `native publish PLAN --yes`)")
    run.add_argument(
        "--mode", choices=("drill", "recovery"), help="DRILL or RECOVERY (required unless --attach)"
    )
    run.add_argument(
        "--attach", metavar="ARN", help="follow this execution of the plan's native plan; start nothing"
    )
    run.add_argument("--revision", type=int, help="the revision DRS holds (refused when DRS holds another)")
    run.add_argument("--confirm", metavar="PLAN_NAME", help="required for a RECOVERY: the plan's name again")
    run.add_argument(
        "--dry-run", action="store_true", help="preflight only: checks and the calls it would make"
    )
    run.add_argument(
        "--detach", action="store_true", help="return once DRS has the execution; DRS runs it on its own"
    )
    run.add_argument("--poll-interval", type=float, metavar="SECONDS", help="fix the DRS poll interval")
    return run


def native_run_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services.driver_lock import take_driver_lock

    args.auto_approve = False  # a run in DRS has no approval gates
    with cli_target._open_database(paths) as db:
        runner_or_code = _new_native_run(db, args, out)
        if isinstance(runner_or_code, int):
            return runner_or_code
        runner = runner_or_code
        with (
            take_driver_lock(db.path, runner.execution_id),
            cli_drive._leased(db, runner.execution_id) as lease,
        ):
            if args.detach:
                return _detach(runner, args, out, lease)
            return cli_drive._drive(db, runner, args, out, lease)


def _mode(args: argparse.Namespace) -> Mode | None:
    from drs_desktop.domain.engine.state import Mode

    if args.mode is None:
        return None
    return Mode.RECOVERY if args.mode == "recovery" else Mode.DRILL


def _new_native_run(db: Database, args: argparse.Namespace, out: TextIO) -> ExecutionRunner | int:
    """The execution to drive (journaled, nothing sent to DRS yet), or the exit code of a refusal."""
    from drs_desktop.domain.engine.state import Mode
    from drs_desktop.services.patient_reads import PatientReads

    mode = _mode(args)
    if mode is None and not args.attach:
        raise UsageError("--mode drill|recovery is required (or --attach ARN)")
    if args.attach and (args.dry_run or args.confirm is not None):
        raise UsageError("--attach starts nothing: no --dry-run or --confirm with it")
    if args.poll_interval is not None and args.poll_interval <= 0:
        raise UsageError("--poll-interval must be more than 0 seconds")
    # Reads go out once and wait out a throttle (PatientReads), as ``run``'s do before a journal exists.
    gateway = cli_target._gateway(db, args).with_single_attempt_reads()
    reads = PatientReads(sleep=cli_target._sleep)
    request = _request(db, args, gateway, mode or Mode.DRILL)
    if args.attach:
        return _attach(db, gateway, request, args, reads)
    return _start(db, gateway, request, args, out, reads)


def _request(db: Database, args: argparse.Namespace, gateway: DrsGateway, mode: Mode) -> RunRequest:
    from drs_desktop.services.executions import RunRequest, engine_settings

    stored = engine_settings(db)
    return RunRequest(
        plan_name=args.plan,
        mode=mode,
        revision=args.revision,
        poll_interval_seconds=(
            args.poll_interval if args.poll_interval is not None else stored.poll_interval_seconds
        ),
        wave_timeout_minutes=stored.wave_timeout_minutes,
        cancel_grace_minutes=stored.cancel_grace_minutes,
        target=cli_target._target_of(gateway),
    )


def _start(
    db: Database,
    gateway: DrsGateway,
    request: RunRequest,
    args: argparse.Namespace,
    out: TextIO,
    reads: PatientReads,
) -> ExecutionRunner | int:
    from drs_desktop.domain.preflight.checks import confirmation_problem
    from drs_desktop.services.executions import create_execution
    from drs_desktop.services.native_run import prepare_native

    preparation = prepare_native(db, gateway, request, now=gateway.drs_clock.now(), reads=reads)
    if preparation.active and not args.dry_run:
        _say_running_already(preparation, args.plan)
        return EXIT_FAILED
    code = cli_run.show_preflight(preparation.report, args, out)
    if code is not None:
        return code
    stored = preparation.prepared.stored
    problem = confirmation_problem(request.mode, stored.plan.name, args.confirm)
    if problem is not None:
        print(f"drs-desktop: {problem}", file=sys.stderr)
        return EXIT_USAGE
    runner = create_execution(db, gateway, preparation.prepared, request, reads=reads)  # on DRS's clock
    print(
        f"execution {runner.execution_id}: {request.mode.value} of {stored.plan.name!r} rev "
        f"{stored.revision.revision} in DRS (native plan {preparation.link.recovery_plan_arn}), "
        f"{len(preparation.prepared.server_ids)} servers",
        file=sys.stderr,
    )
    return runner


def _say_running_already(preparation: NativePreparation, plan: str) -> None:
    """DRS runs one execution of a native plan at a time: name the one that runs, and how to follow it."""
    for execution in preparation.active:
        print(
            f"DRS already runs an execution of this native plan: {execution.mode} {execution.status} "
            f"{execution.arn}",
            file=sys.stderr,
        )
    arn = preparation.active[0].arn
    print(
        f"nothing started; follow it with: drs-desktop native run {terminal_safe(plan)} --attach {arn}",
        file=sys.stderr,
    )


def _attach(
    db: Database, gateway: DrsGateway, request: RunRequest, args: argparse.Namespace, reads: PatientReads
) -> ExecutionRunner:
    from drs_desktop.services.native_run import attach

    runner = attach(db, gateway, request, args.attach, reads=reads)
    if args.mode is not None and runner.record.mode != request.mode.value:
        print(
            f"note: DRS runs {args.attach} as a {runner.record.mode}, not a {request.mode.value}: "
            f"followed as a {runner.record.mode}",
            file=sys.stderr,
        )
    print(
        f"execution {runner.execution_id}: follows {args.attach} ({runner.record.mode} of "
        f"{runner.record.plan_name!r} rev {runner.record.plan_revision}); nothing started",
        file=sys.stderr,
    )
    return runner


def _detach(runner: ExecutionRunner, args: argparse.Namespace, out: TextIO, lease: LeaseKeeper | None) -> int:
    """Drive until DRS has the execution (its ARN is journaled), then leave it to DRS. Exit 0 once DRS
    has it; a start DRS refused ends the run, reported as ``run`` reports an end (exit 1)."""
    runner.add_listener(cli_drive._print_progress)
    if lease is not None:  # team sync: the start waits for a confirmed lease, as in ``run``'s loop
        runner.set_act_guard(lease.may_drive)

    def started() -> bool:
        native = runner.state.native
        return native is not None and bool(native.execution_arn)

    try:
        result = runner.run(
            sleep=cli_target._runner_sleeper(runner),
            should_stop=lambda: started() or (lease is not None and not lease.may_drive()),
        )
    except KeyboardInterrupt:
        print(f"interrupted; resume with: drs-desktop run --resume {runner.execution_id}", file=sys.stderr)
        raise
    if not started() or result.outcome is not None:
        return cli_drive._report_result(runner, result, args, out)
    arn = runner.state.native.execution_arn if runner.state.native is not None else ""
    print(
        f"execution {runner.execution_id} runs in DRS as {arn}; follow it with: drs-desktop run --resume "
        f"{runner.execution_id} (or open the desktop app)",
        file=sys.stderr,
    )
    if args.json:
        payload: dict[str, Any] = {
            "execution_id": runner.execution_id,
            "execution_arn": arn,
            "outcome": None,
            "status": result.status.value,
            "waiting_for": [],
        }
        json.dump(payload, out)
        out.write("\n")
    return EXIT_OK


@dataclass(frozen=True)
class FollowedRun:
    """A run in DRS this desktop follows (or followed): its execution here and DRS's execution."""

    execution_id: str
    execution_arn: str  # "" until DRS answered the start
    mode: str
    status: str
    outcome: str | None
    started_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "execution_arn": self.execution_arn or None,
            "mode": self.mode,
            "status": self.status,
            "outcome": self.outcome,
            "started_at": self.started_at.isoformat(),
        }

    def describe(self) -> str:
        arn = self.execution_arn or "not started in DRS"
        status = self.status if self.outcome in (None, self.status) else f"{self.status}, {self.outcome}"
        return f"run in DRS {self.execution_id}: {self.mode} {status} started {self.started_at} -> {arn}"


def runs_in_drs_here(db: Database, plan_name: str) -> list[FollowedRun]:
    """The runs in DRS of ``plan_name`` this desktop's journal holds, newest first, each with the ARN of
    DRS's execution (an attached run's from its spec, a started one's from its journal)."""
    from drs_desktop.services.executions import RUN_IN_KEY
    from drs_desktop.services.journal_replay import replayed_state
    from drs_desktop.storage import executions as journal

    runs = []
    for record in journal.list_executions(db, plan_name=plan_name):
        if record.options.get(RUN_IN_KEY) != "DRS":
            continue
        state = replayed_state(db, record)
        native = state.native
        arn = native.execution_arn if native is not None and native.execution_arn else ""
        if not arn and state.spec.native is not None:
            arn = state.spec.native.execution_arn
        runs.append(
            FollowedRun(
                record.execution_id, arn, record.mode, record.status, record.outcome, record.started_at
            )
        )
    return runs
