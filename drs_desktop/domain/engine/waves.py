"""How waves move: dependencies, before-steps, launch, after-steps, completion.

``settle(state, at)`` advances every wave as far as the facts allow at time ``at`` and is applied after
every event, so a wave starts the moment its dependencies hold: no fixed delays. It is a fixpoint, so
applying it twice changes nothing. Only the passage of time (a wait elapsing) needs an event of its own,
``Tick``, which ``decide`` asks the runner to record.

Nothing new begins while the run is paused, held after a critical failure, or stopping: no wave starts,
no step starts, no chunk is queued. What is already true still counts: a granted approval or an elapsed
wait completes its step, and a wave whose critical servers are all ready leaves LAUNCHING.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from drs_desktop.domain.engine.automation import step_ended_at as automation_ended_at
from drs_desktop.domain.engine.automation_state import StepOutcome, step_key
from drs_desktop.domain.engine.queries import dependencies_met, may_progress, server_ready
from drs_desktop.domain.engine.state import (
    ChunkStatus,
    ExecutionState,
    Mode,
    StepRecord,
    WavePhase,
    WaveState,
)
from drs_desktop.domain.plan.automation import AUTOMATION_STEPS, runs_in, step_kind
from drs_desktop.domain.plan.model import Step, WaitStep


def settle(state: ExecutionState, at: datetime) -> ExecutionState:
    """Every wave advanced as far as it can at ``at``; the same object when nothing moves. A run in DRS
    is left alone: only DRS's readings move its waves (``engine.native``)."""
    if state.native is not None:
        return state
    progress = may_progress(state)  # settling never changes pause, hold or stop
    while True:
        before = state
        for index in range(len(state.waves)):
            state = _advance(state, index, at, progress)
        if state is before:
            return state


def wait_until(wave: WaveState, step: Step) -> datetime | None:
    """When the wave's current wait step ends, once it has started."""
    if not isinstance(step, WaitStep) or wave.step_started_at is None:
        return None
    return wave.step_started_at + timedelta(minutes=step.minutes)


def _advance(state: ExecutionState, index: int, at: datetime, progress: bool) -> ExecutionState:
    wave = state.waves[index]
    if wave.phase is WavePhase.BLOCKED:
        if progress and dependencies_met(state, index):
            return state.with_wave(replace(wave, phase=WavePhase.BEFORE, started_at=at, step_index=0))
        return state
    if wave.phase in (WavePhase.BEFORE, WavePhase.AFTER):
        return _advance_steps(state, wave, at, progress)
    if wave.phase is WavePhase.LAUNCHING and _critical_ready(state, index):
        finished = replace(
            wave, phase=WavePhase.AFTER, launch_completed_at=at, step_index=0, step_started_at=None
        )
        return state.with_wave(finished)
    return state


def _critical_ready(state: ExecutionState, index: int) -> bool:
    """A wave's launch completes when all its critical servers are ready; optional ones may still run."""
    return all(server_ready(s) for s in state.wave_servers(index) if s.critical)


def _advance_steps(state: ExecutionState, wave: WaveState, at: datetime, progress: bool) -> ExecutionState:
    steps = wave.steps_of(state.spec)
    if wave.step_index >= len(steps):
        if wave.phase is WavePhase.AFTER:
            return state.with_wave(replace(wave, phase=WavePhase.COMPLETED, completed_at=at))
        return start_launch(state, wave, at) if progress else state
    step = steps[wave.step_index]
    if wave.step_started_at is None:
        return state.with_wave(replace(wave, step_started_at=at)) if progress else state
    ended, outcome = _step_ended(state, wave, step, at)
    if ended is None:
        return state
    record = StepRecord(
        phase=wave.step_phase(),
        step_index=wave.step_index,
        kind=step_kind(step),
        started_at=wave.step_started_at,
        ended_at=ended,
        name=getattr(step, "name", ""),
        outcome=outcome,
    )
    moved = replace(wave, step_index=wave.step_index + 1, step_started_at=None, steps=(*wave.steps, record))
    return state.with_wave(moved)


def _step_ended(
    state: ExecutionState, wave: WaveState, step: Step, at: datetime
) -> tuple[datetime | None, str]:
    """When the current step was done, and how (an automation step's outcome); None while it runs. An
    automation step that does not run in this mode ends at once, SKIPPED."""
    if isinstance(step, AUTOMATION_STEPS):
        if not runs_in(step, recovery=state.spec.mode is Mode.RECOVERY):
            return at, StepOutcome.SKIPPED.value
        key = step_key(wave.index, wave.step_phase(), wave.step_index)
        run = state.automation.get(key)
        ended = automation_ended_at(state, key)
        return ended, (run.outcome.value if run is not None and run.outcome is not None else "")
    return _step_ended_at(wave, step, at), ""


def _step_ended_at(wave: WaveState, step: Step, at: datetime) -> datetime | None:
    """When the current step was done: the wait's end, or the approval's grant; None while it runs."""
    until = wait_until(wave, step)
    if until is not None:
        return until if at >= until else None
    phase = wave.step_phase()
    for approval in wave.approvals:
        if approval.phase is phase and approval.step_index == wave.step_index and approval.granted:
            return approval.decided_at
    return None


def start_launch(state: ExecutionState, wave: WaveState, at: datetime) -> ExecutionState:
    """The wave's chunks join the queue; the wave's timeout starts now."""
    launching = replace(wave, phase=WavePhase.LAUNCHING, launch_started_at=at, deadline_from=at)
    state = state.with_wave(launching)
    chunks = [c for c in state.wave_chunks(wave.index) if c.status is ChunkStatus.PLANNED]
    queued = [replace(c, status=ChunkStatus.QUEUED, queued_at=at) for c in chunks]
    servers = [
        replace(state.servers[server_id], queued_at=at) for chunk in chunks for server_id in chunk.server_ids
    ]
    return state.with_chunks(*queued).with_servers(*servers)
