"""Every change the plan editor makes, as a pure function ``RecoveryPlan -> RecoveryPlan``.

Why functions over frozen values: the editor's undo stack keeps the plan before and after each edit, so
undo is exact and costs nothing to store (unchanged waves and tuples are shared), the CLI can script the
same edits, and each rule is unit-tested without Qt. An edit that cannot be made (a wave that does not
exist, a name already taken, a step of zero minutes) raises ``PlanEditError`` with a sentence to show the
operator; an edit that is possible but leaves the plan invalid (a wave emptied by a move) is allowed, and
``domain.plan.validation`` reports the result.

Steps and protection groups are edited by ``domain.plan.edit_parts``, with the same conventions.

Waves are addressed by index, because names may repeat in an invalid plan while positions never do.
The entries of a wave are its protection groups followed by its servers, the order in which
``resolve_wave_servers`` reads them; ``row`` parameters count in that combined list.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import Literal, TypeVar

from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.plan.document import quote
from drs_desktop.domain.plan.model import (
    SERVER_ID_PATTERN,
    Impact,
    RecoveryPlan,
    Wave,
)
from drs_desktop.domain.plan.validation import MAX_MINUTES

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

StepPlace = Literal["before", "after"]
#: (index of the wave holding the entry, server ID or protection group name)
EntryRef = tuple[int, str]


class PlanEditError(DrsDesktopError):
    """An edit that cannot be applied to the plan as it is; the message says why, in one line."""


# ------------------------------------------------------------------------------------ plan fields


def set_name(plan: RecoveryPlan, name: str) -> RecoveryPlan:
    name = name.strip()
    if not name:
        raise PlanEditError("the plan needs a name")
    return dataclasses.replace(plan, name=name)


def set_description(plan: RecoveryPlan, description: str) -> RecoveryPlan:
    return dataclasses.replace(plan, description=description)


def set_rto(plan: RecoveryPlan, minutes: int | None) -> RecoveryPlan:
    return dataclasses.replace(plan, rto_minutes=checked_minutes(minutes, "the RTO target"))


def set_rpo(plan: RecoveryPlan, minutes: int | None) -> RecoveryPlan:
    return dataclasses.replace(plan, rpo_minutes=checked_minutes(minutes, "the RPO target"))


# ------------------------------------------------------------------------------------------- waves


def unique_wave_name(plan: RecoveryPlan, base: str = "Wave") -> str:
    """``base N`` with the smallest N from the wave count up that no wave uses yet."""
    taken = {wave.name.casefold() for wave in plan.waves}
    number = len(plan.waves) + 1
    while f"{base} {number}".casefold() in taken:
        number += 1
    return f"{base} {number}"


def add_wave(plan: RecoveryPlan, name: str | None = None, index: int | None = None) -> RecoveryPlan:
    """A new empty wave at ``index`` (the end when None), named ``name`` or "Wave N"."""
    name = unique_wave_name(plan) if name is None else _new_wave_name(plan, name, None)
    position = len(plan.waves) if index is None else index
    if not 0 <= position <= len(plan.waves):
        raise PlanEditError(f"cannot insert a wave at position {position + 1}; the plan has {_waves(plan)}")
    waves = list(plan.waves)
    waves.insert(position, Wave(name))
    return dataclasses.replace(plan, waves=tuple(waves))


def remove_waves(plan: RecoveryPlan, indices: Iterable[int]) -> RecoveryPlan:
    """Drop the waves, and their names from the other waves' ``depends_on``."""
    doomed = set(indices)
    for index in doomed:
        wave_at(plan, index)
    names = {plan.waves[i].name for i in doomed}
    kept = [wave for i, wave in enumerate(plan.waves) if i not in doomed]
    # A name shared with a surviving wave (an invalid plan) still names something: keep it.
    names -= {wave.name for wave in kept}
    waves = tuple(_drop_dependencies(wave, names) for wave in kept)
    return dataclasses.replace(plan, waves=waves)


