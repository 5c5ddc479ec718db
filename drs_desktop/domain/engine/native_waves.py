"""How a reading of a run in DRS moves its waves, chunks and servers (``engine.native``).

Each DRS job a SERVER step shows is adopted as a chunk's job (a retry's new job as a new chunk, the
servers' earlier attempt kept); servers DRS failed before any job are failed with DRS's reason; each
wave's phase follows its steps' statuses (a WAIT step is its wave's before or after step), and a wait DRS
ended joins the wave's finished steps. Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from drs_desktop.domain.engine.events import (
    StepPhase,
)
from drs_desktop.domain.engine.native_access import native_of
from drs_desktop.domain.engine.native_events import (
    NativeStepSeen,
)
from drs_desktop.domain.engine.native_state import (
    STEP_FAILED,
    NativeStepMap,
)
from drs_desktop.domain.engine.observe import adopt_job, fail, reset_for_retry
from drs_desktop.domain.engine.state import (
    ChunkState,
    ChunkStatus,
    ExecutionState,
    ServerState,
    ServerStatus,
    StepRecord,
    WavePhase,
    WaveState,
    chunk_id_for,
)

#: Step statuses after which a step does nothing more by itself.
_STEP_OVER = ("COMPLETED", "SKIPPED", "FAILED", "TIMED_OUT")


def adopt_jobs(state: ExecutionState, steps: Iterable[NativeStepSeen], at: datetime) -> ExecutionState:
    """Every DRS job a SERVER step shows that this run does not follow yet becomes a chunk's job."""
    spec = state.spec.native
    assert spec is not None
    for step in steps:
        where = spec.step(step.index)
        if where is None or where.kind != "SERVER" or step.kind != "SERVER":
            continue
        by_job: dict[str, list[str]] = {}
        for server in step.servers:
            known = state.servers.get(server.server_id)
            if server.job_id and known is not None and known.wave_index == where.wave_index:
                by_job.setdefault(server.job_id, []).append(server.server_id)
        for job_id, members in by_job.items():
            if job_id in state.jobs or job_id in state.terminate_jobs:
                continue
            state = _adopt(state, where.wave_index, job_id, tuple(members), at)
    return state


def failed_without_job(state: ExecutionState, at: datetime) -> ExecutionState:
    """DRS failed a SERVER step before it started a job for some of its servers (it could not start one:
    a server busy in another job, a quota): they are FAILED with DRS's reason, not left waiting."""
    spec = state.spec.native
    assert spec is not None
    waiting = (ChunkStatus.PLANNED, ChunkStatus.QUEUED)
    for step in native_of(state).steps:
        where = spec.step(step.index)
        if where is None or where.kind != "SERVER" or step.status not in STEP_FAILED:
            continue
        jobless = {s.server_id for s in step.servers if not s.job_id}
        chunks = [
            c
            for c in state.wave_chunks(where.wave_index)
            if c.status in waiting and jobless & set(c.server_ids)
        ]
        if not chunks:
            continue
        reason = f"DRS failed its step before launching it: {step.error or step.status.lower()}"
        failed = [
            fail(state.servers[s], reason, step.updated_at or at)
            for c in chunks
            for s in c.server_ids
            if state.servers[s].status is ServerStatus.PENDING
        ]
        abandoned = [replace(c, status=ChunkStatus.ABANDONED, reason=reason) for c in chunks]
        state = state.with_chunks(*abandoned).with_servers(*failed)
    return state


def _adopt(
    state: ExecutionState, wave_index: int, job_id: str, members: tuple[str, ...], at: datetime
) -> ExecutionState:
    waiting = (ChunkStatus.PLANNED, ChunkStatus.QUEUED)
    chunks = [c for c in state.wave_chunks(wave_index) if c.status in waiting]
    same = next((c for c in chunks if set(c.server_ids) == set(members)), None)
    if same is not None:
        return adopt_job(state, same, job_id, at)
    # A retry's job, or a job with some of a step's servers: a chunk of its own, taken out of the one
    # that planned them.
    wave = state.waves[wave_index]
    taken = set(members)
    shrunk = []
    for chunk in chunks:
        if taken & set(chunk.server_ids):
            rest = tuple(s for s in chunk.server_ids if s not in taken)
            status = chunk.status if rest else ChunkStatus.ABANDONED
            reason = chunk.reason if rest else "DRS launched its servers in another job"
            shrunk.append(replace(chunk, server_ids=rest, status=status, reason=reason))
    chunk = ChunkState(
        chunk_id=chunk_id_for(wave_index, wave.next_chunk_seq),
        wave_index=wave_index,
        seq=wave.next_chunk_seq,
        server_ids=members,
        status=ChunkStatus.PLANNED,
        is_retry=any(_attempted(state.servers[s]) for s in members),
        queued_at=at,
    )
    servers = [
        reset_for_retry(state.servers[s], chunk.chunk_id, at)
        if _attempted(state.servers[s])
        else state.servers[s]
        for s in members
    ]
    state = state.with_wave(replace(wave, next_chunk_seq=wave.next_chunk_seq + 1))
    state = state.with_chunks(*shrunk, chunk).with_servers(*servers)
    return adopt_job(state, chunk, job_id, at)


