"""Folding what DRS said into the execution: starts, reconciliations, polls, job logs, instances.

The rules that keep a server from being launched twice live here and in ``engine``:
- ``StartRequested`` marks a chunk START_REQUESTED before the call; only a definite refusal
  (``StartFailed(definite=True)``) or a reconciliation that found no job (``Reconciled(job_id=None)``)
  lets it be queued again. An ambiguous failure leaves it UNCERTAIN, and a crash leaves it
  START_REQUESTED: both are reconciled before anything else starts.
- A job's observation only moves the servers whose *current* job it is; an older attempt's job can add
  a recovery instance (cleanup must know it) but never changes a retried server's status.
- A server declared failed by a timeout that then launches in that same job is launched after all.
Pure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from drs_desktop.domain.engine.busy import may_wait, on_conflict
from drs_desktop.domain.engine.events import (
    JobLogItem,
    JobLogObserved,
    JobServerView,
    JobsObserved,
    JobStatus,
    JobsVerified,
    JobView,
    LaunchStatus,
    PostLaunchCompleted,
    PostLaunchFailed,
    Reconciled,
    RecoveryInstancesObserved,
    StartFailed,
    StartRequested,
)
from drs_desktop.domain.engine.polling import (
    after_change,
    after_poll,
    after_read_ok,
    after_throttle,
    backoff_delay,
)
from drs_desktop.domain.engine.queries import server_settled, wave_deadline
from drs_desktop.domain.engine.state import (
    UNRESOLVED,
    AttemptRecord,
    ChunkState,
    ChunkStatus,
    ExecutionState,
    InstanceRecord,
    JobState,
    PostLaunch,
    ServerState,
    ServerStatus,
    WavePhase,
)
from drs_desktop.domain.engine.takeover import is_unchecked

logger = logging.getLogger(__name__)

#: StartRecovery refusals worth trying again after a pause: the account was busy, not the request wrong.
TRANSIENT_START_ERRORS = frozenset(
    {"ConflictException", "ServiceQuotaExceededException", "ThrottlingException"}
)
#: A start refused for its credentials is not sent again before this (the role assumed again by then).
AUTH_RETRY_DELAY = timedelta(seconds=10)
#: A job DRS stops reporting for this many polls in a row is treated as gone (deleted outside the app).
MISSING_POLLS_LIMIT = 3
_IN_FLIGHT = frozenset({ServerStatus.STARTING, ServerStatus.LAUNCHING})


# -- starting


def on_start_requested(state: ExecutionState, event: StartRequested) -> ExecutionState:
    chunk = state.chunks.get(event.chunk_id)
    if chunk is None or chunk.status is not ChunkStatus.QUEUED:
        logger.warning(
            "StartRequested for chunk %s in state %s ignored", event.chunk_id, chunk and chunk.status
        )
        return state
    requested = replace(
        chunk,
        status=ChunkStatus.START_REQUESTED,
        attempt=chunk.attempt + 1,
        requested_at=event.at,
        not_before=None,
        looks=0,
        looked_at=None,
    )
    servers = [
        replace(state.servers[s], status=ServerStatus.STARTING, start_requested_at=event.at)
        for s in chunk.server_ids
    ]
    return state.with_chunks(requested).with_servers(*servers)


def on_start_failed(state: ExecutionState, event: StartFailed) -> ExecutionState:
    chunk = state.chunks.get(event.chunk_id)
    if chunk is None or chunk.status not in UNRESOLVED:
        return state
    if event.reason == "ThrottlingException":
        poll = after_throttle(
            state.poll,
            state.spec.polling,
            state.spec.jitter_seed,
            event.at,
            event.retry_after or 0.0,
            event.reason,
        )
        state = replace(state, poll=poll)
    if not event.definite:
        return state.with_chunks(replace(chunk, status=ChunkStatus.UNCERTAIN, reason=event.reason))
    if event.busy and event.definite and may_wait(state, chunk):
        return on_conflict(state, chunk, event.at, event.retry_after)  # a busy server: no attempt spent
    if event.auth and event.definite and may_wait(state, chunk):
        # Refused credentials launched nothing and say nothing about the servers: no attempt spent. The
        # chunk starts again once the credentials are renewed: by themselves (an assumed role), or by a
        # person (the runner journals ``CredentialsNeeded``, and the target waits: ``engine.accounts``).
        again = event.at + AUTH_RETRY_DELAY  # a renewal that keeps failing must not spin
        queued = replace(chunk, status=ChunkStatus.QUEUED, reason=event.reason, not_before=again)
        servers = [replace(state.servers[s], status=ServerStatus.PENDING) for s in chunk.server_ids]
        return state.with_chunks(queued).with_servers(*servers)
    transient = event.reason in TRANSIENT_START_ERRORS
    return not_launched(state, chunk, event.reason, event.at, transient, event.retry_after)


def on_reconciled(state: ExecutionState, event: Reconciled) -> ExecutionState:
    chunk = state.chunks.get(event.chunk_id)
    if chunk is None or chunk.status not in UNRESOLVED:
        return state
    state = replace(state, poll=after_read_ok(state.poll))
    if event.job_id is None:
        return not_launched(state, chunk, "not launched (reconciled)", event.at, True, None)
    if event.job_id in state.jobs:
        logger.warning(
            "reconciled job %s already belongs to chunk %s", event.job_id, state.jobs[event.job_id].chunk_id
        )
        return state
    return adopt_job(state, chunk, event.job_id, event.at)


def adopt_job(state: ExecutionState, chunk: ChunkState, job_id: str, at: datetime) -> ExecutionState:
    """The chunk's StartRecovery created ``job_id``: its servers are in DRS's hands now."""
    job = JobState(job_id=job_id, chunk_id=chunk.chunk_id, started_at=at, version=0)
    started = replace(chunk, status=ChunkStatus.STARTED, job_id=job_id, not_before=None)
    servers = [
        replace(
            state.servers[s],
            status=ServerStatus.LAUNCHING,
            job_id=job_id,
            job_ids=(*state.servers[s].job_ids, job_id),
            job_started_at=at,
            launch_status=LaunchStatus.PENDING,
            # A job kept clear of as unknown (``engine.takeover``) that turns out to be this chunk's own
            # is this run's after all.
            foreign_job_id=None
            if state.servers[s].foreign_job_id == job_id
            else state.servers[s].foreign_job_id,
        )
        for s in chunk.server_ids
    ]
    state = state.with_jobs(job).with_chunks(started).with_servers(*servers)
    return replace(state, poll=after_change(state.poll, at))


def reset_for_retry(server: ServerState, chunk_id: str, at: datetime) -> ServerState:
    """The server as a new attempt in chunk ``chunk_id`` finds it; its last attempt kept (evidence)."""
    attempt = AttemptRecord(
        chunk_id=server.chunk_id,
        job_id=server.job_id,
        status=server.status,
        reason=server.reason,
        phase_times=server.phase_times,
    )
    fresh = ServerState(
        server_id=server.server_id,
        wave_index=server.wave_index,
        critical=server.critical,
        post_launch_expected=server.post_launch_expected,
        target=server.target,
        post_launch=PostLaunch.PENDING if server.post_launch_expected else PostLaunch.NOT_EXPECTED,
    )
    return replace(
        fresh,
        chunk_id=chunk_id,
        retries=server.retries + 1,
        job_ids=server.job_ids,
        attempts=(*server.attempts, attempt),
        queued_at=at,
    )


def not_launched(
    state: ExecutionState,
    chunk: ChunkState,
    reason: str,
    at: datetime,
    transient: bool,
    retry_after: float | None,
) -> ExecutionState:
    """The chunk definitely launched nothing: queue it again after a backoff, or give its servers up."""
    failures = chunk.failures + 1
    wave = state.waves[chunk.wave_index]
    if wave.phase is WavePhase.SKIPPED or state.stop is not None or state.finished is not None:
        gone = ServerStatus.SKIPPED if wave.phase is WavePhase.SKIPPED else ServerStatus.CANCELLED
        return abandon(state, (replace(chunk, failures=failures, reason=reason),), gone, reason)
    if transient and failures < state.spec.max_start_attempts:
        settings, seed = state.spec.polling, f"{state.spec.jitter_seed}:{chunk.chunk_id}"
        delay = max(timedelta(seconds=retry_after or 0.0), backoff_delay(settings, failures, seed))
        queued = replace(
            chunk, status=ChunkStatus.QUEUED, failures=failures, reason=reason, not_before=at + delay
        )
        servers = [replace(state.servers[s], status=ServerStatus.PENDING) for s in chunk.server_ids]
        return state.with_chunks(queued).with_servers(*servers)
    refused = replace(chunk, status=ChunkStatus.START_FAILED, failures=failures, reason=reason)
    message = f"DRS did not start it ({reason}; {failures} attempt(s))"
    servers = [fail(state.servers[s], message, at) for s in chunk.server_ids]
    return state.with_chunks(refused).with_servers(*servers)


def abandon(
    state: ExecutionState, chunks: Iterable[ChunkState], status: ServerStatus, reason: str
) -> ExecutionState:
    """These chunks will never start; their servers end as ``status`` (SKIPPED or CANCELLED)."""
    chunks = tuple(chunks)
    abandoned = [replace(c, status=ChunkStatus.ABANDONED) for c in chunks]
    servers = [
        replace(state.servers[s], status=status, reason=reason)
        for c in chunks
        for s in c.server_ids
        if state.servers[s].status in (ServerStatus.PENDING, ServerStatus.STARTING)
    ]
    return state.with_chunks(*abandoned).with_servers(*servers)


def fail(server: ServerState, reason: str, at: datetime, *, timed_out: bool = False) -> ServerState:
    return replace(server, status=ServerStatus.FAILED, reason=reason, failed_at=at, timed_out=timed_out)


# -- polling


def on_jobs_observed(state: ExecutionState, event: JobsObserved) -> ExecutionState:
    """Fold a poll in; while chunks wait in the queue, the account's load is looked at after it."""
    state, changed = fold_jobs(state, event.jobs, event.missing_job_ids, event.at)
    queued = any(chunk.status is ChunkStatus.QUEUED for chunk in state.chunks.values())
    return replace(state, poll=after_poll(state.poll, event.at, changed), load_due=queued)


