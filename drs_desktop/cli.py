"""The one command-line entry point: the GUI by default, sub-commands for everything scriptable.

Untrusted text (plan, wave and group names, comments, messages quoting them, file names) is printed
through ``terminal_safe``, so a control or bidi character shows as an escape instead of acting on the
terminal.

Exit codes, the same for every command: 0 success; 1 the command ran and the answer is "no" (an invalid
plan, a failed check, a failed execution) or an expected error (a corrupt database, an unknown plan); 2 a
usage error or an input that could not be read at all; 3 an execution that waits for a person. Errors are
one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from drs_desktop import APP_ID, __version__
from drs_desktop.cli_alerts import add_alerts_commands, alerts_command
from drs_desktop.cli_control import control_command
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError
from drs_desktop.cli_launch import add_launch_commands, launch_command
from drs_desktop.cli_native import add_native_commands, native_command
from drs_desktop.cli_retention import RETENTION_ACTIONS, retention_command
from drs_desktop.cli_run import add_commands, cleanup_command, report_command, run_command
from drs_desktop.cli_schedule import add_schedule_commands, schedule_command
from drs_desktop.cli_scripts import add_scripts_commands, scripts_command
from drs_desktop.cli_servers import add_servers_commands, servers_command
from drs_desktop.cli_show import executions_command
from drs_desktop.cli_sync import add_sync_commands, sync_command
from drs_desktop.cli_target import _open_database
from drs_desktop.cli_unattended import add_drill_command, drill_command
from drs_desktop.config import HOME_ENV, AppPaths
from drs_desktop.domain.errors import DrsDesktopError, PlanFileError, PlanFileUnreadableError
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.domain.views.report_chart import PdfReport

    pass


def _add_home(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    # On sub-commands the default is SUPPRESS so that `--home` may stand before or after the command.
    parser.add_argument(
        "--home",
        metavar="DIR",
        default=None if top else argparse.SUPPRESS,
        help=f"keep the database and files in DIR instead of the data folder (or set ${HOME_ENV})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=APP_ID,
        description="Recovery plans, drills and recoveries for AWS Elastic Disaster Recovery.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_ID} {__version__}")
    _add_home(parser, top=True)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check the window (offscreen), the AWS clients and a drill against the built-in simulator; "
        "makes no call to AWS",
    )
    parser.add_argument(
        "--demo", action="store_true", help="run against the built-in DRS simulator instead of AWS"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    plan = commands.add_parser("plan", help="validate, import, export and inspect recovery plans")
    _add_home(plan)
    plan_commands = plan.add_subparsers(dest="plan_command", metavar="ACTION", required=True)

    validate = plan_commands.add_parser("validate", help="check a plan file (exit 0 valid, 1 invalid)")
    _add_home(validate)
    validate.add_argument("file", type=Path)
    validate.add_argument(
        "--no-inventory",
        action="store_true",
        help="do not check server IDs against the cached inventory",
    )

    import_ = plan_commands.add_parser("import", help="validate a plan file and save it as a new revision")
    _add_home(import_)
    import_.add_argument("file", type=Path)
    import_.add_argument("--comment", default="", help="a note stored with the revision")
    import_.add_argument("--no-inventory", action="store_true", help="do not check against the inventory")

    export = plan_commands.add_parser("export", help="write a plan as YAML or JSON")
    _add_home(export)
    export.add_argument("name")
    export.add_argument("--format", choices=("yaml", "json"), default="yaml")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    export.add_argument("--revision", type=_positive_int, help="a revision number (default: the latest)")

    list_ = plan_commands.add_parser("list", help="list the saved plans")
    _add_home(list_)
    list_.add_argument("--json", action="store_true", help="one JSON document on stdout")

    history = plan_commands.add_parser("history", help="list the revisions of a plan")
    _add_home(history)
    history.add_argument("name")

    diff = plan_commands.add_parser("diff", help="what changed between two revisions of a plan")
    _add_home(diff)
    diff.add_argument("name")
    diff.add_argument("rev_a", type=_positive_int)
    diff.add_argument("rev_b", type=_positive_int)

    cadence = plan_commands.add_parser(
        "cadence",
        help="each plan's drill cadence: due, overdue, failed and needing a re-test, changed "
        "(exit 1 when a plan needs a drill; docs/cli.md)",
    )
    _add_home(cadence)
    cadence.add_argument("--json", action="store_true", help="one JSON document on stdout")
    add_commands(commands, _add_home)
    add_servers_commands(commands, _add_home)
    add_sync_commands(commands, _add_home)
    add_native_commands(commands, _add_home)
    add_launch_commands(commands, _add_home)
    add_scripts_commands(commands, _add_home)
    add_drill_command(commands, _add_home)
    add_schedule_commands(commands, _add_home)
    add_alerts_commands(commands, _add_home)

    simulator = commands.add_parser(
        "simulator",
        add_help=False,
        help="serve the built-in DRS simulator on loopback (see `drs-desktop simulator --help`)",
    )
    simulator.set_defaults(passthrough=True)  # its own options are parsed by drs_desktop.simulator.cli
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value}")
    return value


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # botocore at DEBUG logs whole request and response bodies: credentials from AssumeRole, SSO tokens.
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(args_list)
        if extras and not getattr(args, "passthrough", False):
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
    except SystemExit as exit_:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exit_.code or 0)
    _configure_logging(args.verbose)
    paths = AppPaths.resolve(args.home)
    try:
        if args.command is None:
            if args.self_test:
                from drs_desktop.self_test import self_test

                return self_test(paths)
            from drs_desktop.app import run_gui

            return run_gui(paths, demo=args.demo)
        if args.command == "plan":
            return _run_plan_command(args, paths)
        if args.command == "run":
            return run_command(args, paths, sys.stdout)
        if args.command == "executions" and args.executions_command in RETENTION_ACTIONS:
            return retention_command(args, paths, sys.stdout)
        if args.command == "executions":
            return executions_command(args, paths, sys.stdout)
        if args.command == "control":
            return control_command(args, paths, sys.stdout)
        if args.command == "report":
            return report_command(args, paths, sys.stdout, pdf_layout=_pdf_layout)
        if args.command == "cleanup":
            return cleanup_command(args, paths, sys.stdout)
        if args.command == "servers":
            return servers_command(args, paths, sys.stdout)
        if args.command == "sync":
            return sync_command(args, paths, sys.stdout)
        if args.command == "native":
            return native_command(args, paths, sys.stdout)
        if args.command == "launch-settings":
            return launch_command(args, paths, sys.stdout)
        if args.command == "scripts":
            return scripts_command(args, paths, sys.stdout)
        if args.command == "schedule":
            return schedule_command(args, paths, sys.stdout)
        if args.command == "drill":
            return drill_command(args, paths, sys.stdout, pdf_layout=_pdf_layout)
        if args.command == "alerts":
            return alerts_command(args, paths, sys.stdout)
        if args.command == "simulator":
            from drs_desktop.simulator.cli import main as simulator_main

            return simulator_main(extras)
        parser.error(f"unknown command {args.command}")
    except (UsageError, PlanFileUnreadableError) as error:
        print(f"{APP_ID}: error: {terminal_safe(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except DrsDesktopError as error:
        print(f"{APP_ID}: error: {terminal_safe(str(error))}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{APP_ID}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _pdf_layout(report: PdfReport, path: str) -> Path:
    """The GUI's PDF layout, imported only when a PDF is asked for (Qt is not needed for the rest)."""
    from drs_desktop.app import write_pdf_report

    return write_pdf_report(report, path)


