"""AWS-hosted source servers: DRS replicating an EC2 instance, and that instance in the world's EC2.

DRS gives such a server's instance in ``sourceProperties.identificationHints.awsInstanceID`` and where it
runs in ``sourceCloudProperties`` (origin account, Region, AZ); tools such as drs-tools copy the
instance's EC2 tags and type onto the DRS source server so tag-based groups work. Which servers are
AWS-hosted comes from the scenario (``fleet.aws_hosted``: a fraction drawn per server from the seed, the
hostnames listed, and ``aws_hosted: true`` on a ``fleet.servers`` entry); each one's instance (ID, type,
tags) is drawn from its own stream, so marking a server changes nothing else the seed gives.

The instance stands for the one DRS replicates. By default it runs in the DRS world's own account and
Region; ``fleet.aws_hosted.origins`` puts a server's instance in another Region (cross-Region DR, the
usual case) or account. The world keeps every server's instance (``World.replicated``, what DRS's
``sourceCloudProperties`` say) and lists in its EC2 only those of its own account and Region
(``World.sources``); ``place_sources`` moves the others into their origin's EC2 world (the estate's, see
``estate.Estate.ec2_backend``), re-placed in that world's subnet holding the IP, so DescribeInstances finds
it there and not in DRS's Region. An instance of an account the simulator does not serve is listed by no
world, as AWS would answer these credentials. It does not hold its address (a recovery may copy it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from drs_desktop.simulator.ec2_network import Network, Subnet
from drs_desktop.simulator.entities import Server
from drs_desktop.simulator.ids import stable_fraction, stable_hex, stream
from drs_desktop.simulator.scenario import Scenario, ScenarioError

#: The instance types an AWS-hosted server's instance is drawn from (not the DRS-recommended type).
SOURCE_TYPES = ("t3.large", "m6i.large", "m6i.xlarge", "c6i.xlarge", "r6i.large")
OWNERS = ("platform-team", "app-team", "data-team")


@dataclass(frozen=True)
class SourceInstance:
    """The running EC2 instance an AWS-hosted source server replicates."""

    instance_id: str
    server_id: str
    instance_type: str
    tags: tuple[tuple[str, str], ...]
    subnet: Subnet
    private_ip: str
    launch_ts: float
    account_id: str  # its origin: where it runs, and which world's EC2 lists it
    region: str

    @property
    def availability_zone(self) -> str:
        """The origin Region's zone of the subnet's letter (a subnet of the DRS world's network stands in
        until the instance is placed in its origin's world)."""
        return self.region + self.subnet.availability_zone[-1:]


def mark_aws_hosted(scenario: Scenario, servers: list[Server], seed: int) -> None:
    """Give the scenario's AWS-hosted servers their ``aws_instance_id``; an unknown hostname is an error."""
    spec = scenario.fleet.aws_hosted
    by_name = {s.hostname: s for s in servers}
    unknown = [h for h in spec.hostnames if h not in by_name]
    if unknown:
        raise ScenarioError(
            scenario.source, "fleet.aws_hosted.hostnames", f"no server is named {unknown[0]!r}"
        )
    unknown = [h for h in spec.origins if h not in by_name]
    if unknown:
        raise ScenarioError(scenario.source, "fleet.aws_hosted.origins", f"no server is named {unknown[0]!r}")
    named = set(spec.hostnames) | set(spec.origins)
    named |= {s.hostname for s in scenario.fleet.servers if s.aws_hosted}
    for server in servers:
        drawn = spec.fraction > 0 and stable_fraction(seed, server.server_id, "aws-hosted") < spec.fraction
        if server.hostname in named or drawn:
            server.aws_instance_id = "i-" + stable_hex(seed, server.server_id, "source-instance")


def build_sources(
    scenario: Scenario, servers: list[Server], network: Network, *, seed: int, now: float
) -> dict[str, SourceInstance]:
    """The EC2 instance of every AWS-hosted server, by instance ID, each with its origin (the world's
    account and Region unless ``aws_hosted.origins`` names others)."""
    extra = dict(scenario.fleet.aws_hosted.tags)
    origins = scenario.fleet.aws_hosted.origins
    out: dict[str, SourceInstance] = {}
    for server in servers:
        if server.aws_instance_id is None:
            continue
        origin = origins.get(server.hostname)
        rng = stream(seed, f"aws-hosted:{server.server_id}")
        tags = {
            "Name": server.hostname,
            "CostCenter": f"cc-{rng.randrange(1000, 10000)}",
            "Owner": rng.choice(OWNERS),
            "aws:cloudformation:stack-name": f"{server.application or server.hostname}-stack",
            **extra,
        }
        out[server.aws_instance_id] = SourceInstance(
            instance_id=server.aws_instance_id,
            server_id=server.server_id,
            instance_type=rng.choice(SOURCE_TYPES),
            tags=tuple(tags.items()),
            subnet=network.subnet_for_ip(server.ip),
            private_ip=server.ip,
            launch_ts=server.added_ts - rng.uniform(1, 90) * 86400,
            account_id=(origin.account_id if origin else None) or scenario.account_id,
            region=(origin.region if origin else None) or scenario.region,
        )
    return out


def own_sources(
    replicated: dict[str, SourceInstance], account_id: str, region: str
) -> dict[str, SourceInstance]:
    """The instances of ``replicated`` that run in this (account, Region): what its EC2 lists."""
    return {iid: r for iid, r in replicated.items() if (r.account_id, r.region) == (account_id, region)}


def place_sources(
    replicated: dict[str, SourceInstance],
    home: tuple[str, str],
    origin_world: Callable[[str, str], tuple[Network, dict[str, SourceInstance]] | None],
) -> int:
    """Put each instance of ``replicated`` whose origin is not ``home`` (account, Region) in its origin's
    EC2 world: ``origin_world(account, region)`` gives that world's network and listed instances, or None
    for an account the simulator does not serve (then no world lists it). ``replicated`` is updated
    with the placed records (their subnet is the origin's). Returns how many were placed."""
    placed = 0
    for iid, record in list(replicated.items()):
        if (record.account_id, record.region) == home:
            continue
        world = origin_world(record.account_id, record.region)
        if world is None:
            continue
        network, listed = world
        moved = replace(record, subnet=network.subnet_for_ip(record.private_ip))
        listed[iid] = moved
        replicated[iid] = moved
        placed += 1
    return placed


def cloud_properties(
    server: Server, sources: dict[str, SourceInstance], account_id: str, region: str
) -> dict[str, str]:
    """DRS's ``sourceCloudProperties`` of an AWS-hosted server (its instance's account, Region, AZ)."""
    record = sources.get(server.aws_instance_id or "")
    if record is None:
        return {"originAccountID": account_id, "originRegion": region}
    return {
        "originAccountID": record.account_id,
        "originRegion": record.region,
        "originAvailabilityZone": record.availability_zone,
    }


def describe_source(record: SourceInstance, network: Network, seed: int) -> dict[str, Any]:
    """The instance as DescribeInstances lists it in its origin's world (always running: DRS replicates
    it); ``network`` is that world's."""
    group = network.servers_group(network.launch_vpc)
    return {
        "InstanceId": record.instance_id,
        "ImageId": "ami-" + stable_hex(seed, record.instance_id, "ami"),
        "State": {"Code": 16, "Name": "running"},
        "InstanceType": record.instance_type,
        "LaunchTime": record.launch_ts,
        "Placement": {"AvailabilityZone": record.availability_zone, "Tenancy": "default"},
        "PrivateIpAddress": record.private_ip,
        "PrivateDnsName": "ip-" + record.private_ip.replace(".", "-") + ".ec2.internal",
        "SubnetId": record.subnet.subnet_id,
        "VpcId": record.subnet.vpc_id,
        "SecurityGroups": [{"GroupId": group.group_id, "GroupName": group.name}],
        "Tags": [{"Key": k, "Value": v} for k, v in record.tags],
        "Architecture": "x86_64",
        "RootDeviceType": "ebs",
        "VirtualizationType": "hvm",
        "AmiLaunchIndex": 0,
        "Monitoring": {"State": "disabled"},
    }
