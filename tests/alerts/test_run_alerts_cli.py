"""Run events as alerts, end to end: ``drs-desktop run`` against the simulator, alerts to a real webhook
on loopback. A drill held by a failed launch says ``run-held`` once, however often it is resumed (each
resume is a new process, as after a crash); cancelled, it says ``run-failed`` once; a run past the plan's
RTO target says ``rto-breached``, then ``run-succeeded``. No route: nothing is claimed or sent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.alert_routes import RouteKind
from drs_desktop.secrets import SecretStore
from drs_desktop.services.alerts import add_route, routes_of_plan
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import alert_routes as store
from drs_desktop.storage.db import Database
from tests.alerts.hook_server import HookServer
from tests.cli.conftest import TIME_SCALE, Cli, save_plans, shop_plan, target_args
from tests.secrets.memory_keyring import MemoryKeyring

pytestmark = pytest.mark.timeout(120)
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7, time_scale=TIME_SCALE) as simulator:
        yield simulator


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


def add_json_route(home: Path, url: str) -> None:
    with Database.open(AppPaths.resolve(home).database) as db:
        add_route(
            db,
            SecretStore(),
            plan_name="Shop",
            kind=RouteKind.JSON,
            label="relay",
            target=url,
            kinds=set(AlertKind),
            now=NOW,
        )


def kinds_received(hook: HookServer) -> list[str]:
    return [r.body["kind"] for r in hook.received]


def test_failed_drill_says_held_then_failed_once_each_across_resumes(
    sim: EmbeddedSimulator, tmp_path: Path, cli: Cli, hook: HookServer, memory_keyring: MemoryKeyring
) -> None:
    home = tmp_path / "home"
    save_plans(home, shop_plan(sim))
    add_json_route(home, hook.url())
    sim.faults.fail_launch(servers=["shop-app-02"])
    held = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, home))
    assert held.code == 3, held.err
    execution_id = held.json()["execution_id"]
    assert kinds_received(hook) == ["run-held"]
    alert = hook.received[0].body
    assert alert["execution_id"] == execution_id and alert["plan"] == "Shop"
    assert "App" in alert["detail"] and alert["title"] == "Shop: drill held for a decision"
    # A resume is a new process, like one after a crash: the same hold is not said again.
    for _ in range(2):
        again = cli("run", "--resume", execution_id, "--json", *target_args(sim, home))
        assert again.code == 3
    assert kinds_received(hook) == ["run-held"]
    cancelled = cli("control", execution_id, "cancel", *target_args(sim, home))
    assert cancelled.code in (0, 1), cancelled.err
    assert kinds_received(hook) == ["run-held", "run-failed"]
    assert hook.received[1].body["level"] == "critical"
    cli("run", "--resume", execution_id, "--json", *target_args(sim, home))
    assert kinds_received(hook) == ["run-held", "run-failed"]
    with Database.open(AppPaths.resolve(home).database) as db:
        claimed = [kind for _key, kind in store.run_alerts_claimed(db, execution_id)]
        assert claimed == [AlertKind.RUN_HELD, AlertKind.RUN_FAILED]
        (route,) = routes_of_plan(db, "Shop")
        assert route.last_error == "" and route.last_delivered_at is not None


def test_rto_breached_then_succeeded(
    sim: EmbeddedSimulator, tmp_path: Path, cli: Cli, hook: HookServer, memory_keyring: MemoryKeyring
) -> None:
    home = tmp_path / "home"
    save_plans(home, replace(shop_plan(sim), rto_minutes=1))
    add_json_route(home, hook.url())
    done = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, home))
    assert done.code == 0, done.err
    assert kinds_received(hook) == ["rto-breached", "run-succeeded"]
    breach = hook.received[0].body
    assert breach["level"] == "critical" and "against an RTO target of 1 min" in breach["detail"]
    assert hook.received[1].body["detail"].startswith("RTO achieved: ")


def test_no_route_no_claim(
    sim: EmbeddedSimulator, tmp_path: Path, cli: Cli, memory_keyring: MemoryKeyring
) -> None:
    home = tmp_path / "home"
    save_plans(home, shop_plan(sim))
    done = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, home))
    assert done.code == 0, done.err
    with Database.open(AppPaths.resolve(home).database) as db:
        assert store.run_alerts_claimed(db, done.json()["execution_id"]) == []


def test_an_approval_gate_says_held_once(
    sim: EmbeddedSimulator, tmp_path: Path, cli: Cli, hook: HookServer, memory_keyring: MemoryKeyring
) -> None:
    home = tmp_path / "home"
    save_plans(home, shop_plan(sim, gate=True))
    add_json_route(home, hook.url())
    waiting = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, home))
    assert waiting.code == 3, waiting.err
    execution_id = waiting.json()["execution_id"]
    assert kinds_received(hook) == ["run-held"]
    held = hook.received[0].body
    assert held["title"] == "Shop: drill waits for approval (wave App)" and held["detail"] == "DB checked?"
    again = cli("run", "--resume", execution_id, "--json", *target_args(sim, home))
    assert again.code == 3
    assert kinds_received(hook) == ["run-held"]
    done = cli("run", "--resume", execution_id, "--auto-approve", "--json", *target_args(sim, home))
    assert done.code == 0, done.err
    assert kinds_received(hook) == ["run-held", "run-succeeded"]
