"""Terminating drill instances: TERMINATE jobs followed like launch jobs, and crash-safe.

TerminateRecoveryInstances only starts a TERMINATE job; DRS may still fail it (a CLEANUP_FAIL with its
raw error in the job log), and an instance counts as terminated only once that job has ended with the
instance TERMINATED. So the runner journals the job (``InstancesTerminated(awaits_job=True)``), polls it
with the launch jobs' DescribeJobs, reads its log when it changes, and the engine retries a failed
termination within ``ExecutionSpec.max_terminate_attempts``, keeping DRS's reason for the evidence.

A crash between ``TerminateRequested`` and its answer leaves the instance ``terminate_unresolved``: DRS
puts no tags on a TERMINATE job, so the engine lists the jobs since the intent and takes the TERMINATE
job that holds the instance (``TerminationsReconciled``) before it asks again. Older journals, where
acceptance counted as the termination, replay as they did. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from drs_desktop.domain.engine.events import (
    InstancesTerminated,
    JobLogObserved,
    JobStatus,
    JobView,
    LaunchStatus,
    TerminateFailed,
    TerminateRequested,
)
from drs_desktop.domain.engine.instance_events import TerminationsReconciled
from drs_desktop.domain.engine.observe import MISSING_POLLS_LIMIT
from drs_desktop.domain.engine.polling import after_change, after_failure, after_read_ok
from drs_desktop.domain.engine.state import ExecutionState, InstanceRecord, TerminateJobState


def on_terminate_requested(state: ExecutionState, event: TerminateRequested) -> ExecutionState:
    records = [
        replace(
            i,
            terminate_requested_at=event.at,
            terminate_attempts=i.terminate_attempts + 1,
            terminate_unresolved=True,
        )
        for i in (state.instances.get(rid) for rid in event.instance_ids)
        if i is not None and i.is_drill and i.terminated_at is None
    ]
    return state.with_instances(*records)


def on_terminated(state: ExecutionState, event: InstancesTerminated) -> ExecutionState:
    if not event.awaits_job or event.job_id is None:  # an older journal: accepted meant terminated
        records = [
            replace(
                i,
                terminated_at=event.at,
                terminate_job_id=event.job_id,
                terminate_error="",
                terminate_unresolved=False,
            )
            for i in _open(state, event.instance_ids)
        ]
        return state.with_instances(*records)
    return _follow(state, event.job_id, event.instance_ids, event.at)


def _open(state: ExecutionState, instance_ids: Iterable[str]) -> list[InstanceRecord]:
    """The instances named that are recorded and not yet terminated."""
    return [
        i
        for i in (state.instances.get(rid) for rid in instance_ids)
        if i is not None and i.terminated_at is None
    ]


def _follow(state: ExecutionState, job_id: str, instance_ids: Iterable[str], at: datetime) -> ExecutionState:
    """DRS started TERMINATE job ``job_id`` for these instances: follow it."""
    records = [
        replace(i, terminate_job_id=job_id, terminate_error="", terminate_unresolved=False)
        for i in _open(state, instance_ids)
    ]
    if not records:
        return state
    known = state.terminate_jobs.get(job_id)
    ids = tuple(
        dict.fromkeys([*(known.instance_ids if known else ()), *(r.recovery_instance_id for r in records)])
    )
    job = (
        replace(known, instance_ids=ids)
        if known
        else TerminateJobState(job_id=job_id, instance_ids=ids, started_at=at)
    )
    state = state.with_instances(*records)
    state = replace(state, terminate_jobs={**state.terminate_jobs, job_id: job})
    return replace(state, poll=after_change(state.poll, at))


def on_terminate_failed(state: ExecutionState, event: TerminateFailed) -> ExecutionState:
    # Refused credentials terminated nothing and say nothing about the instances: the attempt is given
    # back (the target waits for new credentials, ``engine.accounts``).
    back = 1 if event.auth else 0
    records = [
        replace(
            i,
            terminate_error=event.reason,
            terminate_unresolved=False,
            terminate_attempts=max(0, i.terminate_attempts - back),
        )
        for i in _open(state, event.instance_ids)
    ]
    poll = after_failure(state.poll, state.spec.polling, state.spec.jitter_seed, event.at, event.reason)
    return replace(state.with_instances(*records), poll=poll)


def on_terminations_reconciled(state: ExecutionState, event: TerminationsReconciled) -> ExecutionState:
    state = replace(state, poll=after_read_ok(state.poll))
    unresolved = {i.recovery_instance_id for i in state.instances.values() if i.terminate_unresolved}
    wanted = unresolved & set(event.instance_ids)
    for found in event.jobs:
        ids = [i for i in found.instance_ids if i in wanted]
        if ids:
            state = _follow(state, found.job_id, ids, event.at)
            wanted -= set(ids)
    reason = "the call was cut off and DRS lists no TERMINATE job for it"
    records = [
        replace(state.instances[i], terminate_unresolved=False, terminate_error=reason) for i in wanted
    ]
    return state.with_instances(*records)


# -- following the jobs


def fold_terminate_jobs(
    state: ExecutionState, views: Iterable[JobView], missing: Iterable[str], at: datetime
) -> ExecutionState:
    """A poll's word on this execution's TERMINATE jobs (launch jobs are ``observe.fold_jobs``'s)."""
    if not state.terminate_jobs:
        return state
    for view in views:
        job = state.terminate_jobs.get(view.job_id)
        if job is None or not job.active or view.status is job.status:
            continue
        if view.status is JobStatus.COMPLETED:
            state = _ended(state, job, view, at)
        job = replace(
            job,
            status=view.status,
            missing_polls=0,
            completed_at=at if view.status is JobStatus.COMPLETED else None,
            version=job.version + 1,
        )
        state = _with_job(state, job)
    for job_id in missing:
        job = state.terminate_jobs.get(job_id)
        if job is None or not job.active:
            continue
        gone = job.missing_polls + 1 >= MISSING_POLLS_LIMIT
        if gone:
            reason = f"DRS no longer reports TERMINATE job {job_id}"
            state = state.with_instances(*[replace(i, terminate_error=reason) for i in _awaiting(state, job)])
        state = _with_job(state, replace(job, missing_polls=job.missing_polls + 1, gone=gone))
    return state


def _ended(state: ExecutionState, job: TerminateJobState, view: JobView, at: datetime) -> ExecutionState:
    """The job ended: an instance it reports TERMINATED is terminated; any other failed, with DRS's
    reason where its log gave one (else the status the job left it in)."""
    by_instance = {s.recovery_instance_id: s for s in view.servers if s.recovery_instance_id}
    by_server = {s.server_id: s for s in view.servers}
    records = []
    for instance in _awaiting(state, job):
        reported = by_instance.get(instance.recovery_instance_id) or by_server.get(instance.server_id)
        if reported is not None and reported.launch_status is LaunchStatus.TERMINATED:
            records.append(replace(instance, terminated_at=at, terminate_error=""))
        elif not instance.terminate_error:
            status = reported.launch_status.value if reported is not None else "not listed"
            reason = f"{_NO_REASON_YET}{job.job_id} ended with it {status}; DRS still has it"
            records.append(replace(instance, terminate_error=reason))
    return state.with_instances(*records)


#: How ``_ended`` words a failure before the job's log is read; the log's own reason replaces it.
_NO_REASON_YET = "TERMINATE job "


def _replaceable(error: str) -> bool:
    return not error or error.startswith(_NO_REASON_YET)


def _awaiting(state: ExecutionState, job: TerminateJobState) -> list[InstanceRecord]:
    return [i for i in _open(state, job.instance_ids) if i.terminate_job_id == job.job_id]


def _with_job(state: ExecutionState, job: TerminateJobState) -> ExecutionState:
    return replace(state, terminate_jobs={**state.terminate_jobs, job.job_id: job})


def on_terminate_job_log(state: ExecutionState, event: JobLogObserved) -> ExecutionState:
    """DRS's reason for a failed termination: the CLEANUP_FAIL (or other failure) item's raw error."""
    job = state.terminate_jobs.get(event.job_id)
    if job is None:
        return state
    awaiting = _awaiting(state, job)
    records = []
    for item in event.items:
        if "FAIL" not in item.event or not item.detail:
            continue
        for instance in awaiting:
            if instance.server_id == item.server_id and _replaceable(instance.terminate_error):
                records.append(replace(instance, terminate_error=f"{item.event}: {item.detail}"[:1000]))
    state = state.with_instances(*records)
    seen = job.log_seen if event.seen is None else event.seen
    state = _with_job(state, replace(job, log_version=job.version, log_seen=seen))
    return replace(state, poll=after_read_ok(state.poll))


# -- what decide asks


def terminate_jobs_to_poll(state: ExecutionState) -> tuple[str, ...]:
    return tuple(job.job_id for job in state.terminate_jobs.values() if job.active)


def terminate_logs_due(state: ExecutionState) -> tuple[str, ...]:
    return tuple(job.job_id for job in state.terminate_jobs.values() if job.version > job.log_version)


def awaiting_termination(state: ExecutionState, instance: InstanceRecord) -> bool:
    """Its TERMINATE job has not ended, or its end's log is not read yet (DRS's reason may be there)."""
    job = state.terminate_jobs.get(instance.terminate_job_id or "")
    return (
        job is not None and (job.active or job.log_version < job.version) and instance.terminated_at is None
    )


def terminations_in_flight(state: ExecutionState) -> bool:
    """A termination whose outcome DRS has not told yet: cut off by a crash, or its job not done."""
    return any(
        i.terminate_unresolved or awaiting_termination(state, i)
        for i in state.instances.values()
        if i.terminated_at is None
    )


def unresolved_terminations(state: ExecutionState) -> tuple[InstanceRecord, ...]:
    return tuple(i for i in state.instances.values() if i.terminate_unresolved and i.terminated_at is None)


def terminate_problems(state: ExecutionState) -> tuple[tuple[str, str, str], ...]:
    """(instance, server, DRS's reason) for each drill instance whose termination failed and that is
    still running: what the progress view, ``executions show`` and the report show."""
    return tuple(
        (i.recovery_instance_id, i.server_id, f"{i.terminate_error} (attempt {i.terminate_attempts})")
        for i in sorted(state.instances.values(), key=lambda i: i.recovery_instance_id)
        if i.is_drill
        and i.terminated_at is None
        and i.gone_at is None
        and i.terminate_error
        and not awaiting_termination(state, i)
    )
