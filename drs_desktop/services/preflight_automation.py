"""Preflight reads for a plan's automation steps (issue 17 item 3); rules: ``domain.preflight.automation``.

For every automation step that runs in this mode:

- ``ssm-documents``: DescribeDocument of each distinct document, in the step's target (the DRS target
  of the servers it runs on, as the runner sends it there); ``lambda-functions``: GetFunctionConfiguration
  of each distinct function (a Lambda step's, a reach-lambda health check's ``via``), in the connected
  target (where the runner invokes it). One read each, through ``PatientReads`` like every preflight
  read; AccessDenied fails with the reason.
- ``scripts``: each script's file looked at and hashed now (``ScriptTrustService.status``): it must exist,
  be executable and be trusted on this desktop as it is. The ones that could be trusted (untrusted or
  changed) are returned too, so the run dialog can offer "Trust…".
- ``ssm-agent``: the launch configurations preflight already read say whether post-launch actions (which
  install the agent) are on; a reach-ssm health check's ``via`` instance is asked of SSM now
  (DescribeInstanceInformation).
- ``health-check-reach``: reach private during a drill into the plan's drill network; reach public with
  launch templates that do not associate a public IP (one paged listing of the default versions).
- ``vpc-endpoints``: in a drill into the drill network, with an SSM step or a reach-ssm check, each drill
  subnet without an internet or NAT route needs the ``ssm``, ``ssmmessages`` and ``ec2messages``
  interface endpoints in its VPC (DescribeVpcEndpoints).

Reads files and calls AWS: never on the GUI thread (the desk's task thread runs preflight).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.lambda_fn import LambdaGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.aws.ssm import SsmGateway
from drs_desktop.domain.drs.errors import DrsAccessDenied, DrsError
from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.automation import HealthCheckStep, LambdaStep, Reach, ScriptStep, SsmStep
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.preflight.automation import (
    LAMBDA_FUNCTIONS,
    SSM_DOCUMENTS,
    VPC_ENDPOINTS,
    Found,
    Lookup,
    StepUse,
    agent_checks,
    endpoint_check,
    lookup_checks,
    missing_endpoints,
    reach_checks,
    routes_out,
    script_checks,
    steps_in_mode,
)
from drs_desktop.domain.preflight.rules import Check, CheckStatus
from drs_desktop.domain.script_trust import ScriptCheck, ScriptTrustError
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.preflight_targets import GatewayOf
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

__all__ = ["AutomationPreflight", "automation_checks"]


@dataclass(frozen=True)
class AutomationPreflight:
    """The checks, and the script steps this desktop could trust (untrusted, or changed since trusted)."""

    checks: list[Check] = field(default_factory=list)
    trustable: tuple[ScriptStep, ...] = ()


def automation_checks(
    db: Database,
    plan: RecoveryPlan,
    mode: Mode,
    wave_servers: Mapping[str, Sequence[str]],
    configs: Mapping[str, LaunchConfigView | None],
    gateway: DrsGateway,
    read: PatientReads,
    *,
    server_targets: Mapping[str, str] | None = None,
    gateway_of: GatewayOf | None = None,
    ssm_of: Callable[[AwsTarget], Any] = SsmGateway,
    lambda_of: Callable[[AwsTarget], Any] = LambdaGateway,
    ec2_of: Callable[[AwsTarget], Ec2Gateway] = Ec2Gateway,
    scripts: ScriptTrustService | None = None,
) -> AutomationPreflight:
    """Every automation check of ``plan`` in ``mode``; empty for a plan without automation steps."""
    uses = steps_in_mode(plan, wave_servers, mode)
    if not uses:
        return AutomationPreflight()
    reach = _Reach(plan, gateway, server_targets or {}, gateway_of)
    try:
        checks = _documents(uses, reach, read, ssm_of)
        checks += _functions(uses, gateway.target, read, lambda_of)
        script_list, trustable = _scripts(uses, scripts or ScriptTrustService(db))
        checks += script_list
        checks += agent_checks(uses, configs, _via_online(uses, reach, read, ssm_of))
        isolated = mode is Mode.DRILL and plan.drill_profile is not None and bool(plan.drill_profile.subnets)
        public, unread = _public_ips(uses, configs, gateway.target, read, ec2_of)
        checks += reach_checks(uses, isolated_drill=isolated, public_ip=public, public_unread=unread)
        if isolated:
            checks += _endpoints(plan, uses, gateway.target, read, ec2_of)
    finally:
        reach.close()
    logger.info(
        "automation preflight of %r (%s): %d step(s), %d failure(s)",
        plan.name,
        mode.value,
        len(uses),
        sum(c.status is CheckStatus.FAIL for c in checks),
    )
    return AutomationPreflight(checks, trustable)


class _Reach:
    """The AWS target of each DRS target a step runs in ("" is the connected one), made once."""

    def __init__(
        self,
        plan: RecoveryPlan,
        gateway: DrsGateway,
        server_targets: Mapping[str, str],
        gateway_of: GatewayOf | None,
    ) -> None:
        self._plan, self._gateway, self._targets, self._gateway_of = plan, gateway, server_targets, gateway_of
        self._made: dict[str, AwsTarget | str] = {"": gateway.target}
        self._opened: list[DrsGateway] = []

    def target_of(self, use: StepUse) -> str:
        """The step's target name: its first server's (the runner sends it where that server is)."""
        return next((self._targets.get(s, "") for s in use.servers), "")

    def aws(self, name: str) -> AwsTarget | str:
        """The AWS target of ``name``, or why there is none."""
        if name not in self._made:
            declared = self._plan.target(name)
            if declared is None or self._gateway_of is None:
                self._made[name] = self._gateway.target
            else:
                try:
                    drs = self._gateway_of(declared)
                    self._opened.append(drs)
                    self._made[name] = drs.target
                except ValueError as exc:
                    self._made[name] = f"target {name!r} cannot be reached: {exc}"
        return self._made[name]

    def where(self, name: str) -> str:
        return f" in target {name!r}" if name else ""

    def close(self) -> None:
        for drs in self._opened:
            drs.close()


def _lookup(read: PatientReads, call: Callable[[], bool], operation: str) -> Lookup:
    try:
        return Lookup(Found.EXISTS if read(call, operation) else Found.MISSING)
    except DrsAccessDenied as exc:
        return Lookup(Found.DENIED, f"{exc.code or 'AccessDenied'}: {exc.message}")
    except DrsError as exc:
        return Lookup(Found.UNREAD, f"{exc.code or type(exc).__name__}: {exc.message}")


def _documents(
    uses: Sequence[StepUse], reach: _Reach, read: PatientReads, ssm_of: Callable[[AwsTarget], Any]
) -> list[Check]:
    needed: dict[tuple[str, str], list[StepUse]] = {}
    for use in uses:
        if isinstance(use.step, SsmStep):
            needed.setdefault((reach.target_of(use), use.step.document), []).append(use)
    items: list[tuple[str, Lookup, Sequence[StepUse]]] = []
    clients: dict[str, Any] = {}
    try:
        for (name, document), its in needed.items():
            where = reach.aws(name)
            if isinstance(where, str):
                lookup = Lookup(Found.UNREAD, where)
            else:
                client = clients.get(name) or clients.setdefault(name, ssm_of(where))
                lookup = _lookup(read, partial(client.document_exists, document), "DescribeDocument")
            items.append((f"SSM document {document!r}{reach.where(name)}", lookup, its))
    finally:
        for client in clients.values():
            client.close()
    return lookup_checks(SSM_DOCUMENTS, items, noun="SSM document")


def _functions(
    uses: Sequence[StepUse], target: AwsTarget, read: PatientReads, lambda_of: Callable[[AwsTarget], Any]
) -> list[Check]:
    needed: dict[str, list[StepUse]] = {}
    for use in uses:
        step = use.step
        if isinstance(step, LambdaStep):
            needed.setdefault(step.function, []).append(use)
        elif isinstance(step, HealthCheckStep) and step.reach is Reach.LAMBDA and step.via:
            needed.setdefault(step.via, []).append(use)
    if not needed:
        return []
    client = lambda_of(target)
    try:
        items = [
            (
                f"Lambda function {function!r}",
                _lookup(read, partial(client.function_exists, function), "GetFunctionConfiguration"),
                its,
            )
            for function, its in needed.items()
        ]
    finally:
        client.close()
    return lookup_checks(LAMBDA_FUNCTIONS, items, noun="Lambda function")


def _scripts(
    uses: Sequence[StepUse], service: ScriptTrustService
) -> tuple[list[Check], tuple[ScriptStep, ...]]:
    needed: dict[str, list[StepUse]] = {}
    for use in uses:
        if isinstance(use.step, ScriptStep):
            needed.setdefault(use.step.path, []).append(use)
    items: list[tuple[str, ScriptCheck | str, Sequence[StepUse]]] = []
    trustable: list[ScriptStep] = []
    for path, its in needed.items():
        try:
            look: ScriptCheck | str = service.status(path)
        except ScriptTrustError as exc:
            look = str(exc)
        if isinstance(look, ScriptCheck) and look.trustable and not look.runnable:
            step = its[0].step
            assert isinstance(step, ScriptStep)
            trustable.append(step)
        items.append((path, look, its))
    return script_checks(items), tuple(trustable)


def _via_online(
    uses: Sequence[StepUse], reach: _Reach, read: PatientReads, ssm_of: Callable[[AwsTarget], Any]
) -> dict[str, bool | str]:
    """Whether SSM sees each reach-ssm health check's ``via`` instance Online now (or why unknown)."""
    by_target: dict[str, set[str]] = {}
    for use in uses:
        step = use.step
        if isinstance(step, HealthCheckStep) and step.reach is Reach.SSM and step.via:
            by_target.setdefault(reach.target_of(use), set()).add(step.via)
    out: dict[str, bool | str] = {}
    for name, instances in by_target.items():
        where = reach.aws(name)
        if isinstance(where, str):
            out.update(dict.fromkeys(instances, where))
            continue
        client = ssm_of(where)
        try:
            online = read(partial(client.agent_online, sorted(instances)), "DescribeInstanceInformation")
            out.update({i: bool(online.get(i, False)) for i in instances})
        except DrsError as exc:
            out.update(dict.fromkeys(instances, f"{exc.code or type(exc).__name__}: {exc.message}"))
        finally:
            client.close()
    return out