def rename_wave(plan: RecoveryPlan, index: int, name: str) -> RecoveryPlan:
    """Rename a wave and every ``depends_on`` entry that names it."""
    wave = wave_at(plan, index)
    name = _new_wave_name(plan, name, index)
    if name == wave.name:
        return plan
    waves = []
    for i, other in enumerate(plan.waves):
        if i == index:
            other = dataclasses.replace(other, name=name)
        if other.depends_on and wave.name in other.depends_on:
            renamed = tuple(name if dep == wave.name else dep for dep in other.depends_on)
            other = dataclasses.replace(other, depends_on=renamed)
        waves.append(other)
    return dataclasses.replace(plan, waves=tuple(waves))


def move_waves(plan: RecoveryPlan, indices: Iterable[int], target: int) -> RecoveryPlan:
    """Move the waves (keeping their order) so that they sit before wave ``target`` as it is now.

    ``target`` may be ``len(plan.waves)``: the end. Dependencies are left as they are; a wave moved
    ahead of one it names in ``depends_on`` is reported by validation.
    """
    moving = sorted(set(indices))
    for index in moving:
        wave_at(plan, index)
    if not 0 <= target <= len(plan.waves):
        raise PlanEditError(f"cannot move waves to position {target + 1}; the plan has {_waves(plan)}")
    return dataclasses.replace(plan, waves=tuple(_moved(list(plan.waves), moving, target)))


def shift_waves(plan: RecoveryPlan, indices: Iterable[int], step: int) -> RecoveryPlan:
    """Move the waves one place up (``step`` -1) or down (+1); the keyboard path of dragging a wave."""
    moving = sorted(set(indices))
    if not moving:
        return plan
    if step < 0:
        if moving[0] + step < 0:
            raise PlanEditError("the first wave cannot move up")
        return move_waves(plan, moving, moving[0] + step)
    if moving[-1] + step >= len(plan.waves):
        raise PlanEditError("the last wave cannot move down")
    return move_waves(plan, moving, moving[-1] + step + 1)


def set_depends_on(plan: RecoveryPlan, index: int, depends_on: Sequence[str] | None) -> RecoveryPlan:
    """``None``: the previous wave (the default); ``()``: nothing; else these earlier waves."""
    wave = wave_at(plan, index)
    if depends_on is None:
        return replace_wave(plan, index, dataclasses.replace(wave, depends_on=None))
    earlier = {other.name for other in plan.waves[:index]}
    names = tuple(dict.fromkeys(depends_on))
    for name in names:
        if name == wave.name:
            raise PlanEditError(f"wave {quote(wave.name)} cannot depend on itself")
        if name not in earlier:
            known = any(other.name == name for other in plan.waves)
            reason = "comes later; a wave can only depend on earlier waves" if known else "does not exist"
            raise PlanEditError(f"wave {quote(name)} {reason}")
    return replace_wave(plan, index, dataclasses.replace(wave, depends_on=names))


# ----------------------------------------------------------------------------------------- entries


def add_servers(
    plan: RecoveryPlan, index: int, server_ids: Iterable[str], position: int | None = None
) -> RecoveryPlan:
    """Add servers (from the inventory) to wave ``index`` at ``position`` among its servers.

    A server already in another wave moves here, keeping its impact: a server belongs to one wave.
    Servers already in this wave stay where they are.
    """
    wave_at(plan, index)
    ids = list(dict.fromkeys(server_ids))
    for server_id in ids:
        if not SERVER_ID_PATTERN.match(server_id):
            raise PlanEditError(f"{quote(server_id)} is not a DRS source server ID")
    wave = plan.waves[index]
    refs = [
        (i, sid) for i, other in enumerate(plan.waves) if i != index for sid in ids if sid in other.servers
    ]
    new = [sid for sid in ids if sid not in wave.servers]
    return move_servers(plan, refs, index, position, also_add=new)


