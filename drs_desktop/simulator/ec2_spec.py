"""The ``ec2:`` key of a scenario: the networks of the recovery account (docs/simulator.md, "EC2").

Every world has VPCs with subnets, a route table, a network ACL and security groups; every source
server's launch template points at the subnet of ``launch_vpc`` that contains the server's IP (the
first one when none does). The defaults model a usual DRS recovery account: a production VPC whose
subnets hold the source servers' addresses (10.20.0.0/16), routed to the internet, to on-premises through
a transit gateway and to a shared-services VPC through a peering, and a drill VPC with nothing but its
local route, so a drill launched into it reaches nothing outside.

Stdlib only: ``scenario`` imports these dataclasses, and the reader takes the scenario's ``Node``
without importing it (scenario_node imports scenario).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drs_desktop.simulator.scenario_node import Node

#: Route targets a scenario may name, and the ID prefix of each.
ROUTE_TARGETS = {
    "internet-gateway": "igw-",
    "transit-gateway": "tgw-",
    "peering": "pcx-",
    "vpn-gateway": "vgw-",
    "nat-gateway": "nat-",
}
PROTOCOLS = ("tcp", "udp", "icmp", "-1")
#: A VPC endpoint's service as a scenario names it: the last part of ``com.amazonaws.<region>.<name>``.
ENDPOINT_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")
#: The services whose endpoints are gateway endpoints (route table entries); every other is an interface.
GATEWAY_ENDPOINTS = frozenset({"s3", "dynamodb"})
#: A prefix list ID a scenario may name although no list of the world has it: a list of another
#: account, not shared with this one, which this account cannot read (``InvalidPrefixListID.NotFound``).
FOREIGN_PREFIX_LIST = re.compile(r"^pl-[0-9a-f]{8,17}$")


@dataclass(frozen=True)
class PrefixListSpec:
    """A customer-managed prefix list of the account: a name and the CIDRs it holds."""

    name: str
    cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteSpec:
    destination: str  # a CIDR, or "" when the destination is a prefix list
    target: str  # a key of ROUTE_TARGETS
    prefix_list: str = ""  # the name of one of ``Ec2Spec.prefix_lists``, or a foreign ``pl-`` ID


@dataclass(frozen=True)
class IngressSpec:
    """One inbound rule of a VPC's ``<name>-servers`` security group: from ``cidr`` or a prefix list."""

    cidr: str = ""
    protocol: str = "tcp"
    from_port: int = 0
    to_port: int = 65535
    prefix_list: str = ""  # as RouteSpec.prefix_list


@dataclass(frozen=True)
class VpcSpec:
    name: str
    cidr: str
    subnets: tuple[str, ...]
    #: Secondary IPv4 CIDR blocks (CidrBlockAssociationSet; a local route each); subnets may use them
    secondary_cidrs: tuple[str, ...] = ()
    routes: tuple[RouteSpec, ...] = ()
    ingress: tuple[IngressSpec, ...] = ()
    #: CIDRs the network ACL lets in (rule 100, 110, ...); everything else is denied by rule ``*``.
    nacl_ingress: tuple[str, ...] = ("0.0.0.0/0",)
    #: VPC endpoints (DescribeVpcEndpoints), by service: ``ssm`` is ``com.amazonaws.<region>.ssm``.
    endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ec2Spec:
    vpcs: tuple[VpcSpec, ...]
    launch_vpc: str = "production"
    prefix_lists: tuple[PrefixListSpec, ...] = ()


DEFAULT_EC2 = Ec2Spec(
    vpcs=(
        VpcSpec(
            name="production",
            cidr="10.20.0.0/16",
            subnets=("10.20.0.0/17", "10.20.128.0/17"),
            routes=(
                RouteSpec("0.0.0.0/0", "internet-gateway"),
                RouteSpec("172.16.0.0/12", "transit-gateway"),
                RouteSpec("10.50.0.0/16", "peering"),
            ),
            ingress=(IngressSpec("10.0.0.0/8"), IngressSpec("172.16.0.0/12", "tcp", 443, 443)),
        ),
        VpcSpec(
            name="drill",
            cidr="10.99.0.0/16",
            subnets=("10.99.0.0/20", "10.99.16.0/20"),
            ingress=(IngressSpec("10.99.0.0/16"),),
            nacl_ingress=("10.99.0.0/16",),
        ),
    )
)


def _network(node: Node, key: str, value: str | None) -> ipaddress.IPv4Network:
    if value is None:
        raise node.error(key, "is required (a CIDR such as 10.20.0.0/16)")
    try:
        return ipaddress.IPv4Network(value)
    except ValueError as exc:
        raise node.error(key, f"not an IPv4 CIDR: {exc}") from None


