"""What of a local plan a native DRS plan cannot hold, and the native steps of a plan that fits.

The mapping (docs/plan-format.md, "Native DRS recovery plans"): a wave is one SERVER step named after the
wave, its servers CRITICAL unless the wave lists them as ``optional``; each wait before or after a wave
is one WAIT step where it stands; an approval has no native form, nor has an automation step (a health
check, an SSM document, a Lambda function or a script between waves: DRS's steps are SERVER and WAIT
only, and a run in DRS would skip it). Dependencies need no step of their own:
plan validation lets a wave depend only on earlier waves, so the wave order is always an order that
honours every dependency, and DRS running one step after another honours them all. What that costs
(waves that run side by side here run one after another in DRS) is said in words, not as a problem.

``assess`` checks in time linear in the plan, so that an 800-wave plan is answered at once; the notes
on lost parallelism are only worked out for plans that fit (20 steps at most).
"""

from __future__ import annotations

from dataclasses import dataclass

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.native.names import native_name, wait_step_names
from drs_desktop.domain.native.steps import (
    MAX_DESCRIPTION,
    MAX_SERVERS_PER_STEP,
    MAX_STEPS,
    MAX_WAIT_MINUTES,
    MIN_WAIT_MINUTES,
    NativeServer,
    NativeStep,
    NativeStepKind,
    source_server_arn,
)
from drs_desktop.domain.plan.automation import AUTOMATION_STEPS, step_kind
from drs_desktop.domain.plan.model import SERVER_ID_PATTERN, ApprovalStep, RecoveryPlan, WaitStep
from drs_desktop.domain.plan.targets import unplaced, used_target_names
from drs_desktop.domain.plan.validation import resolve_wave_servers

__all__ = ["Assessment", "FitProblem", "assess", "wave_where"]

_SHOWN = 5  # names listed in one sentence before "and N more"


@dataclass(frozen=True)
class FitProblem:
    """One thing a native plan cannot hold: ``code`` for programs, ``where`` ("wave 3 'App tier'") and
    ``text`` (one sentence) for the operator."""

    code: str
    where: str
    text: str


@dataclass(frozen=True)
class Assessment:
    problems: tuple[FitProblem, ...]
    steps: tuple[NativeStep, ...]  # () unless there is no problem
    notes: tuple[str, ...]  # what a native run of a fitting plan does otherwise than a local run


def wave_where(index: int, name: str) -> str:
    return f"wave {index + 1} {name!r}"


