"""Where in the plan tree a validation problem belongs: its field path as (wave row, entry row).

Kept apart from ``plan_model`` (which keeps rows in step with the plan): pure functions of the plan and a
path. ``waves[2].servers[5]`` is the sixth server row of the third wave, ``waves[2].servers[5].target``
too (its target, plan format 2); ``waves[2]`` and its other fields the wave row; a protection group's
problem (``protection_groups[1].target``) belongs to every row of that group in a wave; anything else
(``targets[0].account``, ``name``) is the plan's, listed under the tree only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import Problem

__all__ = ["Spot", "locate", "map_problems", "spots_of"]

#: (wave row, entry row; -1 for the wave's own row)
Spot = tuple[int, int]

_PATH = re.compile(r"^waves\[(\d+)\](?:\.(servers|groups|optional)\[(\d+)\])?")
_GROUP_PATH = re.compile(r"^protection_groups\[(\d+)\]")


def map_problems(plan: RecoveryPlan | None, problems: Iterable[Problem]) -> dict[Spot, tuple[Problem, ...]]:
    mapped: dict[Spot, list[Problem]] = defaultdict(list)
    for problem in problems:
        for spot in spots_of(plan, problem.path):
            mapped[spot].append(problem)
    return {spot: tuple(found) for spot, found in mapped.items()}


def spots_of(plan: RecoveryPlan | None, path: str) -> list[Spot]:
    """Every row ``path`` belongs to (none: the plan's)."""
    groups = _group_spots(plan, path)
    if groups:
        return groups
    spot = locate(plan, path)
    return [spot] if spot is not None else []


def _group_spots(plan: RecoveryPlan | None, path: str) -> list[Spot]:
    match = _GROUP_PATH.match(path)
    if match is None or plan is None or int(match.group(1)) >= len(plan.protection_groups):
        return []
    name = plan.protection_groups[int(match.group(1))].name
    return [(w, wave.groups.index(name)) for w, wave in enumerate(plan.waves) if name in wave.groups]


def locate(plan: RecoveryPlan | None, path: str) -> Spot | None:
    """The one row of a wave path, or None."""
    match = _PATH.match(path)
    if match is None or plan is None:
        return None
    wave_row = int(match.group(1))
    if wave_row >= len(plan.waves):
        return None
    wave = plan.waves[wave_row]
    kind, item = match.group(2), match.group(3)
    if kind == "groups" and int(item) < len(wave.groups):
        return wave_row, int(item)
    if kind == "servers" and int(item) < len(wave.servers):
        return wave_row, len(wave.groups) + int(item)
    if kind == "optional" and int(item) < len(wave.optional) and wave.optional[int(item)] in wave.servers:
        return wave_row, len(wave.groups) + wave.servers.index(wave.optional[int(item)])
    return wave_row, -1
