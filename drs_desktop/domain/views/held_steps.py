"""What a run held by an automation step waits for, in the operator's words: which step, why (its last
attempt's detail), and whether its outcome is lost (a Lambda function or a script that may have run).

The command line says this when ``run`` (or ``control``'s drive) stops for a person, and puts it in
``--json``'s ``waiting_for``; ``executions show`` names it under its wave. A step that failed its wave
(policy fail-wave) holds the run as a failed wave does: skip it or cancel. Pure, stdlib only; the
rules of what holds are the engine's (``automation_state.held_steps``, ``queries.wave_failed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from drs_desktop.domain.engine.automation_state import (
    AttemptStatus,
    StepOutcome,
    StepRun,
    held_steps,
    parse_key,
)
from drs_desktop.domain.engine.state import ExecutionState, WavePhase

__all__ = ["HeldStep", "failed_steps", "held_step_views", "step_label"]

#: What may have run when a step's outcome is lost, by the step's kind.
_WHAT_RAN = {"lambda": "the Lambda function", "script": "the script", "ssm": "the SSM command"}


def step_label(phase: str, step_index: int, kind: str, name: str) -> str:
    """``after step 1: ssm 'smoke'`` (``step_index`` 0-based, as the engine keys it)."""
    return f"{phase.lower()} step {step_index + 1}: {kind} {name!r}"


@dataclass(frozen=True)
class HeldStep:
    """One automation step waiting for the operator's decision (retry, done, fail), or one that failed
    its wave (``decidable`` False: only skip or cancel apply)."""

    wave_index: int
    wave_name: str
    phase: str  # BEFORE | AFTER
    step_index: int  # 0-based within its phase
    kind: str  # health-check | ssm | lambda | script
    name: str
    detail: str  # the last attempt's: why it failed, or why its outcome is lost
    attempts: int
    #: The last attempt's outcome is lost: whatever it called may have run (its answer never came).
    lost: bool
    decidable: bool = True
    decided_by: str = ""  # who failed it (a step failed by the operator's decision)

    @property
    def label(self) -> str:
        return step_label(self.phase, self.step_index, self.kind, self.name)

    @property
    def reason(self) -> str:
        """Why it waits, in one sentence (without the commands: the caller knows how its reader sends
        them)."""
        detail = self.detail or "no detail"
        if self.lost:
            what = _WHAT_RAN.get(self.kind, "the step")
            return (
                f"its outcome is lost ({detail}): {what} may have run; check what it did before you "
                "retry it (a retry runs it again), mark it done or fail it"
            )
        tries = f"{self.attempts} attempt{'s' * (self.attempts != 1)}"
        if not self.decidable:
            by = f", failed by {self.decided_by}" if self.decided_by else ""
            return (
                f"failed after {tries} ({detail}{by}): its wave failed; skip the wave or cancel the execution"
            )
        return f"failed after {tries} ({detail}): retry it, mark it done or fail it"

    def to_json(self) -> dict[str, object]:
        """``waiting_for``'s step: ``wave`` and ``step`` are 1-based numbers, as the CLI takes them."""
        return {
            "wave": self.wave_index + 1,
            "phase": self.phase,
            "step": self.step_index + 1,
            "kind": self.kind,
            "name": self.name,
            "detail": self.detail,
            "lost": self.lost,
            "attempts": self.attempts,
            "decidable": self.decidable,
        }


def held_step_views(state: ExecutionState) -> tuple[HeldStep, ...]:
    """The steps the run waits on a decision for, in wave order (a skipped wave's hold nothing)."""
    skipped = {wave.index for wave in state.waves if wave.phase is WavePhase.SKIPPED}
    runs = sorted(held_steps(state.automation, skipped), key=lambda run: parse_key(run.key))
    return tuple(_view(state, run, decidable=True) for run in runs)


def failed_steps(state: ExecutionState, wave_index: int) -> tuple[HeldStep, ...]:
    """The wave's steps that failed it (FAILED: policy fail-wave, or the operator failed them)."""
    runs = [
        run
        for key, run in state.automation.items()
        if parse_key(key)[0] == wave_index and run.outcome is StepOutcome.FAILED
    ]
    return tuple(_view(state, run, decidable=False) for run in sorted(runs, key=lambda r: parse_key(r.key)))


def _view(state: ExecutionState, run: StepRun, *, decidable: bool) -> HeldStep:
    wave_index, phase, step_index = parse_key(run.key)
    last = run.last
    return HeldStep(
        wave_index=wave_index,
        wave_name=state.waves[wave_index].name,
        phase=phase,
        step_index=step_index,
        kind=run.kind,
        name=run.name,
        detail=last.detail if last is not None else "",
        attempts=len(run.attempts),
        lost=last is not None and last.status is AttemptStatus.UNKNOWN,
        decidable=decidable,
        decided_by=run.decided_by if not decidable else "",
    )
