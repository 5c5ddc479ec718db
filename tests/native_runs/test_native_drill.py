"""A run in DRS end to end: the engine follows a native execution through the runner, on the simulator."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.events import CleanupRequested, Outcome
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.state import ServerStatus, WavePhase
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.services.executions import create_execution
from drs_desktop.services.native_run import prepare_native
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from tests.runner.conftest import virtual_clock

from .conftest import request


def test_a_native_drill_is_followed_to_its_end_and_cleaned_up(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    clock, sleep = virtual_clock(sim)
    preparation = prepare_native(db, gateway, request(), now=clock())
    assert preparation.report.ok, preparation.report.failures
    runner = create_execution(db, gateway, preparation.prepared, request(), clock=clock)
    result = runner.run(sleep=sleep)
    assert result.outcome is Outcome.SUCCEEDED
    state = runner.state
    assert state.native is not None and state.native.status == "COMPLETED"
    assert [w.phase for w in state.waves] == [WavePhase.COMPLETED] * 3
    records = sim.backend.launch_records()
    per_server = Counter(r.source_server_id for r in records)
    assert set(per_server) == {s for w in published.waves for s in w.servers}
    assert set(per_server.values()) == {1}
    assert all(s.status is ServerStatus.LAUNCHED for s in state.servers.values())
    assert len(state.jobs) == 3
    running = drill_instances_running(state)
    assert len(running) == 5
    runner.submit(CleanupRequested(at=clock(), by="alice"))
    result = runner.run(sleep=sleep)
    assert not drill_instances_running(runner.state)


def test_a_wait_in_drs_keeps_the_time_it_began_across_readings(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, published: RecoveryPlan
) -> None:
    clock, sleep = virtual_clock(sim)
    preparation = prepare_native(db, gateway, request(), now=clock())
    runner = create_execution(db, gateway, preparation.prepared, request(), clock=clock)
    runner.run(sleep=sleep, should_stop=lambda: runner.state.waves[0].phase is WavePhase.AFTER)
    began = runner.state.waves[0].step_started_at
    assert began is not None
    seen = runner.state.native.observed_at if runner.state.native else None
    runner.run(
        sleep=sleep,
        should_stop=lambda: runner.state.native is not None and runner.state.native.observed_at != seen,
    )
    assert runner.state.waves[0].phase is WavePhase.AFTER
    assert runner.state.waves[0].step_started_at == began
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    (wait,) = runner.state.waves[0].steps
    assert wait.kind == "wait" and wait.started_at == began
    assert wait.ended_at - wait.started_at == timedelta(minutes=5)
