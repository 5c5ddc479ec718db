"""``Ec2Gateway`` against the simulator: typed reads of templates and networks, template versions made
and set default, EC2's errors as the DrsError family, and drills that land where the default version
says (started with the app's own ``DrsGateway.start_recovery``, followed on the virtual clock)."""

from __future__ import annotations

import ipaddress

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway, map_ec2_error
from drs_desktop.aws.ec2_parse import Ec2ParseError, parse_route_table, parse_template_version
from drs_desktop.domain.drs.errors import DrsNotFound, DrsRejected, DrsUnavailable
from drs_desktop.domain.ec2 import DRILL_VERSION_MARK, LaunchTemplateData, RouteTargetKind, SubnetView
from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.aws.conftest import ids_of, run_to_completion, target_of


@pytest.fixture
def ec2(sim: EmbeddedSimulator) -> Ec2Gateway:
    """Pages of five (EC2's smallest for most listings), so the listings take several pages."""
    return Ec2Gateway(target_of(sim), page_size=5)


def _subnet(ec2: Ec2Gateway, cidr: str) -> SubnetView:
    return next(s for s in ec2.subnets() if s.cidr == cidr)


def test_templates_and_their_default_versions_read_typed(sim: EmbeddedSimulator, ec2: Ec2Gateway) -> None:
    templates = ec2.launch_templates()
    defaults = ec2.default_versions()
    assert len(templates) == len(defaults) == 10
    assert sim.backend.request_counts()["ec2:DescribeLaunchTemplateVersions"] == 2  # 10 in pages of 5
    by_id = {v.template_id: v for v in defaults}
    production = {s.subnet_id: s for s in ec2.subnets() if s.cidr.startswith("10.20.")}
    for template in templates:
        version = by_id[template.template_id]
        assert (template.default_version, version.version, version.is_default) == (1, 1, True)
        assert version.data.subnet_id in production
        assert version.data.instance_type in ("m5.large", "m5.xlarge", "r5.2xlarge")
        assert len(version.data.security_group_ids) == 1
        assert ("Name", version.data.instance_tags[0][1]) == version.data.instance_tags[0]
        assert not version.is_drill_version
    some = [t.template_id for t in templates[:3]]
    assert [t.template_id for t in ec2.launch_templates(some)] == some


def test_networks_read_typed_for_the_isolation_check(ec2: Ec2Gateway) -> None:
    vpcs = {v.name: v for v in ec2.vpcs()}
    assert vpcs["production"].cidr_blocks == ("10.20.0.0/16",)
    drill = _subnet(ec2, "10.99.0.0/20")
    assert (
        drill.vpc_id == vpcs["drill"].vpc_id
        and drill.contains("10.99.3.4")
        and not drill.contains("10.20.1.1")
    )

    drill_table = ec2.route_table_of(drill)
    assert drill_table is not None and drill.subnet_id in drill_table.subnet_ids
    assert [r.target_kind for r in drill_table.routes] == [RouteTargetKind.LOCAL]

    prod_table = ec2.route_table_of(_subnet(ec2, "10.20.0.0/17"))
    assert prod_table is not None and prod_table.main
    kinds = {r.destination: r.target_kind for r in prod_table.routes}
    assert kinds == {
        "10.20.0.0/16": RouteTargetKind.LOCAL,
        "0.0.0.0/0": RouteTargetKind.INTERNET_GATEWAY,
        "172.16.0.0/12": RouteTargetKind.TRANSIT_GATEWAY,
        "10.50.0.0/16": RouteTargetKind.PEERING,
    }
    (acl,) = ec2.network_acls(subnet_id=drill.subnet_id)
    inbound = [(e.rule_number, e.allow, e.cidr) for e in acl.entries if not e.egress]
    assert inbound == [(100, True, "10.99.0.0/16"), (32767, False, "0.0.0.0/0")]
    groups = {g.name: g for g in ec2.security_groups(vpc_id=vpcs["production"].vpc_id)}
    rules = groups["production-servers"].ingress
    assert [(r.protocol, r.port_from, r.port_to, r.cidrs) for r in rules] == [
        ("tcp", 0, 65535, ("10.0.0.0/8",)),
        ("tcp", 443, 443, ("172.16.0.0/12",)),
    ]
    assert groups["default"].ingress[0].source_group_ids == (groups["default"].group_id,)


