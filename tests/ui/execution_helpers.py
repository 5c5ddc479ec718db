"""Shared pieces of the execution GUI tests: the small simulator on a manual clock, a real database with
the shop plan, the services the composition root would build, and the execution desk with its real loop
threads.

The loops run ``ExecutionRunner.run()`` with the runner's own sleeper; ``VirtualPace`` is the pace the
composition root gives it (demo mode: real seconds = virtual seconds / 60): here each sleep moves the
simulator's manual clock instead (at most ``seconds`` virtual seconds) and then sleeps ``real`` seconds of
real time, which a control (or a stop) cuts short. Tests wait on what the GUI shows, never on time.

Fixtures are plain functions here (imported by the test modules that use them), so no conftest is
shared with other test folders.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QObject

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.controls import RunChoice
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.services.execution_session import ExecutionServices, ExecutionSession
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.workers.execution_desk import ExecutionDesk

TIMEOUT = 20_000
#: Virtual seconds the simulator's clock moves, at most, per sleep of a loop in the GUI tests.
SECONDS_PER_STEP = 20.0
#: Real seconds a loop sleeps after moving the virtual clock (a control wakes it at once).
REAL_SECONDS_PER_SLEEP = 0.01


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
    """The test thread's own services (the loops and the desk's task thread build theirs)."""
    return ExecutionServices(db, gateway, clock=sim.clock.now, operator="alice", poll_interval_seconds=30)


@pytest.fixture
def services_factory(db: Database, sim: EmbeddedSimulator) -> Callable[[], ExecutionServices]:
    """What the composition root hands the desk: one thread's services, its own gateway each time."""

    def make() -> ExecutionServices:
        gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
        return ExecutionServices(db, gateway, clock=sim.clock.now, operator="alice", poll_interval_seconds=30)

    return make


class VirtualPace:
    """The loops' pace in tests: a sleep moves the simulator's clock by what the runner asked (at least
    1 s, at most ``seconds``; 0 holds the clock still) and then waits ``real`` seconds of real time."""

    def __init__(self, sim: EmbeddedSimulator, seconds: float = SECONDS_PER_STEP) -> None:
        self._sim = sim
        self.seconds = seconds
        self.real = REAL_SECONDS_PER_SLEEP
        self._lock = threading.Lock()
        self.sleeps = 0
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> float:
        with self._lock:
            self.sleeps += 1
            self.asked.append(seconds)
        if self.seconds > 0:
            self._sim.clock.advance(min(max(seconds, 1.0), self.seconds))
        return self.real


@dataclass
class Running:
    desk: ExecutionDesk
    pace: VirtualPace


@pytest.fixture
def running(services_factory: Callable[[], ExecutionServices], sim: EmbeddedSimulator) -> Iterator[Running]:
    """The desk (its task thread started) with loops paced on the simulator's clock; stopped after."""
    pace = VirtualPace(sim)
    desk = ExecutionDesk(services_factory, pace=pace)
    try:
        yield Running(desk, pace)
    finally:
        loops = [desk.loop(execution_id) for execution_id in desk.active_ids()]
        desk.stop()
        assert all(loop is None or loop.isFinished() for loop in loops)


class Recorder(QObject):
    """Lives on the GUI thread: records the calls of a signal connected to ``record``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[object, ...]] = []

    def record(self, *args: object) -> None:
        self.calls.append(args)


def drill_session(
    services: ExecutionServices, name: str = "Shop", mode: Mode = Mode.DRILL
) -> ExecutionSession:
    """A new execution driven from the test's own thread (no Qt): the way model tests get snapshots."""
    prepared, report = services.prepare(RunChoice(name, mode))
    assert report.ok, [c.message for c in report.failures]
    return services.start(prepared, RunChoice(name, mode))


def instant_pace(sim: EmbeddedSimulator, most: float = SECONDS_PER_STEP) -> Callable[[float], float]:
    """A loop's pace on the test's own thread: each sleep moves the clock (up to ``most`` virtual
    seconds) and waits no real time."""

    def pace(seconds: float) -> float:
        sim.clock.advance(min(max(seconds, 1.0), most))
        return 0.0

    return pace


def step_until(
    session: ExecutionSession, sim: EmbeddedSimulator, done: object, *, limit: int = 5000
) -> list[ProgressSnapshot]:
    """Drive the session's loop on the test's thread (each sleep moves the clock up to 20 s and waits no
    real time) until ``done(snapshot)``; the snapshots it published."""
    seen: list[ProgressSnapshot] = []
    checks = 0

    def reached() -> bool:
        nonlocal checks
        checks += 1
        if checks > limit:
            raise AssertionError("the execution never reached the expected point")
        return bool(seen) and bool(done(seen[-1]))  # type: ignore[operator]

    session.drive(seen.append, should_stop=reached, pace=instant_pace(sim))
    if not seen or not done(seen[-1]):  # type: ignore[operator]
        raise AssertionError("the execution ended before the expected point")
    return seen
