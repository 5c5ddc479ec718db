"""The automation tests' simulator (DRS, EC2, SSM and Lambda in one world: ``test_automation_runs.scenario``),
its DRS gateway and a fresh database; a module with another world overrides ``sim``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    from tests.automation.test_automation_runs import scenario

    with EmbeddedSimulator(scenario(), seed=7) as simulator:
        yield simulator


@pytest.fixture
def drs(sim: EmbeddedSimulator) -> Iterator[DrsGateway]:
    gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
    yield gateway
    gateway.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database
