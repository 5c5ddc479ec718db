"""Launch templates and the EC2 instances DRS launches from them.

Every source server's launch configuration names an ``ec2LaunchTemplateID``; here that template exists,
version 1 its default, as DRS creates it: the server's instance type, one network interface in the
launch VPC's subnet that contains the server's IP, that VPC's ``<vpc>-servers`` security group, a
``Name`` tag. New versions come from CreateLaunchTemplateVersion (optionally on a ``SourceVersion``, whose
data the new members replace member by member, as EC2 does); ModifyLaunchTemplate moves the default.

A launch resolves the template's **default version at the moment of the launch** (``place``): subnet,
security groups, instance type, tags, and a private IP inside the subnet (the template's, else the
source server's when its launch configuration copies the private IP, else a free address). What EC2
would refuse (a subnet or group that does not exist, a group of another VPC, an address outside the
subnet or in use) is a ``LaunchRefused`` whose text the job log's LAUNCH_FAILED carries. The instance is
then an EC2 instance (``land``) that DescribeInstances lists, terminated ones included.
"""

from __future__ import annotations

import copy
import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Any

from drs_desktop.simulator.ec2_network import Network, Subnet
from drs_desktop.simulator.entities import Instance, Server
from drs_desktop.simulator.ids import stable_hex

logger = logging.getLogger(__name__)

#: Who DRS's own template versions are created by.
DRS_ROLE = "AWSServiceRoleForElasticDisasterRecovery"
_STATE_CODES = {
    "pending": 0,
    "running": 16,
    "shutting-down": 32,
    "terminated": 48,
    "stopping": 64,
    "stopped": 80,
}


class LaunchRefused(Exception):
    """EC2 would refuse to launch from the template: ``str()`` is its error, code first."""


@dataclass
class TemplateVersion:
    number: int
    created_ts: float
    created_by: str
    data: dict[str, Any]  # ResponseLaunchTemplateData, by model member names
    description: str | None = None


@dataclass
class LaunchTemplate:
    template_id: str
    name: str
    created_ts: float
    created_by: str
    versions: dict[int, TemplateVersion]
    default_version: int = 1
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def latest_version(self) -> int:
        return max(self.versions)

    def version(self, ref: str | int) -> TemplateVersion | None:
        """A version by number, ``$Latest`` or ``$Default``."""
        if ref == "$Latest":
            return self.versions[self.latest_version]
        if ref == "$Default":
            return self.versions[self.default_version]
        try:
            return self.versions.get(int(ref))
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Placement:
    """Where one launch lands: the template version it used, and what that version said."""

    template_id: str
    version: int
    subnet: Subnet
    group_ids: tuple[str, ...]
    instance_type: str
    private_ip: str
    tags: tuple[tuple[str, str], ...]


@dataclass
class Ec2Instance:
    instance: Instance  # DRS's recovery instance: its state is this instance's state
    placement: Placement
    launch_ts: float


