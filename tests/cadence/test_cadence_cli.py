"""``drs-desktop plan cadence [--json]``: one line per plan and the exit status cron acts on, over a real
database with a real drill run against the simulator (its clock started 33 days ago)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.config import AppPaths
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import Cadence, RecoveryPlan, Wave
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.cli.conftest import Cli

MONTHLY = Cadence(every_days=30, retest_days=14)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """Shop (drilled 33 days ago, on the simulator's clock) and Fax (never drilled), both with ``MONTHLY``
    drills."""
    folder = tmp_path / "home"
    folder.mkdir()
    start = datetime.now(UTC) - timedelta(days=33, hours=1)
    with (
        EmbeddedSimulator("small", seed=7, start=start) as sim,
        Database.open(AppPaths.resolve(folder).database) as db,
    ):
        gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
        try:
            inventory_store.save_inventory(db, gateway.inventory(), now=sim.clock.now())
            by_name = sim.backend.server_id_of
            shop = RecoveryPlan(name="Shop", waves=(Wave(name="All", servers=(by_name("shop-db-01"),)),))
            fax = RecoveryPlan(name="Fax", waves=(Wave(name="Fax", servers=(by_name("legacy-fax"),)),))
            save_plan(db, dataclasses.replace(shop, cadence=MONTHLY))
            save_plan(db, dataclasses.replace(fax, cadence=MONTHLY))
            request = RunRequest(plan_name="Shop", mode=Mode.DRILL, poll_interval_seconds=30)
            prepared = prepare_execution(db, gateway, request)
            runner = create_execution(db, gateway, prepared, request, clock=sim.clock.now)

            def sleep(seconds: float) -> None:
                sim.clock.advance(max(seconds, 1.0))

            runner.run(sleep=sleep)
            assert runner.state.finished is Outcome.SUCCEEDED
        finally:
            gateway.close()
    yield folder


def overdue_days(folder: Path) -> int:
    """By how many days the drill of 33 days ago is overdue in this machine's time zone today."""
    with Database.open(AppPaths.resolve(folder).database) as db:
        finished = execution_store.list_executions(db, plan_name="Shop")[0].finished_at
    assert finished is not None
    due = finished.astimezone().date() + timedelta(days=30)
    return (datetime.now(UTC).astimezone().date() - due).days


def test_overdue_and_never_tested_plans_exit_one(cli: Cli, home: Path) -> None:
    days = overdue_days(home)
    result = cli("plan", "cadence", "--home", str(home))
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("Fax: never tested")
    assert lines[1].startswith(f"Shop: overdue by {days} day")
    listed = cli("plan", "cadence", "--json", "--home", str(home))
    assert listed.code == 1
    assert [(p["plan"], p["state"], p["needs_test"]) for p in listed.json()] == [
        ("Fax", "never tested", True),
        ("Shop", "overdue", True),
    ]


def test_an_empty_database_lists_nothing_and_exits_zero(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    with Database.open(AppPaths.resolve(folder).database):
        pass
    result = cli("plan", "cadence", "--json", "--home", str(folder))
    assert result.code == 0 and result.json() == []