def on_jobs_verified(state: ExecutionState, event: JobsVerified) -> ExecutionState:
    """DRS's truth after a timeout: fold it in, then fail what is still unsettled (but never a server
    whose start is unresolved: that one is reconciled first)."""
    state, changed = fold_jobs(state, event.jobs, event.missing_job_ids, event.at)
    state = replace(state, poll=after_poll(state.poll, event.at, changed))
    if not 0 <= event.wave_index < len(state.waves):
        return state
    wave = state.waves[event.wave_index]
    deadline = wave_deadline(state, wave, event.at)
    if deadline is None or event.at < deadline:
        return state  # a stale verification: the wave was retried since
    timed_out: list[ServerState] = []
    queued: list[ChunkState] = []
    for server in state.wave_servers(wave.index):
        chunk = state.chunks[server.chunk_id] if server.chunk_id else None
        if server_settled(state, server) or (chunk is not None and chunk.status in UNRESOLVED):
            continue
        if is_unchecked(state, server.chunk_id):
            continue  # a takeover's, not checked in DRS yet: it may be running (``engine.takeover``)
        if chunk is not None and chunk.status in (ChunkStatus.QUEUED, ChunkStatus.PLANNED):
            queued.append(chunk)
            timed_out.append(fail(server, "timed out before DRS could start it", event.at, timed_out=True))
        elif server.status is ServerStatus.LAUNCHED:
            reason = "timed out waiting for its post-launch actions"
            timed_out.append(fail(server, reason, event.at, timed_out=True))
        else:
            timed_out.append(fail(server, "timed out: DRS had not launched it", event.at, timed_out=True))
    abandoned = [replace(c, status=ChunkStatus.ABANDONED) for c in {c.chunk_id: c for c in queued}.values()]
    state = state.with_servers(*timed_out).with_chunks(*abandoned)
    return state.with_wave(replace(wave, timed_out_at=event.at))


