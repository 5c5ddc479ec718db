"""The calls that make a native plan's steps what they should be, and drift in words.

``step_changes`` matches steps by name first (names are unique within a plan), so republishing after an
edit updates a step in place and a step that only moved is reordered, never deleted and created again.
What is left unmatched is paired by kind (DRS cannot change a step's kind) into one update (a rename,
with its new configuration) rather than a delete and a create; the rest is deleted or created.

The changes come in the order they are to be applied, which keeps a plan within DRS's 20 steps and never
asks for a name another step still holds: deletes, updates, then at most one reorder of the steps that
stay, then the creates, each with the ``stepOrder`` of its final place (applied in that order, each lands
where it belongs). A reorder is one ReorderRecoveryPlanSteps call: every "reorder" change names one step
that moved (its final place in ``order``) and carries the same ``ordered_arns``, the call's complete list;
make the call once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from drs_desktop.domain.native.steps import NativeStep, NativeStepKind

__all__ = ["LOCAL", "StepChange", "describe_drift", "same_steps", "step_changes", "steps_digest"]


#: ``describe_drift``'s ``where`` for the local edits not published yet (never "in DRS": they are not).
LOCAL = "here (not published yet)"


@dataclass(frozen=True)
class StepChange:
    op: str  # "create" | "update" | "delete" | "reorder"
    step: NativeStep | None  # the desired step (None for a delete)
    before: NativeStep | None  # the step as it is in DRS (None for a create)
    order: int | None  # create: its stepOrder (1-based); reorder: the place it moves to
    arn: str | None = None  # the step's ARN (None for a create)
    ordered_arns: tuple[str, ...] = ()  # reorder: the steps that stay, in their new order


def _pair(
    desired: Sequence[NativeStep], actual: Sequence[tuple[str, NativeStep]], *, loose: bool = True
) -> tuple[dict[int, int], list[int], list[int]]:
    """desired index -> actual index of the steps kept; the desired and actual indexes left over.
    ``loose``: a leftover step may become another of its kind by a rename and a change (one update
    call); otherwise only a step that is the same but for its name (what drift calls a rename)."""
    by_name = {step.name: j for j, (_, step) in enumerate(actual)}
    kept: dict[int, int] = {}
    for i, step in enumerate(desired):
        j = by_name.get(step.name)
        if j is not None and actual[j][1].kind == step.kind:
            kept[i] = j
    used = set(kept.values())
    free_actual = [j for j in range(len(actual)) if j not in used]
    # A leftover desired step may take over a leftover actual step by a rename, when no step holds its name.
    wanting = [i for i in range(len(desired)) if i not in kept and desired[i].name not in by_name]
    for exact in (
        (True, False) if loose else (True,)
    ):  # a pure rename first, then any step of the same kind, in order
        for i in wanting:
            if i in kept:
                continue
            for j in free_actual:
                if actual[j][1].kind == desired[i].kind and (
                    not exact or actual[j][1].same_content(desired[i])
                ):
                    kept[i] = j
                    free_actual.remove(j)
                    break
    created = [i for i in range(len(desired)) if i not in kept]
    return kept, created, free_actual


def same_steps(a: Sequence[NativeStep], b: Sequence[NativeStep]) -> bool:
    """Whether two step sequences are the same plan: names, order and content (``same_content``: DRS
    need not list a step's servers in the order they were sent)."""
    return len(a) == len(b) and all(x.name == y.name and x.same_content(y) for x, y in zip(a, b, strict=True))


def steps_digest(steps: Sequence[NativeStep], *, name: str = "", description: str = "") -> str:
    """A short fingerprint of a native plan as read (steps, name, description; servers in any order):
    what a preview or a diff showed, so that acting on it can be refused when DRS changed since."""
    parts = [name, description]
    for step in steps:
        servers = sorted(f"{s.source_server_id}={s.impact}" for s in step.servers)
        parts.append(f"{step.name}|{step.kind}|{step.wait_minutes}|{','.join(servers)}")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def step_changes(
    desired: Sequence[NativeStep], actual: Sequence[tuple[str, NativeStep]]
) -> tuple[StepChange, ...]:
    """The changes that make ``actual`` ((ARN, step) in DRS's order) equal to ``desired``."""
    names = [s.name for s in desired]
    if len(set(names)) != len(names):
        raise ValueError("step names must be unique within a plan")
    kept, created, deleted = _pair(desired, actual)
    changes = [StepChange("delete", None, actual[j][1], None, actual[j][0]) for j in deleted]
    for i in sorted(kept):
        arn, now = actual[kept[i]]
        want = desired[i]
        if now.name != want.name or not now.same_content(want):
            changes.append(StepChange("update", want, now, None, arn))
    # The kept steps in desired order; they are in actual order after the deletes: reorder when they differ.
    stay = sorted(kept, key=lambda i: kept[i])  # desired indexes, in actual order
    wanted = sorted(kept)
    if stay != wanted:
        ordered = tuple(actual[kept[i]][0] for i in wanted)
        steady = _longest_increasing(stay)
        for rank, i in enumerate(wanted):
            if i not in steady:
                arn, now = actual[kept[i]]
                changes.append(StepChange("reorder", desired[i], now, rank + 1, arn, ordered))
    changes.extend(StepChange("create", desired[i], None, i + 1) for i in created)
    return tuple(changes)


def _longest_increasing(values: list[int]) -> set[int]:
    """The values of a longest increasing subsequence: the steps that need not move."""
    best: list[list[int]] = []
    for value in values:
        longest = max((chain for chain in best if chain[-1] < value), key=len, default=[])
        best.append([*longest, value])
    chosen: list[int] = max(best, key=len) if best else []
    return set(chosen)


def describe_drift(
    linked: Sequence[NativeStep], actual: Sequence[NativeStep], *, where: str = "in DRS"
) -> tuple[str, ...]:
    """What was changed in DRS since ``linked`` (the steps published) was published, per step and
    server, in words; () when nothing was. ``where`` says on which side ``actual`` was changed: "in DRS",
    or ``LOCAL`` for the local edits since the publish."""
    kept, created, deleted = _pair(actual, [(str(i), s) for i, s in enumerate(linked)], loose=False)
    lines: list[str] = []
    for i in deleted:
        lines.append(f"Step {linked[i].name!r} ({_what(linked[i])}) was removed {where}.")
    for i in sorted(kept):
        was, now = linked[kept[i]], actual[i]
        if was.name != now.name:
            lines.append(f"Step {was.name!r} was renamed {now.name!r} {where}.")
        lines.extend(_content_drift(now.name, was, now, where))
    was_rank = {j: rank for rank, j in enumerate(sorted(kept.values()), start=1)}
    moved = [
        f"{actual[i].name!r} is step {rank} (was {was_rank[kept[i]]})"
        for rank, i in enumerate(sorted(kept), start=1)
        if was_rank[kept[i]] != rank
    ]
    if moved:
        lines.append(f"Steps were reordered {where}, among those kept: " + "; ".join(moved) + ".")
    for i in created:
        lines.append(f"Step {actual[i].name!r} ({_what(actual[i])}) was added {where}, as step {i + 1}.")
    return tuple(lines)


def _what(step: NativeStep) -> str:
    if step.kind is NativeStepKind.WAIT:
        return f"a wait of {step.wait_minutes} minutes"
    return f"{len(step.servers)} server{'s' if len(step.servers) != 1 else ''}"


def _content_drift(name: str, was: NativeStep, now: NativeStep, where: str) -> list[str]:
    if was.kind is NativeStepKind.WAIT:
        if was.wait_minutes != now.wait_minutes:
            return [f"Step {name!r} waits {now.wait_minutes} minutes {where}, not {was.wait_minutes}."]
        return []
    before = {s.source_server_id: s.impact for s in was.servers}
    after = {s.source_server_id: s.impact for s in now.servers}
    lines = [f"Step {name!r}: server {s} was added {where} ({after[s]})." for s in after if s not in before]
    lines += [f"Step {name!r}: server {s} was removed {where}." for s in before if s not in after]
    lines += [
        f"Step {name!r}: server {s} is {after[s]} {where}, not {before[s]}."
        for s in after
        if s in before and before[s] != after[s]
    ]
    return lines
