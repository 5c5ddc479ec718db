"""Shared pieces of the execution GUI tests: the small simulator on a manual clock, a real database with
the shop plan, the services the composition root would build, and the worker on a real QThread.

Fixtures are plain functions here (imported by the test modules that use them), so no conftest is
shared with other test folders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Slot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.execution_state import Mode
from drs_desktop.domain.operator_controls import RunChoice
from drs_desktop.domain.plan import ApprovalStep, RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.progress_view import ProgressSnapshot
from drs_desktop.services.execution_session import ExecutionServices, ExecutionSession
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.workers.execution_worker import ExecutionWorker
from drs_desktop.workers.poller import ExecutionPoller
from drs_desktop.workers.thread import WorkerThread

TIMEOUT = 20_000
#: Virtual seconds the simulator's clock moves per worker step in the GUI tests.
SECONDS_PER_STEP = 20.0


def ids(sim: EmbeddedSimulator, *hostnames: str) -> tuple[str, ...]:
    return tuple(sim.backend.server_id_of(name) for name in hostnames)


def shop_plan(sim: EmbeddedSimulator, *, name: str = "Shop", approval: bool = True) -> RecoveryPlan:
    """Three waves of the small estate's shop: db (then a 5-minute wait), app (after a gate), web."""
    return RecoveryPlan(
        name=name,
        rto_minutes=90,
        waves=(
            Wave(name="Database", servers=ids(sim, "shop-db-01"), after=(WaitStep(minutes=5),)),
            Wave(
                name="App",
                servers=ids(sim, "shop-app-01", "shop-app-02"),
                before=(ApprovalStep(message="DB checked?"),) if approval else (),
            ),
            Wave(
                name="Web", servers=ids(sim, "shop-web-01", "shop-web-02"), optional=ids(sim, "shop-web-02")
            ),
        ),
    )


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def db(tmp_path: Path, sim: EmbeddedSimulator) -> Iterator[Database]:
    with Database.open(tmp_path / "home" / "drs-desktop.sqlite3") as database:
        save_plan(database, shop_plan(sim))
        yield database


@pytest.fixture
def gateway(sim: EmbeddedSimulator) -> DrsGateway:
    return DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))


@pytest.fixture
def services(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator) -> ExecutionServices:
    return ExecutionServices(db, gateway, clock=sim.clock.now, operator="alice", poll_interval_seconds=30)


class ClockDriver(QObject):
    """Lives on the GUI thread: each ``advance`` (queued from the worker's ``stepped``) moves the
    simulator's clock, so virtual time passes between two steps and never during one."""

    def __init__(self, sim: EmbeddedSimulator, seconds: float = SECONDS_PER_STEP) -> None:
        super().__init__()
        self._sim = sim
        self.seconds = seconds
        self.advances = 0

    @Slot()
    def advance(self) -> None:
        if self.seconds > 0:
            self._sim.clock.advance(self.seconds)
            self.advances += 1


class Recorder(QObject):
    """Lives on the GUI thread: a worker signal connected to ``record`` is queued here, so tests wait on
    GUI-side state (pytest-qt's waitSignal would stop its timer from the worker's thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[object, ...]] = []

    def record(self, *args: object) -> None:
        self.calls.append(args)


@dataclass
class Running:
    worker: ExecutionWorker
    thread: WorkerThread
    poller: ExecutionPoller
    clock: ClockDriver


@pytest.fixture
def running(services: ExecutionServices, sim: EmbeddedSimulator) -> Iterator[Running]:
    """The worker on a real QThread, a 10 ms poller attached, the clock driven by its steps."""
    worker = ExecutionWorker(services)
    thread = WorkerThread(worker, "execution-test", on_stop=worker.close)
    poller = ExecutionPoller(interval_ms=10)
    poller.attach(worker)
    clock = ClockDriver(sim)
    worker.stepped.connect(clock.advance)
    thread.start()
    try:
        yield Running(worker, thread, poller, clock)
    finally:
        poller.stop()
        assert thread.stop()


def drill_session(
    services: ExecutionServices, name: str = "Shop", mode: Mode = Mode.DRILL
) -> ExecutionSession:
    """A new execution driven from the test's own thread (no Qt): the way model tests get snapshots."""
    prepared, report = services.prepare(RunChoice(name, mode))
    assert report.ok, [c.message for c in report.failures]
    return services.start(prepared, RunChoice(name, mode))


def step_until(
    session: ExecutionSession, sim: EmbeddedSimulator, done: object, *, limit: int = 600
) -> list[ProgressSnapshot]:
    """Step (advancing the clock 20 s each time) until ``done(snapshot)``; the snapshots seen."""
    seen: list[ProgressSnapshot] = []
    for _ in range(limit):
        result = session.step()
        if result.snapshot is not None:
            seen.append(result.snapshot)
            if done(result.snapshot):  # type: ignore[operator]
                return seen
        sim.clock.advance(SECONDS_PER_STEP)
    raise AssertionError("the execution never reached the expected point")
