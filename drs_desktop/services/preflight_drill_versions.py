"""Every preflight looks for launch templates whose default version is a drill version (issue 16 item 4).

A drill into a plan's drill network makes a drill version of each server's launch template the default
while its wave launches, and sets the production version back after (``engine.drill_net``). DRS launches
from the default version, so while a drill version is the default (a drill under way, or one a crash or a
kill left behind), a RECOVERY of that server would launch into the drill network, and a new drill would
take the drill version for production. The preflight of every run reads the default version of each
server's template (one paged listing) and FAILs when one is a drill version, naming the servers and the
command that restores them (``drs-desktop launch-settings restore``, from EC2 alone, on any desktop).
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping, Sequence

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.ec2 import parse_drill_description
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.preflight.rules import Check, CheckStatus
from drs_desktop.services.patient_reads import PatientReads

logger = logging.getLogger(__name__)

DRILL_VERSIONS = "drill-versions"


def drill_version_checks(
    plan_name: str,
    mode: Mode,
    server_ids: Sequence[str],
    configs: Mapping[str, LaunchConfigView | None],
    gateway: DrsGateway,
    read: PatientReads,
    *,
    ec2: Ec2Gateway | None = None,
) -> list[Check]:
    """FAIL when a server's launch template has a drill version as its default; nothing when no server
    names a template. A failed read of EC2 is a warning (it must not stop a recovery on its own)."""
    templates = {
        s: config.ec2_launch_template_id
        for s in server_ids
        if (config := configs.get(s)) is not None and config.ec2_launch_template_id
    }
    if not templates:
        return []
    own = ec2 is None
    client = ec2 or Ec2Gateway(gateway.target)
    try:
        defaults = {v.template_id: v for v in read(client.default_versions, "DescribeLaunchTemplateVersions")}
    except DrsError as exc:
        return [
            Check(
                DRILL_VERSIONS,
                CheckStatus.WARN,
                f"the launch templates' default versions could not be read ({exc}): a template a drill left "
                "pointed at its drill network would not be seen",
            )
        ]
    finally:
        if own:
            client.close()
    pointed = []
    for server_id, template_id in templates.items():
        version = defaults.get(template_id)
        if version is not None and version.is_drill_version:
            drill = parse_drill_description(version.description)
            run = f", drill {drill[0][:8]}" if drill is not None else ""
            pointed.append(f"{server_id} ({template_id} v{version.version}{run})")
    if not pointed:
        return []
    shown = ", ".join(pointed[:5]) + (f" and {len(pointed) - 5} more" if len(pointed) > 5 else "")
    why = (
        "a recovery would launch them into the drill network"
        if mode is Mode.RECOVERY
        else "a drill would take the drill version for production"
    )
    logger.warning("preflight of %r: %d template(s) pointed at a drill network", plan_name, len(pointed))
    return [
        Check(
            DRILL_VERSIONS,
            CheckStatus.FAIL,
            f"{len(pointed)} server(s) launch from a drill version of their launch template: {shown}; {why}. "
            f"Restore them first: drs-desktop launch-settings restore --plan {shlex.quote(plan_name)} (if "
            "no drill of this plan is running)",
        )
    ]
