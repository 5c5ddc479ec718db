"""``drs-desktop drill --unattended``: the drill a schedule starts, with nobody at the desk.

It runs the same runner as ``run`` (``cli_run``'s preparation and preflight, ``cli_drive``'s progress
lines), with what a schedule adds:

1. It records its start first (``storage.schedules.start_run``): a run that crashes still shows that it
   began and wrote no report, which ``services.schedules.missed`` turns into an alert.
2. Before launching, it refuses when anything else touches the plan's servers: an unfinished execution
   in this database (this desktop's, or a teammate's pulled through sync), an active DRS job (one
   DescribeJobs over the last day), or a recovery instance of a recovery (not a drill) on one of its
   servers: a launch replaces the server's recovery instance, and after a real recovery that instance
   is production. It records why, says the alert, and exits 1.
3. Approval gates are approved when the schedule says so, journaled with ``by`` = ``schedule ID``.
4. Anything else that waits for a person (a gate the schedule does not approve, a held automation step,
   a failed wave) cancels the drill and terminates its instances. The choice: nobody will decide before
   morning, and drill instances left running overnight cost money and hold the servers' one DRS job
   slot; the journal keeps what held it, the evidence report says so, and the alert names the run.
5. After a drill that succeeded, it waits the soak time (real time; ``--soak`` overrides) so people can
   look at the drill instances, then cleans up (``services.history.cleanup``); after a cancelled or
   failed drill it cleans up at once.
6. It writes the evidence report (HTML and JSON; PDF when the bundle's Qt can lay it out) into the
   schedule's report folder and records the run's end, outcome and report.

Exit status: 0 the drill succeeded and its cleanup completed; 1 refused, failed, cancelled, or cleanup
incomplete; 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop import cli_target
from drs_desktop.cli_drive import _leased, _PausedHere, _print_progress, _stuck_for_a_person
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, UsageError
from drs_desktop.cli_run import show_preflight
from drs_desktop.cli_target import _open_database
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.domain.schedule.model import Schedule
    from drs_desktop.domain.views.report_chart import PdfReport
    from drs_desktop.services.runner import ExecutionRunner
    from drs_desktop.storage.db import Database

#: DescribeJobs looks this far back for active jobs (a DRS launch job ends within hours).
JOB_LOOKBACK = timedelta(days=1)
#: EC2 states of a recovery instance that no launch can replace any more.
_GONE = frozenset({"TERMINATED", "SHUTTING-DOWN", "NOT_FOUND"})


def add_drill_command(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    drill = commands.add_parser(
        "drill", help="run a plan's scheduled drill with nobody at the desk (--unattended)"
    )
    add_home(drill)
    drill.add_argument(
        "--unattended", action="store_true", required=True, help="required: no person is there"
    )
    drill.add_argument("--plan", required=True, help="the plan's name")
    drill.add_argument("--schedule", metavar="ID", help="the schedule (default: the plan's)")
    drill.add_argument("--soak", type=float, metavar="MINUTES", help="override the schedule's soak time")
    drill.add_argument("--endpoint", metavar="URL", help="DRS endpoint, e.g. a simulator's URL")
    drill.add_argument("--poll-interval", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    drill.add_argument("--json", action="store_true", help="print the run's outcome as JSON on stdout")


def drill_command(
    args: argparse.Namespace,
    paths: AppPaths,
    out: TextIO,
    pdf_layout: Callable[[PdfReport, str], Any] | None = None,
) -> int:
    from drs_desktop.domain.errors import DrsDesktopError
    from drs_desktop.services import schedules
    from drs_desktop.storage import schedules as store

    if args.soak is not None and args.soak < 0:
        raise UsageError("--soak must be 0 minutes or more")
    with _open_database(paths) as db:
        stored = schedules.find(db, args.schedule or args.plan)
        schedule = stored.schedule
        if schedule.plan_name.casefold() != args.plan.casefold():
            raise UsageError(
                f"schedule {schedule.schedule_id} is {schedule.plan_name!r}'s, not {args.plan!r}'s"
            )
        started = cli_target._now()
        store.start_run(db, schedule.schedule_id, started)
        record: dict[str, Any] = {"outcome": "error", "detail": "", "execution_id": "", "report_path": ""}
        try:
            code = _unattended(db, schedule, args, record, pdf_layout)
        except DrsDesktopError as error:
            record["detail"] = terminal_safe(str(error))
            code = EXIT_FAILED
            raise
        finally:
            store.end_run(db, schedule.schedule_id, started, ended_at=cli_target._now(), **record)
            _say_end(schedule, record, args, out)
            if not record["report_path"]:
                _alert_missed(db, schedule, args)
    return code


def _alert_missed(db: Database, schedule: Schedule, args: argparse.Namespace) -> None:
    """A run that wrote no report is a missed schedule (``services.schedules.missed``): said to the
    plan's routes now, once (the same occurrence is not said again by ``alerts check`` or the
    dashboard: ``services.readiness_alerts``). Never raises: the drill's own exit status says the rest."""
    from drs_desktop.secrets import SecretStore
    from drs_desktop.services.alerts import AlertSender
    from drs_desktop.services.readiness_alerts import conditions_of, send_conditions
    from drs_desktop.services.schedules import missed

    now = cli_target._now()
    gateways: list[DrsGateway] = []

    def target() -> Any:
        if not gateways:
            gateways.append(_gateway(db, schedule, args))
        return gateways[0].target

    sender = AlertSender(db, SecretStore(), target=target, clock=cli_target._now)
    try:
        said = [a for a in missed(db, now) if a.plan_name == schedule.plan_name]
        conditions = conditions_of([], now, missed=said, scheduled_plans=[schedule.plan_name])
        for item in send_conditions(db, sender, conditions):
            done = sum(1 for r in item.results if r.delivered)
            print(
                f"alert {item.alert.kind.value} sent: {done} of {len(item.results)} route(s)", file=sys.stderr
            )
    except Exception:  # an alert never changes how the drill ended
        logger.exception("the missed-schedule alert of %s was not sent", schedule.schedule_id)
    finally:
        sender.close()
        for gateway in gateways:
            gateway.close()


