"""EC2 in the simulator through the real boto3 EC2 client: every served call, conformance to botocore's
output shapes, pagination, filters, EC2's refusals of malformed requests, and the accounts' worlds."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drs_desktop.simulator.conformance import validate_ec2_output
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import ScenarioError
from drs_desktop.simulator.scenario_schema import load_scenario
from tests.simulator.accounts_scenario import STAGING_KEY, TWO_ACCOUNTS, client

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as running:
        yield running


@pytest.fixture
def ec2(sim: EmbeddedSimulator) -> Any:
    return boto3.client("ec2", config=NO_RETRY, **sim.client_kwargs())


def _code(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _post(sim: EmbeddedSimulator, form: dict[str, str], scope: str | None = None) -> tuple[int, str]:
    """POST a form to ``/``; ``scope`` signs it for that service (the simulator reads, not checks, SigV4)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if scope is not None:
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260105/us-east-1/{scope}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
    request = urllib.request.Request(
        sim.endpoint_url + "/", data=urlencode(form).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_every_served_call_parses_and_conforms_to_botocores_output_shapes(ec2: Any) -> None:
    (template, *_) = ec2.describe_launch_templates()["LaunchTemplates"]
    tid = template["LaunchTemplateId"]
    (drill_subnet,) = ec2.describe_subnets(Filters=[{"Name": "cidr-block", "Values": ["10.99.0.0/20"]}])[
        "Subnets"
    ]
    created = ec2.create_launch_template_version(
        LaunchTemplateId=tid,
        SourceVersion="1",
        VersionDescription="drill",
        LaunchTemplateData={"NetworkInterfaces": [{"DeviceIndex": 0, "SubnetId": drill_subnet["SubnetId"]}]},
    )
    modified = ec2.modify_launch_template(LaunchTemplateId=tid, DefaultVersion="2")
    answers = {
        "DescribeLaunchTemplates": ec2.describe_launch_templates(),
        "DescribeLaunchTemplateVersions": ec2.describe_launch_template_versions(LaunchTemplateId=tid),
        "CreateLaunchTemplateVersion": created,
        "ModifyLaunchTemplate": modified,
        "DescribeVpcs": ec2.describe_vpcs(),
        "DescribeSubnets": ec2.describe_subnets(),
        "DescribeSecurityGroups": ec2.describe_security_groups(),
        "DescribeRouteTables": ec2.describe_route_tables(),
        "DescribeNetworkAcls": ec2.describe_network_acls(),
        "DescribeInstances": ec2.describe_instances(),
    }
    for operation, answer in answers.items():
        assert validate_ec2_output(operation, answer) == [], operation
    assert created["LaunchTemplateVersion"]["VersionNumber"] == 2
    assert modified["LaunchTemplate"]["DefaultVersionNumber"] == 2
    assert modified["LaunchTemplate"]["LatestVersionNumber"] == 2
    assert len(answers["DescribeLaunchTemplates"]["LaunchTemplates"]) == 10  # one per source server


def test_every_template_is_the_one_drs_names_and_points_at_the_subnet_of_the_servers_ip(
    sim: EmbeddedSimulator, ec2: Any
) -> None:
    drs = boto3.client("drs", config=NO_RETRY, **sim.client_kwargs())
    subnets = ec2.describe_subnets()["Subnets"]
    for server in drs.describe_source_servers()["items"]:
        config = drs.get_launch_configuration(sourceServerID=server["sourceServerID"])
        (version,) = ec2.describe_launch_template_versions(
            LaunchTemplateId=config["ec2LaunchTemplateID"], Versions=["$Default"]
        )["LaunchTemplateVersions"]
        nic = version["LaunchTemplateData"]["NetworkInterfaces"][0]
        (subnet,) = [s for s in subnets if s["SubnetId"] == nic["SubnetId"]]
        ip = server["sourceProperties"]["networkInterfaces"][0]["ips"][0]
        octet = int(ip.split(".")[2])
        assert subnet["CidrBlock"] == ("10.20.0.0/17" if octet < 128 else "10.20.128.0/17")
        assert version["VersionNumber"] == 1 and version["DefaultVersion"] is True


def test_listings_page_with_max_results_and_next_token(ec2: Any) -> None:
    first = ec2.describe_launch_templates(MaxResults=4)
    second = ec2.describe_launch_templates(MaxResults=4, NextToken=first["NextToken"])
    third = ec2.describe_launch_templates(MaxResults=4, NextToken=second["NextToken"])
    ids = [t["LaunchTemplateId"] for page in (first, second, third) for t in page["LaunchTemplates"]]
    assert [len(p["LaunchTemplates"]) for p in (first, second, third)] == [4, 4, 2]
    assert "NextToken" not in third
    assert len(set(ids)) == 10

    pages = ec2.get_paginator("describe_launch_template_versions").paginate(
        Versions=["$Default"], PaginationConfig={"PageSize": 3}
    )
    counts = [len(page["LaunchTemplateVersions"]) for page in pages]
    assert counts == [3, 3, 3, 1]
    subnets = ec2.get_paginator("describe_subnets").paginate(PaginationConfig={"PageSize": 5})
    assert sum(len(p["Subnets"]) for p in subnets) == 4


def test_filters_the_app_needs(ec2: Any) -> None:
    vpcs = {v["Tags"][0]["Value"]: v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    drill = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs["drill"]]}])["Subnets"]
    assert sorted(s["CidrBlock"] for s in drill) == ["10.99.0.0/20", "10.99.16.0/20"]

    by_subnet = [{"Name": "association.subnet-id", "Values": [drill[0]["SubnetId"]]}]
    (table,) = ec2.describe_route_tables(Filters=by_subnet)["RouteTables"]
    assert [r["GatewayId"] for r in table["Routes"]] == ["local"]
    (acl,) = ec2.describe_network_acls(Filters=by_subnet)["NetworkAcls"]
    assert acl["VpcId"] == vpcs["drill"]
    allowed_in = [e["CidrBlock"] for e in acl["Entries"] if not e["Egress"] and e["RuleAction"] == "allow"]
    assert allowed_in == ["10.99.0.0/16"]

    (prod_table,) = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpcs["production"]]}])[
        "RouteTables"
    ]
    targets = {r["DestinationCidrBlock"]: r for r in prod_table["Routes"]}
    assert targets["0.0.0.0/0"]["GatewayId"].startswith("igw-")
    assert targets["172.16.0.0/12"]["TransitGatewayId"].startswith("tgw-")
    assert targets["10.50.0.0/16"]["VpcPeeringConnectionId"].startswith("pcx-")

    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpcs["drill"]]}])
    assert sorted(g["GroupName"] for g in groups["SecurityGroups"]) == ["default", "drill-servers"]
    wildcard = ec2.describe_subnets(Filters=[{"Name": "cidr-block", "Values": ["10.20.*"]}])["Subnets"]
    assert len(wildcard) == 2
    assert _code(ec2.describe_subnets, Filters=[{"Name": "no-such-filter", "Values": ["x"]}]) == (
        "InvalidParameterValue",
        400,
    )


