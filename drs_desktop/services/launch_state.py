"""What DRS and EC2 hold now for a plan's servers' launch settings, and the preview of the desired state.

The preview (``domain.plan.launch_preview``) is pure: this reads what it compares against. For each
server: its DRS launch configuration (GetLaunchConfiguration, several readers at a time, as preflight
reads them), the default version of the EC2 launch template the configuration names (one paged
DescribeLaunchTemplateVersions of every template's ``$Default``, not a call per server), and the CIDR of
every subnet (DescribeSubnets), which the subnet mapping and the copy-private-IP check need. Nothing is
written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.ec2 import LaunchTemplateVersionView
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.launch.current import ServerFacts, TemplateValues
from drs_desktop.domain.plan.launch_preview import LaunchPreview, plan_servers, preview_launch_settings
from drs_desktop.domain.plan.revisions import StoredPlan
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.preflight import launch_configurations

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchState:
    """The launch settings DRS and EC2 hold now, keyed by source server ID, and when they were read."""

    configs: Mapping[str, LaunchConfigView] = field(default_factory=dict)
    templates: Mapping[str, TemplateValues] = field(default_factory=dict)
    subnet_cidrs: Mapping[str, str] = field(default_factory=dict)
    read_at: datetime | None = None
    #: Servers whose template DRS names but EC2 does not list (deleted, or another Region's).
    missing_templates: tuple[str, ...] = ()
    #: Servers whose template's default version is a drill version (``engine.drill_net``): what it says.
    drill_versions: Mapping[str, str] = field(default_factory=dict)


def template_values(version: LaunchTemplateVersionView) -> TemplateValues:
    data = version.data
    return TemplateValues(
        template_id=version.template_id,
        version=version.version,
        subnet_id=data.subnet_id or "",
        security_group_ids=tuple(data.security_group_ids),
        instance_type=data.instance_type or "",
        tags=dict(data.instance_tags),
        private_ip=data.private_ip or "",
        other_interfaces=data.other_interfaces,
    )


def read_launch_state(
    drs: DrsGateway,
    ec2: Ec2Gateway,
    server_ids: Sequence[str],
    *,
    read: PatientReads | None = None,
    now: datetime | None = None,
) -> LaunchState:
    """The launch configuration and default template version of each of ``server_ids``, and the
    account's subnets' CIDRs. A server DRS has no configuration for is left out (the preview says what
    cannot be compared)."""
    reads = read or PatientReads()
    found = launch_configurations(drs, list(server_ids), reads)
    configs = {sid: config for sid, config in found.items() if config is not None}
    defaults = {v.template_id: v for v in reads(ec2.default_versions, "DescribeLaunchTemplateVersions")}
    templates: dict[str, TemplateValues] = {}
    missing: list[str] = []
    drill: dict[str, str] = {}
    for server_id, config in configs.items():
        version = defaults.get(config.ec2_launch_template_id)
        if version is None:
            missing.append(server_id)
            continue
        templates[server_id] = template_values(version)
        if version.is_drill_version:
            drill[server_id] = f"{version.template_id} v{version.version}: {version.description}"
    subnets = reads(ec2.subnets, "DescribeSubnets")
    cidrs = {subnet.subnet_id: subnet.cidr for subnet in subnets}
    logger.info(
        "launch state of %d server(s): %d configuration(s), %d template(s), %d subnet(s)",
        len(server_ids),
        len(configs),
        len(templates),
        len(cidrs),
    )
    return LaunchState(configs, templates, cidrs, now, tuple(missing), drill)


def preview_plan(
    stored: StoredPlan,
    inventory: Inventory,
    drs: DrsGateway,
    ec2: Ec2Gateway,
    *,
    read: PatientReads | None = None,
    now: datetime | None = None,
) -> tuple[LaunchPreview, LaunchState]:
    """The preview of ``stored``'s desired launch settings against what DRS and EC2 hold now."""
    plan = stored.plan
    ids = [server_id for server_id, _ in plan_servers(plan, inventory)]
    state = read_launch_state(drs, ec2, ids, read=read, now=now)
    facts = [ServerFacts.of(server) for server in inventory.servers]
    preview = preview_launch_settings(
        plan, facts, state.configs, state.templates, state.subnet_cidrs, inventory
    )
    return preview, state
