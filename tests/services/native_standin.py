"""A minimal private stand-in for drs_desktop.domain.native (branch n-nfit), for these tests ONLY.

Installed into ``sys.modules`` by ``install()`` only when the real package cannot be imported, so once the
domain branch is merged the tests run against the real one and this file can be deleted. It follows the
fixed interface of the issue-15 brief; its mapping is the simplest one (a wave -> a SERVER step, waits
before/after -> WAIT steps, an approval does not fit).
"""

from __future__ import annotations

import importlib
import re
import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from drs_desktop.domain.plan.model import RecoveryPlan, WaitStep, Wave

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9 _-]*\Z")


class NativeStepKind(StrEnum):
    SERVER = "SERVER"
    WAIT = "WAIT"


@dataclass(frozen=True)
class NativeServer:
    source_server_id: str
    impact: str


@dataclass(frozen=True)
class NativeStep:
    name: str
    kind: NativeStepKind
    servers: tuple[NativeServer, ...] = ()
    wait_minutes: int | None = None

    def wire(self) -> dict[str, Any]:
        if self.kind is NativeStepKind.WAIT:
            return {"waitStepConfiguration": {"waitDurationMinutes": self.wait_minutes}}
        return {
            "serverStepConfiguration": {
                "servers": [{"serverArn": s.source_server_id, "impactLevel": s.impact} for s in self.servers]
            }
        }

    @classmethod
    def from_wire(cls, item: Mapping[str, Any]) -> NativeStep:
        name = item.get("stepName")
        config = item.get("configuration")
        if not isinstance(name, str) or not isinstance(config, Mapping):
            raise ValueError("stepName or configuration missing")
        if "waitStepConfiguration" in config:
            return cls(
                name,
                NativeStepKind.WAIT,
                wait_minutes=int(config["waitStepConfiguration"]["waitDurationMinutes"]),
            )
        servers = config.get("serverStepConfiguration", {}).get("servers")
        if not isinstance(servers, list):
            raise ValueError("configuration.serverStepConfiguration.servers missing")
        return cls(
            name,
            NativeStepKind.SERVER,
            tuple(
                NativeServer(str(s["serverArn"]).rsplit("/", 1)[-1], str(s.get("impactLevel", "CRITICAL")))
                for s in servers
            ),
        )


@dataclass(frozen=True)
class FitProblem:
    code: str
    where: str
    text: str


@dataclass(frozen=True)
class FitReport:
    problems: tuple[FitProblem, ...]
    steps: tuple[NativeStep, ...]
    nearest: RecoveryPlan | None
    changes: tuple[str, ...]

    @property
    def fits(self) -> bool:
        return not self.problems


def native_name(name: str) -> str:
    cleaned = re.sub(r"[^a-zA-Z0-9 _-]", "-", name).strip(" -_")
    if not cleaned or not _NAME.match(cleaned):
        raise ValueError(f"{name!r} has no DRS-valid form")
    return cleaned[:256]


def fit(plan: RecoveryPlan, *, plan_name: str) -> FitReport:
    problems: list[FitProblem] = []
    steps: list[NativeStep] = []
    for index, wave in enumerate(plan.waves, start=1):
        where = f"wave {index} {wave.name!r}"
        for position, gates in (("before", wave.before), ("after", wave.after)):
            for n, gate in enumerate(gates, start=1):
                if not isinstance(gate, WaitStep):
                    problems.append(FitProblem("approval_gate", where, "an approval gate has no native step"))
                    continue
                if position == "after":
                    continue
                steps.append(
                    NativeStep(
                        f"{native_name(wave.name)} wait {n}", NativeStepKind.WAIT, wait_minutes=gate.minutes
                    )
                )
        servers = tuple(NativeServer(s, str(wave.impact_of(s))) for s in wave.servers)
        steps.append(NativeStep(native_name(wave.name), NativeStepKind.SERVER, servers))
        for n, gate in enumerate(wave.after, start=1):
            if isinstance(gate, WaitStep):
                steps.append(
                    NativeStep(
                        f"{native_name(wave.name)} after {n}", NativeStepKind.WAIT, wait_minutes=gate.minutes
                    )
                )
    if len(steps) > 20:
        problems.append(FitProblem("too_many_steps", "plan", f"{len(steps)} steps; DRS takes at most 20"))
    if problems:
        nearest_changes = tuple(
            "approval -> wait of 5 minutes" for p in problems if p.code == "approval_gate"
        )
        return FitReport(tuple(problems), (), None, nearest_changes)
    return FitReport((), tuple(steps), None, ())


@dataclass(frozen=True)
class StepChange:
    op: str
    step: NativeStep | None
    before: NativeStep | None
    order: int | None


def step_changes(
    desired: Sequence[NativeStep], actual: Sequence[tuple[str, NativeStep]]
) -> tuple[StepChange, ...]:
    have = {s.name: s for _, s in actual}
    want = {s.name for s in desired}
    out = [StepChange("delete", None, s, None) for _, s in actual if s.name not in want]
    for order, step in enumerate(desired, start=1):
        old = have.get(step.name)
        if old is None:
            out.append(StepChange("create", step, None, order))
        elif old != step:
            out.append(StepChange("update", step, old, order))
    kept = [s.name for _, s in actual if s.name in want]
    if kept != [s.name for s in desired if s.name in have]:
        out.extend(
            StepChange("reorder", s, have[s.name], o)
            for o, s in enumerate(desired, start=1)
            if s.name in have
        )
    return tuple(out)


def describe_drift(linked: Sequence[NativeStep], actual: Sequence[NativeStep]) -> tuple[str, ...]:
    lines = []
    a = {s.name: s for s in actual}
    b = {s.name: s for s in linked}
    lines += [f"step {n!r} was added" for n in a if n not in b]
    lines += [f"step {n!r} was removed" for n in b if n not in a]
    lines += [f"step {n!r} changed" for n in a if n in b and a[n] != b[n]]
    if not lines and [s.name for s in linked] != [s.name for s in actual]:
        lines.append("the steps were reordered")
    return tuple(lines)


def plan_from_native(name: str, description: str, steps: Sequence[NativeStep]) -> RecoveryPlan:
    waves: list[Wave] = []
    waits: list[WaitStep] = []
    for step in steps:
        if step.kind is NativeStepKind.WAIT:
            waits.append(WaitStep(int(step.wait_minutes or 0)))
            continue
        optional = tuple(s.source_server_id for s in step.servers if s.impact == "OPTIONAL")
        waves.append(
            Wave(
                step.name,
                servers=tuple(s.source_server_id for s in step.servers),
                optional=optional,
                before=tuple(waits),
            )
        )
        waits = []
    if waits and waves:
        waves[-1] = Wave(**{**waves[-1].__dict__, "after": tuple(waits)})
    return RecoveryPlan(name=name, description=description, waves=tuple(waves))


def install() -> None:
    """Register the stand-in modules unless the real drs_desktop.domain.native is there."""
    try:
        importlib.import_module("drs_desktop.domain.native.steps")
        return
    except ImportError:
        pass
    here = sys.modules[__name__]
    package = types.ModuleType("drs_desktop.domain.native")
    package.__path__ = []
    sys.modules["drs_desktop.domain.native"] = package
    for sub in ("steps", "fit", "drift", "importing"):
        sys.modules[f"drs_desktop.domain.native.{sub}"] = here
