"""The filters of the simulator's EC2 listings: which filter names each listing understands, and the values
of an answer item each one matches (``ec2.Ec2Service`` applies them with EC2's ``*``/``?`` wildcards;
``tag:<key>`` and ``tag-key`` work everywhere). A filter name not listed here is refused, as EC2 refuses
it, so a filter the app starts to send shows up in a test rather than matching everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

Values = Callable[[Mapping[str, Any]], Iterable[Any]]


def tags_of(item: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in item.get("Tags") or []}


def tag_values(key: str) -> Values:
    return lambda item: [tags_of(item).get(key)]


def _field(name: str) -> Values:
    return lambda item: [item.get(name)]


#: Filter names each listing understands, and the values of an item each one matches.
FILTERS: dict[str, dict[str, Values]] = {
    "DescribeVpcs": {"vpc-id": _field("VpcId"), "cidr": _field("CidrBlock"), "state": _field("State")},
    "DescribeSubnets": {
        "subnet-id": _field("SubnetId"),
        "vpc-id": _field("VpcId"),
        "cidr-block": _field("CidrBlock"),
        "availability-zone": _field("AvailabilityZone"),
        "state": _field("State"),
    },
    "DescribeSecurityGroups": {
        "group-id": _field("GroupId"),
        "group-name": _field("GroupName"),
        "vpc-id": _field("VpcId"),
    },
    "DescribeRouteTables": {
        "route-table-id": _field("RouteTableId"),
        "vpc-id": _field("VpcId"),
        "association.subnet-id": lambda i: [a.get("SubnetId") for a in i["Associations"]],
        "association.main": lambda i: [str(a["Main"]).lower() for a in i["Associations"]],
    },
    "DescribeNetworkAcls": {
        "network-acl-id": _field("NetworkAclId"),
        "vpc-id": _field("VpcId"),
        "association.subnet-id": lambda i: [a.get("SubnetId") for a in i["Associations"]],
        "default": lambda i: [str(i["IsDefault"]).lower()],
    },
    "DescribeInstances": {
        "instance-id": _field("InstanceId"),
        "subnet-id": _field("SubnetId"),
        "vpc-id": _field("VpcId"),
        "private-ip-address": _field("PrivateIpAddress"),
        "instance-type": _field("InstanceType"),
        "instance-state-name": lambda i: [i["State"]["Name"]],
    },
    "DescribeVpcEndpoints": {
        "vpc-endpoint-id": _field("VpcEndpointId"),
        "vpc-id": _field("VpcId"),
        "service-name": _field("ServiceName"),
        "vpc-endpoint-state": _field("State"),
        "vpc-endpoint-type": _field("VpcEndpointType"),
    },
    "DescribeLaunchTemplates": {"launch-template-name": _field("LaunchTemplateName")},
    "DescribeManagedPrefixLists": {
        "prefix-list-id": _field("PrefixListId"),
        "prefix-list-name": _field("PrefixListName"),
        "owner-id": _field("OwnerId"),
    },
    "DescribeLaunchTemplateVersions": {
        "is-default-version": lambda i: [str(i["DefaultVersion"]).lower()],
        "instance-type": lambda i: [i["LaunchTemplateData"].get("InstanceType")],
    },
}
