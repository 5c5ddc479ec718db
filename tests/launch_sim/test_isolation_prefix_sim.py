"""The isolation check's prefix lists and VPC CIDR blocks, in a drill's preflight on the simulator (DRS and
EC2 over loopback HTTP, the real boto3 client): a route or a security group rule naming a managed prefix
list is decided on the list's CIDRs as EC2 lists them, a list this account cannot read fails the check
with EC2's reason, and a drill subnet whose VPC holds a production network in a CIDR block fails it
whatever its routes and ACL say (``isolated_world``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.launch.isolation import DrillProfile
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.preflight.rules import ISOLATION
from drs_desktop.services.executions import RunRequest, prepare_execution
from drs_desktop.services.preflight import preflight
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.launch_sim.isolated_world import FOREIGN, PRODUCTION, scenario


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(scenario(), seed=7) as simulator:
        yield simulator


@pytest.fixture
def target(sim: EmbeddedSimulator) -> AwsTarget:
    return AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database


def _isolation(
    db: Database, target: AwsTarget, sim: EmbeddedSimulator, vpc_name: str, *, all_subnets: bool = False
) -> list[tuple[str, str]]:
    """The ``isolation`` checks of a drill whose profile is ``vpc_name``'s first subnet (or all of them)
    and its ``<vpc>-servers`` group."""
    ec2 = Ec2Gateway(target)
    try:
        vpc = next(v for v in ec2.vpcs() if v.name == vpc_name)
        subnets = tuple(s.subnet_id for s in ec2.subnets(vpc_id=vpc.vpc_id))
        group = next(g for g in ec2.security_groups(vpc_id=vpc.vpc_id) if g.name.endswith("-servers"))
    finally:
        ec2.close()
    profile = DrillProfile(
        subnets=subnets if all_subnets else subnets[:1],
        security_groups=(group.group_id,),
        production_cidrs=PRODUCTION,
    )
    server = sim.backend.server_id_of("shop-db-01")
    plan = RecoveryPlan(name="Shop", waves=(Wave(name="db", servers=(server,)),), drill_profile=profile)
    save_plan(db, plan)
    request = RunRequest(plan_name="Shop", mode=Mode.DRILL)
    gateway = DrsGateway(target)
    try:
        prepared = prepare_execution(db, gateway, request)
        report = preflight(db, gateway, prepared, request, now=sim.clock.now())
    finally:
        gateway.close()
    return [(c.status.value, c.message) for c in report.checks if c.name == ISOLATION]


def test_a_prefix_list_route_and_rule_that_stay_out_of_production_pass(
    db: Database, target: AwsTarget, sim: EmbeddedSimulator
) -> None:
    found = _isolation(db, target, sim, "drill-sandbox")
    assert [status for status, _ in found] == ["PASS"], found
    assert "prefix lists read: pl-" in found[0][1]
    counts = sim.backend.request_counts()
    # the route and the rule name the same list: read once
    assert counts["ec2:GetManagedPrefixListEntries"] == 1
    assert counts["ec2:DescribeManagedPrefixLists"] == 1


def test_a_prefix_list_holding_a_production_network_fails_for_the_route_and_the_rule(
    db: Database, target: AwsTarget, sim: EmbeddedSimulator
) -> None:
    found = _isolation(db, target, sim, "drill-onprem")
    assert [status for status, _ in found] == ["FAIL", "FAIL"], found
    route, rule = (message for _, message in found)
    assert "(onprem)" in route and "transit-gateway tgw-" in route
    assert "172.16.0.0/12 (172.16.0.0/12)" in route and "192.168.10.0/24" not in route
    assert rule.startswith("security group sg-") and "(onprem)" in rule and "172.16.0.0/12" in rule


def test_a_prefix_list_this_account_cannot_read_fails_with_ec2s_reason(
    db: Database, target: AwsTarget, sim: EmbeddedSimulator
) -> None:
    found = _isolation(db, target, sim, "drill-foreign")
    assert [status for status, _ in found] == ["FAIL"], found
    message = found[0][1]
    assert FOREIGN in message and "InvalidPrefixListID.NotFound" in message
    assert "isolation cannot be proven" in message and "peering pcx-" in message


def test_a_drill_subnet_in_a_vpc_holding_a_production_network_fails_whatever_its_routes_say(
    db: Database, target: AwsTarget, sim: EmbeddedSimulator
) -> None:
    # its first subnet is in the primary block, its ACL lets in only that block and no route leaves the
    # VPC: only the VPC's secondary block 10.30.0.0/16, a production network, gives it away
    found = _isolation(db, target, sim, "drill-secondary")
    assert [status for status, _ in found] == ["FAIL"], found
    message = found[0][1]
    assert "drill-secondary" in message and "10.30.0.0/16" in message and "local route" in message
    assert "10.96.0.0/16" not in message
    # both drill subnets of that VPC: one finding, naming both
    both = _isolation(db, target, sim, "drill-secondary", all_subnets=True)
    vpc_findings = [m for _, m in both if "local route" in m]
    assert len(vpc_findings) == 1 and vpc_findings[0].count("subnet-") == 2, both
