"""``executions prune [--older-than DAYS] [--yes] [--json]`` and ``executions delete ID [--yes] [--json]``.

Deleting history deletes evidence, so the list comes first: prune prints every execution that goes
(plan, when, how it ended) and every one kept with why (``domain.views.retention``), then asks on a
terminal. ``--yes`` skips the question (a script that has seen the list already); without a terminal and
without ``--yes`` nothing is deleted (exit 2). A deletion reaches the team's table as a tombstone at the
next sync (docs/sync.md, "Deletions").

Exit codes: 0 done (or nothing to delete); 1 declined, or a named execution that must stay; 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, UsageError
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.domain.views.retention import KeptRun, RetentionPlan, RunFacts
    from drs_desktop.services.retention import RetentionOutcome

__all__ = ["RETENTION_ACTIONS", "add_retention_commands", "retention_command"]

RETENTION_ACTIONS = ("prune", "delete")


def add_retention_commands(
    actions: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    """``prune`` and ``delete`` under ``executions``."""
    prune = actions.add_parser(
        "prune", help="delete finished executions older than the retention, after showing the list"
    )
    add_home(prune)
    prune.add_argument(
        "--older-than",
        type=int,
        metavar="DAYS",
        help="days to keep (default: the setting retention.executions_days; 0 keeps everything)",
    )
    prune.add_argument("--yes", action="store_true", help="do not ask (the list is still printed)")
    prune.add_argument("--json", action="store_true", help="one JSON document on stdout")
    delete = actions.add_parser("delete", help="delete one finished execution and its evidence")
    add_home(delete)
    delete.add_argument("execution_id")
    delete.add_argument("--yes", action="store_true", help="do not ask")
    delete.add_argument("--json", action="store_true", help="one JSON document on stdout")


def retention_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services.retention import RetentionService
    from drs_desktop.storage.db import Database

    if args.executions_command == "prune" and args.older_than is not None and args.older_than < 0:
        raise UsageError(f"--older-than is a number of days, 0 or more, not {args.older_than}")
    with Database.open(paths.database) as db:
        service = RetentionService(db, reports_dir=paths.reports)
        if args.executions_command == "delete":
            return _delete(service, args, out)
        plan = service.plan(args.older_than)
        if not args.json:
            _print_plan(plan, out)
        if not plan.goes:
            if args.json:
                _dump({**_plan_json(plan), "deleted": []}, out)
            return EXIT_OK
        if not args.yes and not _confirmed(f"Delete these {len(plan.goes)} execution(s) and their evidence?"):
            print("nothing deleted", file=sys.stderr)
            return EXIT_FAILED
        outcome = service.apply(plan)
    _say_outcome(outcome, args.json, out, plan)
    return EXIT_OK


def _delete(service: Any, args: argparse.Namespace, out: TextIO) -> int:
    facts, reasons = service.check(args.execution_id)
    if reasons:
        print(
            f"execution {facts.execution_id} of {terminal_safe(facts.plan_name)!r} is kept: "
            f"{terminal_safe('; '.join(reasons))}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if not args.json:
        print("goes:", file=out)
        print(f"  {_line(facts)}", file=out)
    if not args.yes and not _confirmed("Delete this execution and its evidence?"):
        print("nothing deleted", file=sys.stderr)
        return EXIT_FAILED
    outcome = service.delete(facts.execution_id)
    _say_outcome(outcome, args.json, out, None)
    return EXIT_OK


def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError(
            "deleting executions asks on a terminal and standard input is not one: run it in a terminal, "
            "or pass --yes once you have read the list"
        )
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _print_plan(plan: RetentionPlan, out: TextIO) -> None:
    if plan.cutoff is None:
        print(
            "the retention keeps everything (retention.executions_days is 0, or --older-than 0): "
            "nothing to delete",
            file=out,
        )
        return
    print(
        f"retention {plan.days} day(s): executions that ended before {plan.cutoff:%Y-%m-%d %H:%M} UTC",
        file=out,
    )
    print(f"goes ({len(plan.goes)}):", file=out)
    for facts in plan.goes:
        print(f"  {_line(facts)}", file=out)
        for path in facts.evidence_files:
            print(f"      evidence file {terminal_safe(path)}", file=out)
    recent = len(plan.kept) - len(plan.held)
    print(f"kept ({len(plan.kept)}):", file=out)
    for kept in plan.held:
        print(f"  {_line(kept.facts)}", file=out)
        for reason in kept.reasons:
            print(f"      {terminal_safe(reason)}", file=out)
    if recent:
        print(f"  {recent} more ended after the cutoff (within the retention)", file=out)


def _line(facts: RunFacts) -> str:
    ended = f"{facts.finished_at:%Y-%m-%d %H:%M} UTC" if facts.finished_at else "-"
    return (
        f"{facts.execution_id}  {terminal_safe(facts.plan_name)}  {facts.mode:<8}  "
        f"started {facts.started_at:%Y-%m-%d %H:%M} UTC  ended {ended}  {facts.ended}"
    )


def _say_outcome(outcome: RetentionOutcome, as_json: bool, out: TextIO, plan: RetentionPlan | None) -> None:
    if as_json:
        document = _plan_json(plan) if plan is not None else {}
        document.update(
            {
                "deleted": [d.execution_id for d in outcome.deleted],
                "tombstones": [d.execution_id for d in outcome.deleted if d.tombstone],
                "kept_since": [_kept_json(k) for k in outcome.kept],
                "files_removed": list(outcome.files_removed),
                "files_failed": list(outcome.files_failed),
            }
        )
        _dump(document, out)
        return
    print(outcome.describe(), file=out)
    for kept in outcome.kept:
        print(f"  kept {kept.facts.execution_id}: {terminal_safe('; '.join(kept.reasons))}", file=out)
    for failed in outcome.files_failed:
        print(f"  not removed: {terminal_safe(failed)}", file=sys.stderr)


def _plan_json(plan: RetentionPlan) -> dict[str, Any]:
    return {
        "days": plan.days,
        "cutoff": plan.cutoff.isoformat() if plan.cutoff else None,
        "goes": [_facts_json(f) for f in plan.goes],
        "kept": [_kept_json(k) for k in plan.kept],
    }


def _facts_json(facts: RunFacts) -> dict[str, Any]:
    return {
        "execution_id": facts.execution_id,
        "plan": facts.plan_name,
        "mode": facts.mode,
        "started_at": facts.started_at.isoformat(),
        "finished_at": facts.finished_at.isoformat() if facts.finished_at else None,
        "ended": facts.ended,
        "evidence_files": list(facts.evidence_files),
    }


def _kept_json(kept: KeptRun) -> dict[str, Any]:
    return {**_facts_json(kept.facts), "reasons": list(kept.reasons)}


def _dump(document: object, out: TextIO) -> None:
    json.dump(document, out, indent=2)
    out.write("\n")
