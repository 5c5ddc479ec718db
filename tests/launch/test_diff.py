"""The per-server diff: only what changes, split into DRS and template calls; the checks that block."""

from __future__ import annotations

from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.launch.current import ServerFacts, TemplateValues
from drs_desktop.domain.launch.diff import (
    Destination,
    DrsUpdate,
    ServerLaunchPlan,
    TemplateUpdate,
    plan_server,
)
from drs_desktop.domain.launch.model import Disposition, LaunchFields, LaunchSettings, RightSizing, SubnetByIp
from drs_desktop.domain.launch.resolve import resolve
from tests.launch.builders import (
    CIDRS,
    S1,
    SG_1,
    SG_2,
    SUBNET_A,
    SUBNET_B,
    SUBNET_C,
    config,
    server,
    template,
)


def preview(
    fields: LaunchFields,
    *,
    ip: str = "10.1.2.10",
    current: LaunchConfigView | str | None = "default",
    tpl: TemplateValues | str | None = "default",
    cidrs: dict[str, str] | None = CIDRS,
) -> ServerLaunchPlan:
    facts = server(S1, ip)
    launch_config = config() if current == "default" else current
    current_template = template() if tpl == "default" else tpl
    assert not isinstance(current_template, str) and not isinstance(launch_config, str)
    return plan_server(facts, resolve(facts, LaunchSettings(fields)), launch_config, current_template, cidrs)


def codes(found: ServerLaunchPlan) -> tuple[list[str], list[str]]:
    return [p.code for p in found.errors], [p.code for p in found.warnings]


def test_nothing_desired_or_everything_already_so_is_no_change() -> None:
    assert preview(LaunchFields()).changes == ()
    same = LaunchFields(
        subnet=SUBNET_A,
        security_groups=(SG_1,),
        instance_type="m5.large",
        right_sizing=RightSizing.NONE,
        copy_private_ip=False,
        os_byol=False,
        copy_tags=False,
        add_tags={"Name": "web"},
        launch_disposition=Disposition.STARTED,
    )
    found = preview(same)
    assert (found.changes, found.drs, found.template, found.errors) == ((), None, None, ())


def test_only_changed_fields_are_listed_and_split_between_drs_and_the_template() -> None:
    found = preview(
        LaunchFields(
            subnet=SUBNET_B,
            security_groups=(SG_2, SG_1),
            instance_type="m5.large",  # unchanged
            os_byol=True,
            launch_disposition=Disposition.STARTED,  # unchanged
            copy_tags=True,
            add_tags={"Name": "web", "DR": "yes"},  # Name unchanged
        )
    )
    shown = {(c.destination, str(c)) for c in found.changes}
    assert shown == {
        (Destination.TEMPLATE, f"subnet: {SUBNET_A} -> {SUBNET_B}"),
        (Destination.TEMPLATE, f"security_groups: {SG_1} -> {SG_2}, {SG_1}"),
        (Destination.TEMPLATE, "tag DR: (none) -> yes"),
        (Destination.DRS, "os_byol: false -> true"),
        (Destination.DRS, "copy_tags: false -> true"),
    }
    assert found.drs == DrsUpdate(os_byol=True, copy_tags=True)
    assert found.template == TemplateUpdate(
        template_id="lt-0123456789abcdef0",
        base_version=3,
        subnet_id=SUBNET_B,
        security_group_ids=(SG_2, SG_1),
        tags={"Name": "web", "DR": "yes"},  # the whole tag set of the new version: nothing removed
    )
    assert all(change.source == "plan defaults" for change in found.changes)


def test_security_groups_compare_as_a_set() -> None:
    found = preview(LaunchFields(security_groups=(SG_2, SG_1)), tpl=template(security_group_ids=(SG_1, SG_2)))
    assert found.changes == () and found.template is None


def test_an_unreported_drs_value_counts_as_a_change() -> None:
    found = preview(LaunchFields(copy_tags=False), current=config(copy_tags=None))
    assert [str(c) for c in found.changes] == ["copy_tags: (unknown) -> false"]
    assert found.drs == DrsUpdate(copy_tags=False)


def test_a_subnet_by_ip_is_mapped_and_shown_as_the_subnet_id() -> None:
    table = SubnetByIp((("10.1.0.0/16", SUBNET_A), ("10.1.2.0/24", SUBNET_B)))
    found = preview(LaunchFields(subnet=table))
    assert found.desired.subnet == SUBNET_B
    assert found.template is not None and found.template.subnet_id == SUBNET_B
    unmapped = preview(LaunchFields(subnet=table, os_byol=True), ip="172.16.0.1")
    assert codes(unmapped)[0] == ["subnet_unmapped"]
    with_copy = preview(LaunchFields(subnet=table, copy_private_ip=True), ip="172.16.0.1")
    assert codes(with_copy)[0] == ["subnet_unmapped"]  # not also "outside the template's subnet"
    assert "172.16.0.1" in unmapped.errors[0].message
    assert unmapped.blocked and unmapped.drs is None and unmapped.template is None  # never half-applied


def test_a_subnet_ec2_does_not_report_is_an_error_and_unknown_cidrs_are_not_checked() -> None:
    missing = "subnet-0dddddddddddddddd"
    assert codes(preview(LaunchFields(subnet=missing)))[0] == ["unknown_subnet"]
    assert preview(LaunchFields(subnet=missing), cidrs=None).errors == ()


