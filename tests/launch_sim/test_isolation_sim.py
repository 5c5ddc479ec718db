"""The drill network's isolation check against the simulator's EC2 records (route tables, network ACLs,
security groups), read over loopback HTTP with the real boto3 client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.ec2 import (
    NaclEntryView,
    NetworkAclView,
    RouteTableView,
    RouteTargetKind,
    RouteView,
    SubnetView,
    VpcView,
)
from drs_desktop.domain.launch.isolation import DrillProfile, isolation_findings, profile_problems
from drs_desktop.simulator.embedded import EmbeddedSimulator

PRODUCTION = ("10.20.0.0/16", "172.16.0.0/12")


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def ec2(sim: EmbeddedSimulator) -> Iterator[Ec2Gateway]:
    gateway = Ec2Gateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
    yield gateway
    gateway.close()


def _findings(ec2: Ec2Gateway, profile: DrillProfile) -> list[str]:
    found = isolation_findings(
        profile,
        ec2.subnets(),
        ec2.route_tables(),
        ec2.network_acls(),
        ec2.security_groups(),
        vpcs=ec2.vpcs(),
    )
    return [f"{'ERROR' if f.error else 'WARN'} {f.resource}: {f.message}" for f in found]


def _drill_network(ec2: Ec2Gateway) -> tuple[str, str]:
    subnet = next(s for s in ec2.subnets() if s.cidr.startswith("10.99."))
    group = next(g for g in ec2.security_groups() if g.vpc_id == subnet.vpc_id)
    return subnet.subnet_id, group.group_id


def test_the_simulators_drill_vpc_is_isolated_from_the_production_networks(ec2: Ec2Gateway) -> None:
    subnet, group = _drill_network(ec2)
    profile = DrillProfile(subnets=(subnet,), security_groups=(group,), production_cidrs=PRODUCTION)
    assert profile_problems(profile) == []
    assert _findings(ec2, profile) == []


def test_a_production_subnet_as_drill_subnet_shows_every_way_out(ec2: Ec2Gateway) -> None:
    subnet = next(s for s in ec2.subnets() if s.cidr.startswith("10.20."))
    group = next(g for g in ec2.security_groups() if g.vpc_id == subnet.vpc_id)
    profile = DrillProfile(
        subnets=(subnet.subnet_id,), security_groups=(group.group_id,), production_cidrs=PRODUCTION
    )
    found = _findings(ec2, profile)
    errors = [f for f in found if f.startswith("ERROR")]
    assert any("internet-gateway" in f and "0.0.0.0/0" in f for f in errors), found
    assert any("transit-gateway" in f and "172.16.0.0/12" in f for f in errors), found
    assert any("network ACL" in f and "allows inbound" in f for f in errors), found


def test_a_leaving_route_is_found_unless_its_target_is_allowed_and_a_deny_first_wins() -> None:
    subnet = SubnetView("subnet-1", "vpc-drill", "10.99.1.0/24", "us-east-1a", 200)
    vpc = VpcView("vpc-drill", ("10.99.0.0/16",))
    table = RouteTableView(
        "rtb-1",
        "vpc-drill",
        (
            RouteView("10.99.0.0/16", RouteTargetKind.LOCAL, "local"),
            RouteView("10.20.0.0/16", RouteTargetKind.PEERING, "pcx-1"),
            RouteView("192.168.0.0/16", RouteTargetKind.TRANSIT_GATEWAY, "tgw-sandbox"),
        ),
        ("subnet-1",),
        False,
    )
    acl = NetworkAclView(
        "acl-1",
        "vpc-drill",
        False,
        (
            NaclEntryView(10, False, False, "10.20.0.0/16", "-1"),  # DENY production first
            NaclEntryView(100, False, True, "0.0.0.0/0", "-1"),
        ),
        ("subnet-1",),
    )
    profile = DrillProfile(subnets=("subnet-1",), production_cidrs=("10.20.0.0/16", "192.168.0.0/16"))
    found = isolation_findings(profile, [subnet], [table], [acl], [], vpcs=[vpc])
    assert [(f.resource, f.error) for f in found] == [("rtb-1", True), ("rtb-1", True), ("acl-1", True)]
    assert "pcx-1" in found[0].message and "tgw-sandbox" in found[1].message
    # rule 10 denies 10.20/16 before rule 100 allows everything: only the other production network gets in
    assert "192.168.0.0/16" in found[2].message and "10.20.0.0/16" not in found[2].message
    allowed = DrillProfile(
        subnets=("subnet-1",), production_cidrs=("10.20.0.0/16",), allowed_targets=("pcx-1",)
    )
    assert isolation_findings(allowed, [subnet], [table], [acl], [], vpcs=[vpc]) == []


def test_a_profile_with_bad_values_says_what_is_wrong() -> None:
    problems = profile_problems(
        DrillProfile(subnets=("sub-1",), security_groups=("group",), production_cidrs=("10.20/33",))
    )
    assert any("not a subnet ID" in p for p in problems)
    assert any("not a security group ID" in p for p in problems)
    assert any("not a CIDR" in p for p in problems)
    assert "a drill profile needs at least one subnet" in profile_problems(
        DrillProfile(production_cidrs=PRODUCTION)
    )
