"""Where each step of a native plan stands in the local plan it was published from, for a run in DRS.

Publishing lays a plan out as, wave by wave: the wave's waits before it, one SERVER step with the wave's
servers, the wave's waits after it (``native.assess``; approvals and automation steps have no native
place, so a plan with one is not published). A run in DRS reads the execution's steps by that layout: a
SERVER step is its wave's launch, a WAIT step one of its wave's before or after steps
(``engine.native_state.NativeStepMap``). The servers of each wave are those of its SERVER step as
published: what DRS will launch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drs_desktop.domain.engine.native_state import NativeStepMap
from drs_desktop.domain.native.steps import NativeStep, NativeStepKind
from drs_desktop.domain.plan.automation import step_kind
from drs_desktop.domain.plan.model import RecoveryPlan, WaitStep

__all__ = ["RunLayout", "run_layout"]


@dataclass(frozen=True)
class RunLayout:
    """The step map of a run in DRS, and each wave's servers (wave name -> source server IDs)."""

    steps: tuple[NativeStepMap, ...]
    wave_servers: dict[str, tuple[str, ...]]
    optional: dict[str, tuple[str, ...]]


def run_layout(plan: RecoveryPlan, published: Sequence[NativeStep]) -> RunLayout:
    """The layout of ``published`` (the native plan's steps, in order) over ``plan``. ValueError, saying
    where, when the steps are not the plan's layout (the plan or the native plan changed since)."""
    expected: list[tuple[str, int, str, int, int | None]] = []  # kind, wave, phase, step, minutes
    for index, wave in enumerate(plan.waves):
        for phase, wave_steps in (("BEFORE", wave.before), ("AFTER", wave.after)):
            if phase == "AFTER":
                expected.append(("SERVER", index, "", 0, None))
            for i, local in enumerate(wave_steps):
                if not isinstance(local, WaitStep):
                    raise ValueError(
                        f"wave {wave.name!r} has a step of kind {step_kind(local)!r}, which DRS's native "
                        "plans do not have"
                    )
                expected.append(("WAIT", index, phase, i, local.minutes))
    if len(expected) != len(published):
        raise ValueError(
            f"the native plan has {len(published)} step(s) and the plan lays out as {len(expected)}: publish "
            "the plan again"
        )
    steps: list[NativeStepMap] = []
    wave_servers: dict[str, tuple[str, ...]] = {}
    optional: dict[str, tuple[str, ...]] = {}
    for number, (want, step) in enumerate(zip(expected, published, strict=True), start=1):
        kind, wave_index, phase, step_index, minutes = want
        wave = plan.waves[wave_index]
        if step.kind.value != kind:
            raise ValueError(
                f"native step {number} ({step.name!r}) is a {step.kind.value} step where the plan has a "
                f"{kind} step of wave {wave.name!r}: publish the plan again"
            )
        if step.kind is NativeStepKind.WAIT and step.wait_minutes != minutes:
            raise ValueError(
                f"native step {number} ({step.name!r}) waits {step.wait_minutes} minutes where wave "
                f"{wave.name!r} waits {minutes}: publish the plan again"
            )
        if step.kind is NativeStepKind.SERVER:
            wave_servers[wave.name] = tuple(s.source_server_id for s in step.servers)
            optional[wave.name] = tuple(s.source_server_id for s in step.servers if s.impact == "OPTIONAL")
        steps.append(
            NativeStepMap(
                index=number,
                name=step.name,
                kind=kind,
                wave_index=wave_index,
                phase=phase,
                step_index=step_index,
                wait_minutes=step.wait_minutes,
            )
        )
    return RunLayout(tuple(steps), wave_servers, optional)
