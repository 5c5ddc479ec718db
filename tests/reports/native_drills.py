"""Two real runs in DRS for the report tests, on the simulator over loopback HTTP with the real boto3 client.

- ``started``: this desktop starts the Shop plan's native execution; the critical shop-app-02 fails its
  conversion, DRS fails the App step and the run is held until bob retries it (DRS relaunches shop-app-02
  in a new job); after the drill alice asks for cleanup, which terminates the step jobs' instances.
- ``attached``: an execution started elsewhere (another client, straight through the DRS API) that this
  desktop attaches to; shop-db-01 fails its launch, carol skips the failed Database step, then dave
  cancels while the App step's job runs, asking for the drill's instances to be terminated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_runs import NativeRunsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.events import Cancel, CleanupRequested, Outcome, RetryFailed, SkipWave
from drs_desktop.domain.engine.queries import active_jobs
from drs_desktop.domain.engine.state import ExecutionState, ExecutionStatus
from drs_desktop.services.executions import create_execution
from drs_desktop.services.native_publish import publish
from drs_desktop.services.native_run import attach, prepare_native
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import native_links
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import load_plan, save_plan
from tests.native_runs.conftest import PLAN, request, shop_plan


@dataclass(frozen=True)
class NativeRun:
    execution_id: str
    state: ExecutionState  # the runner's live state at the end
    execution_arn: str
    marks: dict[str, datetime]  # when each operator acted


@dataclass(frozen=True)
class NativeDrills:
    db: Database
    sim: EmbeddedSimulator
    plan_arn: str
    started: NativeRun
    attached: NativeRun

    def server(self, hostname: str) -> str:
        return self.sim.backend.server_id_of(hostname)


def _held(runner: ExecutionRunner) -> bool:
    """Held on a failed step whose job has ended (so DRS takes a retry or a skip)."""
    return runner.status is ExecutionStatus.HELD and not active_jobs(runner.state)


def run_native_drills(sim: EmbeddedSimulator, home: Path, db: Database) -> NativeDrills:
    gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))

    def clock() -> datetime:
        return sim.clock.now()

    def sleep(seconds: float) -> None:
        sim.clock.advance(max(seconds, 1.0))

    save_plan(db, shop_plan(sim))
    runs = NativeRunsGateway(gateway)
    assert publish(db, runs, PLAN, sleep=lambda _: None, clock=clock).outcome == "published"
    plan = load_plan(db, PLAN)
    link = native_links.get_link(db, plan.revision.plan_id)
    assert link is not None

    # 1. Started here: a failed step, bob's retry, alice's cleanup.
    sim.faults.fail_conversion(servers=["shop-app-02"])
    preparation = prepare_native(db, gateway, request(), now=clock())
    assert preparation.report.ok, preparation.report.failures
    runner = create_execution(db, gateway, preparation.prepared, request(), clock=clock)
    runner.run(sleep=sleep, should_stop=lambda: _held(runner))
    assert runner.status is ExecutionStatus.HELD and runner.state.native is not None
    assert runner.state.native.status == "FAILED"
    sim.faults.fail_conversion(servers=[])
    marks = {"retried": clock()}
    runner.control(RetryFailed(wave_index=1, at=marks["retried"], by="bob"))
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    sim.clock.advance(600)
    marks["cleanup"] = clock()
    runner.submit(CleanupRequested(at=marks["cleanup"], by="alice"))
    runner.run(sleep=sleep)
    assert runner.state.native is not None
    started = NativeRun(runner.execution_id, runner.state, runner.state.native.execution_arn, marks)

    # 2. Started elsewhere, attached here: carol skips the failed Database step, dave cancels.
    sim.faults.fail_launch(servers=["shop-db-01"])
    elsewhere = runs.start_execution(link.recovery_plan_arn, "DRILL", "started-elsewhere")
    runner = attach(db, gateway, request(), elsewhere.arn, clock=clock)
    runner.run(sleep=sleep, should_stop=lambda: _held(runner))
    assert runner.status is ExecutionStatus.HELD
    sim.faults.fail_launch(servers=[])
    marks = {"skipped": clock()}
    runner.control(SkipWave(wave_index=0, at=marks["skipped"], by="carol", reason="DB restored by hand"))

    def app_launching() -> bool:
        return any(j.chunk_id.startswith("2.") for j in active_jobs(runner.state))

    runner.run(sleep=sleep, should_stop=app_launching)
    assert app_launching(), "the App step's job runs"
    marks["cancelled"] = clock()
    runner.control(Cancel(at=marks["cancelled"], by="dave", terminate_drill_instances=True))
    runner.run(sleep=sleep)
    assert runner.state.finished is not None
    attached = NativeRun(runner.execution_id, runner.state, elsewhere.arn, marks)
    gateway.close()
    return NativeDrills(db, sim, link.recovery_plan_arn, started, attached)
