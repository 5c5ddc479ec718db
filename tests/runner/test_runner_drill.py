"""The runner end to end: the engine's commands through the real boto3 client against the simulator."""

from __future__ import annotations

from collections import Counter

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.events import ApprovalGranted, CleanupRequested, Outcome, Pause, StepPhase
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.state import ExecutionStatus, Mode, ServerStatus
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.runner import ControlRefused, ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import virtual_clock


def start(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, mode: Mode = Mode.DRILL
) -> ExecutionRunner:
    clock, _ = virtual_clock(sim)
    request = RunRequest(plan_name="Shop", mode=mode, poll_interval_seconds=30)
    prepared = prepare_execution(db, gateway, request)
    return create_execution(db, gateway, prepared, request, clock=clock)


def test_drill_runs_waves_in_order_through_an_approval(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    _, sleep = virtual_clock(sim)
    runner = start(db, gateway, sim)
    result = runner.run(sleep=sleep, return_on_approval=True)
    assert result.outcome is None
    assert result.status is ExecutionStatus.WAITING_APPROVAL
    (gate,) = result.approvals
    assert (gate.wave_name, gate.message) == ("App", "DB checked?")
    # Only the first wave launched so far.
    launched = {r.source_server_id for r in sim.backend.launch_records()}
    assert launched == set(saved_plan.waves[0].servers)

    runner.submit(
        ApprovalGranted(wave_index=1, phase=StepPhase.BEFORE, step_index=0, by="alice", at=sim.clock.now())
    )
    result = runner.run(sleep=sleep)
    assert result.outcome is Outcome.SUCCEEDED
    records = sim.backend.launch_records()
    per_server = Counter(r.source_server_id for r in records)
    assert set(per_server) == {s for wave in saved_plan.waves for s in wave.servers}
    assert set(per_server.values()) == {1}, "a server was launched twice"
    assert all(r.is_drill for r in records)
    # Wave order: every App server requested after the Database server launched.
    by_server = {r.source_server_id: r for r in records}
    db_launched = by_server[saved_plan.waves[0].servers[0]].launched_at
    assert db_launched is not None
    assert all(by_server[s].requested_at >= db_launched for s in saved_plan.waves[1].servers)

    record = journal.get_execution(db, runner.execution_id)
    assert (record.status, record.outcome) == ("SUCCEEDED", "SUCCEEDED")
    assert record.identity["account"] == sim.account_id
    assert all(s.status is ServerStatus.LAUNCHED for s in runner.state.servers.values())


def test_cleanup_terminates_only_this_drills_instances(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    _, sleep = virtual_clock(sim)
    runner = start(db, gateway, sim)
    runner.run(sleep=sleep, return_on_approval=True)
    runner.submit(
        ApprovalGranted(wave_index=1, phase=StepPhase.BEFORE, step_index=0, by="a", at=sim.clock.now())
    )
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    ours = set(drill_instances_running(runner.state))
    assert len(ours) == 5
    # Another drill outside this execution, whose instance must survive the cleanup.
    other = gateway.start_recovery([sim.backend.server_id_of("crm-web-01")], is_drill=True, tags={})
    sim.clock.advance(3600)
    # DescribeJobs names most instances not at all (reference §12.5): DRS's own record of it.
    sim.backend.settle()  # the world catches up with the clock
    foreign = {i.instance_id for i in sim.backend.world.instances.values() if i.job_id == other.job_id}
    assert foreign

    runner.submit(CleanupRequested(at=sim.clock.now(), by="alice"))
    runner.run(sleep=sleep)
    assert drill_instances_running(runner.state) == ()
    sim.clock.advance(3600)
    remaining = {i.recovery_instance_id for i in gateway.describe_recovery_instances()}
    assert not (remaining & ours)
    assert foreign <= remaining


def test_resume_after_a_stop_launches_nothing_twice(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    clock, sleep = virtual_clock(sim)
    first = start(db, gateway, sim)
    first.run(sleep=sleep, max_steps=3)  # stop early, mid-wave
    assert sim.backend.launch_records()
    resumed = ExecutionRunner.resume(db, gateway, first.execution_id, clock=clock)
    # The journal rebuilds what the first runner knew (the resume adds only its RunnerRestarted mark).
    assert (resumed.state.servers, resumed.state.chunks, resumed.state.jobs) == (
        first.state.servers,
        first.state.chunks,
        first.state.jobs,
    )
    result = resumed.run(sleep=sleep, return_on_approval=True)
    assert result.status is ExecutionStatus.WAITING_APPROVAL
    resumed.control(ApprovalGranted(wave_index=1, phase=StepPhase.BEFORE, step_index=0, by="a", at=clock()))
    assert resumed.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    counts = Counter(r.source_server_id for r in sim.backend.launch_records())
    assert set(counts.values()) == {1}


def test_refused_control_says_why(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    clock, _ = virtual_clock(sim)
    runner = start(db, gateway, sim)
    runner.control(Pause(at=clock(), by="alice"))
    with pytest.raises(ControlRefused, match="already paused"):
        runner.control(Pause(at=clock(), by="alice"))
    runner.submit(Pause(at=clock(), by="bob"))
    runner.step()
    assert runner.take_refusals() == ["Pause: already paused"]
    assert runner.status is ExecutionStatus.PAUSED


def test_a_second_runner_on_the_same_execution_is_stopped_before_any_call(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    """The GUI and a `run --resume` driving one execution would each start the queued chunks: the
    journal refuses the runner that has not read the other's events, before its intent is written."""
    from drs_desktop.storage.executions import JournalConflictError

    clock, sleep = virtual_clock(sim)
    first = start(db, gateway, sim)
    second = ExecutionRunner.resume(db, gateway, first.execution_id, clock=clock)
    second.run(sleep=sleep, max_steps=2)  # it starts the first wave
    launched = len(sim.backend.launch_records())
    assert launched == 1
    with pytest.raises(JournalConflictError, match="being driven elsewhere"):
        first.step()
    assert len(sim.backend.launch_records()) == launched