def test_a_version_made_then_set_default_and_a_resend_makes_no_second(ec2: Ec2Gateway) -> None:
    template = ec2.launch_templates()[0]
    drill = _subnet(ec2, "10.99.16.0/20")
    change = LaunchTemplateData(subnet_id=drill.subnet_id, security_group_ids=("sg-ignored",))
    made = ec2.create_template_version(
        template.template_id,
        change,
        source_version=1,
        description=f"{DRILL_VERSION_MARK} p1",
        client_token="t-1",
    )
    again = ec2.create_template_version(
        template.template_id,
        change,
        source_version=1,
        description=f"{DRILL_VERSION_MARK} p1",
        client_token="t-1",
    )
    assert made.version == again.version == 2 and made.is_drill_version and not made.is_default
    assert made.data.subnet_id == drill.subnet_id
    assert made.data.instance_type == ec2.template_versions(template.template_id, [1])[0].data.instance_type
    assert ec2.set_default_version(template.template_id, 2).default_version == 2
    assert [v.version for v in ec2.template_versions(template.template_id, ["$Default"])] == [2]
    assert len(ec2.template_versions(template.template_id)) == 2


def test_a_version_that_is_not_the_default_is_deleted_and_the_default_never(ec2: Ec2Gateway) -> None:
    template = ec2.launch_templates()[0].template_id
    made = ec2.create_template_version(
        template, LaunchTemplateData(instance_type="t3.small"), source_version=1
    )
    assert ec2.delete_template_versions(template, [made.version]) == {}
    assert [v.version for v in ec2.template_versions(template)] == [1]
    refused = ec2.delete_template_versions(template, [1, 9])
    assert set(refused) == {1, 9}
    assert refused[1].startswith("unexpectedError") and "default" in refused[1]
    assert refused[9].startswith("launchTemplateVersionDoesNotExist")
    assert [v.version for v in ec2.template_versions(template, ["$Default"])] == [1]


def test_ec2_errors_become_the_drs_error_family(ec2: Ec2Gateway) -> None:
    with pytest.raises(DrsNotFound) as missing:
        ec2.template_versions("lt-00000000000000000")
    assert missing.value.code == "InvalidLaunchTemplateId.NotFound" and missing.value.status == 400
    with pytest.raises(DrsRejected) as malformed:
        ec2.template_versions("not-a-template")
    assert malformed.value.code == "InvalidLaunchTemplateId.Malformed"
    with pytest.raises(DrsNotFound):
        ec2.set_default_version(ec2.launch_templates()[0].template_id, 7)
    with pytest.raises(DrsNotFound) as no_instance:
        ec2.instances(["i-0123456789abcdef0"])
    assert no_instance.value.operation == "DescribeInstances"


def test_an_unreadable_answer_is_refused_whole_never_half_read() -> None:
    table = {"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Routes": [{"GatewayId": "igw-1"}]}
    with pytest.raises(Ec2ParseError, match="destination"):
        parse_route_table(table)
    odd = {**table, "Routes": [{"DestinationCidrBlock": "10.0.0.0/8", "GatewayId": "vpce-1"}]}
    assert parse_route_table(odd).routes[0].target_kind is RouteTargetKind.OTHER  # a way out, not dropped
    with pytest.raises(Ec2ParseError, match="DefaultVersion"):
        parse_template_version({"LaunchTemplateId": "lt-1", "VersionNumber": 1})
    error = map_ec2_error(Ec2ParseError("a route is not a structure"), "DescribeRouteTables", mutating=False)
    assert isinstance(error, DrsUnavailable) and error.code == "MalformedResponse"
    assert "EC2" in str(error)


def _drill_instance(
    sim: EmbeddedSimulator, drs: DrsGateway, ec2: Ec2Gateway, server_id: str, tag: str
) -> tuple[str, str]:
    """Start a drill of one server with the app's gateway, follow it to LAUNCHED on the virtual clock,
    and return (EC2 instance ID, job ID)."""
    job = drs.start_recovery([server_id], is_drill=True, tags={"test": tag})
    done, _ = run_to_completion(sim, drs, job.job_id)
    assert done.servers[0].launch_status.value == "LAUNCHED"
    sim.clock.advance(300)  # DescribeRecoveryInstances lists an instance after a lag
    (instance,) = [i for i in drs.describe_recovery_instances([server_id]) if i.job_id == job.job_id]
    assert instance.ec2_instance_id is not None
    return instance.ec2_instance_id, job.job_id


