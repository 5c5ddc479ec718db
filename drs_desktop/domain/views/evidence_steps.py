"""The evidence of a wave's automation steps: each step with how it ended, each attempt with what it found
(per target: a probe's answer, an SSM invocation's status and output's tail), and who decided a held one.

A step the run never reached is listed as NOT RUN, so the report shows every step the plan had; one
under way (or waiting for the operator) says so: an auditor reads what happened, not what was planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.engine.automation_state import StepAttempt, StepRun, step_key
from drs_desktop.domain.engine.events import StepPhase
from drs_desktop.domain.engine.state import ExecutionState, StepRecord, WaveState
from drs_desktop.domain.plan.automation import AUTOMATION_STEPS, step_kind

#: What a step that has no outcome (yet) shows.
NOT_RUN = "NOT RUN"
RUNNING = "RUNNING"
HELD = "WAITING FOR THE OPERATOR"


@dataclass(frozen=True)
class StepEvidence:
    wave_index: int
    phase: str  # BEFORE | AFTER
    index: int  # within the phase, 0-based
    kind: str
    name: str
    result: str  # PASSED, WARNED, FAILED, DONE, SKIPPED, RUNNING, WAITING FOR THE OPERATOR, NOT RUN
    started_at: datetime | None
    ended_at: datetime | None
    attempts: tuple[StepAttempt, ...] = ()
    decided_by: str = ""
    comment: str = ""

    @property
    def label(self) -> str:
        return f"{self.phase.lower()} step {self.index + 1}: {self.kind} {self.name!r}".replace(" ''", "")


def automation_evidence(state: ExecutionState, wave: WaveState) -> tuple[StepEvidence, ...]:
    """Every automation step of ``wave`` (approvals and waits are in the wave's approvals and timings)."""
    spec = state.spec.waves[wave.index]
    records = {(r.phase, r.step_index): r for r in wave.steps}
    out: list[StepEvidence] = []
    for phase, steps in ((StepPhase.BEFORE, spec.before), (StepPhase.AFTER, spec.after)):
        for index, step in enumerate(steps):
            if not isinstance(step, AUTOMATION_STEPS):
                continue
            run = state.automation.get(step_key(wave.index, phase, index))
            record = records.get((phase, index))
            out.append(_one(wave.index, phase, index, step_kind(step), step.name, run, record))
    return tuple(out)


def _one(
    wave_index: int,
    phase: StepPhase,
    index: int,
    kind: str,
    name: str,
    run: StepRun | None,
    record: StepRecord | None,
) -> StepEvidence:
    if run is None:
        result = record.outcome if record is not None and record.outcome else NOT_RUN
        started = record.started_at if record is not None else None
        ended = record.ended_at if record is not None else None
        return StepEvidence(wave_index, phase.value, index, kind, name, result, started, ended)
    if run.outcome is not None:
        result = run.outcome.value
    elif run.held:
        result = HELD
    else:
        result = RUNNING
    started = run.attempts[0].requested_at if run.attempts else None
    return StepEvidence(
        wave_index,
        phase.value,
        index,
        kind,
        name,
        result,
        started,
        run.ended_at,
        run.attempts,
        run.decided_by,
        run.comment,
    )
