"""Does a local plan fit a native DRS recovery plan, and if not, what is the nearest plan that does.

``fit`` answers with every problem at once (``assess``), the native steps when there is none, and
otherwise the nearest plan (``nearest``), checked again so that it always fits. ``changes`` says in
words what the native plan does otherwise than the local one: what the nearest plan changed, and what
running in DRS costs even a plan that fits (waves that run side by side here run one after another).
"""

from __future__ import annotations

from dataclasses import dataclass

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.native.assess import FitProblem, assess
from drs_desktop.domain.native.names import native_name
from drs_desktop.domain.native.nearest import nearest_plan
from drs_desktop.domain.native.steps import MAX_STEPS, NativeStep
from drs_desktop.domain.plan.model import RecoveryPlan

__all__ = ["DEFAULT_APPROVAL_WAIT_MINUTES", "FitProblem", "FitReport", "Plan", "fit", "native_name"]

Plan = RecoveryPlan

#: How long the nearest plan waits in place of an approval: long enough for someone watching to cancel.
DEFAULT_APPROVAL_WAIT_MINUTES = 30


@dataclass(frozen=True)
class FitReport:
    problems: tuple[FitProblem, ...]
    steps: tuple[NativeStep, ...]  # the native steps of the plan when it fits, else ()
    nearest: RecoveryPlan | None  # the nearest plan that fits, when the plan does not and one exists
    changes: tuple[str, ...]  # what the native plan does otherwise than the local one, in words

    @property
    def fits(self) -> bool:
        return not self.problems


def fit(
    plan: RecoveryPlan,
    *,
    plan_name: str,
    inventory: Inventory | None = None,
    approval_wait_minutes: int = DEFAULT_APPROVAL_WAIT_MINUTES,
) -> FitReport:
    """Whether ``plan``, published as ``plan_name``, fits a native plan. ``inventory`` (of the plan's
    account and Region) resolves tag groups and gives the servers' ARNs; without it a tag group does
    not fit, and servers get ARNs from the plan's declared target only (else ``NativeStep.wire`` builds
    them from the account and Region it is given)."""
    if not 1 <= approval_wait_minutes <= 120:
        raise ValueError(f"approval_wait_minutes is {approval_wait_minutes}; DRS waits 1 to 120 minutes")
    found = assess(plan, plan_name, inventory)
    if found.steps:
        return FitReport((), found.steps, None, found.notes)
    nearest, changes, count = nearest_plan(plan, plan_name, found.problems, inventory, approval_wait_minutes)
    if nearest is None:
        problems = found.problems
        if count and not any(p.code == "too_many_steps" for p in problems):
            problems += (
                FitProblem(
                    "too_many_steps",
                    "plan",
                    f"With its approvals as waits and its long waits and big waves split, the plan would "
                    f"make {count} native steps; DRS takes at most {MAX_STEPS}.",
                ),
            )
        return FitReport(problems, (), None, ())
    again = assess(nearest, nearest.name, inventory)
    if again.problems:  # never offer a plan that does not fit; nearest_plan's rules should prevent it
        return FitReport(found.problems, (), None, ())
    return FitReport(found.problems, (), nearest, tuple(changes) + again.notes)