def add_groups(
    plan: RecoveryPlan, index: int, names: Iterable[str], position: int | None = None
) -> RecoveryPlan:
    """Add protection groups to wave ``index``; a group already in another wave moves here."""
    wave_at(plan, index)
    wanted = list(dict.fromkeys(names))
    for name in wanted:
        if plan.group(name) is None:
            raise PlanEditError(f"there is no protection group {quote(name)}")
    refs = [(i, n) for i, other in enumerate(plan.waves) if i != index for n in wanted if n in other.groups]
    new = [name for name in wanted if name not in plan.waves[index].groups]
    return move_groups(plan, refs, index, position, also_add=new)


def move_servers(
    plan: RecoveryPlan,
    refs: Sequence[EntryRef],
    target: int,
    position: int | None = None,
    *,
    also_add: Sequence[str] = (),
) -> RecoveryPlan:
    """Move servers, each from the wave its ref names, into wave ``target`` at ``position``.

    ``position`` counts the target's servers as they are before the move (a drop row); None is the end.
    Each server keeps its impact. ``also_add`` servers are inserted too, first and in their order (it may
    name moved servers, to set the order of an inventory drop).
    """
    return _move(plan, refs, target, position, also_add, kind="servers")


def move_groups(
    plan: RecoveryPlan,
    refs: Sequence[EntryRef],
    target: int,
    position: int | None = None,
    *,
    also_add: Sequence[str] = (),
) -> RecoveryPlan:
    """Move protection groups between waves, as ``move_servers`` moves servers."""
    return _move(plan, refs, target, position, also_add, kind="groups")


def add_to_wave(
    plan: RecoveryPlan, index: int, servers: Sequence[str], groups: Sequence[str], row: int | None = None
) -> RecoveryPlan:
    """Inventory drop: groups and servers into wave ``index`` at entry ``row`` (groups come first)."""
    group_pos, server_pos = _split_row(plan, index, row)
    plan = add_groups(plan, index, groups, group_pos) if groups else plan
    return add_servers(plan, index, servers, server_pos) if servers else plan


def move_to_wave(
    plan: RecoveryPlan,
    index: int,
    servers: Sequence[EntryRef],
    groups: Sequence[EntryRef],
    row: int | None = None,
) -> RecoveryPlan:
    """Plan drop: entries of any waves into wave ``index`` at entry ``row`` (groups come first)."""
    group_pos, server_pos = _split_row(plan, index, row)
    plan = move_groups(plan, groups, index, group_pos) if groups else plan
    return move_servers(plan, servers, index, server_pos) if servers else plan


def move_to_new_wave(
    plan: RecoveryPlan,
    index: int,
    servers: Sequence[EntryRef],
    groups: Sequence[EntryRef],
    name: str | None = None,
) -> RecoveryPlan:
    """A drop between two waves: a new wave at ``index`` holding the moved entries."""
    plan = add_wave(plan, name, index)

    def shifted(refs: Sequence[EntryRef]) -> list[EntryRef]:
        return [(w + 1 if w >= index else w, key) for w, key in refs]

    return move_to_wave(plan, index, shifted(servers), shifted(groups))


def add_to_new_wave(
    plan: RecoveryPlan, index: int, servers: Sequence[str], groups: Sequence[str], name: str | None = None
) -> RecoveryPlan:
    """An inventory drop between two waves: a new wave at ``index`` holding the dropped entries."""
    return add_to_wave(add_wave(plan, name, index), index, servers, groups)


def remove_entries(
    plan: RecoveryPlan, servers: Sequence[EntryRef] = (), groups: Sequence[EntryRef] = ()
) -> RecoveryPlan:
    """Take servers and protection groups out of their waves (servers leave ``optional`` too)."""
    waves = list(plan.waves)
    for index, sid in servers:
        _entry_wave(plan, index, sid, "servers")
        waves[index] = _without(waves[index], sid, "servers")
    for index, name in groups:
        _entry_wave(plan, index, name, "groups")
        waves[index] = _without(waves[index], name, "groups")
    return dataclasses.replace(plan, waves=tuple(waves))


