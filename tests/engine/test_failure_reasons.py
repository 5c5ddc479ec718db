"""``domain.engine.failure_reasons``: DRS's reason for a failed launch, the permissions pattern, the last
error of a server never launched, on executions the shipped runner drives over the simulator."""

from __future__ import annotations

from drs_desktop.domain.engine.events import StartFailed
from drs_desktop.domain.engine.failure_reasons import (
    PERMISSIONS_PATTERN,
    drs_reason,
    last_start_errors,
    server_problems,
)
from drs_desktop.domain.engine.state import ServerStatus

from .conftest import Shipped
from .helpers import T0, chain, minutes, sid
from .shipped_run import ShippedRun


def fetch_log(h: ShippedRun) -> None:
    """Step until the runner read the job log that changed (it does after the poll that saw it)."""
    h.act()
    assert all(job.log_version == job.version for job in h.state.jobs.values())


def test_the_permissions_pattern_is_named_once_the_ended_jobs_log_shows_it(shipped: Shipped) -> None:
    h = shipped(chain(1))
    h.act()
    job_id = h.job_of_chunk("1.1")
    h.by_hand.progress(job_id, sid(1), "SNAPSHOT_START")
    h.advance(minutes(1))
    h.by_hand.progress(job_id, sid(1), "SNAPSHOT_END")
    h.advance(minutes(3))
    h.by_hand.fail(job_id, sid(1), event=None)  # the log stops; DRS fails the server minutes later
    h.poll()
    server = h.state.servers[sid(1)]
    assert server.status is ServerStatus.FAILED
    assert drs_reason(h.state, server) == server.reason  # the job has not ended: no guess yet
    h.by_hand.complete(job_id)
    h.poll()
    assert drs_reason(h.state, h.state.servers[sid(1)]) == server.reason  # its log not read since
    fetch_log(h)
    assert drs_reason(h.state, h.state.servers[sid(1)]) == PERMISSIONS_PATTERN
    (problem,) = server_problems(h.state)
    assert problem.in_job and problem.reason == PERMISSIONS_PATTERN


def test_a_fail_event_in_the_log_is_drs_reason_not_the_pattern(shipped: Shipped) -> None:
    h = shipped(chain(1))
    h.act()
    job_id = h.job_of_chunk("1.1")
    h.by_hand.progress(job_id, sid(1), "SNAPSHOT_END")
    h.advance(minutes(5))
    h.by_hand.fail(job_id, sid(1), reason="boom")  # logs LAUNCH_FAILED "boom"
    h.by_hand.complete(job_id)
    h.poll()
    fetch_log(h)
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


def test_a_waiting_server_is_listed_only_once_drs_refused_its_start(shipped: Shipped) -> None:
    h = shipped(chain(1, 2))
    assert server_problems(h.state) == ()
    h.start_outcomes = ["refuse:ConflictException"]
    h.step()
    refused = h.events()[-1]
    assert refused == StartFailed(chunk_id="1.1", reason="ConflictException", definite=True, at=T0, busy=True)
    (problem,) = server_problems(h.state, [refused])
    assert problem.server_id == sid(1) and problem.status is ServerStatus.PENDING
    assert not problem.in_job
    assert problem.describe().endswith("last error: ConflictException")
