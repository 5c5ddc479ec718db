"""The networks of one simulated account and region: VPCs, subnets, route tables, network ACLs, security
groups, built from the scenario's ``ec2:`` spec and described as EC2's API shapes (model member names).

IDs are stable for a seed (``stable_hex``), so a test may name a subnet by its CIDR and find the same ID
every run. Each VPC has one route table (its main one, also associated with each subnet explicitly, so
the ``association.subnet-id`` filter finds it), one network ACL for all its subnets, a ``default``
security group and a ``<vpc>-servers`` group holding the spec's ingress rules; the spec's prefix lists
(``pl-`` IDs, stable too) are what a route's destination or an ingress rule's source may name, and a
``pl-`` ID the spec names without a list is another account's, which this one cannot read. Read-only
after building: the app reads networks, it never changes them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from drs_desktop.simulator.ec2_spec import (
    GATEWAY_ENDPOINTS,
    ROUTE_TARGETS,
    Ec2Spec,
    IngressSpec,
    VpcSpec,
)
from drs_desktop.simulator.ids import stable_hex

_AZ_LETTERS = "abcdef"


@dataclass
class Subnet:
    subnet_id: str
    vpc_id: str
    network: ipaddress.IPv4Network
    availability_zone: str
    name: str
    used: dict[str, str] = field(default_factory=dict)  # private IP -> the instance holding it


@dataclass(frozen=True)
class PrefixList:
    prefix_list_id: str
    name: str
    cidrs: tuple[str, ...]


@dataclass
class SecurityGroup:
    group_id: str
    name: str
    description: str
    vpc_id: str
    ingress: tuple[IngressSpec, ...]
    self_reference: bool = False  # the default group lets its own members in


@dataclass
class Vpc:
    vpc_id: str
    spec: VpcSpec
    subnets: list[Subnet]
    groups: list[SecurityGroup]
    route_table_id: str
    acl_id: str
    route_targets: list[tuple[str, str, str]]  # (destination CIDR or prefix list ID, kind, target ID)
    endpoints: list[tuple[str, str]] = field(default_factory=list)  # (vpce- ID, service short name)


class Network:
    """Every VPC of the world, and lookups by ID."""

    def __init__(self, spec: Ec2Spec, *, seed: int, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        #: Prefix lists by ID, and the ID of each name (what routes and rules of the spec name)
        self.prefix_lists = {
            p.prefix_list_id: p
            for p in (
                PrefixList("pl-" + stable_hex(seed, region, "ec2", "prefix-list", s.name), s.name, s.cidrs)
                for s in spec.prefix_lists
            )
        }
        self.list_ids = {p.name: p.prefix_list_id for p in self.prefix_lists.values()}
        self.vpcs: list[Vpc] = [self._build(v, seed, region, self.list_ids) for v in spec.vpcs]
        self.launch_vpc = next(v for v in self.vpcs if v.spec.name == spec.launch_vpc)
        self.subnets = {s.subnet_id: s for v in self.vpcs for s in v.subnets}
        self.groups = {g.group_id: g for v in self.vpcs for g in v.groups}
        self.vpc_by_id = {v.vpc_id: v for v in self.vpcs}
        self._arn_prefix = f"arn:aws:ec2:{region}:{account_id}:"

    @staticmethod
    def _build(spec: VpcSpec, seed: int, region: str, list_ids: dict[str, str]) -> Vpc:
        def rid(prefix: str, *parts: object) -> str:
            return prefix + stable_hex(seed, region, "ec2", spec.name, *parts)

        vpc_id = rid("vpc-")
        subnets = [
            Subnet(
                subnet_id=rid("subnet-", cidr),
                vpc_id=vpc_id,
                network=ipaddress.IPv4Network(cidr),
                availability_zone=f"{region}{_AZ_LETTERS[i % len(_AZ_LETTERS)]}",
                name=f"{spec.name}-{_AZ_LETTERS[i % len(_AZ_LETTERS)]}{i // len(_AZ_LETTERS) or ''}",
            )
            for i, cidr in enumerate(spec.subnets)
        ]
        groups = [
            SecurityGroup(rid("sg-", "default"), "default", "default VPC security group", vpc_id, (), True),
            SecurityGroup(
                rid("sg-", "servers"),
                f"{spec.name}-servers",
                f"Recovered servers in {spec.name}",
                vpc_id,
                spec.ingress,
            ),
        ]
        targets = [
            (
                r.destination or list_ids.get(r.prefix_list, r.prefix_list),
                r.target,
                rid(ROUTE_TARGETS[r.target], r.target, r.destination or r.prefix_list),
            )
            for r in spec.routes
        ]
        endpoints = [(rid("vpce-", "endpoint", service), service) for service in spec.endpoints]
        return Vpc(vpc_id, spec, subnets, groups, rid("rtb-"), rid("acl-"), targets, endpoints)

    # -- lookups ---------------------------------------------------------------------------------------

    def servers_group(self, vpc: Vpc) -> SecurityGroup:
        return vpc.groups[1]

    def subnet_for_ip(self, ip: str) -> Subnet:
        """The launch VPC's subnet containing ``ip``; its first subnet when none does."""
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError:
            return self.launch_vpc.subnets[0]
        for subnet in self.launch_vpc.subnets:
            if address in subnet.network:
                return subnet
        return self.launch_vpc.subnets[0]

    # -- EC2 shapes ------------------------------------------------------------------------------------

    @staticmethod
    def _name_tag(name: str) -> list[dict[str, str]]:
        return [{"Key": "Name", "Value": name}]

    def describe_vpc(self, vpc: Vpc) -> dict[str, Any]:
        return {
            "VpcId": vpc.vpc_id,
            "CidrBlock": vpc.spec.cidr,
            "State": "available",
            "OwnerId": self.account_id,
            "InstanceTenancy": "default",
            "IsDefault": False,
            "DhcpOptionsId": "dopt-" + vpc.vpc_id[4:],
            "CidrBlockAssociationSet": [
                {
                    "AssociationId": "vpc-cidr-assoc-"
                    + (vpc.vpc_id[4:] if i == 0 else stable_hex(vpc.vpc_id, c)),
                    "CidrBlock": c,
                    "CidrBlockState": {"State": "associated"},
                }
                for i, c in enumerate((vpc.spec.cidr, *vpc.spec.secondary_cidrs))
            ],
            "Tags": self._name_tag(vpc.spec.name),
        }

    def describe_subnet(self, subnet: Subnet) -> dict[str, Any]:
        free = subnet.network.num_addresses - 5 - len(subnet.used)  # AWS reserves five per subnet
        return {
            "SubnetId": subnet.subnet_id,
            "VpcId": subnet.vpc_id,
            "CidrBlock": str(subnet.network),
            "AvailabilityZone": subnet.availability_zone,
            "AvailableIpAddressCount": max(0, free),
            "State": "available",
            "OwnerId": self.account_id,
            "DefaultForAz": False,
            "MapPublicIpOnLaunch": False,
            "SubnetArn": f"{self._arn_prefix}subnet/{subnet.subnet_id}",
            "Tags": self._name_tag(subnet.name),
        }

    def describe_group(self, group: SecurityGroup) -> dict[str, Any]:
        permissions: list[dict[str, Any]] = []
        if group.self_reference:
            pair = {"GroupId": group.group_id, "UserId": self.account_id}
            permissions.append(
                {
                    "IpProtocol": "-1",
                    "IpRanges": [],
                    "Ipv6Ranges": [],
                    "PrefixListIds": [],
                    "UserIdGroupPairs": [pair],
                }
            )
        for rule in group.ingress:
            listed = self.list_ids.get(rule.prefix_list, rule.prefix_list)
            permission: dict[str, Any] = {
                "IpProtocol": rule.protocol,
                "IpRanges": [] if listed else [{"CidrIp": rule.cidr}],
                "Ipv6Ranges": [],
                "PrefixListIds": [{"PrefixListId": listed}] if listed else [],
                "UserIdGroupPairs": [],
            }
            if rule.protocol != "-1":
                permission["FromPort"], permission["ToPort"] = rule.from_port, rule.to_port
            permissions.append(permission)
        return {
            "GroupId": group.group_id,
            "GroupName": group.name,
            "Description": group.description,
            "VpcId": group.vpc_id,
            "OwnerId": self.account_id,
            "SecurityGroupArn": f"{self._arn_prefix}security-group/{group.group_id}",
            "IpPermissions": permissions,
            "IpPermissionsEgress": [
                {
                    "IpProtocol": "-1",
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                    "Ipv6Ranges": [],
                    "PrefixListIds": [],
                    "UserIdGroupPairs": [],
                }
            ],
            "Tags": [] if group.self_reference else self._name_tag(group.name),
        }

    def describe_route_table(self, vpc: Vpc) -> dict[str, Any]:
        routes: list[dict[str, Any]] = [
            {
                "DestinationCidrBlock": cidr,  # one local route per CIDR block of the VPC
                "GatewayId": "local",
                "Origin": "CreateRouteTable",
                "State": "active",
            }
            for cidr in (vpc.spec.cidr, *vpc.spec.secondary_cidrs)
        ]
        member = {
            "internet-gateway": "GatewayId",
            "vpn-gateway": "GatewayId",
            "transit-gateway": "TransitGatewayId",
            "peering": "VpcPeeringConnectionId",
            "nat-gateway": "NatGatewayId",
        }
        for destination, kind, target in vpc.route_targets:
            where = "DestinationPrefixListId" if destination.startswith("pl-") else "DestinationCidrBlock"
            routes.append(
                {
                    where: destination,
                    member[kind]: target,
                    "Origin": "CreateRoute",
                    "State": "active",
                }
            )
        associations: list[dict[str, Any]] = [
            {
                "Main": True,
                "RouteTableAssociationId": "rtbassoc-" + stable_hex(vpc.route_table_id, "main"),
                "RouteTableId": vpc.route_table_id,
                "AssociationState": {"State": "associated"},
            }
        ]
        associations.extend(
            {
                "Main": False,
                "RouteTableAssociationId": "rtbassoc-" + stable_hex(vpc.route_table_id, s.subnet_id),
                "RouteTableId": vpc.route_table_id,
                "SubnetId": s.subnet_id,
                "AssociationState": {"State": "associated"},
            }
            for s in vpc.subnets
        )
        return {
            "RouteTableId": vpc.route_table_id,
            "VpcId": vpc.vpc_id,
            "OwnerId": self.account_id,
            "Routes": routes,
            "Associations": associations,
            "PropagatingVgws": [],
            "Tags": self._name_tag(f"{vpc.spec.name}-routes"),
        }

    def describe_acl(self, vpc: Vpc) -> dict[str, Any]:
        entries: list[dict[str, Any]] = [
            {
                "RuleNumber": 100 + 10 * i,
                "Protocol": "-1",
                "RuleAction": "allow",
                "Egress": False,
                "CidrBlock": c,
            }
            for i, c in enumerate(vpc.spec.nacl_ingress)
        ]
        entries.append(
            {
                "RuleNumber": 100,
                "Protocol": "-1",
                "RuleAction": "allow",
                "Egress": True,
                "CidrBlock": "0.0.0.0/0",
            }
        )
        for egress in (False, True):
            entries.append(
                {
                    "RuleNumber": 32767,
                    "Protocol": "-1",
                    "RuleAction": "deny",
                    "Egress": egress,
                    "CidrBlock": "0.0.0.0/0",
                }
            )
        return {
            "NetworkAclId": vpc.acl_id,
            "VpcId": vpc.vpc_id,
            "IsDefault": True,
            "OwnerId": self.account_id,
            "Entries": entries,
            "Associations": [
                {
                    "NetworkAclAssociationId": "aclassoc-" + stable_hex(vpc.acl_id, s.subnet_id),
                    "NetworkAclId": vpc.acl_id,
                    "SubnetId": s.subnet_id,
                }
                for s in vpc.subnets
            ],
            "Tags": self._name_tag(f"{vpc.spec.name}-acl"),
        }

    def describe_prefix_list(self, found: PrefixList) -> dict[str, Any]:
        return {
            "PrefixListId": found.prefix_list_id,
            "AddressFamily": "IPv4",
            "State": "create-complete",
            "PrefixListArn": f"{self._arn_prefix}prefix-list/{found.prefix_list_id}",
            "PrefixListName": found.name,
            "MaxEntries": max(10, len(found.cidrs)),
            "Version": 1,
            "OwnerId": self.account_id,
            "Tags": self._name_tag(found.name),
        }

    def describe_endpoint(self, vpc: Vpc, endpoint_id: str, service: str) -> dict[str, Any]:
        """A VPC endpoint as EC2 answers it: an interface endpoint in every subnet of its VPC (with the
        VPC's default group and private DNS), or a gateway endpoint on its route table (s3, dynamodb).
        ``State`` is ``available`` in lowercase, as EC2 sends it (the model's enum says ``Available``)."""
        gateway = service in GATEWAY_ENDPOINTS
        item: dict[str, Any] = {
            "VpcEndpointId": endpoint_id,
            "VpcEndpointType": "Gateway" if gateway else "Interface",
            "VpcId": vpc.vpc_id,
            "ServiceName": f"com.amazonaws.{self.region}.{service}",
            "State": "available",
            "RouteTableIds": [vpc.route_table_id] if gateway else [],
            "SubnetIds": [] if gateway else [s.subnet_id for s in vpc.subnets],
            "Groups": []
            if gateway
            else [{"GroupId": vpc.groups[0].group_id, "GroupName": vpc.groups[0].name}],
            "PrivateDnsEnabled": not gateway,
            "RequesterManaged": False,
            "NetworkInterfaceIds": [],
            "DnsEntries": [],
            "OwnerId": self.account_id,
            "Tags": self._name_tag(f"{vpc.spec.name}-{service}"),
        }
        return item
