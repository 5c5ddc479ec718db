"""``drs-desktop native publish|import|diff|status|adopt``: native DRS recovery plans (docs/native-plans.md).

Exit codes (cli_exit): 0 done (published, unchanged, imported, in sync); 1 the answer is "no": the plan
does not fit a native plan, ``diff`` found drift, or DRS refused a call; 2 a usage error. ``publish``
without ``--yes`` only shows what it would send. ``--json`` prints one JSON document on stdout with an
``outcome`` field that tells the "no"s apart (does_not_fit, drift, refused).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK
from drs_desktop.cli_run import _gateway, _open_database, add_target_options
from drs_desktop.config import AppPaths
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.safe_text import terminal_safe


def add_native_commands(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    native = commands.add_parser("native", help="publish plans as native DRS recovery plans, import, diff")
    add_home(native)
    actions = native.add_subparsers(dest="native_command", metavar="ACTION", required=True)
    publish = actions.add_parser("publish", help="create or update the plan's native DRS plan")
    publish.add_argument("plan", help="the plan's name")
    publish.add_argument("--yes", action="store_true", help="send the changes (without: only show them)")
    imp = actions.add_parser("import", help="make local plans of the native plans not linked yet")
    diff = actions.add_parser("diff", help="what changed in DRS since the publish, and what is unpublished")
    diff.add_argument("plan", help="the plan's name")
    status = actions.add_parser("status", help="every plan: link, drift, native executions")
    adopt = actions.add_parser("adopt", help="DRS's side wins a drift: its steps become the next revision")
    adopt.add_argument("plan", help="the plan's name")
    for parser in (publish, imp, diff, status, adopt):
        add_home(parser)
        add_target_options(parser)
        parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def native_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.aws.native_plans import NativePlansGateway

    with _open_database(paths) as db:
        drs = _gateway(db, args)
        gateway = NativePlansGateway(drs)
        operator = _operator()
        try:
            handler = {
                "publish": _publish,
                "import": _import,
                "diff": _diff,
                "status": _status,
                "adopt": _adopt,
            }[args.native_command]
            return handler(args, db, gateway, operator, out)
        except DrsError as exc:
            _emit(args, out, {"outcome": "refused", "error": str(exc), "code": exc.code}, [])
            print(f"DRS refused: {terminal_safe(str(exc))}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            drs.close()


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def _emit(args: argparse.Namespace, out: TextIO, data: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        json.dump(data, out, indent=2, default=str)
        out.write("\n")
        return
    for line in lines:
        print(terminal_safe(line), file=out)


def _publish(args: argparse.Namespace, db: Any, gateway: Any, operator: str, out: TextIO) -> int:
    from drs_desktop.services import native_plans as service

    result = service.publish(db, gateway, args.plan, operator=operator, dry_run=not args.yes)
    data = {
        "outcome": result.outcome,
        "plan": result.plan_name,
        "revision": result.revision,
        "plan_arn": result.plan_arn or None,
        "actions": list(result.actions),
        "problems": [{"code": p.code, "where": p.where, "text": p.text} for p in result.problems],
        "nearest_changes": list(result.nearest_changes),
    }
    if result.outcome == "does_not_fit":
        lines = [f"plan {result.plan_name!r} does not fit a native DRS plan:"]
        lines += [f"  {line}" for line in service.nearest_words(result.problems, result.nearest_changes)]
        _emit(args, out, data, lines)
        return EXIT_FAILED
    lines = [f"  {a}" for a in result.actions]
    if result.outcome == "preview":
        head = f"publishing {result.plan_name!r} revision {result.revision} would:"
        lines = [head, *(lines or ["  change nothing"]), "pass --yes to publish"]
    else:
        lines.insert(
            0, f"{result.outcome} {result.plan_name!r} revision {result.revision} as {result.plan_arn}"
        )
    _emit(args, out, data, lines)
    return EXIT_OK


def _import(args: argparse.Namespace, db: Any, gateway: Any, operator: str, out: TextIO) -> int:
    from drs_desktop.services import native_plans as service

    report = service.import_plans(db, gateway, operator=operator)
    data = {
        "outcome": "imported",
        "imported": [{"plan": n, "revision": r, "plan_arn": a} for n, r, a in report.imported],
        "skipped": list(report.skipped),
    }
    lines = [f"imported {n!r} as revision {r} (from {a})" for n, r, a in report.imported]
    lines += [f"skipped {s}" for s in report.skipped]
    _emit(args, out, data, lines or ["no native plan in this account and Region"])
    return EXIT_OK


def _diff(args: argparse.Namespace, db: Any, gateway: Any, operator: str, out: TextIO) -> int:
    from drs_desktop.services import native_plans as service

    found = service.diff(db, gateway, args.plan)
    data = {
        "outcome": "drift" if found.drift else "in_sync",
        "plan": found.plan_name,
        "plan_arn": found.plan_arn,
        "linked_revision": found.linked_revision,
        "changed_in_drs": list(found.in_drs),
        "unpublished": list(found.unpublished),
    }
    lines = [f"changed in DRS: {line}" for line in found.in_drs]
    lines += [f"not published yet: {line}" for line in found.unpublished]
    if not found.drift:
        lines.insert(0, f"{found.plan_name!r}: DRS has what revision {found.linked_revision} published")
    else:
        lines.append(
            f"choose a side: `native publish {found.plan_name} --yes` or `native adopt {found.plan_name}`"
        )
    _emit(args, out, data, lines)
    return EXIT_FAILED if found.drift else EXIT_OK


def _status(args: argparse.Namespace, db: Any, gateway: Any, operator: str, out: TextIO) -> int:
    from drs_desktop.services import native_plans as service

    rows = service.status(db, gateway)
    data = {
        "outcome": "ok",
        "plans": [
            {
                "plan": r.plan_name,
                "latest_revision": r.latest_revision,
                "plan_arn": r.plan_arn or None,
                "linked_revision": r.linked_revision,
                "target": r.target or None,
                "drift": r.drift,
                "unpublished": r.unpublished,
                "note": r.note or None,
                "executions": [
                    {
                        "arn": e.arn,
                        "mode": e.mode,
                        "status": e.status,
                        "started_at": e.started_at,
                        "error": e.error,
                    }
                    for e in r.executions
                ],
            }
            for r in rows
        ],
    }
    lines = []
    for r in rows:
        drift = {None: "", True: "  DRIFT", False: "  in sync"}[r.drift]
        linked = f"  published rev {r.linked_revision}" if r.plan_arn else ""
        note = f"  ({r.note})" if r.note else ""
        lines.append(f"{r.plan_name}  rev {r.latest_revision}{linked}{drift}{note}")
        lines += [f"    {e.mode} {e.status} started {e.started_at}" for e in r.executions]
    _emit(args, out, data, lines or ["no plans yet"])
    return EXIT_OK


def _adopt(args: argparse.Namespace, db: Any, gateway: Any, operator: str, out: TextIO) -> int:
    from drs_desktop.services import native_plans as service

    rev = service.adopt(db, gateway, args.plan, operator=operator)
    data = {"outcome": "adopted", "plan": rev.name, "revision": rev.revision}
    _emit(args, out, data, [f"{rev.name!r}: DRS's steps saved as revision {rev.revision}"])
    return EXIT_OK
