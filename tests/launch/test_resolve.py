"""Which layer wins for a server (group, plan, tag, server overrides) and how a CIDR table maps its IP."""

from __future__ import annotations

import pytest

from drs_desktop.domain.launch.model import LaunchFields, LaunchSettings, Override, SubnetByIp
from drs_desktop.domain.launch.resolve import layers_for, map_subnet, merge, resolve
from tests.launch.builders import S1, S2, SUBNET_A, SUBNET_B, SUBNET_C, server


def fields(value: str) -> LaunchFields:
    return LaunchFields(instance_type=value)


def test_each_layer_wins_over_the_ones_before_it_in_the_documented_order() -> None:
    group = LaunchSettings(
        defaults=fields("g.defaults"),
        overrides=(
            Override(fields("g.tag"), tags={"Tier": "db"}),
            Override(fields("g.server"), servers=(S1,)),
        ),
    )
    plan = LaunchSettings(
        defaults=fields("p.defaults"),
        overrides=(
            Override(fields("p.server"), servers=(S1,)),
            Override(fields("p.tag"), tags={"Tier": "db"}),
        ),
    )
    target = server(S1, Tier="db")
    sources = [layer.source for layer in layers_for(target, plan, group, "db")]
    assert sources == [
        "group 'db' defaults",
        "plan defaults",
        "group 'db' override 1 (tags Tier=db)",
        "plan override 2 (tags Tier=db)",
        "group 'db' override 2 (server)",
        "plan override 1 (server)",
    ]
    assert resolve(target, plan, group, "db").fields.instance_type == "p.server"
    # Take the top layer away each time: the next one down decides.
    expected = ["g.server", "p.tag", "g.tag", "p.defaults", "g.defaults"]
    layers = layers_for(target, plan, group, "db")
    for removed in range(1, 6):
        kept = layers[: len(layers) - removed]
        assert merge(kept).fields.instance_type == expected[removed - 1]


def test_the_plan_beats_its_group_at_the_same_level_and_a_group_override_beats_the_plan_defaults() -> None:
    group = LaunchSettings(fields("group"), (Override(LaunchFields(os_byol=True), servers=(S1,)),))
    plan = LaunchSettings(LaunchFields(instance_type="plan", os_byol=False))
    resolved = resolve(server(S1), plan, group, "db")
    assert resolved.fields.instance_type == "plan"
    assert resolved.fields.os_byol is True
    assert resolved.sources == {"instance_type": "plan defaults", "os_byol": "group 'db' override 1 (server)"}


def test_later_overrides_of_the_same_kind_win_and_fields_left_unset_fall_through() -> None:
    plan = LaunchSettings(
        LaunchFields(instance_type="m5.large", copy_tags=True),
        (
            Override(LaunchFields(instance_type="r5.large"), tags={"Tier": "db"}),
            Override(LaunchFields(instance_type="r5.xlarge"), tags={"App": "pay"}),
        ),
    )
    both = resolve(server(S1, Tier="db", App="pay"), plan).fields
    assert (both.instance_type, both.copy_tags) == ("r5.xlarge", True)
    assert resolve(server(S1, Tier="db"), plan).fields.instance_type == "r5.large"
    assert resolve(server(S1, Tier="web"), plan).fields.instance_type == "m5.large"
    nothing = resolve(server(S1), LaunchSettings()).fields
    assert nothing.is_empty()  # nothing desired: every field stays as the server has it


def test_tags_to_add_merge_key_by_key_across_layers() -> None:
    group = LaunchSettings(LaunchFields(add_tags={"DR": "group", "Team": "db"}))
    plan = LaunchSettings(
        LaunchFields(add_tags={"DR": "plan"}),
        (Override(LaunchFields(add_tags={"Env": "drill"}), servers=(S1,)),),
    )
    resolved = resolve(server(S1), plan, group, "db")
    assert resolved.fields.add_tags == {"DR": "plan", "Team": "db", "Env": "drill"}
    assert resolved.sources["add_tags.Team"] == "group 'db' defaults"
    assert resolved.sources["add_tags.Env"] == "plan override 1 (server)"