def read_ec2(node: Node) -> Ec2Spec:
    """The ``ec2:`` mapping; absent, the defaults above."""
    if not node.data:
        node.finish()
        return DEFAULT_EC2
    lists = tuple(_prefix_list(n) for n in node.items("prefix_lists"))
    list_names = [p.name for p in lists]
    if len(set(list_names)) != len(list_names):
        raise node.error("prefix_lists", "prefix list names must be unique")
    vpcs = tuple(_vpc(n, set(list_names)) for n in node.items("vpcs")) or DEFAULT_EC2.vpcs
    names = [v.name for v in vpcs]
    if len(set(names)) != len(names):
        raise node.error("vpcs", "VPC names must be unique")
    launch = node.text("launch_vpc", names[0]) or names[0]
    if launch not in names:
        raise node.error("launch_vpc", f"{launch!r} is not one of the VPCs ({', '.join(names)})")
    node.finish()
    return Ec2Spec(vpcs=vpcs, launch_vpc=launch, prefix_lists=lists)


def _prefix_list(node: Node) -> PrefixListSpec:
    name = node.text("name")
    if not name:
        raise node.error("name", "is required")
    if name.startswith("com.amazonaws"):
        raise node.error("name", "may not start with com.amazonaws (EC2 keeps those names for AWS's lists)")
    cidrs = tuple(str(_network(node, f"cidrs[{i}]", c)) for i, c in enumerate(node.strings("cidrs")))
    node.finish()
    return PrefixListSpec(name=name, cidrs=cidrs)


def _list_ref(node: Node, lists: set[str]) -> str:
    """The ``prefix_list`` of a route or ingress rule: a list's name, or a foreign ``pl-`` ID."""
    ref = node.text("prefix_list") or ""
    if ref and ref not in lists and not FOREIGN_PREFIX_LIST.match(ref):
        known = ", ".join(sorted(lists)) or "none"
        raise node.error(
            "prefix_list", f"{ref!r} is neither a name of ec2.prefix_lists ({known}) nor a pl- ID"
        )
    return ref


def _vpc(node: Node, lists: set[str]) -> VpcSpec:
    name = node.text("name")
    if not name:
        raise node.error("name", "is required")
    cidr = _network(node, "cidr", node.text("cidr"))
    blocks = [cidr]
    for i, extra in enumerate(node.strings("secondary_cidrs")):
        block = _network(node, f"secondary_cidrs[{i}]", extra)
        if any(block.overlaps(b) for b in blocks):
            raise node.error(f"secondary_cidrs[{i}]", f"{block} overlaps another CIDR block of the VPC")
        blocks.append(block)
    subnets = node.strings("subnets")
    if not subnets:
        raise node.error("subnets", "a VPC needs at least one subnet CIDR")
    nets = [_network(node, f"subnets[{i}]", s) for i, s in enumerate(subnets)]
    for i, net in enumerate(nets):
        if not any(net.subnet_of(b) for b in blocks):
            raise node.error(f"subnets[{i}]", f"{net} is not inside the VPC's {', '.join(map(str, blocks))}")
        for j in range(i):
            if net.overlaps(nets[j]):
                raise node.error(f"subnets[{i}]", f"{net} overlaps {nets[j]}")
    routes = []
    for r in node.items("routes"):
        listed = _list_ref(r, lists)
        if listed and r.has("destination"):
            raise r.error("destination", "a route has a destination CIDR or a prefix_list, not both")
        destination = "" if listed else str(_network(r, "destination", r.text("destination")))
        target = r.choice("target", "internet-gateway", tuple(ROUTE_TARGETS))
        r.finish()
        routes.append(RouteSpec(destination, target, listed))
    ingress = []
    for g in node.items("ingress"):
        listed = _list_ref(g, lists)
        if listed and g.has("cidr"):
            raise g.error("cidr", "an ingress rule is from a cidr or a prefix_list, not both")
        rule = IngressSpec(
            cidr="" if listed else str(_network(g, "cidr", g.text("cidr"))),
            protocol=g.choice("protocol", "tcp", PROTOCOLS),
            from_port=g.integer("from_port", 0, high=65535),
            to_port=g.integer("to_port", 65535, high=65535),
            prefix_list=listed,
        )
        if rule.from_port > rule.to_port:
            raise g.error("to_port", "must not be below from_port")
        g.finish()
        ingress.append(rule)
    nacl = node.strings("nacl_ingress") if node.has("nacl_ingress") else ("0.0.0.0/0",)
    nacl = tuple(str(_network(node, f"nacl_ingress[{i}]", c)) for i, c in enumerate(nacl))
    endpoints = node.strings("endpoints")
    for i, service in enumerate(endpoints):
        if not ENDPOINT_SERVICE.match(service):
            raise node.error(f"endpoints[{i}]", f"{service!r} is not a service name such as ssm or s3")
    if len(set(endpoints)) != len(endpoints):
        raise node.error("endpoints", "a VPC has one endpoint per service")
    node.finish()
    return VpcSpec(
        name=name,
        cidr=str(cidr),
        subnets=tuple(str(n) for n in nets),
        secondary_cidrs=tuple(str(b) for b in blocks[1:]),
        routes=tuple(routes),
        ingress=tuple(ingress),
        nacl_ingress=nacl,
        endpoints=endpoints,
    )
