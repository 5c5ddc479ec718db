"""Every fault the simulator can inject, met by the real runner, gateway and engine.

Each test runs the small estate's shop plan (Database -> App -> Web, see conftest.shop_plan) as a drill
or a recovery on the simulator's manual clock, injects one kind of fault, and checks the outcome from
both ends: the journal (events, states) and the simulator's own ledger (launch records, request counts).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.events import (
    Cancel,
    CleanupRequested,
    Event,
    InstancesTerminated,
    JobsObserved,
    JobStarted,
    JobsVerified,
    Outcome,
    Pause,
    PollFailed,
    RecoveryInstancesObserved,
    Resume,
    RetryFailed,
    SkipWave,
    StartFailed,
    StartRequested,
    TerminateRequested,
    Throttled,
)
from drs_desktop.domain.engine.queries import active_jobs, drill_instances_running, jobs_to_poll
from drs_desktop.domain.engine.reconcile_events import StartsReconciled
from drs_desktop.domain.engine.state import ExecutionStatus, Mode, PostLaunch, ServerStatus, WavePhase
from drs_desktop.services.runner import ControlRefused
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database

from .conftest import ids, shop_plan
from .harness import Run, engine_gateway, start_run, wait_for

ALL_CALLS = (
    "StartRecovery",
    "DescribeJobs",
    "DescribeJobLogItems",
    "DescribeRecoveryInstances",
    "TerminateRecoveryInstances",
)


def shop_run(db: Database, sim: EmbeddedSimulator, **options: Any) -> Run:
    """The shop plan without its approval gate, through a gateway whose reads go out once."""
    return start_run(db, engine_gateway(sim), sim, shop_plan(sim, approval=False), **options)


def throttle_hold(event: Event) -> timedelta | None:
    """The Retry-After a throttled call asked for (reads, and StartRecovery refused as throttled)."""
    if isinstance(event, Throttled):
        return timedelta(seconds=event.retry_after)
    if isinstance(event, StartFailed) and event.reason == "ThrottlingException":
        return timedelta(seconds=event.retry_after or 0.0)
    return None


def held_and_quiet(run: Run) -> Callable[[], bool]:
    """Stop once the run holds for the operator, has nothing left to watch, and went to sleep."""
    return lambda: (
        run.runner.status is ExecutionStatus.HELD and not jobs_to_poll(run.state) and run.recorder.idle()
    )


def assert_each_launched_once(run: Run) -> None:
    counts = run.launches()
    assert set(counts) == set(run.state.servers)
    assert set(counts.values()) == {1}, f"launched twice: {counts}"


# -- throttling


def test_throttled_polls_slow_the_run_and_wait_for_retry_after(
    db: Database, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    sim.faults.throttle("DescribeJobs", rate=0.4, retry_after=45)
    run = shop_run(db, sim)
    assert run.run().outcome is Outcome.SUCCEEDED
    throttles = run.recorder.of(Throttled)
    assert len(throttles) >= 3 and {t.operation for t in throttles} == {"DescribeJobs"}
    early = run.recorder.early_requests(throttle_hold, ["DescribeJobs"])
    assert len(early) == len(throttles)
    assert [n for _, n in early if n] == [], "a DescribeJobs went out before Retry-After elapsed"
    assert_each_launched_once(run)
    # The same plan on an identical account without throttling (same seed: same jobs, same timings).
    with (
        EmbeddedSimulator("small", seed=7) as clean_sim,
        Database.open(tmp_path / "clean.sqlite3") as clean_db,
    ):
        clean = shop_run(clean_db, clean_sim)
        assert clean.run().outcome is Outcome.SUCCEEDED
    assert clean.state.finished_at and run.state.finished_at
    assert run.state.finished_at > clean.state.finished_at


@pytest.mark.parametrize("seed", [2, 6])
def test_nothing_goes_out_while_a_throttle_holds(db: Database, seed: int) -> None:
    """Throttling on every operation: after a throttled call, the rest of that decision's calls (a job
    log fetch, a StartRecovery) wait too. These seeds put a throttled poll right before such calls."""
    with EmbeddedSimulator("small", seed=seed) as sim:
        run = shop_run(db, sim)
        sim.faults.throttle("*", rate=0.3, retry_after=20)
        assert run.run().outcome is Outcome.SUCCEEDED
        early = run.recorder.early_requests(throttle_hold, ALL_CALLS)
        assert len(early) >= 10
        assert [(type(e).__name__, e.at, n) for e, n in early if n] == []
        assert_each_launched_once(run)


def test_runner_reads_go_out_once_even_on_a_retrying_gateway(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    run = start_run(db, gateway, sim, shop_plan(sim, approval=False))
    sim.faults.throttle("DescribeJobs", retry_after=60, count=1)
    run.run(until=lambda: bool(run.recorder.of(JobsObserved)))
    (first_poll,) = run.recorder.of(JobsObserved)
    # One throttled DescribeJobs, then nothing for 60 s: the engine would have journaled the throttle.
    assert run.recorder.of(Throttled), "the throttle never reached the engine"
    assert first_poll.at - run.state.spec.started_at >= timedelta(seconds=60)


def test_throttled_start_is_retried_after_retry_after(db: Database, sim: EmbeddedSimulator) -> None:
    sim.faults.throttle("StartRecovery", retry_after=30, count=2)
    run = shop_run(db, sim)
    assert run.run().outcome is Outcome.SUCCEEDED
    failed = run.recorder.of(StartFailed)
    assert [(f.chunk_id, f.reason, f.definite) for f in failed] == [("1.1", "ThrottlingException", True)] * 2
    requested = [e.at for e in run.recorder.of(StartRequested) if e.chunk_id == "1.1"]
    assert len(requested) == 3
    assert all(b - a >= timedelta(seconds=30) for a, b in pairwise(requested))
    assert not run.recorder.of(StartsReconciled), "a refusal is definite: nothing to reconcile"
    assert run.sim.backend.request_counts()["StartRecovery"] == 2 + 3  # two refused, one per wave
    assert_each_launched_once(run)


# -- StartRecovery with an unknown outcome


@pytest.mark.parametrize("fault", ["server_error", "dropped_connection"])
def test_start_with_unknown_outcome_is_reconciled_before_any_new_start(
    db: Database, sim: EmbeddedSimulator, fault: str
) -> None:
    if fault == "server_error":
        sim.faults.server_errors("StartRecovery", status=503, count=1)
    else:
        sim.faults.drop_connections("StartRecovery", count=1)
    run = shop_run(db, sim)
    assert run.run().outcome is Outcome.SUCCEEDED
    (failed,) = run.recorder.of(StartFailed)
    assert not failed.definite
    starts = [
        e for e in run.recorder.events if isinstance(e, StartRequested | StartFailed | StartsReconciled)
    ]
    names = [type(e).__name__ for e in starts]
    again = names.index("StartRequested", 1)
    assert names[:2] == ["StartRequested", "StartFailed"]
    assert set(names[2:again]) == {"StartsReconciled"} and again >= 4  # looked again, at growing intervals
    looks = run.recorder.of(StartsReconciled)[: again - 2]
    assert all(look.tagged_jobs == () for look in looks)  # the simulator failed it before any job
    assert looks[0].at - failed.at >= run.state.spec.reconcile_delay
    intent = starts[0]
    # Started again only once DRS's own time had passed the intent's by the read timeout plus 5 minutes.
    assert looks[-1].drs_time is not None
    assert looks[-1].drs_time >= intent.at + run.state.spec.start_settle
    assert all(
        look.drs_time < intent.at + run.state.spec.start_settle for look in looks[:-1] if look.drs_time
    )
    assert run.state.spec.start_settle == timedelta(seconds=60 + 300)
    assert sim.backend.request_counts()["StartRecovery"] == 1 + 3  # the failed call, then one per wave
    assert_each_launched_once(run)


def test_lost_answer_after_the_job_started_adopts_the_job(db: Database, sim: EmbeddedSimulator) -> None:
    """StartRecovery reaches DRS but its answer never comes back (the read timed out): reconciling finds
    the job by its tags and adopts it instead of launching the servers again."""
    sim.faults.latency("StartRecovery", seconds=1.0)
    run = start_run(db, engine_gateway(sim, read_timeout=0.5), sim, shop_plan(sim, approval=False))

    def let_the_late_call_land() -> None:
        if "StartRecovery" in sim.faults.transport_rules():
            wait_for(lambda: bool(sim.backend.launch_records()))
            sim.faults.set_transport("StartRecovery", None)

    run.recorder.before_sleep = let_the_late_call_land
    assert run.run().outcome is Outcome.SUCCEEDED
    (failed,) = run.recorder.of(StartFailed)
    assert (failed.reason, failed.definite) == ("ReadTimeoutError", False)
    (reconciled,) = run.recorder.of(StartsReconciled)
    first_job = sim.backend.launch_records()[0].job_id
    assert [job.job_id for job in reconciled.tagged_jobs] == [first_job]
    assert run.state.servers[ids(sim, "shop-db-01")[0]].job_id == first_job
    assert_each_launched_once(run)


# -- failing reads


@pytest.mark.parametrize("fault", ["server_error", "dropped_connection"])
def test_failing_polls_back_off_then_succeed(db: Database, sim: EmbeddedSimulator, fault: str) -> None:
    if fault == "server_error":
        sim.faults.server_errors("DescribeJobs", status=503, count=4)
    else:
        sim.faults.drop_connections("DescribeJobs", count=4)
    run = shop_run(db, sim)
    assert run.run().outcome is Outcome.SUCCEEDED
    failures = run.recorder.of(PollFailed)
    assert len(failures) == 4 and all(f.transient for f in failures)
    next_poll = run.recorder.of(JobsObserved)[0]
    attempts = [f.at for f in failures] + [next_poll.at]
    gaps = [b - a for a, b in pairwise(attempts)]
    # Exponential backoff with "equal jitter" from 2 s: at least 1, 2, 4, 8 s.
    assert all(gap >= timedelta(seconds=2**n) for n, gap in enumerate(gaps)), gaps
    assert_each_launched_once(run)


# -- launch failures


def test_optional_server_failing_is_a_warning(db: Database, sim: EmbeddedSimulator) -> None:
    sim.faults.fail_launch(servers=["shop-web-02"])
    run = shop_run(db, sim)
    assert run.run().outcome is Outcome.SUCCEEDED
    web02 = run.state.servers[ids(sim, "shop-web-02")[0]]
    assert web02.status is ServerStatus.FAILED and not web02.critical
    assert web02.reason.startswith("LAUNCH_FAILED")
    assert ExecutionStatus.HELD not in run.recorder.statuses
    assert run.state.waves[2].phase is WavePhase.COMPLETED
    assert_each_launched_once(run)


def test_a_late_launch_failure_keeps_drs_first_reason_through_a_failed_cleanup(
    db: Database, sim: EmbeddedSimulator
) -> None:
    """Over HTTP, in the calibrated world: DRS fails web-02's launch minutes after LAUNCH_START and after
    its sibling launched (reference §12.4); the reason kept is DRS's first, and a later cleanup whose
    termination DRS fails (CLEANUP_FAIL) is told as the cleanup's problem, not as a launch failure."""
    sim.faults.fail_launch(servers=["shop-web-02"])
    sim.faults.fail_terminate(servers=["shop-web-01"])
    run = shop_run(db, sim)
    assert run.run().outcome is Outcome.SUCCEEDED
    web01, web02 = (run.state.servers[s] for s in ids(sim, "shop-web-01", "shop-web-02"))
    assert web02.status is ServerStatus.FAILED
    assert web02.reason.startswith("LAUNCH_FAILED: InsufficientInstanceCapacity")
    assert web01.launched_at is not None and web02.failed_at is not None
    assert web02.failed_at - web02.phase_times["LAUNCH_START"] >= timedelta(minutes=5)
    assert web02.failed_at > web01.launched_at  # after its sibling in the same job launched
    first = web02.reason
    run.submit(CleanupRequested(at=run.now, by="alice"))
    run.run()
    assert run.state.servers[web02.server_id].reason == first
    assert run.state.servers[web01.server_id].reason == ""
    stuck = run.state.servers[web01.server_id].recovery_instance_id
    assert stuck in drill_instances_running(run.state)
    assert run.state.instances[stuck or ""].terminate_error.startswith("CLEANUP_FAIL")


@pytest.mark.parametrize("decision", ["retry", "skip", "cancel"])
def test_critical_failure_holds_until_the_operator_decides(
    db: Database, sim: EmbeddedSimulator, decision: str
) -> None:
    sim.faults.fail_launch(servers=["shop-app-02"])
    run = shop_run(db, sim)
    run.run(until=held_and_quiet(run))
    app02 = ids(sim, "shop-app-02")[0]
    assert run.runner.status is ExecutionStatus.HELD
    assert run.state.servers[app02].status is ServerStatus.FAILED
    assert run.state.servers[app02].reason.startswith("LAUNCH_FAILED")
    webs = set(ids(sim, "shop-web-01", "shop-web-02"))
    assert not webs & set(run.launches()), "the next wave started while the plan held"
    decided_at = run.now

    if decision == "retry":
        sim.faults.clear()
        run.submit(RetryFailed(wave_index=1, at=decided_at, by="alice"))
        assert run.run().outcome is Outcome.SUCCEEDED
        retried = run.state.servers[app02]
        assert (retried.status, retried.retries, len(retried.job_ids)) == (ServerStatus.LAUNCHED, 1, 2)
        (attempt,) = retried.attempts
        assert attempt.status is ServerStatus.FAILED and attempt.reason.startswith("LAUNCH_FAILED")
        counts = run.launches()
        assert counts.pop(app02) == 2  # the failed launch and the retry, nothing more
        assert set(counts.values()) == {1}
    elif decision == "skip":
        run.submit(SkipWave(wave_index=1, at=decided_at, by="alice", reason="app tier checked by hand"))
        assert run.run().outcome is Outcome.SUCCEEDED
        assert run.state.waves[1].phase is WavePhase.SKIPPED
        records = {r.source_server_id: r for r in sim.backend.launch_records()}
        assert webs <= set(records)
        assert all(records[w].requested_at >= decided_at for w in webs)
    else:
        run.submit(Cancel(at=decided_at, by="alice"))
        assert run.run().outcome is Outcome.FAILED
        assert not webs & set(run.launches())
        assert {run.state.servers[w].status for w in webs} == {ServerStatus.CANCELLED}
    assert run.state.audit[-1].action == decision


@pytest.mark.parametrize("fault", ["conversion", "permissions"])
def test_failure_before_launch_holds_the_plan(db: Database, sim: EmbeddedSimulator, fault: str) -> None:
    if fault == "conversion":
        sim.faults.fail_conversion(servers=["shop-db-01"])
    else:
        sim.faults.fail_permissions(servers=["shop-db-01"])
    run = shop_run(db, sim)
    run.run(until=held_and_quiet(run))
    db01 = run.state.servers[ids(sim, "shop-db-01")[0]]
    assert db01.status is ServerStatus.FAILED
    assert "SNAPSHOT_END" in db01.phase_times
    if fault == "conversion":
        assert db01.reason.startswith("CONVERSION_FAIL")
    else:  # the log stops after SNAPSHOT_END, with no *_FAIL event to quote (reference §12.7)
        assert "CONVERSION_START" not in db01.phase_times
        assert db01.reason == "DRS failed to launch it (see the job log)"
    assert set(run.launches()) == {db01.server_id}
    run.submit(Cancel(at=run.now, by="alice"))
    assert run.run().outcome is Outcome.FAILED


# -- a job that never ends


def test_hung_job_times_the_wave_out_after_verifying(db: Database, sim: EmbeddedSimulator) -> None:
    sim.faults.hang_jobs(servers=["shop-app-01"])
    run = shop_run(db, sim, wave_timeout_minutes=30)
    run.run(until=lambda: bool(run.recorder.of(JobsVerified)) and run.runner.status is ExecutionStatus.HELD)
    apps = ids(sim, "shop-app-01", "shop-app-02")
    first_failure = next(
        (before, event)
        for before, after, event in run.recorder.transitions
        if after.servers[apps[0]].status is ServerStatus.FAILED
    )
    before, event = first_failure
    assert isinstance(event, JobsVerified) and event.wave_index == 1, "failed before DRS was asked"
    launch_started = before.waves[1].launch_started_at
    assert launch_started is not None and event.at >= launch_started + timedelta(minutes=30)
    for server_id in apps:  # the stuck job holds both App servers
        server = run.state.servers[server_id]
        assert (server.status, server.timed_out) == (ServerStatus.FAILED, True)
        assert server.reason == "timed out: DRS had not launched it"
    assert not set(ids(sim, "shop-web-01", "shop-web-02")) & set(run.launches())
    # DRS still runs the job, so a retry would launch a server twice: refused, with the reason.
    with pytest.raises(ControlRefused, match="still running"):
        run.runner.control(RetryFailed(wave_index=1, at=run.now, by="alice"))


# -- recovery specifics, instance lookups


def test_post_launch_failure_in_a_recovery_holds_the_plan(db: Database, sim: EmbeddedSimulator) -> None:
    app02 = ids(sim, "shop-app-02")[0]
    drs = boto3.client("drs", **sim.client_kwargs())
    drs.put_launch_action(  # the small estate's own action is optional: add one the server needs
        resourceId=app02,
        actionId="0f0e0d0c-0b0a-4908-8706-050403020100",
        actionCode="AWS-RunShellScript",
        actionVersion="$DEFAULT",
        name="Check payments",
        order=3,
        active=True,
        optional=False,
        category="VALIDATION",
        description="Payments answer",
    )
    sim.faults.fail_post_launch(servers=["shop-app-02"])
    run = shop_run(db, sim, mode=Mode.RECOVERY)
    run.run(until=held_and_quiet(run))
    db01, app01 = ids(sim, "shop-db-01", "shop-app-01")
    failed = run.state.servers[app02]
    assert failed.status is ServerStatus.FAILED and failed.post_launch is PostLaunch.FAILED
    assert failed.reason.startswith("post-launch actions failed")
    assert failed.launched_at is not None  # its instance runs; a recovery's instances stay
    for ok in (db01, app01):
        assert run.state.servers[ok].post_launch is PostLaunch.SUCCEEDED
    assert not set(ids(sim, "shop-web-01", "shop-web-02")) & set(run.launches())
    assert not any(i.is_drill for i in run.state.instances.values())
    assert not any(r.is_drill for r in sim.backend.launch_records())