def _public_ips(
    uses: Sequence[StepUse],
    configs: Mapping[str, LaunchConfigView | None],
    target: AwsTarget,
    read: PatientReads,
    ec2_of: Callable[[AwsTarget], Ec2Gateway],
) -> tuple[dict[str, bool | None], str]:
    """Per server of a reach-public health check, whether its template's default version associates a
    public IP; why the templates could not be read, if so. Nothing is read without such a check."""
    servers = {
        s
        for use in uses
        if isinstance(use.step, HealthCheckStep) and use.step.reach is Reach.PUBLIC
        for s in use.servers
    }
    templates = {
        s: config.ec2_launch_template_id
        for s in servers
        if (config := configs.get(s)) is not None and config.ec2_launch_template_id
    }
    if not templates:
        return {}, ""
    client = ec2_of(target)
    try:
        defaults = {v.template_id: v for v in read(client.default_versions, "DescribeLaunchTemplateVersions")}
    except DrsError as exc:
        return {}, f"{exc.code or type(exc).__name__}: {exc.message}"
    finally:
        client.close()
    return {
        s: (defaults[t].data.associate_public_ip if t in defaults else None) for s, t in templates.items()
    }, ""


def _endpoints(
    plan: RecoveryPlan,
    uses: Sequence[StepUse],
    target: AwsTarget,
    read: PatientReads,
    ec2_of: Callable[[AwsTarget], Ec2Gateway],
) -> list[Check]:
    """The ``vpc-endpoints`` check of each drill subnet, when a step reaches instances through SSM."""
    through_ssm = any(
        isinstance(u.step, SsmStep) or (isinstance(u.step, HealthCheckStep) and u.step.reach is Reach.SSM)
        for u in uses
    )
    profile = plan.drill_profile
    if not through_ssm or profile is None:
        return []
    client = ec2_of(target)
    checks: list[Check] = []
    try:
        subnets = read(partial(client.subnets, list(profile.subnets)), "DescribeSubnets")
        endpoints: dict[str, list[Any]] = {}
        for subnet in subnets:
            table = read(partial(client.route_table_of, subnet), "DescribeRouteTables")
            out = routes_out(table)
            missing: list[str] = []
            if not out:
                if subnet.vpc_id not in endpoints:
                    endpoints[subnet.vpc_id] = read(
                        partial(client.vpc_endpoints, vpc_id=subnet.vpc_id), "DescribeVpcEndpoints"
                    )
                missing = missing_endpoints(target.region, subnet.vpc_id, endpoints[subnet.vpc_id])
            checks.append(endpoint_check(subnet.subnet_id, subnet.vpc_id, out, missing))
    except DrsError as exc:
        message = (
            f"whether SSM reaches the drill subnet(s) {', '.join(profile.subnets)} could not be checked "
            f"({exc.code or type(exc).__name__}: {exc.message})"
        )
        return [Check(VPC_ENDPOINTS, CheckStatus.WARN, message)]
    finally:
        client.close()
    return checks
