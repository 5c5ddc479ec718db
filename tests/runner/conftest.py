"""Fixtures of the runner tests: the simulator on a manual clock, a real database, a saved plan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, WaitStep, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def gateway(sim: EmbeddedSimulator) -> DrsGateway:
    return DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "home" / "drs-desktop.sqlite3") as database:
        yield database


def ids(sim: EmbeddedSimulator, *hostnames: str) -> tuple[str, ...]:
    return tuple(sim.backend.server_id_of(name) for name in hostnames)


def shop_plan(sim: EmbeddedSimulator, *, approval: bool = True) -> RecoveryPlan:
    """Three waves of the small estate's shop application: db, then app (after a gate), then web."""
    return RecoveryPlan(
        name="Shop",
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
def saved_plan(db: Database, sim: EmbeddedSimulator) -> RecoveryPlan:
    plan = shop_plan(sim)
    save_plan(db, plan)
    return plan


def virtual_clock(sim: EmbeddedSimulator) -> tuple[Callable[[], datetime], Callable[[float], None]]:
    """(clock, sleep) for the runner: time is the simulator's, sleeping advances it."""

    def clock() -> datetime:
        return sim.clock.now()

    def sleep(seconds: float) -> None:
        sim.clock.advance(max(seconds, 1.0))

    return clock, sleep
