"""``drs-desktop launch-settings restore [--plan P] [--json]``: put production launch templates back after a
drill into the drill network, from any desktop, from EC2 alone.

A drill points each server's launch template at the drill profile with a new version made the default,
whose description names the run and the production version (``domain.ec2.drill_description``); the run
sets the production version back when it is done. A run that was killed (or whose desktop is gone) leaves
the drill version as the default, and DRS would launch a RECOVERY into the drill network. This finds every
template whose default version is a drill version (``is_drill_version``) and makes the production version
its description names the default again; no local journal is read, so any desktop with the credentials
can do it. ``--plan P``: only the templates of P's servers (by their DRS launch configurations).

Exit codes (cli_exit): 0 every drill version found was restored (or none was found); 1 one could not be
(its description names no production version, EC2 refused); 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.ec2 import LaunchTemplateVersionView
from drs_desktop.domain.safe_text import terminal_safe


def add_restore_command(
    actions: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> argparse.ArgumentParser:
    """``restore`` under ``launch-settings`` (the caller adds the target options)."""
    restore = actions.add_parser(
        "restore",
        help="set every launch template a drill left pointed at the drill network back to production",
    )
    restore.add_argument("--plan", metavar="P", help="only the templates of this plan's servers")
    restore.add_argument(
        "--force",
        action="store_true",
        help="also restore drill versions of drills this desktop shows still running",
    )
    return restore


@dataclass(frozen=True)
class Restored:
    template_id: str
    drill_version: int
    production_version: int | None
    execution_id: str
    error: str = ""


def restore_command(args: argparse.Namespace, db: Any, drs: Any, ec2: Any, out: TextIO) -> int:
    """Find and restore; print what was done (one JSON document with ``--json``)."""
    templates = _plan_templates(db, drs, args.plan) if args.plan else None
    drill = [v for v in ec2.default_versions() if v.is_drill_version]
    if templates is not None:
        drill = [v for v in drill if v.template_id in templates]
    # A drill this desktop still runs points its templates on purpose: restoring one under it would launch
    # its next wave's servers into production. Those are left (and said) unless --force.
    running = set() if getattr(args, "force", False) else _running_here(db)
    held = [v for v in drill if (v.drill_origin or ("", 0))[0] in running]
    drill = [v for v in drill if v not in held]
    for version in held:
        execution = (version.drill_origin or ("", 0))[0]
        print(
            f"left {version.template_id} (drill version {version.version}): execution {execution} is still "
            "running on this desktop (it restores it itself; --force to restore it anyway)",
            file=sys.stderr,
        )
    done = [_restore(ec2, version) for version in drill]
    failed = [r for r in done if r.error]
    data = {
        "outcome": "failed" if failed else ("restored" if done else "nothing_to_restore"),
        "plan": args.plan,
        "left_running": [v.template_id for v in held],
        "templates": [
            {
                "template_id": r.template_id,
                "drill_version": r.drill_version,
                "production_version": r.production_version,
                "execution_id": r.execution_id or None,
                "restored": not r.error,
                "error": r.error or None,
            }
            for r in done
        ],
    }
    if args.json:
        json.dump(data, out, indent=2)
        out.write("\n")
    else:
        for line in _lines(done, len(held)):
            print(terminal_safe(line), file=out)
    return EXIT_FAILED if failed else EXIT_OK


def _restore(ec2: Any, version: LaunchTemplateVersionView) -> Restored:
    origin = version.drill_origin
    if origin is None:
        return Restored(
            version.template_id, version.version, None, "", "its description names no production version"
        )
    execution, production = origin
    try:
        ec2.set_default_version(version.template_id, production)
    except DrsError as error:
        print(f"Could not restore {version.template_id}: {terminal_safe(str(error))}", file=sys.stderr)
        return Restored(version.template_id, version.version, production, execution, str(error))
    return Restored(version.template_id, version.version, production, execution)


def _running_here(db: Any) -> set[str]:
    """The executions this desktop's journal shows unfinished (their drills may be pointing templates)."""
    from drs_desktop.storage.executions import unfinished_executions

    return {record.execution_id for record in unfinished_executions(db)}


def _plan_templates(db: Any, drs: Any, name: str) -> set[str]:
    """The launch templates DRS names for the plan's servers."""
    from drs_desktop.domain.plan.launch_preview import plan_servers
    from drs_desktop.services.patient_reads import PatientReads
    from drs_desktop.services.preflight import launch_configurations
    from drs_desktop.storage.plans import load_plan

    plan = load_plan(db, name).plan
    ids = [server_id for server_id, _ in plan_servers(plan, drs.inventory())]
    configs = launch_configurations(drs, ids, PatientReads())
    return {c.ec2_launch_template_id for c in configs.values() if c is not None and c.ec2_launch_template_id}


def _lines(done: list[Restored], held: int = 0) -> list[str]:
    """What was done, for the operator; templates left to a running drill are counted (never "none")."""
    lines = []
    if held:
        lines.append(
            f"{held} template(s) left pointed at the drill network: their drill is still running on this "
            "desktop (--force to restore them anyway)"
        )
    if not done:
        if not held:
            lines.append("No launch template's default version is a drill version: nothing to restore.")
        return lines
    for r in done:
        if r.error:
            lines.append(f"NOT restored {r.template_id} (drill version {r.drill_version}): {r.error}")
        else:
            lines.append(
                f"restored {r.template_id}: default version {r.drill_version} -> {r.production_version} "
                f"(drill of execution {r.execution_id})"
            )
    ok = sum(1 for r in done if not r.error)
    lines.append(f"{ok} of {len(done)} template(s) restored to their production version")
    return lines
