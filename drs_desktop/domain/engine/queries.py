"""Questions about an execution state, each answered in exactly one place.

The reducer, ``decide`` and the evidence report all ask the same questions (is the run held? is this
server done? which jobs are still active?); answering them here keeps the rules from drifting apart.
Pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from drs_desktop.domain.engine.accounts import credential_holds, is_multi_target, view
from drs_desktop.domain.engine.automation_state import held_steps, wave_step_failed
from drs_desktop.domain.engine.chunking import Load, own_and_external_load
from drs_desktop.domain.engine.commands import AwaitApproval
from drs_desktop.domain.engine.events import JobStatus
from drs_desktop.domain.engine.memo import LastOf
from drs_desktop.domain.engine.state import (
    UNRESOLVED,
    ChunkState,
    ExecutionState,
    ExecutionStatus,
    JobState,
    PostLaunch,
    ServerState,
    ServerStatus,
    WavePhase,
    WaveState,
)
from drs_desktop.domain.engine.takeover import unchecked_chunks
from drs_desktop.domain.plan.model import ApprovalStep

#: ``is_held`` of the last states asked about (``engine.memo``): asked many times per event and decision.
_HELD: LastOf[str, bool] = LastOf()
FINAL_SERVER_STATUSES = frozenset({ServerStatus.FAILED, ServerStatus.SKIPPED, ServerStatus.CANCELLED})
SATISFIED_PHASES = frozenset({WavePhase.COMPLETED, WavePhase.SKIPPED})


def server_ready(server: ServerState) -> bool:
    """Launched, and for a recovery its post-launch actions done where configured: what a wave waits for."""
    return server.status is ServerStatus.LAUNCHED and server.post_launch in (
        PostLaunch.NOT_EXPECTED,
        PostLaunch.SUCCEEDED,
    )


def server_settled(state: ExecutionState, server: ServerState) -> bool:
    """Nothing more will happen to the server in this run (unless the operator retries it).

    Once the run stops, a launched server no longer waits for its post-launch actions.
    """
    if server.status in FINAL_SERVER_STATUSES:
        return True
    if server.status is ServerStatus.LAUNCHED:
        return server_ready(server) or state.stop is not None
    return False


def unresolved_chunks(state: ExecutionState) -> tuple[ChunkState, ...]:
    """Chunks whose StartRecovery may or may not have launched a job: nothing starts until they resolve."""
    return tuple(c for c in state.chunks.values() if c.status in UNRESOLVED)


def job_active(job: JobState) -> bool:
    return job.status is not JobStatus.COMPLETED and not job.gone


def active_jobs(state: ExecutionState) -> tuple[JobState, ...]:
    return tuple(job for job in state.jobs.values() if job_active(job))


def jobs_to_poll(state: ExecutionState) -> tuple[str, ...]:
    """Active jobs, plus finished ones whose launched servers still report post-launch progress."""
    ids = {job.job_id for job in active_jobs(state)}
    if state.stop is None:
        for server in state.servers.values():
            awaiting = server.status is ServerStatus.LAUNCHED and server.post_launch is PostLaunch.PENDING
            if awaiting and server.job_id is not None and not state.jobs[server.job_id].gone:
                ids.add(server.job_id)
    return tuple(job_id for job_id in state.jobs if job_id in ids)


def own_load(state: ExecutionState) -> Load:
    """The account's load as far as quotas go: this run's active or possibly-active jobs, plus outside."""
    own = [state.chunks[job.chunk_id].server_ids for job in active_jobs(state)]
    own += [chunk.server_ids for chunk in unresolved_chunks(state)]
    own += [chunk.server_ids for chunk in unchecked_chunks(state)]  # may be running: a takeover's
    return own_and_external_load(own, state.external_jobs, state.external_busy)


def wave_failed(state: ExecutionState, index: int) -> bool:
    """A wave fails when one of its critical servers fails; optional failures are only warnings."""
    if state.waves[index].phase is WavePhase.SKIPPED:
        return False
    if state.automation and wave_step_failed(state.automation, index):  # an automation step failed it
        return True
    return any(s.critical and s.status is ServerStatus.FAILED for s in state.wave_servers(index))


def failed_waves(state: ExecutionState) -> tuple[int, ...]:
    return tuple(wave.index for wave in state.waves if wave_failed(state, wave.index))


def is_held(state: ExecutionState) -> bool:
    """Held: a critical failure waits for the operator (retry, skip the wave, or cancel), or a target's
    credentials do (``engine.accounts``: renewed, or cancel). One target's view carries the whole run's
    answer (``ExecutionState.held``)."""
    if state.stop is not None or state.finished is not None:
        return False
    if state.held is not None:  # a target's view: the full state's answer
        return state.held
    return _HELD(state, "", lambda: bool(credential_holds(state)) or _failure_holds(state))


def _failure_holds(state: ExecutionState) -> bool:
    """A critical failure holds the run. In a run in DRS, DRS decides what is one: the run is held once
    DRS failed a step and waits for its retry or skip, not while DRS may still be at work on it."""
    if state.native is not None:
        return state.native.status == "FAILED"
    if failed_waves(state):
        return True
    skipped = {w.index for w in state.waves if w.phase is WavePhase.SKIPPED}
    return bool(held_steps(state.automation, skipped))


def may_progress(state: ExecutionState) -> bool:
    """Whether anything new may begin: a wave, a step, a launch. Polling goes on regardless."""
    return state.finished is None and state.stop is None and not state.paused and not is_held(state)


def may_launch(state: ExecutionState, chunk: ChunkState, held: bool | None = None) -> bool:
    """Whether a queued chunk may start: as ``may_progress``, except that a retry the operator asked
    for goes ahead while other failures still hold the run (retrying some servers of a held wave is
    how the operator works through it). ``held``: ``is_held(state)`` if the caller has it already."""
    if state.finished is not None or state.stop is not None or state.paused:
        return False
    return chunk.is_retry or not (is_held(state) if held is None else held)


def launch_blocked(state: ExecutionState) -> bool:
    """Paused or held: time during which wave timeouts do not run (the operator is deciding)."""
    return state.finished is None and state.stop is None and (state.paused or is_held(state))


def dependencies_met(state: ExecutionState, index: int) -> bool:
    """A wave may start once every wave it depends on completed or was skipped (skipping a wave is the
    operator saying "go on without it")."""
    for name in state.spec.waves[index].depends_on:
        other = state.spec.wave_index(name)
        if other is None or state.waves[other].phase not in SATISFIED_PHASES:
            return False
    return True


def pending_approval(state: ExecutionState, wave: WaveState) -> ApprovalStep | None:
    """The approval the wave is waiting for now, if any (requested and not yet decided)."""
    if wave.phase not in (WavePhase.BEFORE, WavePhase.AFTER) or wave.step_started_at is None:
        return None
    steps = wave.steps_of(state.spec)
    if wave.step_index >= len(steps):
        return None
    step = steps[wave.step_index]
    if not isinstance(step, ApprovalStep):
        return None
    phase = wave.step_phase()
    decided = any(a.phase is phase and a.step_index == wave.step_index for a in wave.approvals)
    return None if decided else step


def pending_approvals(state: ExecutionState) -> tuple[AwaitApproval, ...]:
    """The gates the execution waits at (none once it stops): what ``engine.decide`` emits and what the
    CLI's and the GUI's approval prompts show, one type for both."""
    if state.stop is not None or state.finished is not None:
        return ()
    found = []
    for wave in state.waves:
        step = pending_approval(state, wave)
        if step is None or wave.step_started_at is None:
            continue
        found.append(
            AwaitApproval(
                wave_index=wave.index,
                wave_name=wave.name,
                phase=wave.step_phase(),
                step_index=wave.step_index,
                message=step.message,
                requested_at=wave.step_started_at,
            )
        )
    return tuple(found)


def unsettled_servers(state: ExecutionState, index: int) -> tuple[ServerState, ...]:
    return tuple(s for s in state.wave_servers(index) if not server_settled(state, s))


def blocked_time(
    state: ExecutionState, since: datetime, now: datetime, wave: WaveState | None = None
) -> timedelta:
    """How long the run was paused or held between ``since`` and ``now``, and, with ``wave``, how long
    the wave's waiting servers were held by other jobs (``engine.busy``); overlaps count once."""
    intervals = list(state.blocked_intervals)
    if state.blocked_since is not None:
        intervals.append((state.blocked_since, now))
    if wave is not None:
        intervals.extend(wave.held_intervals)
        if wave.held_since is not None:
            intervals.append((wave.held_since, now))
    total = timedelta(0)
    reached = since
    for start, end in sorted(intervals):
        start, end = max(start, reached), min(end, now)
        if end > start:
            total += end - start
            reached = end
    return total