def _run_plan_command(args: argparse.Namespace, paths: AppPaths) -> int:
    handlers: dict[str, Callable[[argparse.Namespace, AppPaths, TextIO], int]] = {
        "validate": _plan_validate,
        "import": _plan_import,
        "export": _plan_export,
        "list": _plan_list,
        "history": _plan_history,
        "diff": _plan_diff,
        "cadence": _plan_cadence,
    }
    return handlers[args.plan_command](args, paths, sys.stdout)


def _plan_validate(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import plans

    inventory = None
    if not args.no_inventory and paths.database.exists():
        with _open_database(paths) as db:
            inventory = plans.cached_inventory(db)
    try:
        report = plans.check_plan_file(args.file, inventory)
    except PlanFileUnreadableError:
        raise
    except PlanFileError as error:
        for line in error.lines():
            print(terminal_safe(line), file=out)
        return EXIT_FAILED
    shown = terminal_safe(str(args.file))
    for warning in report.warnings:
        print(f"{shown}: warning: {terminal_safe(str(warning))}", file=sys.stderr)
    if report.inventory_note:
        print(terminal_safe(report.inventory_note), file=sys.stderr)
    print(f"{shown}: plan {report.plan.name!r} is valid", file=sys.stderr)
    return EXIT_OK


def _plan_import(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import plans

    with _open_database(paths) as db:
        try:
            result = plans.import_plan_file(
                db, args.file, comment=args.comment, use_inventory=not args.no_inventory
            )
        except PlanFileUnreadableError:
            raise
        except PlanFileError as error:
            for line in error.lines():
                print(terminal_safe(line), file=out)
            print(f"{APP_ID}: nothing imported", file=sys.stderr)
            return EXIT_FAILED
    for warning in result.warnings:
        print(f"{terminal_safe(str(args.file))}: warning: {terminal_safe(str(warning))}", file=sys.stderr)
    revision = result.revision
    state = "saved as" if result.created else "unchanged, still"
    print(f"plan {revision.name!r} {state} revision {revision.revision}", file=out)
    return EXIT_OK


def _plan_export(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import plans

    with _open_database(paths) as db:
        text = plans.export_plan(db, args.name, args.format, revision=args.revision, output=args.output)
    if args.output is None:
        out.write(text)
    else:
        print(f"wrote {terminal_safe(str(args.output))}", file=sys.stderr)
    return EXIT_OK


def _plan_list(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import plans

    with _open_database(paths) as db:
        summaries = plans.list_plans(db)
    if args.json:
        json.dump([plans.summary_to_json(s) for s in summaries], out, indent=2)
        out.write("\n")
        return EXIT_OK
    if not summaries:
        print("no plans yet: import one with `drs-desktop plan import FILE`", file=sys.stderr)
        return EXIT_OK
    names = [terminal_safe(s.name) for s in summaries]
    width = max(len(name) for name in names)
    for name, s in zip(names, summaries, strict=True):
        print(
            f"{name:<{width}}  rev {s.latest_revision:<4} {s.wave_count} waves  {s.server_count} servers"
            f"  updated {s.updated_at:%Y-%m-%d %H:%M} UTC",
            file=out,
        )
    return EXIT_OK


def _plan_history(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import plans

    with _open_database(paths) as db:
        revisions = plans.plan_history(db, args.name)
    for rev in revisions:
        comment = f"  {terminal_safe(rev.comment)}" if rev.comment else ""
        print(
            f"rev {rev.revision:<4} {rev.saved_at:%Y-%m-%d %H:%M:%S} UTC  {rev.content_hash[:12]}{comment}",
            file=out,
        )
    return EXIT_OK


def _plan_diff(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import plans

    with _open_database(paths) as db:
        lines = plans.diff_revisions(db, args.name, args.rev_a, args.rev_b)
    if not lines:
        print(f"revisions {args.rev_a} and {args.rev_b} of {args.name!r} are the same", file=sys.stderr)
    for line in lines:
        print(terminal_safe(line), file=out)
    return EXIT_OK


def _plan_cadence(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    """Every plan's cadence, days counted in this machine's time zone. Reads no AWS: launch drift and the
    native plans' status are listed as not read. Exit 1 when a plan needs a drill (never tested, overdue,
    failed, changed) or cannot be read, so that cron can act on it."""
    from datetime import UTC, datetime

    from drs_desktop.domain.local_zone import LOCAL_ZONE
    from drs_desktop.services.cadence import cadence_to_json, read_cadence

    with _open_database(paths) as db:
        reading = read_cadence(db, datetime.now(UTC).astimezone(LOCAL_ZONE))
    for problem in reading.problems:
        print(f"{APP_ID}: {terminal_safe(problem)}", file=sys.stderr)
    if args.json:
        json.dump([cadence_to_json(state) for state in reading.plans], out, indent=2)
        out.write("\n")
    else:
        for state in reading.plans:
            print(f"{terminal_safe(state.plan_name)}: {terminal_safe(state.line())}", file=out)
    return EXIT_FAILED if reading.needs_test or reading.problems else EXIT_OK
