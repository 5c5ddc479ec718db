"""What the application knows of EC2: launch templates and their versions, networks, instances.

Frozen values that ``aws.ec2.Ec2Gateway`` reads from EC2 and the launch-settings, drift and drill-profile
code reasons about (which subnet a server launches into, whether a drill subnet can reach production).
Stdlib only. Routes name their target's kind, so an isolation check never guesses from an ID's prefix;
a target the app does not know is ``RouteTargetKind.OTHER``, which a check must treat as a way out.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: Marks a launch template version DRS Desktop created for a drill: its description starts with it, so
#: any desktop can find and undo drill versions from EC2 alone.
DRILL_VERSION_MARK = "drs-desktop:drill"

Tags = tuple[tuple[str, str], ...]

_DRILL_DESCRIPTION = re.compile(
    re.escape(DRILL_VERSION_MARK) + r" execution (?P<execution>\S+) production version (?P<version>[0-9]+)$"
)


def drill_description(execution_id: str, production_version: int) -> str:
    """The description of a drill version: names the run and the production version to go back to, so
    that any desktop can restore it from EC2 alone (``launch-settings restore``)."""
    return f"{DRILL_VERSION_MARK} execution {execution_id} production version {production_version}"


def parse_drill_description(description: str | None) -> tuple[str, int] | None:
    """(execution ID, production version) of a drill version's description; None for any other text."""
    found = _DRILL_DESCRIPTION.match((description or "").strip())
    if found is None:
        return None
    return found.group("execution"), int(found.group("version"))


@dataclass(frozen=True)
class LaunchTemplateData:
    """The members of a template version the app manages; None is "not set in this version"."""

    subnet_id: str | None = None
    security_group_ids: tuple[str, ...] = ()
    instance_type: str | None = None
    private_ip: str | None = None
    associate_public_ip: bool | None = None
    instance_tags: Tags = ()
    #: Network interfaces beside device 0, as read (an apply, which writes device 0 only, refuses them:
    #: EC2 replaces NetworkInterfaces whole, so a new version would drop them)
    other_interfaces: int = 0


@dataclass(frozen=True)
class LaunchTemplateView:
    template_id: str
    name: str
    default_version: int
    latest_version: int
    created_at: datetime | None
    tags: Tags = ()


@dataclass(frozen=True)
class LaunchTemplateVersionView:
    template_id: str
    template_name: str
    version: int
    is_default: bool
    description: str | None
    created_at: datetime | None
    created_by: str
    data: LaunchTemplateData

    @property
    def is_drill_version(self) -> bool:
        return (self.description or "").startswith(DRILL_VERSION_MARK)

    @property
    def drill_origin(self) -> tuple[str, int] | None:
        """(execution ID, production version) its drill description names; None if it names none."""
        return parse_drill_description(self.description)


@dataclass(frozen=True)
class VpcView:
    vpc_id: str
    cidr_blocks: tuple[str, ...]
    name: str = ""


@dataclass(frozen=True)
class SubnetView:
    subnet_id: str
    vpc_id: str
    cidr: str
    availability_zone: str
    available_ips: int
    name: str = ""

    def contains(self, ip: str) -> bool:
        """Whether ``ip`` (IPv4) lies in this subnet's CIDR; False for an unreadable address."""
        try:
            return ipaddress.IPv4Address(ip) in ipaddress.IPv4Network(self.cidr)
        except ValueError:
            return False


class RouteTargetKind(StrEnum):
    LOCAL = "local"
    INTERNET_GATEWAY = "internet-gateway"
    TRANSIT_GATEWAY = "transit-gateway"
    PEERING = "peering"
    VPN_GATEWAY = "vpn-gateway"
    NAT_GATEWAY = "nat-gateway"
    OTHER = "other"


@dataclass(frozen=True)
class RouteView:
    destination: str  # a CIDR (IPv4 or IPv6) or a prefix list ID
    target_kind: RouteTargetKind
    target_id: str
    active: bool = True


@dataclass(frozen=True)
class RouteTableView:
    route_table_id: str
    vpc_id: str
    routes: tuple[RouteView, ...]
    subnet_ids: tuple[str, ...]  # explicitly associated subnets
    main: bool  # the VPC's main table: it serves every subnet without an explicit association


@dataclass(frozen=True)
class VpcEndpointView:
    """A VPC endpoint (DescribeVpcEndpoints): how instances in a VPC without a route out reach an AWS
    service (SSM needs ``ssm``, ``ssmmessages`` and ``ec2messages``). ``state`` as EC2 sends it (lowercase
    on the wire, although the model's enum is capitalised)."""

    endpoint_id: str
    vpc_id: str
    service_name: str  # com.amazonaws.<region>.<service>
    endpoint_type: str  # Interface | Gateway | ...
    state: str
    subnet_ids: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return self.state.lower() == "available"


@dataclass(frozen=True)
class NaclEntryView:
    rule_number: int
    egress: bool
    allow: bool
    cidr: str
    protocol: str  # "-1" for all
    port_from: int | None = None
    port_to: int | None = None


@dataclass(frozen=True)
class NetworkAclView:
    network_acl_id: str
    vpc_id: str
    is_default: bool
    entries: tuple[NaclEntryView, ...]
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True)
class PrefixListView:
    """A managed prefix list and the CIDRs it holds now (``GetManagedPrefixListEntries``): a route whose
    destination is the list, or a security group rule whose source is, reaches (or lets in) every one of
    them. ``name`` is for messages only (an AWS-managed list's is ``com.amazonaws.<region>.<service>``)."""

    prefix_list_id: str
    name: str
    cidrs: tuple[str, ...]


@dataclass(frozen=True)
class IngressRuleView:
    protocol: str  # "-1" for all
    port_from: int | None
    port_to: int | None
    cidrs: tuple[str, ...]
    source_group_ids: tuple[str, ...] = ()
    prefix_list_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityGroupView:
    group_id: str
    name: str
    vpc_id: str
    ingress: tuple[IngressRuleView, ...]


@dataclass(frozen=True)
class InstanceView:
    instance_id: str
    state: str  # pending, running, shutting-down, terminated, stopping, stopped
    instance_type: str
    subnet_id: str | None
    vpc_id: str | None
    private_ip: str | None
    security_group_ids: tuple[str, ...]
    tags: Tags
    launched_at: datetime | None
    public_ip: str | None = None  # its public IPv4 address, if it has one (a health check may probe it)

    def tag(self, key: str) -> str | None:
        return next((v for k, v in self.tags if k == key), None)

    @property
    def launch_template(self) -> tuple[str, int] | None:
        """The template and version EC2 launched it from (its ``aws:ec2launchtemplate:*`` tags)."""
        tid, version = self.tag("aws:ec2launchtemplate:id"), self.tag("aws:ec2launchtemplate:version")
        if tid is None or version is None or not version.isdigit():
            return None
        return tid, int(version)
