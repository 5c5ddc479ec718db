"""edit_targets: servers of several targets added to a plan keep it a valid format-2 plan at every step."""

from __future__ import annotations

import pytest

from drs_desktop.domain.plan import edit as pe
from drs_desktop.domain.plan import edit_targets as pt
from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.model import PlanTarget, ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.plan.targets import entry_target, group_target, unplaced
from drs_desktop.domain.plan.validation import Severity, validate_plan
from drs_desktop.domain.settings.target_list import CONNECTED_NAME, connected_plan_target
from drs_desktop.storage.planfile import dump_plan, parse_plan_text


def sid(n: int) -> str:
    return f"s-{n:017d}"


CONNECTED = PlanTarget(CONNECTED_NAME, account="111111111111", region="us-east-1", profile="default")
STAGING = PlanTarget("staging-01", account="222222222222", region="us-east-1", profile="stage1")
EU = PlanTarget("eu-02", account="333333333333", region="eu-west-1", profile="eu2")


def errors(plan: RecoveryPlan) -> list[str]:
    return [f"{p.path}: {p.message}" for p in validate_plan(plan) if p.severity is Severity.ERROR]


def format1() -> RecoveryPlan:
    return RecoveryPlan(
        name="Payroll",
        protection_groups=(ProtectionGroup("dbs", tags={"tier": "db"}),),
        waves=(Wave("DB", groups=("dbs",), servers=(sid(1),)), Wave("Web", servers=(sid(2),))),
    )


def test_connected_servers_keep_a_plan_without_targets_in_format_1() -> None:
    plan = pt.add_to_wave_in_targets(
        format1(), 1, [(sid(3), None), (sid(4), CONNECTED)], (), connected=CONNECTED
    )
    assert plan.targets == () and plan.waves[1].servers == (sid(2), sid(3), sid(4))
    assert "\nformat: drs-desktop/plan@1\n" in dump_plan(plan, "yaml")


def test_the_first_foreign_server_declares_the_connected_target_and_places_what_was_there() -> None:
    plan = pt.add_to_wave_in_targets(format1(), 1, [(sid(9), STAGING)], (), connected=CONNECTED)
    assert [t.name for t in plan.targets] == [CONNECTED_NAME, "staging-01"]
    # Everything the plan held is in the connected target, said where it is.
    assert group_target(plan, plan.protection_groups[0]) == CONNECTED_NAME
    assert entry_target(plan, plan.waves[0], sid(1)) == CONNECTED_NAME
    assert entry_target(plan, plan.waves[1], sid(2)) == CONNECTED_NAME
    assert entry_target(plan, plan.waves[1], sid(9)) == "staging-01"
    assert dict(plan.waves[1].server_targets) == {sid(9): "staging-01"}
    assert unplaced(plan) == [] and errors(plan) == []
    # The file is format 2, and reads back as the same plan.
    text = dump_plan(plan, "yaml")
    assert "\nformat: drs-desktop/plan@2\n" in text
    assert parse_plan_text(text, "p.yaml").plan == plan


def test_an_empty_wave_takes_the_target_of_what_is_dropped_into_it() -> None:
    plan = pt.add_to_wave_in_targets(format1(), 1, [(sid(9), STAGING)], (), connected=CONNECTED)
    plan = pt.add_to_new_wave_in_targets(
        plan, 2, [(sid(10), EU), (sid(11), EU), (sid(12), STAGING)], (), connected=CONNECTED
    )
    wave = plan.waves[2]
    assert wave.target == "eu-02" and dict(wave.server_targets) == {sid(12): "staging-01"}
    assert [t.name for t in plan.targets] == [CONNECTED_NAME, "staging-01", "eu-02"]
    assert errors(plan) == []


def test_a_new_plan_with_only_foreign_servers_declares_only_their_target() -> None:
    empty = RecoveryPlan(name="New", waves=(Wave("Wave 1"),))
    plan = pt.add_to_wave_in_targets(empty, 0, [(sid(1), STAGING)], (), connected=CONNECTED)
    assert [t.name for t in plan.targets] == ["staging-01"] and plan.waves[0].target is None
    # Then the connected target joins: the only target's default is pinned first.
    plan = pt.add_to_wave_in_targets(plan, 0, [(sid(2), None)], (), connected=CONNECTED)
    assert [t.name for t in plan.targets] == ["staging-01", CONNECTED_NAME]
    assert plan.waves[0].target == "staging-01" and dict(plan.waves[0].server_targets) == {
        sid(2): "connected"
    }
    assert errors(plan) == []


