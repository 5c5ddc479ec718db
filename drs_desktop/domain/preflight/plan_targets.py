"""Preflight of a plan's targets: every server is in a declared target, and the run goes where they are.

A plan that declares targets must say which target each group and server is in: an entry in none would
be looked for in whatever account is connected, so preflight fails on it, and ``create_execution``
refuses it too. A plan whose servers are all in the connected target runs there as before; one whose
servers are (also) in other targets runs across them, each target with its own gateway and quotas
(``domain.engine.accounts``); its per-target checks (credentials, permissions, quotas, replication) are
preflight's other checks, run in each target.

Pure: the connected target (account as DRS answered, Region and profile of the run) is passed in.
"""

from __future__ import annotations

from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan
from drs_desktop.domain.plan.targets import Connected, target_matches, unplaced, used_target_names
from drs_desktop.domain.preflight.rules import Check, CheckStatus

__all__ = ["TARGETS", "target_checks", "unplaced_problem"]

#: The check's name (stable, for --json and the GUI).
TARGETS = "targets"


def _where(account: str, region: str) -> str:
    return f"{account or 'account ?'}/{region or 'region ?'}"


def _named(target: PlanTarget) -> str:
    return f"{target.name!r} ({_where(target.account, target.region)})"


def unplaced_problem(plan: RecoveryPlan) -> str | None:
    """Why ``plan`` may not run at all, or None when it may: an entry in no declared target."""
    lost = unplaced(plan)
    if not lost:
        return None
    shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
    return (
        f"this plan declares targets but does not say which one {shown} is in: it would be looked "
        "for in whatever account is connected. Name its target (target: on the group or the wave, "
        "or {id, target} for one server)"
    )


def target_checks(plan: RecoveryPlan, connected: Connected) -> list[Check]:
    """One FAIL when an entry of the plan is in no declared target; else one PASS naming where the run
    goes (the connected target, or across targets); nothing for a plan without targets."""
    if not plan.targets:
        return []
    problem = unplaced_problem(plan)
    if problem is not None:
        return [Check(TARGETS, CheckStatus.FAIL, problem)]
    used = [target for name in used_target_names(plan) if (target := plan.target(name)) is not None]
    where = _where(connected.account, connected.region)
    if all(target_matches(target, connected) for target in used):
        names = ", ".join(repr(target.name) for target in used) or "none"
        return [
            Check(
                TARGETS,
                CheckStatus.PASS,
                f"the plan's servers are in the connected target ({names}: {where})",
            )
        ]
    across = ", ".join(_named(target) for target in used)
    return [
        Check(
            TARGETS,
            CheckStatus.PASS,
            f"the run goes across targets {across}, each with its own credentials and quotas",
        )
    ]
