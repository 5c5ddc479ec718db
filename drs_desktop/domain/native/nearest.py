"""The nearest plan to a local plan that fits a native DRS plan, and what was changed, in words.

Only what has an obvious nearest form is changed: names DRS does not take (``native_name``), a description
cut to 1024 characters, an approval turned into a wait of a stated length, an automation step left out
(said, step by step: not published, a run in DRS does not run it), a wait under a minute rounded
up, a wait over 120 minutes split into waits of at most 120, a wave over 100 servers split into waves of
at most 100 that run one after another; and when that makes more than 20 steps, the waits that stand
next to each other merged (fewest waits of at most 120 minutes). Everything else (servers in several
accounts, tag groups without an inventory, an invalid plan) has no nearest plan: guessing there would
publish something the operator did not mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.native.assess import FitProblem, wave_where
from drs_desktop.domain.native.names import native_name, unique_name
from drs_desktop.domain.native.steps import MAX_DESCRIPTION, MAX_SERVERS_PER_STEP, MAX_STEPS, MAX_WAIT_MINUTES
from drs_desktop.domain.plan.automation import AUTOMATION_STEPS, step_kind
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Step, WaitStep, Wave
from drs_desktop.domain.plan.targets import entry_target, group_target
from drs_desktop.domain.plan.validation import resolve_group

__all__ = ["FIXABLE", "nearest_plan"]

#: Problem codes the nearest plan removes; any other problem leaves no nearest plan.
FIXABLE = frozenset(
    {
        "name_pattern",
        "description_too_long",
        "approval_gate",
        "automation_step",
        "wait_out_of_range",
        "server_step_too_large",
        "too_many_steps",
    }
)


def nearest_plan(
    plan: RecoveryPlan,
    plan_name: str,
    problems: Sequence[FitProblem],
    inventory: Inventory | None,
    approval_wait_minutes: int,
) -> tuple[RecoveryPlan | None, list[str], int]:
    """The nearest plan, its changes and its number of steps; (None, [], 0) when a problem has no
    nearest form, (None, [], N) when the nearest form would need N steps, more than DRS takes."""
    if any(p.code not in FIXABLE for p in problems):
        return None, [], 0
    changes: list[str] = []
    plan = _names(plan, plan_name, changes)
    if len(plan.description) > MAX_DESCRIPTION:
        plan = replace(plan, description=plan.description[:MAX_DESCRIPTION])
        changes.append(f"The description is cut to its first {MAX_DESCRIPTION} characters.")
    waves = [_steps_of(i, w, approval_wait_minutes, changes) for i, w in enumerate(plan.waves)]
    plan = _split_waves(replace(plan, waves=tuple(waves)), inventory, changes)
    if _count(plan) > MAX_STEPS:
        plan = _merge_waits(plan, changes)
    count = _count(plan)
    if count > MAX_STEPS:
        return None, [], count
    return plan, changes, count


def _count(plan: RecoveryPlan) -> int:
    return sum(1 + len(w.before) + len(w.after) for w in plan.waves)


def _names(plan: RecoveryPlan, plan_name: str, changes: list[str]) -> RecoveryPlan:
    name = _fixed(plan_name, "Recovery plan")
    if name != plan_name:
        changes.append(f"The plan is named {name!r} in DRS ({plan_name!r} is not a name DRS takes).")
    renamed: dict[str, str] = {}
    taken = {w.name for w in plan.waves}
    for i, wave in enumerate(plan.waves):
        fixed = _fixed(wave.name, f"Wave {i + 1}")
        if fixed != wave.name:
            fixed = unique_name(fixed, taken)
            taken.add(fixed)
            renamed[wave.name] = fixed
            changes.append(f"{wave_where(i, wave.name)} is renamed {fixed!r}, a name DRS takes.")
    waves = tuple(_renamed(w, renamed) for w in plan.waves)
    return replace(plan, name=name, waves=waves)


def _fixed(name: str, fallback: str) -> str:
    try:
        return native_name(name)
    except ValueError:
        return fallback


def _renamed(wave: Wave, renamed: Mapping[str, str]) -> Wave:
    if not renamed:
        return wave
    deps = None if wave.depends_on is None else tuple(renamed.get(d, d) for d in wave.depends_on)
    return replace(wave, name=renamed.get(wave.name, wave.name), depends_on=deps)


def _steps_of(index: int, wave: Wave, approval_minutes: int, changes: list[str]) -> Wave:
    def fixed(side: str, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        out: list[Step] = []
        for k, step in enumerate(steps):
            at = f"{wave_where(index, wave.name)}, {side} step {k + 1}"
            if isinstance(step, ApprovalStep):
                changes.append(
                    f"{at}: the approval ({step.message!r}) becomes a wait of {approval_minutes} minutes: "
                    "nobody is asked in DRS; cancel the execution in that time to stop it."
                )
                out.append(WaitStep(approval_minutes))
            elif isinstance(step, AUTOMATION_STEPS):
                changes.append(
                    f"{at}: the {step_kind(step)} step {step.name!r} is not published (DRS's steps are "
                    "SERVER and WAIT only): a run in DRS does not run it."
                )
            elif step.minutes < 1:
                changes.append(f"{at}: the wait of {step.minutes} minutes is rounded up to 1 minute.")
                out.append(WaitStep(1))
            elif step.minutes > MAX_WAIT_MINUTES:
                parts = _split_minutes(step.minutes)
                changes.append(
                    f"{at}: the wait of {step.minutes} minutes becomes {len(parts)} waits "
                    f"({', '.join(str(p) for p in parts)} minutes), each within DRS's {MAX_WAIT_MINUTES}."
                )
                out.extend(WaitStep(p) for p in parts)
            else:
                out.append(step)
        return tuple(out)

    return replace(wave, before=fixed("before", wave.before), after=fixed("after", wave.after))


def _split_minutes(total: int) -> list[int]:
    """``total`` minutes as the fewest waits of at most 120 minutes, the longest first."""
    count = math.ceil(total / MAX_WAIT_MINUTES)
    return [MAX_WAIT_MINUTES] * (count - 1) + [total - MAX_WAIT_MINUTES * (count - 1)]


def _split_waves(plan: RecoveryPlan, inventory: Inventory | None, changes: list[str]) -> RecoveryPlan:
    taken = {w.name for w in plan.waves}
    last_part: dict[str, str] = {}
    waves: list[Wave] = []
    for i, wave in enumerate(plan.waves):
        placed = _placed_servers(plan, wave, inventory)
        if len(placed) <= MAX_SERVERS_PER_STEP:
            waves.append(wave)
            continue
        chunks = [placed[k : k + MAX_SERVERS_PER_STEP] for k in range(0, len(placed), MAX_SERVERS_PER_STEP)]
        names = []
        for k in range(len(chunks)):
            part = unique_name(f"{wave.name} part {k + 1}", taken)
            taken.add(part)
            names.append(part)
        for k, chunk in enumerate(chunks):
            ids = tuple(s for s, _ in chunk)
            first_target = chunk[0][1]
            waves.append(
                Wave(
                    name=names[k],
                    servers=ids,
                    optional=tuple(s for s in ids if s in wave.optional),
                    depends_on=wave.depends_on if k == 0 else (names[k - 1],),
                    before=wave.before if k == 0 else (),
                    after=wave.after if k == len(chunks) - 1 else (),
                    target=first_target,
                    server_targets={s: t for s, t in chunk if t != first_target and t is not None},
                )
            )
        last_part[wave.name] = names[-1]
        changes.append(
            f"{wave_where(i, wave.name)} ({len(placed)} servers) becomes {len(chunks)} waves of at most "
            f"{MAX_SERVERS_PER_STEP} servers run one after another: {', '.join(repr(n) for n in names)}"
            + ("; its groups are listed as their servers." if wave.groups else ".")
        )
    if not last_part:
        return plan
    fixed = [
        w if w.depends_on is None else replace(w, depends_on=tuple(last_part.get(d, d) for d in w.depends_on))
        for w in waves
    ]
    return replace(plan, waves=tuple(fixed))


def _placed_servers(
    plan: RecoveryPlan, wave: Wave, inventory: Inventory | None
) -> list[tuple[str, str | None]]:
    """(server ID, target name) of the wave's servers, groups first, each once."""
    found: dict[str, str | None] = {}
    for name in wave.groups:
        group = plan.group(name)
        if group is not None:
            target = group_target(plan, group)
            for server_id in resolve_group(group, inventory):
                found.setdefault(server_id, target)
    for server_id in wave.servers:
        found.setdefault(server_id, entry_target(plan, wave, server_id))
    return list(found.items())