def fold_jobs(
    state: ExecutionState, views: Iterable[JobView], missing: Iterable[str], at: datetime
) -> tuple[ExecutionState, bool]:
    """Apply each job view; note jobs DRS no longer reports. True when anything changed."""
    changed = False
    for view in views:
        state, job_changed = _fold_job(state, view, at)
        changed = changed or job_changed
    for job_id in missing:
        state, job_changed = _job_missing(state, job_id, at)
        changed = changed or job_changed
    return state, changed


def _fold_job(state: ExecutionState, view: JobView, at: datetime) -> tuple[ExecutionState, bool]:
    job = state.jobs.get(view.job_id)
    if job is None:
        return state, False  # not this execution's job
    chunk = state.chunks[job.chunk_id]
    changed = view.status is not job.status
    for server_view in view.servers:
        if server_view.server_id in chunk.server_ids:
            state, server_changed = _fold_server(state, job, server_view, at)
            changed = changed or server_changed
    if view.status is JobStatus.COMPLETED:
        stranded = [
            fail(
                state.servers[s], state.servers[s].drs_failure or "the DRS job ended without launching it", at
            )
            for s in chunk.server_ids
            if state.servers[s].job_id == job.job_id and state.servers[s].status in _IN_FLIGHT
        ]
        state = state.with_servers(*stranded)
        changed = changed or bool(stranded)
    updated = replace(
        job,
        status=view.status,
        missing_polls=0,
        completed_at=job.completed_at or (at if view.status is JobStatus.COMPLETED else None),
        version=job.version + 1 if changed else job.version,
    )
    return state.with_jobs(updated), changed


