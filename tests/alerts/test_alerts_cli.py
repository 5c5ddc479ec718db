"""``drs-desktop alerts list|add|remove|test``: the webhook URL from stdin (never argv) into the keyring,
routes listed without it, the test sent to a real webhook and to SNS on the simulator."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.alerts.hook_server import HookServer
from tests.cli.conftest import Cli, save_plans, shop_plan
from tests.secrets.memory_keyring import MemoryKeyring

TOKEN = "s3cr3t-token-XYZ"


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


def test_add_list_test_remove(
    sim: EmbeddedSimulator,
    tmp_path: Path,
    cli: Cli,
    hook: HookServer,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = str(tmp_path / "home")
    save_plans(Path(home), shop_plan(sim))
    arn = f"arn:aws:sns:{sim.region}:{sim.account_id}:drs-alerts"
    sim.sns.add_topic(arn)
    monkeypatch.setattr("sys.stdin", io.StringIO(hook.url() + "\n"))
    added = cli(
        "alerts", "add", "slack", "--plan", "Shop", "--label", "ops", "--kinds", "run-failed", "--home", home
    )
    assert added.code == 0, added.err
    assert added.out.startswith("added: ops (slack) ")
    topic = cli("alerts", "add", "sns", "--plan", "Shop", "--topic", arn, "--home", home, "--json")
    assert topic.code == 0, topic.err
    assert topic.json()["route"]["topic_arn"] == arn
    listed = cli("alerts", "list", "--plan", "Shop", "--home", home, "--json")
    routes = listed.json()["routes"]
    assert [(r["label"], r["kind"], r["topic_arn"]) for r in routes] == [
        ("ops", "slack", None),
        ("drs-alerts", "sns", arn),
    ]
    assert routes[0]["kinds"] == ["run-failed"] and routes[0]["last_attempt_at"] is None
    assert TOKEN not in listed.out
    tested = cli(
        "alerts",
        "test",
        "--plan",
        "Shop",
        "--home",
        home,
        "--endpoint",
        sim.endpoint_url,
        "--region",
        sim.region,
    )
    assert tested.code == 0, tested.err
    lines = tested.out.splitlines()
    assert lines[0] == "ops (slack): delivered: HTTP 200"
    assert lines[1].startswith("drs-alerts (sns): delivered: SNS message ")
    assert hook.received[0].body["text"].endswith("Test alert from DRS Desktop for plan Shop")
    assert [m.subject for m in sim.sns.published()] == ["Test alert from DRS Desktop for plan Shop"]
    hook.answers.append(500)
    failed = cli(
        "alerts",
        "test",
        "--plan",
        "Shop",
        "--home",
        home,
        "--endpoint",
        sim.endpoint_url,
        "--region",
        sim.region,
    )
    assert failed.code == 1
    assert "ops (slack): FAILED: the webhook answered HTTP 500" in failed.out
    text = cli("alerts", "list", "--plan", "Shop", "--home", home)
    assert "failed at" in text.out and "(URL in the OS keyring)" in text.out and TOKEN not in text.out
    removed = cli("alerts", "remove", "ops", "--plan", "Shop", "--home", home)
    assert removed.code == 0 and removed.out.strip() == "removed: ops"
    assert [key for key in memory_keyring.entries if key[1].startswith("secret/")] == []
    assert TOKEN.encode() not in AppPaths.resolve(Path(home)).database.read_bytes()


def test_usage_errors(
    sim: EmbeddedSimulator,
    tmp_path: Path,
    cli: Cli,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = str(tmp_path / "home")
    save_plans(Path(home), shop_plan(sim))
    assert cli("alerts", "add", "sns", "--plan", "Shop", "--home", home).code == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("http://hooks.example.com/x\n"))
    refused = cli("alerts", "add", "teams", "--plan", "Shop", "--label", "t", "--home", home)
    assert refused.code == 2 and "must use https" in refused.err and "hooks.example.com" not in refused.err
    assert cli("alerts", "test", "--plan", "Shop", "--home", home).code == 2  # no route
    assert cli("alerts", "remove", "nope", "--plan", "Shop", "--home", home).code == 2
    assert cli("alerts", "list", "--plan", "Nope", "--home", home).code == 1
