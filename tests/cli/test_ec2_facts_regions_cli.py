"""``launch-settings ec2-facts`` across Regions and accounts (issue 16 item 3), on the simulator with real
boto3: an AWS-hosted server whose instance runs in another Region (cross-Region DR) has its tags and
type copied, read in that Region; one in another account is said unreadable, the others go on; after
the tags are written, the inventory cache holds them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from drs_desktop.config import AppPaths
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services.inventory import cached_inventory
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

from .conftest import Cli

pytestmark = pytest.mark.timeout(120)

ORIGIN = "eu-west-1"
FOREIGN = "999999999999"
SCENARIO: dict[str, Any] = {
    "name": "cross-region-sources",
    "seed": 11,
    "region": "us-east-1",
    "fleet": {
        "servers": [
            {"hostname": "web-local", "aws_hosted": True},
            {"hostname": "web-away"},
            {"hostname": "web-foreign"},
            {"hostname": "db-onprem"},
        ],
        "aws_hosted": {
            "tags": {"Application": "shop"},
            "origins": {
                "web-away": {"region": ORIGIN},
                "web-foreign": {"region": "us-west-2", "account": FOREIGN},
            },
        },
    },
}


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(SCENARIO) as simulator:
        yield simulator


def where(sim: EmbeddedSimulator, home: Path) -> list[str]:
    return ["--endpoint", sim.endpoint_url, "--region", sim.region, "--home", str(home)]


def _instances(sim: EmbeddedSimulator, region: str) -> dict[str, Any]:
    answer = boto3.client("ec2", **sim.client_kwargs(region=region)).describe_instances()
    return {i["InstanceId"]: i for r in answer["Reservations"] for i in r["Instances"]}


def _instance_of(sim: EmbeddedSimulator, hostname: str) -> str:
    server = sim.backend.world.servers[sim.backend.server_id_of(hostname)]
    assert server.aws_instance_id
    return server.aws_instance_id


def test_the_simulator_lists_a_source_instance_in_its_origin_region_only(sim: EmbeddedSimulator) -> None:
    away, local = _instance_of(sim, "web-away"), _instance_of(sim, "web-local")
    home, origin = _instances(sim, sim.region), _instances(sim, ORIGIN)
    assert away in origin and away not in home
    assert local in home and local not in origin
    assert origin[away]["Placement"]["AvailabilityZone"].startswith(ORIGIN)
    assert _instance_of(sim, "web-foreign") not in home | origin | _instances(sim, "us-west-2")
    items = boto3.client("drs", **sim.client_kwargs()).describe_source_servers()["items"]
    clouds = {
        s["sourceProperties"]["identificationHints"]["hostname"]: s.get("sourceCloudProperties")
        for s in items
    }
    assert clouds["web-away"]["originRegion"] == ORIGIN
    assert clouds["web-away"]["originAccountID"] == sim.account_id
    assert clouds["web-away"]["originAvailabilityZone"] == origin[away]["Placement"]["AvailabilityZone"]
    assert clouds["web-foreign"]["originAccountID"] == FOREIGN


def test_preview_reads_each_instance_in_its_origin_region_and_names_the_other_account(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    result = cli("launch-settings", "ec2-facts", "--json", *where(sim, app_home))
    assert result.code == 1, result.err  # one server cannot be read
    data = result.json()
    # one batch per Region read, none for the other account's
    origin_world = sim.estate.ec2_backend(sim.account_id, ORIGIN)
    assert origin_world is not None
    assert origin_world.request_counts()["ec2:DescribeInstances"] == 1  # one batch for the Region
    assert sim.backend.request_counts()["ec2:DescribeInstances"] == 1
    rows = {s["hostname"]: s for s in data["servers"]}
    assert set(rows) == {"web-local", "web-away", "web-foreign"} and data["on_premises"] == 1
    away = rows["web-away"]
    assert away["problem"] is None and away["read_in_region"] == ORIGIN and away["origin_region"] == ORIGIN
    instance = _instances(sim, ORIGIN)[away["instance_id"]]
    assert away["instance_type"] == instance["InstanceType"]
    assert {t["key"] for t in away["tags"]} >= {"Application", "CostCenter", "Owner"}
    foreign = rows["web-foreign"]
    assert foreign["read_in_region"] is None and foreign["instance_type"] is None
    assert f"account {FOREIGN}" in foreign["problem"] and "cannot read it" in foreign["problem"]
    assert rows["web-local"]["read_in_region"] == sim.region and rows["web-local"]["problem"] is None


def test_apply_copies_the_cross_region_facts_refreshes_the_cache_and_reports_the_other_account(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    away_id, foreign_id = sim.backend.server_id_of("web-away"), sim.backend.server_id_of("web-foreign")
    with Database.open(AppPaths.resolve(app_home).database) as db:
        save_plan(db, RecoveryPlan(name="Shop", waves=(Wave(name="all", servers=(away_id, foreign_id)),)))
    done = cli("launch-settings", "ec2-facts", "--plan", "Shop", "--apply", "--json", *where(sim, app_home))
    assert done.code == 1, done.err
    data = done.json()
    outcomes = {o["hostname"]: o for o in data["outcomes"]}
    assert outcomes["web-away"]["outcome"] == "TAGGED"
    assert outcomes["web-foreign"]["outcome"] == "NOT_READ" and FOREIGN in outcomes["web-foreign"]["message"]
    instance = _instances(sim, ORIGIN)[_instance_of(sim, "web-away")]
    assert data["instance_types"] == [{"server_id": away_id, "instance_type": instance["InstanceType"]}]
    assert data["revision"] == 2
    assert data["inventory_refreshed"] is True and data["refresh_error"] is None

    ec2_tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
    with Database.open(AppPaths.resolve(app_home).database) as db:
        cached = cached_inventory(db)
    assert cached is not None
    by_id = {s.source_server_id: s for s in cached.servers}
    assert by_id[away_id].tags["CostCenter"] == ec2_tags["CostCenter"]  # the cache holds the copy
    assert "CostCenter" not in by_id[foreign_id].tags


def test_text_output_says_where_each_instance_was_read(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    result = cli("launch-settings", "ec2-facts", *where(sim, app_home))
    assert result.code == 1
    assert f"in {ORIGIN})" in result.out
    assert f"error: its instance runs in account {FOREIGN}" in result.out
    assert "Nothing written" in result.out
