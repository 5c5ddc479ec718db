"""Critical vs optional failures, the hold and its way out (retry, skip, cancel), timeouts, post-launch."""

from __future__ import annotations

from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.commands import Record, VerifyJobs
from drs_desktop.domain.engine.events import (
    Cancel,
    ExternalLoad,
    JobsVerified,
    Outcome,
    Pause,
    PostLaunchCompleted,
    PostLaunchFailed,
    Resume,
    RetryFailed,
    SkipWave,
)
from drs_desktop.domain.engine.queries import execution_status, wave_deadline
from drs_desktop.domain.engine.reducer import control_error
from drs_desktop.domain.engine.state import (
    ChunkState,
    ChunkStatus,
    ExecutionStatus,
    Mode,
    PostLaunch,
    ServerStatus,
    WavePhase,
)
from drs_desktop.domain.views.evidence import wave_summaries

from .conftest import Shipped
from .helpers import T0, chain, minutes, sid, sids, spec, wave
from .shipped_run import OTHER_SERVERS, ShippedRun


def two_waves(shipped: Shipped) -> ShippedRun:
    return shipped(
        spec(wave("w1", sids(1, 3), optional=(sid(3),)), wave("w2", sids(4, 1), depends_on=("w1",)))
    )


def started(h: ShippedRun) -> list[ChunkState]:
    """The chunks the runner starts now (it steps until it has nothing left to do)."""
    return [h.state.chunks[chunk_id] for chunk_id in h.started()]


def test_an_optional_failure_is_a_warning_and_the_run_succeeds(shipped: Shipped) -> None:
    h = two_waves(shipped)
    h.act()
    h.launch_chunk("1.1", fail=[sid(3)])
    assert h.state.waves[0].phase is WavePhase.COMPLETED
    assert execution_status(h.state) is ExecutionStatus.RUNNING
    assert wave_summaries(h.state)[0].warnings == (
        f"optional server {sid(3)} failed: DRS failed to launch it (see the job log)",
    )
    h.by_hand.hold_launches(False)  # from now on DRS launches every job on its own
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED


def test_a_critical_failure_holds_the_run_until_the_operator_retries(shipped: Shipped) -> None:
    h = two_waves(shipped)
    h.act()
    h.launch_chunk("1.1", fail=[sid(2)])
    assert execution_status(h.state) is ExecutionStatus.HELD
    assert h.state.waves[0].phase is WavePhase.LAUNCHING
    assert h.state.waves[1].phase is WavePhase.BLOCKED
    assert started(h) == []
    h.advance(minutes(5))
    h.record(RetryFailed(wave_index=0, at=h.now, by="op"))
    server = h.state.servers[sid(2)]
    assert (server.status, server.retries, server.chunk_id) == (ServerStatus.PENDING, 1, "1.2")
    assert server.attempts[0].job_id == h.state.chunks["1.1"].job_id
    assert server.attempts[0].reason.startswith("LAUNCH_FAILED")  # the job log's raw error was kept
    assert [(j.chunk_id, j.server_ids) for j in started(h)] == [("1.2", (sid(2),))]
    h.launch_chunk("1.2")
    assert h.state.waves[0].phase is WavePhase.COMPLETED
    assert [j.chunk_id for j in started(h)] == ["2.1"]
    assert h.state.servers[sid(2)].job_ids == (h.state.chunks["1.1"].job_id, h.state.chunks["1.2"].job_id)


def test_retry_takes_only_the_named_servers(shipped: Shipped) -> None:
    h = shipped(chain(3))
    h.act()
    h.launch_chunk("1.1", fail=sids(1, 3))
    h.record(RetryFailed(wave_index=0, at=h.now, by="op", server_ids=(sid(2),)))
    assert [j.server_ids for j in started(h)] == [(sid(2),)]
    assert control_error(h.state, RetryFailed(wave_index=0, at=h.now, server_ids=(sid(2),))) is not None


def test_skipping_a_failed_wave_lets_the_run_go_on_and_succeed(shipped: Shipped) -> None:
    h = two_waves(shipped)
    h.act()
    h.launch_chunk("1.1", fail=[sid(1)])
    h.record(SkipWave(wave_index=0, at=h.now, by="op", reason="db restored by hand"))
    assert execution_status(h.state) is ExecutionStatus.RUNNING
    assert h.state.servers[sid(1)].status is ServerStatus.FAILED  # the evidence stays
    assert [j.chunk_id for j in started(h)] == ["2.1"]
    h.launch_chunk("2.1")
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED


def test_cancelling_while_held_ends_failed(shipped: Shipped) -> None:
    h = two_waves(shipped)
    h.act()
    h.launch_chunk("1.1", fail=[sid(1)])
    h.record(Cancel(at=h.now, by="op"))
    assert h.state.servers[sid(4)].status is ServerStatus.CANCELLED
    h.run()
    assert h.state.finished is Outcome.FAILED


