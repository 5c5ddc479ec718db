"""The isolation check's network ACL reasoning, rule by rule (review of issue 16's drill profile): a DENY
only hides production from a later ALLOW when it denies all traffic from all of what that ALLOW lets in."""

from __future__ import annotations

from drs_desktop.domain.ec2 import NaclEntryView, NetworkAclView, SubnetView, VpcView
from drs_desktop.domain.launch.isolation import DrillProfile, IsolationFinding, isolation_findings

SUBNET = SubnetView("subnet-1", "vpc-drill", "10.99.1.0/24", "us-east-1a", 200)
VPC = VpcView("vpc-drill", ("10.99.0.0/16",))


def _acl_findings(production: tuple[str, ...], *entries: NaclEntryView) -> list[IsolationFinding]:
    acl = NetworkAclView("acl-1", "vpc-drill", False, entries, ("subnet-1",))
    profile = DrillProfile(subnets=("subnet-1",), production_cidrs=production)
    return [
        f for f in isolation_findings(profile, [SUBNET], [], [acl], [], vpcs=[VPC]) if f.resource == "acl-1"
    ]


def test_a_deny_of_one_port_does_not_hide_production_from_a_later_allow_of_everything() -> None:
    found = _acl_findings(
        ("10.20.0.0/16",),
        NaclEntryView(10, False, False, "10.20.0.0/16", "6", 22, 22),  # DENY tcp/22 only
        NaclEntryView(100, False, True, "0.0.0.0/0", "-1"),  # ALLOW all the rest
    )
    assert len(found) == 1 and found[0].error, found
    assert "10.20.0.0/16" in found[0].message


def test_a_deny_of_exactly_what_a_later_allow_lets_in_from_production_is_isolated() -> None:
    # production is 10.0.0.0/8; rule 20 allows only 10.5.0.0/16 of it, which rule 10 denied first
    found = _acl_findings(
        ("10.0.0.0/8",),
        NaclEntryView(10, False, False, "10.5.0.0/16", "-1"),
        NaclEntryView(20, False, True, "10.5.0.0/16", "-1"),
    )
    assert found == []
    # ...while an allow of a wider part of production still gets in
    wider = _acl_findings(
        ("10.0.0.0/8",),
        NaclEntryView(10, False, False, "10.5.0.0/16", "-1"),
        NaclEntryView(20, False, True, "10.0.0.0/12", "-1"),
    )
    assert len(wider) == 1 and wider[0].error