def test_unknown_and_malformed_ids_are_refused_as_ec2_refuses_them(ec2: Any) -> None:
    assert (
        _code(ec2.describe_subnets, SubnetIds=["subnet-00000000000000000"])[0] == "InvalidSubnetID.NotFound"
    )
    assert _code(ec2.describe_vpcs, VpcIds=["nope"])[0] == "InvalidVpcID.Malformed"
    assert (
        _code(ec2.describe_instances, InstanceIds=["i-0123456789abcdef0"])[0] == "InvalidInstanceID.NotFound"
    )
    assert _code(ec2.describe_launch_template_versions, LaunchTemplateId="lt-bad")[0] == (
        "InvalidLaunchTemplateId.Malformed"
    )
    missing = "lt-00000000000000000"
    assert _code(ec2.describe_launch_template_versions, LaunchTemplateId=missing)[0] == (
        "InvalidLaunchTemplateId.NotFound"
    )
    (template, *_) = ec2.describe_launch_templates()["LaunchTemplates"]
    assert _code(
        ec2.modify_launch_template, LaunchTemplateId=template["LaunchTemplateId"], DefaultVersion="9"
    )[0] == ("InvalidLaunchTemplateId.VersionNotFound")
    assert _code(ec2.describe_instances, InstanceIds=["i-0123456789abcdef0"], MaxResults=5)[0] == (
        "InvalidParameterCombination"
    )
    assert _code(ec2.describe_subnets, DryRun=True) == ("DryRunOperation", 412)
    assert _code(ec2.describe_subnets, NextToken="garbage", MaxResults=5)[0] == "InvalidPaginationToken"


