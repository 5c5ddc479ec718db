"""The simulator's VPC endpoints through the real boto3 EC2 client and ``Ec2Gateway``: DescribeVpcEndpoints
answers from botocore's EC2 model with the endpoints a scenario's VPC names (``ec2.vpcs[].endpoints``),
filtered and paged as EC2 does, and a scenario naming a bad service is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import DrsNotFound
from drs_desktop.simulator.conformance import validate_ec2_output
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import ScenarioError
from drs_desktop.simulator.scenario_schema import load_scenario

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
DRILL = {"name": "drill", "cidr": "10.99.0.0/16", "subnets": ["10.99.0.0/20", "10.99.16.0/20"]}
EC2 = {
    "vpcs": [
        {"name": "production", "cidr": "10.20.0.0/16", "subnets": ["10.20.0.0/17"]},
        {**DRILL, "endpoints": ["ssm", "ssmmessages", "ec2messages", "s3"]},
    ]
}


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator({"ec2": EC2}, seed=7) as running:
        yield running


@pytest.fixture
def ec2(sim: EmbeddedSimulator) -> Any:
    return boto3.client("ec2", config=NO_RETRY, **sim.client_kwargs())


def test_endpoints_are_listed_filtered_and_paged_as_ec2_answers_them(
    sim: EmbeddedSimulator, ec2: Any
) -> None:
    listed = ec2.describe_vpc_endpoints()
    endpoints = listed["VpcEndpoints"]
    region = sim.region
    assert [e["ServiceName"] for e in endpoints] == [
        f"com.amazonaws.{region}.{s}" for s in ("ssm", "ssmmessages", "ec2messages", "s3")
    ]
    (drill,) = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.99.0.0/16"]}])["Vpcs"]
    subnets = {
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [drill["VpcId"]]}])["Subnets"]
    }
    ssm = endpoints[0]
    assert ssm["VpcEndpointType"] == "Interface" and ssm["VpcId"] == drill["VpcId"]
    assert set(ssm["SubnetIds"]) == subnets and ssm["PrivateDnsEnabled"] is True
    s3 = endpoints[3]
    assert s3["VpcEndpointType"] == "Gateway" and s3["SubnetIds"] == [] and s3["RouteTableIds"]
    # EC2 sends the state in lowercase, although its model's enum is capitalised: the one known deviation
    problems = validate_ec2_output("DescribeVpcEndpoints", listed)
    assert problems and all(".State: Member must satisfy enum" in p and "'available'" in p for p in problems)

    by_name = ec2.describe_vpc_endpoints(Filters=[{"Name": "service-name", "Values": ["*.ssm*"]}])
    assert [e["ServiceName"].rsplit(".", 1)[1] for e in by_name["VpcEndpoints"]] == ["ssm", "ssmmessages"]
    other_vpc = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": ["vpc-0000000000000000"]}])
    assert other_vpc["VpcEndpoints"] == []
    first = ec2.describe_vpc_endpoints(MaxResults=5)
    assert len(first["VpcEndpoints"]) == 4 and "NextToken" not in first
    one = ec2.describe_vpc_endpoints(VpcEndpointIds=[ssm["VpcEndpointId"]])
    assert [e["VpcEndpointId"] for e in one["VpcEndpoints"]] == [ssm["VpcEndpointId"]]
    with pytest.raises(ClientError) as info:
        ec2.describe_vpc_endpoints(VpcEndpointIds=["vpce-0123456789abcdef0"])
    assert info.value.response["Error"]["Code"] == "InvalidVpcEndpointId.NotFound"
    with pytest.raises(ClientError) as info:
        ec2.describe_vpc_endpoints(Filters=[{"Name": "ip-address-type", "Values": ["ipv4"]}])
    assert info.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_the_gateway_reads_a_vpcs_endpoints(sim: EmbeddedSimulator, ec2: Any) -> None:
    gateway = Ec2Gateway(
        AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url), page_size=1
    )
    try:
        vpcs = {v["CidrBlock"]: v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
        before = sim.backend.request_counts().get("ec2:DescribeVpcEndpoints", 0)
        found = gateway.vpc_endpoints(vpc_id=vpcs["10.99.0.0/16"])  # one endpoint a page: every page followed
        assert sim.backend.request_counts()["ec2:DescribeVpcEndpoints"] - before == 4
        assert [e.service_name.rsplit(".", 1)[1] for e in found] == [
            "ssm",
            "ssmmessages",
            "ec2messages",
            "s3",
        ]
        assert all(e.available and e.vpc_id == vpcs["10.99.0.0/16"] for e in found)
        assert [e.endpoint_type for e in found] == ["Interface", "Interface", "Interface", "Gateway"]
        assert gateway.vpc_endpoints(vpc_id=vpcs["10.20.0.0/16"]) == []
        with pytest.raises(DrsNotFound):
            gateway._list(  # an unknown ID is EC2's NotFound, mapped as every EC2 NotFound is
                "DescribeVpcEndpoints",
                "describe_vpc_endpoints",
                {"VpcEndpointIds": ["vpce-0123456789abcdef0"]},
                "VpcEndpoints",
                lambda item: item,
            )
    finally:
        gateway.close()


def test_a_scenario_naming_a_bad_or_repeated_service_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"ec2\.vpcs\[0\]\.endpoints\[0\]: 'SSM!'"):
        load_scenario({"ec2": {"vpcs": [{**DRILL, "endpoints": ["SSM!"]}]}})
    with pytest.raises(ScenarioError, match=r"ec2\.vpcs\[0\]\.endpoints: a VPC has one endpoint per service"):
        load_scenario({"ec2": {"vpcs": [{**DRILL, "endpoints": ["ssm", "ssm"]}]}})
