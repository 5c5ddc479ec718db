"""The preview of a plan's desired launch settings: every server's desired values, diff and problems.

The plan knows which servers it holds and which protection group each is in; ``domain.launch`` knows
how the layers resolve and what would change. This joins them: the servers of the plan's waves, in wave
order, each resolved through its group's settings and the plan's, then diffed against what DRS and EC2
hold now. Pure: the caller passes what it read (the inventory, launch configurations, the default
template versions, the subnets' CIDRs), so the same preview serves the CLI, the GUI and an apply that
checks again just before it writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.launch.current import LaunchConfigLike, ServerFacts, TemplateValues
from drs_desktop.domain.launch.diff import Destination, ServerLaunchPlan, plan_server
from drs_desktop.domain.launch.resolve import resolve
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan
from drs_desktop.domain.plan.validation import resolve_group, resolve_wave_servers


@dataclass(frozen=True)
class LaunchPreview:
    """Every previewed server, in wave order, and the plan's servers that could not be previewed."""

    servers: tuple[ServerLaunchPlan, ...] = ()
    unknown: tuple[str, ...] = ()
    """Servers of the plan missing from the facts given (not in the inventory read)."""

    @property
    def changed(self) -> tuple[ServerLaunchPlan, ...]:
        return tuple(server for server in self.servers if server.changed)

    @property
    def blocked(self) -> tuple[ServerLaunchPlan, ...]:
        return tuple(server for server in self.servers if server.blocked)

    @property
    def applicable(self) -> tuple[ServerLaunchPlan, ...]:
        """Servers with something to apply and nothing blocking them."""
        return tuple(s for s in self.servers if s.drs is not None or s.template is not None)

    def calls(self) -> dict[Destination, int]:
        """How many writes an apply makes: one UpdateLaunchConfiguration, one template version each."""
        applicable = self.applicable
        return {
            Destination.DRS: sum(1 for s in applicable if s.drs is not None),
            Destination.TEMPLATE: sum(1 for s in applicable if s.template is not None),
        }


def plan_servers(plan: RecoveryPlan, inventory: Inventory | None) -> list[tuple[str, ProtectionGroup | None]]:
    """The plan's servers in wave order, each once, with the protection group it is in (None: none).

    A server's group is the first of the plan's groups holding it (a server in two groups is a
    validation error); a server a wave lists by itself may still be in a group, whose settings apply.
    """
    group_of: dict[str, ProtectionGroup] = {}
    for group in plan.protection_groups:
        for server_id in resolve_group(group, inventory):
            group_of.setdefault(server_id, group)
    seen: dict[str, ProtectionGroup | None] = {}
    for index in range(len(plan.waves)):
        for server_id in resolve_wave_servers(plan, index, inventory):
            if server_id not in seen:
                seen[server_id] = group_of.get(server_id)
    return list(seen.items())


def preview_launch_settings(
    plan: RecoveryPlan,
    servers: Iterable[ServerFacts],
    configs: Mapping[str, LaunchConfigLike],
    templates: Mapping[str, TemplateValues],
    subnet_cidrs: Mapping[str, str] | None = None,
    inventory: Inventory | None = None,
) -> LaunchPreview:
    """The preview of every server of ``plan`` found in ``servers``.

    ``configs`` and ``templates`` are keyed by source server ID; a server missing from them has an
    error when a field of that kind is desired. ``inventory`` resolves tag groups (None: only explicit
    IDs are the plan's servers).
    """
    facts = {server.source_server_id: server for server in servers}
    previews: list[ServerLaunchPlan] = []
    unknown: list[str] = []
    for server_id, group in plan_servers(plan, inventory):
        server = facts.get(server_id)
        if server is None:
            unknown.append(server_id)
            continue
        resolved = resolve(
            server,
            plan.launch_settings,
            group.launch_settings if group is not None else None,
            group.name if group is not None else "",
        )
        previews.append(
            plan_server(server, resolved, configs.get(server_id), templates.get(server_id), subnet_cidrs)
        )
    return LaunchPreview(servers=tuple(previews), unknown=tuple(unknown))
