"""A local plan from a native DRS plan's steps (importing a plan made in DRS).

Each SERVER step becomes a wave of the same name and servers, each depending on the one before (the
straight line DRS runs), its OPTIONAL servers listed as the wave's ``optional`` (the plan model says
impact that way, so nothing is lost). Each WAIT step becomes a wait before the next wave, or after the
last wave when no SERVER step follows. A WAIT step's name has no local place: publishing the plan again
names the waits by where they stand ("Wait after Databases"), an in-place rename.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from drs_desktop.domain.native.steps import NativeStep, NativeStepKind
from drs_desktop.domain.plan.model import RecoveryPlan, Step, WaitStep, Wave
from drs_desktop.domain.plan_target import PlanTarget

__all__ = ["plan_from_native"]


def plan_from_native(
    name: str, description: str, steps: Sequence[NativeStep], *, target: PlanTarget | None = None
) -> RecoveryPlan:
    """The local plan of a native plan. ``target``, when given, is declared as the plan's only target
    (the account and Region it was imported from); without it the plan is in the connected target.
    ValueError when the steps hold waits but no server step: a wait has no local place without a wave."""
    waves: list[Wave] = []
    pending: list[Step] = []
    for step in steps:
        if step.kind is NativeStepKind.WAIT:
            if step.wait_minutes is None:
                raise ValueError(f"wait step {step.name!r} has no duration")
            pending.append(WaitStep(step.wait_minutes))
            continue
        ids = tuple(s.source_server_id for s in step.servers)
        waves.append(
            Wave(
                name=step.name,
                servers=ids,
                optional=tuple(s.source_server_id for s in step.servers if s.impact == "OPTIONAL"),
                before=tuple(pending),
            )
        )
        pending = []
    if pending:
        if not waves:
            raise ValueError(
                f"native plan {name!r} holds only wait steps; a local plan needs a wave for them"
            )
        waves[-1] = replace(waves[-1], after=tuple(pending))
    return RecoveryPlan(
        name=name,
        description=description,
        waves=tuple(waves),
        targets=(target,) if target is not None else (),
    )