def test_an_override_selects_by_all_its_tags_or_its_servers_and_an_empty_selector_selects_nothing() -> None:
    assert Override(tags={"A": "1", "B": "2"}).selects(S1, {"A": "1", "B": "2", "C": "3"})
    assert not Override(tags={"A": "1", "B": "2"}).selects(S1, {"A": "1"})
    assert not Override(tags={}).selects(S1, {"A": "1"})
    assert Override(servers=(S1,)).selects(S1, {}) and not Override(servers=(S1,)).selects(S2, {})


# ------------------------------------------------------------------------------------------ CIDR table

TABLE = SubnetByIp((("10.0.0.0/8", SUBNET_C), ("10.1.0.0/16", SUBNET_A), ("10.1.2.0/24", SUBNET_B)))


@pytest.mark.parametrize(
    ("ip", "subnet", "cidr"),
    [
        ("10.1.2.10", SUBNET_B, "10.1.2.0/24"),  # in all three: the /24 wins, though written last
        ("10.1.3.10", SUBNET_A, "10.1.0.0/16"),
        ("10.200.0.1", SUBNET_C, "10.0.0.0/8"),
    ],
)
def test_the_most_specific_cidr_wins_whatever_the_order_written(ip: str, subnet: str, cidr: str) -> None:
    match = map_subnet(TABLE, (ip,))
    assert (match.subnet_id, match.cidr, match.ip, match.problem) == (subnet, cidr, ip, "")
    reversed_table = SubnetByIp(tuple(reversed(TABLE.rows)))
    assert map_subnet(reversed_table, (ip,)).subnet_id == subnet


def test_no_matching_cidr_is_a_problem_naming_the_ip() -> None:
    match = map_subnet(TABLE, ("192.168.7.7",))
    assert match.subnet_id == ""
    assert "192.168.7.7" in match.problem and "no row" in match.problem


def test_several_ips_the_most_specific_match_of_any_wins_and_a_tie_between_subnets_is_a_problem() -> None:
    assert map_subnet(TABLE, ("192.168.0.1", "10.1.2.5")).subnet_id == SUBNET_B
    assert map_subnet(TABLE, ("10.9.9.9", "10.1.2.5")).subnet_id == SUBNET_B
    tie = SubnetByIp((("10.1.0.0/16", SUBNET_A), ("10.2.0.0/16", SUBNET_C)))
    match = map_subnet(tie, ("10.1.0.5", "10.2.0.5"))
    assert match.subnet_id == "" and SUBNET_A in match.problem and SUBNET_C in match.problem


def test_no_ip_an_invalid_row_or_an_ipv6_address_never_gives_a_guess() -> None:
    assert "no IP" in map_subnet(TABLE, ()).problem
    broken = SubnetByIp((("10.1.0.0/16", SUBNET_A), ("10.1.2.1/24", SUBNET_B)))
    assert map_subnet(broken, ("10.1.0.5",)).subnet_id == ""  # a half-read table could pick a wrong subnet
    assert "10.1.2.1/24" in map_subnet(broken, ("10.1.0.5",)).problem
    assert map_subnet(TABLE, ("fd00::1",)).problem  # an IPv4 table holds no IPv6 address
    v6 = SubnetByIp((("fd00::/8", SUBNET_A),))
    assert map_subnet(v6, ("10.1.2.3", "fd00::1")).subnet_id == SUBNET_A


def test_an_ipv4_and_an_ipv6_match_of_different_subnets_is_a_problem_not_a_longer_prefix_win() -> None:
    """A /64 is not more specific than a /24 (it holds far more addresses): prefix lengths of two IP
    versions do not compare, so a server whose IPv4 and IPv6 addresses name two subnets is never guessed."""
    mixed = SubnetByIp((("10.1.2.0/24", SUBNET_B), ("fd00:1::/64", SUBNET_C)))
    match = map_subnet(mixed, ("10.1.2.10", "fd00:1::10"))
    assert match.subnet_id == "" and SUBNET_B in match.problem and SUBNET_C in match.problem
    agree = SubnetByIp((("10.1.2.0/24", SUBNET_B), ("fd00:1::/64", SUBNET_B)))
    assert map_subnet(agree, ("fd00:1::10", "10.1.2.10")).subnet_id == SUBNET_B
