"""Preflight of a plan's targets: a plan runs only where its servers are.

Until the engine drives plans across targets (issue 13, "Engine"), a run talks to one DRS: the connected
target. A plan whose servers are in a declared target other than that one must not start there (its
server IDs would be unknown at best; a tag selector would pick the connected account's servers at worst),
so preflight fails with the targets named, and ``create_execution`` refuses it too. A plan that declares
no targets, or whose only target in use is the connected one, runs as before.

Pure: the connected target (account as DRS answered, Region and profile of the run) is passed in.
"""

from __future__ import annotations

from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan
from drs_desktop.domain.plan.targets import Connected, target_matches, unplaced, used_target_names
from drs_desktop.domain.preflight.rules import Check, CheckStatus

__all__ = ["TARGETS", "foreign_target_problem", "target_checks"]

#: The check's name (stable, for --json and the GUI).
TARGETS = "targets"
#: What brings runs across targets, for the refusal.
MULTI_TARGET_ENGINE = "the multi-target engine (a later DRS Desktop release)"


def _where(account: str, region: str) -> str:
    return f"{account or 'account ?'}/{region or 'region ?'}"


def _named(target: PlanTarget) -> str:
    return f"{target.name!r} ({_where(target.account, target.region)})"


def foreign_target_problem(plan: RecoveryPlan, connected: Connected) -> str | None:
    """Why ``plan`` may not run connected to ``connected``, or None when it may."""
    lost = unplaced(plan)
    if lost:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        return (
            f"this plan declares targets but does not say which one {shown} is in: it would be looked "
            "for in whatever account is connected. Name its target (target: on the group or the wave, "
            "or {id, target} for one server)"
        )
    used = [target for name in used_target_names(plan) if (target := plan.target(name)) is not None]
    foreign = [target for target in used if not target_matches(target, connected)]
    if not foreign:
        return None
    here = _where(connected.account, connected.region)
    if connected.profile:
        here += f" through profile {connected.profile!r}"
    if len(used) == 1:
        return (
            f"this plan's servers are in target {_named(used[0])}, not in the connected one ({here}): "
            "connect to that account and Region (settings, or --profile/--region) to run it"
        )
    return (
        f"this plan spans targets {', '.join(_named(t) for t in used)}; the connected target is {here}. "
        f"Running a plan across targets comes with {MULTI_TARGET_ENGINE}; until then run it per target: "
        "a plan for each target's servers, each run connected to its target"
    )


def target_checks(plan: RecoveryPlan, connected: Connected) -> list[Check]:
    """One FAIL when the plan's servers are (also) in another target; one PASS when the plan declares
    targets and uses only the connected one; nothing for a plan without targets (format 1's meaning)."""
    if not plan.targets:
        return []
    problem = foreign_target_problem(plan, connected)
    if problem is not None:
        return [Check(TARGETS, CheckStatus.FAIL, problem)]
    names = ", ".join(repr(name) for name in used_target_names(plan)) or "none"
    where = _where(connected.account, connected.region)
    return [
        Check(TARGETS, CheckStatus.PASS, f"the plan's servers are in the connected target ({names}: {where})")
    ]
