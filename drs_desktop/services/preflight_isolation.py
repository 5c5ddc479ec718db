"""The isolation check of a drill's network, in the preflight of a drill whose plan has a drill profile.

``domain.launch.isolation`` says what isolated means; this reads EC2's records of the account (subnets,
VPCs, route tables, network ACLs, security groups, and the managed prefix lists the drill subnets' routes
and the profile's groups name) and turns every finding into a preflight check named
``isolation``. A way out of the drill network FAILs the preflight, which blocks the drill, unless the
operator overrides it with a reason (``RunRequest.isolation_override``): then each such finding is a
WARNing that names the reason, and the reason is kept with the execution and in its evidence. A RECOVERY
never uses the drill profile, so it is not checked.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.ec2 import PrefixListView
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.launch.isolation import isolation_findings, referenced_prefix_lists
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.preflight.rules import DRILL_NETWORK, ISOLATION, Check, CheckStatus
from drs_desktop.services.patient_reads import PatientReads

logger = logging.getLogger(__name__)

#: The key of an execution's options that keeps an isolation override's reason (and its evidence).
ISOLATION_OVERRIDE_KEY = "isolation_override"


def isolation_checks(
    plan: RecoveryPlan,
    mode: Mode,
    gateway: DrsGateway,
    read: PatientReads,
    *,
    override: str = "",
    ec2: Ec2Gateway | None = None,
) -> list[Check]:
    """The ``isolation`` checks of a drill of ``plan`` (none for a recovery, or a plan with no profile).
    ``ec2`` defaults to a gateway on ``gateway``'s target, closed after the reads."""
    profile = plan.drill_profile
    if mode is not Mode.DRILL or profile is None:
        return []
    reason = override.strip()
    own = ec2 is None
    client = ec2 or Ec2Gateway(gateway.target)
    try:
        subnets = read(client.subnets, "DescribeSubnets")
        vpcs = read(client.vpcs, "DescribeVpcs")
        tables = read(client.route_tables, "DescribeRouteTables")
        acls = read(client.network_acls, "DescribeNetworkAcls")
        groups = read(client.security_groups, "DescribeSecurityGroups")
        lists, unreadable = _prefix_lists(
            client, read, referenced_prefix_lists(profile, subnets, tables, groups)
        )
    except DrsError as exc:
        return [_failed(f"the drill network's isolation could not be checked: {exc}", reason)]
    finally:
        if own:
            client.close()
    findings = isolation_findings(
        profile, subnets, tables, acls, groups, vpcs=vpcs, prefix_lists=lists, unreadable=unreadable
    )
    if not findings:
        where = ", ".join(profile.subnets)
        away = ", ".join(profile.production_cidrs)
        through = f" (prefix lists read: {', '.join(lists)})" if lists else ""
        return [
            Check(
                ISOLATION,
                CheckStatus.PASS,
                f"drill subnet(s) {where}: no VPC CIDR block, route, ACL or group reaches {away}{through}",
            )
        ]
    checks = [
        _failed(f.message, reason) if f.error else Check(ISOLATION, CheckStatus.WARN, f.message)
        for f in findings
    ]
    logger.info(
        "isolation check of %r: %d finding(s), overridden: %s", plan.name, len(findings), bool(reason)
    )
    return checks


def _prefix_lists(
    client: Ec2Gateway, read: PatientReads, ids: Sequence[str]
) -> tuple[dict[str, PrefixListView], dict[str, str]]:
    """The prefix lists of ``ids`` read (each on its own, so one EC2 will not show fails that one only),
    and why each of the others could not be: the check fails on those, naming the reason."""
    found: dict[str, PrefixListView] = {}
    unreadable: dict[str, str] = {}
    for prefix_list_id in ids:
        try:
            found[prefix_list_id] = read(
                functools.partial(client.prefix_list, prefix_list_id), "GetManagedPrefixListEntries"
            )
        except DrsError as exc:
            unreadable[prefix_list_id] = f"{exc.code or type(exc).__name__}: {exc.message}"
            logger.info("prefix list %s could not be read: %s", prefix_list_id, exc.code)
    return found, unreadable


def _failed(message: str, reason: str) -> Check:
    if reason:
        return Check(ISOLATION, CheckStatus.WARN, f"{message} (overridden: {reason})")
    return Check(
        ISOLATION,
        CheckStatus.FAIL,
        f"{message}; fix the network, or override with a reason (it goes into the evidence)",
    )


def drill_template_checks(
    plan: RecoveryPlan,
    mode: Mode,
    server_ids: Sequence[str],
    configs: Mapping[str, LaunchConfigView | None],
    *,
    in_drs: bool = False,
    unread: Mapping[str, str] | None = None,
) -> list[Check]:
    """A drill of a plan with a drill profile points every server's launch template at the drill network
    before it launches (``engine.drill_net``): a server whose DRS launch configuration names no template
    cannot be pointed, and would not be launched. None for a recovery or a plan without a profile.
    A server whose launch configuration could not be read (``unread``: why) is not said to have no
    template: the check says it could not be read, and why, and fails all the same (nothing is known).
    ``in_drs``: a run in DRS, where nothing points the templates (DRS starts the jobs): it would launch
    into the production network, so it fails."""
    profile = plan.drill_profile
    if mode is not Mode.DRILL or profile is None or not profile.subnets:
        return []
    if in_drs:
        message = (
            "a run in DRS launches from the launch templates as they are, not into the plan's drill "
            "network: run this drill on the desktop, or drill without the profile"
        )
        return [Check(DRILL_NETWORK, CheckStatus.FAIL, message)]
    why = unread or {}
    not_read = [s for s in server_ids if s in why]
    without = [s for s in server_ids if s in configs and s not in why and not _template_of(configs[s])]
    problems = []
    if not_read:
        shown = "; ".join(f"{s}: {why[s]}" for s in not_read[:5])
        more = f" and {len(not_read) - 5} more" if len(not_read) > 5 else ""
        problems.append(
            f"{len(not_read)} server(s)' launch configuration could not be read, so their launch template "
            f"is not known and cannot be pointed at the drill network: {shown}{more}"
        )
    if without:
        shown = ", ".join(without[:5]) + (f" and {len(without) - 5} more" if len(without) > 5 else "")
        problems.append(
            f"{len(without)} server(s) have no launch template to point at the drill network: {shown}"
        )
    if problems:
        return [Check(DRILL_NETWORK, CheckStatus.FAIL, "; ".join(problems))]
    subnet = profile.subnets[0]
    return [
        Check(
            DRILL_NETWORK,
            CheckStatus.PASS,
            f"each server's launch template is pointed at {subnet} before it launches and restored after",
        )
    ]


def _template_of(config: LaunchConfigView | None) -> str:
    return config.ec2_launch_template_id if config is not None else ""
