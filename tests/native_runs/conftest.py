"""Fixtures of the run-in-DRS tests: the simulator on a manual clock, a real database, a plan published as a
native plan, over loopback HTTP with the real boto3 client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_runs import NativeRunsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, WaitStep, Wave
from drs_desktop.services.executions import RunRequest
from drs_desktop.services.native_publish import publish
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

PLAN = "Shop"


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def gateway(sim: EmbeddedSimulator) -> Iterator[DrsGateway]:
    drs = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
    yield drs
    drs.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "home" / "drs-desktop.sqlite3") as database:
        yield database


def ids(sim: EmbeddedSimulator, *hostnames: str) -> tuple[str, ...]:
    return tuple(sim.backend.server_id_of(name) for name in hostnames)


def shop_plan(sim: EmbeddedSimulator) -> RecoveryPlan:
    """Three waves in a straight line, a wait after the first: four native steps."""
    return RecoveryPlan(
        name=PLAN,
        rto_minutes=90,
        waves=(
            Wave(name="Database", servers=ids(sim, "shop-db-01"), after=(WaitStep(minutes=5),)),
            Wave(name="App", servers=ids(sim, "shop-app-01", "shop-app-02"), depends_on=("Database",)),
            Wave(
                name="Web",
                servers=ids(sim, "shop-web-01", "shop-web-02"),
                optional=ids(sim, "shop-web-02"),
                depends_on=("App",),
            ),
        ),
    )


@pytest.fixture
def published(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator) -> RecoveryPlan:
    """The shop plan saved and published to DRS (its link kept)."""
    plan = shop_plan(sim)
    save_plan(db, plan)
    result = publish(db, NativeRunsGateway(gateway), PLAN, sleep=lambda _: None, clock=sim.clock.now)
    assert result.outcome == "published", result
    return plan


def request(mode: Mode = Mode.DRILL) -> RunRequest:
    return RunRequest(plan_name=PLAN, mode=mode, poll_interval_seconds=30)
