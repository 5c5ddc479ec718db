"""``drs-desktop schedule add|list|show|remove`` against the simulator's STS, writing the systemd units
into a temporary XDG_CONFIG_HOME (never enabled: no user session here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.cli.conftest import Cli, shop_plan


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def test_add_list_show_remove(
    sim: EmbeddedSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    home = tmp_path / "DRS home"
    with Database.open(AppPaths.resolve(home).database) as db:
        save_plan(db, shop_plan(sim, name="Shop 100%"))
    added = cli(
        "schedule", "add", "Shop 100%", "--at", "02:30", "--every", "weekly", "--day", "sun",
        "--region", sim.region, "--soak", "15", "--auto-approve", "--report-dir", str(tmp_path / "reports"),
        "--kind", "systemd", "--endpoint", sim.endpoint_url, "--home", str(home),
    )  # fmt: skip
    assert added.code == 0, added.err
    lines = added.out.splitlines()
    assert lines[0].startswith(
        "scheduled 'Shop 100%' weekly on Sunday at 02:30 (local time) as arn:aws:iam::"
    )
    timer = tmp_path / "xdg" / "systemd" / "user"
    [timer_file] = timer.glob("drs-desktop-drill-*.timer")
    assert f"wrote {timer_file}" in lines
    service = timer_file.with_suffix(".service").read_text(encoding="utf-8")
    assert '"--plan" "Shop 100%%"' in service and f'"--home" "{home}"' in service

    listed = cli("schedule", "list", "--json", "--home", str(home))
    [row] = json.loads(listed.out)
    assert row["plan"] == "Shop 100%" and row["when"] == "weekly on Sunday at 02:30"
    assert row["soak_minutes"] == 15 and row["auto_approve"] is True and row["entry_kind"] == "systemd"
    assert row["status"].startswith(("no run yet; next ", "missed the run due "))
    shown = cli("schedule", "show", "Shop 100%", "--home", str(home))
    assert f"schedule_id: {row['schedule_id']}" in shown.out

    removed = cli("schedule", "remove", row["schedule_id"], "--home", str(home))
    assert removed.code == 0 and f"deleted {timer_file}" in removed.out
    assert list(timer.glob("drs-desktop-drill-*")) == []
    assert json.loads(cli("schedule", "list", "--json", "--home", str(home)).out) == []


def test_add_refuses_bad_input_with_one_line(sim: EmbeddedSimulator, tmp_path: Path, cli: Cli) -> None:
    home = tmp_path / "home"
    with Database.open(AppPaths.resolve(home).database) as db:
        save_plan(db, shop_plan(sim))
    base = [
        "schedule",
        "add",
        "Shop",
        "--report-dir",
        str(tmp_path),
        "--home",
        str(home),
        "--kind",
        "systemd",
    ]
    bad_time = cli(*base, "--at", "25:00")
    assert bad_time.code == 2 and "--at: time '25:00': give HH:MM" in bad_time.err
    no_day = cli(*base, "--at", "02:00", "--every", "weekly")
    assert no_day.code == 2 and "--day mon|tue" in no_day.err
    nobody = cli(*base, "--at", "02:00", "--profile", "nobody", "--region", sim.region)
    assert nobody.code == 1
    assert "not scheduled: the profile cannot run unattended: profile 'nobody' does not exist" in nobody.err
    unknown = cli(
        "schedule", "add", "No such plan", "--at", "02:00", "--report-dir", str(tmp_path), "--home", str(home)
    )
    assert unknown.code == 1 and "No such plan" in unknown.err