def _say_end(schedule: Schedule, record: dict[str, Any], args: argparse.Namespace, out: TextIO) -> None:
    if not record["report_path"]:
        print(
            f"ALERT schedule-missed: scheduled drill of {schedule.plan_name!r} did not report: "
            f"{record['outcome']}: {record['detail']}",
            file=sys.stderr,
        )
    if args.json:
        json.dump({"schedule_id": schedule.schedule_id, **record}, out)
        out.write("\n")


def _unattended(
    db: Database,
    schedule: Schedule,
    args: argparse.Namespace,
    record: dict[str, Any],
    pdf_layout: Callable[[PdfReport, str], Any] | None,
) -> int:
    from drs_desktop.domain.engine.state import Mode
    from drs_desktop.domain.schedule.conflicts import conflicts
    from drs_desktop.services import history
    from drs_desktop.services.driver_lock import take_driver_lock
    from drs_desktop.services.executions import (
        RunRequest,
        create_execution,
        engine_settings,
        prepare_execution,
    )
    from drs_desktop.services.patient_reads import PatientReads
    from drs_desktop.services.preflight import preflight
    from drs_desktop.services.run_alerts import attach_run_alerts

    gateway = _gateway(db, schedule, args).with_single_attempt_reads()
    reads = PatientReads(sleep=cli_target._sleep)
    stored = engine_settings(db)
    request = RunRequest(
        plan_name=schedule.plan_name,
        mode=Mode.DRILL,
        poll_interval_seconds=args.poll_interval if args.poll_interval else stored.poll_interval_seconds,
        wave_timeout_minutes=stored.wave_timeout_minutes,
        cancel_grace_minutes=stored.cancel_grace_minutes,
        target=cli_target._target_of(gateway),
    )
    prepared = prepare_execution(db, gateway, request, reads=reads)
    held = conflicts(prepared.server_ids, _holders(db, gateway, prepared.server_ids))
    if held:
        record.update(outcome="refused", detail="not started: " + "; ".join(held))
        print(f"drill of {schedule.plan_name!r} not started: {'; '.join(held)}", file=sys.stderr)
        return EXIT_FAILED
    report = preflight(db, gateway, prepared, request, now=gateway.drs_clock.now(), reads=reads)
    no_dry_run = argparse.Namespace(dry_run=False, json=False)
    if show_preflight(report, no_dry_run, sys.stderr) is not None:
        failed = [check.message for check in report.failures][:3]
        record.update(outcome="refused", detail="preflight failed: " + "; ".join(failed or ["see the log"]))
        return EXIT_FAILED
    runner = create_execution(db, gateway, prepared, request, reads=reads)
    record["execution_id"] = runner.execution_id
    print(f"execution {runner.execution_id}: unattended drill of {schedule.plan_name!r}", file=sys.stderr)
    # Its run events go to the plan's routes as any run's do (held, failed, succeeded, RTO breached).
    alerts = attach_run_alerts(db, runner, target=lambda: gateway.target)
    try:
        with take_driver_lock(db.path, runner.execution_id), _leased(db, runner.execution_id) as lease:
            outcome, why = _drive(runner, schedule, lease)
            taken_over = lease is not None and not lease.may_drive()
    finally:
        alerts.close()
    record.update(outcome=outcome, detail=why)
    if taken_over:
        # Another desktop drives the run now: its instances are that driver's to clean up, never ours
        # behind its back (a cleanup here would take only the local driver lock).
        record["report_path"], notes = _write_reports(db, runner.execution_id, schedule, pdf_layout)
        for note in notes:
            print(note, file=sys.stderr)
        return EXIT_FAILED
    if outcome == "succeeded":
        soak = args.soak if args.soak is not None else schedule.soak_minutes
        if soak > 0:
            print(f"soaking {soak:g} minutes before cleanup", file=sys.stderr)
            cli_target._sleep(soak * 60)
    by = f"schedule {schedule.schedule_id}"
    cleaned = history.cleanup(
        db, gateway, runner.execution_id, by, listener=_print_progress, sleep=cli_target._runner_sleep
    )
    if not cleaned.complete:
        record["detail"] = "; ".join(p for p in (why, f"cleanup incomplete: {cleaned.describe()}") if p)
    record["report_path"], notes = _write_reports(db, runner.execution_id, schedule, pdf_layout)
    for note in notes:
        print(note, file=sys.stderr)
    return EXIT_OK if outcome == "succeeded" and cleaned.complete else EXIT_FAILED