def test_a_drill_lands_in_the_subnet_of_the_default_version_at_launch(
    sim: EmbeddedSimulator, gateway: DrsGateway, ec2: Ec2Gateway
) -> None:
    (server_id,) = ids_of(sim, "shop-web-01")
    template_id = gateway.launch_configuration(server_id).ec2_launch_template_id
    assert template_id.startswith("lt-")
    (production,) = ec2.template_versions(template_id, ["$Default"])
    drill_subnet = _subnet(ec2, "10.99.0.0/20")
    drill_group = next(
        g for g in ec2.security_groups(vpc_id=drill_subnet.vpc_id) if g.name == "drill-servers"
    )
    drill_version = ec2.create_template_version(
        template_id,
        LaunchTemplateData(subnet_id=drill_subnet.subnet_id, security_group_ids=(drill_group.group_id,)),
        source_version=production.version,
        description=f"{DRILL_VERSION_MARK} plan-1",
    )
    ec2.set_default_version(template_id, drill_version.version)

    first_id, _ = _drill_instance(sim, gateway, ec2, server_id, "drill-profile")
    (first,) = ec2.instances([first_id])
    assert (first.subnet_id, first.vpc_id) == (drill_subnet.subnet_id, drill_subnet.vpc_id)
    assert first.security_group_ids == (drill_group.group_id,)
    assert first.private_ip is not None and drill_subnet.contains(first.private_ip)
    assert first.launch_template == (template_id, drill_version.version)
    assert first.state == "running" and first.instance_type == production.data.instance_type

    ec2.set_default_version(template_id, production.version)
    second_id, _ = _drill_instance(sim, gateway, ec2, server_id, "production")
    (second,) = ec2.instances([second_id])
    assert second.subnet_id is not None and second.subnet_id == production.data.subnet_id
    assert second.launch_template == (template_id, production.version)
    (prod_subnet,) = ec2.subnets([second.subnet_id])
    assert second.private_ip is not None and prod_subnet.contains(second.private_ip)
    # the drill instance was replaced by the second drill (DRS cleans the previous one up): EC2 still
    # lists it, terminated
    assert ec2.instances([first_id])[0].state == "terminated"


def test_a_launch_ec2_would_refuse_fails_with_ec2s_reason(
    sim: EmbeddedSimulator, gateway: DrsGateway, ec2: Ec2Gateway
) -> None:
    (server_id,) = ids_of(sim, "shop-web-02")
    template_id = gateway.launch_configuration(server_id).ec2_launch_template_id
    assert template_id.startswith("lt-")
    broken = ec2.create_template_version(
        template_id, LaunchTemplateData(subnet_id="subnet-00000000000000000"), source_version=1
    )
    ec2.set_default_version(template_id, broken.version)
    job = gateway.start_recovery([server_id], is_drill=True, tags={})
    done, _ = run_to_completion(sim, gateway, job.job_id)
    assert done.servers[0].launch_status.value == "FAILED"
    failed = [e for e in gateway.job_log(job.job_id) if e.event == "LAUNCH_FAILED"]
    assert failed and "InvalidSubnetID.NotFound" in (failed[0].raw_error or "")


def test_copy_private_ip_lands_on_the_source_servers_address(
    sim: EmbeddedSimulator, gateway: DrsGateway
) -> None:
    (server_id,) = ids_of(sim, "shop-app-01")
    server = sim.backend.world.servers[server_id]
    server.launch_config.copy_private_ip = True
    ec2 = Ec2Gateway(target_of(sim))
    instance_id, _ = _drill_instance(sim, gateway, ec2, server_id, "copy-ip")
    (instance,) = ec2.instances([instance_id])
    assert instance.private_ip == server.ip
    assert ipaddress.IPv4Address(server.ip) in ipaddress.IPv4Network("10.20.0.0/16")
