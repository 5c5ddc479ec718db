"""The test record and recovery points of real runs on the simulator: a point-in-time drill uses the
chosen snapshots' times (no extra call), a recovery is filed as one, and a runner cut off mid-run and
resumed never journals a second test record or a second point for a server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.annotation_events import RecoveryPointsRecorded, TestRecorded, TestType
from drs_desktop.domain.engine.events import JobStarted, Outcome, RecoveryInstancesObserved, RunnerRestarted
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.views.audit import audit_record, rpo_achieved
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

from .annot_world import advance, gateway_of, journal_events, new_run, shop_plan


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "home" / "drs.sqlite3") as database:
        yield database


def test_a_point_in_time_drill_records_the_chosen_snapshots_times(
    sim: EmbeddedSimulator, db: Database
) -> None:
    servers = tuple(s for wave in shop_plan(sim).waves for s in wave.servers)
    plan = RecoveryPlan(name="Shop", rpo_minutes=15, waves=(Wave(name="All", servers=servers),))
    save_plan(db, plan)
    gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
    point_in_time = sim.clock.now() - timedelta(minutes=25)
    request = RunRequest(
        plan_name="Shop", mode=Mode.DRILL, point_in_time=point_in_time, poll_interval_seconds=30
    )
    prepared = prepare_execution(db, gateway, request)
    assert prepared.recovery_point is not None
    chosen = {s: snap.taken_at for s, snap in prepared.recovery_point.chosen.items() if snap.taken_at}
    runner = create_execution(db, gateway, prepared, request, clock=sim.clock.now)
    assert runner.run(sleep=advance(sim), max_steps=5000).outcome is Outcome.SUCCEEDED

    events = journal_events(db, runner.execution_id)
    record = audit_record(events)
    assert set(record.points) == set(servers)
    for server_id, point in record.points.items():
        assert point.source == "snapshot" and point.data_at == chosen[server_id]
    # The snapshot times were at hand: the points asked DRS nothing (every DescribeRecoveryInstances
    # was one of the engine's own looks).
    looks = sum(isinstance(e, RecoveryInstancesObserved) for e in events)
    assert sim.backend.request_counts().get("DescribeRecoveryInstances", 0) == looks
    # The achieved RPO is how far each snapshot is from the chosen point in time (no lag added).
    rows = rpo_achieved(record, servers, reference_at=point_in_time, rpo_minutes=15)
    for row in rows:
        assert row.achieved == point_in_time - chosen[row.server_id]
        assert row.achieved is not None and row.met is (row.achieved <= timedelta(minutes=15))


def test_a_recovery_is_filed_as_a_recovery_test(sim: EmbeddedSimulator, db: Database) -> None:
    runner = new_run(db, sim, shop_plan(sim), RunRequest(plan_name="Shop", mode=Mode.RECOVERY))
    (test,) = [e for e in journal_events(db, runner.execution_id) if isinstance(e, TestRecorded)]
    assert test.test_type is TestType.RECOVERY
    assert test.at == runner.state.spec.started_at


def test_a_runner_cut_off_and_resumed_journals_one_test_record_and_one_point_per_server(
    sim: EmbeddedSimulator, db: Database
) -> None:
    runner = new_run(db, sim, shop_plan(sim))
    execution_id = runner.execution_id
    # Run until the first wave's servers have launched and their points are journaled, then drop the
    # runner on the floor (its process died): nothing more is journaled by it.
    runner.run(
        sleep=advance(sim),
        should_stop=lambda: any(
            isinstance(e, RecoveryPointsRecorded) for e in journal_events(db, execution_id)
        ),
        max_steps=5000,
    )
    assert runner.state.finished is None
    assert sum(isinstance(e, JobStarted) for e in journal_events(db, execution_id)) >= 1
    del runner

    resumed = ExecutionRunner.resume(db, gateway_of(sim), execution_id, clock=sim.clock.now)
    assert resumed.run(sleep=advance(sim), max_steps=5000).outcome is Outcome.SUCCEEDED

    events = journal_events(db, execution_id)
    assert any(isinstance(e, RunnerRestarted) for e in events)
    assert sum(isinstance(e, TestRecorded) for e in events) == 1
    assert isinstance(events[0], TestRecorded)
    recorded = [p.server_id for e in events if isinstance(e, RecoveryPointsRecorded) for p in e.points]
    assert sorted(recorded) == sorted(resumed.state.servers)  # each of the 5 servers, once
