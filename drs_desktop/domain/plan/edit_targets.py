"""Edits that put servers and protection groups of several targets into one plan (plan format 2).

The plan editor's inventory lists every target's servers (the connected one and the settings' list);
dropping a server of another target than the plan's default adds it *with its target*. These functions
do that on top of ``domain.plan.edit`` (same conventions: pure, ``PlanEditError`` with one sentence), and
keep the plan valid per ``domain.plan.validation_targets`` at every step:

- A plan without ``targets`` whose new servers are all in the connected target stays a format-1 plan:
  nothing is declared (``add_to_wave_in_targets`` is then ``edit.add_to_wave``).
- The first server of another target declares that target, and the connected target too (the plan's
  existing servers are there), so the plan names the target of everything it holds.
- Going from one declared target (the default of everything that names none) to two removes the
  default, so first every group and every wave with servers of its own is pinned to the former default:
  a plan that declares several targets must say the target of each group and wave server.
- A server's target is said once where it can be: the wave's ``target`` when the wave has none yet, an
  ``{id, target}`` entry (``Wave.server_targets``) for the exception.

A target is matched to the plan's by place (account and Region), not by name: two declarations of one
account and Region are refused by validation (DRS's quotas are per account and Region).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Sequence

from drs_desktop.domain.plan import edit as pe
from drs_desktop.domain.plan.document import quote
from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.model import SERVER_ID_PATTERN, PlanTarget, RecoveryPlan
from drs_desktop.domain.plan.targets import default_target, entry_target

logger = logging.getLogger(__name__)

__all__ = [
    "TargetedServer",
    "add_to_new_wave_in_targets",
    "add_to_wave_in_targets",
    "declare_target",
    "declared_as",
    "same_place",
    "set_group_target",
]

#: A server dropped from the inventory: its ID and the target it is in (None: the connected target).
TargetedServer = tuple[str, PlanTarget | None]


def same_place(one: PlanTarget, other: PlanTarget) -> bool:
    """Whether two targets are the same account and Region (whatever they are called)."""
    return bool(one.account) and (one.account, one.region) == (other.account, other.region)


def declared_as(plan: RecoveryPlan, target: PlanTarget) -> PlanTarget | None:
    """The plan's declaration of ``target``'s account and Region, if it has one."""
    return next((declared for declared in plan.targets if same_place(declared, target)), None)


def declare_target(
    plan: RecoveryPlan, target: PlanTarget, connected: PlanTarget | None
) -> tuple[RecoveryPlan, str | None]:
    """``plan`` with ``target`` declared, and the name it has there (None: the plan declares no targets
    and ``target`` is the connected one, so nothing is needed).

    ``connected``: the connected target as a plan would declare it (None when it cannot be: its account
    is not known yet, or it signs with typed keys a plan file cannot name). The first other target of a
    plan without targets declares the connected one first, where the plan's servers are.
    """
    found = declared_as(plan, target)
    if found is not None:
        return plan, found.name
    if not plan.targets:
        if connected is not None and same_place(target, connected):
            return plan, None
        if _holds_anything(plan):
            if connected is None:
                raise PlanEditError(
                    f"the plan's servers are in the connected target, which cannot be declared in a plan "
                    f"yet (its account is not known, or it signs with typed keys): add it to the targets in "
                    f"Settings with a profile before adding servers of {quote(target.name)}"
                )
            plan = _append(plan, connected)
    if len(plan.targets) == 1:
        plan = _pin_default(plan, plan.targets[0].name)
    plan = _append(plan, target)
    return plan, plan.targets[-1].name


def add_to_wave_in_targets(
    plan: RecoveryPlan,
    index: int,
    servers: Sequence[TargetedServer],
    groups: Sequence[str],
    row: int | None = None,
    *,
    connected: PlanTarget | None,
) -> RecoveryPlan:
    """An inventory drop of servers of any targets (and plan groups) into wave ``index`` at entry ``row``:
    ``edit.add_to_wave`` with each server's target declared and said (see the module's rules)."""
    pe.wave_at(plan, index)
    for server_id, _ in servers:
        if not SERVER_ID_PATTERN.match(server_id):
            raise PlanEditError(f"{quote(server_id)} is not a DRS source server ID")
    foreign = [t for _, t in servers if t is not None and not (connected and same_place(t, connected))]
    if not plan.targets and not foreign:
        return pe.add_to_wave(plan, index, [sid for sid, _ in servers], groups, row)
    named: list[tuple[str, str]] = []
    names: dict[tuple[str, str], str] = {}
    for server_id, target in servers:
        where = target if target is not None else connected
        if where is None:
            raise PlanEditError(
                "the connected target cannot be declared in a plan yet (its account is not known, or it "
                "signs with typed keys): refresh the inventory, or add the target in Settings"
            )
        key = (where.account, where.region)
        if key not in names:
            plan, name = declare_target(plan, where, connected)
            if name is None:  # the connected target of a plan that declared none: declared by the next
                plan, name = _declared_connected(plan, where)
            names[key] = name
        named.append((server_id, names[key]))
    group_pos, server_pos = pe._split_row(plan, index, row)
    plan = pe.add_groups(plan, index, groups, group_pos) if groups else plan
    return _add_named_servers(plan, index, named, server_pos)


def add_to_new_wave_in_targets(
    plan: RecoveryPlan,
    index: int,
    servers: Sequence[TargetedServer],
    groups: Sequence[str],
    name: str | None = None,
    *,
    connected: PlanTarget | None,
) -> RecoveryPlan:
    """An inventory drop between two waves: a new wave at ``index`` holding the dropped entries."""
    return add_to_wave_in_targets(pe.add_wave(plan, name, index), index, servers, groups, connected=connected)


def set_group_target(
    plan: RecoveryPlan, name: str, target: PlanTarget | None, connected: PlanTarget | None
) -> RecoveryPlan:
    """Put protection group ``name`` in ``target`` (declared if need be); None: the plan's default
    (allowed only while the plan declares at most one target)."""
    group = plan.group(name)
    if group is None:
        raise PlanEditError(f"there is no protection group {quote(name)}")
    if target is None:
        if len(plan.targets) > 1:
            raise PlanEditError("the plan declares several targets: say which one the group is in")
        return _with_group_target(plan, name, None)
    plan, declared = declare_target(plan, target, connected)
    return _with_group_target(plan, name, declared)


# ----------------------------------------------------------------------------------------- helpers


def _holds_anything(plan: RecoveryPlan) -> bool:
    return bool(plan.protection_groups) or any(wave.servers for wave in plan.waves)


def _declared_connected(plan: RecoveryPlan, connected: PlanTarget) -> tuple[RecoveryPlan, str]:
    """A drop that mixes the connected target with others into a plan without targets: the connected
    one is declared (the others follow), rather than left as the default of a plan that will have none."""
    plan = _append(plan, connected)
    return plan, plan.targets[-1].name


def _append(plan: RecoveryPlan, target: PlanTarget) -> RecoveryPlan:
    taken = {declared.name for declared in plan.targets}
    name = target.name
    if name in taken:
        number = 2
        while f"{name}-{number}" in taken:
            number += 1
        name = f"{name}-{number}"
    logger.debug("plan %r declares target %r (%s/%s)", plan.name, name, target.account, target.region)
    return dataclasses.replace(plan, targets=(*plan.targets, dataclasses.replace(target, name=name)))


def _pin_default(plan: RecoveryPlan, name: str) -> RecoveryPlan:
    """Every group and every wave with servers of its own that rely on the plan's only target say it:
    the default is gone once a second target is declared."""
    groups = tuple(
        dataclasses.replace(group, target=name) if group.target is None else group
        for group in plan.protection_groups
    )
    waves = tuple(
        dataclasses.replace(wave, target=name)
        if wave.target is None and any(sid not in wave.server_targets for sid in wave.servers)
        else wave
        for wave in plan.waves
    )
    return dataclasses.replace(plan, protection_groups=groups, waves=waves)


def _with_group_target(plan: RecoveryPlan, name: str, target: str | None) -> RecoveryPlan:
    groups = tuple(
        dataclasses.replace(group, target=target) if group.name == name else group
        for group in plan.protection_groups
    )
    return dataclasses.replace(plan, protection_groups=groups)


def _add_named_servers(
    plan: RecoveryPlan, index: int, named: Sequence[tuple[str, str]], position: int | None
) -> RecoveryPlan:
    """``edit.add_servers`` for (server ID, target name) pairs: the same ID in another target is another
    server, so only a wave's server *of that target* moves here."""
    wave = plan.waves[index]
    wanted = list(dict.fromkeys(named))
    for server_id, name in wanted:
        if server_id in wave.servers and entry_target(plan, wave, server_id) != name:
            raise PlanEditError(
                f"wave {quote(wave.name)} already lists {server_id} of target "
                f"{quote(entry_target(plan, wave, server_id) or '?')}; a wave lists a server ID once: put "
                f"the one of {quote(name)} in another wave"
            )
    refs = [
        (i, server_id)
        for i, other in enumerate(plan.waves)
        if i != index
        for server_id, name in wanted
        if server_id in other.servers and entry_target(plan, other, server_id) == name
    ]
    new = [server_id for server_id, _ in wanted if server_id not in wave.servers]
    plan = pe.move_servers(plan, refs, index, position, also_add=new)
    return _say_targets(plan, index, dict(wanted))


def _say_targets(plan: RecoveryPlan, index: int, targets: dict[str, str]) -> RecoveryPlan:
    """Each of ``targets``' servers of wave ``index`` in its target: the wave's own ``target`` when it
    has none and no other server relies on it, else an ``{id, target}`` entry where it differs."""
    wave = plan.waves[index]
    wave_target = wave.target
    entries = dict(wave.server_targets)
    if wave_target is None and len(plan.targets) > 1:
        others = [sid for sid in wave.servers if sid not in targets and sid not in entries]
        if not others:
            wave_target = Counter(targets.values()).most_common(1)[0][0]
            for sid in wave.servers:  # servers already there keep the target they had
                if sid not in targets and entries.get(sid) == wave_target:
                    entries.pop(sid)
    implied = wave_target if wave_target is not None else default_target(plan)
    for server_id, name in targets.items():
        if name == implied:
            entries.pop(server_id, None)
        else:
            entries[server_id] = name
    return pe.replace_wave(plan, index, dataclasses.replace(wave, target=wave_target, server_targets=entries))
