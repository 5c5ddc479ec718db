"""``drs-desktop native publish|import|diff|status|adopt|unlink``: native DRS recovery plans
(docs/native-plans.md).

Exit codes (cli_exit): 0 done (published, unchanged, imported, in sync, unlinked); 1 the answer is "no":
the plan does not fit a native plan, ``diff`` found drift, DRS refused a call, a publish stopped halfway,
or DRS changed since what was shown; 2 a usage error. ``publish`` and ``adopt`` without ``--yes`` only
show what they would do, with DRS's fingerprint (``--expect`` it to refuse when DRS changed since);
``publish --yes`` over changes made in DRS needs ``--overwrite``. ``--json`` prints one JSON document on
stdout with an ``outcome`` field that tells the "no"s apart (does_not_fit, drift, refused, incomplete).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

from drs_desktop.cli_common import add_common_options, emit, operator_name
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK
from drs_desktop.cli_native_run import add_run_command, native_run_command, runs_in_drs_here
from drs_desktop.cli_target import _gateway, _open_database
from drs_desktop.config import AppPaths
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.services.native_common import NativePlanError, PublishIncomplete


def add_native_commands(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    native = commands.add_parser("native", help="publish plans as native DRS recovery plans, import, diff")
    add_home(native)
    actions = native.add_subparsers(dest="native_command", metavar="ACTION", required=True)
    publish = actions.add_parser("publish", help="create or update the plan's native DRS plan")
    publish.add_argument("plan", help="the plan's name")
    publish.add_argument("--yes", action="store_true", help="send the changes (without: only show them)")
    publish.add_argument(
        "--overwrite", action="store_true", help="undo the changes made in DRS since the publish (drift)"
    )
    imp = actions.add_parser("import", help="make local plans of the native plans not linked yet")
    diff = actions.add_parser("diff", help="what changed in DRS since the publish, and what is unpublished")
    diff.add_argument("plan", help="the plan's name")
    status = actions.add_parser("status", help="every plan: link, drift, native executions")
    adopt = actions.add_parser("adopt", help="DRS's side wins a drift: its steps become the next revision")
    adopt.add_argument("plan", help="the plan's name")
    adopt.add_argument("--yes", action="store_true", help="save it (without: only show what would change)")
    for parser in (publish, adopt):
        parser.add_argument(
            "--expect",
            metavar="FINGERPRINT",
            help="refuse unless DRS's plan is still as that preview read it",
        )
    unlink = actions.add_parser("unlink", help="forget the plan's link to its native plan (DRS untouched)")
    unlink.add_argument("plan", help="the plan's name")
    run = add_run_command(actions)
    add_common_options((publish, imp, diff, status, adopt, unlink, run), add_home)


def native_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.aws.native_plans import NativePlansGateway

    if args.native_command == "run":  # an execution: ``run``'s driving, progress and exit codes
        return native_run_command(args, paths, out)
    with _open_database(paths) as db:
        drs = _gateway(db, args)
        gateway = NativePlansGateway(drs)
        operator = operator_name()
        try:
            handler = {
                "publish": _publish,
                "import": _import,
                "diff": _diff,
                "status": _status,
                "adopt": _adopt,
                "unlink": _unlink,
            }[args.native_command]
            return handler(args, db, gateway, operator, out)
        except PublishIncomplete as exc:
            data = {"outcome": "incomplete", "error": str(exc), "code": exc.code, "done": list(exc.done)}
            emit(args, out, {**data, "left": list(exc.left)}, [])
            print(f"Publish incomplete: {terminal_safe(str(exc))}", file=sys.stderr)
            return EXIT_FAILED
        except NativePlanError as exc:
            emit(args, out, {"outcome": "refused", "error": str(exc), "code": type(exc).__name__}, [])
            print(f"Refused: {terminal_safe(str(exc))}", file=sys.stderr)
            return EXIT_FAILED
        except DrsError as exc:
            emit(args, out, {"outcome": "refused", "error": str(exc), "code": exc.code}, [])
            print(f"DRS refused: {terminal_safe(str(exc))}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            drs.close()


def _publish(args: argparse.Namespace, db: Any, gateway: Any, operator: str, out: TextIO) -> int:
    from drs_desktop.services import native_plans as service

    result = service.publish(
        db,
        gateway,
        args.plan,
        operator=operator,
        dry_run=not args.yes,
        overwrite=args.overwrite,
        expected_drs=args.expect,
    )
    data = {
        "outcome": result.outcome,
        "plan": result.plan_name,
        "revision": result.revision,
        "plan_arn": result.plan_arn or None,
        "actions": list(result.actions),
        "problems": [{"code": p.code, "where": p.where, "text": p.text} for p in result.problems],
        "nearest_changes": list(result.nearest_changes),
        "changed_in_drs": list(result.drift),
        "notes": list(result.notes),
        "fingerprint": result.drs_digest or None,
    }
    if result.outcome == "does_not_fit":
        lines = [f"plan {result.plan_name!r} does not fit a native DRS plan:"]
        lines += [f"  {line}" for line in service.nearest_words(result.problems, result.nearest_changes)]
        emit(args, out, data, lines)
        return EXIT_FAILED
    lines = [f"  {a}" for a in result.actions]
    notes = [f"note: {n}" for n in result.notes]
    if result.outcome == "preview":
        head = f"publishing {result.plan_name!r} revision {result.revision} would:"
        lines = [head, *(lines or ["  change nothing"]), *notes]
        if result.resumes is not None:
            lines.append(f"this finishes the publish of revision {result.resumes}, which did not finish")
        if result.drift:
            lines.append("and undo these changes made in DRS since the publish:")
            lines += [f"  {d}" for d in result.drift]
            lines.append("pass --yes --overwrite to publish over them")
        else:
            lines.append("pass --yes to publish")
        if result.drs_digest:
            lines.append(f"DRS's plan as read: fingerprint {result.drs_digest} (--expect it)")
    else:
        lines.insert(
            0, f"{result.outcome} {result.plan_name!r} revision {result.revision} as {result.plan_arn}"
        )
    emit(args, out, data, lines)
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
    emit(args, out, data, lines or ["no native plan in this account and Region"])
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
        "unfinished_publish": list(found.incomplete),
        "adopt_would_change": list(found.adopt_changes),
        "fingerprint": found.drs_digest or None,
    }
    lines = [f"unfinished publish: {line}" for line in found.incomplete]
    lines += [f"changed in DRS: {line}" for line in found.in_drs]
    lines += [f"edited here, not published yet: {line}" for line in found.unpublished]
    if found.incomplete:
        lines.append(f"finish it: `native publish {found.plan_name} --yes`")
    elif not found.drift:
        lines.insert(0, f"{found.plan_name!r}: DRS has what revision {found.linked_revision} published")
    else:
        lines.append(
            f"choose a side: `native publish {found.plan_name} --yes` or `native adopt {found.plan_name}`"
        )
    emit(args, out, data, lines)
    return EXIT_FAILED if found.drift else EXIT_OK


def _status(args: argparse.Namespace, db: Any, gateway: Any, operator: str, out: TextIO) -> int:
    from drs_desktop.services import native_plans as service

    rows = service.status(db, gateway)
    followed = {r.plan_name: runs_in_drs_here(db, r.plan_name) for r in rows}
    by_arn = {run.execution_arn: run.execution_id for runs in followed.values() for run in runs}
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
                        "followed_by": by_arn.get(e.arn),
                    }
                    for e in r.executions
                ],
                "runs_here": [run.to_json() for run in followed[r.plan_name]],
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
        for e in r.executions:
            here = by_arn.get(e.arn)
            follow = f"  followed here as execution {here}" if here else f"  not followed here ({e.arn})"
            lines.append(f"    {e.mode} {e.status} started {e.started_at}{follow}")
        lines += [f"    {run.describe()}" for run in followed[r.plan_name]]
    emit(args, out, data, lines or ["no plans yet"])
    return EXIT_OK


def _adopt(args: argparse.Namespace, db: Any, gateway: Any, operator: str, out: TextIO) -> int:
    from drs_desktop.services import native_plans as service

    if not args.yes:
        found = service.diff(db, gateway, args.plan)
        data = {
            "outcome": "preview",
            "plan": found.plan_name,
            "would_change": list(found.adopt_changes),
            "fingerprint": found.drs_digest or None,
        }
        lines = [
            f"taking DRS's side would save a new revision of {found.plan_name!r}, changing (and losing):"
        ]
        lines += [f"  {c}" for c in found.adopt_changes] or ["  nothing"]
        lines.append(f"pass --yes --expect {found.drs_digest} to save it")
        emit(args, out, data, lines)
        return EXIT_OK
    rev = service.adopt(db, gateway, args.plan, operator=operator, expected_drs=args.expect)
    saved = {"outcome": "adopted", "plan": rev.name, "revision": str(rev.revision)}
    emit(args, out, saved, [f"{rev.name!r}: DRS's steps saved as revision {rev.revision}"])
    return EXIT_OK


def _unlink(args: argparse.Namespace, db: Any, gateway: Any, operator: str, out: TextIO) -> int:
    from drs_desktop.services import native_plans as service

    done = service.unlink(db, args.plan)
    data = {"outcome": "unlinked" if done else "not_linked", "plan": args.plan}
    said = "unlinked (the native plan stays in DRS)" if done else "was not linked"
    emit(args, out, data, [f"{args.plan!r} {said}"])
    return EXIT_OK
