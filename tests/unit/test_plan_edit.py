"""plan_edit / plan_edit_parts: every editor change as a pure function, and the edits it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drs_desktop.domain.plan import edit as pe
from drs_desktop.domain.plan import edit_parts as pp
from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.model import ApprovalStep, Impact, ProtectionGroup, RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.plan.validation import Severity, validate_plan
from tests.strategies import valid_plans


def sid(n: int) -> str:
    return f"s-{n:017d}"


A, B, C, D, E = (sid(n) for n in range(1, 6))


def sample() -> RecoveryPlan:
    return RecoveryPlan(
        name="Payroll",
        protection_groups=(
            ProtectionGroup("net", server_ids=(E,)),
            ProtectionGroup("dbs", tags={"tier": "db"}),
        ),
        waves=(
            Wave("Net", groups=("net",), depends_on=()),
            Wave("DB", servers=(A, B), optional=(B,)),
            Wave("Web", servers=(C, D), depends_on=("Net", "DB"), after=(WaitStep(5),)),
        ),
    )


# ------------------------------------------------------------------------------------ plan fields


def test_plan_fields() -> None:
    plan = pe.set_name(sample(), "  Payroll v2 ")
    plan = pe.set_description(plan, "tier 1")
    plan = pe.set_rto(pe.set_rpo(plan, 15), 60)
    assert (plan.name, plan.description, plan.rto_minutes, plan.rpo_minutes) == (
        "Payroll v2",
        "tier 1",
        60,
        15,
    )
    assert pe.set_rto(plan, None).rto_minutes is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: pe.set_name(p, "   "), "needs a name"),
        (lambda p: pe.set_rto(p, 0), "positive"),
        (lambda p: pe.set_rpo(p, 10**7), "at most"),
    ],
)
def test_plan_fields_refused(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PlanEditError, match=message):
        edit(sample())


# ------------------------------------------------------------------------------------------- waves


def test_add_wave_named_and_positioned() -> None:
    plan = pe.add_wave(sample())
    assert plan.waves[-1] == Wave("Wave 4")
    plan = pe.add_wave(plan, "Apps", 1)
    assert [w.name for w in plan.waves] == ["Net", "Apps", "DB", "Web", "Wave 4"]
    with pytest.raises(PlanEditError, match="already a wave named 'DB'"):
        pe.add_wave(plan, "db")
    with pytest.raises(PlanEditError, match="position"):
        pe.add_wave(plan, "X", 9)


def test_unique_wave_name_skips_taken_names() -> None:
    plan = RecoveryPlan("P", waves=(Wave("Wave 2"), Wave("wave 3")))
    assert pe.unique_wave_name(plan) == "Wave 4"


def test_remove_waves_drops_dependencies_on_them() -> None:
    plan = pe.remove_waves(sample(), [1])
    assert [w.name for w in plan.waves] == ["Net", "Web"]
    assert plan.waves[1].depends_on == ("Net",)
    with pytest.raises(PlanEditError, match="no wave 7"):
        pe.remove_waves(sample(), [6])


def test_rename_wave_follows_dependencies() -> None:
    plan = pe.rename_wave(sample(), 1, "Databases")
    assert plan.waves[1].name == "Databases"
    assert plan.waves[2].depends_on == ("Net", "Databases")
    assert pe.rename_wave(plan, 1, "Databases") is plan
    with pytest.raises(PlanEditError, match="already a wave"):
        pe.rename_wave(plan, 1, "web")
    with pytest.raises(PlanEditError, match="needs a name"):
        pe.rename_wave(plan, 1, "")


@pytest.mark.parametrize(
    ("indices", "target", "expected"),
    [
        ([2], 0, ["Web", "Net", "DB"]),
        ([0], 3, ["DB", "Web", "Net"]),
        ([0, 2], 2, ["DB", "Net", "Web"]),
        ([1], 1, ["Net", "DB", "Web"]),
        ([1], 2, ["Net", "DB", "Web"]),
    ],
)
def test_move_waves(indices: list[int], target: int, expected: list[str]) -> None:
    assert [w.name for w in pe.move_waves(sample(), indices, target).waves] == expected


def test_shift_waves_up_and_down_and_refuses_past_the_ends() -> None:
    plan = pe.shift_waves(sample(), [1, 2], -1)
    assert [w.name for w in plan.waves] == ["DB", "Web", "Net"]
    plan = pe.shift_waves(plan, [0], 1)
    assert [w.name for w in plan.waves] == ["Web", "DB", "Net"]
    with pytest.raises(PlanEditError, match="first wave"):
        pe.shift_waves(plan, [0], -1)
    with pytest.raises(PlanEditError, match="last wave"):
        pe.shift_waves(plan, [2], 1)


def test_set_depends_on() -> None:
    plan = pe.set_depends_on(sample(), 2, ["DB", "DB"])
    assert plan.waves[2].depends_on == ("DB",)
    assert pe.set_depends_on(plan, 2, None).waves[2].depends_on is None
    assert pe.set_depends_on(plan, 2, []).waves[2].depends_on == ()
    with pytest.raises(PlanEditError, match="itself"):
        pe.set_depends_on(plan, 2, ["Web"])
    with pytest.raises(PlanEditError, match="comes later"):
        pe.set_depends_on(plan, 0, ["Web"])
    with pytest.raises(PlanEditError, match="does not exist"):
        pe.set_depends_on(plan, 2, ["Nope"])


# ----------------------------------------------------------------------------------------- entries


def test_add_servers_inserts_and_takes_servers_from_other_waves() -> None:
    new = sid(9)
    plan = pe.add_servers(sample(), 2, [new, B, C], 1)
    assert plan.waves[2].servers == (C, new, B, D)  # C already there stays put
    assert plan.waves[1].servers == (A,)
    assert plan.waves[1].optional == ()
    assert plan.waves[2].optional == (B,)  # B keeps its impact
    with pytest.raises(PlanEditError, match="not a DRS source server ID"):
        pe.add_servers(sample(), 0, ["web-01"])


def test_add_groups_moves_a_group_between_waves() -> None:
    plan = pe.add_groups(sample(), 1, ["net", "dbs"])
    assert plan.waves[0].groups == ()
    assert plan.waves[1].groups == ("net", "dbs")
    with pytest.raises(PlanEditError, match="no protection group 'x'"):
        pe.add_groups(sample(), 1, ["x"])


def test_move_servers_between_waves_at_a_drop_row() -> None:
    plan = pe.move_servers(sample(), [(1, A), (1, B)], 2, 1)
    assert plan.waves[1].servers == ()
    assert plan.waves[2].servers == (C, A, B, D)
    assert plan.waves[2].optional == (B,)


def test_move_servers_within_a_wave_counts_the_row_before_the_move() -> None:
    plan = pe.move_servers(sample(), [(2, C)], 2, 2)  # drop below D
    assert plan.waves[2].servers == (D, C)
    plan = pe.move_servers(plan, [(2, C)], 2, 0)
    assert plan.waves[2].servers == (C, D)


def test_move_refuses_a_server_not_in_its_source_wave() -> None:
    with pytest.raises(PlanEditError, match="not in wave 'Net'"):
        pe.move_servers(sample(), [(0, A)], 2)
    with pytest.raises(PlanEditError, match="no position"):
        pe.move_servers(sample(), [(1, A)], 2, 7)


def test_move_to_wave_and_add_to_wave_split_the_row_between_groups_and_servers() -> None:
    plan = pe.move_to_wave(sample(), 1, [(2, C)], [(0, "net")], row=1)
    # row 1 of DB (no groups) is between A and B; the group goes first among groups
    assert plan.waves[1].groups == ("net",)
    assert plan.waves[1].servers == (A, C, B)
    plan = pe.add_to_wave(plan, 1, [sid(7)], ["dbs"], row=1)
    assert plan.waves[1].groups == ("net", "dbs")
    assert plan.waves[1].servers == (sid(7), A, C, B)


def test_move_to_new_wave_inserts_a_wave_and_shifts_sources() -> None:
    plan = pe.move_to_new_wave(sample(), 1, [(1, A), (2, D)], [])
    assert [w.name for w in plan.waves] == ["Net", "Wave 4", "DB", "Web"]
    assert plan.waves[1].servers == (A, D)
    assert plan.waves[2].servers == (B,)
    assert plan.waves[3].servers == (C,)
    added = pe.add_to_new_wave(sample(), 3, [sid(8)], ["dbs"], name="Late")
    assert added.waves[3] == Wave("Late", groups=("dbs",), servers=(sid(8),))


def test_remove_entries() -> None:
    plan = pe.remove_entries(sample(), servers=[(1, B)], groups=[(0, "net")])
    assert plan.waves[1] == Wave("DB", servers=(A,))
    assert plan.waves[0].groups == ()
    with pytest.raises(PlanEditError, match="not in wave"):
        pe.remove_entries(sample(), servers=[(0, B)])


def test_shift_entries_within_a_wave() -> None:
    plan = pe.shift_entries(sample(), 1, [B], -1)
    assert plan.waves[1].servers == (B, A)
    with pytest.raises(PlanEditError, match="top"):
        pe.shift_entries(plan, 1, [B], -1)
    with pytest.raises(PlanEditError, match="bottom"):
        pe.shift_entries(plan, 1, [A], 1)


def test_set_and_toggle_impact_maintain_optional() -> None:
    plan = pe.set_impact(sample(), [(1, A)], Impact.OPTIONAL)
    assert plan.waves[1].optional == (B, A)
    plan = pe.set_impact(plan, [(1, B)], Impact.CRITICAL)
    assert plan.waves[1].optional == (A,)
    mixed = pe.toggle_impact(plan, [(1, A), (1, B)])
    assert set(mixed.waves[1].optional) == {A, B}
    assert pe.toggle_impact(mixed, [(1, A), (1, B)]).waves[1].optional == ()
    # a member of one of the wave's groups of explicit IDs may be optional too
    assert pe.set_impact(sample(), [(0, E)], Impact.OPTIONAL).waves[0].optional == (E,)
    with pytest.raises(PlanEditError, match="not a server of wave 'Web'"):
        pe.set_impact(sample(), [(2, A)], Impact.OPTIONAL)


# ------------------------------------------------------------------------------------------- steps


def test_steps_add_replace_move_remove() -> None:
    plan = pp.add_step(sample(), 2, "before", ApprovalStep("Go?"))
    plan = pp.add_step(plan, 2, "before", WaitStep(3), 0)
    assert plan.waves[2].before == (WaitStep(3), ApprovalStep("Go?"))
    plan = pp.replace_step(plan, 2, "before", 1, ApprovalStep("Ready?"))
    plan = pp.move_step(plan, 2, "before", 1, 0)
    assert plan.waves[2].before == (ApprovalStep("Ready?"), WaitStep(3))
    plan = pp.remove_step(plan, 2, "after", 0)
    assert plan.waves[2].after == ()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: pp.add_step(p, 0, "before", ApprovalStep("  ")), "needs a message"),
        (lambda p: pp.add_step(p, 0, "before", WaitStep(0)), "positive"),
        (lambda p: pp.remove_step(p, 2, "after", 3), "no after step 4"),
        (lambda p: pp.move_step(p, 2, "after", 0, 2), "no position 3"),
        (lambda p: pp.add_step(p, 5, "after", WaitStep(1)), "no wave 6"),
    ],
)
def test_steps_refused(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PlanEditError, match=message):
        edit(sample())


# ------------------------------------------------------------------------------- protection groups


def test_protection_groups_add_rename_remove_follow_waves() -> None:
    plan = pp.add_group(sample(), ProtectionGroup("apps", tags={"tier": "app"}))
    assert plan.group("apps") is not None
    plan = pp.replace_group(plan, "net", ProtectionGroup("network", server_ids=(E,)))
    assert plan.waves[0].groups == ("network",)
    plan = pp.remove_group(plan, "network")
    assert plan.waves[0].groups == ()
    assert [g.name for g in plan.protection_groups] == ["dbs", "apps"]


@pytest.mark.parametrize(
    ("group", "message"),
    [
        (ProtectionGroup("DBS", tags={"a": "b"}), "already a protection group"),
        (ProtectionGroup("x", server_ids=(A,), tags={"a": "b"}), "not both"),
        (ProtectionGroup("x"), "servers or at least one tag"),
        (ProtectionGroup("x", server_ids=("bad",)), "not a DRS source server ID"),
        (ProtectionGroup(" "), "needs a name"),
    ],
)
def test_protection_group_refused(group: ProtectionGroup, message: str) -> None:
    with pytest.raises(PlanEditError, match=message):
        pp.add_group(sample(), group)


# ------------------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(valid_plans(), st.data())
def test_moving_servers_keeps_every_server_once_and_the_plan_valid(
    plan: RecoveryPlan, data: st.DataObject
) -> None:
    refs = [(i, s) for i, w in enumerate(plan.waves) for s in w.servers]
    if not refs:
        return
    chosen = data.draw(st.lists(st.sampled_from(refs), min_size=1, unique=True))
    target = data.draw(st.integers(0, len(plan.waves) - 1))
    position = data.draw(st.integers(0, len(plan.waves[target].servers)))
    moved = pe.move_servers(plan, chosen, target, position)
    before = sorted(s for w in plan.waves for s in w.servers)
    after = sorted(s for w in moved.waves for s in w.servers)
    assert before == after
    assert {s for _, s in chosen} <= set(moved.waves[target].servers)
    optional_before = {s for w in plan.waves for s in w.optional}
    assert {s for w in moved.waves for s in w.optional} == optional_before
    # Emptying a wave is the only new problem a move may bring.
    assert all("empty" in p.message for p in validate_plan(moved))


# -- targets (plan format 2): an edit never moves a server to another account by accident


S1, S2, S3 = (f"s-{n:017x}" for n in (1, 2, 3))


def _two_target_plan() -> RecoveryPlan:
    from drs_desktop.domain.plan.model import PlanTarget

    return RecoveryPlan(
        name="Across",
        targets=(
            PlanTarget(name="a", account="111111111111", region="us-east-1", profile="pa"),
            PlanTarget(name="b", account="222222222222", region="eu-west-1", profile="pb"),
        ),
        waves=(
            Wave(name="One", target="a", servers=(S1, S2), server_targets={S2: "b"}),
            Wave(name="Two", target="b", servers=(S3,)),
        ),
    )


def test_a_removed_server_takes_its_target_entry_with_it() -> None:
    plan = pe.remove_entries(_two_target_plan(), servers=[(0, S2)])
    assert plan.waves[0].servers == (S1,) and dict(plan.waves[0].server_targets) == {}
    assert [p for p in validate_plan(plan) if p.severity is Severity.ERROR] == []


def test_a_moved_server_stays_in_its_target() -> None:
    plan = _two_target_plan()
    into_b = pe.move_servers(plan, [(0, S1), (0, S2)], 1)
    # s-1 was in the wave's target a: in wave Two (target b) it says so; s-2 was in b: no entry needed.
    assert into_b.waves[1].servers == (S3, S1, S2)
    assert dict(into_b.waves[1].server_targets) == {S1: "a"}
    assert dict(into_b.waves[0].server_targets) == {}
    back = pe.move_servers(into_b, [(1, S1), (1, S2)], 0)
    assert back.waves[0].servers == (S1, S2) and dict(back.waves[0].server_targets) == {S2: "b"}
    assert dict(back.waves[1].server_targets) == {}
    assert [p for p in validate_plan(back) if p.severity is Severity.ERROR] == []