def _gateway(db: Database, schedule: Schedule, args: argparse.Namespace) -> DrsGateway:
    """The schedule's DRS: its profile (or the typed keys the settings keep for it, read from the OS
    keyring) and Region (else the setting), at ``--endpoint`` when given."""
    from drs_desktop.secrets import SecretStore
    from drs_desktop.services.schedules import typed_keys_for

    target_args = argparse.Namespace(
        endpoint=args.endpoint, profile=schedule.profile or None, region=schedule.region or None
    )
    gateway = cli_target._gateway(db, target_args)
    if not typed_keys_for(db, schedule.profile):
        return gateway
    from dataclasses import replace

    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.domain.connection import key_label

    keys = SecretStore().load_keys(key_label(schedule.profile))
    if keys is None:
        raise UsageError(
            f"no access keys for {schedule.profile or 'default'!r} could be read from the OS keyring"
        )
    return DrsGateway(replace(gateway.target, profile=None, credentials=keys), drs_clock=gateway.drs_clock)


def _holders(db: Database, gateway: DrsGateway, server_ids: Sequence[str]) -> list[Any]:
    """Unfinished executions in this database (teammates' pulled ones too), DRS's active jobs, and the
    recovery instances of a recovery (not a drill) on the plan's servers: a launch replaces a server's
    recovery instance, and after a real recovery that instance is production."""
    from drs_desktop.domain.engine.state import spec_from_json
    from drs_desktop.domain.schedule.conflicts import Holder
    from drs_desktop.storage import executions as journal

    holders = []
    for record in journal.list_executions(db, limit=10_000):
        if record.finished:
            continue
        try:
            servers = frozenset(s for wave in spec_from_json(record.spec).waves for s in wave.server_ids)
        except (KeyError, TypeError, ValueError):
            servers = frozenset({"(its servers cannot be read)"})  # refuses: never guess it is free
        holders.append(
            Holder("execution", record.execution_id, record.plan_name, servers or frozenset({"?"}))
        )
    now = gateway.drs_clock.now()
    for job in gateway.jobs_since(now - JOB_LOOKBACK):
        if job.is_active:
            holders.append(Holder("DRS job", job.job_id, job.initiated_by, frozenset(job.server_ids)))
    for instance in gateway.describe_recovery_instances(source_server_ids=list(server_ids)):
        # is_drill None (DRS did not say): never guess it is a drill's.
        if instance.is_drill is not True and instance.ec2_state.upper() not in _GONE:
            label = "a recovery, not a drill" if instance.is_drill is False else "not known to be a drill's"
            holders.append(
                Holder(
                    "recovery instance",
                    instance.recovery_instance_id,
                    label,
                    frozenset({instance.source_server_id}),
                )
            )
    return holders


