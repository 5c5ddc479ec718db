"""Every target's part of the inventory: whose servers, as of when, and whether its last refresh failed.

The Servers pane shows the servers of every target (the connected one first, then the settings' list),
each row named by its target, and says for each target how old its data is and, when its refresh
failed, why: one unreachable account must neither hide the others nor pass its cache off as fresh.

Pure: the inventory service builds these on its task thread, the pane shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan_target import PlanTarget
from drs_desktop.domain.targets import Target

__all__ = [
    "TargetInventory",
    "age_text",
    "connected_part",
    "part_of_target",
    "part_place",
]


@dataclass(frozen=True)
class TargetInventory:
    """One target's servers. ``inventory`` is what is known (a refresh's, or the cache's; None when it
    was never read); ``error`` is why the last refresh of it failed ("" when it did not, or none ran);
    ``connected`` marks the target the settings connect to (the one plans without targets use).
    ``declaration`` is the target as a plan declares it (the plan editor adds it to a plan that gets one
    of its servers): a listed target's own, the connected target's built from the connection settings
    (``target_list.connected_plan_target``); None when it cannot be declared (typed keys, account unknown)."""

    name: str
    target: Target
    inventory: Inventory | None = None
    error: str = ""
    connected: bool = False
    declaration: PlanTarget | None = None

    @property
    def label(self) -> str:
        """ "staging-01 (200000000001 · us-east-1)": the target named, with where it is."""
        account = (self.inventory.account_id if self.inventory else "") or self.target.account
        region = (self.inventory.region if self.inventory else "") or self.target.region
        where = " · ".join(part for part in (account or "account ?", region or "region ?"))
        return f"{self.name} ({where})"

    def age(self, now: datetime) -> str:
        """ "as of 12 min ago", or "never read" (see ``age_text``)."""
        return age_text(self.inventory.fetched_at if self.inventory else None, now)


def age_text(fetched_at: datetime | None, now: datetime) -> str:
    """How old a read is, for people: "as of 12 min ago", "as of just now", "never read"."""
    if fetched_at is None:
        return "never read"
    seconds = (now - fetched_at).total_seconds()
    if seconds < 60:
        return "as of just now"
    return f"as of {format_duration(seconds)} ago"


def connected_part(parts: tuple[TargetInventory, ...]) -> TargetInventory | None:
    return next((part for part in parts if part.connected), None)


def part_place(part: TargetInventory) -> tuple[str, str]:
    """(account, Region) of a part: its plan declaration's, else what its inventory or badge says."""
    if part.declaration is not None:
        return part.declaration.account, part.declaration.region
    inventory = part.inventory
    account = (inventory.account_id if inventory else "") or part.target.account
    region = (inventory.region if inventory else "") or part.target.region
    return account, region


def part_of_target(parts: Sequence[TargetInventory], target: PlanTarget | None) -> TargetInventory | None:
    """The part a plan's target is (same account and Region); None: the connected part."""
    if target is None:
        return connected_part(tuple(parts))
    return next((part for part in parts if part_place(part) == (target.account, target.region)), None)
