"""``sync clean [--dry-run] [--json]``: delete the body parts no head and no revision names
(docs/sync.md, "Cleaning up parts"; ``aws.sync_clean``).

It prints what it read, deleted (or, with ``--dry-run``, would delete) and kept, one line on stdout, or
the whole report as JSON with ``--json``. Deleting needs ``dynamodb:BatchWriteItem`` and
``dynamodb:DeleteItem``, which only the maintenance statement grants: a refusal is one line naming
them (exit 1), and nothing was deleted by that call.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from drs_desktop.aws.sync_schema import SyncTableTarget
from drs_desktop.cli_exit import EXIT_OK
from drs_desktop.domain.safe_text import terminal_safe


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
