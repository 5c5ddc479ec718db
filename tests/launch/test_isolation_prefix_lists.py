"""The isolation check's prefix lists and VPC CIDR blocks, rule by rule (issue 16 item 4): a route or a
security group rule naming a managed prefix list is decided on the list's CIDRs like a CIDR (a list that
was not read is an error: nobody can prove where it leads), and a drill subnet whose VPC's CIDR blocks
overlap a production network reaches it through the VPC's local route, which no route table removes."""

from __future__ import annotations

from drs_desktop.domain.ec2 import (
    IngressRuleView,
    PrefixListView,
    RouteTableView,
    RouteTargetKind,
    RouteView,
    SecurityGroupView,
    SubnetView,
    VpcView,
)
from drs_desktop.domain.launch.isolation import (
    DrillProfile,
    IsolationFinding,
    isolation_findings,
    referenced_prefix_lists,
)

SUBNET = SubnetView("subnet-1", "vpc-drill", "10.99.1.0/24", "us-east-1a", 200)
VPC = VpcView("vpc-drill", ("10.99.0.0/16",), "drill")
ONPREM = PrefixListView("pl-onprem", "corp-onprem", ("192.168.10.0/24", "172.16.4.0/24"))
SANDBOX = PrefixListView("pl-sandbox", "sandbox", ("192.168.200.0/24",))
PRODUCTION = ("10.20.0.0/16", "172.16.0.0/12")


def _table(*routes: RouteView) -> RouteTableView:
    local = RouteView("10.99.0.0/16", RouteTargetKind.LOCAL, "local")
    return RouteTableView("rtb-1", "vpc-drill", (local, *routes), ("subnet-1",), False)


def _group(*lists: str) -> SecurityGroupView:
    rule = IngressRuleView("tcp", 443, 443, (), prefix_list_ids=lists)
    return SecurityGroupView("sg-1", "drill", "vpc-drill", (rule,))


def _findings(
    table: RouteTableView | None = None,
    group: SecurityGroupView | None = None,
    *,
    lists: tuple[PrefixListView, ...] = (ONPREM, SANDBOX),
    unreadable: dict[str, str] | None = None,
    vpcs: tuple[VpcView, ...] = (VPC,),
    subnets: tuple[SubnetView, ...] = (SUBNET,),
    allowed: tuple[str, ...] = (),
) -> list[IsolationFinding]:
    profile = DrillProfile(
        subnets=tuple(s.subnet_id for s in subnets),
        security_groups=("sg-1",) if group else (),
        production_cidrs=PRODUCTION,
        allowed_targets=allowed,
    )
    return isolation_findings(
        profile,
        list(subnets),
        [table or _table()],
        [],
        [group] if group else [],
        vpcs=list(vpcs),
        prefix_lists={p.prefix_list_id: p for p in lists},
        unreadable=unreadable,
    )


def _errors(found: list[IsolationFinding]) -> list[IsolationFinding]:
    # the route-table-less / ACL-less warnings of these minimal worlds are not what is tested here
    return [f for f in found if f.error]


def test_a_route_to_a_prefix_list_holding_part_of_production_is_an_error_naming_the_entry() -> None:
    route = RouteView("pl-onprem", RouteTargetKind.TRANSIT_GATEWAY, "tgw-1")
    (found,) = _errors(_findings(_table(route)))
    assert found.resource == "rtb-1"
    assert "pl-onprem (corp-onprem)" in found.message and "tgw-1" in found.message
    assert "172.16.4.0/24 (172.16.0.0/12)" in found.message and "192.168.10.0/24" not in found.message


def test_a_route_to_a_prefix_list_outside_production_or_through_an_allowed_target_is_isolated() -> None:
    sandbox = RouteView("pl-sandbox", RouteTargetKind.TRANSIT_GATEWAY, "tgw-1")
    assert _errors(_findings(_table(sandbox))) == []
    onprem = RouteView("pl-onprem", RouteTargetKind.VPN_GATEWAY, "vgw-1")
    assert _errors(_findings(_table(onprem), allowed=("vgw-1",))) == []


def test_a_prefix_list_that_could_not_be_read_or_was_not_read_is_an_error_with_the_reason() -> None:
    route = RouteView("pl-gone", RouteTargetKind.PEERING, "pcx-1")
    reason = "UnauthorizedOperation: You are not authorized to perform this operation."
    (found,) = _errors(_findings(_table(route), unreadable={"pl-gone": reason}))
    assert reason in found.message and "isolation cannot be proven" in found.message
    (unread,) = _errors(_findings(_table(route)))
    assert "it was not read" in unread.message


def test_an_ingress_rule_from_a_prefix_list_is_decided_on_its_cidrs() -> None:
    (found,) = _errors(_findings(group=_group("pl-onprem")))
    assert found.resource == "sg-1" and "pl-onprem (corp-onprem)" in found.message
    assert "172.16.4.0/24 (172.16.0.0/12)" in found.message
    assert _findings(group=_group("pl-sandbox")) == [
        f for f in _findings(group=_group()) if f.resource != "sg-1"
    ]
    (unread,) = _errors(_findings(group=_group("pl-other"), unreadable={"pl-other": "throttled"}))
    assert unread.resource == "sg-1" and "(throttled)" in unread.message


def test_the_lists_to_read_are_those_of_leaving_routes_and_the_profiles_groups_once_each() -> None:
    table = _table(
        RouteView("pl-onprem", RouteTargetKind.TRANSIT_GATEWAY, "tgw-1"),
        RouteView("pl-sandbox", RouteTargetKind.TRANSIT_GATEWAY, "tgw-sandbox"),  # allowed below
        RouteView("pl-s3", RouteTargetKind.PEERING, "pcx-1", active=False),  # a blackhole goes nowhere
    )
    profile = DrillProfile(
        subnets=("subnet-1",),
        security_groups=("sg-1",),
        production_cidrs=PRODUCTION,
        allowed_targets=("tgw-sandbox",),
    )
    groups = [_group("pl-corp", "pl-onprem")]
    assert referenced_prefix_lists(profile, [SUBNET], [table], groups) == ("pl-onprem", "pl-corp")


def test_a_drill_subnet_whose_vpc_overlaps_production_is_an_error_once_per_vpc() -> None:
    vpc = VpcView("vpc-drill", ("10.99.0.0/16", "10.20.64.0/18"), "drill")
    other = SubnetView("subnet-2", "vpc-drill", "10.20.64.0/24", "us-east-1b", 200)
    found = [f for f in _errors(_findings(vpcs=(vpc,), subnets=(SUBNET, other))) if f.resource == "vpc-drill"]
    assert len(found) == 1, found
    message = found[0].message
    assert "subnet-1, subnet-2" in message and "VPC vpc-drill (drill)" in message
    assert "10.20.64.0/18" in message and "(10.20.0.0/16)" in message and "local route" in message
    assert "10.99.0.0/16" not in message


def test_a_vpc_inside_a_wider_production_network_overlaps_it_and_an_unlisted_vpc_is_an_error() -> None:
    profile = DrillProfile(subnets=("subnet-1",), production_cidrs=("10.0.0.0/8",))
    found = isolation_findings(profile, [SUBNET], [_table()], [], [], vpcs=[VPC])
    assert [f.resource for f in found if f.error] == ["vpc-drill"]
    (unlisted,) = _errors(_findings(vpcs=()))
    assert unlisted.resource == "vpc-drill" and "is not listed" in unlisted.message
    assert _errors(_findings()) == []
