"""The preview of a plan's desired launch settings against what the simulator's DRS and EC2 hold now:
launch configurations and default template versions read over loopback HTTP with the real boto3 clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.launch.diff import Destination
from drs_desktop.domain.launch.model import LaunchFields, LaunchSettings, Override, RightSizing, SubnetByIp
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.plan.revisions import StoredPlan
from drs_desktop.services.launch_state import preview_plan
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import load_plan, save_plan


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def target(sim: EmbeddedSimulator) -> AwsTarget:
    return AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)


def _stored(tmp_path: object, plan: RecoveryPlan) -> StoredPlan:
    with Database.open(tmp_path / "drs.sqlite3") as db:  # type: ignore[operator]
        save_plan(db, plan)
        return load_plan(db, plan.name)


def test_the_preview_reads_drs_and_ec2_and_lists_only_what_would_change(
    sim: EmbeddedSimulator, target: AwsTarget, tmp_path: object
) -> None:
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    try:
        inventory: Inventory = drs.inventory()
        by_name = {s.hostname: s for s in inventory.servers}
        web1, web2, db1 = by_name["shop-web-01"], by_name["shop-web-02"], by_name["shop-db-01"]
        subnets = {s.cidr: s for s in ec2.subnets()}
        drill = next(s for s in subnets.values() if s.cidr.startswith("10.99."))
        production = next(s for s in subnets.values() if s.contains(web1.ips[0]))
        assert web1.ips and production.contains(web1.ips[0])
        settings = LaunchSettings(
            defaults=LaunchFields(
                subnet=SubnetByIp(rows=((production.cidr, production.subnet_id),)),
                instance_type="c5.xlarge",
                right_sizing=RightSizing.NONE,
            ),
            overrides=(
                Override(servers=(db1.source_server_id,), settings=LaunchFields(subnet=drill.subnet_id)),
            ),
        )
        plan = RecoveryPlan(
            name="Shop",
            waves=(
                Wave(name="db", servers=(db1.source_server_id,)),
                Wave(name="web", servers=(web1.source_server_id, web2.source_server_id)),
            ),
            launch_settings=settings,
        )
        preview, state = preview_plan(_stored(tmp_path, plan), inventory, drs, ec2)
    finally:
        drs.close()
        ec2.close()
    assert set(state.configs) == {db1.source_server_id, web1.source_server_id, web2.source_server_id}
    assert not state.missing_templates
    by_id = {s.server_id: s for s in preview.servers}
    db_plan = by_id[db1.source_server_id]
    assert db_plan.template is not None and db_plan.template.subnet_id == drill.subnet_id
    web_plan = by_id[web1.source_server_id]
    # web-01's template is already in its production subnet: only the instance type and right-sizing move
    assert web_plan.template is not None and web_plan.template.subnet_id is None
    assert web_plan.template.instance_type == "c5.xlarge"
    assert {c.field for c in web_plan.changes} == {"instance_type", "right_sizing"}
    assert {c.destination for c in web_plan.changes} == {Destination.TEMPLATE, Destination.DRS}
    # web-02 sits in the other production subnet, which the table does not name: blocked, never guessed
    web2_plan = by_id[web2.source_server_id]
    assert [p.code for p in web2_plan.errors] == ["subnet_unmapped"]
    assert web2.ips[0] in web2_plan.errors[0].message
    assert web2_plan.drs is None and web2_plan.template is None
    assert preview.blocked == (web2_plan,)
    assert preview.calls() == {Destination.DRS: 2, Destination.TEMPLATE: 2}
