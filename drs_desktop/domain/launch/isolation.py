"""A plan's drill profile, and whether the network it names is isolated from production (issue 16 item 4).

A drill launches its servers into the drill profile's subnets and security groups, so that a drill
instance (a copy of a production server, with its hostname, its services, its scheduled jobs) can never
talk to production. AWS's own drill guidance leaves proving that to the operator; the preflight of a drill
with a profile proves it from EC2's records, which ``isolation_findings`` reads:

- **routes**: a route of a drill subnet's route table whose destination overlaps a production network
  named in the plan, or that is a default route (it reaches everything), through an internet gateway, a
  transit gateway, a VPC peering, a VPN gateway or a NAT gateway, leaves the drill network (unless its
  target is one the profile allows, e.g. a transit gateway attachment to a sandbox);
- **network ACLs**: an inbound ALLOW entry of a drill subnet's ACL whose CIDR overlaps a production
  network, unless a DENY of all traffic numbered before it covers all of the production network that the
  ALLOW lets in (ACL rules are evaluated in number order; a DENY of one protocol or port leaves the rest
  of the traffic to the later ALLOW);
- **security groups**: an ingress rule of a profile's security group from a CIDR overlapping a production
  network (a rule from another security group or a prefix list cannot be proven either way: a warning).

Every finding names the resource, the rule and the production network it reaches. Pure, stdlib only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from drs_desktop.domain.ec2 import (
    NetworkAclView,
    RouteTableView,
    RouteTargetKind,
    SecurityGroupView,
    SubnetView,
)

__all__ = ["DrillProfile", "IsolationFinding", "isolation_findings", "profile_problems", "route_table_for"]

#: Route targets that carry traffic out of the VPC (a local route stays inside it).
LEAVING = (
    RouteTargetKind.INTERNET_GATEWAY,
    RouteTargetKind.TRANSIT_GATEWAY,
    RouteTargetKind.PEERING,
    RouteTargetKind.VPN_GATEWAY,
    RouteTargetKind.NAT_GATEWAY,
    RouteTargetKind.OTHER,
)


@dataclass(frozen=True)
class DrillProfile:
    """Where a plan's drills launch: ``subnets`` (by subnet ID; a server goes to the one in its own
    Availability Zone when there are several, else the first), ``security_groups``, the production
    networks a drill must not reach (``production_cidrs``) and route targets allowed anyway
    (``allowed_targets``: IDs such as ``tgw-...`` of a sandbox attachment)."""

    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    production_cidrs: tuple[str, ...] = ()
    allowed_targets: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.subnets or self.security_groups or self.production_cidrs or self.allowed_targets)


@dataclass(frozen=True)
class IsolationFinding:
    """One way out of the drill network (``error``), or what cannot be proven isolated (a warning)."""

    resource: str  # rtb-..., acl-..., sg-..., subnet-...
    message: str
    error: bool = True


def profile_problems(profile: DrillProfile) -> list[str]:
    """What is wrong with the profile's own values (the plan's validation reports them)."""
    problems: list[str] = []
    if not profile.subnets:
        problems.append("a drill profile needs at least one subnet")
    problems += [
        f"{s!r} is not a subnet ID (subnet-...)" for s in profile.subnets if not s.startswith("subnet-")
    ]
    problems += [
        f"{g!r} is not a security group ID (sg-...)"
        for g in profile.security_groups
        if not g.startswith("sg-")
    ]
    for cidr in profile.production_cidrs:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            problems.append(f"production network {cidr!r} is not a CIDR (e.g. 10.20.0.0/16)")
    if not profile.production_cidrs:
        problems.append("a drill profile names the production networks a drill must not reach")
    return problems


def route_table_for(subnet: SubnetView, tables: Sequence[RouteTableView]) -> RouteTableView | None:
    """The subnet's own route table, else its VPC's main one (what EC2 routes it by)."""
    own = next((t for t in tables if subnet.subnet_id in t.subnet_ids), None)
    return own or next((t for t in tables if t.main and t.vpc_id == subnet.vpc_id), None)


def _networks(cidrs: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    found = []
    for cidr in cidrs:
        try:
            found.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue
    return found


def _overlaps(cidr: str, production: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> list[str]:
    """The production networks ``cidr`` overlaps (a prefix list ID or a bad CIDR overlaps none)."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return []
    return [str(p) for p in production if p.version == network.version and p.overlaps(network)]


