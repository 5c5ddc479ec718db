"""``drs-desktop run`` before its execution exists, and with the operator's stored engine settings.

DRS throttling the reads that prepare a run (inventory, recent jobs, launch configurations) is waited
out like the engine waits out a throttled poll; the waits go to a recorder swapped in for the CLI's
sleeper, so nothing here sleeps through a backoff. The stored ``engine.*`` settings shape the
execution as they do in the GUI.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from drs_desktop import cli_target
from drs_desktop.config import AppPaths
from drs_desktop.domain.engine.state import ExecutionState, ServerStatus
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Wave
from drs_desktop.domain.settings import SETTINGS
from drs_desktop.services.executions import EngineSettings
from drs_desktop.services.journal_replay import replayed_state
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.settings import set_setting

from .conftest import Cli, ids, launches_per_server, planned_servers, save_plans, shop_plan, target_args

pytestmark = pytest.mark.timeout(120)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    recorder = Sleeps()
    monkeypatch.setattr(cli_target, "_sleep", recorder)
    return recorder


def store_settings(home: Path, **values: Any) -> None:
    with Database.open(AppPaths.resolve(home).database) as db:
        for key, value in values.items():
            set_setting(db, f"engine.{key}", value)


def journaled_state(home: Path, execution_id: str) -> tuple[Any, ExecutionState]:
    with Database.open(AppPaths.resolve(home).database) as db:
        record = journal.get_execution(db, execution_id)
        return record, replayed_state(db, record)


# -- item 5: throttled reads before the execution exists


def test_run_waits_out_throttled_reads_before_its_execution_exists(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli, sleeps: Sleeps
) -> None:
    plan = shop_plan(sim)
    save_plans(app_home, plan)
    for operation in ("DescribeSourceServers", "DescribeJobs", "GetLaunchConfiguration"):
        sim.faults.throttle(operation, rate=1, count=5)  # botocore alone gave up at the third
    result = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert result.code == 0, result.err
    assert result.json()["outcome"] == "SUCCEEDED"
    assert len(sleeps.waits) == 15
    assert all(wait >= 1 for wait in sleeps.waits)  # the simulator's Retry-After
    per_server = launches_per_server(sim)
    assert set(per_server) == planned_servers(plan)
    assert set(per_server.values()) == {1}


def test_run_gives_up_on_endless_throttling_with_one_clear_line(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli, sleeps: Sleeps
) -> None:
    save_plans(app_home, shop_plan(sim))
    sim.faults.throttle("DescribeSourceServers", rate=1)
    result = cli("run", "Shop", "--mode", "drill", *target_args(sim, app_home))
    assert result.code == 1
    assert "DRS kept throttling DescribeSourceServers for 2 min;" in result.err
    assert "Traceback" not in result.err
    assert sum(sleeps.waits) == pytest.approx(120)
    assert sim.backend.request_counts()["DescribeSourceServers"] <= 10
    assert launches_per_server(sim) == {}
    assert cli("executions", "list", "--json", "--home", str(app_home)).json() == []


# -- item 10a: the stored engine settings


def test_every_engine_setting_is_read_for_a_run() -> None:
    """Each declared ``engine.*`` setting has its field in what ``engine_settings`` reads for a run."""
    declared = {key for key in SETTINGS if key.startswith("engine.")}
    assert declared == {f"engine.{field.name}" for field in dataclasses.fields(EngineSettings)}


def test_run_takes_the_stored_engine_settings_and_flags_override_them(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    gated = RecoveryPlan(
        name="Gated",
        waves=(Wave(name="Db", servers=ids(sim, "shop-db-01"), before=(ApprovalStep(message="go?"),)),),
    )
    save_plans(app_home, gated)
    store_settings(app_home, wave_timeout_minutes=45, poll_interval_seconds=7)
    target = ["--endpoint", sim.endpoint_url, "--home", str(app_home)]

    stored = cli("run", "Gated", "--mode", "drill", "--json", *target)
    assert stored.code == 3, stored.err  # the gate: nothing launched, the execution journaled
    record, state = journaled_state(app_home, stored.json()["execution_id"])
    assert state.spec.wave_timeout == timedelta(minutes=45)
    assert state.spec.polling.fixed_interval == timedelta(seconds=7)
    assert record.options["poll_interval_seconds"] == 7

    flagged = cli("run", "Gated", "--mode", "drill", "--json", "--poll-interval", "0.5", *target)
    assert flagged.code == 3, flagged.err
    record, state = journaled_state(app_home, flagged.json()["execution_id"])
    assert state.spec.polling.fixed_interval == timedelta(seconds=0.5)
    assert state.spec.wave_timeout == timedelta(minutes=45)


def test_a_wave_times_out_at_the_stored_wave_timeout(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    """The database server's job runs 3.5 minutes and fails (the missing-permissions pattern); with the
    stored one-minute wave timeout the wave gives up on it before that, not at the default 120 minutes.
    The CLI runs in the simulator's virtual time (``manual_sim``)."""
    sim = manual_sim
    save_plans(app_home, shop_plan(sim))
    store_settings(app_home, wave_timeout_minutes=1)
    sim.faults.fail_permissions(servers=["shop-db-01"])
    target = ["--endpoint", sim.endpoint_url, "--poll-interval", "10", "--home", str(app_home)]
    result = cli("run", "Shop", "--mode", "drill", "--json", *target)
    assert result.code == 3, result.err  # held: the critical database server failed
    _, state = journaled_state(app_home, result.json()["execution_id"])
    assert state.spec.wave_timeout == timedelta(minutes=1)
    wave = state.waves[0]
    assert wave.timed_out_at is not None and wave.deadline_from is not None
    took = wave.timed_out_at - wave.deadline_from
    assert timedelta(minutes=1) <= took < timedelta(minutes=2), took
    (db_server,) = state.wave_servers(0)
    assert db_server.status is ServerStatus.FAILED and db_server.timed_out
