"""Preflight of a prepared run: gather what the checks need from DRS and the database, check, list the
calls, and render the report for the CLI (text or JSON) and the GUI.

``preflight`` launches nothing: it reads the account's recent jobs, each server's launch configuration
and this desktop's unfinished executions, then runs the pure ``domain.preflight.checks`` checks and lists the
calls from the same ``ExecutionSpec`` ``create_execution`` would build (``spec_from_prepared``).
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import MfaPrompter
from drs_desktop.domain.drs.errors import DrsAccessDenied, DrsNotFound
from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.engine.commands import TAG_EXECUTION
from drs_desktop.domain.engine.decide import EXTERNAL_LOAD_WINDOW
from drs_desktop.domain.engine.state import spec_from_json, spec_problems
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.targets import Connected
from drs_desktop.domain.preflight.checks import (
    DRY_RUN_EXECUTION_ID,
    CallKind,
    Check,
    CheckStatus,
    OtherExecution,
    PlannedCall,
    PreflightReport,
    planned_calls,
    run_checks,
)
from drs_desktop.domain.preflight.plan_targets import target_checks
from drs_desktop.domain.preflight.rules import clock_checks
from drs_desktop.services.executions import PreparedExecution, RunRequest, spec_from_prepared
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.preflight_automation import automation_checks
from drs_desktop.services.preflight_drill_versions import drill_version_checks
from drs_desktop.services.preflight_isolation import drill_template_checks, isolation_checks
from drs_desktop.services.preflight_targets import GatewayOf, gateway_maker, per_target_checks
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

#: The check that explains an empty call list.
RUN = "run"
#: GetLaunchConfiguration calls in flight at once during a preflight.
LAUNCH_CONFIG_READERS = 8
#: Server IDs per line when a call is printed.
_WIDTH = 108


def preflight(
    db: Database,
    gateway: DrsGateway,
    prepared: PreparedExecution,
    request: RunRequest,
    *,
    now: datetime,
    execution_id: str = DRY_RUN_EXECUTION_ID,
    reads: PatientReads | None = None,
    target_gateways: GatewayOf | None = None,
    mfa_prompter: MfaPrompter | None = None,
) -> PreflightReport:
    """Every check of ``prepared`` against the account as it is ``now``, and the calls the run would make.

    A plan that declares ``targets`` is also checked in each target its waves use, through that target's
    own credentials (``services.preflight_targets``): ``target_gateways`` makes their gateways (default:
    on ``gateway``'s endpoint; ``mfa_prompter`` answers an MFA role).

    Reads DRS (DescribeJobs of the last two days, GetLaunchConfiguration per known server) and this
    desktop's unfinished executions, and what the plan's automation steps need (SSM, Lambda, EC2, the
    scripts' files: ``services.preflight_automation``); launches nothing. ``DrsError``s other than a
    missing launch configuration (or no permission to read one) propagate: without the account's jobs
    the checks would say less than they seem to. Throttling is waited out (``reads``, as in
    ``prepare_execution``).
    """
    read = reads or PatientReads()
    plan = prepared.stored.plan
    inventory = prepared.inventory
    jobs = read(partial(gateway.jobs_since, now - EXTERNAL_LOAD_WINDOW), "DescribeJobs")
    active = [(job.job_id, job.server_ids, job.is_active) for job in jobs if job.is_active]
    known = inventory.by_id()
    unread: dict[str, str] = {}
    configs = launch_configurations(
        gateway, [s for s in prepared.server_ids if s in known], read, unread=unread
    )
    checks = run_checks(
        plan,
        prepared.wave_servers,
        inventory,
        mode=request.mode,
        active_jobs=active,
        launch_configs=configs,
        limits=request.limits,
        rpo_minutes=plan.rpo_minutes,
        now=now,
        snapshot_choice=prepared.recovery_point,
        other_executions=unfinished_elsewhere(db, inventory, gateway.target.region),
    )
    checks[:0] = target_checks(plan, connected_target(gateway, inventory))
    gateway_of = None
    if plan.targets:
        gateway_of = target_gateways or gateway_maker(gateway, mfa_prompter=mfa_prompter)
    if gateway_of is not None:
        checks += per_target_checks(
            plan,
            gateway_of=gateway_of,
            limits=request.limits,
            now=now,
            reads=read,
            snapshot_choice=prepared.recovery_point,
        )
    checks.extend(clock_checks(gateway.drs_clock.skew()))
    checks += isolation_checks(plan, request.mode, gateway, read, override=request.isolation_override)
    checks += drill_template_checks(
        plan, request.mode, prepared.server_ids, configs, in_drs=prepared.native is not None, unread=unread
    )
    checks += drill_version_checks(plan.name, request.mode, prepared.server_ids, configs, gateway, read)
    automation = automation_checks(
        db,
        plan,
        request.mode,
        prepared.wave_servers,
        configs,
        gateway,
        read,
        server_targets=prepared.server_targets,
        gateway_of=gateway_of,
    )
    checks += automation.checks
    spec = spec_from_prepared(prepared, request, execution_id=execution_id, started_at=now)
    problems = spec_problems(spec)
    calls: tuple[PlannedCall, ...] = ()
    if problems:
        checks.append(Check(RUN, CheckStatus.FAIL, "the calls cannot be listed: " + "; ".join(problems)))
    else:
        calls = planned_calls(spec)
    report = PreflightReport(
        tuple(checks),
        calls,
        plan_name=plan.name,
        mode=request.mode,
        checked_at=now,
        launch_configs=configs,
        trustable_scripts=automation.trustable,
    )
    logger.info(
        "preflight of %r (%s): %d failure(s), %d warning(s), %d StartRecovery call(s)",
        plan.name,
        request.mode.value,
        len(report.failures),
        len(report.warnings),
        len(report.start_calls),
    )
    return report


def connected_target(gateway: DrsGateway, inventory: Inventory) -> Connected:
    """Where a run with ``gateway`` lands: the account DRS answered for (the inventory's), the Region and
    the profile of the gateway's target."""
    target = gateway.target
    return Connected(account=inventory.account_id, region=target.region, profile=target.profile or "")


def launch_configurations(
    gateway: DrsGateway,
    server_ids: Sequence[str],
    read: PatientReads,
    *,
    readers: int = LAUNCH_CONFIG_READERS,
    unread: dict[str, str] | None = None,
) -> dict[str, LaunchConfigView | None]:
    """GetLaunchConfiguration of each server, ``readers`` at a time (a 300-server plan would otherwise
    wait for 300 round trips one after another). Each reader thread has its own gateway (its own boto3
    clients) and closes it. None: DRS has no configuration for the server; a server whose configuration
    may not be read is left out (the check says "not checked"); any other error propagates, the first
    in the servers' order, once every reader has stopped. ``unread`` (when given) gets why each server's
    configuration was not read (not found, access denied), for a check that must say so."""
    why: dict[str, str] = {} if unread is None else unread
    if not server_ids:
        return {}
    slices = [list(server_ids[i::readers]) for i in range(min(readers, len(server_ids)))]
    found: dict[str, LaunchConfigView | None] = {}
    errors: dict[str, Exception] = {}

    def read_slice(servers: list[str]) -> None:
        own = gateway.for_another_thread() if len(slices) > 1 else gateway
        try:
            for server_id in servers:
                if errors:
                    return  # another reader failed: the preflight fails anyway
                try:
                    found[server_id] = read(
                        partial(own.launch_configuration, server_id), "GetLaunchConfiguration"
                    )
                except DrsNotFound as error:
                    found[server_id] = None
                    why[server_id] = f"DRS has no launch configuration for it ({error.code or error})"
                except DrsAccessDenied as error:  # left out: the check reports it "not checked"
                    logger.warning("GetLaunchConfiguration of %s not allowed: %s", server_id, error)
                    why[server_id] = f"GetLaunchConfiguration was refused ({error.code or error})"
                except Exception as error:  # raised on the calling thread once every reader stopped
                    errors[server_id] = error
                    return
        finally:
            if own is not gateway:
                own.close()

    if len(slices) == 1:
        read_slice(slices[0])
    else:
        with ThreadPoolExecutor(max_workers=len(slices), thread_name_prefix="launch-config") as pool:
            list(pool.map(read_slice, slices))
    for server_id in server_ids:
        if server_id in errors:
            raise errors[server_id]
    return {s: found[s] for s in server_ids if s in found}


def unfinished_elsewhere(db: Database, inventory: Inventory, region: str) -> list[OtherExecution]:
    """This desktop's unfinished executions against the same account and region (as far as recorded)."""
    others: list[OtherExecution] = []
    for record in journal.unfinished_executions(db):
        account = record.identity.get("account", "")
        target = record.options.get("target") or {}
        other_region = target.get("region") if isinstance(target, Mapping) else None
        if account and inventory.account_id and account != inventory.account_id:
            continue
        if other_region and region and other_region != region:
            continue
        try:
            spec = spec_from_json(record.spec)
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("execution %s: unreadable spec (%s); not compared", record.execution_id, exc)
            continue
        servers = tuple(s for wave in spec.waves for s in wave.server_ids)
        others.append(
            OtherExecution(record.execution_id, record.plan_name, record.mode, record.started_at, servers)
        )
    return others


# -- rendering


def format_report(report: PreflightReport) -> list[str]:
    """Lines for the CLI: a header, one line per check, the verdict, then the planned calls."""
    mode = report.mode.value if report.mode is not None else "?"
    when = f" at {report.checked_at.isoformat()}" if report.checked_at is not None else ""
    lines = [f"Preflight of plan {report.plan_name!r} ({mode}){when}"]
    width = max((len(c.name) for c in report.checks), default=0)
    for check in report.checks:
        where = f"[{check.wave}] " if check.wave and check.server_id else ""
        lines.append(f"  {check.status.value:<4}  {check.name:<{width}}  {where}{check.message}")
    failures, warnings = len(report.failures), len(report.warnings)
    if report.ok:
        lines.append(f"Result: ready to run ({warnings} warning(s))")
    else:
        lines.append(f"Result: NOT READY: {failures} failure(s), {warnings} warning(s)")
    if not report.planned_calls:
        return lines
    lines.append(f"Planned calls ({len(report.start_calls)} StartRecovery):")
    if any(c.tags.get(TAG_EXECUTION) == DRY_RUN_EXECUTION_ID for c in report.start_calls):
        lines.append(
            f"  ({DRY_RUN_EXECUTION_ID} in the tags is the execution ID, assigned when the run starts)"
        )
    number = 0
    for call in report.planned_calls:
        if call.kind is CallKind.WAVE:
            lines.append(f"  {call.description}")
        elif call.kind is CallKind.START_RECOVERY:
            number += 1
            lines.append(f"    {number}. {call.description}")
            lines.extend(_wrapped("servers: ", call.server_ids))
            lines.extend(_wrapped("tags: ", [f"{k}={v}" for k, v in call.tags.items()]))
            if call.snapshot_ids:
                lines.extend(_wrapped("snapshots: ", [f"{s}={p}" for s, p in call.snapshot_ids.items()]))
        else:
            indent = "    " if call.wave is not None else "  "
            lines.extend(
                textwrap.wrap(
                    call.description, _WIDTH, initial_indent=indent, subsequent_indent=indent + "  "
                )
            )
    return lines


def _wrapped(label: str, items: Any) -> list[str]:
    indent = " " * 7
    return textwrap.wrap(
        ", ".join(items),
        width=_WIDTH,
        initial_indent=indent + label,
        subsequent_indent=indent + " " * len(label),
        break_on_hyphens=False,
    )


def report_to_json(report: PreflightReport) -> dict[str, Any]:
    """``--json``: the whole report as plain JSON data (a StartRecovery's exact parameters included)."""
    return {
        "plan": report.plan_name,
        "mode": report.mode.value if report.mode is not None else None,
        "checked_at": report.checked_at.isoformat() if report.checked_at is not None else None,
        "ok": report.ok,
        "failures": len(report.failures),
        "warnings": len(report.warnings),
        "checks": [
            {
                "name": c.name,
                "status": c.status.value,
                "message": c.message,
                "server_id": c.server_id,
                "wave": c.wave,
            }
            for c in report.checks
        ],
        "planned_calls": [_call_to_json(c) for c in report.planned_calls],
    }


def _call_to_json(call: PlannedCall) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": call.kind.value,
        "api_call": call.is_api_call,
        "description": call.description,
        "wave": call.wave,
        "wave_index": call.wave_index,
    }
    if call.kind is CallKind.START_RECOVERY:
        data.update(
            chunk_id=call.chunk_id,
            server_ids=list(call.server_ids),
            is_drill=call.is_drill,
            tags=dict(call.tags),
            snapshot_ids=dict(call.snapshot_ids),
            request=call.request(),
        )
    elif call.kind is CallKind.WAVE:
        data["depends_on"] = list(call.depends_on)
    elif call.kind is CallKind.APPROVAL:
        data["message"] = call.message
    elif call.kind is CallKind.WAIT:
        data["minutes"] = call.minutes
    return data
