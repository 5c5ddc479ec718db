"""A plan's drill profile, and whether the network it names is isolated from production (issue 16 item 4).

A drill launches its servers into the drill profile's subnets and security groups, so that a drill
instance (a copy of a production server, with its hostname, its services, its scheduled jobs) can never
talk to production. AWS's own drill guidance leaves proving that to the operator; the preflight of a drill
with a profile proves it from EC2's records, which ``isolation_findings`` reads:

- **the VPC**: a drill subnet whose VPC's CIDR blocks (all of them: secondary blocks too) overlap a
  production network reaches it through the VPC's ``local`` route, which no route table can take away;
- **routes**: a route of a drill subnet's route table whose destination overlaps a production network
  named in the plan, or that is a default route (it reaches everything), through an internet gateway, a
  transit gateway, a VPC peering, a VPN gateway or a NAT gateway, leaves the drill network (unless its
  target is one the profile allows, e.g. a transit gateway attachment to a sandbox). A destination that
  is a managed prefix list is decided on the list's CIDRs, as EC2 holds them at the check;
- **network ACLs**: an inbound ALLOW entry of a drill subnet's ACL whose CIDR overlaps a production
  network, unless a DENY of all traffic numbered before it covers all of the production network that the
  ALLOW lets in (ACL rules are evaluated in number order; a DENY of one protocol or port leaves the rest
  of the traffic to the later ALLOW);
- **security groups**: an ingress rule of a profile's security group from a CIDR, or from a prefix list
  holding a CIDR, overlapping a production network (a rule from another security group cannot be proven
  either way: a warning).

A prefix list the caller could not read (``unreadable``: the reason), or did not read at all, is an error:
nobody can prove where it leads. ``referenced_prefix_lists`` says which lists to read. Every finding names
the resource, the rule and the production network it reaches. Pure, stdlib only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drs_desktop.domain.ec2 import (
    NetworkAclView,
    PrefixListView,
    RouteTableView,
    RouteTargetKind,
    RouteView,
    SecurityGroupView,
    SubnetView,
    VpcView,
)

__all__ = [
    "DrillProfile",
    "IsolationFinding",
    "isolation_findings",
    "profile_problems",
    "referenced_prefix_lists",
    "route_table_for",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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


def _networks(cidrs: Sequence[str]) -> list[Network]:
    found = []
    for cidr in cidrs:
        try:
            found.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue
    return found


def _overlaps(cidr: str, production: Sequence[Network]) -> list[str]:
    """The production networks ``cidr`` overlaps (a prefix list ID or a bad CIDR overlaps none)."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return []
    return [str(p) for p in production if p.version == network.version and p.overlaps(network)]


def _common(cidr: str, production: Network) -> str:
    """The part of ``production`` that ``cidr`` lets in (two overlapping CIDR blocks: the smaller one)."""
    network = ipaddress.ip_network(cidr, strict=False)
    return str(network if network.prefixlen >= production.prefixlen else production)


def _covered(cidr: str, denied: Sequence[Network]) -> bool:
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
    *,
    vpcs: Sequence[VpcView],
    prefix_lists: Mapping[str, PrefixListView] | None = None,
    unreadable: Mapping[str, str] | None = None,
) -> list[IsolationFinding]:
    """Every way the profile's network reaches the production networks, as EC2's records show it.
    ``subnets``, ``vpcs``, ``route_tables``, ``acls`` and ``groups`` are what EC2 lists (at least the
    profile's); ``prefix_lists`` the lists of ``referenced_prefix_lists`` that were read, by ID, and
    ``unreadable`` why each of the others could not be."""
    production = _networks(profile.production_cidrs)
    allowed = set(profile.allowed_targets)
    lists = _Lists(prefix_lists or {}, unreadable or {})
    findings: list[IsolationFinding] = []
    by_id = {s.subnet_id: s for s in subnets}
    present: list[SubnetView] = []
    for subnet_id in profile.subnets:
        subnet = by_id.get(subnet_id)
        if subnet is None:
            findings.append(
                IsolationFinding(subnet_id, f"subnet {subnet_id} is not in this account and Region")
            )
            continue
        present.append(subnet)
    findings += _vpc_findings(present, vpcs, production)
    for subnet in present:
        findings += _route_findings(subnet, route_tables, production, allowed, lists)
        findings += _acl_findings(subnet, acls, production)
    known = {g.group_id: g for g in groups}
    for group_id in profile.security_groups:
        group = known.get(group_id)
        if group is None:
            findings.append(
                IsolationFinding(group_id, f"security group {group_id} is not in this account and Region")
            )
            continue
        findings += _group_findings(group, production, lists)
    return findings


