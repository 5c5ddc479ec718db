"""Preflight of a plan's automation steps (issue 17 item 3): what each step needs, judged from what was read.

A step fails on the worst day for reasons visible beforehand: an SSM document or Lambda function that is
not there (or that the caller may not use), a local script this desktop does not trust, an instance with
no SSM agent, a health check whose address the desktop cannot reach, a drill subnet with no way to SSM.
``services.preflight_automation`` reads (SSM, Lambda, EC2, the script files); these pure rules turn
what it found into ``Check``s. Only the steps that run in this mode (``runs_in``) are checked.

Severity: FAIL when the step would fail as things stand (no such document or function, access denied, a
script that may not run, no SSM endpoint in a drill VPC without a route out); WARN when it may fail or
wait (an agent DRS may not install, an address the desktop may not reach, a read that could not be made).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.ec2 import RouteTableView, RouteTargetKind, VpcEndpointView
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.automation import (
    AUTOMATION_STEPS,
    AutomationStep,
    HealthCheckStep,
    Reach,
    SsmStep,
    runs_in,
)
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.preflight.rules import Check, CheckStatus
from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.domain.script_trust import ScriptCheck, TrustStatus

__all__ = [
    "HEALTH_REACH",
    "LAMBDA_FUNCTIONS",
    "SCRIPTS",
    "SSM_AGENT",
    "SSM_DOCUMENTS",
    "SSM_ENDPOINT_SERVICES",
    "VPC_ENDPOINTS",
    "Found",
    "Lookup",
    "StepUse",
    "agent_checks",
    "endpoint_check",
    "lookup_checks",
    "missing_endpoints",
    "reach_checks",
    "routes_out",
    "script_checks",
    "steps_in_mode",
]

# Check names: stable identifiers for --json and the GUI.
SSM_DOCUMENTS = "ssm-documents"
LAMBDA_FUNCTIONS = "lambda-functions"
SCRIPTS = "scripts"
SSM_AGENT = "ssm-agent"
HEALTH_REACH = "health-check-reach"
VPC_ENDPOINTS = "vpc-endpoints"

#: The interface endpoints an instance's SSM agent needs in a VPC without a route out (AWS's SSM guide).
SSM_ENDPOINT_SERVICES = ("ssm", "ssmmessages", "ec2messages")
_SHOWN = 5


def _few(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


@dataclass(frozen=True)
class StepUse:
    """An automation step of the plan that runs in this mode: its wave, phase, and the source servers it
    acts on (as ``engine.automation.step_targets`` will: the named servers, else the wave's after its
    launch, else those of the waves it depends on)."""

    wave: str
    phase: str  # "before" | "after"
    step: AutomationStep
    servers: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"step {terminal_safe(self.step.name)!r} ({self.phase} wave {terminal_safe(self.wave)!r})"


def steps_in_mode(plan: RecoveryPlan, wave_servers: Mapping[str, Sequence[str]], mode: Mode) -> list[StepUse]:
    """Every automation step that runs in ``mode``, in plan order."""
    uses: list[StepUse] = []
    recovery = mode is Mode.RECOVERY
    for index, wave in enumerate(plan.waves):
        own = tuple(wave_servers.get(wave.name, ()))
        before = tuple(s for name in plan.dependencies(index) for s in wave_servers.get(name, ()))
        for phase, steps, default in (("before", wave.before, before), ("after", wave.after, own)):
            for step in steps:
                if isinstance(step, AUTOMATION_STEPS) and runs_in(step, recovery):
                    named = tuple(getattr(step, "servers", ()))
                    uses.append(StepUse(wave.name, phase, step, named or tuple(dict.fromkeys(default))))
    return uses


# -- SSM documents and Lambda functions


class Found(StrEnum):
    EXISTS = "exists"
    MISSING = "missing"  # not there, or not visible to the caller
    DENIED = "denied"  # the caller may not use it (the step would be refused the same way)
    UNREAD = "unread"  # the read failed for another reason (throttled past the budget, unreachable)


@dataclass(frozen=True)
class Lookup:
    """What one read (DescribeDocument, GetFunctionConfiguration) found, and why when it did not."""

    found: Found
    detail: str = ""


def lookup_checks(
    name: str, items: Sequence[tuple[str, Lookup, Sequence[StepUse]]], *, noun: str
) -> list[Check]:
    """One check per thing that is not usable (``noun`` "SSM document 'X' in ..."), naming the steps that
    need it; one PASS for the rest. ``items``: (what, what was found, the steps that use it)."""
    checks: list[Check] = []
    fine = 0
    for what, lookup, uses in items:
        steps = "; ".join(u.label for u in uses[:3]) + (f" and {len(uses) - 3} more" if len(uses) > 3 else "")
        wave = uses[0].wave if uses else None
        detail = terminal_safe(lookup.detail)
        if lookup.found is Found.EXISTS:
            fine += 1
        elif lookup.found is Found.MISSING:
            message = f"{what} does not exist, or the caller cannot see it: {steps} would fail"
            checks.append(Check(name, CheckStatus.FAIL, message, wave=wave))
        elif lookup.found is Found.DENIED:
            message = f"{what} may not be used by the caller ({detail}): {steps} would be refused"
            checks.append(Check(name, CheckStatus.FAIL, message, wave=wave))
        else:
            message = f"{what} could not be checked ({detail}): {steps} may fail"
            checks.append(Check(name, CheckStatus.WARN, message, wave=wave))
    if fine:
        checks.insert(0, Check(name, CheckStatus.PASS, f"{fine} {noun}(s) exist and may be used"))
    return checks


# -- local scripts


def script_checks(items: Sequence[tuple[str, ScriptCheck | str, Sequence[StepUse]]]) -> list[Check]:
    """FAIL for each script that would not run (untrusted, changed, missing, not executable, or a path no
    trust can name: the ``str`` is why); one PASS for the trusted ones."""
    checks: list[Check] = []
    fine = 0
    for path, look, uses in items:
        steps = "; ".join(u.label for u in uses[:3]) + (f" and {len(uses) - 3} more" if len(uses) > 3 else "")
        wave = uses[0].wave if uses else None
        shown = terminal_safe(path)
        if isinstance(look, str):
            message = f"script {shown}: {terminal_safe(look)}: {steps} would not run"
        elif look.status is TrustStatus.TRUSTED:
            fine += 1
            continue
        else:
            why = {
                TrustStatus.UNTRUSTED: "is not trusted on this desktop",
                TrustStatus.CHANGED: "changed since it was trusted",
                TrustStatus.MISSING: "does not exist",
                TrustStatus.NOT_EXECUTABLE: "is not executable",
            }[look.status]
            detail = f" ({terminal_safe(look.detail)})" if look.detail else ""
            fix = ": trust it (Trust… or drs-desktop scripts trust)" if look.trustable else ""
            message = f"script {shown} {why}{detail}; {steps} would not run{fix}"
        checks.append(Check(SCRIPTS, CheckStatus.FAIL, message, wave=wave))
    if fine:
        checks.insert(
            0, Check(SCRIPTS, CheckStatus.PASS, f"{fine} script(s) trusted on this desktop as they are")
        )
    return checks


# -- the SSM agent


def agent_checks(
    uses: Sequence[StepUse],
    configs: Mapping[str, LaunchConfigView | None],
    via_online: Mapping[str, bool | str],
) -> list[Check]:
    """WARN per SSM step whose servers' launch configuration does not enable post-launch actions (DRS
    installs the SSM agent on a recovered instance through them), and per reach-ssm health check whose
    ``via`` instance's agent is not online now (``via_online``: Online, or why it could not be read).
    Servers whose configuration was not read are the ``launch-config`` check's to report."""
    checks: list[Check] = []
    counted = 0
    for use in uses:
        step = use.step
        if isinstance(step, SsmStep):
            counted += 1
            without = [
                s
                for s in use.servers
                if (config := configs.get(s)) is not None and config.post_launch_enabled is not True
            ]
            if without:
                message = (
                    f"{use.label}: the launch configuration of {_few(without)} does not enable post-launch "
                    "actions, through which DRS installs the SSM agent: the SSM agent may not be on the "
                    "recovered instance: SendCommand will wait for it until the step's timeout "
                    f"({step.policy.timeout_seconds} s)"
                )
                checks.append(Check(SSM_AGENT, CheckStatus.WARN, message, wave=use.wave))
        elif isinstance(step, HealthCheckStep) and step.reach is Reach.SSM and step.via:
            counted += 1
            online = via_online.get(step.via)
            if online is True:
                continue
            why = (
                "is not online in SSM now (DescribeInstanceInformation)"
                if online is False or online is None
                else f"could not be read ({terminal_safe(online)})"
            )
            message = f"{use.label}: the SSM agent of {terminal_safe(step.via)}, which probes, {why}"
            checks.append(Check(SSM_AGENT, CheckStatus.WARN, message, wave=use.wave))
    if counted and not checks:
        message = f"the instances of {counted} step(s) through SSM are expected to run the SSM agent"
        checks.append(Check(SSM_AGENT, CheckStatus.PASS, message))
    return checks


