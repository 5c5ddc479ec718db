"""EC2 response items (botocore dicts) -> the frozen values of ``domain.ec2``.

Strict where the app decides on the answer: a route, an ACL entry or an ingress rule feeds the drill
isolation check, and a launch template version the drift check, so an item missing its ID or a member
of the wrong type raises ``Ec2ParseError`` (a ValueError) for the whole answer rather than leave a
half-read network that looks isolated. Unknown route targets are read as ``RouteTargetKind.OTHER``
with their ID, never dropped. Optional members that are simply absent become None or ().
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from drs_desktop.domain.ec2 import (
    IngressRuleView,
    InstanceView,
    LaunchTemplateData,
    LaunchTemplateVersionView,
    LaunchTemplateView,
    NaclEntryView,
    NetworkAclView,
    RouteTableView,
    RouteTargetKind,
    RouteView,
    SecurityGroupView,
    SubnetView,
    Tags,
    VpcEndpointView,
    VpcView,
)


class Ec2ParseError(ValueError):
    """An EC2 answer the app cannot read safely."""


def _str(item: Mapping[str, Any], key: str, what: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise Ec2ParseError(f"{what} without a readable {key}: {value!r}")
    return value


def _opt_str(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Ec2ParseError(f"{key} is not a string: {value!r}")
    return value


def _int(item: Mapping[str, Any], key: str, what: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Ec2ParseError(f"{what} without a readable {key}: {value!r}")
    return value


def _opt_int(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Ec2ParseError(f"{key} is not an integer: {value!r}")
    return value


def _list(item: Mapping[str, Any], key: str) -> list[Any]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Ec2ParseError(f"{key} is not a list")
    return value


def _strings(values: list[Any], key: str) -> tuple[str, ...]:
    if not all(isinstance(v, str) for v in values):
        raise Ec2ParseError(f"{key} holds a value that is not a string")
    return tuple(values)


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def _tags(item: Mapping[str, Any]) -> Tags:
    out = []
    for tag in _list(item, "Tags"):
        if not isinstance(tag, Mapping):
            raise Ec2ParseError("a tag is not a structure")
        out.append((_str(tag, "Key", "A tag"), _opt_str(tag, "Value") or ""))
    return tuple(out)


def _name(tags: Tags) -> str:
    return next((v for k, v in tags if k == "Name"), "")


def parse_template(item: Mapping[str, Any]) -> LaunchTemplateView:
    return LaunchTemplateView(
        template_id=_str(item, "LaunchTemplateId", "A launch template"),
        name=_opt_str(item, "LaunchTemplateName") or "",
        default_version=_int(item, "DefaultVersionNumber", "A launch template"),
        latest_version=_int(item, "LatestVersionNumber", "A launch template"),
        created_at=_when(item.get("CreateTime")),
        tags=_tags(item),
    )


def parse_template_data(data: Mapping[str, Any]) -> LaunchTemplateData:
    """The managed members of ResponseLaunchTemplateData: the first network interface (device 0) wins
    over the top-level ``SecurityGroupIds``, as EC2 launches it."""
    interfaces = _list(data, "NetworkInterfaces")
    nic: Mapping[str, Any] | None = None
    for candidate in interfaces:
        if not isinstance(candidate, Mapping):
            raise Ec2ParseError("a network interface is not a structure")
        if candidate.get("DeviceIndex", 0) == 0 and nic is None:
            nic = candidate
    others = len(interfaces) - (0 if nic is None else 1)
    nic = nic or {}
    groups = _strings(_list(nic, "Groups"), "Groups") or _strings(
        _list(data, "SecurityGroupIds"), "SecurityGroupIds"
    )
    public = nic.get("AssociatePublicIpAddress")
    if public is not None and not isinstance(public, bool):
        raise Ec2ParseError("AssociatePublicIpAddress is not a boolean")
    tags: list[tuple[str, str]] = []
    for spec in _list(data, "TagSpecifications"):
        if not isinstance(spec, Mapping):
            raise Ec2ParseError("a tag specification is not a structure")
        if spec.get("ResourceType") == "instance":
            tags.extend(_tags(spec))
    return LaunchTemplateData(
        subnet_id=_opt_str(nic, "SubnetId"),
        security_group_ids=groups,
        instance_type=_opt_str(data, "InstanceType"),
        private_ip=_opt_str(nic, "PrivateIpAddress"),
        associate_public_ip=public,
        instance_tags=tuple(tags),
        other_interfaces=others,
    )


def parse_template_version(item: Mapping[str, Any]) -> LaunchTemplateVersionView:
    data = item.get("LaunchTemplateData") or {}
    if not isinstance(data, Mapping):
        raise Ec2ParseError("LaunchTemplateData is not a structure")
    default = item.get("DefaultVersion")
    if not isinstance(default, bool):
        raise Ec2ParseError(f"A launch template version without a readable DefaultVersion: {default!r}")
    return LaunchTemplateVersionView(
        template_id=_str(item, "LaunchTemplateId", "A launch template version"),
        template_name=_opt_str(item, "LaunchTemplateName") or "",
        version=_int(item, "VersionNumber", "A launch template version"),
        is_default=default,
        description=_opt_str(item, "VersionDescription"),
        created_at=_when(item.get("CreateTime")),
        created_by=_opt_str(item, "CreatedBy") or "",
        data=parse_template_data(data),
    )


#: CIDR block association states whose block the VPC no longer routes.
_GONE = ("disassociated", "failed")


def _cidr(value: str, what: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise Ec2ParseError(f"{what} holds {value!r}, which is not a CIDR") from None


def parse_prefix_list(item: Mapping[str, Any]) -> tuple[str, str]:
    """(ID, name) of a ManagedPrefixList (DescribeManagedPrefixLists)."""
    return _str(item, "PrefixListId", "A prefix list"), _opt_str(item, "PrefixListName") or ""


def parse_prefix_list_entry(item: Mapping[str, Any]) -> str:
    """The CIDR of a PrefixListEntry (GetManagedPrefixListEntries): an entry that is not one fails the
    whole list, which the isolation check then cannot prove isolated."""
    return _cidr(_str(item, "Cidr", "A prefix list entry"), "A prefix list entry")


def parse_vpc(item: Mapping[str, Any]) -> VpcView:
    """A VPC with every CIDR block its ``local`` route reaches: the primary one, and the associated
    secondary IPv4 and IPv6 blocks (one being associated or disassociated counts too: it is routed, or
    may still be)."""
    cidrs = [_cidr(_str(item, "CidrBlock", "A VPC"), "A VPC's CidrBlock")]
    for key, member, state in (
        ("CidrBlockAssociationSet", "CidrBlock", "CidrBlockState"),
        ("Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock", "Ipv6CidrBlockState"),
    ):
        for assoc in _list(item, key):
            if not isinstance(assoc, Mapping):
                raise Ec2ParseError(f"an entry of {key} is not a structure")
            if (assoc.get(state) or {}).get("State") in _GONE:
                continue
            cidr = _cidr(_str(assoc, member, f"An entry of {key}"), key)
            if cidr not in cidrs:
                cidrs.append(cidr)
    return VpcView(vpc_id=_str(item, "VpcId", "A VPC"), cidr_blocks=tuple(cidrs), name=_name(_tags(item)))


def parse_subnet(item: Mapping[str, Any]) -> SubnetView:
    return SubnetView(
        subnet_id=_str(item, "SubnetId", "A subnet"),
        vpc_id=_str(item, "VpcId", "A subnet"),
        cidr=_str(item, "CidrBlock", "A subnet"),
        availability_zone=_opt_str(item, "AvailabilityZone") or "",
        available_ips=_opt_int(item, "AvailableIpAddressCount") or 0,
        name=_name(_tags(item)),
    )


#: Route members naming a target, and the kind each is (GatewayId holds igw-, vgw- or "local").
_TARGET_MEMBERS = (
    ("TransitGatewayId", RouteTargetKind.TRANSIT_GATEWAY),
    ("VpcPeeringConnectionId", RouteTargetKind.PEERING),
    ("NatGatewayId", RouteTargetKind.NAT_GATEWAY),
    ("GatewayId", None),
    ("EgressOnlyInternetGatewayId", RouteTargetKind.INTERNET_GATEWAY),
    ("CarrierGatewayId", RouteTargetKind.OTHER),
    ("LocalGatewayId", RouteTargetKind.OTHER),
    ("NetworkInterfaceId", RouteTargetKind.OTHER),
    ("InstanceId", RouteTargetKind.OTHER),
    ("CoreNetworkArn", RouteTargetKind.OTHER),
)


def _route(item: Mapping[str, Any]) -> RouteView:
    destination = (
        _opt_str(item, "DestinationCidrBlock")
        or _opt_str(item, "DestinationIpv6CidrBlock")
        or _opt_str(item, "DestinationPrefixListId")
    )
    if not destination:
        raise Ec2ParseError("A route without a destination")
    for member, kind in _TARGET_MEMBERS:
        target = _opt_str(item, member)
        if not target:
            continue
        if kind is None:
            if target == "local":
                kind = RouteTargetKind.LOCAL
            elif target.startswith("igw-"):
                kind = RouteTargetKind.INTERNET_GATEWAY
            elif target.startswith("vgw-"):
                kind = RouteTargetKind.VPN_GATEWAY
            else:
                kind = RouteTargetKind.OTHER  # a gateway endpoint (vpce-), or something new
        return RouteView(destination, kind, target, item.get("State", "active") == "active")
    # A blackhole route whose target was deleted, or a target the model added since: a way out unless
    # shown otherwise.
    return RouteView(destination, RouteTargetKind.OTHER, "", item.get("State", "active") == "active")


def parse_route_table(item: Mapping[str, Any]) -> RouteTableView:
    subnets: list[str] = []
    main = False
    for assoc in _list(item, "Associations"):
        if not isinstance(assoc, Mapping):
            raise Ec2ParseError("a route table association is not a structure")
        if assoc.get("Main") is True:
            main = True
        subnet = _opt_str(assoc, "SubnetId")
        if subnet:
            subnets.append(subnet)
    routes = []
    for route in _list(item, "Routes"):
        if not isinstance(route, Mapping):
            raise Ec2ParseError("a route is not a structure")
        routes.append(_route(route))
    return RouteTableView(
        route_table_id=_str(item, "RouteTableId", "A route table"),
        vpc_id=_str(item, "VpcId", "A route table"),
        routes=tuple(routes),
        subnet_ids=tuple(subnets),
        main=main,
    )


def parse_network_acl(item: Mapping[str, Any]) -> NetworkAclView:
    entries = []
    for entry in _list(item, "Entries"):
        if not isinstance(entry, Mapping):
            raise Ec2ParseError("a network ACL entry is not a structure")
        egress = entry.get("Egress")
        if not isinstance(egress, bool):
            raise Ec2ParseError("a network ACL entry without a readable Egress")
        ports = entry.get("PortRange") or {}
        entries.append(
            NaclEntryView(
                rule_number=_int(entry, "RuleNumber", "A network ACL entry"),
                egress=egress,
                allow=_str(entry, "RuleAction", "A network ACL entry") == "allow",
                cidr=_opt_str(entry, "CidrBlock") or _opt_str(entry, "Ipv6CidrBlock") or "",
                protocol=_str(entry, "Protocol", "A network ACL entry"),
                port_from=_opt_int(ports, "From"),
                port_to=_opt_int(ports, "To"),
            )
        )
    subnets = []
    for assoc in _list(item, "Associations"):
        if not isinstance(assoc, Mapping):
            raise Ec2ParseError("a network ACL association is not a structure")
        subnets.append(_str(assoc, "SubnetId", "A network ACL association"))
    is_default = item.get("IsDefault")
    return NetworkAclView(
        network_acl_id=_str(item, "NetworkAclId", "A network ACL"),
        vpc_id=_str(item, "VpcId", "A network ACL"),
        is_default=is_default is True,
        entries=tuple(sorted(entries, key=lambda e: (e.egress, e.rule_number))),
        subnet_ids=tuple(subnets),
    )


def _permission(item: Mapping[str, Any]) -> IngressRuleView:
    cidrs: list[str] = []
    for key, member in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
        for r in _list(item, key):
            if not isinstance(r, Mapping):
                raise Ec2ParseError(f"an entry of {key} is not a structure")
            cidrs.append(_str(r, member, f"An entry of {key}"))
    groups = tuple(_str(pair, "GroupId", "A security group pair") for pair in _list(item, "UserIdGroupPairs"))
    lists = tuple(_str(p, "PrefixListId", "A prefix list entry") for p in _list(item, "PrefixListIds"))
    return IngressRuleView(
        protocol=_str(item, "IpProtocol", "An ingress rule"),
        port_from=_opt_int(item, "FromPort"),
        port_to=_opt_int(item, "ToPort"),
        cidrs=tuple(cidrs),
        source_group_ids=groups,
        prefix_list_ids=lists,
    )


def parse_security_group(item: Mapping[str, Any]) -> SecurityGroupView:
    return SecurityGroupView(
        group_id=_str(item, "GroupId", "A security group"),
        name=_opt_str(item, "GroupName") or "",
        vpc_id=_opt_str(item, "VpcId") or "",
        ingress=tuple(_permission(p) for p in _list(item, "IpPermissions")),
    )


def parse_reservation(item: Mapping[str, Any]) -> list[InstanceView]:
    out = []
    for instance in _list(item, "Instances"):
        if not isinstance(instance, Mapping):
            raise Ec2ParseError("an instance is not a structure")
        state = instance.get("State") or {}
        groups = tuple(_str(g, "GroupId", "A security group") for g in _list(instance, "SecurityGroups"))
        out.append(
            InstanceView(
                instance_id=_str(instance, "InstanceId", "An instance"),
                state=_str(state, "Name", "An instance state"),
                instance_type=_opt_str(instance, "InstanceType") or "",
                subnet_id=_opt_str(instance, "SubnetId"),
                vpc_id=_opt_str(instance, "VpcId"),
                private_ip=_opt_str(instance, "PrivateIpAddress"),
                security_group_ids=groups,
                tags=_tags(instance),
                launched_at=_when(instance.get("LaunchTime")),
                public_ip=_opt_str(instance, "PublicIpAddress"),
            )
        )
    return out


def parse_vpc_endpoint(item: Mapping[str, Any]) -> VpcEndpointView:
    """A VPC endpoint; its service name and state decide whether SSM reaches a VPC without a route out."""
    subnets = _list(item, "SubnetIds")
    if not all(isinstance(s, str) for s in subnets):
        raise Ec2ParseError("a VPC endpoint's SubnetIds are not strings")
    return VpcEndpointView(
        endpoint_id=_str(item, "VpcEndpointId", "A VPC endpoint"),
        vpc_id=_str(item, "VpcId", "A VPC endpoint"),
        service_name=_str(item, "ServiceName", "A VPC endpoint"),
        endpoint_type=_opt_str(item, "VpcEndpointType") or "",
        state=_str(item, "State", "A VPC endpoint"),
        subnet_ids=tuple(subnets),
    )
