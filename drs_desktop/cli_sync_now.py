"""``sync now``, ``sync status`` and ``sync resolve``: team sync from the command line (docs/sync.md).

``sync now [--table T --profile P --region R --endpoint-url U]`` pulls, pushes and pulls again. The table
given is remembered (``sync_state``), so later runs need no options; pointing a desktop that already
synced at another table is refused. It prints what it did on one line; each open conflict on a line of
its own, and then exits 1 until they are resolved; an app older than the table's ``min_app_version``
refuses in one line (exit 1), as does a table out of reach (nothing is lost: the queue stays).

``sync status`` reads only this desktop's database: the table, this desktop's ID, the cursor, how many
changes are queued, the last sync and the last error, the open conflicts, and the executions whose journal
could not be pulled (tried again every sync), in words.

``sync clean [--dry-run] [--json]`` deletes the body parts no head and no revision names
(``aws.sync_clean``; docs/sync.md, "Cleaning up parts") and prints what it read, deleted (or would
delete) and kept, one line or, with ``--json``, the whole report. Deleting needs
``dynamodb:BatchWriteItem`` and ``dynamodb:DeleteItem``, which only the maintenance statement grants: a
refusal is one line naming them (exit 1).

``sync resolve --plan NAME --keep-mine|--take-theirs|--save-as-copy`` (or ``--setting KEY``) resolves one
conflict; the next ``sync now`` carries it out.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, TextIO

from drs_desktop import __version__
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, UsageError
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.aws.sync_schema import SyncTableTarget
    from drs_desktop.services.sync import SyncService
    from drs_desktop.storage.db import Database


def add_sync_run_commands(actions: argparse._SubParsersAction, add_home: object) -> None:
    now = actions.add_parser("now", help="pull the team's changes, push this desktop's, pull again")
    status = actions.add_parser("status", help="this desktop's sync state and open conflicts (no network)")
    resolve = actions.add_parser("resolve", help="resolve a sync conflict")
    clean = actions.add_parser(
        "clean", help="delete body parts nothing names (needs the maintenance statement's DeleteItem)"
    )
    clean.add_argument("--dry-run", action="store_true", help="say what would be deleted; delete nothing")
    clean.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    for parser in (now, status, resolve, clean):
        if callable(add_home):
            add_home(parser)
    for parser in (now, resolve, clean):
        parser.add_argument(
            "--table", metavar="NAME", help="the team's table (remembered after the first time)"
        )
        parser.add_argument("--profile", help="AWS profile for the table (default: the credential chain)")
        parser.add_argument("--region", help="the table's AWS Region (default: the profile's region)")
        parser.add_argument("--endpoint-url", metavar="URL", help="a DynamoDB endpoint other than AWS's")
    which = resolve.add_mutually_exclusive_group(required=True)
    which.add_argument("--plan", metavar="NAME", help="the plan in conflict")
    which.add_argument("--setting", metavar="KEY", help="the shared setting in conflict")
    choice = resolve.add_mutually_exclusive_group(required=True)
    choice.add_argument("--keep-mine", dest="choice", action="store_const", const="keep_mine")
    choice.add_argument("--take-theirs", dest="choice", action="store_const", const="take_theirs")
    choice.add_argument("--save-as-copy", dest="choice", action="store_const", const="save_as_copy")


def sync_run_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.storage.db import Database

    with Database.open(paths.database) as db:
        if args.sync_command == "status":
            return _status(db, out)
        if args.sync_command == "clean":
            return clean_command(sync_target(db, args), args, out)
        service = _service(db, args)
        if args.sync_command == "now":
            return _now(db, service, out)
        return _resolve(db, service, args, out)


def _service(db: Database, args: argparse.Namespace) -> SyncService:
    from drs_desktop.aws.sync_schema import dynamodb_client
    from drs_desktop.services.sync import SyncService
    from drs_desktop.storage import sync_outbox as outbox

    target = sync_target(db, args)
    state = outbox.get_state(db)
    return SyncService(db, dynamodb_client(target), target, state.desktop_id, __version__)


def sync_target(db: Database, args: argparse.Namespace) -> SyncTableTarget:
    """The table the options name, else the one this desktop syncs with (remembered when given)."""
    from drs_desktop.aws.sync_schema import SyncTableTarget, configured_region
    from drs_desktop.domain.sync_errors import SyncTargetError
    from drs_desktop.storage import sync_outbox as outbox

    state = outbox.get_state(db)
    table = args.table or state.table_name
    if not table:
        raise UsageError("no sync table yet: pass --table NAME (remembered after the first sync)")
    same = table == state.table_name
    profile = args.profile if args.profile is not None else (state.profile if same else "") or None
    endpoint = args.endpoint_url or (state.endpoint if same else "") or None
    region = args.region or (state.region if same else "") or configured_region(profile)
    if not region:
        raise UsageError("no AWS Region for the table: pass --region (or give the profile a region)")
    try:
        target = SyncTableTarget(table=table, region=region, profile=profile, endpoint_url=endpoint)
    except SyncTargetError as exc:
        raise UsageError(str(exc)) from None
    if not same or args.table:
        outbox.configure(db, table, region=region, endpoint=endpoint or "", profile=profile or "")
    print(f"sync {terminal_safe(target.describe())}", file=sys.stderr)
    return target


def _now(db: Database, service: SyncService, out: TextIO) -> int:
    report = service.sync_now()
    for note in report.notes:
        print(f"note: {terminal_safe(note)}", file=sys.stderr)
    print(terminal_safe(report.describe()), file=out)
    return _conflict_lines(db, out)


def _conflict_lines(db: Database, out: TextIO) -> int:
    from drs_desktop.services.sync_push import describe_conflict
    from drs_desktop.storage.sync_conflicts import open_conflicts

    conflicts = open_conflicts(db)
    for conflict in conflicts:
        line = describe_conflict(
            conflict.kind,
            conflict.key,
            conflict.mine,
            conflict.theirs_writer,
            conflict.theirs_deleted,
            conflict.theirs,
        )
        print(f"conflict: {terminal_safe(line)}", file=out)
    if conflicts:
        print(
            "resolve each with: drs-desktop sync resolve --plan NAME "
            "--keep-mine|--take-theirs|--save-as-copy",
            file=out,
        )
        return EXIT_FAILED
    return EXIT_OK


def _status(db: Database, out: TextIO) -> int:
    from drs_desktop.storage import sync_outbox as outbox

    state = outbox.get_state(db)
    if state.configured:
        where = f"{state.table_name} in {state.region or 'the default Region'}"
        if state.endpoint:
            where += f" at {state.endpoint}"
        if state.profile:
            where += f" (profile {state.profile})"
    else:
        where = "none yet (sync now --table NAME sets it)"
    lines = [
        f"table: {where}",
        f"desktop ID: {state.desktop_id}{_former(db)}",
        f"cursor: every change up to number {state.cursor} pulled",
        f"queued: {outbox.pending_count(db)} local change(s) not pushed yet",
        f"last sync: {state.last_sync_at.isoformat(timespec='seconds') if state.last_sync_at else 'never'}",
    ]
    if state.last_error:
        at = state.last_error_at.isoformat(timespec="seconds") if state.last_error_at else "?"
        lines.append(f"last error ({at}): {state.last_error}")
    else:
        lines.append("last error: none")
    for line in lines:
        print(terminal_safe(line), file=out)
    from drs_desktop.storage.sync_conflicts import open_conflicts

    count = len(open_conflicts(db))
    print(f"open conflicts: {count or 'none'}", file=out)
    _conflict_lines(db, out)
    from drs_desktop.storage.sync_journal import blocked_executions

    blocked = blocked_executions(db)
    print(f"executions not pulled: {len(blocked) or 'none'}", file=out)
    for row in blocked:  # tried again every sync (docs/sync.md, "More than one driver")
        since = row.first_seen_at.isoformat(timespec="seconds")
        print(terminal_safe(f"  {row.problem} (since {since}, tried {row.tries}x)"), file=out)
    return EXIT_OK


def _former(db: Database) -> str:
    """What ``sync status`` says of a desktop ID minted because the database was copied or moved."""
    from drs_desktop.storage.sync_identity import former_ids

    former = former_ids(db)
    if not former:
        return ""
    last = former[-1]
    return (
        f" (new since {last.replaced_at}: this database was copied or moved from "
        f"{last.bound_path or 'another place'}, where it was desktop {last.desktop_id})"
    )


def _resolve(db: Database, service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    from drs_desktop.storage.sync_conflicts import open_conflicts

    conflicts = open_conflicts(db)
    if args.setting:
        kind, key = "SETTING", args.setting
    else:
        wanted = args.plan.casefold()
        matches = [
            c.key
            for c in conflicts
            if c.kind == "PLAN"
            and wanted in (str(c.mine.get("name", "")).casefold(), str(c.theirs.get("name", "")).casefold())
        ]
        if not matches:
            raise UsageError(f"no open sync conflict on a plan named {args.plan!r}")
        kind, key = "PLAN", matches[0]
    print(terminal_safe(service.resolve(kind, key, args.choice)), file=out)
    return EXIT_OK


def clean_command(target: SyncTableTarget, args: argparse.Namespace, out: TextIO) -> int:
    from drs_desktop.aws.sync_clean import clean_parts
    from drs_desktop.aws.sync_schema import dynamodb_client

    def progress(line: str) -> None:
        print(terminal_safe(line), file=sys.stderr)

    report = clean_parts(dynamodb_client(target), target.table, dry_run=args.dry_run, progress=progress)
    if args.json:
        json.dump(
            {
                "table": target.table,
                "dry_run": report.dry_run,
                "counter": report.counter,
                "feed_entries": report.feed_entries,
                "entities": report.entities,
                "parts": report.parts,
                "deleted": report.deleted,
                "kept": report.kept,
            },
            out,
            indent=2,
        )
        out.write("\n")
    else:
        print(terminal_safe(report.describe()), file=out)
    return EXIT_OK
