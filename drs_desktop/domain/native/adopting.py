"""DRS's side of a drift, merged into the local plan ("Take DRS's"): what the native plan cannot express
is kept, and what is lost is said before anything is saved.

A native plan holds steps only: SERVER steps (servers, CRITICAL or OPTIONAL) and WAIT steps. The local
plan holds more, and ``merge_native`` keeps it where DRS's steps still allow:

- the plan's description (unless DRS's is given), RTO/RPO, targets and protection group definitions;
- a wave's protection groups when its groups and servers still select exactly the servers DRS's step
  has (a tag group is resolved in ``inventory``; without one it cannot be checked, and is given up);
- a wave's target and per-server targets, for the servers it still has;
- a wave's dependencies on waves that still come before it (DRS runs steps one after another, so the
  order satisfies them); a dependency on a wave that is gone or now runs later is dropped, and said.

Approvals and automation steps have no native form: a wave's are dropped, and said. ``diff_plans`` of
the stored plan and the merged one (the caller's) lists every other change, local unpublished edits included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.native.importing import plan_from_native
from drs_desktop.domain.native.steps import NativeStep
from drs_desktop.domain.plan.automation import AUTOMATION_STEPS
from drs_desktop.domain.plan.diff import diff_plans
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import resolve_wave_servers

__all__ = ["merge_native"]


def merge_native(
    plan: RecoveryPlan,
    steps: Sequence[NativeStep],
    *,
    description: str | None = None,
    inventory: Inventory | None = None,
) -> tuple[RecoveryPlan, tuple[str, ...]]:
    """``plan`` with DRS's ``steps`` as its waves, keeping what the native plan cannot express; and, in
    words, every change from ``plan`` (what is lost first). ValueError as ``plan_from_native``."""
    base = plan_from_native(plan.name, plan.description if description is None else description, steps)
    old = {wave.name: (index, wave) for index, wave in enumerate(plan.waves)}
    lost: list[str] = []
    waves: list[Wave] = []
    for new in base.waves:
        found = old.get(new.name)
        if found is None:
            waves.append(new)
            continue
        index, was = found
        kept = _kept_groups(plan, index, was, new, inventory, lost)
        present = set(new.servers)
        kept = replace(
            kept,
            target=was.target,
            server_targets={k: v for k, v in was.server_targets.items() if k in present},
        )
        approvals = [s for s in (*was.before, *was.after) if isinstance(s, ApprovalStep)]
        if approvals:
            lost.append(
                f"Wave {new.name!r}: {len(approvals)} approval(s) dropped (a native plan has no approvals)."
            )
        automated = [s.name for s in (*was.before, *was.after) if isinstance(s, AUTOMATION_STEPS)]
        if automated:
            lost.append(
                f"Wave {new.name!r}: automation step(s) {', '.join(map(repr, automated))} dropped (a native "
                "plan has SERVER and WAIT steps only)."
            )
        waves.append(kept)
    waves = _kept_dependencies(waves, old, lost)
    merged = replace(plan, description=base.description, waves=tuple(waves))
    return merged, (*lost, *diff_plans(plan, merged))


def _kept_groups(
    plan: RecoveryPlan, index: int, was: Wave, new: Wave, inventory: Inventory | None, lost: list[str]
) -> Wave:
    if not was.groups:
        return new
    selected = set(resolve_wave_servers(plan, index, inventory))
    unresolved = any(
        (group := plan.group(name)) is not None and group.is_tag_selector and inventory is None
        for name in was.groups
    )
    if not unresolved and selected == set(new.servers):
        servers = tuple(s for s in was.servers if s in selected)
        return replace(new, groups=was.groups, servers=servers)
    why = "cannot be checked without an inventory" if unresolved else "no longer select DRS's servers"
    lost.append(
        f"Wave {new.name!r}: protection group(s) {', '.join(repr(g) for g in was.groups)} {why}; the wave "
        "lists DRS's servers by ID."
    )
    return new


def _kept_dependencies(waves: list[Wave], old: dict[str, tuple[int, Wave]], lost: list[str]) -> list[Wave]:
    out: list[Wave] = []
    before: set[str] = set()
    for wave in waves:
        was = old.get(wave.name)
        if was is not None and was[1].depends_on is not None:
            deps = was[1].depends_on
            kept = tuple(d for d in deps if d in before)
            dropped = [d for d in deps if d not in before]
            if dropped:
                lost.append(
                    f"Wave {wave.name!r}: its dependency on {', '.join(repr(d) for d in dropped)} is dropped "
                    "(that wave is gone from DRS's plan or now runs after it)."
                )
            wave = replace(wave, depends_on=kept)
        out.append(wave)
        before.add(wave.name)
    return out
