"""``sync init``: create the team's sync table (docs/sync.md) and print the IAM policy operators need.

``sync init --table NAME [--profile P] [--region R] [--endpoint-url URL]`` creates the table, or finds it
already set up, and says so; says whether point-in-time recovery is on and, when it is not, who refused
it; prints the table header; then the least-privilege IAM policy as JSON on stdout (everything else goes
to stderr, so ``sync init ... > policy.json`` keeps the policy alone). Exit 0 when the table is set up,
2 for a table name, region or endpoint that cannot be used, 1 with one line for what AWS refused
(an access denied names the IAM action, missing credentials the profile).

``sync now``, ``sync status``, ``sync resolve`` and ``sync clean`` are in cli_sync_now.py, ``sync takeover``
in cli_sync_takeover.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TextIO

from drs_desktop.cli_exit import EXIT_OK, UsageError
from drs_desktop.cli_sync_now import add_sync_run_commands, sync_run_command
from drs_desktop.cli_sync_takeover import add_takeover_command, takeover_command
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe


def add_sync_commands(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    sync = commands.add_parser("sync", help="team sync through a DynamoDB table (docs/sync.md)")
    add_home(sync)
    actions = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help="create the team's sync table (or check it is set up) and print the IAM policy it needs",
    )
    add_home(init)
    init.add_argument("--table", required=True, metavar="NAME", help="the DynamoDB table's name")
    init.add_argument(
        "--profile",
        help="AWS profile for the table (default: the default credential chain); may differ "
        "from the one DRS uses",
    )
    init.add_argument("--region", help="the table's AWS Region (default: the profile's region)")
    init.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="a DynamoDB endpoint other than AWS's (https, or http on loopback)",
    )
    add_sync_run_commands(actions, add_home)
    add_takeover_command(actions, add_home)


def sync_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    if args.sync_command == "init":
        # The table is the team's, not this desktop's database: init reads and writes nothing local.
        return _init(args, out)
    if args.sync_command in ("now", "status", "resolve", "clean"):
        return sync_run_command(args, paths, out)
    if args.sync_command == "takeover":
        return takeover_command(args, paths, out)
    raise UsageError(f"unknown sync action {args.sync_command}")


def _init(args: argparse.Namespace, out: TextIO) -> int:
    from drs_desktop.aws.sync_schema import configured_region
    from drs_desktop.aws.sync_table import SyncTableTarget, create_table, least_privilege_policy
    from drs_desktop.domain.sync_errors import SyncTargetError

    region = args.region or configured_region(args.profile)
    if not region:
        raise UsageError("no AWS Region for the table: pass --region (or give the profile a region)")
    try:
        target = SyncTableTarget(
            table=args.table, region=region, profile=args.profile, endpoint_url=args.endpoint_url
        )
    except SyncTargetError as exc:
        raise UsageError(str(exc)) from None
    print(f"sync {terminal_safe(target.describe())}", file=sys.stderr)
    result = create_table(target)
    if result.created:
        print(f"created the table {result.table} ({result.billing_mode})", file=sys.stderr)
    elif result.already_set_up:
        print(f"the table {result.table} is already set up: nothing changed", file=sys.stderr)
    else:
        print(f"the table {result.table} existed; what it lacked was added", file=sys.stderr)
    if result.counter_written:
        print("wrote the change counter META/SEQ (n = 0)", file=sys.stderr)
    if result.header_written:
        print("wrote the table header META/TABLE", file=sys.stderr)
    print(terminal_safe(result.pitr.describe()), file=sys.stderr)
    header = result.header
    arn = result.arn or f"arn:aws:dynamodb:{region}:*:table/{result.table}"  # an endpoint that gave none
    print(
        f"header: schema {header.schema}, min_app_version {terminal_safe(header.min_app_version)}, "
        f"created_at {terminal_safe(header.created_at or '?')}, "
        f"created_by {terminal_safe(header.created_by or 'unknown')}",
        file=sys.stderr,
    )
    print(
        f"IAM policy (statement DrsDesktopSync for every operator; DrsDesktopSyncInit only for whoever "
        f"runs `sync init`), on {arn}:",
        file=sys.stderr,
    )
    json.dump(least_privilege_policy(arn), out, indent=2)
    out.write("\n")
    return EXIT_OK
