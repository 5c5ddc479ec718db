"""Chunking and queueing: DRS's job quotas are respected before any call can fail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.commands import StartJob, WakeAt
from drs_desktop.domain.engine.events import (
    ExternalLoad,
    HoldingJob,
    RetryFailed,
    StartFailed,
    StartRequested,
)
from drs_desktop.domain.engine.queries import execution_status
from drs_desktop.domain.engine.reducer import control_error
from drs_desktop.domain.engine.state import ChunkStatus, ExecutionStatus, Mode, ServerStatus

from .conftest import Shipped
from .helpers import T0, chain, sid, sids, spec, wave
from .shipped_run import OTHER_SERVERS, ShippedRun


def starts(h: ShippedRun) -> list[StartJob]:
    return [c for c in h.decide() if isinstance(c, StartJob)]


def test_250_servers_become_three_jobs_of_100_100_50_with_tags(shipped: Shipped) -> None:
    h = shipped(chain(250))
    jobs = starts(h)
    assert [(j.chunk_id, len(j.server_ids)) for j in jobs] == [("1.1", 100), ("1.2", 100), ("1.3", 50)]
    assert sum((j.server_ids for j in jobs), ()) == sids(1, 250)
    assert jobs[1].tags == {
        "drs-desktop:execution": "exec-1",
        "drs-desktop:wave": "1",
        "drs-desktop:chunk": "1.2",
        "drs-desktop:attempt": "1",
    }
    assert all(j.is_drill is True and j.snapshot_ids == {} for j in jobs)
    assert h.started() == ["1.1", "1.2", "1.3"]
    drs_job = h.backend.world.jobs[h.job_of_chunk("1.2")]
    assert {k: v for k, v in drs_job.tags.items() if k != "resourceArn"} == jobs[1].tags
    assert len(drs_job.participants) == 100 and drs_job.is_drill


def test_a_recovery_says_is_drill_false_and_carries_the_chosen_snapshots(shipped: Shipped) -> None:
    chosen = {sid(1): "pit-00000000000000001", sid(2): "pit-00000000000000002"}
    h = shipped(chain(2, mode=Mode.RECOVERY, point_in_time=T0 - timedelta(hours=2), snapshot_ids=chosen))
    (job,) = starts(h)
    assert job.is_drill is False
    assert job.snapshot_ids == chosen


def test_a_point_in_time_run_needs_a_snapshot_for_every_server(shipped: Shipped) -> None:
    with pytest.raises(ValueError, match="no recovery snapshot chosen"):
        shipped(chain(2, point_in_time=T0, snapshot_ids={sid(1): "pit-00000000000000001"}))


def test_at_most_500_servers_run_at_once_the_rest_queue(shipped: Shipped) -> None:
    h = shipped(chain(700))
    assert h.started() == ["1.1", "1.2", "1.3", "1.4", "1.5"]
    assert h.state.chunks["1.6"].status is ChunkStatus.QUEUED
    assert starts(h) == []
    h.launch_chunk("1.2")
    assert [j.chunk_id for j in starts(h)] == ["1.6"]
    assert h.started() == ["1.6"]
    assert h.drs.refused == []


def test_at_most_20_jobs_run_at_once(shipped: Shipped) -> None:
    h = shipped(chain(25, limits=Limits(max_servers_per_job=1)))
    assert len(h.started()) == 20
    h.launch_chunk("1.3")
    assert [j.chunk_id for j in starts(h)] == ["1.21"]
    assert h.drs.refused == []


def test_external_jobs_count_toward_the_limits(shipped: Shipped) -> None:
    h = shipped(chain(5, limits=Limits(max_servers_per_job=1)))
    for server_id in OTHER_SERVERS[:18]:
        h.start_external_job((server_id,))
    h.look_at_load()
    assert h.events()[-1] == ExternalLoad(active_jobs=18, busy_server_ids=OTHER_SERVERS[:18], at=T0)
    assert [j.chunk_id for j in starts(h)] == ["1.1", "1.2"]
    assert h.started() == ["1.1", "1.2"] and h.drs.refused == []


def test_a_server_busy_in_another_job_waits_and_starts_when_freed(shipped: Shipped) -> None:
    h = shipped(
        spec(wave("w1", sids(1, 2) + sids(10, 1), depends_on=()), limits=Limits(max_servers_per_job=2))
    )
    other = h.start_external_job((sid(2),))
    h.look_at_load()
    assert h.events()[-1] == ExternalLoad(
        active_jobs=1,
        busy_server_ids=(sid(2),),
        at=T0,
        holders=(HoldingJob(job_id=other, server_ids=(sid(2),), created_at=T0, initiated_by="START_DRILL"),),
    )
    assert [j.chunk_id for j in starts(h)] == ["1.2"]  # 1.1 holds the busy server; 1.2 goes ahead
    h.advance(timedelta(minutes=1))
    h.by_hand.complete(other)
    h.look_at_load()
    assert h.events()[-1] == ExternalLoad(active_jobs=0, busy_server_ids=(), at=h.now)
    assert [j.chunk_id for j in starts(h)] == ["1.1", "1.2"]
    assert h.started() == ["1.1", "1.2"] and h.drs.refused == []


def test_a_quota_refusal_queues_the_chunk_again_after_a_backoff(shipped: Shipped) -> None:
    h = shipped(chain(3))
    h.start_outcomes = ["refuse:ServiceQuotaExceededException"]
    h.step()
    assert h.events()[-2:] == (
        StartRequested(chunk_id="1.1", at=T0),
        StartFailed(chunk_id="1.1", reason="ServiceQuotaExceededException", definite=True, at=T0),
    )
    chunk = h.state.chunks["1.1"]
    assert chunk.status is ChunkStatus.QUEUED and chunk.not_before is not None and chunk.not_before > T0
    assert h.state.servers[sid(1)].status is ServerStatus.PENDING
    assert h.decide() == (WakeAt(at=chunk.not_before),)
    h.advance_to(chunk.not_before)
    (job,) = starts(h)
    assert job.attempt == 2 and job.tags["drs-desktop:attempt"] == "2"


def test_a_conflict_honours_retry_after_when_longer_than_the_backoff(shipped: Shipped) -> None:
    h = shipped(chain(1))
    h.start_outcomes = ["refuse:ConflictException:90"]
    h.step()
    assert h.events()[-1] == StartFailed(
        chunk_id="1.1", reason="ConflictException", definite=True, at=T0, retry_after=90, busy=True
    )
    assert h.state.chunks["1.1"].not_before == T0 + timedelta(seconds=90)


def test_conflicts_no_job_explains_spend_attempts_and_fail_the_servers(shipped: Shipped) -> None:
    """A Conflict spends no attempt by itself; the look after it that finds no job holding the servers
    does (changed on purpose, issue 10: this test used to see each Conflict spend one at once)."""
    h = shipped(chain(2, max_start_attempts=2))
    h.start_outcomes = ["refuse:ConflictException"] * 2
    for failures in (1, 2):
        h.advance_to(h.state.chunks["1.1"].not_before or h.now)
        events = h.act()
        refused = StartFailed(chunk_id="1.1", reason="ConflictException", definite=True, at=h.now, busy=True)
        assert events[1:] == [refused, ExternalLoad(active_jobs=0, busy_server_ids=(), at=h.now)]
        assert h.state.chunks["1.1"].failures == failures
    assert h.state.chunks["1.1"].status is ChunkStatus.START_FAILED
    assert h.state.servers[sid(1)].status is ServerStatus.FAILED
    assert "2 attempt(s)" in h.state.servers[sid(1)].reason
    assert "no job held its servers" in h.state.servers[sid(1)].reason
    assert execution_status(h.state) is ExecutionStatus.HELD


def test_a_validation_error_fails_the_chunk_at_once(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.start_outcomes = ["refuse:ValidationException"]
    h.step()
    assert h.events()[-1] == StartFailed(chunk_id="1.1", reason="ValidationException", definite=True, at=T0)
    assert h.state.chunks["1.1"].status is ChunkStatus.START_FAILED
    assert {s.status for s in h.state.servers.values()} == {ServerStatus.FAILED}


def test_a_retry_waits_for_the_servers_previous_job_to_end(shipped: Shipped) -> None:
    """One job per server: a failed server whose job still runs is not retried yet."""
    h = shipped(chain(2))
    h.act()
    job = h.job_of_chunk("1.1")
    h.by_hand.fail(job, sid(1))
    h.poll()
    assert execution_status(h.state) is ExecutionStatus.HELD
    retry = RetryFailed(wave_index=0, at=h.now, by="op")
    assert control_error(h.state, retry) == (
        f"the DRS job of {sid(1)} is still running; retry once it has ended"
    )
    h.record(retry)  # applied anyway: nothing happens
    assert h.state.servers[sid(1)].retries == 0
    h.by_hand.complete(job)
    h.poll()
    assert control_error(h.state, retry) is None
