"""A run in DRS goes on without the desktop: the desktop resumes it after a restart (even one that cut its
start off), and another desktop attaches to it and follows it to its end, cleanup included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_runs import NativeRunsGateway
from drs_desktop.domain.engine.events import CleanupRequested, Outcome
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.state import ExecutionState, WavePhase
from drs_desktop.domain.native.steps import NativeServer, NativeStep, NativeStepKind
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.services.executions import create_execution
from drs_desktop.services.native_common import NativePlanError
from drs_desktop.services.native_run import NATIVE, attach, prepare_native
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from tests.runner.conftest import virtual_clock

from .conftest import ids, request


def _start(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator) -> ExecutionRunner:
    clock, _ = virtual_clock(sim)
    preparation = prepare_native(db, gateway, request(), now=clock())
    return create_execution(db, gateway, preparation.prepared, request(), clock=clock)


def _executions(gateway: DrsGateway, state: ExecutionState) -> list[str]:
    assert state.spec.native is not None
    return [e.arn for e in NativeRunsGateway(gateway).list_executions(state.spec.native.plan_arn)]


def test_a_restarted_desktop_resumes_following_the_same_execution(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    clock, sleep = virtual_clock(sim)
    first = _start(db, gateway, sim)
    first.run(sleep=sleep, should_stop=lambda: bool(first.state.jobs))
    arn = first.state.native.execution_arn if first.state.native else ""
    first.close()
    sim.clock.advance(40 * 60)  # the laptop was closed; DRS went on
    again = ExecutionRunner.resume(db, gateway, first.execution_id, clock=clock)
    assert again.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    state = again.state
    assert state.native is not None and state.native.execution_arn == arn
    assert _executions(gateway, state) == [arn]
    assert len(state.jobs) == 3
    assert "runner restarted" in [a.action for a in state.audit]


def test_a_start_cut_off_by_a_crash_is_sent_again_with_its_token_and_starts_nothing_twice(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    clock, sleep = virtual_clock(sim)
    sim.faults.lose_answer("StartRecoveryPlanExecution", count=1)
    first = _start(db, gateway, sim)
    first.run(
        sleep=sleep,
        should_stop=lambda: first.state.native is not None and first.state.native.start_attempts == 1,
    )
    assert first.state.native is not None and not first.state.native.execution_arn
    first.close()
    again = ExecutionRunner.resume(db, gateway, first.execution_id, clock=clock)
    assert again.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    state = again.state
    assert state.native is not None and len(_executions(gateway, state)) == 1


def test_another_desktop_attaches_follows_to_the_end_and_cleans_up_the_drill(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan, tmp_path: Path
) -> None:
    clock, sleep = virtual_clock(sim)
    # Desktop B holds the same plan and link (as team sync would give it).
    other_path = tmp_path / "b" / "drs-desktop.sqlite3"
    other_path.parent.mkdir()
    with db.reader() as conn, sqlite3.connect(other_path) as copy:
        conn.backup(copy)
    first = _start(db, gateway, sim)
    first.run(sleep=sleep, should_stop=lambda: first.state.waves[0].phase is WavePhase.LAUNCHING)
    arn = first.state.native.execution_arn if first.state.native else ""
    first.close()

    with Database.open(other_path) as other:
        preparation = prepare_native(other, gateway, request(), now=clock())
        blocking = [c for c in preparation.report.failures if c.name == NATIVE]
        assert blocking and arn in blocking[0].message
        assert [e.arn for e in preparation.active] == [arn]
        follower = attach(other, gateway, request(), arn, clock=clock)
        assert follower.run(sleep=sleep).outcome is Outcome.SUCCEEDED
        state = follower.state
        assert state.native is not None and state.native.execution_arn == arn
        assert len(state.jobs) == 3, "the job started before the attach is followed too"
        assert "attached to" in " ".join(a.detail for a in state.audit)
        assert len(drill_instances_running(state)) == 5
        follower.submit(CleanupRequested(at=clock(), by="bob"))
        follower.run(sleep=sleep)
        assert not drill_instances_running(follower.state)
        assert _executions(gateway, state) == [arn]


def test_attach_refuses_an_execution_of_another_native_plan(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    clock, _ = virtual_clock(sim)
    runs = NativeRunsGateway(gateway)
    other = runs.create_plan("Other", "not the shop", tags={}, client_token="other")
    arns = {s.source_server_id: s.arn for s in gateway.describe_source_servers()}
    step = NativeStep("db", NativeStepKind.SERVER, (NativeServer(ids(sim, "crm-web-01")[0], "CRITICAL"),))
    runs.create_step(other.arn, step, order=1, server_arns=arns, client_token="other-1")
    execution = runs.start_execution(other.arn, "DRILL", "other-run")
    with pytest.raises(NativePlanError, match="not of the native plan"):
        attach(db, gateway, request(), execution.arn, clock=clock)


def test_a_plan_not_published_or_changed_in_drs_is_refused_with_the_reason(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    clock, _ = virtual_clock(sim)
    runs = NativeRunsGateway(gateway)
    (plan,) = runs.list_plans()
    steps = runs.list_steps(plan.arn)
    client = boto3.client("drs", **sim.client_kwargs())
    client.update_recovery_plan_step(
        recoveryPlanStepArn=steps[1].arn, configuration={"waitStepConfiguration": {"waitDurationMinutes": 9}}
    )
    with pytest.raises(NativePlanError, match="changed in DRS"):
        prepare_native(db, gateway, request(), now=clock())
