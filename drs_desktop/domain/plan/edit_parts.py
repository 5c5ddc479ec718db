"""Edits of a wave's before/after steps and of the plan's protection groups, as pure functions.

The same conventions as ``domain.plan.edit``: each takes and returns a frozen ``RecoveryPlan`` and raises
``PlanEditError`` with one sentence when the edit cannot be made. A protection group renamed or removed
here is renamed or removed in every wave that uses it, so an edit never leaves a dangling reference.
"""

from __future__ import annotations

import dataclasses
import logging

from drs_desktop.domain.plan.automation import AUTOMATION_STEPS
from drs_desktop.domain.plan.document import quote
from drs_desktop.domain.plan.edit import PlanEditError, StepPlace, checked_minutes, replace_wave, wave_at
from drs_desktop.domain.plan.edit_automation import check_automation_step
from drs_desktop.domain.plan.model import (
    SERVER_ID_PATTERN,
    ApprovalStep,
    ProtectionGroup,
    RecoveryPlan,
    Step,
    WaitStep,
)

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------- steps


def add_step(
    plan: RecoveryPlan, index: int, place: StepPlace, step: Step, position: int | None = None
) -> RecoveryPlan:
    steps = list(_steps(plan, index, place))
    position = len(steps) if position is None else position
    if not 0 <= position <= len(steps):
        raise PlanEditError(f"no position {position + 1} among the {place} steps")
    steps.insert(position, _checked_step(step))
    return _set_steps(plan, index, place, steps)


def replace_step(plan: RecoveryPlan, index: int, place: StepPlace, position: int, step: Step) -> RecoveryPlan:
    steps = list(_steps(plan, index, place))
    _step_at(steps, position, place)
    steps[position] = _checked_step(step)
    return _set_steps(plan, index, place, steps)


def remove_step(plan: RecoveryPlan, index: int, place: StepPlace, position: int) -> RecoveryPlan:
    steps = list(_steps(plan, index, place))
    _step_at(steps, position, place)
    del steps[position]
    return _set_steps(plan, index, place, steps)


def move_step(
    plan: RecoveryPlan, index: int, place: StepPlace, position: int, new_position: int
) -> RecoveryPlan:
    steps = list(_steps(plan, index, place))
    step = _step_at(steps, position, place)
    if not 0 <= new_position < len(steps):
        raise PlanEditError(f"no position {new_position + 1} among the {place} steps")
    del steps[position]
    steps.insert(new_position, step)
    return _set_steps(plan, index, place, steps)


# ------------------------------------------------------------------------------- protection groups


def add_group(plan: RecoveryPlan, group: ProtectionGroup) -> RecoveryPlan:
    _check_group(plan, group, None)
    return dataclasses.replace(plan, protection_groups=(*plan.protection_groups, group))


def replace_group(plan: RecoveryPlan, name: str, group: ProtectionGroup) -> RecoveryPlan:
    """Change a protection group; a new name is carried into every wave that uses the group."""
    _group_index(plan, name)
    _check_group(plan, group, name)
    groups = tuple(group if g.name == name else g for g in plan.protection_groups)
    waves = tuple(
        dataclasses.replace(w, groups=tuple(group.name if g == name else g for g in w.groups))
        if name in w.groups
        else w
        for w in plan.waves
    )
    return dataclasses.replace(plan, protection_groups=groups, waves=waves)


def remove_group(plan: RecoveryPlan, name: str) -> RecoveryPlan:
    """Delete a protection group and take it out of every wave that used it."""
    _group_index(plan, name)
    groups = tuple(g for g in plan.protection_groups if g.name != name)
    waves = tuple(
        dataclasses.replace(w, groups=tuple(g for g in w.groups if g != name)) if name in w.groups else w
        for w in plan.waves
    )
    return dataclasses.replace(plan, protection_groups=groups, waves=waves)


# ----------------------------------------------------------------------------------------- helpers


def _steps(plan: RecoveryPlan, index: int, place: StepPlace) -> tuple[Step, ...]:
    wave = wave_at(plan, index)
    if place not in ("before", "after"):
        raise PlanEditError(f"steps go before or after a wave, not {quote(place)}")
    return wave.before if place == "before" else wave.after


def _set_steps(plan: RecoveryPlan, index: int, place: StepPlace, steps: list[Step]) -> RecoveryPlan:
    wave = plan.waves[index]
    if place == "before":
        wave = dataclasses.replace(wave, before=tuple(steps))
    else:
        wave = dataclasses.replace(wave, after=tuple(steps))
    return replace_wave(plan, index, wave)


def _step_at(steps: list[Step], position: int, place: str) -> Step:
    if not 0 <= position < len(steps):
        raise PlanEditError(f"there is no {place} step {position + 1}")
    return steps[position]


def _checked_step(step: Step) -> Step:
    if isinstance(step, ApprovalStep):
        if not step.message.strip():
            raise PlanEditError("an approval step needs a message for the approver")
        return step
    if isinstance(step, WaitStep):
        checked_minutes(step.minutes, "a wait")
        return step
    if isinstance(step, AUTOMATION_STEPS):
        return check_automation_step(step)
    raise PlanEditError(f"unknown kind of step: {type(step).__name__}")


def _group_index(plan: RecoveryPlan, name: str) -> int:
    for index, group in enumerate(plan.protection_groups):
        if group.name == name:
            return index
    raise PlanEditError(f"there is no protection group {quote(name)}")


def _check_group(plan: RecoveryPlan, group: ProtectionGroup, old_name: str | None) -> None:
    if not group.name.strip():
        raise PlanEditError("a protection group needs a name")
    for other in plan.protection_groups:
        if other.name != old_name and other.name.casefold() == group.name.casefold():
            raise PlanEditError(f"there is already a protection group named {quote(other.name)}")
    if group.server_ids and group.tags is not None:
        raise PlanEditError("a protection group is a list of servers or a tag selector, not both")
    if not group.server_ids and not group.tags:
        raise PlanEditError("a protection group needs servers or at least one tag")
    for server_id in group.server_ids:
        if not SERVER_ID_PATTERN.match(server_id):
            raise PlanEditError(f"{quote(server_id)} is not a DRS source server ID")
    if group.tags is not None and any(not key.strip() for key in group.tags):
        raise PlanEditError("a tag name must not be empty")