# -- where a health check probes from


def reach_checks(
    uses: Sequence[StepUse],
    *,
    isolated_drill: bool,
    public_ip: Mapping[str, bool | None],
    public_unread: str = "",
) -> list[Check]:
    """Health checks the desktop may not be able to reach. ``isolated_drill``: a DRILL of a plan with a drill
    profile (the desktop usually has no route into the drill subnet); ``public_ip``: per server, whether
    its launch template's default version associates a public IP (True/False/None: not said, the subnet
    decides), absent when it has no template; ``public_unread``: why the templates could not be read."""
    checks: list[Check] = []
    counted = 0
    for use in uses:
        step = use.step
        if not isinstance(step, HealthCheckStep):
            continue
        counted += 1
        if step.reach is Reach.PRIVATE and isolated_drill:
            message = (
                f"{use.label} probes the private address from this desktop during a drill into the plan's "
                "drill network, which this desktop usually has no route into: probe with reach lambda "
                "(a function in the drill VPC) or ssm (an instance there)"
            )
            checks.append(Check(HEALTH_REACH, CheckStatus.WARN, message, wave=use.wave))
        elif step.reach is Reach.PUBLIC:
            if public_unread:
                message = (
                    f"{use.label} probes the public address, but the launch templates could not be read "
                    f"({terminal_safe(public_unread)}): whether the instances get one is not known"
                )
                checks.append(Check(HEALTH_REACH, CheckStatus.WARN, message, wave=use.wave))
                continue
            without = [s for s in use.servers if s in public_ip and public_ip[s] is not True]
            if without:
                message = (
                    f"{use.label} probes the public address, but the launch template of {_few(without)} "
                    "does not associate a public IP (unless the subnet maps one on launch, the recovered "
                    "instance has none to probe)"
                )
                checks.append(Check(HEALTH_REACH, CheckStatus.WARN, message, wave=use.wave))
    if counted and not checks:
        message = f"{counted} health check(s): the addresses they probe are expected to be reachable"
        checks.append(Check(HEALTH_REACH, CheckStatus.PASS, message))
    return checks


