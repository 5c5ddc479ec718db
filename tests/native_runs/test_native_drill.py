"""A run in DRS end to end: the engine follows a native execution through the runner, on the simulator."""

from __future__ import annotations

from collections import Counter

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
