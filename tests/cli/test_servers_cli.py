"""``drs-desktop servers extensible`` and ``servers extend`` on the two-account simulator (real boto3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.services.inventory import cached_inventory
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from tests.simulator import accounts_scenario
from tests.simulator.accounts_scenario import RECOVERY, STAGING

from .conftest import Cli

pytestmark = pytest.mark.timeout(120)

sim = accounts_scenario.two_accounts_sim


def where(sim: EmbeddedSimulator, home: Path) -> list[str]:
    return ["--endpoint", sim.endpoint_url, "--region", "us-east-1", "--home", str(home)]


def staging_ids(sim: EmbeddedSimulator) -> dict[str, str]:
    world = sim.estate.backend(STAGING, "us-east-1").world
    return {server.hostname: server.server_id for server in world.servers.values()}


def test_list_then_extend_then_list_again(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    ids = staging_ids(sim)
    none_yet = cli("servers", "extensible", *where(sim, app_home))
    assert none_yet.code == 0 and "name one with --staging-account" in none_yet.err

    listed = cli("servers", "extensible", "--staging-account", STAGING, "--json", *where(sim, app_home))
    assert listed.code == 0, listed.err
    [listing] = listed.json()
    assert listing["staging_account"] == STAGING and listing["extended"] == []
    assert {s["hostname"]: s["source_server_id"] for s in listing["extensible"]} == ids

    extended = cli(
        "servers",
        "extend",
        "--staging-account",
        STAGING,
        ids["stg-00001"],
        ids["stg-00002"],
        *where(sim, app_home),
    )
    assert extended.code == 0, extended.err
    lines = extended.out.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"stg-00001 ({ids['stg-00001']}): extended as s-")
    assert f"2 extended (from staging account {STAGING})" in extended.err

    with Database.open(AppPaths.resolve(app_home).database) as db:
        cached = cached_inventory(db, account_id=RECOVERY, region="us-east-1")
    assert cached is not None
    assert sorted(s.hostname for s in cached.servers if s.staging_account_id == STAGING) == [
        "stg-00001",
        "stg-00002",
    ]

    # Without --staging-account, DRS now lists the staging account: its remaining and extended servers.
    again = cli("servers", "extensible", *where(sim, app_home))
    assert again.code == 0, again.err
    assert f"staging account {STAGING}: 2 extensible, 2 already extended" in again.out
    assert f"{ids['stg-00001']} already extended as s-" in again.out


def test_a_partial_failure_exits_1_and_says_which(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    ids = staging_ids(sim)
    assert (
        cli("servers", "extend", "--staging-account", STAGING, ids["stg-00003"], *where(sim, app_home)).code
        == 0
    )

    result = cli(
        "servers",
        "extend",
        "--staging-account",
        STAGING,
        ids["stg-00003"],
        ids["stg-00004"],
        "s-0000000000000dead",
        "--json",
        *where(sim, app_home),
    )

    assert result.code == 1
    outcomes = {o["staging_server_id"]: o for o in result.json()["outcomes"]}
    assert outcomes[ids["stg-00003"]]["status"] == "ALREADY_EXTENDED"
    assert outcomes[ids["stg-00004"]]["status"] == "EXTENDED"
    assert outcomes["s-0000000000000dead"]["status"] == "FAILED"
    assert "not an extensible server" in outcomes["s-0000000000000dead"]["message"]
    assert result.json()["inventory_refreshed"] is True


def test_a_staging_account_that_is_not_an_id_is_a_usage_error(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    result = cli("servers", "extend", "--staging-account", "staging", "s-1", *where(sim, app_home))
    assert result.code == 2 and "not an AWS account ID (12 digits)" in result.err
    denied = cli("servers", "extensible", "--staging-account", "333333333333", *where(sim, app_home))
    assert denied.code == 1 and "AccessDenied" in denied.err
