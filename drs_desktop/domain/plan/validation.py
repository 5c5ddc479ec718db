"""Checks that a recovery plan makes sense, reporting every problem at once.

A plan is edited by hand (plan files) and by drag and drop; either way the operator should fix it in one
round, so ``validate_plan`` never stops at the first problem. Each ``Problem`` carries the field path of
the plan file format (docs/plan-format.md), such as ``waves[2].servers[5]``, so a plan file import can
point at a line and the plan editor at a row.

Errors make a plan unfit to run; warnings (a wave bigger than one DRS job) describe something the engine
handles but the operator should know about. Pure: no I/O, no clock.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.document import join_path, quote
from drs_desktop.domain.plan.model import (
    MAX_SERVERS_PER_JOB,
    SERVER_ID_PATTERN,
    ApprovalStep,
    ProtectionGroup,
    RecoveryPlan,
    Step,
    WaitStep,
)
from drs_desktop.domain.plan.targets import Connected, entry_target, group_target, target_matches
from drs_desktop.domain.plan.validation_automation import automation_problems
from drs_desktop.domain.plan.validation_brief import brief_problems, cadence_problems
from drs_desktop.domain.plan.validation_launch import launch_problems
from drs_desktop.domain.plan.validation_support import (
    MAX_CYCLE_PATHS,
    Suggester,
    TagIndex,
    cycle_path,
    shorten_chain,
    strongly_connected,
)
from drs_desktop.domain.plan.validation_targets import (
    free_text_credential_problems,
    group_target_problems,
    target_problems,
    wave_target_problems,
)
from drs_desktop.domain.safe_text import name_problem, text_problem

logger = logging.getLogger(__name__)

#: A server where it is: (the name of its target, None for the connected one; its source server ID).
Placed = tuple[str | None, str]

#: Longest RTO, RPO or wait accepted: a year. Anything longer is a typo, not a plan.
MAX_MINUTES = 366 * 24 * 60


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plan, at a field path such as ``waves[2].servers[5]`` (empty: the plan)."""

    path: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{prefix}{self.path}: {self.message}" if self.path else f"{prefix}{self.message}"


def resolve_group(group: ProtectionGroup, inventory: Inventory | None) -> tuple[str, ...]:
    """The source server IDs of ``group``: its explicit IDs, or the inventory's servers matching its tags.

    A tag selector cannot be resolved without an inventory and gives ``()``; an empty selector gives
    ``()`` too, never "every server", because launching a whole estate by accident is not recoverable.
    """
    ids = list(group.server_ids)
    if group.tags and inventory is not None:
        ids.extend(inventory.matching(group.tags))
    return tuple(dict.fromkeys(ids))


def resolve_wave_servers(plan: RecoveryPlan, wave_index: int, inventory: Inventory | None) -> tuple[str, ...]:
    """Every source server of wave ``wave_index``: its groups' members, then its own servers.

    De-duplicated, first occurrence kept; unknown group names are skipped (validation reports them).
    """
    wave = plan.waves[wave_index]
    ids: list[str] = []
    for name in wave.groups:
        group = plan.group(name)
        if group is not None:
            ids.extend(resolve_group(group, inventory))
    ids.extend(wave.servers)
    return tuple(dict.fromkeys(ids))


def resolve_wave_by_target(
    plan: RecoveryPlan, wave_index: int, inventories: Mapping[str, Inventory]
) -> tuple[tuple[str, str], ...]:
    """(server ID, target name) of every server of wave ``wave_index``, as ``resolve_wave_servers`` lists
    them, each tag selector resolved in its own target's inventory. A server named in two targets is
    kept once, in the first (validation reports it)."""
    wave = plan.waves[wave_index]
    found: dict[str, str] = {}
    for name in wave.groups:
        group = plan.group(name)
        target = group_target(plan, group) if group is not None else None
        if group is None or target is None:
            continue
        for server_id in resolve_group(group, inventories.get(target)):
            found.setdefault(server_id, target)
    for server_id in wave.servers:
        target = entry_target(plan, wave, server_id)
        if target is not None:
            found.setdefault(server_id, target)
    return tuple(found.items())