def wave_deadline(state: ExecutionState, wave: WaveState, now: datetime) -> datetime | None:
    """When the wave's launch times out: its launch start (or last retry) + the timeout, extended by the
    time the run was paused or held, so an operator thinking is never a timeout, and by the time the
    wave's waiting servers were held by other jobs (why: ``engine.busy``)."""
    if wave.deadline_from is None:
        return None
    return wave.deadline_from + state.spec.wave_timeout + blocked_time(state, wave.deadline_from, now, wave)


def execution_status(state: ExecutionState) -> ExecutionStatus:
    if state.finished is not None:
        return ExecutionStatus(state.finished.value)
    if state.stop is not None:
        return ExecutionStatus.CANCELLING
    if is_held(state):
        return ExecutionStatus.HELD
    if state.paused:
        return ExecutionStatus.PAUSED
    if any(pending_approval(state, wave) is not None for wave in state.waves):
        return ExecutionStatus.WAITING_APPROVAL
    return ExecutionStatus.RUNNING


def drill_instances_running(state: ExecutionState) -> tuple[str, ...]:
    """Recovery instance IDs this drill launched and has not terminated: exactly what cleanup targets.

    Only instances seen in this execution's own jobs are recorded, so nothing else can appear here.
    """
    return tuple(
        i.recovery_instance_id
        for i in state.instances.values()
        if i.is_drill and i.terminated_at is None and i.gone_at is None
    )


def has_work(state: ExecutionState, target: str) -> bool:
    """Whether the run still has anything to call ``target`` for ("" in a run of one target): a server
    not settled, a job of its not ended, or a requested cleanup with a drill instance there not yet
    terminated. Credentials it will not use again hold nobody when they expire."""
    part = view(state, target, False) if is_multi_target(state) else state
    if any(job_active(job) for job in part.jobs.values()):
        return True
    if state.cleanup_requested and drill_instances_running(part):
        return True
    return state.finished is None and any(not server_settled(part, s) for s in part.servers.values())