def _fold_server(
    state: ExecutionState, job: JobState, view: JobServerView, at: datetime
) -> tuple[ExecutionState, bool]:
    if view.recovery_instance_id:
        state = record_instance(
            state, view.server_id, job.job_id, view.recovery_instance_id, view.ec2_instance_id, at
        )
    server = state.servers[view.server_id]
    if server.job_id != job.job_id:
        return state, False  # an earlier attempt's job: its instance is recorded, the status is history
    moved = _moved(server, view.launch_status, at)
    new = replace(
        moved,
        launch_status=view.launch_status,
        recovery_instance_id=view.recovery_instance_id or server.recovery_instance_id,
        ec2_instance_id=view.ec2_instance_id or server.ec2_instance_id,
    )
    return state.with_servers(new), new != server


def _moved(server: ServerState, launch: LaunchStatus, at: datetime) -> ServerState:
    """The server's status after DRS reports ``launch`` for its current job."""
    in_flight = server.status in _IN_FLIGHT
    if launch in (LaunchStatus.PENDING, LaunchStatus.IN_PROGRESS):
        return replace(server, status=ServerStatus.LAUNCHING) if in_flight else server
    if launch is LaunchStatus.LAUNCHED:
        late = server.status is ServerStatus.FAILED and server.timed_out
        if not (in_flight or late):
            return server
        if server.post_launch is PostLaunch.FAILED:
            return fail(
                replace(server, launched_at=server.launched_at or at), "post-launch actions failed", at
            )
        ready = server.post_launch in (PostLaunch.NOT_EXPECTED, PostLaunch.SUCCEEDED)
        return replace(
            server,
            status=ServerStatus.LAUNCHED,
            reason="launched after the wave's timeout" if late else "",
            timed_out=False,
            failed_at=None,
            launched_at=server.launched_at or at,
            ready_at=at if ready else None,
        )
    if launch is LaunchStatus.FAILED and in_flight:
        return fail(server, server.drs_failure or "DRS failed to launch it (see the job log)", at)
    if launch is LaunchStatus.TERMINATED and in_flight:
        return fail(server, "its recovery instance was terminated during launch", at)
    return server


def _job_missing(state: ExecutionState, job_id: str, at: datetime) -> tuple[ExecutionState, bool]:
    job = state.jobs.get(job_id)
    if job is None or job.gone or job.status is JobStatus.COMPLETED:
        return state, False
    missing = job.missing_polls + 1
    if missing < MISSING_POLLS_LIMIT:
        return state.with_jobs(replace(job, missing_polls=missing)), False
    logger.warning("DRS no longer reports job %s; treating it as ended", job_id)
    stranded = [
        fail(state.servers[s], f"DRS no longer reports job {job_id}", at)
        for s in state.chunks[job.chunk_id].server_ids
        if state.servers[s].job_id == job_id and state.servers[s].status in _IN_FLIGHT
    ]
    gone = replace(job, missing_polls=missing, gone=True, version=job.version + 1)
    return state.with_jobs(gone).with_servers(*stranded), True


# -- job logs, instances, post-launch


def on_job_log(state: ExecutionState, event: JobLogObserved) -> ExecutionState:
    """Phase times per server (first occurrence of each event) and the raw error of a failure."""
    job = state.jobs.get(event.job_id)
    if job is None:
        return state
    members = set(state.chunks[job.chunk_id].server_ids)
    servers: dict[str, ServerState] = {}
    for item in event.items:
        if item.server_id not in members:
            continue
        server = servers.get(item.server_id, state.servers[item.server_id])
        if server.job_id != job.job_id:
            continue
        if item.event not in server.phase_times:
            server = replace(server, phase_times={**server.phase_times, item.event: item.at})
        server = first_failure(server, item)
        if server.status is ServerStatus.FAILED and server.drs_failure:
            server = replace(server, reason=server.drs_failure)
        servers[item.server_id] = server
    seen = job.log_seen if event.seen is None else event.seen
    state = state.with_servers(*servers.values()).with_jobs(
        replace(job, log_version=job.version, log_seen=seen)
    )
    return replace(state, poll=after_read_ok(state.poll))