def test_malformed_requests_get_ec2s_error_document(sim: EmbeddedSimulator) -> None:
    base = {"Action": "DescribeSubnets", "Version": "2016-11-15"}
    status, body = _post(sim, {**base, "MaxResults": "1"})
    assert status == 400
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>')
    assert "<Code>InvalidParameterValue</Code>" in body and "<RequestID>" in body
    assert "<Code>InvalidParameterValue</Code>" in _post(sim, {**base, "MaxResults": "ten"})[1]
    assert "<Code>UnknownParameter</Code>" in _post(sim, {**base, "SubnetIdd.1": "subnet-1"})[1]
    assert "<Code>InvalidAction</Code>" in _post(sim, {**base, "Action": "RunInstances"})[1]
    # a form signed for ec2 is EC2's whatever its Version says
    assert "<Code>NoSuchVersion</Code>" in _post(sim, {**base, "Version": "2099-01-01"}, "ec2")[1]
    assert "<Code>MissingParameter</Code>" in _post(sim, {"Action": "DescribeVpcs"}, "ec2")[1]
    create = {"Action": "CreateLaunchTemplateVersion", "Version": "2016-11-15", "LaunchTemplateId": "lt-1"}
    assert "<Code>MissingParameter</Code>" in _post(sim, create)[1]  # no LaunchTemplateData
    ok_status, ok = _post(sim, base)
    assert ok_status == 200
    assert ok.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeSubnetsResponse xmlns="http://ec2.'
    )
    assert re.search(r"<subnetSet><item>.*?<subnetId>subnet-[0-9a-f]{17}</subnetId>.*?</item>", ok)
    # STS's forms still reach STS on the same port
    status, sts = _post(sim, {"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    assert status == 200 and "<GetCallerIdentityResponse" in sts


def test_a_new_version_takes_its_source_and_a_client_token_makes_it_once(ec2: Any) -> None:
    (template, *_) = ec2.describe_launch_templates()["LaunchTemplates"]
    tid = template["LaunchTemplateId"]
    data = {"InstanceType": "t3.large"}
    first = ec2.create_launch_template_version(
        LaunchTemplateId=tid, SourceVersion="1", LaunchTemplateData=data, ClientToken="apply-1"
    )["LaunchTemplateVersion"]
    again = ec2.create_launch_template_version(
        LaunchTemplateId=tid, SourceVersion="1", LaunchTemplateData=data, ClientToken="apply-1"
    )["LaunchTemplateVersion"]
    assert first["VersionNumber"] == again["VersionNumber"] == 2
    assert first["DefaultVersion"] is False
    assert first["LaunchTemplateData"]["InstanceType"] == "t3.large"
    # the source's network interface and tags came along
    (v1,) = ec2.describe_launch_template_versions(LaunchTemplateId=tid, Versions=["1"])[
        "LaunchTemplateVersions"
    ]
    assert first["LaunchTemplateData"]["NetworkInterfaces"] == v1["LaunchTemplateData"]["NetworkInterfaces"]
    assert first["CreatedBy"].endswith(":user/drs-desktop-simulator")
    assert _code(
        ec2.create_launch_template_version,
        LaunchTemplateId=tid,
        LaunchTemplateData={"InstanceType": "m5.large"},
        ClientToken="apply-1",
    )[0] == ("IdempotentParameterMismatch")
    latest = ec2.describe_launch_templates(LaunchTemplateIds=[tid])["LaunchTemplates"][0]
    assert (latest["DefaultVersionNumber"], latest["LatestVersionNumber"]) == (1, 2)


def test_each_account_sees_the_templates_of_its_own_servers() -> None:
    with EmbeddedSimulator(TWO_ACCOUNTS, seed=3) as sim:
        recovery = client(sim, "ec2")
        staging = client(sim, "ec2", key=STAGING_KEY)
        staging_drs = client(sim, "drs", key=STAGING_KEY)
        assert len(recovery.describe_launch_templates()["LaunchTemplates"]) == 3
        staging_templates = {
            t["LaunchTemplateId"] for t in staging.describe_launch_templates()["LaunchTemplates"]
        }
        names = {
            staging_drs.get_launch_configuration(sourceServerID=s["sourceServerID"])["ec2LaunchTemplateID"]
            for s in staging_drs.describe_source_servers()["items"]
        }
        assert staging_templates == names and len(names) == 4


def test_the_scenario_shapes_the_networks_and_refuses_a_bad_one() -> None:
    spec = {
        "vpcs": [
            {
                "name": "prod",
                "cidr": "10.20.0.0/16",
                "subnets": ["10.20.0.0/16"],
                "routes": [{"destination": "192.168.0.0/16", "target": "vpn-gateway"}],
            },
            {"name": "clean-room", "cidr": "10.20.0.0/16", "subnets": ["10.20.0.0/24"], "nacl_ingress": []},
        ],
        "launch_vpc": "prod",
    }
    with EmbeddedSimulator({"fleet": {"generated": {"count": 2}}, "ec2": spec}) as sim:
        ec2 = boto3.client("ec2", config=NO_RETRY, **sim.client_kwargs())
        tables = ec2.describe_route_tables()["RouteTables"]
        vgw = [r for t in tables for r in t["Routes"] if r.get("GatewayId", "").startswith("vgw-")]
        assert [r["DestinationCidrBlock"] for r in vgw] == ["192.168.0.0/16"]
        acls = ec2.describe_network_acls()["NetworkAcls"]
        clean = next(a for a in acls if a["Tags"][0]["Value"] == "clean-room-acl")
        assert all(e["RuleAction"] == "deny" for e in clean["Entries"] if not e["Egress"])
    bad = {"vpcs": [{"name": "p", "cidr": "10.0.0.0/16", "subnets": ["10.1.0.0/24"]}]}
    with pytest.raises(ScenarioError, match=r"ec2\.vpcs\[0\]\.subnets\[0\]: 10\.1\.0\.0/24 is not inside"):
        load_scenario({"ec2": bad})
    with pytest.raises(ScenarioError, match=r"ec2\.launch_vpc"):
        load_scenario({"ec2": {"launch_vpc": "nowhere"}})
    with pytest.raises(ScenarioError, match=r"ec2\.vpcs\[0\]\.routes\[0\]\.target"):
        load_scenario(
            {
                "ec2": {
                    "vpcs": [
                        {
                            **bad["vpcs"][0],
                            "subnets": ["10.0.0.0/24"],
                            "routes": [{"destination": "0.0.0.0/0", "target": "warp"}],
                        }
                    ]
                }
            }
        )