def _attempted(server: ServerState) -> bool:
    """The server had an attempt already: a job, or a step DRS failed before it started one."""
    return bool(server.job_id) or server.status is ServerStatus.FAILED


def _status_of(state: ExecutionState, where: NativeStepMap) -> NativeStepSeen | None:
    return native_of(state).step(where.index)


def move_waves(state: ExecutionState, at: datetime) -> ExecutionState:
    """Each wave's phase as its native steps say (nothing else moves a wave in a run in DRS)."""
    spec = state.spec.native
    assert spec is not None
    for wave in state.waves:
        mine = [s for s in spec.steps if s.wave_index == wave.index]
        state = state.with_wave(_wave_from_steps(state, wave, mine, at))
    return state


def _wave_from_steps(
    state: ExecutionState, wave: WaveState, mine: list[NativeStepMap], at: datetime
) -> WaveState:
    server = next(s for s in mine if s.kind == "SERVER")
    before = [s for s in mine if s.kind == "WAIT" and s.phase == "BEFORE"]
    after = [s for s in mine if s.kind == "WAIT" and s.phase == "AFTER"]
    seen = _status_of(state, server)
    status = seen.status if seen is not None else "NOT_STARTED"
    wave = _record_waits(state, wave, before, StepPhase.BEFORE, at)
    wave = _record_waits(state, wave, after, StepPhase.AFTER, at)
    when = (seen.updated_at if seen is not None else None) or at
    if status == "SKIPPED":
        skipped_at = wave.skipped_at or when
        return replace(wave, phase=WavePhase.SKIPPED, skipped_at=skipped_at, step_started_at=None)
    if status in ("EXECUTING", *STEP_FAILED):
        return replace(
            wave,
            phase=WavePhase.LAUNCHING,
            started_at=wave.started_at or when,
            launch_started_at=wave.launch_started_at or when,
            step_started_at=None,
        )
    if status == "COMPLETED":
        wave = replace(
            wave,
            started_at=wave.started_at or when,
            launch_started_at=wave.launch_started_at or when,
            launch_completed_at=wave.launch_completed_at or when,
        )
        return _in_steps(state, wave, after, WavePhase.AFTER, at) or replace(
            wave, phase=WavePhase.COMPLETED, completed_at=wave.completed_at or at, step_started_at=None
        )
    begun = [s for s in before if (_status_of(state, s) or _NOT_STARTED).status != "NOT_STARTED"]
    if begun:
        wave = replace(wave, started_at=wave.started_at or at)
        found = _in_steps(state, wave, before, WavePhase.BEFORE, at)
        if found is not None:
            return found
        return replace(wave, phase=WavePhase.BEFORE, step_index=len(before), step_started_at=None)
    return replace(wave, phase=WavePhase.BLOCKED)


_NOT_STARTED = NativeStepSeen(index=0, arn="", name="", kind="", status="NOT_STARTED")


def _in_steps(
    state: ExecutionState, wave: WaveState, steps: list[NativeStepMap], phase: WavePhase, at: datetime
) -> WaveState | None:
    """The wave at its first wait step of ``steps`` that is not over (None: every one is)."""
    for where in steps:
        seen = _status_of(state, where) or _NOT_STARTED
        if seen.status in _STEP_OVER:
            continue
        started = None
        if seen.status == "WAITING":
            # DRS's listing has no update time: the wait began when a reading first saw it waiting.
            same = wave.phase is phase and wave.step_index == where.step_index
            started = (wave.step_started_at if same else None) or seen.updated_at or at
        return replace(wave, phase=phase, step_index=where.step_index, step_started_at=started)
    return None


def _record_waits(
    state: ExecutionState, wave: WaveState, steps: list[NativeStepMap], phase: StepPhase, at: datetime
) -> WaveState:
    """A wait DRS has ended joins the wave's finished steps (evidence), once."""
    done = {(r.phase, r.step_index) for r in wave.steps}
    records = list(wave.steps)
    for where in steps:
        seen = _status_of(state, where)
        if seen is None or seen.status != "COMPLETED" or (phase, where.step_index) in done:
            continue
        minutes = seen.wait_minutes or where.wait_minutes or 0
        began = (
            wave.step_started_at
            if wave.step_phase() is phase and wave.step_index == where.step_index
            else None
        )
        # A reading sees the end late (by up to its interval): a wait seen begin ends its minutes later.
        ended = seen.updated_at or (began + timedelta(minutes=minutes) if began is not None else at)
        records.append(
            StepRecord(
                phase=phase,
                step_index=where.step_index,
                kind="wait",
                started_at=began or ended - timedelta(minutes=minutes),
                ended_at=min(ended, at),
            )
        )
    return replace(wave, steps=tuple(records)) if len(records) != len(wave.steps) else wave
