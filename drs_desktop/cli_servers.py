"""``servers extensible`` and ``servers extend``: extended source servers from the command line.

``servers extensible`` lists, for each staging account named (``--staging-account``, repeatable; by
default the accounts ListStagingAccounts gives, which are only those with servers extended here already),
the servers that can be extended into the account the command talks to, and those already extended.
``servers extend --staging-account ID s-... ...`` extends the named staging servers, prints one line per
server and refreshes the cached inventory. Exit 0 when every server is extended (or was already), 1 when
one failed or its outcome is unknown, 2 for a staging account ID that is not 12 digits.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, UsageError
from drs_desktop.cli_target import _gateway, _open_database, add_target_options
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.domain.drs.extended import ExtendReport, ExtensibleListing


def add_servers_commands(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    servers = commands.add_parser("servers", help="extended source servers from staging accounts")
    add_home(servers)
    actions = servers.add_subparsers(dest="servers_command", metavar="ACTION", required=True)
    extensible = actions.add_parser(
        "extensible", help="the servers staging accounts can extend into this account"
    )
    add_home(extensible)
    extensible.add_argument(
        "--staging-account",
        metavar="ID",
        action="append",
        help="a staging account's 12-digit ID (repeatable; default: the accounts DRS lists, which are "
        "only those with servers extended here already)",
    )
    add_target_options(extensible)
    extensible.add_argument("--json", action="store_true", help="one JSON document on stdout")
    extend = actions.add_parser("extend", help="extend staging servers into this account (recover them here)")
    add_home(extend)
    extend.add_argument("--staging-account", metavar="ID", required=True, help="the staging account's ID")
    extend.add_argument("servers", nargs="+", metavar="SERVER", help="staging server IDs (s-...) or ARNs")
    add_target_options(extend)
    extend.add_argument("--json", action="store_true", help="one JSON document on stdout")


def servers_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import extended_servers as service

    with _open_database(paths) as db:
        gateway = _gateway(db, args)
        try:
            if args.servers_command == "extensible":
                return _extensible(args, gateway, out)
            report = service.extend_servers(
                db,
                gateway,
                args.staging_account,
                args.servers,
                progress=lambda step: print(terminal_safe(step), file=sys.stderr),
            )
        except service.StagingAccountError as exc:
            raise UsageError(str(exc)) from None
        finally:
            gateway.close()
    return _print_report(report, args.json, out)


def _extensible(args: argparse.Namespace, gateway: Any, out: TextIO) -> int:
    from drs_desktop.services import extended_servers as service

    accounts = [service.checked_account(a) for a in args.staging_account or ()]
    if not accounts:
        accounts = list(service.staging_accounts(gateway))
        if not accounts:
            print(
                "DRS lists no staging account for this account yet (it lists only those with extended "
                "servers): name one with --staging-account ID",
                file=sys.stderr,
            )
    listings = [service.list_extensible(gateway, account) for account in dict.fromkeys(accounts)]
    if args.json:
        json.dump([_listing_json(listing) for listing in listings], out, indent=2)
        out.write("\n")
        return EXIT_OK
    for listing in listings:
        print(
            f"staging account {listing.staging_account_id}: {len(listing.extensible)} extensible, "
            f"{len(listing.extended)} already extended",
            file=out,
        )
        for server in listing.extensible:
            print(f"  {terminal_safe(server.hostname or '?'):<24} {server.source_server_id}", file=out)
        for done in listing.extended:
            print(
                f"  {terminal_safe(done.hostname or '?'):<24} {done.staging_server_id} "
                f"already extended as {done.source_server_id}",
                file=out,
            )
    return EXIT_OK


def _listing_json(listing: ExtensibleListing) -> dict[str, Any]:
    return {
        "staging_account": listing.staging_account_id,
        "extensible": [
            {
                "hostname": s.hostname,
                "source_server_id": s.source_server_id,
                "arn": s.arn,
                "tags": dict(s.tags),
            }
            for s in listing.extensible
        ],
        "extended": [
            {
                "hostname": s.hostname,
                "staging_server_id": s.staging_server_id,
                "source_server_id": s.source_server_id,
                "replication_state": s.replication_state,
            }
            for s in listing.extended
        ],
    }


def _print_report(report: ExtendReport, as_json: bool, out: TextIO) -> int:
    if as_json:
        data = {
            "staging_account": report.staging_account_id,
            "ok": report.ok,
            "outcomes": [
                {
                    "staging_server_id": o.staging_server_id,
                    "hostname": o.hostname,
                    "status": o.status.value,
                    "source_server_id": o.extended_server_id or None,
                    "message": o.message or None,
                }
                for o in report.outcomes
            ],
            "inventory_refreshed": report.inventory is not None,
            "refresh_error": report.refresh_error or None,
        }
        json.dump(data, out, indent=2)
        out.write("\n")
    else:
        for outcome in report.outcomes:
            print(terminal_safe(outcome.describe()), file=out)
    print(terminal_safe(report.summary()), file=sys.stderr)
    if report.refresh_error:
        print(f"the inventory was not refreshed: {terminal_safe(report.refresh_error)}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILED
