"""Never launch twice, whatever the network and the clock do: the real runner, gateway and simulator.

- A StartRecovery that DRS carries out after the client's read timeout is found and adopted, however
  late within the read timeout plus 5 minutes of DRS time; only past that is a chunk started again.
- A server that someone else launched after this run asked DRS to is never launched by this run.
- The desktop's clock may be hours off DRS's (either way): every time journaled is DRS's, and a resume
  after a lost answer finds the job.
- Cleanup terminates every drill instance of this execution, found by its job tags, and nothing else.

Each test runs on the simulator's manual clock; the client's read timeout is 1 s real and the held
request is released by the virtual clock, so no test waits for a real minute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.drs_clock import DrsClock
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.commands import job_tags
from drs_desktop.domain.engine.events import (
    Outcome,
    SkipWave,
    StartFailed,
    StartRequested,
)
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.reconcile_events import StartsReconciled
from drs_desktop.domain.engine.state import ExecutionStatus, Mode, ServerStatus
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.views.change_text import describe_change
from drs_desktop.services import history
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

from .conftest import ids, shop_plan
from .harness import Recorder, Run

READ_TIMEOUT = 1.0


def skewed_gateway(sim: EmbeddedSimulator, skew: timedelta = timedelta(0)) -> DrsGateway:
    """A gateway whose desktop clock is ``skew`` off the simulator's and whose monotonic clock is the
    simulator's (its time only moves when the test advances it)."""
    drs_clock = DrsClock(wall=lambda: sim.clock.now() + skew, monotonic=lambda: sim.clock.now().timestamp())
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    return DrsGateway(target, read_max_attempts=1, read_timeout=READ_TIMEOUT, drs_clock=drs_clock)


def start_on_drs_clock(db: Database, sim: EmbeddedSimulator, gateway: DrsGateway, plan: RecoveryPlan) -> Run:
    """Like ``harness.start_run`` but on the runner's default clock: DRS's, from the gateway."""
    save_plan(db, plan)
    request = RunRequest(plan_name=plan.name, mode=Mode.DRILL)
    runner = create_execution(db, gateway, prepare_execution(db, gateway, request), request)
    recorder = Recorder(sim)
    runner.add_listener(recorder.listener)
    return Run(sim, runner, recorder)


def released_by_the_clock(sim: EmbeddedSimulator, releases: list[datetime]) -> Callable[[float], None]:
    """A sleeper that advances the virtual clock but stops at each release time of a held request and
    waits (real time, bounded) until the simulator has carried it out, as DRS would at that moment."""
    carried = 0

    def sleep(seconds: float) -> None:
        nonlocal carried
        target = sim.clock.now() + timedelta(seconds=max(seconds, 1.0))
        for release in sorted(releases):
            if sim.clock.now() < release <= target:
                sim.clock.advance_to(release)
                carried += 1
                assert sim.holds.wait_carried_out(carried, timeout=10.0), "the held call was not carried out"
        sim.clock.advance_to(max(target, sim.clock.now()))

    return sleep


def launches(sim: EmbeddedSimulator) -> Counter[str]:
    return Counter(r.source_server_id for r in sim.backend.launch_records())


# -- a late answer


@pytest.mark.parametrize("late_seconds", [30, 240])
def test_a_start_drs_carries_out_after_the_read_timeout_is_adopted_not_repeated(
    db: Database, sim: EmbeddedSimulator, late_seconds: int
) -> None:
    """The campaign's double launch: DRS carried StartRecovery out after the client gave up, and the
    first look found no job yet. Now it is looked for until DRS's time is past the settle window."""
    sim.faults.hold("StartRecovery", seconds=late_seconds, count=1)
    gateway = skewed_gateway(sim)
    run = start_on_drs_clock(db, sim, gateway, shop_plan(sim, approval=False))
    releases: list[datetime] = []

    def note_release(before: object, after: object, event: object) -> None:
        if isinstance(event, StartRequested) and not releases:
            releases.append(event.at + timedelta(seconds=late_seconds))

    run.runner.add_listener(note_release)
    result = run.runner.run(sleep=released_by_the_clock(sim, releases), max_steps=5000)

    assert result.outcome is Outcome.SUCCEEDED
    (failed,) = run.recorder.of(StartFailed)
    assert (failed.reason, failed.definite) == ("ReadTimeoutError", False)
    looks = run.recorder.of(StartsReconciled)
    assert looks[-1].tagged_jobs, "the late job was found by its tags"
    if late_seconds > run.state.spec.reconcile_delay.total_seconds():
        assert not looks[0].tagged_jobs and len(looks) >= 2  # the first look was too early
    assert set(launches(sim).values()) == {1}, launches(sim)
    assert sim.backend.request_counts()["StartRecovery"] == 3  # one per wave: never sent again
    first_job = sim.backend.launch_records()[0].job_id
    assert run.state.servers[ids(sim, "shop-db-01")[0]].job_id == first_job
    assert run.state.spec.start_settle == timedelta(seconds=READ_TIMEOUT + 300)
    said = [line for b, a, e in run.recorder.transitions for line in describe_change(b, a, e)]
    assert any("chunk 1.1: DRS did start it, as job" in line and "adopted" in line for line in said), said
    if late_seconds > run.state.spec.reconcile_delay.total_seconds():
        assert any("no job in DRS's records yet; looking again until" in line for line in said), said


@pytest.mark.parametrize("how", ["drop", "5xx"])
def test_an_answer_lost_after_the_action_is_adopted_at_the_first_look(
    db: Database, sim: EmbeddedSimulator, how: str
) -> None:
    sim.faults.lose_answer("StartRecovery", how=how, count=1)  # type: ignore[arg-type]
    run = start_on_drs_clock(db, sim, skewed_gateway(sim), shop_plan(sim, approval=False))
    assert run.run().outcome is Outcome.SUCCEEDED
    (failed,) = run.recorder.of(StartFailed)
    assert not failed.definite
    first_look = run.recorder.of(StartsReconciled)[0]
    assert [j.job_id for j in first_look.tagged_jobs] == [sim.backend.launch_records()[0].job_id]
    assert set(launches(sim).values()) == {1}
    assert sim.backend.request_counts()["StartRecovery"] == 3


def test_nothing_found_is_started_again_only_past_the_settle_window_in_drs_time(
    db: Database, sim: EmbeddedSimulator
) -> None:
    sim.faults.server_errors("StartRecovery", status=503, count=1)  # refused before any job, but 5xx
    run = start_on_drs_clock(db, sim, skewed_gateway(sim, timedelta(hours=1)), shop_plan(sim, approval=False))
    assert run.run().outcome is Outcome.SUCCEEDED
    intents = [e for e in run.recorder.of(StartRequested) if e.chunk_id == "1.1"]
    assert len(intents) == 2
    looks = run.recorder.of(StartsReconciled)
    settle_at = intents[0].at + run.state.spec.start_settle
    assert looks[-1].drs_time is not None and looks[-1].drs_time >= settle_at
    assert intents[1].at >= settle_at
    assert all(look.drs_time is not None and look.drs_time < settle_at for look in looks[:-1])
    assert set(launches(sim).values()) == {1}


# -- a launch by someone else


def test_a_server_launched_by_someone_else_meanwhile_is_never_launched_by_this_run(
    db: Database, sim: EmbeddedSimulator
) -> None:
    sim.faults.server_errors("StartRecovery", status=503, count=1)
    plan = RecoveryPlan(name="Pair", waves=(Wave(name="Data", servers=ids(sim, "shop-db-01", "crm-app-01")),))
    run = start_on_drs_clock(db, sim, skewed_gateway(sim), plan)
    db01, crm = ids(sim, "shop-db-01", "crm-app-01")
    colleague = boto3.client("drs", **sim.client_kwargs())

    def colleague_drills(before: object, after: object, event: object) -> None:
        if isinstance(event, StartFailed) and not sim.backend.launch_records():  # before our first look
            colleague.start_recovery(sourceServers=[{"sourceServerID": db01}], isDrill=True)

    run.runner.add_listener(colleague_drills)
    result = run.run(lambda: run.runner.status is ExecutionStatus.HELD and run.recorder.idle())
    assert result.outcome is None and run.runner.status is ExecutionStatus.HELD
    server = run.state.servers[db01]
    assert server.status is ServerStatus.FAILED and server.foreign_job_id is not None
    assert "not launched again" in server.reason
    assert run.state.servers[crm].status is ServerStatus.FAILED  # its job-mate waits for the operator
    run.submit(SkipWave(wave_index=0, at=run.now, by="op"))
    assert run.run().outcome is not None
    assert launches(sim)[db01] == 1  # the colleague's launch, never ours
    assert sim.backend.request_counts()["StartRecovery"] == 1 + 1  # ours (lost) and the colleague's


# -- the desktop clock


@pytest.mark.parametrize(
    "skew",
    [timedelta(minutes=10), timedelta(minutes=60), timedelta(minutes=-30), timedelta(minutes=-60)],
    ids=["10min-ahead", "60min-ahead", "30min-behind", "60min-behind"],
)
def test_a_skewed_desktop_clock_changes_no_decision(
    db: Database, sim: EmbeddedSimulator, skew: timedelta
) -> None:
    """The old bug: with the desktop 10 minutes ahead, a resume after a start whose answer was lost
    listed jobs from after the job and launched the servers again."""
    sim.faults.lose_answer("StartRecovery", how="drop", count=1)
    gateway = skewed_gateway(sim, skew)
    created_at = sim.clock.now()
    run = start_on_drs_clock(db, sim, gateway, shop_plan(sim, approval=False))
    execution_id = run.runner.execution_id
    # The first call's answer is lost; the desktop stops right there (the runner is dropped).
    run.run(lambda: bool(run.recorder.of(StartFailed)))
    assert len(sim.backend.launch_records()) == 1
    restart_time = sim.clock.now()
    resumed = ExecutionRunner.resume(db, skewed_gateway(sim, skew), execution_id)
    recorder = Recorder(sim)
    resumed.add_listener(recorder.listener)
    result = resumed.run(sleep=recorder.sleep, max_steps=5000)

    assert result.outcome is Outcome.SUCCEEDED
    assert set(launches(sim).values()) == {1}, launches(sim)
    # Every time journaled is DRS's, never the desktop's.
    (restarted,) = [a for a in resumed.state.audit if a.action == "runner restarted"]
    assert abs(restarted.at - restart_time) < timedelta(seconds=2)
    assert abs(resumed.state.spec.started_at - created_at) < timedelta(seconds=2)
    skew_seen = gateway.drs_clock.skew()
    assert skew_seen is not None and abs(skew_seen - skew) < timedelta(seconds=2)


# -- cleanup


def test_cleanup_terminates_this_drills_instances_found_by_tag_and_leaves_others_running(
    db: Database, sim: EmbeddedSimulator
) -> None:
    plan = RecoveryPlan(name="Pair", waves=(Wave(name="Data", servers=ids(sim, "shop-db-01", "crm-app-01")),))
    run = start_on_drs_clock(db, sim, skewed_gateway(sim), plan)
    assert run.run().outcome is Outcome.SUCCEEDED
    db01, crm = ids(sim, "shop-db-01", "crm-app-01")
    drs = boto3.client("drs", **sim.client_kwargs())
    # A job of this execution the journal never heard of (its answer was lost before this version) ...
    tags = job_tags(run.runner.execution_id, 0, "1.1", 9)
    orphan = drs.start_recovery(sourceServers=[{"sourceServerID": db01}], isDrill=True, tags=tags)["job"]
    # ... and a colleague's drill of the other server.
    other = drs.start_recovery(sourceServers=[{"sourceServerID": crm}], isDrill=True)["job"]
    for _ in range(200):  # let both jobs launch (virtual time)
        sim.clock.advance(30)
        jobs = drs.describe_jobs(filters={"jobIDs": [orphan["jobID"], other["jobID"]]})["items"]
        if all(j["status"] == "COMPLETED" for j in jobs):
            break
    sim.clock.advance(150)  # DescribeRecoveryInstances lists a new instance up to 2 minutes late
    instances = drs.describe_recovery_instances(filters={"sourceServerIDs": [db01, crm]})["items"]
    by_job = {i["jobID"]: i["recoveryInstanceID"] for i in instances}
    ours_before = set(drill_instances_running(run.state))

    def sleep(seconds: float) -> None:
        sim.clock.advance(seconds)

    result = history.cleanup(db, skewed_gateway(sim), run.runner.execution_id, "op", sleep=sleep)

    assert result.complete and not result.refused
    assert set(result.targeted) == ours_before | {by_job[orphan["jobID"]]}
    assert (by_job[other["jobID"]], crm) in {(i, s) for i, s, _ in result.not_ours}
    sim.clock.advance(600)  # DRS terminates in its own time after accepting the TERMINATE job
    left = {
        i["recoveryInstanceID"]
        for i in drs.describe_recovery_instances(filters={"sourceServerIDs": [db01, crm]})["items"]
        if i.get("ec2InstanceState") not in ("TERMINATED", "SHUTTING-DOWN")
    }
    assert by_job[other["jobID"]] in left  # the colleague's drill instance still runs
    assert not (set(result.targeted) & left)
    assert "not ours, left running" in result.describe()