def test_a_target_declared_under_another_name_is_reused_by_place() -> None:
    plan = pt.add_to_wave_in_targets(format1(), 1, [(sid(9), STAGING)], (), connected=CONNECTED)
    again = PlanTarget("stage-renamed", account=STAGING.account, region=STAGING.region, profile="x")
    plan = pt.add_to_wave_in_targets(plan, 0, [(sid(8), again)], (), connected=CONNECTED)
    assert [t.name for t in plan.targets] == [CONNECTED_NAME, "staging-01"]
    assert entry_target(plan, plan.waves[0], sid(8)) == "staging-01"


def test_a_taken_name_in_another_place_gets_a_number() -> None:
    plan = pt.add_to_wave_in_targets(format1(), 1, [(sid(9), STAGING)], (), connected=CONNECTED)
    other = PlanTarget("staging-01", account="444444444444", region="us-east-1", profile="p")
    plan = pt.add_to_wave_in_targets(plan, 1, [(sid(7), other)], (), connected=CONNECTED)
    assert plan.targets[-1].name == "staging-01-2" and errors(plan) == []


def test_the_same_id_in_another_target_is_another_server() -> None:
    plan = pt.add_to_wave_in_targets(format1(), 1, [(sid(9), STAGING)], (), connected=CONNECTED)
    # s-1 of staging-01 is not the connected s-1 in wave DB: that one stays.
    moved = pt.add_to_wave_in_targets(plan, 1, [(sid(1), STAGING)], (), connected=CONNECTED)
    assert sid(1) in moved.waves[0].servers and sid(1) in moved.waves[1].servers
    # Within one wave an ID is listed once: refused with the reason.
    with pytest.raises(PlanEditError, match="lists a server ID once"):
        pt.add_to_wave_in_targets(plan, 0, [(sid(1), STAGING)], (), connected=CONNECTED)
    # The same server of the same target moves, keeping its target.
    again = pt.add_to_wave_in_targets(plan, 0, [(sid(9), STAGING)], (), connected=CONNECTED)
    assert (
        sid(9) not in again.waves[1].servers and entry_target(again, again.waves[0], sid(9)) == "staging-01"
    )


def test_an_undeclarable_connected_target_is_refused_with_why() -> None:
    with pytest.raises(PlanEditError, match="typed keys"):
        pt.add_to_wave_in_targets(format1(), 1, [(sid(9), STAGING)], (), connected=None)


def test_removing_the_foreign_server_keeps_the_plan_valid() -> None:
    plan = pt.add_to_wave_in_targets(format1(), 1, [(sid(9), STAGING)], (), connected=CONNECTED)
    plan = pe.remove_entries(plan, servers=[(1, sid(9))])
    assert dict(plan.waves[1].server_targets) == {} and errors(plan) == []


def test_group_target() -> None:
    plan = pt.set_group_target(format1(), "dbs", STAGING, CONNECTED)
    # The plan's servers were the connected target's: it is declared and they are placed there.
    assert [t.name for t in plan.targets] == [CONNECTED_NAME, "staging-01"]
    assert plan.protection_groups[0].target == "staging-01"
    assert entry_target(plan, plan.waves[0], sid(1)) == CONNECTED_NAME and errors(plan) == []
    with pytest.raises(PlanEditError, match="several targets"):
        pt.set_group_target(plan, "dbs", None, CONNECTED)
    with pytest.raises(PlanEditError, match="no protection group"):
        pt.set_group_target(plan, "nope", STAGING, CONNECTED)


def test_connected_plan_target() -> None:
    assert connected_plan_target("111111111111", "us-east-1", "", typed_keys=False) == CONNECTED
    assert connected_plan_target("111111111111", "us-east-1", "ops", typed_keys=False).profile == "ops"  # type: ignore[union-attr]
    assert connected_plan_target("111111111111", "us-east-1", "ops", typed_keys=True) is None
    assert connected_plan_target("", "us-east-1", "ops", typed_keys=False) is None
