"""Which target each server of a plan is in (plan format 2), and whether a target is the connected one.

A plan without ``targets`` has every server in the connected target, as in format 1. With one target,
that target is the default of every group and wave. With several there is no default: each protection
group and each wave's own server names its target (``target:`` on the group or the wave, or an
``{id, target}`` entry), because a guessed account in a disaster-recovery plan is found on the worst day.

Pure: no I/O. The engine's multi-target runs (issue 13) and the inventory per target build on these.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import TargetInventory, part_of_target
from drs_desktop.domain.plan.model import PlanTarget, ProtectionGroup, RecoveryPlan, Wave

__all__ = [
    "Connected",
    "default_target",
    "entry_target",
    "group_target",
    "placed_servers",
    "plan_inventories",
    "runs_across_targets",
    "target_matches",
    "unplaced",
    "used_target_names",
]


def default_target(plan: RecoveryPlan) -> str | None:
    """The target of a group or wave that names none: the only declared one, else None (none, or
    several: the connected target when none is declared, an error when several are)."""
    return plan.targets[0].name if len(plan.targets) == 1 else None


def group_target(plan: RecoveryPlan, group: ProtectionGroup) -> str | None:
    """The name of the target ``group`` is in (None: the connected target, or undecided)."""
    return group.target if group.target is not None else default_target(plan)


def entry_target(plan: RecoveryPlan, wave: Wave, server_id: str) -> str | None:
    """The name of the target of ``server_id`` listed in ``wave``'s own servers."""
    named = wave.server_targets.get(server_id)
    if named is not None:
        return named
    return wave.target if wave.target is not None else default_target(plan)


def placed_servers(plan: RecoveryPlan, wave_index: int) -> Iterator[tuple[str | None, str]]:
    """(target name, server ID) of every explicitly listed server of a wave: its groups' IDs, then its
    own servers (tag selectors are resolved against an inventory elsewhere)."""
    wave = plan.waves[wave_index]
    for name in wave.groups:
        group = plan.group(name)
        if group is not None:
            target = group_target(plan, group)
            for server_id in group.server_ids:
                yield target, server_id
    for server_id in wave.servers:
        yield entry_target(plan, wave, server_id), server_id


def used_target_names(plan: RecoveryPlan) -> tuple[str, ...]:
    """The declared targets that the waves' groups and servers are in, in declaration order."""
    used: set[str] = set()
    for index, wave in enumerate(plan.waves):
        for name in wave.groups:
            group = plan.group(name)
            if group is not None and group.tags is not None:
                target = group_target(plan, group)
                if target is not None:
                    used.add(target)
        used.update(target for target, _ in placed_servers(plan, index) if target is not None)
    return tuple(target.name for target in plan.targets if target.name in used)


def unplaced(plan: RecoveryPlan) -> list[str]:
    """What of a plan that declares targets is in no declared target (none named where several are
    declared, or a name the plan does not declare), as "group NAME" / "server ID in wave NAME". Such an
    entry would otherwise be resolved in whatever account is connected: a plan that declares no targets
    has nothing here (every server is in the connected target, as in format 1)."""
    if not plan.targets:
        return []
    declared = {target.name for target in plan.targets}
    found: list[str] = []
    for wave in plan.waves:
        for name in wave.groups:
            group = plan.group(name)
            if group is not None and group_target(plan, group) not in declared:
                found.append(f"group {name!r}")
        for server_id in wave.servers:
            if entry_target(plan, wave, server_id) not in declared:
                found.append(f"server {server_id} in wave {wave.name!r}")
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Connected:
    """The target a run or an inventory is connected to: ``account`` "" when it is not known yet."""

    account: str
    region: str
    profile: str = ""


def target_matches(target: PlanTarget, connected: Connected) -> bool:
    """Whether actions on the connected target land in ``target``: the same Region and, where the
    connected account is known, the same account; where it is not, a profile target must be reached
    through the same profile (a role target cannot be told apart then, so it does not match)."""
    if target.region != connected.region:
        return False
    if connected.account:
        return target.account == connected.account
    return bool(target.profile) and not target.role_arn and target.profile == connected.profile


def runs_across_targets(plan: RecoveryPlan, connected: Connected) -> bool:
    """Whether a run of ``plan`` goes through the engine's targets (``engine.accounts``): it declares
    targets and uses one that is not the connected target. A plan whose only target in use is the
    connected one runs there as a plan without targets does."""
    if not plan.targets:
        return False
    used = [target for name in used_target_names(plan) if (target := plan.target(name)) is not None]
    return any(not target_matches(target, connected) for target in used)


def plan_inventories(plan: RecoveryPlan | None, parts: Sequence[TargetInventory]) -> dict[str, Inventory]:
    """Plan target name -> the cached inventory of that account and Region (the targets the parts hold)."""
    found: dict[str, Inventory] = {}
    for target in plan.targets if plan is not None else ():
        part = part_of_target(parts, target)
        if part is not None and part.inventory is not None:
            found[target.name] = part.inventory
    return found