def referenced_prefix_lists(
    profile: DrillProfile,
    subnets: Sequence[SubnetView],
    route_tables: Sequence[RouteTableView],
    groups: Sequence[SecurityGroupView],
) -> tuple[str, ...]:
    """The prefix lists the check decides on, in order, once each: the destinations of the drill
    subnets' routes that leave the VPC (through a target the profile does not allow), and the sources
    of the profile's security groups' ingress rules. The caller reads these before the check."""
    found: list[str] = []
    by_id = {s.subnet_id: s for s in subnets}
    allowed = set(profile.allowed_targets)
    for subnet_id in profile.subnets:
        subnet = by_id.get(subnet_id)
        table = route_table_for(subnet, route_tables) if subnet is not None else None
        if table is not None:
            found += [r.destination for r in table.routes if _leaves(r, allowed) and _is_list(r.destination)]
    known = {g.group_id: g for g in groups}
    for group_id in profile.security_groups:
        group = known.get(group_id)
        if group is not None:
            found += [p for rule in group.ingress for p in rule.prefix_list_ids]
    return tuple(dict.fromkeys(found))


def _is_list(destination: str) -> bool:
    return destination.startswith("pl-")


def _leaves(route: RouteView, allowed: set[str]) -> bool:
    return route.target_kind in LEAVING and route.active and route.target_id not in allowed


@dataclass(frozen=True)
class _Lists:
    """The prefix lists read for a check, and why the others could not be."""

    read: Mapping[str, PrefixListView]
    unreadable: Mapping[str, str]

    def named(self, prefix_list_id: str) -> str:
        found = self.read.get(prefix_list_id)
        return f"prefix list {prefix_list_id}" + (f" ({found.name})" if found and found.name else "")

    def reached(self, prefix_list_id: str, production: Sequence[Network]) -> tuple[list[str], str]:
        """(the list's entries that overlap production, each with what it reaches; why it could not be
        read, else "")."""
        found = self.read.get(prefix_list_id)
        if found is None:
            why = self.unreadable.get(prefix_list_id) or "it was not read"
            return [], why
        return [
            f"{cidr} ({', '.join(hit)})" for cidr in found.cidrs if (hit := _overlaps(cidr, production))
        ], ""


def _vpc_findings(
    subnets: Sequence[SubnetView], vpcs: Sequence[VpcView], production: Sequence[Network]
) -> list[IsolationFinding]:
    """A drill subnet in a VPC whose CIDR blocks overlap production: the VPC's ``local`` route reaches
    production whatever the route table says (one finding per VPC, naming its drill subnets)."""
    known = {v.vpc_id: v for v in vpcs}
    findings = []
    for vpc_id in dict.fromkeys(s.vpc_id for s in subnets):
        inside = ", ".join(s.subnet_id for s in subnets if s.vpc_id == vpc_id)
        vpc = known.get(vpc_id)
        if vpc is None:
            findings.append(
                IsolationFinding(
                    vpc_id,
                    f"VPC {vpc_id} of drill subnet(s) {inside} is not listed: its CIDR blocks, which its "
                    "local route reaches, cannot be checked",
                )
            )
            continue
        hits = [(cidr, _overlaps(cidr, production)) for cidr in vpc.cidr_blocks]
        hits = [(cidr, reached) for cidr, reached in hits if reached]
        if hits:
            name = f" ({vpc.name})" if vpc.name else ""
            blocks = ", ".join(cidr for cidr, _ in hits)
            reached = ", ".join(dict.fromkeys(p for _, found in hits for p in found))
            findings.append(
                IsolationFinding(
                    vpc_id,
                    f"drill subnet(s) {inside} are in VPC {vpc_id}{name}, whose CIDR block(s) {blocks} "
                    f"overlap production ({reached}): the VPC's local route reaches it whatever the route "
                    "table says",
                )
            )
    return findings


def _route_findings(
    subnet: SubnetView,
    tables: Sequence[RouteTableView],
    production: Sequence[Network],
    allowed: set[str],
    lists: _Lists,
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
        if not _leaves(route, allowed):
            continue
        where = (
            f"route table {table.route_table_id} of drill subnet {subnet.subnet_id} sends "
            f"{lists.named(route.destination) if _is_list(route.destination) else route.destination} "
            f"to {route.target_kind.value} {route.target_id}"
        )
        if _is_list(route.destination):
            entries, why = lists.reached(route.destination, production)
            if why:
                message = f"{where}, whose CIDRs could not be read ({why}): isolation cannot be proven"
                findings.append(IsolationFinding(table.route_table_id, message))
            elif entries:
                message = f"{where}: a drill instance reaches production through {', '.join(entries)}"
                findings.append(IsolationFinding(table.route_table_id, message))
            continue
        reached = _overlaps(route.destination, production)
        if reached:
            message = f"{where}: a drill instance reaches production ({', '.join(reached)})"
            findings.append(IsolationFinding(table.route_table_id, message))
    return findings


def _acl_findings(
    subnet: SubnetView,
    acls: Sequence[NetworkAclView],
    production: Sequence[Network],
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
    denied: list[Network] = []
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
    group: SecurityGroupView, production: Sequence[Network], lists: _Lists
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
        for prefix_list_id in rule.prefix_list_ids:
            entries, why = lists.reached(prefix_list_id, production)
            source = f"security group {group.group_id} allows ingress from {lists.named(prefix_list_id)}"
            if why:
                message = f"{source}, whose CIDRs could not be read ({why}): isolation cannot be proven"
                findings.append(IsolationFinding(group.group_id, message))
            elif entries:
                message = f"{source}: production can reach a drill instance from {', '.join(entries)}"
                findings.append(IsolationFinding(group.group_id, message))
        for source in rule.source_group_ids:
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
