"""The simulator's managed prefix lists and secondary VPC CIDR blocks through the real boto3 EC2 client:
DescribeManagedPrefixLists and GetManagedPrefixListEntries answer from botocore's EC2 model (query
protocol, XML), routes and security group rules name the lists, a VPC's secondary blocks are listed and
locally routed, and a scenario naming a list that does not exist is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drs_desktop.simulator.conformance import validate_ec2_output
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import ScenarioError
from drs_desktop.simulator.scenario_schema import load_scenario
from tests.launch_sim.isolated_world import EC2, FOREIGN, scenario

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(scenario(), seed=7) as running:
        yield running


@pytest.fixture
def ec2(sim: EmbeddedSimulator) -> Any:
    return boto3.client("ec2", config=NO_RETRY, **sim.client_kwargs())


def _code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return str(info.value.response["Error"]["Code"])


def test_prefix_lists_are_listed_and_read_conforming_to_botocores_output_shapes(ec2: Any) -> None:
    described = ec2.describe_managed_prefix_lists()
    assert validate_ec2_output("DescribeManagedPrefixLists", described) == []
    by_name = {p["PrefixListName"]: p for p in described["PrefixLists"]}
    assert set(by_name) == {"onprem", "sandbox"}
    onprem = by_name["onprem"]
    assert onprem["PrefixListId"].startswith("pl-") and onprem["AddressFamily"] == "IPv4"
    entries = ec2.get_managed_prefix_list_entries(PrefixListId=onprem["PrefixListId"])
    assert validate_ec2_output("GetManagedPrefixListEntries", entries) == []
    assert [e["Cidr"] for e in entries["Entries"]] == ["192.168.10.0/24", "172.16.0.0/12"]
    first = ec2.get_managed_prefix_list_entries(PrefixListId=onprem["PrefixListId"], MaxResults=1)
    assert [e["Cidr"] for e in first["Entries"]] == ["192.168.10.0/24"] and "NextToken" in first
    rest = ec2.get_managed_prefix_list_entries(
        PrefixListId=onprem["PrefixListId"], MaxResults=1, NextToken=first["NextToken"]
    )
    assert [e["Cidr"] for e in rest["Entries"]] == ["172.16.0.0/12"] and "NextToken" not in rest
    named = ec2.describe_managed_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": ["sand*"]}])
    assert [p["PrefixListName"] for p in named["PrefixLists"]] == ["sandbox"]


def test_routes_rules_and_vpcs_name_the_lists_and_the_secondary_blocks(ec2: Any) -> None:
    ids = {p["PrefixListName"]: p["PrefixListId"] for p in ec2.describe_managed_prefix_lists()["PrefixLists"]}
    vpcs = {v["Tags"][0]["Value"]: v for v in ec2.describe_vpcs()["Vpcs"]}
    tables = ec2.describe_route_tables()
    groups = ec2.describe_security_groups()
    for operation, answer in (
        ("DescribeVpcs", {"Vpcs": list(vpcs.values())}),
        ("DescribeRouteTables", tables),
        ("DescribeSecurityGroups", groups),
    ):
        assert validate_ec2_output(operation, answer) == [], operation
    routes = {
        t["VpcId"]: [r for r in t["Routes"] if r.get("GatewayId") != "local"] for t in tables["RouteTables"]
    }
    (onprem,) = routes[vpcs["drill-onprem"]["VpcId"]]
    assert onprem["DestinationPrefixListId"] == ids["onprem"] and "DestinationCidrBlock" not in onprem
    (foreign,) = routes[vpcs["drill-foreign"]["VpcId"]]
    assert foreign["DestinationPrefixListId"] == FOREIGN and foreign["VpcPeeringConnectionId"].startswith(
        "pcx-"
    )
    rule = next(
        g["IpPermissions"][0] for g in groups["SecurityGroups"] if g["GroupName"] == "drill-onprem-servers"
    )
    assert rule["PrefixListIds"] == [{"PrefixListId": ids["onprem"]}] and rule["IpRanges"] == []
    secondary = vpcs["drill-secondary"]
    assert [a["CidrBlock"] for a in secondary["CidrBlockAssociationSet"]] == ["10.96.0.0/16", "10.30.0.0/16"]
    local = [
        r["DestinationCidrBlock"]
        for t in tables["RouteTables"]
        if t["VpcId"] == secondary["VpcId"]
        for r in t["Routes"]
        if r.get("GatewayId") == "local"
    ]
    assert local == ["10.96.0.0/16", "10.30.0.0/16"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [secondary["VpcId"]]}])["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == ["10.30.5.0/24", "10.96.0.0/20"]


def test_unknown_malformed_ids_and_versions_are_refused_as_ec2_refuses_them(ec2: Any) -> None:
    get = ec2.get_managed_prefix_list_entries
    assert _code(get, PrefixListId=FOREIGN) == "InvalidPrefixListID.NotFound"
    assert _code(get, PrefixListId="onprem") == "InvalidPrefixListID.Malformed"
    assert _code(ec2.describe_managed_prefix_lists, PrefixListIds=[FOREIGN]) == "InvalidPrefixListID.NotFound"
    (listed, *_) = ec2.describe_managed_prefix_lists()["PrefixLists"]
    assert _code(get, PrefixListId=listed["PrefixListId"], TargetVersion=2) == "InvalidParameterValue"
    assert get(PrefixListId=listed["PrefixListId"], TargetVersion=1)["Entries"]


def test_a_scenario_naming_a_missing_list_or_overlapping_blocks_is_refused() -> None:
    drill = {"name": "d", "cidr": "10.99.0.0/16", "subnets": ["10.99.0.0/24"]}
    with pytest.raises(ScenarioError, match=r"ec2\.vpcs\[0\]\.routes\[0\]\.prefix_list: 'nowhere'"):
        load_scenario(
            {"ec2": {"vpcs": [{**drill, "routes": [{"prefix_list": "nowhere", "target": "peering"}]}]}}
        )
    with pytest.raises(ScenarioError, match=r"ec2\.vpcs\[0\]\.ingress\[0\]\.cidr: .*not both"):
        load_scenario(
            {
                "ec2": {
                    "prefix_lists": EC2["prefix_lists"],
                    "vpcs": [{**drill, "ingress": [{"prefix_list": "onprem", "cidr": "10.0.0.0/8"}]}],
                }
            }
        )
    with pytest.raises(ScenarioError, match=r"ec2\.vpcs\[0\]\.secondary_cidrs\[0\]: .*overlaps"):
        load_scenario({"ec2": {"vpcs": [{**drill, "secondary_cidrs": ["10.99.128.0/17"]}]}})
    with pytest.raises(
        ScenarioError, match=r"ec2\.prefix_lists\[0\]\.name: may not start with com\.amazonaws"
    ):
        load_scenario({"ec2": {"prefix_lists": [{"name": "com.amazonaws.us-east-1.s3"}], "vpcs": [drill]}})