def shift_entries(plan: RecoveryPlan, index: int, keys: Iterable[str], step: int) -> RecoveryPlan:
    """Move servers (or groups) one place up or down within their wave: the keyboard reorder."""
    wave = wave_at(plan, index)
    wanted = set(keys)
    for kind in ("groups", "servers"):
        items: list[str] = list(getattr(wave, kind))
        chosen = [i for i, item in enumerate(items) if item in wanted]
        if not chosen:
            continue
        if (step < 0 and chosen[0] + step < 0) or (step > 0 and chosen[-1] + step >= len(items)):
            raise PlanEditError("already at the " + ("top" if step < 0 else "bottom") + " of the wave")
        target = chosen[0] + step if step < 0 else chosen[-1] + step + 1
        wave = _with_entries(wave, kind, _moved(items, chosen, target))
    return replace_wave(plan, index, wave)


def set_impact(plan: RecoveryPlan, refs: Sequence[EntryRef], impact: Impact) -> RecoveryPlan:
    """Mark servers CRITICAL or OPTIONAL in their waves, keeping each wave's ``optional`` list."""
    waves = list(plan.waves)
    for index, sid in refs:
        wave = wave_at(plan, index)
        if sid not in wave.servers and not _in_wave_groups(plan, wave, sid):
            raise PlanEditError(f"{sid} is not a server of wave {quote(wave.name)}")
        current = waves[index]
        if impact is Impact.OPTIONAL and sid not in current.optional:
            current = dataclasses.replace(current, optional=(*current.optional, sid))
        elif impact is Impact.CRITICAL and sid in current.optional:
            current = dataclasses.replace(current, optional=tuple(s for s in current.optional if s != sid))
        waves[index] = current
    return dataclasses.replace(plan, waves=tuple(waves))


def toggle_impact(plan: RecoveryPlan, refs: Sequence[EntryRef]) -> RecoveryPlan:
    """All OPTIONAL when any of them is CRITICAL, else all CRITICAL: one key for a mixed selection."""
    any_critical = any(wave_at(plan, i).impact_of(sid) is Impact.CRITICAL for i, sid in refs)
    return set_impact(plan, refs, Impact.OPTIONAL if any_critical else Impact.CRITICAL)


# ----------------------------------------------------------------------------------------- helpers


def _move(
    plan: RecoveryPlan,
    refs: Sequence[EntryRef],
    target: int,
    position: int | None,
    also_add: Sequence[str],
    *,
    kind: Literal["servers", "groups"],
) -> RecoveryPlan:
    target_wave = wave_at(plan, target)
    moving: list[str] = []
    optional: set[str] = set()
    waves = list(plan.waves)
    carried: dict[str, str | None] = {}  # a moved server's target goes with it
    for index, key in refs:
        wave = _entry_wave(plan, index, key, kind)
        if kind == "servers" and key in wave.optional:
            optional.add(key)
        if kind == "servers" and index != target:
            carried[key] = _server_target(wave, key)
        moving.append(key)
    moving = list(dict.fromkeys([*also_add, *moving]))
    if not moving:
        return plan
    before: list[str] = list(getattr(target_wave, kind))
    count = len(before) if position is None else position
    if not 0 <= count <= len(before):
        raise PlanEditError(f"no position {count + 1} among the {kind} of wave {quote(target_wave.name)}")
    chosen = set(moving)
    # Where the drop row lands once the moved entries have left the target.
    insert_at = sum(1 for item in before[:count] if item not in chosen)
    for index, key in refs:
        if index != target:
            waves[index] = _without(waves[index], key, kind)
    remaining = [item for item in before if item not in chosen]
    remaining[insert_at:insert_at] = moving
    new_target = _with_entries(waves[target], kind, remaining)
    if kind == "servers":
        gained = [sid for sid in moving if sid in optional and sid not in new_target.optional]
        new_target = dataclasses.replace(new_target, optional=(*new_target.optional, *gained))
        new_target = _carry_targets(new_target, carried)
    waves[target] = new_target
    return dataclasses.replace(plan, waves=tuple(waves))


def _with_entries(wave: Wave, kind: str, items: Sequence[str]) -> Wave:
    if kind == "groups":
        return dataclasses.replace(wave, groups=tuple(items))
    return dataclasses.replace(wave, servers=tuple(items))