def listed(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def assess(plan: RecoveryPlan, plan_name: str, inventory: Inventory | None = None) -> Assessment:
    """Every problem of ``plan`` as a native plan named ``plan_name``; its steps when there is none."""
    problems: list[FitProblem] = []
    _plan_problems(plan, plan_name, problems)
    servers = [resolve_wave_servers(plan, i, inventory) for i in range(len(plan.waves))]
    _wave_problems(plan, servers, inventory, problems)
    count = sum(1 + len(w.before) + len(w.after) for w in plan.waves)
    if count > MAX_STEPS:
        problems.append(
            FitProblem(
                "too_many_steps",
                "plan",
                f"The plan makes {count} native steps ({len(plan.waves)} waves and {count - len(plan.waves)}"
                f" other steps); DRS takes at most {MAX_STEPS}.",
            )
        )
    if problems:
        return Assessment(tuple(problems), (), ())
    steps = _steps(plan, servers, inventory)
    return Assessment((), steps, tuple(_parallelism_notes(plan)) + tuple(_tag_notes(plan, inventory)))


def _plan_problems(plan: RecoveryPlan, plan_name: str, problems: list[FitProblem]) -> None:
    # The plan's name is published as ``native_name`` (the create and UpdateRecoveryPlan send that):
    # a name DRS does not take as it is is a change the publish names, not a problem, unless nothing of
    # it is left. (A problem here once made the nearest plan rename the plan, which the saved nearest plan
    # then undid by keeping its local name: a loop no edit could leave.)
    try:
        native_name(plan_name)
    except ValueError:
        problems.append(
            FitProblem("name_pattern", "plan", f"The plan name {plan_name!r} {_name_problem(plan_name)}.")
        )
    if len(plan.description) > MAX_DESCRIPTION:
        problems.append(
            FitProblem(
                "description_too_long",
                "plan",
                f"The description is {len(plan.description)} characters; DRS keeps at most "
                f"{MAX_DESCRIPTION}.",
            )
        )
    if not plan.waves:
        problems.append(FitProblem("empty_plan", "plan", "The plan has no waves, so no step to run in DRS."))
    stray = unplaced(plan)
    if stray:
        problems.append(
            FitProblem(
                "unplaced_server",
                "plan",
                f"{stray[0]}{' and others' if len(stray) > 1 else ''} is in no declared target, so its "
                "account and Region are unknown.",
            )
        )
    places: dict[tuple[str, str], list[str]] = {}
    for name in used_target_names(plan):
        target = plan.target(name)
        if target is not None:
            places.setdefault((target.account, target.region), []).append(name)
    if len(places) > 1:
        spelled = "; ".join(f"{a}/{r} ({listed(names)})" for (a, r), names in places.items())
        problems.append(
            FitProblem(
                "several_targets",
                "plan",
                f"The servers are in {len(places)} accounts or Regions ({spelled}); a native plan lives "
                "in one account and Region, so publish one plan per target instead.",
            )
        )


def _name_problem(name: str) -> str | None:
    """Why DRS does not take ``name`` as it is (None when it does)."""
    try:
        fixed = native_name(name)
    except ValueError:
        return (
            "holds no ASCII letter or digit, and DRS names are made of letters, digits, spaces, '-' and '_'"
        )
    if fixed == name:
        return None
    if len(name) > 256:
        return f"is {len(name)} characters long; DRS takes at most 256"
    return (
        "holds characters DRS does not take in a name (only letters, digits, spaces, '-' and '_', "
        "starting with a letter or digit)"
    )


def _wave_problems(
    plan: RecoveryPlan,
    servers: list[tuple[str, ...]],
    inventory: Inventory | None,
    problems: list[FitProblem],
) -> None:
    index = {wave.name: i for i, wave in enumerate(plan.waves)}
    seen: dict[str, int] = {}
    for i, wave in enumerate(plan.waves):
        where = wave_where(i, wave.name)
        why = _name_problem(wave.name)
        if why:
            problems.append(
                FitProblem("name_pattern", where, f"The wave name {why}; it names the native step.")
            )
        tag_groups = [
            name for name in wave.groups if (g := plan.group(name)) is not None and g.is_tag_selector
        ]
        if tag_groups and inventory is None:
            problems.append(
                FitProblem(
                    "tag_selector",
                    where,
                    f"Groups {listed(tag_groups)} select servers by tags, and a native step lists its "
                    "servers: read the inventory first, so that they can be resolved.",
                )
            )
        bad = [s for s in servers[i] if not SERVER_ID_PATTERN.match(s)]
        if bad:
            problems.append(FitProblem("server_id", where, f"{listed(bad)} is not a DRS source server ID."))
        twice = [s for s in servers[i] if s in seen]
        if twice:
            problems.append(
                FitProblem(
                    "server_in_two_steps",
                    where,
                    f"{listed(twice)} is also in wave {seen[twice[0]] + 1}; DRS takes a server in one "
                    "step only.",
                )
            )
        for server_id in servers[i]:
            seen.setdefault(server_id, i)
        if not servers[i] and not (tag_groups and inventory is None):
            problems.append(
                FitProblem("empty_wave", where, "The wave has no server; a native server step needs one.")
            )
        if len(servers[i]) > MAX_SERVERS_PER_STEP:
            problems.append(
                FitProblem(
                    "server_step_too_large",
                    where,
                    f"The wave has {len(servers[i])} servers; a native server step takes at most "
                    f"{MAX_SERVERS_PER_STEP}.",
                )
            )
        for side, steps in (("before", wave.before), ("after", wave.after)):
            for k, step in enumerate(steps):
                at = f"{where}, {side} step {k + 1}"
                if isinstance(step, ApprovalStep):
                    problems.append(
                        FitProblem(
                            "approval_gate",
                            at,
                            "An approval waits for a person, and DRS has no step that does: only "
                            "timed waits.",
                        )
                    )
                elif isinstance(step, AUTOMATION_STEPS):
                    problems.append(
                        FitProblem(
                            "automation_step",
                            at,
                            f"The {step_kind(step)} step {step.name!r} runs between waves here, and DRS's "
                            "native steps are SERVER and WAIT only: it is not published, and a run in DRS "
                            "would not run it. Run the plan from the desktop to run it.",
                        )
                    )
                elif isinstance(step, WaitStep) and not MIN_WAIT_MINUTES <= step.minutes <= MAX_WAIT_MINUTES:
                    problems.append(
                        FitProblem(
                            "wait_out_of_range",
                            at,
                            f"A wait of {step.minutes} minutes; a native wait step lasts 1 to "
                            f"{MAX_WAIT_MINUTES} minutes.",
                        )
                    )
        late = [d for d in plan.dependencies(i) if index.get(d, len(plan.waves)) >= i]
        if late:
            problems.append(
                FitProblem(
                    "dependency_not_linear",
                    where,
                    f"The wave depends on {listed(late)}, which does not come before it: DRS runs steps in "
                    "order, so each wave may depend only on waves listed before it.",
                )
            )


def _steps(
    plan: RecoveryPlan, servers: list[tuple[str, ...]], inventory: Inventory | None
) -> tuple[NativeStep, ...]:
    arns = {s.source_server_id: s.arn for s in inventory.servers} if inventory is not None else {}
    place = _place(plan)
    sequence: list[NativeStep | int] = []  # a SERVER step, or a WAIT's minutes
    for i, wave in enumerate(plan.waves):
        sequence.extend(s.minutes for s in wave.before if isinstance(s, WaitStep))
        members = []
        for server_id in servers[i]:
            arn = arns.get(server_id, "")
            if not arn and place is not None:
                arn = source_server_arn(place[0], place[1], server_id)
            members.append(NativeServer(server_id, str(wave.impact_of(server_id)), arn=arn))
        sequence.append(NativeStep(wave.name, NativeStepKind.SERVER, tuple(members)))
        sequence.extend(s.minutes for s in wave.after if isinstance(s, WaitStep))
    names = wait_step_names([s.name if isinstance(s, NativeStep) else None for s in sequence])
    return tuple(
        s if isinstance(s, NativeStep) else NativeStep(str(n), NativeStepKind.WAIT, wait_minutes=s)
        for s, n in zip(sequence, names, strict=True)
    )


def _place(plan: RecoveryPlan) -> tuple[str, str] | None:
    """The account and Region of a plan whose servers are in declared targets (None: the connected one)."""
    for name in used_target_names(plan):
        target = plan.target(name)
        if target is not None and target.account and target.region:
            return target.account, target.region
    return None


def _parallelism_notes(plan: RecoveryPlan) -> list[str]:
    """For each wave that would start earlier here than in DRS: which earlier waves it waits for there."""
    notes = []
    closure: list[set[int]] = []
    index = {wave.name: i for i, wave in enumerate(plan.waves)}
    for i, wave in enumerate(plan.waves):
        needs: set[int] = set()
        for dep in plan.dependencies(i):
            j = index[dep]
            needs |= {j} | closure[j]
        closure.append(needs)
        extra = [plan.waves[j].name for j in range(i) if j not in needs]
        if extra:
            notes.append(
                f"{wave_where(i, wave.name)} does not depend on {listed(extra)}, but DRS runs steps one "
                "after another: it starts only once they have completed, later than a local run starts "
                "it, and waits while a failed step there is retried or skipped."
            )
    return notes


def _tag_notes(plan: RecoveryPlan, inventory: Inventory | None) -> list[str]:
    if inventory is None:
        return []
    notes = []
    for wave in plan.waves:
        for name in wave.groups:
            group = plan.group(name)
            if group is not None and group.tags is not None:
                found = len(inventory.matching(group.tags))
                notes.append(
                    f"Group {name!r} selects servers by tags: the native step lists the {found} servers "
                    "tagged so now; publish again when the tags change."
                )
    return notes