def test_missing_instance_ids_are_found_and_cleaned_up(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    sim.faults.omit_instance_ids(servers=["shop-db-01", "shop-web-01"])
    run = shop_run(db, sim)
    assert run.run().outcome is Outcome.SUCCEEDED
    hidden = set(ids(sim, "shop-db-01", "shop-web-01"))
    looked_up = {s for e in run.recorder.of(RecoveryInstancesObserved) for s in e.server_ids}
    assert hidden <= looked_up  # and those the calibrated world leaves out on its own (most of them)
    records = {r.source_server_id: r.recovery_instance_id for r in sim.backend.launch_records()}
    for server_id in hidden:
        assert run.state.servers[server_id].recovery_instance_id == records[server_id]
    assert set(drill_instances_running(run.state)) == set(records.values())

    run.submit(CleanupRequested(at=run.now, by="alice"))
    run.run()
    terminated = {i for e in run.recorder.of(InstancesTerminated) for i in e.instance_ids}
    assert terminated == set(records.values())
    sim.clock.advance(3600)
    assert not {i.recovery_instance_id for i in gateway.describe_recovery_instances()} & terminated


# -- operator controls


def test_pause_starts_nothing_new_while_running_jobs_go_on(db: Database, sim: EmbeddedSimulator) -> None:
    run = shop_run(db, sim)
    run.run(until=lambda: bool(run.recorder.of(JobStarted)))
    paused_at = run.now
    run.submit(Pause(at=paused_at, by="alice"))
    run.run(until=lambda: run.now >= paused_at + timedelta(hours=1))
    db01 = ids(sim, "shop-db-01")[0]
    assert run.runner.status is ExecutionStatus.PAUSED
    assert run.state.servers[db01].status is ServerStatus.LAUNCHED  # its job was polled to the end
    assert any(e.at > paused_at for e in run.recorder.of(JobsObserved))
    assert set(run.launches()) == {db01}
    assert sim.backend.request_counts()["StartRecovery"] == 1

    resumed_at = run.now
    run.submit(Resume(at=resumed_at, by="alice"))
    assert run.run().outcome is Outcome.SUCCEEDED
    later = [r for r in sim.backend.launch_records() if r.source_server_id != db01]
    assert later and all(r.requested_at >= resumed_at for r in later)
    assert [a.action for a in run.state.audit] == ["pause", "resume"]
    assert_each_launched_once(run)


def test_cancel_with_terminate_cleans_up_once_running_jobs_end(db: Database, sim: EmbeddedSimulator) -> None:
    run = shop_run(db, sim)
    run.run(until=lambda: any(e.chunk_id == "2.1" for e in run.recorder.of(JobStarted)))
    run.submit(Cancel(at=run.now, by="alice", terminate_drill_instances=True))
    assert run.run().outcome is Outcome.CANCELLED
    launched = {r.source_server_id: r.recovery_instance_id for r in sim.backend.launch_records()}
    assert set(launched) == set(ids(sim, "shop-db-01", "shop-app-01", "shop-app-02"))
    webs = ids(sim, "shop-web-01", "shop-web-02")
    assert {run.state.servers[w].status for w in webs} == {ServerStatus.CANCELLED}
    # Termination waited for the App job to end, so that every instance of the drill was known.
    # (DescribeRecoveryInstances lists new instances late: one listed later is terminated by a later call.)
    requests = [(before, e) for before, _, e in run.recorder.transitions if isinstance(e, TerminateRequested)]
    assert requests and not any(active_jobs(before) for before, _ in requests)
    assert {i for _, e in requests for i in e.instance_ids} == set(launched.values())
    assert drill_instances_running(run.state) == ()