def _merge_waits(plan: RecoveryPlan, changes: list[str]) -> RecoveryPlan:
    """The waits that stand next to each other (after a wave and before the next) as the fewest waits,
    before the next wave (after the last one for the run that ends the plan), until 20 steps are met."""
    waves = list(plan.waves)
    excess = _count(plan) - MAX_STEPS
    for i in range(len(waves) + 1):
        if excess <= 0:
            break
        run_after = waves[i - 1].after if i > 0 else ()
        run_before = waves[i].before if i < len(waves) else ()
        run = [s.minutes for s in (*run_after, *run_before) if isinstance(s, WaitStep)]
        merged = _split_minutes(sum(run)) if run else []
        if len(merged) >= len(run):
            continue
        steps = tuple(WaitStep(m) for m in merged)
        if i < len(waves):
            waves[i] = replace(waves[i], before=steps)
            if i > 0:
                waves[i - 1] = replace(waves[i - 1], after=())
            where = f"before {waves[i].name!r}"
        else:
            waves[i - 1] = replace(waves[i - 1], after=steps)
            where = f"after {waves[i - 1].name!r}"
        excess -= len(run) - len(merged)
        changes.append(
            f"The waits of {', '.join(str(m) for m in run)} minutes that follow one another become "
            f"{' and '.join(str(m) for m in merged)} minutes {where}, to keep within DRS's {MAX_STEPS} steps."
        )
    return replace(plan, waves=tuple(waves))
