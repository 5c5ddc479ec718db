"""A DRS job that never ends: how long a run waits for it, and how it finishes without it. Pure.

A run finishes only once every DRS job of it has ended (``engine.decide``): a server failed by a timeout
may still launch in its job, and a drill's cleanup must know every instance. DRS cannot cancel a job
(reference §12.11), and a job can stay active far beyond DRS's usual 12-31 minutes. So once the run no
longer needs a job -- it was stopped (cancel, rejection), or every server of the job has settled (launched,
or failed by the wave timeout after VerifyJobs) -- it waits ``ExecutionSpec.cancel_grace`` (the setting
``engine.cancel_grace_minutes``) and then records ``JobsLeftRunning``: each such job counts as ended for the
run, its servers not yet settled fail with "job ... still running in DRS", and the run can finish with
the outcome it had (CANCELLED/FAILED for a stop). Every end state is final and honest: the evidence says
which jobs were still running, and that instances they may launch later are not known to the run.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from drs_desktop.domain.engine.events import JobsLeftRunning
from drs_desktop.domain.engine.memo import LastOf
from drs_desktop.domain.engine.queries import active_jobs, server_settled
from drs_desktop.domain.engine.state import ExecutionState, JobState, ServerState, ServerStatus

logger = logging.getLogger(__name__)


def still_running_reason(job_id: str) -> str:
    """What a server of a job the run stopped waiting for says (in progress, ``executions show``, report)."""
    return f"job {job_id} still running in DRS"


def jobs_in_flight(state: ExecutionState) -> tuple[JobState, ...]:
    """The run's active DRS jobs it still waits for: all active ones but those it left running."""
    return tuple(job for job in active_jobs(state) if job.left_running_at is None)


def jobs_left_running(state: ExecutionState) -> tuple[str, ...]:
    """Jobs the run stopped waiting for that DRS had not ended when last seen (their instances, if any
    launch later, are not known to this run)."""
    return tuple(job.job_id for job in active_jobs(state) if job.left_running_at is not None)


_BY_JOB: LastOf[str, dict[str, list[ServerState]]] = LastOf()


def _members(state: ExecutionState, job: JobState) -> list[ServerState]:
    """The servers whose current job is ``job`` (an index per state, ``engine.memo``: asked per job)."""
    return _BY_JOB(state, "", lambda: _by_job(state)).get(job.job_id, [])


def _by_job(state: ExecutionState) -> dict[str, list[ServerState]]:
    found: dict[str, list[ServerState]] = {}
    for server in state.servers.values():
        if server.job_id is not None:
            found.setdefault(server.job_id, []).append(server)
    return found


def grace_started_at(state: ExecutionState, job: JobState) -> datetime | None:
    """When the run stopped needing ``job``: the stop request (or the job's start, if it was found only
    after the stop), or the moment the last of its servers settled, whichever came first; None while the
    run still waits for it."""
    starts: list[datetime] = []
    if state.stop is not None:
        starts.append(max(state.stop.at, job.started_at) if job.started_at else state.stop.at)
    members = _members(state, job)
    if members and all(server_settled(state, s) for s in members):
        settled = [s.failed_at or s.ready_at or s.launched_at for s in members]
        known = [t for t in settled if t is not None]
        starts.append(max(known) if known else job.started_at or state.spec.started_at)
    return min(starts) if starts else None


def grace_ends_at(state: ExecutionState, job: JobState) -> datetime | None:
    start = grace_started_at(state, job)
    return None if start is None else start + state.spec.cancel_grace


def grace_expired(state: ExecutionState, now: datetime) -> tuple[str, ...]:
    """Jobs whose grace ran out by ``now`` with DRS still running them: ``decide`` records them."""
    if state.finished is not None:
        return ()
    return tuple(
        job.job_id
        for job in jobs_in_flight(state)
        if (end := grace_ends_at(state, job)) is not None and end <= now
    )


def next_grace_end(state: ExecutionState) -> datetime | None:
    """The earliest moment a grace runs out: ``decide`` wakes then."""
    if state.finished is not None:
        return None
    ends = [end for job in jobs_in_flight(state) if (end := grace_ends_at(state, job)) is not None]
    return min(ends) if ends else None


def on_jobs_left_running(state: ExecutionState, event: JobsLeftRunning) -> ExecutionState:
    """The run stops waiting for these jobs: each counts as ended for the run; a server of it not settled
    fails with "still running in DRS", and a failed one keeps its first reason with that added."""
    for job_id in event.job_ids:
        job = state.jobs.get(job_id)
        if job is None or job.left_running_at is not None:
            continue
        note = still_running_reason(job_id)
        servers = []
        for server in _members(state, job):
            if not server_settled(state, server):
                servers.append(replace(server, status=ServerStatus.FAILED, reason=note, failed_at=event.at))
            elif server.status is ServerStatus.FAILED and note not in server.reason:
                servers.append(replace(server, reason=f"{server.reason}; {note}" if server.reason else note))
        state = state.with_jobs(replace(job, left_running_at=event.at)).with_servers(*servers)
        grace = int(state.spec.cancel_grace.total_seconds() // 60)
        detail = (
            f"{note} after a grace of {grace} min: instances it may still launch are not known to this run"
        )
        state = state.noting("left running", event.at, "", detail)
        logger.warning("execution %s: %s", state.spec.execution_id, detail)
    return state
