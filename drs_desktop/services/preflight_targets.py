"""Preflight of each target a plan declares: reached with its own credentials, checked in its own account.

A plan across accounts fails on the worst day for reasons the connected account cannot show: a role whose
trust policy changed, a profile that now reaches another account, a missing permission in one staging
account, replication stalled there, that account's jobs filling its quota. So every target the waves use
(``domain.plan.targets.used_target_names``) is checked through its own gateway (``aws_target_of``):

- ``target-access``: GetCallerIdentity; the account must be the one the plan declares.
- ``target-permissions``: the read calls the run makes (DescribeSourceServers, DescribeJobs,
  GetLaunchConfiguration, DescribeRecoveryInstances), each made once; StartRecovery and
  TerminateRecoveryInstances cannot be tried without launching, so they are named as not checked.
- ``known-servers``, ``replication``, ``lag``, ``busy-servers``, ``quotas``: the rules of
  ``domain.preflight.rules`` on that target's servers (its groups' and its wave entries', tag selectors
  resolved in its inventory), its active jobs and the run's limits.

Every message starts with the target ("target 'staging-01' (111111111111/us-east-1): ..."). A target that
cannot be reached fails each of its checks with the reason; the other targets are still checked. Nothing
is launched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import MfaPrompter
from drs_desktop.domain.drs.errors import DrsAccessDenied, DrsError, DrsNotFound
from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.decide import EXTERNAL_LOAD_WINDOW
from drs_desktop.domain.engine.recovery_point import RecoveryPointChoice
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan
from drs_desktop.domain.plan.targets import group_target, placed_servers, used_target_names
from drs_desktop.domain.plan.validation import resolve_group
from drs_desktop.domain.preflight.checks import plan_members
from drs_desktop.domain.preflight.rules import (
    BUSY,
    KNOWN,
    LAG,
    QUOTAS,
    REPLICATION,
    Check,
    CheckStatus,
    Member,
    busy_checks,
    lag_checks,
    quota_checks,
    replication_checks,
)
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.target_runs import TargetSessions

logger = logging.getLogger(__name__)

__all__ = ["TARGET_ACCESS", "TARGET_PERMISSIONS", "GatewayOf", "gateway_maker", "per_target_checks"]

TARGET_ACCESS = "target-access"
TARGET_PERMISSIONS = "target-permissions"
#: The checks of one target, in the order they are reported (and failed when it cannot be reached).
TARGET_CHECKS = (TARGET_ACCESS, TARGET_PERMISSIONS, KNOWN, REPLICATION, LAG, BUSY, QUOTAS)

#: The gateway of a declared target (``ValueError`` when the target cannot become one).
GatewayOf = Callable[[PlanTarget], DrsGateway]


def gateway_maker(connected: DrsGateway, *, mfa_prompter: MfaPrompter | None = None) -> GatewayOf:
    """Gateways of declared targets, as a run makes them (``services.target_runs.TargetSessions``): the
    simulator's endpoint when the connected one is a simulator, else each target's Region's own."""
    return TargetSessions(mfa_prompter=mfa_prompter).gateway_of(connected)


def label_of(target: PlanTarget) -> str:
    """ "target 'NAME' (ACCOUNT/REGION)": how every check of a target starts."""
    return f"target {target.name!r} ({target.account or 'account ?'}/{target.region or 'region ?'})"


def per_target_checks(
    plan: RecoveryPlan,
    *,
    gateway_of: GatewayOf,
    limits: Limits,
    now: datetime,
    reads: PatientReads | None = None,
    snapshot_choice: RecoveryPointChoice | None = None,
) -> list[Check]:
    """The checks of every target ``plan``'s waves use, target after target; [] for a plan without
    declared targets."""
    read = reads or PatientReads()
    checks: list[Check] = []
    for name in used_target_names(plan):
        target = plan.target(name)
        if target is not None:
            checks += _target(plan, target, gateway_of, limits, now, read, snapshot_choice)
    return checks


def _target(
    plan: RecoveryPlan,
    target: PlanTarget,
    gateway_of: GatewayOf,
    limits: Limits,
    now: datetime,
    read: PatientReads,
    choice: RecoveryPointChoice | None,
) -> list[Check]:
    label = label_of(target)
    try:
        gateway = gateway_of(target)
    except ValueError as exc:
        return _unreachable(label, str(exc))
    try:
        return _reachable(plan, target, gateway, limits, now, read, choice)
    except _Unreachable as exc:
        return exc.checks
    finally:
        gateway.close()


class _Unreachable(Exception):
    """The target's checks, all failed for one reason."""

    def __init__(self, checks: list[Check]) -> None:
        super().__init__(checks[0].message)
        self.checks = checks


def _unreachable(label: str, reason: str, *, done: Sequence[Check] = ()) -> list[Check]:
    """``done`` (labelled), then a FAIL for each check of the target not done, with ``reason``."""
    checks = list(done)
    for name in TARGET_CHECKS[len(checks) :]:
        what = reason if name == TARGET_ACCESS else f"not checked: {reason}"
        checks.append(Check(name, CheckStatus.FAIL, f"{label}: {what}"))
    return checks


