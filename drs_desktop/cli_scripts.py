"""``scripts list|trust PATH|revoke PATH``: this desktop's trust in local scripts from the command line.

Why a terminal confirmation: trust is a person's decision about bytes they looked at (issue 17), so
``scripts trust`` shows the path, the file it leads to and its SHA-256 and asks; the answer is taken
only from a terminal. ``--yes`` skips the question for a script of the operator's own (in a setup
script, say); without a terminal and without ``--yes`` nothing is trusted (exit 2). There is no way to
trust from a plan file: the command takes one path and nothing else. The hash shown is the hash
trusted: a file that changes while the question waits is refused.

Exit codes: 0 done; 1 the answer is no (declined, nothing to revoke, the file cannot be trusted); 2 a
usage error (a relative path is made absolute against the working folder first, as a shell would).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK
from drs_desktop.cli_run import UsageError, _open_database
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.domain.script_trust import ScriptCheck, TrustedScript, TrustStatus, command_line

if TYPE_CHECKING:
    from drs_desktop.services.script_trust import ScriptTrustService

__all__ = ["add_scripts_commands", "scripts_command"]


def add_scripts_commands(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    scripts = commands.add_parser("scripts", help="the local scripts this desktop trusts to run")
    add_home(scripts)
    actions = scripts.add_subparsers(dest="scripts_command", metavar="ACTION", required=True)
    list_ = actions.add_parser("list", help="the trusted scripts and whether each is still as trusted")
    add_home(list_)
    list_.add_argument("--json", action="store_true", help="one JSON document on stdout")
    trust = actions.add_parser("trust", help="trust a script on this desktop (asks on a terminal)")
    add_home(trust)
    trust.add_argument("path", metavar="PATH", help="the script (a relative path is taken from here)")
    trust.add_argument(
        "--yes", action="store_true", help="do not ask: the script is your own and you know what it does"
    )
    trust.add_argument("--json", action="store_true", help="one JSON document on stdout")
    revoke = actions.add_parser("revoke", help="stop trusting a script on this desktop")
    add_home(revoke)
    revoke.add_argument("path", metavar="PATH")
    revoke.add_argument("--json", action="store_true", help="one JSON document on stdout")


def scripts_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services.script_trust import ScriptTrustService

    with _open_database(paths) as db:
        service = ScriptTrustService(db)
        if args.scripts_command == "list":
            return _list(service, args.json, out)
        if not args.path.strip():
            raise UsageError("a script's path is empty")
        path = os.path.abspath(args.path)
        if args.scripts_command == "trust":
            return _trust(service, path, args, out)
        revoked = service.revoke(path)
    if args.json:
        _dump({"path": path, "revoked": revoked}, out)
    elif revoked:
        print(f"revoked: {terminal_safe(path)} no longer runs from a plan on this desktop", file=out)
    if not revoked:
        print(f"{terminal_safe(path)} was not trusted on this desktop: nothing revoked", file=sys.stderr)
    return EXIT_OK if revoked else EXIT_FAILED


def _list(service: ScriptTrustService, as_json: bool, out: TextIO) -> int:
    checks = service.checks()
    if as_json:
        _dump([_check_json(check) for check in checks], out)
        return EXIT_OK
    if not checks:
        print("no script is trusted on this desktop", file=sys.stderr)
    for check in checks:
        trusted = check.trusted
        assert trusted is not None
        print(
            f"{check.status.value:<14} {terminal_safe(check.path)}  sha256 {trusted.sha256[:16]}…  "
            f"by {terminal_safe(trusted.trusted_by)} {trusted.trusted_at:%Y-%m-%d %H:%M} UTC",
            file=out,
        )
        if check.status is not TrustStatus.TRUSTED:
            print(f"{'':<14} {terminal_safe(check.detail)}", file=out)
    return EXIT_OK


def _trust(service: ScriptTrustService, path: str, args: argparse.Namespace, out: TextIO) -> int:
    check = service.status(path)
    if not check.trustable:
        print(f"cannot trust {terminal_safe(path)}: {terminal_safe(check.detail)}", file=sys.stderr)
        return EXIT_FAILED
    shown = command_line(path)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(
                "scripts trust asks on a terminal and standard input is not one: run it in a terminal, "
                "or pass --yes for a script of your own"
            )
        for line in _question(check, shown):
            print(line, file=sys.stderr)
        print("Trust this script on this desktop? [y/N] ", end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            print("nothing trusted", file=sys.stderr)
            return EXIT_FAILED
    trusted = service.trust(path, shown, expected_sha256=check.sha256)
    if args.json:
        _dump(_trust_json(trusted), out)
    else:
        print(f"trusted: {terminal_safe(path)} (sha256 {trusted.sha256})", file=out)
    return EXIT_OK


def _question(check: ScriptCheck, shown: str) -> list[str]:
    lines = [f"command:  {shown}"]
    if check.resolved_path != check.path:
        lines.append(f"runs:     {terminal_safe(check.resolved_path)}")
    lines.append(f"sha256:   {check.sha256}")
    if check.status is TrustStatus.CHANGED:
        lines.append(f"note:     {terminal_safe(check.detail)}")
    elif check.status is TrustStatus.TRUSTED:
        lines.append("note:     already trusted as it is; trusting again records you and now")
    lines.append(
        "A plan's script step runs it on this desktop, as you, with the run's facts in its environment."
    )
    return lines


def _trust_json(trusted: TrustedScript) -> dict[str, Any]:
    return {
        "path": trusted.path,
        "resolved_path": trusted.resolved_path,
        "sha256": trusted.sha256,
        "trusted_by": trusted.trusted_by,
        "trusted_at": trusted.trusted_at.isoformat(),
        "shown_command": trusted.shown_command,
    }


def _check_json(check: ScriptCheck) -> dict[str, Any]:
    data: dict[str, Any] = {"status": check.status.value, "current_sha256": check.sha256 or None}
    data["detail"] = check.detail
    if check.trusted is not None:
        data.update(_trust_json(check.trusted))
    else:
        data["path"] = check.path
    return data


def _dump(data: object, out: TextIO) -> None:
    json.dump(data, out, indent=2)
    out.write("\n")
