"""``drs-desktop launch-settings plan|apply|drift``: a plan's desired launch settings, headless
(docs/launch-settings.md).

``plan`` previews: per server what changes, errors, warnings, totals and the calls an apply would make.
``apply`` previews, then applies with ``--yes`` (without it: the preview and "nothing applied"); it first
finishes this target's interrupted applies; ``apply --resume ID`` finishes one. ``drift`` lists the
servers whose launch configuration or template differs from the desired state, of one plan or all.
``restore`` (``cli_launch_restore``) sets launch templates a drill left pointed at its drill network back.

Exit codes (cli_exit): 0 done (nothing blocked, every server verified, no drift); 1 the answer is "no": a
server is blocked, failed or skipped, an apply was left unfinished, drift found, DRS or EC2 refused; 2 a
usage error; 130 interrupted (the journal keeps the apply: ``--resume`` it). ``--json`` prints one JSON
document on stdout (progress then goes to stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from typing import Any, TextIO

from drs_desktop.cli_common import add_common_options, emit, operator_name
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, UsageError
from drs_desktop.cli_launch_restore import add_restore_command, restore_command
from drs_desktop.cli_target import _gateway, _open_database
from drs_desktop.config import AppPaths
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.launch.diff import Destination, ServerLaunchPlan
from drs_desktop.domain.plan.launch_preview import LaunchPreview
from drs_desktop.domain.safe_text import terminal_safe


def add_launch_commands(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    launch = commands.add_parser("launch-settings", help="preview, apply and check plans' launch settings")
    add_home(launch)
    actions = launch.add_subparsers(dest="launch_command", metavar="ACTION", required=True)
    plan = actions.add_parser("plan", help="what applying the plan's launch settings would change")
    plan.add_argument("plan", help="the plan's name")
    apply = actions.add_parser("apply", help="apply the plan's launch settings (with --yes)")
    apply.add_argument("plan", nargs="?", help="the plan's name")
    apply.add_argument("--yes", action="store_true", help="apply (without: only the preview)")
    apply.add_argument("--resume", metavar="ID", help="finish an interrupted apply")
    apply.add_argument("--workers", type=int, default=4, metavar="N", help="servers applied at once")
    drift = actions.add_parser("drift", help="servers whose launch settings differ from the desired state")
    drift.add_argument("plan", nargs="?", help="the plan's name (default: every plan)")
    facts = actions.add_parser(
        "ec2-facts", help="copy AWS-hosted servers' EC2 tags (and, with --plan, instance types) into DRS"
    )
    facts.add_argument("--plan", help="only this plan's servers; the types go into its launch settings")
    facts.add_argument("--apply", action="store_true", help="write (without: only the preview)")
    restore = add_restore_command(actions, add_home)
    add_common_options((plan, apply, drift, facts, restore), add_home)


def launch_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.aws.ec2 import Ec2Gateway

    if args.launch_command == "apply" and bool(args.plan) == bool(args.resume):
        raise UsageError("launch-settings apply takes a plan's name or --resume ID")
    if args.launch_command == "apply" and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    with _open_database(paths) as db:
        saved = _resumed_target(db, args) if getattr(args, "resume", None) else None
        drs = _gateway(db, args, saved)
        ec2 = Ec2Gateway(drs.target)
        try:
            handlers = {"plan": _plan, "apply": _apply, "drift": _drift, "ec2-facts": _ec2_facts}
            handler = {**handlers, "restore": restore_command}[args.launch_command]
            return int(handler(args, db, drs, ec2, out))
        except DrsError as exc:
            emit(args, out, {"outcome": "refused", "error": str(exc), "code": exc.code}, [])
            print(f"Refused: {terminal_safe(str(exc))}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            drs.close()
            ec2.close()


def _resumed_target(db: Any, args: argparse.Namespace) -> dict[str, Any]:
    from drs_desktop.storage.launch_applies import load_apply

    record = load_apply(db, args.resume)
    if record is None:
        raise UsageError(f"no launch settings apply {args.resume}")
    return {"endpoint_url": record.endpoint_url or None, "profile": record.profile, "region": record.region}


def _preview(
    args: argparse.Namespace, db: Any, drs: Any, ec2: Any, name: str
) -> tuple[Any, LaunchPreview, Any]:
    from drs_desktop.services.launch_state import preview_plan
    from drs_desktop.storage.plans import load_plan

    stored = load_plan(db, name)
    inventory = drs.inventory()
    preview, _state = preview_plan(stored, inventory, drs, ec2)
    return stored, preview, inventory


def _server_json(server: ServerLaunchPlan) -> dict[str, Any]:
    return {
        "server_id": server.server_id,
        "hostname": server.hostname,
        "blocked": server.blocked,
        "changes": [
            {
                "field": c.field,
                "destination": str(c.destination),
                "before": c.before,
                "after": c.after,
                "source": c.source,
            }
            for c in server.changes
        ],
        "errors": [{"code": p.code, "message": p.message} for p in server.errors],
        "warnings": [{"code": p.code, "message": p.message} for p in server.warnings],
    }


def preview_json(name: str, revision: int, preview: LaunchPreview) -> dict[str, Any]:
    calls = preview.calls()
    templates = calls[Destination.TEMPLATE]
    return {
        "plan": name,
        "revision": revision,
        "servers": [_server_json(s) for s in preview.servers if s.changed or s.blocked or s.warnings],
        "unknown": list(preview.unknown),
        "totals": {
            "servers": len(preview.servers),
            "changed": len(preview.changed),
            "blocked": len(preview.blocked),
            "unchanged": sum(1 for s in preview.servers if not s.changed and not s.blocked),
            "to_apply": len(preview.applicable),
        },
        "calls": {
            "CreateLaunchTemplateVersion": templates,
            "ModifyLaunchTemplate": templates,
            "UpdateLaunchConfiguration": calls[Destination.DRS],
        },
    }


def _preview_lines(data: dict[str, Any]) -> list[str]:
    lines = [f"Plan {data['plan']} (revision {data['revision']}): launch settings"]
    for server in data["servers"]:
        mark = "BLOCKED " if server["blocked"] else ""
        lines.append(f"  {mark}{server['hostname'] or server['server_id']} ({server['server_id']})")
        lines += [f"    {c['field']}: {c['before']} -> {c['after']}" for c in server["changes"]]
        lines += [f"    error: {p['message']}" for p in server["errors"]]
        lines += [f"    warning: {p['message']}" for p in server["warnings"]]
    if data["unknown"]:
        lines.append(f"  not in DRS's inventory: {', '.join(data['unknown'])}")
    t, c = data["totals"], data["calls"]
    lines.append(
        f"{t['servers']} server(s): {t['changed']} changed, {t['blocked']} blocked, "
        f"{t['unchanged']} unchanged; "
        f"an apply makes {c['CreateLaunchTemplateVersion']} template version(s) and "
        f"{c['UpdateLaunchConfiguration']} UpdateLaunchConfiguration call(s)"
    )
    return lines


def _plan(args: argparse.Namespace, db: Any, drs: Any, ec2: Any, out: TextIO) -> int:
    stored, preview, _ = _preview(args, db, drs, ec2, args.plan)
    data = preview_json(stored.revision.name, stored.revision.revision, preview)
    emit(args, out, {"outcome": "preview", **data}, _preview_lines(data))
    return EXIT_FAILED if preview.blocked else EXIT_OK


def _apply(args: argparse.Namespace, db: Any, drs: Any, ec2: Any, out: TextIO) -> int:
    from drs_desktop.services import launch_apply as service

    progress = _progress_printer(args, out)
    options: dict[str, Any] = {"on_progress": progress, "workers": args.workers}
    if args.resume:
        record = _run(lambda: service.resume_apply(db, args.resume, drs, ec2, **options), args.resume)
        return _report(args, out, record, None, ())
    resumed = []
    for earlier in service.unfinished_here(db, drs):
        _say(args, out, f"Finishing the interrupted apply {earlier.apply_id} of {earlier.plan_name} first")
        resumed.append(
            _run(partial(service.resume_apply, db, earlier.apply_id, drs, ec2, **options), earlier.apply_id)
        )
    stored, preview, inventory = _preview(args, db, drs, ec2, args.plan)
    data = preview_json(stored.revision.name, stored.revision.revision, preview)
    if not args.yes:
        emit(
            args,
            out,
            {"outcome": "preview", **data, "applied": False},
            [*_preview_lines(data), "Nothing applied (pass --yes to apply)."],
        )
        return EXIT_FAILED if preview.blocked else EXIT_OK
    if not args.json:
        for line in _preview_lines(data):
            print(terminal_safe(line), file=out)
    record = service.start_apply(
        db, stored, preview, drs, account_id=inventory.account_id, operator=operator_name()
    )
    _say(args, out, f"Apply {record.apply_id}: {len(record.servers)} server(s)")
    final = _run(lambda: service.run_apply(db, record, drs, ec2, **options), record.apply_id)
    return _report(args, out, final, data, tuple(resumed))


def _run(call: Callable[[], Any], apply_id: str) -> Any:
    try:
        return call()
    except KeyboardInterrupt:
        print(
            f"Interrupted: the journal keeps apply {apply_id}; finish it with "
            f"`drs-desktop launch-settings apply --resume {apply_id}`",
            file=sys.stderr,
        )
        raise


def _say(args: argparse.Namespace, out: TextIO, line: str) -> None:
    print(terminal_safe(line), file=sys.stderr if args.json else out)


def _progress_printer(args: argparse.Namespace, out: TextIO) -> Callable[[Any], None]:
    def show(progress: Any) -> None:
        if not progress.step.ended:
            return
        reason = f": {progress.reason}" if progress.reason else ""
        who = progress.hostname or progress.server_id
        _say(args, out, f"  [{progress.ended}/{progress.total}] {who} {progress.step.value}{reason}")

    return show


def _report(
    args: argparse.Namespace,
    out: TextIO,
    record: Any,
    preview: dict[str, Any] | None,
    resumed: tuple[Any, ...],
) -> int:
    from drs_desktop.storage.launch_applies import ApplyStatus, ServerStep

    servers = [
        {
            "server_id": s.server_id,
            "hostname": s.hostname,
            "status": s.step.value,
            "reason": s.reason,
            "template_id": s.template_id or None,
            "new_version": s.new_version,
            "half_changed": s.half_changed() or None,
        }
        for s in record.servers
    ]
    counts = {
        step.value: record.count(step)
        for step in (ServerStep.VERIFIED, ServerStep.FAILED, ServerStep.SKIPPED)
    }
    finished = record.status is ApplyStatus.DONE
    data = {
        "outcome": "applied" if finished else "interrupted",
        "apply_id": record.apply_id,
        "plan": record.plan_name,
        "revision": record.revision,
        "status": record.status.value,
        "counts": counts,
        "servers": servers,
        "resumed": [r.apply_id for r in resumed],
        **({"preview": preview} if preview is not None else {}),
    }
    lines = [
        f"Apply {record.apply_id} of {record.plan_name} (revision {record.revision}): "
        f"{counts['VERIFIED']} verified, {counts['FAILED']} failed, {counts['SKIPPED']} skipped"
    ]
    lines += [
        f"  {s['hostname'] or s['server_id']}: {s['half_changed']}" for s in servers if s["half_changed"]
    ]
    if not finished:
        lines.append(f"Unfinished: `drs-desktop launch-settings apply --resume {record.apply_id}`")
    emit(args, out, data, lines)
    ok = finished and counts["FAILED"] == 0 and counts["SKIPPED"] == 0
    return EXIT_OK if ok else EXIT_FAILED


def _drift(args: argparse.Namespace, db: Any, drs: Any, ec2: Any, out: TextIO) -> int:
    from drs_desktop.storage.plans import list_plans

    names = [args.plan] if args.plan else [p.name for p in list_plans(db)]
    plans: list[dict[str, Any]] = []
    lines: list[str] = []
    for name in names:
        stored, preview, _ = _preview(args, db, drs, ec2, name)
        drifted = [_server_json(s) for s in preview.changed]
        plans.append({"plan": name, "revision": stored.revision.revision, "servers": drifted})
        if drifted:
            lines.append(f"Plan {name}: {len(drifted)} server(s) differ from the desired launch settings")
            for server in drifted:
                lines.append(f"  {server['hostname'] or server['server_id']} ({server['server_id']})")
                lines += [
                    f"    {c['field']}: {c['before']} (desired {c['after']})" for c in server["changes"]
                ]
        else:
            lines.append(f"Plan {name}: as desired")
    count = sum(len(p["servers"]) for p in plans)
    emit(args, out, {"outcome": "drift" if count else "in_sync", "drifted": count, "plans": plans}, lines)
    return EXIT_FAILED if count else EXIT_OK


def _ec2_facts(args: argparse.Namespace, db: Any, drs: Any, ec2: Any, out: TextIO) -> int:
    from drs_desktop.services import ec2_facts as service
    from drs_desktop.storage.plans import load_plan

    stored = load_plan(db, args.plan) if args.plan else None
    facts = service.preview(drs, ec2, stored=stored)
    data = facts_json(facts)
    lines = _facts_lines(data)
    if not args.apply:
        emit(
            args,
            out,
            {"outcome": "preview", **data, "applied": False},
            [*lines, "Nothing written (pass --apply)."],
        )
        return EXIT_FAILED if facts.problems else EXIT_OK
    result = service.apply(db, drs, ec2, facts, author=operator_name())
    data["applied"] = True
    data["outcomes"] = [
        {"server_id": o.server_id, "hostname": o.hostname, "outcome": o.outcome, "message": o.message}
        for o in result.outcomes
    ]
    data["revision"] = result.revision.revision if result.revision is not None else None
    data["inventory_refreshed"] = result.inventory_refreshed
    data["refresh_error"] = result.refresh_error or None
    lines += [
        f"  {o.hostname or o.server_id}: {o.outcome}" + (f" ({o.message})" if o.message else "")
        for o in result.outcomes
    ]
    if result.revision is not None:
        lines.append(
            f"Plan {result.revision.name}: instance types saved as revision {result.revision.revision}"
        )
    if result.inventory_refreshed:
        lines.append("The inventory cache was refreshed with the new tags.")
    elif result.refresh_error:
        lines.append(
            f"The inventory cache is stale (its refresh failed: {result.refresh_error}); "
            "refresh it before relying on tag-based groups."
        )
    outcome = "failed" if result.failed else "applied"
    emit(args, out, {"outcome": outcome, **data}, lines)
    return EXIT_FAILED if result.failed else EXIT_OK


def facts_json(facts: Any) -> dict[str, Any]:
    """The preview of an EC2 facts copy as the ``--json`` document holds it."""
    return {
        "plan": facts.plan.revision.name if facts.plan is not None else None,
        "servers": [
            {
                "server_id": r.server.source_server_id,
                "hostname": r.server.hostname,
                "instance_id": r.server.aws_instance_id,
                "origin_account": r.server.origin_account_id or None,
                "origin_region": r.server.origin_region or None,
                "read_in_region": r.region or None,
                "instance_type": r.instance_type,
                "tags": [{"key": c.key, "before": c.before, "after": c.after} for c in r.copy.changes],
                "reserved_tags_skipped": list(r.copy.reserved),
                "problem": r.problem or None,
            }
            for r in facts.servers
        ],
        "on_premises": facts.on_premises,
        "instance_types": [{"server_id": sid, "instance_type": t} for sid, t in facts.type_changes],
    }


def _facts_lines(data: dict[str, Any]) -> list[str]:
    scope = f"plan {data['plan']}" if data["plan"] else "every server"
    lines = [
        f"EC2 facts into DRS ({scope}): {len(data['servers'])} AWS-hosted, {data['on_premises']} on premises"
    ]
    for server in data["servers"]:
        where = f" in {server['read_in_region']}" if server["read_in_region"] else ""
        lines.append(
            f"  {server['hostname'] or server['server_id']} "
            f"({server['server_id']}, {server['instance_id']}{where})"
        )
        if server["problem"]:
            lines.append(f"    error: {server['problem']}")
            continue
        lines.append(f"    instance type: {server['instance_type']}")
        lines += [
            f"    tag {t['key']}: {t['before'] if t['before'] is not None else '(none)'} -> {t['after']}"
            for t in server["tags"]
        ]
        if not server["tags"]:
            lines.append("    tags: as in EC2")
    if data["plan"]:
        for item in data["instance_types"]:
            lines.append(
                f"  plan override: {item['server_id']} instance_type {item['instance_type']}"
                ", right_sizing NONE"
            )
    return lines
