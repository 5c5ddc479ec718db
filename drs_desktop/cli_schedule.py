"""``drs-desktop schedule add|remove|list|show``: a plan's unattended drill in this machine's scheduler.

``add`` checks the profile first (no MFA, no SSO, no locked keyring, and a GetCallerIdentity that
succeeds now), writes the entry (a systemd user timer or a crontab line on Linux, a Task Scheduler XML
on Windows, a launchd plist on macOS) and says exactly what it wrote where; ``--enable`` also tells the
scheduler (systemctl --user enable --now, schtasks, launchctl). ``remove`` takes the entry out. ``list``
says each schedule's last run or the run it missed (docs/scheduled-drills.md). Exit 0 done; 1 refused
(the profile, a missed run in ``list --check``); 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from drs_desktop import cli_target
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, UsageError
from drs_desktop.cli_target import _open_database
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def add_schedule_commands(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    schedule = commands.add_parser(
        "schedule", help="schedule a plan's unattended drill in this machine's scheduler"
    )
    add_home(schedule)
    actions = schedule.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="schedule a plan (replaces its schedule)")
    add_home(add)
    add.add_argument("plan", help="the plan's name")
    add.add_argument("--at", required=True, metavar="HH:MM", help="local time of day, 24-hour clock")
    add.add_argument("--every", choices=("daily", "weekly", "monthly"), default="daily")
    add.add_argument("--day", help="weekly: a day of the week (mon..sun); monthly: a day of the month (1-28)")
    add.add_argument("--profile", default="", help="the AWS profile it runs as (default: the default chain)")
    add.add_argument("--region", default="", help="AWS Region (default: the setting aws.region)")
    add.add_argument("--soak", type=int, default=0, metavar="MINUTES", help="wait before cleanup (default 0)")
    add.add_argument("--auto-approve", action="store_true", help="approve the plan's approval gates")
    add.add_argument("--report-dir", required=True, metavar="DIR", help="where the evidence reports go")
    add.add_argument("--kind", choices=("systemd", "cron", "task-scheduler", "launchd"), help="the scheduler")
    add.add_argument("--enable", action="store_true", help="also enable it in the scheduler now")
    add.add_argument("--endpoint", metavar="URL", help="check the profile against this DRS (a simulator)")
    remove = actions.add_parser("remove", help="take a schedule's entry out and forget it")
    add_home(remove)
    remove.add_argument("schedule", help="its ID or its plan's name")
    listing = actions.add_parser("list", help="every schedule with its last or missed run")
    add_home(listing)
    listing.add_argument("--json", action="store_true")
    listing.add_argument(
        "--check", action="store_true", help="exit 1 when a schedule missed a run or a report"
    )
    show = actions.add_parser("show", help="one schedule, where its entry is, and its last run")
    add_home(show)
    show.add_argument("schedule", help="its ID or its plan's name")
    show.add_argument("--json", action="store_true")


def schedule_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    handlers = {"add": _add, "remove": _remove, "list": _list, "show": _show}
    return handlers[args.schedule_command](args, paths, out)


def _choice(args: argparse.Namespace) -> Any:
    from drs_desktop.domain.schedule.model import (
        EntryKind,
        Frequency,
        ScheduleChoice,
        ScheduleError,
        parse_time_of_day,
    )

    try:
        hour, minute = parse_time_of_day(args.at)
    except ScheduleError as exc:
        raise UsageError(f"--at: {exc}") from None
    frequency = Frequency(args.every)
    weekday = day_of_month = None
    if frequency is Frequency.WEEKLY:
        day = (args.day or "").strip().lower()[:3]
        if day not in _DAYS:
            raise UsageError("--every weekly needs --day mon|tue|wed|thu|fri|sat|sun")
        weekday = _DAYS.index(day)
    elif frequency is Frequency.MONTHLY:
        if not (args.day or "").isdigit():
            raise UsageError("--every monthly needs --day N (1 to 28)")
        day_of_month = int(args.day)
    elif args.day:
        raise UsageError("--day goes with --every weekly or --every monthly")
    return ScheduleChoice(
        plan_name=args.plan,
        frequency=frequency,
        hour=hour,
        minute=minute,
        weekday=weekday,
        day_of_month=day_of_month,
        profile=args.profile,
        region=args.region,
        soak_minutes=args.soak,
        auto_approve=args.auto_approve,
        report_dir=args.report_dir,
        entry_kind=EntryKind(args.kind) if args.kind else None,
    )


def _add(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.domain.schedule.model import ScheduleError
    from drs_desktop.secrets import SecretStore
    from drs_desktop.services import schedules
    from drs_desktop.services.schedule_entries import program_argv

    choice = _choice(args)
    with _open_database(paths) as db:
        schedule = schedules.build_schedule(db, choice, paths, cli_target._now())
        try:
            result = schedules.save(
                db,
                schedule,
                secrets=SecretStore(),
                program=program_argv(),
                folder=paths.home / "schedules",
                now=cli_target._now(),
                endpoint_url=args.endpoint,
                enable=args.enable,
            )
        except ScheduleError as exc:
            print(f"not scheduled: {terminal_safe(str(exc))}", file=sys.stderr)
            return EXIT_FAILED
    for line in result.lines():
        print(terminal_safe(line), file=out)
    return EXIT_OK


def _remove(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import schedules

    with _open_database(paths) as db:
        for line in schedules.remove(db, args.schedule):
            print(terminal_safe(line), file=out)
    return EXIT_OK


def _row_json(row: Any) -> dict[str, Any]:
    s = row.stored.schedule
    last = row.last_run
    return {
        "schedule_id": s.schedule_id,
        "plan": s.plan_name,
        "when": s.describe_when(),
        "profile": s.profile,
        "region": s.region,
        "soak_minutes": s.soak_minutes,
        "auto_approve": s.auto_approve,
        "report_dir": s.report_dir,
        "entry_kind": s.entry_kind.value,
        "entry_paths": list(row.stored.entry_paths),
        "status": row.status,
        "alert": row.alert.title if row.alert else None,
        "last_run": None
        if last is None
        else {
            "started_at": last.started_at.isoformat(),
            "ended_at": last.ended_at.isoformat() if last.ended_at else None,
            "outcome": last.outcome,
            "detail": last.detail,
            "execution_id": last.execution_id,
            "report_path": last.report_path,
        },
    }


def _list(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import schedules

    with _open_database(paths) as db:
        rows = schedules.list_schedules(db, cli_target._now())
    if args.json:
        json.dump([_row_json(row) for row in rows], out, indent=2)
        out.write("\n")
    elif not rows:
        print(
            "no schedules: add one with `drs-desktop schedule add PLAN --at HH:MM --report-dir DIR`",
            file=sys.stderr,
        )
    for row in rows if not args.json else ():
        s = row.stored.schedule
        print(
            terminal_safe(
                f"{s.schedule_id}  {s.plan_name}  {s.describe_when()}  {s.entry_kind.value}  {row.status}"
            ),
            file=out,
        )
    return EXIT_FAILED if args.check and any(row.alert for row in rows) else EXIT_OK


def _show(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import schedules

    with _open_database(paths) as db:
        stored = schedules.find(db, args.schedule)
        [row] = [r for r in schedules.list_schedules(db, cli_target._now()) if r.stored == stored]
    data = _row_json(row)
    if args.json:
        json.dump(data, out, indent=2)
        out.write("\n")
        return EXIT_OK
    for key, value in data.items():
        if key == "last_run" and isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if v)
        elif isinstance(value, list):
            value = ", ".join(value) or "(none)"
        print(terminal_safe(f"{key}: {value}"), file=out)
    return EXIT_OK