# -- VPC endpoints of a drill subnet without a route out


def routes_out(table: RouteTableView | None) -> list[str]:
    """The active internet or NAT gateway routes of ``table`` (their target IDs): a way to SSM's public
    endpoints. None (no table found) has none."""
    if table is None:
        return []
    kinds = (RouteTargetKind.INTERNET_GATEWAY, RouteTargetKind.NAT_GATEWAY)
    return [r.target_id for r in table.routes if r.active and r.target_kind in kinds]


def missing_endpoints(region: str, vpc_id: str, endpoints: Sequence[VpcEndpointView]) -> list[str]:
    """The service names of ``SSM_ENDPOINT_SERVICES`` with no available interface endpoint in ``vpc_id``."""
    have = {
        e.service_name
        for e in endpoints
        if e.vpc_id == vpc_id and e.available and e.endpoint_type.lower() in ("interface", "")
    }
    wanted = [f"com.amazonaws.{region}.{service}" for service in SSM_ENDPOINT_SERVICES]
    return [name for name in wanted if name not in have]


def endpoint_check(subnet_id: str, vpc_id: str, out: Sequence[str], missing: Sequence[str]) -> Check:
    """The ``vpc-endpoints`` check of one drill subnet whose instances an SSM step (or a reach-ssm probe)
    needs: PASS with a route out or every endpoint; else FAIL naming the missing ones."""
    if out:
        message = f"drill subnet {subnet_id} routes out ({', '.join(out)}): SSM is reached through it"
        return Check(VPC_ENDPOINTS, CheckStatus.PASS, message)
    if not missing:
        message = f"drill subnet {subnet_id} has no route out; {vpc_id} has the VPC endpoints SSM needs"
        return Check(VPC_ENDPOINTS, CheckStatus.PASS, message)
    message = (
        f"drill subnet {subnet_id} has no route out (no internet or NAT gateway route) and {vpc_id} lacks "
        f"the VPC endpoint(s) {', '.join(missing)}: the SSM agent of a recovered instance cannot reach SSM, "
        "so the drill's SSM steps would wait until their timeout; create the interface endpoints"
    )
    return Check(VPC_ENDPOINTS, CheckStatus.FAIL, message)
