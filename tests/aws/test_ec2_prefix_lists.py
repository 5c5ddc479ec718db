"""``Ec2Gateway`` reads what the isolation check decides on beyond routes and rules: managed prefix lists
(name and every entry, over pages) and every CIDR block of a VPC, on the simulator over loopback HTTP
with the real boto3 client; an answer that cannot be read whole is refused, never half read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.ec2_parse import Ec2ParseError, parse_prefix_list_entry, parse_vpc
from drs_desktop.domain.drs.errors import DrsNotFound, DrsRejected
from drs_desktop.domain.ec2 import RouteTargetKind
from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.aws.conftest import target_of
from tests.launch_sim.isolated_world import FOREIGN, scenario


@pytest.fixture
def isolated() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(scenario(), seed=7) as simulator:
        yield simulator


@pytest.fixture
def ec2(isolated: EmbeddedSimulator) -> Iterator[Ec2Gateway]:
    gateway = Ec2Gateway(target_of(isolated))
    yield gateway
    gateway.close()


def test_a_prefix_list_named_by_a_route_and_a_rule_reads_whole_with_its_name(
    isolated: EmbeddedSimulator, ec2: Ec2Gateway
) -> None:
    vpc = next(v for v in ec2.vpcs() if v.name == "drill-onprem")
    (table,) = ec2.route_tables(vpc_id=vpc.vpc_id)
    (route,) = [r for r in table.routes if r.destination.startswith("pl-")]
    assert route.target_kind is RouteTargetKind.TRANSIT_GATEWAY and route.target_id.startswith("tgw-")
    (group,) = [g for g in ec2.security_groups(vpc_id=vpc.vpc_id) if g.name == "drill-onprem-servers"]
    assert group.ingress[0].prefix_list_ids == (route.destination,) and group.ingress[0].cidrs == ()
    # pages of one entry: the list's two entries take two GetManagedPrefixListEntries calls
    paged = Ec2Gateway(target_of(isolated), page_size=1)
    try:
        listed = paged.prefix_list(route.destination)
    finally:
        paged.close()
    assert (listed.name, listed.cidrs) == ("onprem", ("192.168.10.0/24", "172.16.0.0/12"))
    assert isolated.backend.request_counts()["ec2:GetManagedPrefixListEntries"] == 2


def test_a_prefix_list_this_account_cannot_see_is_not_found_and_a_bad_id_is_rejected(
    ec2: Ec2Gateway,
) -> None:
    with pytest.raises(DrsNotFound) as missing:
        ec2.prefix_list(FOREIGN)
    assert missing.value.code == "InvalidPrefixListID.NotFound"
    with pytest.raises(DrsRejected) as malformed:
        ec2.prefix_list("corp-onprem")
    assert malformed.value.code == "InvalidPrefixListID.Malformed"


def test_every_cidr_block_of_a_vpc_is_read(ec2: Ec2Gateway) -> None:
    vpcs = {v.name: v for v in ec2.vpcs()}
    assert vpcs["drill-secondary"].cidr_blocks == ("10.96.0.0/16", "10.30.0.0/16")
    assert vpcs["production"].cidr_blocks == ("10.20.0.0/16",)


def test_a_vpcs_ipv6_blocks_count_a_disassociated_block_not_and_a_bad_cidr_refuses_the_answer() -> None:
    vpc = {
        "VpcId": "vpc-1",
        "CidrBlock": "10.96.0.0/16",
        "CidrBlockAssociationSet": [
            {"CidrBlock": "10.96.0.0/16", "CidrBlockState": {"State": "associated"}},
            {"CidrBlock": "10.30.0.0/16", "CidrBlockState": {"State": "disassociated"}},
            {"CidrBlock": "10.31.0.0/16", "CidrBlockState": {"State": "associating"}},
        ],
        "Ipv6CidrBlockAssociationSet": [
            {"Ipv6CidrBlock": "2600:1f18:abcd:1200::/56", "Ipv6CidrBlockState": {"State": "associated"}}
        ],
    }
    assert parse_vpc(vpc).cidr_blocks == ("10.96.0.0/16", "10.31.0.0/16", "2600:1f18:abcd:1200::/56")
    broken = {**vpc, "CidrBlockAssociationSet": [{"CidrBlock": "10.300.0.0/16"}]}
    with pytest.raises(Ec2ParseError, match="not a CIDR"):
        parse_vpc(broken)
    with pytest.raises(Ec2ParseError, match="not a CIDR"):
        parse_prefix_list_entry({"Cidr": "corp"})
    with pytest.raises(Ec2ParseError, match="Cidr"):
        parse_prefix_list_entry({"Description": "no CIDR"})
