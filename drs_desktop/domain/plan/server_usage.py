"""Which protection groups and plans use each source server: the Servers table's "Used by" column.

An operator about to retire, re-tag or stop replicating a server needs to know which recovery plans
would lose it. Computed from the plans' latest revisions and the inventory (tag selectors are resolved
against it, as a run would resolve them), so a tag change shows up in the column after a refresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import resolve_group

__all__ = ["ServerUsage", "usage_by_server"]


class ServerUsage(NamedTuple):
    """The protection groups (by name) and plans (by name) that include one server, each sorted."""

    groups: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for a table cell: ``Plan A, Plan B (groups: db, web)``; "" when unused."""
        if not self.plans:
            return ""
        text = ", ".join(self.plans)
        if self.groups:
            text += f" (groups: {', '.join(self.groups)})"
        return text


def usage_by_server(plans: Iterable[RecoveryPlan], inventory: Inventory | None) -> dict[str, ServerUsage]:
    """Server ID -> the groups and plans that use it. A server counts for a plan when one of the plan's
    waves holds it, directly or through a group; a group counts when it holds the server and some wave of
    its plan uses the group. Groups no wave uses are left out: they launch nothing."""
    groups: dict[str, set[str]] = {}
    users: dict[str, set[str]] = {}
    for plan in plans:
        for wave in plan.waves:
            for name in wave.groups:
                group = plan.group(name)
                if group is None:
                    continue
                for server_id in resolve_group(group, inventory):
                    groups.setdefault(server_id, set()).add(group.name)
                    users.setdefault(server_id, set()).add(plan.name)
            for server_id in wave.servers:
                users.setdefault(server_id, set()).add(plan.name)
    return {
        server_id: ServerUsage(
            groups=tuple(sorted(groups.get(server_id, ()), key=str.casefold)),
            plans=tuple(sorted(names, key=str.casefold)),
        )
        for server_id, names in users.items()
    }