class Templates:
    """The launch templates and EC2 instances of one world."""

    def __init__(self, network: Network, servers: list[Server], *, now: float, seed: int) -> None:
        self.network = network
        self.seed = seed
        account = network.account_id
        self.drs_arn = f"arn:aws:sts::{account}:assumed-role/{DRS_ROLE}/drs"
        self.templates: dict[str, LaunchTemplate] = {}
        self.instances: dict[str, Ec2Instance] = {}
        self._pending: dict[str, Placement] = {}
        for server in servers:
            self.add_template_for(server, now)

    def add_template_for(self, server: Server, now: float) -> None:
        template_id = server.launch_config.launch_template_id
        subnet = self.network.subnet_for_ip(server.ip)
        group = self.network.servers_group(self.network.launch_vpc)
        data = {
            "InstanceType": server.instance_type,
            "NetworkInterfaces": [
                {
                    "DeviceIndex": 0,
                    "SubnetId": subnet.subnet_id,
                    "Groups": [group.group_id],
                    "AssociatePublicIpAddress": False,
                    "DeleteOnTermination": True,
                }
            ],
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": server.hostname}]}
            ],
            "DisableApiTermination": False,
        }
        version = TemplateVersion(1, now, self.drs_arn, data)
        self.templates[template_id] = LaunchTemplate(
            template_id=template_id,
            name=f"drs-{server.server_id}",
            created_ts=now,
            created_by=self.drs_arn,
            versions={1: version},
            tags={"AWSElasticDisasterRecoveryManaged": "drs.amazonaws.com"},
        )

    # -- versions --------------------------------------------------------------------------------------

    def add_version(
        self,
        template: LaunchTemplate,
        data: dict[str, Any],
        *,
        source: TemplateVersion | None,
        description: str | None,
        now: float,
        created_by: str,
    ) -> TemplateVersion:
        merged = copy.deepcopy(source.data) if source is not None else {}
        merged.update(copy.deepcopy(data))
        version = TemplateVersion(template.latest_version + 1, now, created_by, merged, description)
        template.versions[version.number] = version
        return version

    @staticmethod
    def delete_versions(
        template: LaunchTemplate, refs: list[str]
    ) -> tuple[list[int], list[tuple[str, str, str]]]:
        """DeleteLaunchTemplateVersions: the version numbers deleted, and (ref, code, message) of each
        EC2 refuses (one that does not exist, the default version: EC2 deletes a default only with its
        template), as EC2 answers per version rather than failing the call."""
        deleted: list[int] = []
        refused: list[tuple[str, str, str]] = []
        for ref in refs:
            version = template.version(ref) if ref not in ("$Latest", "$Default") else None
            if version is None:
                refused.append(
                    (ref, "launchTemplateVersionDoesNotExist", f"The version {ref} does not exist")
                )
            elif version.number == template.default_version:
                refused.append(
                    (ref, "unexpectedError", "Cannot delete the default version of a launch template")
                )
            else:
                del template.versions[version.number]
                deleted.append(version.number)
        return deleted, refused

    # -- launches --------------------------------------------------------------------------------------

    def template_of(self, server: Server, now: float) -> LaunchTemplate:
        """The server's template; DRS creates one for every source server, so one added after the world
        started (an extended server) gets its version 1 now."""
        template = self.templates.get(server.launch_config.launch_template_id)
        if template is None:
            self.add_template_for(server, now)
            template = self.templates[server.launch_config.launch_template_id]
        return template

    def place(self, server: Server, instance_id: str, *, copy_private_ip: bool, now: float) -> Placement:
        """Resolve ``server``'s template's default version now, for ``instance_id``; LaunchRefused if EC2
        would refuse it. The placement is kept until ``land``."""
        template = self.template_of(server, now)
        version = template.versions[template.default_version]
        data = version.data
        nic: dict[str, Any] = next(iter(data.get("NetworkInterfaces") or []), {})
        subnet_id = nic.get("SubnetId")
        if not subnet_id:
            raise LaunchRefused(
                f"MissingInput: Launch template {template.template_id} version {version.number} "
                "names no subnet"
            )
        subnet = self.network.subnets.get(subnet_id)
        if subnet is None:
            raise LaunchRefused(f"InvalidSubnetID.NotFound: The subnet ID '{subnet_id}' does not exist")
        group_ids = tuple(nic.get("Groups") or data.get("SecurityGroupIds") or ())
        if not group_ids:
            group_ids = (self.network.vpc_by_id[subnet.vpc_id].groups[0].group_id,)
        for gid in group_ids:
            group = self.network.groups.get(gid)
            if group is None:
                raise LaunchRefused(f"InvalidGroup.NotFound: The security group '{gid}' does not exist")
            if group.vpc_id != subnet.vpc_id:
                raise LaunchRefused(
                    f"InvalidParameter: Security group {gid} and subnet {subnet_id} belong to "
                    "different networks."
                )
        ip = nic.get("PrivateIpAddress") or (server.ip if copy_private_ip else None)
        if ip is not None:
            self._check_address(subnet, ip)
        else:
            ip = self._free_address(subnet, instance_id)
        tags = tuple(
            (t["Key"], t.get("Value", ""))
            for spec in data.get("TagSpecifications") or []
            if spec.get("ResourceType") == "instance"
            for t in spec.get("Tags") or []
        )
        placement = Placement(
            template.template_id,
            version.number,
            subnet,
            group_ids,
            str(data.get("InstanceType") or server.instance_type),
            ip,
            tags,
        )
        subnet.used[ip] = instance_id  # reserved from the launch on, as EC2's network interface is
        self._pending[instance_id] = placement
        return placement

    def release(self, instance_id: str) -> None:
        """A launch that failed after ``place``: its address is free again."""
        placement = self._pending.pop(instance_id, None)
        if placement is not None and placement.subnet.used.get(placement.private_ip) == instance_id:
            del placement.subnet.used[placement.private_ip]

    def _in_use(self, subnet: Subnet, ip: str) -> bool:
        holder = subnet.used.get(ip)
        if holder is None:
            return False
        record = self.instances.get(holder)
        if record is not None and record.instance.state == "TERMINATED":
            del subnet.used[ip]
            return False
        return True

    def _check_address(self, subnet: Subnet, ip: str) -> None:
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError:
            raise LaunchRefused(f"InvalidParameterValue: Invalid private IP address {ip!r}") from None
        if address not in subnet.network:
            raise LaunchRefused(
                f"InvalidParameterValue: Address {ip} does not fall within the subnet's address range "
                f"({subnet.subnet_id}, {subnet.network})"
            )
        if self._in_use(subnet, ip):
            raise LaunchRefused(f"InvalidIPAddress.InUse: Address {ip} is in use in {subnet.subnet_id}")

    def _free_address(self, subnet: Subnet, instance_id: str) -> str:
        hosts = subnet.network.num_addresses - 5
        if hosts <= 0:
            raise LaunchRefused(f"InsufficientFreeAddressesInSubnet: {subnet.subnet_id} has no addresses")
        start = int(stable_hex(self.seed, instance_id, length=8), 16) % hosts
        base = int(subnet.network.network_address) + 4  # .0-.3 are AWS's, and the broadcast address
        for step in range(hosts):
            ip = str(ipaddress.IPv4Address(base + (start + step) % hosts))
            if not self._in_use(subnet, ip):
                return ip
        raise LaunchRefused(f"InsufficientFreeAddressesInSubnet: {subnet.subnet_id} has no free address")

    def land(self, instance: Instance, server: Server, *, copy_private_ip: bool, now: float) -> Placement:
        """The launched ``instance`` becomes an EC2 instance where its placement says."""
        placement = self._pending.pop(instance.instance_id, None)
        if placement is None:  # launched by a test's hands (by_hand), without a LAUNCH_START of its own
            try:
                placement = self.place(server, instance.instance_id, copy_private_ip=copy_private_ip, now=now)
            except LaunchRefused as exc:
                logger.warning(
                    "Instance %s launched by hand although EC2 would refuse it: %s", instance.instance_id, exc
                )
                placement = self.place_anyway(server, instance.instance_id)
            self._pending.pop(instance.instance_id, None)
        instance.instance_type = placement.instance_type
        instance.availability_zone = placement.subnet.availability_zone
        self.instances[instance.instance_id] = Ec2Instance(instance, placement, now)
        return placement

    def place_anyway(self, server: Server, instance_id: str) -> Placement:
        subnet = self.network.subnet_for_ip(server.ip)
        group = self.network.servers_group(self.network.launch_vpc)
        ip = self._free_address(subnet, instance_id)
        subnet.used[ip] = instance_id
        template_id = server.launch_config.launch_template_id
        return Placement(template_id, 0, subnet, (group.group_id,), server.instance_type, ip, ())

    def describe_instance(self, record: Ec2Instance, server: Server | None) -> dict[str, Any]:
        instance, placement = record.instance, record.placement
        state = instance.state.lower()
        tags = dict(placement.tags)
        tags["AWSElasticDisasterRecoveryManaged"] = "drs.amazonaws.com"
        tags["AWSElasticDisasterRecoverySourceServerID"] = instance.server_id
        tags["aws:ec2launchtemplate:id"] = placement.template_id
        tags["aws:ec2launchtemplate:version"] = str(placement.version)
        if server is not None and server.launch_config.copy_tags:
            tags = {**server.tags, **tags}
        groups = [
            {"GroupId": gid, "GroupName": self.network.groups[gid].name}
            for gid in placement.group_ids
            if gid in self.network.groups
        ]
        ip_name = "ip-" + placement.private_ip.replace(".", "-")
        return {
            "InstanceId": instance.instance_id,
            "ImageId": "ami-" + stable_hex(self.seed, instance.instance_id, "ami"),
            "State": {"Code": _STATE_CODES.get(state, 0), "Name": state},
            "InstanceType": placement.instance_type,
            "LaunchTime": record.launch_ts,
            "Placement": {"AvailabilityZone": placement.subnet.availability_zone, "Tenancy": "default"},
            "PrivateIpAddress": placement.private_ip,
            "PrivateDnsName": f"{ip_name}.ec2.internal",
            "SubnetId": placement.subnet.subnet_id,
            "VpcId": placement.subnet.vpc_id,
            "SecurityGroups": groups,
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
            "Architecture": "x86_64",
            "RootDeviceType": "ebs",
            "VirtualizationType": "hvm",
            "AmiLaunchIndex": 0,
            "Monitoring": {"State": "disabled"},
        }