def test_cancel_stops_launching_but_waits_for_running_jobs(shipped: Shipped) -> None:
    h = shipped(chain(2, 2, limits=Limits(max_servers_per_job=1, max_concurrent_jobs=1)))
    h.act()
    h.record(Cancel(at=h.now, by="op"))
    assert execution_status(h.state) is ExecutionStatus.CANCELLING
    assert h.state.chunks["1.2"].status is ChunkStatus.ABANDONED
    assert {h.state.servers[s].status for s in sids(2, 3)} == {ServerStatus.CANCELLED}
    assert started(h) == []
    h.advance(minutes(1))
    h.act()
    assert h.state.finished is None  # sid(1) is still launching in DRS
    h.launch_chunk("1.1")
    h.run()
    assert h.state.finished is Outcome.CANCELLED
    assert h.state.servers[sid(1)].status is ServerStatus.LAUNCHED
    assert control_error(h.state, Pause(at=h.now)) == "the execution has finished"


def test_a_timeout_asks_drs_first_and_only_its_answer_fails_servers(shipped: Shipped) -> None:
    h = shipped(chain(2, 1, wave_timeout=minutes(30)))
    h.act()
    job = h.job_of_chunk("1.1")
    h.by_hand.launch(job, sid(1))
    h.by_hand.progress(job, sid(2), "CONVERSION_START")
    h.advance_to(T0 + minutes(30))
    commands = h.decide()
    assert VerifyJobs(wave_index=0, job_ids=(job,)) in commands
    assert h.state.servers[sid(2)].status is ServerStatus.LAUNCHING  # nothing declared yet
    h.step()  # the verification comes first
    assert isinstance(h.events()[-1], JobsVerified)
    server = h.state.servers[sid(2)]
    assert (server.status, server.timed_out) == (ServerStatus.FAILED, True)
    assert h.state.servers[sid(1)].status is ServerStatus.LAUNCHED
    assert h.state.waves[0].timed_out_at == h.now
    assert execution_status(h.state) is ExecutionStatus.HELD


def test_a_timeout_verification_that_finds_launches_fails_nothing(shipped: Shipped) -> None:
    h = shipped(chain(1, wave_timeout=minutes(30)))
    h.act()
    h.by_hand.finish(h.job_of_chunk("1.1"))
    h.advance_to(T0 + minutes(31))
    h.step()
    assert isinstance(h.events()[-1], JobsVerified)
    assert h.state.servers[sid(1)].status is ServerStatus.LAUNCHED
    assert h.state.waves[0].timed_out_at is None or h.state.servers[sid(1)].timed_out is False


def test_a_server_launching_after_its_timeout_is_launched_after_all(shipped: Shipped) -> None:
    h = shipped(chain(1, 1, wave_timeout=minutes(30)))
    h.act()
    h.advance_to(T0 + minutes(30))
    h.step()  # verify: still pending -> failed, held
    assert execution_status(h.state) is ExecutionStatus.HELD
    h.by_hand.finish(h.job_of_chunk("1.1"))
    h.poll()
    server = h.state.servers[sid(1)]
    assert (server.status, server.reason) == (ServerStatus.LAUNCHED, "launched after the wave's timeout")
    assert execution_status(h.state) is ExecutionStatus.RUNNING
    assert [j.chunk_id for j in started(h)] == ["2.1"]


def test_queued_servers_time_out_without_a_call_to_drs(shipped: Shipped) -> None:
    """Waiting for quota (here: the account's 20 jobs, all another tool's) counts toward the timeout."""
    h = shipped(chain(1, wave_timeout=minutes(10), limits=Limits(max_concurrent_jobs=1)))
    h.start_external_job(OTHER_SERVERS[:1])
    h.look_at_load()
    last = h.events()[-1]
    assert isinstance(last, ExternalLoad) and (last.active_jobs, last.holders) == (1, ())
    assert started(h) == []
    h.advance_to(T0 + minutes(10))
    assert h.decide()[0] == Record(event=JobsVerified(wave_index=0, jobs=(), at=h.now))
    h.step()
    assert h.events()[-1] == JobsVerified(wave_index=0, jobs=(), at=h.now)
    assert h.state.servers[sid(1)].reason == "timed out before DRS could start it"
    assert h.state.chunks["1.1"].status is ChunkStatus.ABANDONED