def first_failure(server: ServerState, item: JobLogItem) -> ServerState:
    """Keep DRS's first reason for failing the launch: a launch failure (SNAPSHOT_FAIL, CONVERSION_FAIL,
    LAUNCH_FAILED, ...) before a cleanup error (CLEANUP_FAIL: removing an older instance), the earliest
    of each, and SERVER_SKIPPED said as such. The log is read whole again on each change, so a later
    read, or a later item, never replaces it."""
    if item.event == "SERVER_SKIPPED":
        text = "DRS skipped it (SERVER_SKIPPED)" + (f": {item.detail}" if item.detail else "")
    elif "FAIL" in item.event and item.detail:
        text = f"{item.event}: {item.detail}"
    else:
        return server
    rank = _failure_rank(item.event)
    if server.drs_failure and server.drs_failure_at is not None:
        held = (_failure_rank(server.drs_failure), server.drs_failure_at)
        if held <= (rank, item.at):
            return server
    return replace(server, drs_failure=text[:1000], drs_failure_at=item.at)


def _failure_rank(text: str) -> int:
    """Lower wins: the launch's own failure (or skip), then a cleanup error (its text starts with the
    event's name)."""
    return 1 if text.startswith("CLEANUP") else 0


def record_instance(
    state: ExecutionState,
    server_id: str,
    job_id: str,
    instance_id: str,
    ec2_id: str | None,
    at: datetime,
    *,
    own_jobs: set[str] | None = None,
) -> ExecutionState:
    """Remember a recovery instance, but only one from this execution's own jobs and servers.
    ``own_jobs``: the execution's jobs when more are known than the journaled ones (cleanup's survey
    also counts the jobs DRS lists with this execution's tags)."""
    if job_id not in (state.jobs if own_jobs is None else own_jobs) or server_id not in state.servers:
        return state
    known = state.instances.get(instance_id)
    if known is not None:
        if ec2_id and not known.ec2_instance_id:
            return state.with_instances(replace(known, ec2_instance_id=ec2_id))
        return state
    record = InstanceRecord(
        recovery_instance_id=instance_id,
        server_id=server_id,
        job_id=job_id,
        is_drill=state.is_drill,
        seen_at=at,
        ec2_instance_id=ec2_id,
    )
    return state.with_instances(record)


def on_instances_observed(state: ExecutionState, event: RecoveryInstancesObserved) -> ExecutionState:
    for found in event.instances:
        state = record_instance(
            state, found.server_id, found.job_id, found.recovery_instance_id, found.ec2_instance_id, event.at
        )
        server = state.servers.get(found.server_id)
        if server is not None and server.job_id == found.job_id and server.recovery_instance_id is None:
            state = state.with_servers(replace(server, recovery_instance_id=found.recovery_instance_id))
    looked_up = [_looked(state.servers[s], event.at) for s in event.server_ids if s in state.servers]
    state = state.with_servers(*looked_up)
    return replace(state, poll=after_read_ok(state.poll))


def _looked(server: ServerState, at: datetime) -> ServerState:
    """One more look for the instance of the server's current job (``engine.instances`` paces them)."""
    same = server.instance_lookup_job == server.job_id
    return replace(
        server,
        instance_lookup_job=server.job_id,
        instance_looks=server.instance_looks + 1 if same else 1,
        instance_looked_at=at,
        instance_not_found=server.instance_not_found and same,
    )


def on_post_launch_completed(state: ExecutionState, event: PostLaunchCompleted) -> ExecutionState:
    server = state.servers.get(event.server_id)
    if server is None or server.post_launch is not PostLaunch.PENDING:
        return state
    server = replace(server, post_launch=PostLaunch.SUCCEEDED)
    if server.status is ServerStatus.LAUNCHED:
        server = replace(server, ready_at=event.at)
    elif server.status is ServerStatus.FAILED and server.timed_out and server.launched_at is not None:
        # Declared failed by the wave's timeout while its actions ran; they finished after all.
        late = "post-launch actions finished after the wave's timeout"
        server = replace(
            server,
            status=ServerStatus.LAUNCHED,
            reason=late,
            timed_out=False,
            failed_at=None,
            ready_at=event.at,
        )
    return state.with_servers(server)


def on_post_launch_failed(state: ExecutionState, event: PostLaunchFailed) -> ExecutionState:
    """A recovery server whose post-launch actions failed is a failed server (its instance stays)."""
    server = state.servers.get(event.server_id)
    if server is None or server.post_launch is not PostLaunch.PENDING:
        return state
    server = replace(server, post_launch=PostLaunch.FAILED)
    if server.status is ServerStatus.LAUNCHED:
        server = fail(server, f"post-launch actions failed: {event.reason}", event.at)
    return state.with_servers(server)