def _reachable(
    plan: RecoveryPlan,
    target: PlanTarget,
    gateway: DrsGateway,
    limits: Limits,
    now: datetime,
    read: PatientReads,
    choice: RecoveryPointChoice | None,
) -> list[Check]:
    label = label_of(target)
    try:
        identity = read(gateway.caller_identity, "GetCallerIdentity")
    except DrsError as exc:
        raise _Unreachable(_unreachable(label, f"cannot be reached: {exc}")) from exc
    if target.account and identity.account != target.account:
        reason = (
            f"its credentials reach account {identity.account} ({identity.arn}), not the declared "
            f"{target.account}: fix the target's profile or role"
        )
        raise _Unreachable(_unreachable(label, reason))
    access = Check(TARGET_ACCESS, CheckStatus.PASS, f"{label}: reached as {identity.arn}")
    calls: dict[str, Callable[[], Any]] = {
        "DescribeSourceServers": gateway.inventory,
        "DescribeJobs": partial(gateway.jobs_since, now - EXTERNAL_LOAD_WINDOW),
    }
    answers: dict[str, Any] = {}
    denied: list[str] = []
    for operation, call in calls.items():
        try:
            answers[operation] = read(call, operation)
        except DrsAccessDenied:
            denied.append(operation)
        except DrsError as exc:
            raise _Unreachable(_unreachable(label, f"{operation} failed: {exc}", done=[access])) from exc
    inventory: Inventory | None = answers.get("DescribeSourceServers")
    wave_servers = servers_of_target(plan, target.name, inventory)
    members = plan_members(plan, wave_servers)
    by_id = inventory.by_id() if inventory is not None else {}
    known = [m for m in members if m.server_id in by_id]
    denied += _probe(gateway, read, [m.server_id for m in known])
    permissions = _labelled(label, _permissions(denied))
    if inventory is None:
        return _unreachable(label, "drs:DescribeSourceServers is not allowed", done=[access, permissions])
    checks = _known(members, by_id)
    checks += replication_checks(known, by_id, choice)
    checks += lag_checks(known, by_id, plan.rpo_minutes, choice)
    jobs = answers.get("DescribeJobs")
    if jobs is None:
        refused = "not checked: drs:DescribeJobs is not allowed"
        checks += [Check(name, CheckStatus.FAIL, refused) for name in (BUSY, QUOTAS)]
    else:
        active = [(job.job_id, tuple(job.server_ids)) for job in jobs if job.is_active]
        checks += busy_checks(members, by_id, active)
        checks += quota_checks(plan, wave_servers, active, limits)
    return [access, permissions, *(_labelled(label, c) for c in checks)]


def _probe(gateway: DrsGateway, read: PatientReads, server_ids: Sequence[str]) -> list[str]:
    """The other reads the run makes, once each; the names of those DRS refuses (AccessDenied)."""
    denied = []
    sample = list(server_ids[:1])
    calls: dict[str, Callable[[], Any]] = {
        "DescribeRecoveryInstances": partial(gateway.describe_recovery_instances, sample or None)
    }
    if sample:
        calls["GetLaunchConfiguration"] = partial(gateway.launch_configuration, sample[0])
    for operation, call in calls.items():
        try:
            read(call, operation)
        except DrsAccessDenied:
            denied.append(operation)
        except DrsNotFound:
            pass  # allowed, nothing there
    return denied


def _permissions(denied: Sequence[str]) -> Check:
    untried = "StartRecovery and TerminateRecoveryInstances cannot be tried without launching"
    if denied:
        actions = ", ".join(f"drs:{name}" for name in denied)
        return Check(TARGET_PERMISSIONS, CheckStatus.FAIL, f"not allowed: {actions} ({untried})")
    return Check(
        TARGET_PERMISSIONS,
        CheckStatus.PASS,
        "DescribeSourceServers, DescribeJobs, GetLaunchConfiguration and DescribeRecoveryInstances are "
        f"allowed ({untried})",
    )


def servers_of_target(
    plan: RecoveryPlan, name: str, inventory: Inventory | None
) -> dict[str, tuple[str, ...]]:
    """Each wave's servers in target ``name``: explicitly placed ones, and tag groups of that target
    resolved in ``inventory`` (the target's own)."""
    result: dict[str, tuple[str, ...]] = {}
    for index, wave in enumerate(plan.waves):
        ids = [server_id for target, server_id in placed_servers(plan, index) if target == name]
        for group_name in wave.groups:
            group = plan.group(group_name)
            if group is not None and group.tags is not None and group_target(plan, group) == name:
                ids.extend(resolve_group(group, inventory))
        result[wave.name] = tuple(dict.fromkeys(ids))
    return result


def _known(members: Sequence[Member], by_id: Mapping[str, SourceServer]) -> list[Check]:
    checks = [
        Check(
            KNOWN,
            CheckStatus.FAIL,
            f"{m.server_id} is not a source server of this target: DRS would refuse its whole "
            "StartRecovery (ResourceNotFound)",
            m.server_id,
            m.wave,
        )
        for m in members
        if m.server_id not in by_id
    ]
    if not checks:
        checks.append(Check(KNOWN, CheckStatus.PASS, f"all {len(members)} server(s) are in its inventory"))
    return checks


def _labelled(label: str, check: Check) -> Check:
    return replace(check, message=f"{label}: {check.message}")