def _without(wave: Wave, key: str, kind: str) -> Wave:
    if kind == "groups":
        return dataclasses.replace(wave, groups=tuple(g for g in wave.groups if g != key))
    return dataclasses.replace(
        wave,
        servers=tuple(s for s in wave.servers if s != key),
        optional=tuple(s for s in wave.optional if s != key),
        server_targets={s: t for s, t in wave.server_targets.items() if s != key},
    )


def _server_target(wave: Wave, server_id: str) -> str | None:
    """The target a wave's own server is in, as the plan says it (its entry, else the wave's)."""
    return wave.server_targets.get(server_id) or wave.target


def _carry_targets(wave: Wave, carried: dict[str, str | None]) -> Wave:
    """Servers moved into ``wave`` keep the target they were in: an entry where it differs from the
    wave's own, none where it is the same (or none was said)."""
    targets = dict(wave.server_targets)
    for server_id, target in carried.items():
        if target is not None and target != wave.target:
            targets[server_id] = target
        else:
            targets.pop(server_id, None)
    return dataclasses.replace(wave, server_targets=targets)


def _split_row(plan: RecoveryPlan, index: int, row: int | None) -> tuple[int | None, int | None]:
    """An entry row of wave ``index`` as (position among its groups, position among its servers)."""
    wave = wave_at(plan, index)
    if row is None:
        return None, None
    groups = len(wave.groups)
    if not 0 <= row <= groups + len(wave.servers):
        raise PlanEditError(f"no row {row + 1} in wave {quote(wave.name)}")
    return min(row, groups), max(0, row - groups)


def _moved(items: list[_T], chosen: Sequence[int], target: int) -> list[_T]:
    picked = [items[i] for i in chosen]
    chosen_set = set(chosen)
    insert_at = sum(1 for i in range(target) if i not in chosen_set)
    rest = [item for i, item in enumerate(items) if i not in chosen_set]
    rest[insert_at:insert_at] = picked
    return rest


def wave_at(plan: RecoveryPlan, index: int) -> Wave:
    if not 0 <= index < len(plan.waves):
        raise PlanEditError(f"there is no wave {index + 1}; the plan has {_waves(plan)}")
    return plan.waves[index]


def _entry_wave(plan: RecoveryPlan, index: int, key: str, kind: str) -> Wave:
    wave = wave_at(plan, index)
    if key not in getattr(wave, kind):
        what = "server" if kind == "servers" else "protection group"
        raise PlanEditError(f"{what} {quote(key)} is not in wave {quote(wave.name)}")
    return wave


def _in_wave_groups(plan: RecoveryPlan, wave: Wave, server_id: str) -> bool:
    groups = (plan.group(name) for name in wave.groups)
    return any(group is not None and server_id in group.server_ids for group in groups)


def replace_wave(plan: RecoveryPlan, index: int, wave: Wave) -> RecoveryPlan:
    waves = list(plan.waves)
    waves[index] = wave
    return dataclasses.replace(plan, waves=tuple(waves))


def _drop_dependencies(wave: Wave, names: set[str]) -> Wave:
    if not wave.depends_on or not names.intersection(wave.depends_on):
        return wave
    return dataclasses.replace(wave, depends_on=tuple(d for d in wave.depends_on if d not in names))


def _new_wave_name(plan: RecoveryPlan, name: str, index: int | None) -> str:
    name = name.strip()
    if not name:
        raise PlanEditError("a wave needs a name")
    for i, wave in enumerate(plan.waves):
        if i != index and wave.name.casefold() == name.casefold():
            raise PlanEditError(f"there is already a wave named {quote(wave.name)}")
    return name


def checked_minutes(minutes: int | None, what: str) -> int | None:
    if minutes is None:
        return None
    if minutes <= 0:
        raise PlanEditError(f"{what} must be a positive number of minutes")
    if minutes > MAX_MINUTES:
        raise PlanEditError(f"{what} must be at most {MAX_MINUTES} minutes (a year)")
    return minutes


def _waves(plan: RecoveryPlan) -> str:
    count = len(plan.waves)
    return f"{count} wave{'' if count == 1 else 's'}"