def _drive(runner: ExecutionRunner, schedule: Schedule, lease: Any) -> tuple[str, str]:
    """Drive to the end; approve gates when the schedule says so; cancel (terminating the drill's
    instances) whatever else waits for a person. Returns the outcome and why it ended so."""
    from drs_desktop.domain.engine.controls import ControlAction, ControlRequest, control_event

    by = f"schedule {schedule.schedule_id}"
    runner.add_listener(_print_progress)
    paused_here = _PausedHere()
    runner.add_listener(paused_here)
    sleeper = cli_target._runner_sleeper(runner)
    stuck = _stuck_for_a_person(runner, paused_here)
    why = ""
    for _ in range(1000):  # each turn approves or cancels once; a drill has far fewer gates
        result = runner.run(
            sleep=sleeper,
            return_on_approval=True,
            should_stop=lambda: stuck() or (lease is not None and not lease.may_drive()),
        )
        if result.outcome is not None:
            return result.outcome.value.lower(), why
        if lease is not None and not lease.may_drive():
            return "error", "another desktop took the run over (team sync lease)"
        if result.approvals and schedule.auto_approve and not why:
            for gate in result.approvals:
                request = ControlRequest(
                    ControlAction.APPROVE,
                    wave_index=gate.wave_index,
                    comment="approved by schedule (auto-approve)",
                )
                runner.submit(control_event(request, runner.state, at=cli_target._now(), by=by))
            continue
        if why:
            return (
                "error",
                f"{why}; the cancel did not end it: drs-desktop run --resume {runner.execution_id}",
            )
        waits = [f"approval of wave {gate.wave_name!r}" for gate in result.approvals] or [
            result.status.value.lower()
        ]
        why = f"cancelled with nobody to decide ({', '.join(waits)}); its drill instances terminated"
        print(why, file=sys.stderr)
        cancel = ControlRequest(ControlAction.CANCEL, terminate_drill_instances=True)
        runner.submit(control_event(cancel, runner.state, at=cli_target._now(), by=by))
    return "error", "the run did not end"


def _write_reports(
    db: Database, execution_id: str, schedule: Schedule, pdf_layout: Callable[[PdfReport, str], Any] | None
) -> tuple[str, list[str]]:
    """HTML and JSON (and PDF when Qt can lay it out) in the report folder; the HTML's path."""
    from drs_desktop.services import reports
    from drs_desktop.services.report_pdf import pdf_report

    folder = Path(schedule.report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    view = reports.load_execution_view(db, execution_id)
    stem = f"drill-{schedule.schedule_id}-{cli_target._now():%Y%m%d-%H%M%S}-{execution_id[:8]}"
    html = reports.write_report(view, "html", folder / f"{stem}.html")
    written = [f"wrote {html}", f"wrote {reports.write_report(view, 'json', folder / f'{stem}.json')}"]
    if pdf_layout is not None:
        try:
            written.append(f"wrote {pdf_layout(pdf_report(view), str(folder / f'{stem}.pdf'))}")
        except (ImportError, OSError, RuntimeError) as exc:  # no Qt libraries on this machine
            written.append(f"no PDF: {exc}")
    return str(html), written
