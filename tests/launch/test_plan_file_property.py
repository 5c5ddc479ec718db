"""Any valid plan with any valid launch settings survives export and import, in YAML and JSON."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drs_desktop.domain.launch.model import (
    Disposition,
    LaunchFields,
    LaunchSettings,
    Override,
    RightSizing,
    SubnetByIp,
)
from drs_desktop.domain.plan.document import plan_to_document
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import Severity, validate_plan
from drs_desktop.storage.plan_syntax import parse_yaml
from drs_desktop.storage.planfile import dump_plan, parse_plan_text
from tests.strategies import names, tag_selectors, valid_plans

_HEX = "0123456789abcdef"
subnet_ids = st.text(_HEX, min_size=17, max_size=17).map(lambda digits: f"subnet-{digits}")
group_ids = st.text(_HEX, min_size=8, max_size=8).map(lambda digits: f"sg-{digits}")
cidrs = st.one_of(
    st.tuples(st.integers(0, 255), st.integers(0, 255)).map(lambda ab: f"10.{ab[0]}.{ab[1]}.0/24"),
    st.integers(0, 255).map(lambda a: f"172.{a}.0.0/16"),
    st.just("fd00::/8"),
)
tables = st.dictionaries(cidrs, subnet_ids, min_size=1, max_size=4).map(
    lambda rows: SubnetByIp(tuple(rows.items()))
)
add_tags = st.dictionaries(
    names.filter(lambda key: not key.lower().startswith("aws:")), names, min_size=1, max_size=3
)


@st.composite
def launch_fields(draw: st.DrawFn) -> LaunchFields:
    """Fields with at least one set (an override that sets nothing is a warning)."""
    values: dict[str, st.SearchStrategy[Any]] = {
        "subnet": st.one_of(subnet_ids, tables),
        "security_groups": st.lists(group_ids, min_size=1, max_size=3, unique=True).map(tuple),
        "instance_type": st.sampled_from(["m5.large", "r5.2xlarge", "c7gn.16xlarge", "u-6tb1.metal"]),
        "right_sizing": st.sampled_from(list(RightSizing)),
        "copy_private_ip": st.booleans(),
        "os_byol": st.booleans(),
        "copy_tags": st.booleans(),
        "add_tags": add_tags,
        "launch_disposition": st.sampled_from(list(Disposition)),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=4, unique=True))
    drawn: dict[str, Any] = {name: draw(values[name]) for name in chosen}
    return LaunchFields(**drawn)


@st.composite
def launch_settings(draw: st.DrawFn, servers: tuple[str, ...]) -> LaunchSettings:
    overrides: list[Override] = []
    for _ in range(draw(st.integers(0, 3))):
        by_server: bool = draw(st.booleans())
        if servers and by_server:
            picked = draw(st.lists(st.sampled_from(servers), min_size=1, max_size=3, unique=True))
            overrides.append(Override(draw(launch_fields()), servers=tuple(picked)))
        else:
            overrides.append(Override(draw(launch_fields()), tags=draw(tag_selectors)))
    defaults = draw(st.one_of(st.just(LaunchFields()), launch_fields()))
    return LaunchSettings(defaults, tuple(overrides))


@st.composite
def plans_with_launch_settings(draw: st.DrawFn) -> RecoveryPlan:
    plan = draw(valid_plans(max_waves=3, max_groups=3))
    groups = tuple(
        dataclasses.replace(group, launch_settings=draw(launch_settings(group.server_ids)))
        if draw(st.booleans())
        else group
        for group in plan.protection_groups
    )
    own = tuple(dict.fromkeys(s for wave in plan.waves for s in wave.servers))
    explicit = own + tuple(s for g in plan.protection_groups for s in g.server_ids)
    return dataclasses.replace(
        plan, protection_groups=groups, launch_settings=draw(launch_settings(explicit))
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans_with_launch_settings())
def test_any_valid_plan_with_launch_settings_survives_export_and_import(plan: RecoveryPlan) -> None:
    assert [p for p in validate_plan(plan) if p.severity is Severity.ERROR] == []
    for fmt in ("yaml", "json"):
        text = dump_plan(plan, fmt)
        loaded = parse_plan_text(text, f"plan.{fmt}")
        assert loaded.plan == plan
        assert dump_plan(loaded.plan, fmt) == text
    assert parse_yaml(dump_plan(plan, "yaml"), use_libyaml=False).data == plan_to_document(plan)