def test_time_a_server_is_held_by_another_job_does_not_count_toward_the_timeout(shipped: Shipped) -> None:
    """Changed on purpose (issue 10): this test used to time the held server out after 10 minutes."""
    h = shipped(chain(1, wave_timeout=minutes(10)))
    other = h.start_external_job((sid(1),))
    h.look_at_load()
    last = h.events()[-1]
    assert isinstance(last, ExternalLoad) and last.busy_server_ids == (sid(1),)
    assert [holder.job_id for holder in last.holders] == [other]
    assert started(h) == []
    h.run(until=lambda: h.now >= T0 + minutes(25))  # the timer looks again and again; nothing times out
    assert not any(isinstance(e, JobsVerified) for e in h.events())
    assert h.state.servers[sid(1)].status is ServerStatus.PENDING
    h.by_hand.complete(other)
    freed = h.now
    h.run(until=lambda: h.state.chunks["1.1"].status is ChunkStatus.STARTED)
    assert h.state.waves[0].held_intervals[0][0] == T0
    # The timeout now runs from when the server was free: 10 minutes after the look that saw it so.
    look = h.state.waves[0].held_intervals[0][1]
    assert freed <= look <= freed + minutes(5)
    assert wave_deadline(h.state, h.state.waves[0], h.now) == look + minutes(10)


def test_paused_time_does_not_count_toward_the_timeout(shipped: Shipped) -> None:
    h = shipped(chain(1, wave_timeout=minutes(30)))
    h.act()
    h.advance_to(T0 + minutes(20))
    h.record(Pause(at=h.now, by="op"))
    h.advance_to(T0 + minutes(45))
    h.record(Resume(at=h.now, by="op"))
    job = h.job_of_chunk("1.1")
    h.advance_to(T0 + minutes(54))
    assert not any(isinstance(c, VerifyJobs) for c in h.decide())
    h.advance_to(T0 + minutes(55))
    assert VerifyJobs(wave_index=0, job_ids=(job,)) in h.decide()


def test_a_job_that_ends_without_launching_a_server_fails_it(shipped: Shipped) -> None:
    """DRS without EC2 permissions: the log stops after SNAPSHOT_END and the job completes (§12.7)."""
    h = shipped(chain(1))
    h.act()
    h.by_hand.complete(h.job_of_chunk("1.1"))  # with the server still PENDING
    h.poll()
    assert h.state.servers[sid(1)].status is ServerStatus.FAILED
    assert h.state.servers[sid(1)].reason == "the DRS job ended without launching it"


def test_a_job_drs_stops_reporting_fails_its_servers_after_three_polls(shipped: Shipped) -> None:
    h = shipped(chain(1))
    h.act()
    job = h.job_of_chunk("1.1")
    h.by_hand.complete(job)
    h.backend.handle("DeleteJob", {"jobID": job})  # someone deletes it before this run saw it end
    h.poll()
    h.poll()
    assert h.state.servers[sid(1)].status is ServerStatus.LAUNCHING
    h.poll()
    assert h.state.servers[sid(1)].status is ServerStatus.FAILED
    assert h.state.jobs[h.state.chunks["1.1"].job_id or ""].gone


def test_a_recovery_waits_for_post_launch_actions(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("w1", sids(1, 2), post_launch=(sid(1),)),
            wave("w2", sids(3, 1), depends_on=("w1",)),
            mode=Mode.RECOVERY,
        )
    )
    h.act()
    h.launch_chunk("1.1")
    assert h.state.servers[sid(1)].post_launch is PostLaunch.PENDING
    assert h.state.waves[0].phase is WavePhase.LAUNCHING
    h.run(until=lambda: h.state.servers[sid(1)].post_launch is not PostLaunch.PENDING)
    (completed,) = [e for e in h.events() if isinstance(e, PostLaunchCompleted)]
    launched_at = h.state.servers[sid(1)].launched_at
    assert completed.server_id == sid(1) and launched_at is not None and completed.at > launched_at
    assert h.state.servers[sid(1)].ready_at == completed.at
    assert h.state.waves[0].phase is WavePhase.COMPLETED


def test_a_failed_post_launch_action_is_a_critical_failure(shipped: Shipped) -> None:
    h = shipped(spec(wave("w1", sids(1, 1), post_launch=(sid(1),)), mode=Mode.RECOVERY))
    h.backend.faults.fail_post_launch(servers=[sid(1)])
    h.act()
    h.launch_chunk("1.1")
    h.run(until=lambda: h.state.servers[sid(1)].post_launch is not PostLaunch.PENDING)
    assert isinstance(h.events()[-1], PostLaunchFailed)
    assert h.state.servers[sid(1)].reason == (
        "post-launch actions failed: Verify: SSM command failed with exit code 1"
    )
    assert execution_status(h.state) is ExecutionStatus.HELD


def test_a_drill_does_not_wait_for_post_launch_actions(shipped: Shipped) -> None:
    h = shipped(spec(wave("w1", sids(1, 1), post_launch=(sid(1),)), mode=Mode.DRILL))
    h.act()
    h.launch_chunk("1.1")
    assert h.state.servers[sid(1)].post_launch is PostLaunch.NOT_EXPECTED
    assert h.state.waves[0].phase is WavePhase.COMPLETED
