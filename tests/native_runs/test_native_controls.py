"""Retry, skip and cancel of a run in DRS, sent through DRS's own calls; pause refused; a run cancelled in
DRS behind the desktop's back. On the simulator, time virtual."""

from __future__ import annotations

from collections import Counter

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_runs import NativeRunsGateway
from drs_desktop.domain.engine.events import Cancel, Outcome, Pause, RetryFailed, SkipWave
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.state import ExecutionStatus, ServerStatus, WavePhase
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.services.executions import create_execution
from drs_desktop.services.native_run import prepare_native
from drs_desktop.services.runner import ControlRefused, ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from tests.runner.conftest import virtual_clock

from .conftest import ids, request


def _start(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator) -> ExecutionRunner:
    clock, _ = virtual_clock(sim)
    preparation = prepare_native(db, gateway, request(), now=clock())
    assert preparation.report.ok, preparation.report.failures
    return create_execution(db, gateway, preparation.prepared, request(), clock=clock)


def _until(runner: ExecutionRunner, sim: EmbeddedSimulator, done: object) -> None:
    _, sleep = virtual_clock(sim)
    runner.run(sleep=sleep, should_stop=done)  # type: ignore[arg-type]


def test_a_failed_step_holds_the_run_and_a_retry_through_drs_launches_only_what_failed(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    sim.faults.fail_launch(servers=["shop-app-02"])
    runner = _start(db, gateway, sim)
    _until(runner, sim, lambda: runner.status is ExecutionStatus.HELD)
    state = runner.state
    assert state.native is not None and state.native.status == "FAILED"
    app_step = state.native.step(3)
    assert app_step is not None and app_step.status == "FAILED" and "failed to launch" in app_step.error
    (app1, app2) = ids(sim, "shop-app-01", "shop-app-02")
    assert state.servers[app2].status is ServerStatus.FAILED
    assert state.servers[app1].status is ServerStatus.LAUNCHED
    with pytest.raises(ControlRefused, match="whole step"):
        runner.control(RetryFailed(wave_index=1, at=sim.clock.now(), server_ids=(app2,)))
    with pytest.raises(ControlRefused, match="cannot be paused"):
        runner.control(Pause(at=sim.clock.now(), by="alice"))

    sim.faults.clear()
    runner.control(RetryFailed(wave_index=1, at=sim.clock.now(), by="alice"))
    with pytest.raises(ControlRefused, match="already on its way"):
        runner.control(RetryFailed(wave_index=1, at=sim.clock.now(), by="bob"))
    _, sleep = virtual_clock(sim)
    result = runner.run(sleep=sleep)
    assert result.outcome is Outcome.SUCCEEDED
    state = runner.state
    assert state.servers[app2].status is ServerStatus.LAUNCHED
    assert state.servers[app2].retries == 1 and len(state.servers[app2].attempts) == 1
    assert state.servers[app1].retries == 0  # DRS relaunched only what failed
    launched = Counter(r.source_server_id for r in sim.backend.launch_records() if r.launched_at)
    assert set(launched.values()) == {1}, "a server was launched twice"
    actions = [a.action for a in state.audit]
    assert "retry" in actions and "retry sent" in actions


def test_skipping_a_failed_step_lets_drs_go_on_with_the_next(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    sim.faults.fail_launch(servers=["shop-app-01"])
    runner = _start(db, gateway, sim)
    _until(runner, sim, lambda: runner.status is ExecutionStatus.HELD)
    runner.control(SkipWave(wave_index=1, at=sim.clock.now(), by="alice", reason="app is down"))
    _, sleep = virtual_clock(sim)
    result = runner.run(sleep=sleep)
    assert result.outcome is Outcome.SUCCEEDED
    state = runner.state
    assert [w.phase for w in state.waves] == [WavePhase.COMPLETED, WavePhase.SKIPPED, WavePhase.COMPLETED]
    assert state.native is not None and [s.status for s in state.native.steps] == [
        "COMPLETED",
        "COMPLETED",
        "SKIPPED",
        "COMPLETED",
    ]
    web = ids(sim, "shop-web-01", "shop-web-02")
    assert all(state.servers[s].status is ServerStatus.LAUNCHED for s in web)


def test_cancel_during_a_wait_cancels_in_drs_and_cleans_up_what_the_drill_launched(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    runner = _start(db, gateway, sim)
    _until(runner, sim, lambda: runner.state.waves[0].phase is WavePhase.AFTER)
    runner.control(Cancel(at=sim.clock.now(), by="alice", terminate_drill_instances=True))
    assert runner.status is ExecutionStatus.CANCELLING
    _, sleep = virtual_clock(sim)
    result = runner.run(sleep=sleep)
    assert result.outcome is Outcome.CANCELLED
    state = runner.state
    assert state.native is not None and state.native.status == "CANCELLED"
    (db_server,) = ids(sim, "shop-db-01")
    later = ids(sim, "shop-app-01", "shop-app-02", "shop-web-01", "shop-web-02")
    assert all(state.servers[s].status is ServerStatus.CANCELLED for s in later)
    assert {r.source_server_id for r in sim.backend.launch_records()} == {db_server}
    assert not drill_instances_running(state)
    assert [i.server_id for i in state.instances.values() if i.terminated_at] == [db_server]


def test_cancel_of_a_held_run_ends_it_failed_without_asking_drs(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    sim.faults.fail_launch(servers=["shop-db-01"])
    runner = _start(db, gateway, sim)
    _until(runner, sim, lambda: runner.status is ExecutionStatus.HELD)
    runner.control(Cancel(at=sim.clock.now(), by="alice"))
    _, sleep = virtual_clock(sim)
    assert runner.run(sleep=sleep).outcome is Outcome.FAILED
    state = runner.state
    assert state.native is not None and state.native.status == "FAILED"  # DRS's own end stands
    assert "cancel sent" not in [a.action for a in state.audit]


def test_a_run_cancelled_in_drs_behind_the_desktops_back_ends_cancelled(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    runner = _start(db, gateway, sim)
    _until(runner, sim, lambda: runner.state.waves[0].phase is WavePhase.AFTER)
    state = runner.state
    assert state.native is not None
    client = boto3.client("drs", **sim.client_kwargs())
    client.cancel_recovery_plan_execution(recoveryPlanExecutionArn=state.native.execution_arn)
    _, sleep = virtual_clock(sim)
    assert runner.run(sleep=sleep).outcome is Outcome.CANCELLED
    assert any(a.by == "DRS" and a.action == "cancel" for a in runner.state.audit)


def test_a_start_whose_answer_was_lost_is_found_in_drs_and_never_sent_again(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    sim.faults.lose_answer("StartRecoveryPlanExecution", count=1)
    runner = _start(db, gateway, sim)
    _, sleep = virtual_clock(sim)
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    state = runner.state
    assert state.native is not None and state.native.start_attempts == 1
    assert sim.backend.request_counts().get("StartRecoveryPlanExecution") == 1
    plan_arn = state.spec.native.plan_arn if state.spec.native else ""
    executions = NativeRunsGateway(gateway).list_executions(plan_arn)
    assert [e.arn for e in executions] == [state.native.execution_arn]
    assert "after a lost answer" in " ".join(a.detail for a in state.audit)


def test_a_start_that_never_reached_drs_is_sent_again_with_its_token_once_a_look_finds_nothing(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    sim.faults.drop_connections("StartRecoveryPlanExecution", count=1)
    runner = _start(db, gateway, sim)
    _, sleep = virtual_clock(sim)
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    state = runner.state
    assert state.native is not None and state.native.start_attempts == 2
    plan_arn = state.spec.native.plan_arn if state.spec.native else ""
    executions = NativeRunsGateway(gateway).list_executions(plan_arn)
    assert [e.arn for e in executions] == [state.native.execution_arn]


def test_a_retry_sent_is_refused_again_until_drs_has_been_read_since(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    sim.faults.fail_launch(servers=["shop-app-02"])
    runner = _start(db, gateway, sim)
    _until(runner, sim, lambda: runner.status is ExecutionStatus.HELD)
    sim.faults.clear()
    runner.control(RetryFailed(wave_index=1, at=sim.clock.now(), by="alice"))
    runner.run(max_steps=1, sleep=lambda _: None)  # the retry goes out, and nothing else
    assert "retry sent" in [a.action for a in runner.state.audit]
    native = runner.state.native
    assert native is not None and native.status == "FAILED"  # DRS not read since
    (sent,) = native.pending
    assert sent.sent_at is not None
    with pytest.raises(ControlRefused, match="already on its way"):
        runner.control(RetryFailed(wave_index=1, at=sim.clock.now(), by="bob"))
    _, sleep = virtual_clock(sim)
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    assert sim.backend.request_counts().get("RetryRecoveryPlanExecutionStep") == 1


def test_a_cancel_after_a_retry_whose_answer_was_lost_stops_drs_before_the_next_wave(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    """The retry reached DRS but its answer was lost; the operator then cancels. DRS runs the plan again,
    so the cancel must reach it: the Web wave is never launched and the run does not end SUCCEEDED."""
    sim.faults.fail_launch(servers=["shop-app-02"])
    runner = _start(db, gateway, sim)
    _until(runner, sim, lambda: runner.status is ExecutionStatus.HELD)
    sim.faults.clear()
    sim.faults.lose_answer("RetryRecoveryPlanExecutionStep", count=1)
    runner.control(RetryFailed(wave_index=1, at=sim.clock.now(), by="alice"))

    def lost() -> bool:
        native = runner.state.native
        return native is not None and any(c.unknown_at is not None for c in native.pending)

    _until(runner, sim, lost)
    runner.control(Cancel(at=sim.clock.now(), by="alice"))
    _, sleep = virtual_clock(sim)
    result = runner.run(sleep=sleep)
    state = runner.state
    assert state.native is not None and state.native.status == "CANCELLED"
    # FAILED: the cancel came while the run was held, as after a local run's critical failure.
    assert result.outcome is Outcome.FAILED
    web = set(ids(sim, "shop-web-01", "shop-web-02"))
    assert not web & {r.source_server_id for r in sim.backend.launch_records()}, "DRS launched the Web wave"
    assert "cancel sent" in [a.action for a in state.audit]


def test_a_held_run_whose_execution_is_deleted_in_drs_ends_and_says_why(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    """DRS deletes only an execution that is over; a held run's FAILED one may be deleted from the console.
    GetRecoveryPlanExecution then answers ResourceNotFound for ever: the run must end (FAILED: its end in
    DRS was never read) instead of reading a gone execution, held, for ever."""
    sim.faults.fail_launch(servers=["shop-app-02"])
    runner = _start(db, gateway, sim)
    _until(runner, sim, lambda: runner.status is ExecutionStatus.HELD)
    state = runner.state
    assert state.native is not None
    client = boto3.client("drs", **sim.client_kwargs())
    client.delete_recovery_plan_execution(recoveryPlanExecutionArn=state.native.execution_arn)
    _, sleep = virtual_clock(sim)
    result = runner.run(sleep=sleep, max_steps=200)
    assert result.outcome is Outcome.FAILED
    state = runner.state
    assert state.native is not None and "deleted" in state.native.error
    web = ids(sim, "shop-web-01", "shop-web-02")
    assert all(state.servers[s].status is ServerStatus.CANCELLED for s in web)
    assert any(a.by == "DRS" and "deleted" in a.detail for a in state.audit)


def test_servers_changed_in_a_step_of_the_running_execution_are_said_not_followed(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    """UpdateRecoveryPlanExecutionStep may change the servers of a step not yet started, in the console,
    mid-run. DRS then launches a server this run does not follow (not shown, never cleaned up here) and
    leaves one of the wave's out: the run must say so rather than show a clean drill."""
    runner = _start(db, gateway, sim)
    _until(runner, sim, lambda: runner.state.waves[0].phase is WavePhase.AFTER)
    state = runner.state
    assert state.native is not None
    client = boto3.client("drs", **sim.client_kwargs())
    (web1, web2, stranger) = ids(sim, "shop-web-01", "shop-web-02", "crm-web-01")
    arns = {
        s["sourceServerID"]: s["arn"]
        for s in client.describe_source_servers(filters={"sourceServerIDs": [web1, stranger]})["items"]
    }
    web_step = state.native.step(4)
    assert web_step is not None and web_step.status == "NOT_STARTED"
    client.update_recovery_plan_execution_step(
        recoveryPlanExecutionStepArn=web_step.arn,
        servers=[{"serverArn": arns[web1]}, {"serverArn": arns[stranger]}],
    )
    _, sleep = virtual_clock(sim)
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    launched = {r.source_server_id for r in sim.backend.launch_records()}
    assert stranger in launched and web2 not in launched  # what DRS did
    notes = [a.detail for a in runner.state.audit if a.action == "not followed"]
    assert any(stranger in n for n in notes), notes
    assert any(web2 in n for n in notes), notes