def _common(cidr: str, production: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """The part of ``production`` that ``cidr`` lets in (two overlapping CIDR blocks: the smaller one)."""
    network = ipaddress.ip_network(cidr, strict=False)
    return str(network if network.prefixlen >= production.prefixlen else production)


def _covered(cidr: str, denied: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Whether a DENY already seen covers all of ``cidr`` (ACL rules are evaluated in number order)."""
    network = ipaddress.ip_network(cidr, strict=False)
    for deny in denied:
        if isinstance(network, ipaddress.IPv4Network) and isinstance(deny, ipaddress.IPv4Network):
            if network.subnet_of(deny):
                return True
        elif isinstance(network, ipaddress.IPv6Network) and isinstance(deny, ipaddress.IPv6Network):
            if network.subnet_of(deny):
                return True
    return False


def isolation_findings(
    profile: DrillProfile,
    subnets: Sequence[SubnetView],
    route_tables: Sequence[RouteTableView],
    acls: Sequence[NetworkAclView],
    groups: Sequence[SecurityGroupView],
) -> list[IsolationFinding]:
    """Every way the profile's network reaches the production networks, as EC2's records show it.
    ``subnets``, ``route_tables``, ``acls`` and ``groups`` are what EC2 lists (at least the profile's)."""
    production = _networks(profile.production_cidrs)
    allowed = set(profile.allowed_targets)
    findings: list[IsolationFinding] = []
    by_id = {s.subnet_id: s for s in subnets}
    for subnet_id in profile.subnets:
        subnet = by_id.get(subnet_id)
        if subnet is None:
            findings.append(
                IsolationFinding(subnet_id, f"subnet {subnet_id} is not in this account and Region")
            )
            continue
        findings += _route_findings(subnet, route_tables, production, allowed)
        findings += _acl_findings(subnet, acls, production)
    known = {g.group_id: g for g in groups}
    for group_id in profile.security_groups:
        group = known.get(group_id)
        if group is None:
            findings.append(
                IsolationFinding(group_id, f"security group {group_id} is not in this account and Region")
            )
            continue
        findings += _group_findings(group, production)
    return findings


def _route_findings(
    subnet: SubnetView,
    tables: Sequence[RouteTableView],
    production: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
    allowed: set[str],
) -> list[IsolationFinding]:
    table = route_table_for(subnet, tables)
    if table is None:
        return [
            IsolationFinding(
                subnet.subnet_id, f"no route table of subnet {subnet.subnet_id} is listed", False
            )
        ]
    findings = []
    for route in table.routes:
        if route.target_kind not in LEAVING or not route.active or route.target_id in allowed:
            continue
        reached = _overlaps(route.destination, production)
        if not reached and not route.destination.startswith("pl-"):
            continue
        what = ", ".join(reached) if reached else f"the networks of prefix list {route.destination}"
        findings.append(
            IsolationFinding(
                table.route_table_id,
                f"route table {table.route_table_id} of drill subnet {subnet.subnet_id} sends "
                f"{route.destination} to {route.target_kind.value} {route.target_id}: a drill instance "
                f"reaches production ({what})",
                error=bool(reached),
            )
        )
    return findings


def _acl_findings(
    subnet: SubnetView,
    acls: Sequence[NetworkAclView],
    production: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> list[IsolationFinding]:
    acl = next((a for a in acls if subnet.subnet_id in a.subnet_ids), None)
    acl = acl or next((a for a in acls if a.is_default and a.vpc_id == subnet.vpc_id), None)
    if acl is None:
        return [
            IsolationFinding(
                subnet.subnet_id, f"no network ACL of subnet {subnet.subnet_id} is listed", False
            )
        ]
    findings = []
    denied: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in sorted((e for e in acl.entries if not e.egress), key=lambda e: e.rule_number):
        networks = _networks([entry.cidr])
        if not entry.allow:
            if entry.protocol == "-1":  # a DENY of one protocol or port leaves the rest to later rules
                denied += networks
            continue
        reached = [
            str(p)
            for p in production
            if _overlaps(entry.cidr, [p]) and not _covered(_common(entry.cidr, p), denied)
        ]
        if reached:
            findings.append(
                IsolationFinding(
                    acl.network_acl_id,
                    f"network ACL {acl.network_acl_id} of drill subnet {subnet.subnet_id} allows inbound "
                    f"from {entry.cidr} (rule {entry.rule_number}): production ({', '.join(reached)}) can "
                    "reach a drill instance",
                )
            )
    return findings


def _group_findings(
    group: SecurityGroupView, production: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> list[IsolationFinding]:
    findings = []
    for rule in group.ingress:
        for cidr in rule.cidrs:
            reached = _overlaps(cidr, production)
            if reached:
                findings.append(
                    IsolationFinding(
                        group.group_id,
                        f"security group {group.group_id} allows ingress from {cidr}: production "
                        f"({', '.join(reached)}) can reach a drill instance",
                    )
                )
        for source in (*rule.source_group_ids, *rule.prefix_list_ids):
            if source == group.group_id:
                continue  # the group's own members: other drill instances
            findings.append(
                IsolationFinding(
                    group.group_id,
                    f"security group {group.group_id} allows ingress from {source}, whose members cannot be "
                    "proven outside production",
                    error=False,
                )
            )
    return findings