def validate_plan(plan: RecoveryPlan, inventory: Inventory | None = None) -> list[Problem]:
    """Every problem of ``plan``, in document order.

    Without an inventory, server IDs are checked for their form only and tag selectors stay unresolved
    (so a wave made of tag groups is not called empty); with one, unknown servers are errors too.
    """
    validator = _Validator(plan, inventory)
    problems = validator.run()
    found = launch_problems(plan, validator.members)
    found += brief_problems(plan.brief) + cadence_problems(plan.cadence)
    for path, message, is_error in found:
        problems.append(Problem(path, message, Severity.ERROR if is_error else Severity.WARNING))
    return problems


class _Validator:
    def __init__(self, plan: RecoveryPlan, inventory: Inventory | None) -> None:
        self.plan = plan
        self.inventory = inventory
        self.known_ids = set(inventory.by_id()) if inventory is not None else None
        self.tag_index = TagIndex(inventory) if inventory is not None else None
        self.problems: list[Problem] = []
        self.group_index: dict[str, int] = {}
        self.wave_index: dict[str, int] = {}
        for index, wave in enumerate(plan.waves):
            self.wave_index.setdefault(wave.name, index)
        self.resolved: dict[int, tuple[str, ...]] = {}  # group index -> its servers
        self.group_names = Suggester(())  # set once the groups are read
        self.wave_names = Suggester(self.wave_index)
        self.components = strongly_connected(len(plan.waves), self.dependency_indexes)
        self.cycle_paths_left = MAX_CYCLE_PATHS

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def warning(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message, Severity.WARNING))

    def run(self) -> list[Problem]:
        if not self.plan.name.strip():
            self.error("name", "the plan needs a name")
        else:
            self.name(self.plan.name, "name")
        self.text(self.plan.description, "description")
        self.minutes(self.plan.rto_minutes, "rto_minutes")
        self.minutes(self.plan.rpo_minutes, "rpo_minutes")
        for path, message in target_problems(self.plan):
            self.error(path, message)
        for path, message in free_text_credential_problems(self.plan):
            self.error(path, message)
        self.groups()
        self.group_names = Suggester(self.group_index)
        if not self.plan.waves:
            self.warning("waves", "the plan has no waves, so there is nothing to recover")
        self.waves()
        return self.problems

    # -- shared checks

    def name(self, value: str, path: str) -> bool:
        """Reports control, bidi and surrogate characters in a name; True when there are none."""
        problem = name_problem(value)
        if problem is not None:
            self.error(path, problem)
        return problem is None

    def text(self, value: str, path: str) -> None:
        problem = text_problem(value)
        if problem is not None:
            self.error(path, problem)

    def minutes(self, value: int | None, path: str) -> None:
        if value is None:
            return
        if value <= 0:
            self.error(path, f"must be a positive number of minutes, got {value}")
        elif value > MAX_MINUTES:
            self.error(path, f"must be at most {MAX_MINUTES} minutes (a year), got {value}")

    def in_inventory(self, target: str | None) -> bool:
        """Whether servers of ``target`` (a name, None: the connected one) are checked against the
        inventory: only when it is that target's (other targets' inventories come with their own)."""
        if self.inventory is None:
            return False
        if target is None:
            return not self.plan.targets
        declared = self.plan.target(target)
        if declared is None:
            return False
        return target_matches(declared, Connected(self.inventory.account_id, self.inventory.region))

    def server_id(self, server_id: str, path: str, target: str | None = None) -> bool:
        """Reports a malformed or (with its target's inventory) unknown ID; True when well-formed."""
        if not SERVER_ID_PATTERN.match(server_id):
            self.error(
                path, f"{quote(server_id)} is not a DRS source server ID (s- and 17 letters or digits)"
            )
            return False
        if self.known_ids is not None and self.in_inventory(target) and server_id not in self.known_ids:
            self.error(path, f"unknown source server {server_id}{self.inventory_label()}")
        return True

    def inventory_label(self) -> str:
        inventory = self.inventory
        if inventory is None or not (inventory.account_id or inventory.region):
            return " (not in the inventory)"
        where = "/".join(part for part in (inventory.account_id, inventory.region) if part)
        return f" (not in the inventory of {where})"

    # -- protection groups

    def groups(self) -> None:
        member_of: dict[Placed, str] = {}  # (target, server ID) -> the first group holding it
        for index, group in enumerate(self.plan.protection_groups):
            path = join_path("protection_groups", index)
            for where, message in group_target_problems(self.plan, index):
                self.error(where, message)
            if group.server_ids and group.tags is not None:
                self.error(path, "has both servers and tags; a group is a list of servers or a tag selector")
            if not group.name.strip():
                self.error(join_path(path, "name"), "a protection group needs a name")
            elif group.name in self.group_index:
                first = join_path("protection_groups", self.group_index[group.name])
                self.error(
                    join_path(path, "name"), f"duplicate protection group name {quote(group.name)} ({first})"
                )
            else:
                self.group_index[group.name] = index
            if group.name.strip():
                self.name(group.name, join_path(path, "name"))
            if not group.server_ids and group.tags is None:
                self.error(
                    join_path(path, "servers"), "the group is empty: list source servers or select by tags"
                )
            self.group_servers(group, path, member_of)
            if group.tags is not None:
                self.group_tags(group, path, member_of)

    def group_servers(self, group: ProtectionGroup, path: str, member_of: dict[Placed, str]) -> None:
        seen: set[str] = set()
        target = group_target(self.plan, group)
        for index, server_id in enumerate(group.server_ids):
            item = join_path(join_path(path, "servers"), index)
            if not self.server_id(server_id, item, target):
                continue
            if server_id in seen:
                self.error(item, f"{server_id} is listed twice in this group")
                continue
            seen.add(server_id)
            other = member_of.setdefault((target, server_id), group.name)
            if other != group.name:
                self.error(item, f"{server_id} is already in protection group {quote(other)}")

    def group_tags(self, group: ProtectionGroup, path: str, member_of: dict[Placed, str]) -> None:
        tags_path = join_path(path, "tags")
        tags = group.tags or {}
        if not tags:
            self.error(
                tags_path, "the tag selector is empty; give at least one tag (it would match every server)"
            )
            return
        for key, value in tags.items():
            if not key.strip():
                self.error(join_path(tags_path, key), "a tag name must not be empty")
            else:
                self.name(key, join_path(tags_path, key))
            self.name(value, join_path(tags_path, key))
        target = group_target(self.plan, group)
        if self.tag_index is None or not self.in_inventory(target):
            return
        clashes: list[tuple[str, str]] = []
        for server_id in self.tag_index.matching(tags):
            other = member_of.setdefault((target, server_id), group.name)
            if other != group.name:
                clashes.append((server_id, other))
        if clashes:
            server_id, other = clashes[0]
            self.error(
                tags_path,
                f"selects {server_id}, which is already in protection group {quote(other)}{_more(clashes)}",
            )

    # -- waves

    def waves(self) -> None:
        placed: dict[Placed, int] = {}  # (target, server ID) -> the first wave holding it
        seen_names: set[str] = set()
        for index in range(len(self.plan.waves)):
            self.wave(index, placed, seen_names)

    def wave(self, index: int, placed: dict[Placed, int], seen_names: set[str]) -> None:
        wave = self.plan.waves[index]
        path = join_path("waves", index)
        outer = self.problems
        self.problems = []  # this wave's field problems; its wave-level ones go first
        wave_level: list[Problem] = []
        if not wave.name.strip():
            self.error(join_path(path, "name"), "a wave needs a name")
        elif wave.name in seen_names:
            first = join_path("waves", self.wave_index[wave.name])
            self.error(join_path(path, "name"), f"duplicate wave name {quote(wave.name)} ({first})")
        seen_names.add(wave.name)
        if wave.name.strip():
            self.name(wave.name, join_path(path, "name"))

        for where, message in wave_target_problems(self.plan, index):
            self.error(where, message)
        name_problems = len(self.problems)
        members, unresolved = self.wave_groups(index, path, placed)
        seen: set[str] = set()
        for item_index, server_id in enumerate(wave.servers):
            item = join_path(join_path(path, "servers"), item_index)
            target = entry_target(self.plan, wave, server_id)
            if not self.server_id(server_id, item, target):
                continue
            if server_id in seen:
                self.error(item, f"{server_id} is listed twice in this wave")
                continue
            seen.add(server_id)
            members.setdefault((target, server_id), None)
            earlier = placed.setdefault((target, server_id), index)
            if earlier != index:
                self.error(item, f"{server_id} is already in wave {quote(self.plan.waves[earlier].name)}")
        reference_problems = len(self.problems) > name_problems

        if not members and not unresolved and not reference_problems:
            if wave.groups:
                message = "the wave is empty: its protection groups select no source server in the inventory"
            else:
                message = "the wave is empty: add protection groups or source servers"
            wave_level.append(Problem(path, message))
        if len(members) > MAX_SERVERS_PER_JOB:
            jobs = math.ceil(len(members) / MAX_SERVERS_PER_JOB)
            wave_level.append(
                Problem(
                    path,
                    f"the wave has {len(members)} servers; DRS starts at most {MAX_SERVERS_PER_JOB} per job, "
                    f"so the engine will split it into {jobs} jobs",
                    Severity.WARNING,
                )
            )
        self.optional(index, path, members, unresolved)
        self.depends_on(index, path)
        for key, steps in (("before", wave.before), ("after", wave.after)):
            for step_index, step in enumerate(steps):
                self.step(step, join_path(join_path(path, key), step_index))
        wave_servers = None if unresolved else [server_id for _, server_id in members]
        for where, message, is_error in automation_problems(wave, path, wave_servers):
            (self.error if is_error else self.warning)(where, message)
        outer.extend(wave_level)
        outer.extend(self.problems)
        self.problems = outer

    def wave_groups(
        self, index: int, path: str, placed: dict[Placed, int]
    ) -> tuple[dict[Placed, None], bool]:
        """The servers this wave's groups bring (ordered), and whether a tag group stayed unresolved."""
        members: dict[Placed, None] = {}
        unresolved = False
        seen: set[str] = set()
        for item_index, name in enumerate(self.plan.waves[index].groups):
            item = join_path(join_path(path, "groups"), item_index)
            if name in seen:
                self.error(item, f"protection group {quote(name)} is listed twice in this wave")
                continue
            seen.add(name)
            if not self.name(name, item):
                continue
            if name not in self.group_index:
                self.error(item, f"unknown protection group {quote(name)}{_suggest(name, self.group_names)}")
                continue
            group = self.plan.protection_groups[self.group_index[name]]
            target = group_target(self.plan, group)
            if group.tags and not self.in_inventory(target):
                unresolved = True
            clashes: list[tuple[str, str]] = []
            for server_id in self.resolve(self.group_index[name]):
                members.setdefault((target, server_id), None)
                earlier = placed.setdefault((target, server_id), index)
                if earlier != index:
                    clashes.append((server_id, self.plan.waves[earlier].name))
            if clashes:
                server_id, wave_name = clashes[0]
                self.error(
                    item,
                    f"protection group {quote(name)} brings {server_id}, which is already in wave "
                    f"{quote(wave_name)}{_more(clashes)}",
                )
        return members, unresolved

    def optional(self, index: int, path: str, members: Mapping[Placed, None], unresolved: bool) -> None:
        seen: set[str] = set()
        ids = {server_id for _, server_id in members}
        for item_index, server_id in enumerate(self.plan.waves[index].optional):
            item = join_path(join_path(path, "optional"), item_index)
            if not SERVER_ID_PATTERN.match(server_id):
                self.error(
                    item, f"{quote(server_id)} is not a DRS source server ID (s- and 17 letters or digits)"
                )
            elif server_id in seen:
                self.error(item, f"{server_id} is listed twice in optional")
            elif server_id not in ids and not unresolved:
                self.error(item, f"{server_id} is not a server of this wave")
            seen.add(server_id)

    def depends_on(self, index: int, path: str) -> None:
        wave = self.plan.waves[index]
        seen: set[str] = set()
        for item_index, name in enumerate(wave.depends_on or ()):
            item = join_path(join_path(path, "depends_on"), item_index)
            target = self.wave_index.get(name)
            if name in seen:
                self.error(item, f"wave {quote(name)} is listed twice")
            elif not self.name(name, item):
                pass
            elif name == wave.name:
                self.error(item, "a wave cannot depend on itself")
            elif target is None:
                self.error(item, f"unknown wave {quote(name)}{_suggest(name, self.wave_names)}")
            elif target > index:
                message = f"wave {quote(name)} comes later; a wave can only depend on earlier waves"
                self.error(item, message + self.cycle_note(index, target))
            seen.add(name)

    def cycle_note(self, start: int, target: int) -> str:
        """`` (dependency cycle: 'a' -> 'b' -> 'a')`` when ``start -> target`` closes a cycle, else "".

        Whether it does is known from the components; the cycle is spelled out for the first few only,
        so that a plan made of one long cycle is not reported in quadratic time and text.
        """
        if self.components[start] != self.components[target]:
            return ""
        if self.cycle_paths_left <= 0:
            return " (part of a dependency cycle)"
        self.cycle_paths_left -= 1
        chain = cycle_path(start, target, self.dependency_indexes, self.components)
        names = shorten_chain([quote(self.plan.waves[i].name) for i in chain])
        return " (dependency cycle: " + " -> ".join(names) + ")"

    def dependency_indexes(self, index: int) -> Iterator[int]:
        """The waves wave ``index`` waits for, as indexes (unknown names left out)."""
        for name in self.plan.dependencies(index):
            target = self.wave_index.get(name)
            if target is not None:
                yield target

    def members(self, group_index: int) -> tuple[str, ...] | None:
        """The group's servers, None when a tag group cannot be resolved here (no inventory of its target)."""
        group = self.plan.protection_groups[group_index]
        if group.tags and (self.tag_index is None or not self.in_inventory(group_target(self.plan, group))):
            return None
        return self.resolve(group_index)

    def resolve(self, group_index: int) -> tuple[str, ...]:
        """``resolve_group`` through the tag index, once per group."""
        found = self.resolved.get(group_index)
        if found is None:
            group = self.plan.protection_groups[group_index]
            ids = list(group.server_ids)
            if (
                group.tags
                and self.tag_index is not None
                and self.in_inventory(group_target(self.plan, group))
            ):
                ids.extend(self.tag_index.matching(group.tags))
            found = self.resolved[group_index] = tuple(dict.fromkeys(ids))
        return found

    def step(self, step: Step, path: str) -> None:
        if isinstance(step, ApprovalStep):
            if not step.message.strip():
                self.error(join_path(path, "approval"), "the approval message must not be empty")
            self.text(step.message, join_path(path, "approval"))
        elif isinstance(step, WaitStep):
            self.minutes(step.minutes, join_path(path, "wait_minutes"))
        # automation steps: ``validation_automation``, with the wave's servers


def _more(items: list[tuple[str, str]]) -> str:
    return f" (and {len(items) - 1} more)" if len(items) > 1 else ""


def _suggest(name: str, suggester: Suggester) -> str:
    close = suggester.suggest(name)
    return f" (did you mean {quote(close)}?)" if close is not None else ""