def test_copy_private_ip_needs_the_servers_ip_inside_the_chosen_subnet() -> None:
    inside = preview(LaunchFields(copy_private_ip=True, subnet=SUBNET_B), ip="10.1.2.10")
    assert inside.errors == () and inside.drs == DrsUpdate(copy_private_ip=True)
    outside = preview(LaunchFields(copy_private_ip=True, subnet=SUBNET_C), ip="10.1.2.10")
    assert codes(outside)[0] == ["copy_private_ip_outside_subnet"]
    assert "10.1.2.10" in outside.errors[0].message and "10.9.0.0/16" in outside.errors[0].message
    # Already on in DRS, and the template's current subnet does not hold the IP: blocked too.
    current_on = preview(
        LaunchFields(os_byol=True), current=config(copy_private_ip=True), tpl=template(subnet_id=SUBNET_C)
    )
    assert codes(current_on)[0] == ["copy_private_ip_outside_subnet"]
    # Turned off by the plan: no check.
    assert (
        preview(
            LaunchFields(copy_private_ip=False, subnet=SUBNET_C), current=config(copy_private_ip=True)
        ).errors
        == ()
    )


def test_copy_private_ip_that_cannot_be_checked_is_a_warning() -> None:
    no_cidrs = preview(LaunchFields(copy_private_ip=True), cidrs=None)
    assert codes(no_cidrs) == ([], ["copy_private_ip_not_checked"])
    no_ip = preview(LaunchFields(copy_private_ip=True), ip="")
    assert codes(no_ip) == ([], ["copy_private_ip_not_checked"])


def test_an_instance_type_warns_when_right_sizing_will_overwrite_it() -> None:
    basic = preview(LaunchFields(instance_type="r5.large"), current=config(right_sizing="BASIC"))
    assert codes(basic) == ([], ["right_sizing_overwrites"])
    assert "BASIC" in basic.warnings[0].message and "r5.large" in basic.warnings[0].message
    assert basic.template is not None  # a warning does not block
    in_aws = preview(LaunchFields(instance_type="r5.large"), current=config(right_sizing="IN_AWS"))
    assert codes(in_aws)[1] == ["right_sizing_overwrites"]
    switched_off = preview(
        LaunchFields(instance_type="r5.large", right_sizing=RightSizing.NONE),
        current=config(right_sizing="BASIC"),
    )
    assert switched_off.warnings == ()
    assert switched_off.drs == DrsUpdate(right_sizing=RightSizing.NONE)
    assert preview(LaunchFields(instance_type="r5.large")).warnings == ()  # NONE already
    switched_on = preview(LaunchFields(instance_type="r5.large", right_sizing=RightSizing.BASIC))
    assert codes(switched_on)[1] == ["right_sizing_overwrites"]


def test_a_fixed_private_ip_the_new_subnet_cannot_hold_is_removed_and_said() -> None:
    found = preview(LaunchFields(subnet=SUBNET_C), tpl=template(private_ip="10.1.2.10"))
    assert "private_ip: 10.1.2.10 -> (none)" in [str(c) for c in found.changes]
    assert found.template is not None and found.template.private_ip == ""
    assert codes(found)[1] == ["private_ip_removed"]
    kept = preview(LaunchFields(subnet=SUBNET_A), tpl=template(subnet_id=SUBNET_B, private_ip="10.1.2.10"))
    assert kept.template is not None and kept.template.private_ip is None


def test_unread_configuration_or_template_blocks_only_when_its_fields_are_desired() -> None:
    no_config = preview(LaunchFields(os_byol=True, instance_type="r5.large"), current=None)
    assert codes(no_config)[0] == ["launch_configuration_unknown"] and no_config.template is None
    assert preview(LaunchFields(instance_type="r5.large", right_sizing=None), current=None).errors == ()
    no_template = preview(LaunchFields(instance_type="r5.large"), tpl=None)
    assert codes(no_template)[0] == ["template_unknown"]
    assert preview(LaunchFields(os_byol=True), tpl=None).drs == DrsUpdate(os_byol=True)


def test_copy_private_ip_checks_the_servers_first_ipv4_address_not_an_ipv6_one_listed_before_it() -> None:
    """DRS copies the source's private IPv4 address; an agent may list a link-local IPv6 address first."""
    facts = ServerFacts(S1, "host-1", {}, ("fe80::1c2b:3ff:fe4d:5e6f", "10.1.2.10"))
    wanted = LaunchSettings(LaunchFields(copy_private_ip=True, subnet=SUBNET_B))
    inside = plan_server(facts, resolve(facts, wanted), config(), template(), CIDRS)
    assert inside.errors == () and inside.drs == DrsUpdate(copy_private_ip=True)
    outside = LaunchSettings(LaunchFields(copy_private_ip=True, subnet=SUBNET_C))
    found = plan_server(facts, resolve(facts, outside), config(), template(), CIDRS)
    assert codes(found)[0] == ["copy_private_ip_outside_subnet"] and "10.1.2.10" in found.errors[0].message
    only_v6 = ServerFacts(S1, "host-1", {}, ("2001:db8::10",))
    unchecked = plan_server(only_v6, resolve(only_v6, wanted), config(), template(), CIDRS)
    assert codes(unchecked) == ([], ["copy_private_ip_not_checked"])


def test_a_template_with_more_network_interfaces_than_device_0_blocks_a_template_change() -> None:
    two_nics = template(other_interfaces=1)
    found = preview(LaunchFields(instance_type="c5.xlarge"), tpl=two_nics)
    assert codes(found)[0] == ["template_other_interfaces"] and found.template is None
    assert preview(LaunchFields(os_byol=True), tpl=two_nics).errors == ()  # DRS-only: nothing dropped
