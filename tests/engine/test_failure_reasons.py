"""``domain.failure_reasons``: DRS's reason for a failed launch, the permissions pattern, the last error
of a server never launched, on executions the engine's own harness drives."""

from __future__ import annotations

from drs_desktop.domain.engine_commands import FetchJobLog
from drs_desktop.domain.execution_events import JobLogItem, JobStatus, LaunchStatus, StartFailed
from drs_desktop.domain.execution_state import ServerStatus
from drs_desktop.domain.failure_reasons import (
    PERMISSIONS_PATTERN,
    drs_reason,
    last_start_errors,
    server_problems,
)

from .fake_drs import Harness
from .helpers import T0, chain, minutes, sid


def fetch_log(h: Harness, job_id: str) -> None:
    h.execute(FetchJobLog(job_id=job_id))


def test_the_permissions_pattern_is_named_once_the_ended_jobs_log_shows_it() -> None:
    h = Harness(chain(1))
    h.step()
    job_id = h.job_of_chunk("1.1")
    job = h.drs.jobs[job_id]
    job.log += [
        JobLogItem(at=T0, event="SNAPSHOT_START", server_id=sid(1)),
        JobLogItem(at=T0 + minutes(1), event="SNAPSHOT_END", server_id=sid(1)),
    ]
    job.servers[sid(1)] = LaunchStatus.FAILED  # the log stops; DRS fails the server minutes later
    job.status = JobStatus.STARTED
    h.poll()
    server = h.state.servers[sid(1)]
    assert server.status is ServerStatus.FAILED
    assert drs_reason(h.state, server) == server.reason  # the job has not ended: no guess yet
    job.status = JobStatus.COMPLETED
    h.poll()
    assert drs_reason(h.state, h.state.servers[sid(1)]) == server.reason  # its log not read since
    fetch_log(h, job_id)
    assert drs_reason(h.state, h.state.servers[sid(1)]) == PERMISSIONS_PATTERN
    (problem,) = server_problems(h.state)
    assert problem.in_job and problem.reason == PERMISSIONS_PATTERN


def test_a_fail_event_in_the_log_is_drs_reason_not_the_pattern() -> None:
    h = Harness(chain(1))
    h.step()
    job_id = h.job_of_chunk("1.1")
    h.drs.jobs[job_id].log.append(JobLogItem(at=T0, event="SNAPSHOT_END", server_id=sid(1)))
    h.drs.launch_all(job_id, T0 + minutes(5), fail=[sid(1)])  # logs LAUNCH_FAILED "boom"
    h.poll()
    fetch_log(h, job_id)
    server = h.state.servers[sid(1)]
    assert drs_reason(h.state, server) == "LAUNCH_FAILED: boom"
    assert server_problems(h.state)[0].describe() == f"{sid(1)} FAILED (critical): LAUNCH_FAILED: boom"


def test_last_start_errors_keep_the_last_refusal_of_each_chunk() -> None:
    events = [
        StartFailed(chunk_id="1.1", reason="ConflictException", definite=True, at=T0),
        StartFailed(chunk_id="2.1", reason="ThrottlingException", definite=True, at=T0),
        StartFailed(chunk_id="1.1", reason="ServiceQuotaExceededException", definite=True, at=T0),
    ]
    assert last_start_errors(events) == {"1.1": "ServiceQuotaExceededException", "2.1": "ThrottlingException"}


def test_a_waiting_server_is_listed_only_once_drs_refused_its_start() -> None:
    h = Harness(chain(1, 2))
    assert server_problems(h.state) == ()
    refused = StartFailed(chunk_id="1.1", reason="ConflictException", definite=True, at=T0)
    h.record(refused)
    (problem,) = server_problems(h.state, [refused])
    assert problem.server_id == sid(1) and problem.status is ServerStatus.PENDING
    assert not problem.in_job
    assert problem.describe().endswith("last error: ConflictException")
