"""``drs-desktop launch-settings ec2-facts`` on the simulator (real boto3): the small scenario's two
AWS-hosted servers (crm-web-01, crm-app-01) get their EC2 tags copied into DRS, never an ``aws:`` tag and
never another server; with ``--plan`` the instance types become the plan's desired launch settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.config import AppPaths
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import resolve_group
from drs_desktop.services.launch_state import preview_plan
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import load_plan, save_plan

from .conftest import Cli

pytestmark = pytest.mark.timeout(120)
HOSTED = ("crm-app-01", "crm-web-01")


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def where(sim: EmbeddedSimulator, home: Path) -> list[str]:
    return ["--endpoint", sim.endpoint_url, "--region", sim.region, "--home", str(home)]


def _ec2_instances(sim: EmbeddedSimulator) -> dict[str, Any]:
    answer = boto3.client("ec2", **sim.client_kwargs()).describe_instances()
    return {i["InstanceId"]: i for r in answer["Reservations"] for i in r["Instances"]}


def _drs_tags(sim: EmbeddedSimulator) -> dict[str, dict[str, str]]:
    items = boto3.client("drs", **sim.client_kwargs()).describe_source_servers()["items"]
    return {s["sourceProperties"]["identificationHints"]["hostname"]: s["tags"] for s in items}


def test_the_preview_lists_only_the_aws_hosted_servers_and_writes_nothing(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    before = _drs_tags(sim)
    result = cli("launch-settings", "ec2-facts", "--json", *where(sim, app_home))
    assert result.code == 0, result.err
    data = result.json()
    assert data["outcome"] == "preview" and data["applied"] is False
    assert [s["hostname"] for s in data["servers"]] == list(HOSTED)
    assert data["on_premises"] == 8
    instances = _ec2_instances(sim)
    for server in data["servers"]:
        instance = instances[server["instance_id"]]
        assert server["instance_type"] == instance["InstanceType"]
        ec2_tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
        assert {t["key"]: t["after"] for t in server["tags"]} == {
            k: v for k, v in ec2_tags.items() if k in ("CostCenter", "Owner", "Backup")
        }
        assert server["reserved_tags_skipped"] == ["aws:cloudformation:stack-name"]
    assert sim.backend.request_counts().get("TagResource", 0) == 0
    assert _drs_tags(sim) == before


def test_apply_tags_the_drs_servers_a_tag_group_selects_them_and_a_second_apply_changes_nothing(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    before = _drs_tags(sim)
    done = cli("launch-settings", "ec2-facts", "--apply", "--json", *where(sim, app_home))
    assert done.code == 0, done.err
    assert {o["hostname"]: o["outcome"] for o in done.json()["outcomes"]} == dict.fromkeys(HOSTED, "TAGGED")
    after = _drs_tags(sim)
    for hostname, tags in after.items():
        if hostname in HOSTED:
            assert tags["Backup"] == "daily" and tags["CostCenter"].startswith("cc-")
            assert not any(k.startswith("aws:") for k in tags)
            assert all(after[hostname][k] == v for k, v in before[hostname].items())  # no DRS tag lost
        else:
            assert tags == before[hostname]  # on premises: never touched

    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs = DrsGateway(target)
    try:
        inventory = drs.inventory()  # refreshed
    finally:
        drs.close()
    group = ProtectionGroup(name="aws-hosted", tags={"Backup": "daily"})
    by_id = {s.source_server_id: s.hostname for s in inventory.servers}
    assert sorted(by_id[i] for i in resolve_group(group, inventory)) == list(HOSTED)

    again = cli("launch-settings", "ec2-facts", "--apply", "--json", *where(sim, app_home))
    assert again.code == 0
    assert {o["outcome"] for o in again.json()["outcomes"]} == {"UNCHANGED"}
    assert sim.backend.request_counts()["TagResource"] == 2


def test_with_a_plan_the_instance_types_become_a_new_revision_s_desired_launch_settings(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    web, app, shop = (sim.backend.server_id_of(h) for h in ("crm-web-01", "crm-app-01", "shop-web-01"))
    plan = RecoveryPlan(name="Crm", waves=(Wave(name="all", servers=(web, app, shop)),))
    with Database.open(AppPaths.resolve(app_home).database) as db:
        save_plan(db, plan)
    preview = cli("launch-settings", "ec2-facts", "--plan", "Crm", "--json", *where(sim, app_home))
    types = {i["server_id"]: i["instance_type"] for i in preview.json()["instance_types"]}
    assert set(types) == {web, app}
    with Database.open(AppPaths.resolve(app_home).database) as db:
        assert load_plan(db, "Crm").revision.revision == 1  # the preview saved nothing

    done = cli("launch-settings", "ec2-facts", "--plan", "Crm", "--apply", "--json", *where(sim, app_home))
    assert done.code == 0, done.err
    assert done.json()["revision"] == 2
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    try:
        with Database.open(AppPaths.resolve(app_home).database) as db:
            stored = load_plan(db, "Crm")
        launch, _ = preview_plan(stored, drs.inventory(), drs, ec2)
    finally:
        drs.close()
        ec2.close()
    by_id = {s.server_id: s for s in launch.servers}
    for server_id, instance_type in types.items():
        template = by_id[server_id].template
        assert template is not None and template.instance_type == instance_type
        assert {c.field for c in by_id[server_id].changes} >= {"instance_type", "right_sizing"}
    assert not by_id[shop].changed  # on premises: no override
    again = cli("launch-settings", "ec2-facts", "--plan", "Crm", "--apply", "--json", *where(sim, app_home))
    assert again.code == 0 and again.json()["revision"] is None and again.json()["instance_types"] == []


def test_a_server_whose_instance_ec2_does_not_have_exits_1(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    server = sim.backend.world.servers[sim.backend.server_id_of("crm-web-01")]
    del sim.backend.world.sources[server.aws_instance_id or ""]
    result = cli("launch-settings", "ec2-facts", "--apply", "--json", *where(sim, app_home))
    assert result.code == 1
    outcomes = {o["hostname"]: o for o in result.json()["outcomes"]}
    assert (
        outcomes["crm-web-01"]["outcome"] == "NOT_READ"
        and "EC2 has no instance" in outcomes["crm-web-01"]["message"]
    )
    assert outcomes["crm-app-01"]["outcome"] == "TAGGED"


def test_a_server_whose_copy_would_pass_drs_s_tag_limit_is_not_said_unread(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    """Its instance was read: NOT_READ would send the operator after EC2 permissions or Regions, when what
    stops the copy is DRS's limit of 50 tags."""
    drs = boto3.client("drs", **sim.client_kwargs())
    items = drs.describe_source_servers()["items"]
    web = next(s for s in items if s["sourceProperties"]["identificationHints"]["hostname"] == "crm-web-01")
    room = 50 - len(web["tags"])
    drs.tag_resource(resourceArn=web["arn"], tags={f"filler-{i:02d}": "x" for i in range(room)})
    result = cli("launch-settings", "ec2-facts", "--apply", "--json", *where(sim, app_home))
    assert result.code == 1
    outcomes = {o["hostname"]: o for o in result.json()["outcomes"]}
    assert outcomes["crm-web-01"]["outcome"] == "FAILED", outcomes["crm-web-01"]
    assert "DRS allows 50" in outcomes["crm-web-01"]["message"]
    assert _drs_tags(sim)["crm-web-01"] == {**web["tags"], **{f"filler-{i:02d}": "x" for i in range(room)}}


def test_a_revision_saved_between_the_preview_and_the_apply_keeps_its_changes(
    sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    """The instance types go into the plan as it is when applying, not as it was previewed: a revision a
    colleague saved in between (here a new RTO) is kept."""
    from dataclasses import replace

    from drs_desktop.services import ec2_facts

    web, app = (sim.backend.server_id_of(h) for h in HOSTED)
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    try:
        with Database.open(tmp_path / "drs.sqlite3") as db:
            save_plan(db, RecoveryPlan(name="Crm", waves=(Wave(name="all", servers=(web, app)),)))
            facts = ec2_facts.preview(drs, ec2, stored=load_plan(db, "Crm"))
            save_plan(db, replace(load_plan(db, "Crm").plan, rto_minutes=45), comment="colleague")  # rev 2
            result = ec2_facts.apply(db, drs, ec2, facts)
            assert result.revision is not None and result.revision.revision == 3
            saved = load_plan(db, "Crm").plan
            assert saved.rto_minutes == 45  # the colleague's change stands
            assert {o.servers for o in saved.launch_settings.overrides} >= {(web,), (app,)}
    finally:
        drs.close()
        ec2.close()
