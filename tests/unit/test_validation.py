"""validate_plan: every rule, every problem at once, with the plan file's field paths."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import (
    MAX_SERVERS_PER_JOB,
    ApprovalStep,
    ProtectionGroup,
    RecoveryPlan,
    WaitStep,
    Wave,
)
from drs_desktop.domain.plan.validation import (
    MAX_MINUTES,
    Problem,
    Severity,
    resolve_group,
    resolve_wave_servers,
    validate_plan,
)
from tests.strategies import valid_plans


def sid(n: int) -> str:
    """A well-formed DRS source server ID, distinct for each ``n``."""
    return f"s-{n:017d}"


A, B, C, D = sid(1), sid(2), sid(3), sid(4)


def inventory(*servers: tuple[str, dict[str, str]]) -> Inventory:
    return Inventory(
        servers=tuple(SourceServer(server_id, tags=tags) for server_id, tags in servers),
        account_id="111122223333",
        region="eu-west-1",
    )


def paths(problems: list[Problem]) -> list[str]:
    return [problem.path for problem in problems]


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def plan(
    *waves: Wave,
    groups: tuple[ProtectionGroup, ...] = (),
    name: str = "P",
    rto_minutes: int | None = None,
    rpo_minutes: int | None = None,
) -> RecoveryPlan:
    return RecoveryPlan(
        name=name, rto_minutes=rto_minutes, rpo_minutes=rpo_minutes, protection_groups=groups, waves=waves
    )


# ------------------------------------------------------------------------------------- valid plans


def test_a_sensible_plan_has_no_problems() -> None:
    groups = (ProtectionGroup("db", server_ids=(A, B)), ProtectionGroup("web", tags={"Tier": "web"}))
    p = plan(
        Wave("Databases", groups=("db",), optional=(B,), before=(ApprovalStep("DB team ready?"),)),
        Wave("Web", groups=("web",), servers=(D,), after=(WaitStep(5),)),
        groups=groups,
        rto_minutes=60,
        rpo_minutes=15,
    )
    assert validate_plan(p) == []
    inv = inventory((A, {}), (B, {}), (C, {"Tier": "web"}), (D, {}))
    assert validate_plan(p, inv) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_plans())
def test_generated_valid_plans_have_no_problems(p: RecoveryPlan) -> None:
    assert validate_plan(p) == []


# ------------------------------------------------------------------------------------- plan fields


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_blank_plan_name(name: str) -> None:
    problem = only(validate_plan(plan(Wave("W", servers=(A,)), name=name)))
    assert problem.path == "name"
    assert problem.severity is Severity.ERROR


@pytest.mark.parametrize("field", ["rto_minutes", "rpo_minutes"])
@pytest.mark.parametrize("value", [0, -1, MAX_MINUTES + 1])
def test_targets_must_be_positive_minutes_within_a_year(field: str, value: int) -> None:
    p = plan(Wave("W", servers=(A,)), **{field: value})  # type: ignore[arg-type]
    problem = only(validate_plan(p))
    assert problem.path == field
    assert str(value) in problem.message


def test_targets_at_the_limits_are_fine() -> None:
    assert validate_plan(plan(Wave("W", servers=(A,)), rto_minutes=1, rpo_minutes=MAX_MINUTES)) == []


def test_a_plan_without_waves_is_only_a_warning() -> None:
    problem = only(validate_plan(plan()))
    assert (problem.path, problem.severity) == ("waves", Severity.WARNING)
    assert problem.severity is not Severity.ERROR


# ------------------------------------------------------------------------------------- protection groups


def test_group_with_both_servers_and_tags() -> None:
    group = ProtectionGroup("g", server_ids=(A,), tags={"App": "x"})
    problem = only(validate_plan(plan(Wave("W", groups=("g",)), groups=(group,))))
    assert problem.path == "protection_groups[0]"
    assert "both servers and tags" in problem.message


def test_group_with_neither_servers_nor_tags() -> None:
    problems = validate_plan(plan(Wave("W", servers=(A,)), groups=(ProtectionGroup("g"),)))
    assert paths(problems) == ["protection_groups[0].servers"]


def test_empty_tag_selector_and_blank_tag_name() -> None:
    groups = (ProtectionGroup("g", tags={}), ProtectionGroup("h", tags={" ": "x"}))
    problems = validate_plan(plan(Wave("W", servers=(A,)), groups=groups))
    assert paths(problems) == ["protection_groups[0].tags", 'protection_groups[1].tags[" "]']
    assert "empty" in problems[0].message


def test_blank_and_duplicate_group_names() -> None:
    groups = (
        ProtectionGroup("g", server_ids=(A,)),
        ProtectionGroup("", server_ids=(B,)),
        ProtectionGroup("g", server_ids=(C,)),
    )
    problems = validate_plan(plan(Wave("W", servers=(D,)), groups=groups))
    assert paths(problems) == ["protection_groups[1].name", "protection_groups[2].name"]
    assert "duplicate" in problems[1].message and "protection_groups[0]" in problems[1].message


@pytest.mark.parametrize(
    "bad",
    [
        "s-0123456789abcdef",  # 16 characters
        "s-0123456789abcdef01",  # 18
        "S-0123456789abcdef0",  # upper-case prefix
        "i-0123456789abcdef0",  # an EC2 instance ID
        "s-0123456789abcdef_",
        "s-0123456789abcdéf0",
        " s-0123456789abcdef0",
        "",
    ],
)
def test_server_ids_must_match_the_drs_pattern(bad: str) -> None:
    groups = (ProtectionGroup("g", server_ids=(A, bad)),)
    p = plan(Wave("W", groups=("g",), servers=(bad,), optional=(bad,)), groups=groups)
    problems = validate_plan(p)
    assert paths(problems) == [
        "protection_groups[0].servers[1]",
        "waves[0].servers[0]",
        "waves[0].optional[0]",
    ]
    assert all("not a DRS source server ID" in problem.message for problem in problems)


def test_server_listed_twice_in_one_group() -> None:
    groups = (ProtectionGroup("g", server_ids=(A, A)),)
    problem = only(validate_plan(plan(Wave("W", groups=("g",)), groups=groups)))
    assert problem.path == "protection_groups[0].servers[1]"


def test_server_in_two_protection_groups() -> None:
    groups = (ProtectionGroup("g", server_ids=(A, B)), ProtectionGroup("h", server_ids=(C, B)))
    problem = only(validate_plan(plan(Wave("W", groups=("g", "h")), groups=groups)))
    assert problem.path == "protection_groups[1].servers[1]"
    assert B in problem.message and "'g'" in problem.message
    # Used in two waves, the shared server is also in two waves: both problems are reported.
    problems = validate_plan(plan(Wave("W", groups=("g",)), Wave("X", groups=("h",)), groups=groups))
    assert paths(problems) == ["protection_groups[1].servers[1]", "waves[1].groups[0]"]


def test_tag_group_overlapping_another_group_with_an_inventory() -> None:
    groups = (ProtectionGroup("g", server_ids=(A,)), ProtectionGroup("web", tags={"Tier": "web"}))
    p = plan(Wave("W", groups=("g",)), Wave("X", groups=("web",)), groups=groups)
    assert validate_plan(p) == []  # without an inventory the selector is not resolved
    inv = inventory((A, {"Tier": "web"}), (B, {"Tier": "web"}))
    problems = validate_plan(p, inv)
    assert paths(problems) == ["protection_groups[1].tags", "waves[1].groups[0]"]
    assert A in problems[0].message


def test_unknown_servers_need_an_inventory() -> None:
    groups = (ProtectionGroup("g", server_ids=(A, C)),)
    p = plan(Wave("W", groups=("g",), servers=(B, D)), groups=groups)
    assert validate_plan(p) == []
    problems = validate_plan(p, inventory((A, {}), (B, {})))
    assert paths(problems) == ["protection_groups[0].servers[1]", "waves[0].servers[1]"]
    assert f"unknown source server {C}" in problems[0].message
    assert "111122223333/eu-west-1" in problems[0].message


# ------------------------------------------------------------------------------------- waves


def test_blank_and_duplicate_wave_names() -> None:
    p = plan(Wave("W", servers=(A,)), Wave(" ", servers=(B,)), Wave("W", servers=(C,)))
    problems = validate_plan(p)
    assert paths(problems) == ["waves[1].name", "waves[2].name"]
    assert "waves[0]" in problems[1].message


def test_unknown_group_with_a_suggestion() -> None:
    groups = (ProtectionGroup("payments-web", server_ids=(A,)),)
    problem = only(validate_plan(plan(Wave("W", groups=("payments-wbe",)), groups=groups)))
    assert problem.path == "waves[0].groups[0]"
    assert "unknown protection group 'payments-wbe'" in problem.message
    assert "did you mean 'payments-web'" in problem.message


def test_group_listed_twice_in_a_wave() -> None:
    groups = (ProtectionGroup("g", server_ids=(A,)),)
    assert paths(validate_plan(plan(Wave("W", groups=("g", "g")), groups=groups))) == ["waves[0].groups[1]"]


def test_server_in_two_waves_explicitly() -> None:
    problem = only(validate_plan(plan(Wave("W", servers=(A, B)), Wave("X", servers=(C, B)))))
    assert problem.path == "waves[1].servers[1]"
    assert B in problem.message and "'W'" in problem.message


def test_server_in_two_waves_through_a_group() -> None:
    groups = (ProtectionGroup("g", server_ids=(A, B, C)),)
    problem = only(validate_plan(plan(Wave("W", servers=(B, C)), Wave("X", groups=("g",)), groups=groups)))
    assert problem.path == "waves[1].groups[0]"
    assert B in problem.message and "(and 1 more)" in problem.message


def test_same_group_in_two_waves() -> None:
    groups = (ProtectionGroup("g", server_ids=(A,)),)
    problem = only(validate_plan(plan(Wave("W", groups=("g",)), Wave("X", groups=("g",)), groups=groups)))
    assert problem.path == "waves[1].groups[0]"


def test_a_server_both_in_a_wave_group_and_its_own_list_is_fine() -> None:
    groups = (ProtectionGroup("g", server_ids=(A, B)),)
    p = plan(Wave("W", groups=("g",), servers=(B, C)), groups=groups)
    assert validate_plan(p) == []
    assert resolve_wave_servers(p, 0, None) == (A, B, C)


def test_server_listed_twice_in_a_wave() -> None:
    assert paths(validate_plan(plan(Wave("W", servers=(A, A))))) == ["waves[0].servers[1]"]


def test_empty_waves() -> None:
    groups = (ProtectionGroup("web", tags={"Tier": "web"}),)
    p = plan(Wave("Nothing"), Wave("Tags", groups=("web",)), groups=groups)
    problem = only(validate_plan(p))  # a tag group is not called empty without an inventory
    assert problem.path == "waves[0]"
    assert "empty" in problem.message
    problems = validate_plan(p, inventory((A, {"Tier": "db"})))
    assert paths(problems) == ["waves[0]", "waves[1]"]
    assert "select no source server" in problems[1].message


def test_a_wave_with_only_a_broken_reference_is_not_also_called_empty() -> None:
    problem = only(validate_plan(plan(Wave("W", groups=("missing",)))))
    assert problem.path == "waves[0].groups[0]"


def test_optional_must_be_servers_of_the_wave() -> None:
    groups = (ProtectionGroup("g", server_ids=(A,)),)
    p = plan(Wave("W", groups=("g",), servers=(B,), optional=(A, B, C, A)), groups=groups)
    problems = validate_plan(p)
    assert paths(problems) == ["waves[0].optional[2]", "waves[0].optional[3]"]
    assert "not a server of this wave" in problems[0].message
    assert "twice" in problems[1].message


def test_optional_servers_of_an_unresolved_tag_group_are_not_judged() -> None:
    groups = (ProtectionGroup("web", tags={"Tier": "web"}),)
    p = plan(Wave("W", groups=("web",), optional=(A,)), groups=groups)
    assert validate_plan(p) == []
    assert paths(validate_plan(p, inventory((B, {"Tier": "web"})))) == ["waves[0].optional[0]"]
    assert validate_plan(p, inventory((A, {"Tier": "web"}))) == []


def test_impact_follows_optional() -> None:
    wave = Wave("W", servers=(A, B), optional=(B,))
    assert (wave.impact_of(A), wave.impact_of(B)) == ("CRITICAL", "OPTIONAL")


# ------------------------------------------------------------------------------------- dependencies


def test_dependencies_on_earlier_waves_are_fine() -> None:
    p = plan(
        Wave("A", servers=(A,)),
        Wave("B", servers=(B,), depends_on=()),
        Wave("C", servers=(C,), depends_on=("A", "B")),
    )
    assert validate_plan(p) == []
    assert p.dependencies(1) == ()
    assert p.dependencies(2) == ("A", "B")


def test_unknown_self_duplicate_and_later_dependencies() -> None:
    p = plan(
        Wave("First", servers=(A,), depends_on=("Frist", "First", "Second")),
        Wave("Second", servers=(B,), depends_on=("First", "First")),
    )
    problems = validate_plan(p)
    assert paths(problems) == [
        "waves[0].depends_on[0]",
        "waves[0].depends_on[1]",
        "waves[0].depends_on[2]",
        "waves[1].depends_on[1]",
    ]
    assert "unknown wave 'Frist'" in problems[0].message and "did you mean 'First'" in problems[0].message
    assert "itself" in problems[1].message
    assert "later" in problems[2].message and "cycle" in problems[2].message
    assert "twice" in problems[3].message


def test_a_cycle_through_the_default_dependency_is_named() -> None:
    # A waits for C; B waits for A (the default), C waits for B (the default): A -> C -> B -> A.
    p = plan(Wave("A", servers=(A,), depends_on=("C",)), Wave("B", servers=(B,)), Wave("C", servers=(C,)))
    problem = only(validate_plan(p))
    assert problem.path == "waves[0].depends_on[0]"
    assert "dependency cycle: 'A' -> 'C' -> 'B' -> 'A'" in problem.message


def test_a_later_dependency_without_a_cycle_is_still_an_error() -> None:
    p = plan(Wave("A", servers=(A,), depends_on=("B",)), Wave("B", servers=(B,), depends_on=()))
    problem = only(validate_plan(p))
    assert "later" in problem.message and "cycle" not in problem.message


# ------------------------------------------------------------------------------------- steps


def test_steps() -> None:
    wave = Wave(
        "W",
        servers=(A,),
        before=(ApprovalStep("ok?"), ApprovalStep("  ")),
        after=(WaitStep(0), WaitStep(-3), WaitStep(MAX_MINUTES + 1), WaitStep(MAX_MINUTES)),
    )
    problems = validate_plan(plan(wave))
    assert paths(problems) == [
        "waves[0].before[1].approval",
        "waves[0].after[0].wait_minutes",
        "waves[0].after[1].wait_minutes",
        "waves[0].after[2].wait_minutes",
    ]


# ------------------------------------------------------------------------------------- job size


def test_a_wave_over_the_job_limit_is_a_warning() -> None:
    servers = tuple(sid(n) for n in range(2 * MAX_SERVERS_PER_JOB + 50))
    p = plan(Wave("Big", servers=servers), Wave("Small", servers=(sid(10_000),)))
    problem = only(validate_plan(p))
    assert (problem.path, problem.severity) == ("waves[0]", Severity.WARNING)
    assert "250 servers" in problem.message and "3 jobs" in problem.message
    assert problem.severity is not Severity.ERROR
    assert str(problem).startswith("warning: waves[0]: ")


def test_a_wave_of_exactly_the_job_limit_is_fine() -> None:
    servers = tuple(sid(n) for n in range(MAX_SERVERS_PER_JOB))
    assert validate_plan(plan(Wave("W", servers=servers))) == []


# ------------------------------------------------------------------------------------- all at once


def test_every_problem_at_once_in_document_order() -> None:
    groups = (
        ProtectionGroup("g", server_ids=(A, "bad")),
        ProtectionGroup("g", tags={}),
    )
    waves = (
        Wave("W", groups=("g", "nope"), servers=(A,), before=(ApprovalStep(""),)),
        Wave("W", depends_on=("Z",)),
    )
    problems = validate_plan(RecoveryPlan(name="", rto_minutes=0, protection_groups=groups, waves=waves))
    assert paths(problems) == [
        "name",
        "rto_minutes",
        "protection_groups[0].servers[1]",
        "protection_groups[1].name",
        "protection_groups[1].tags",
        "waves[0].groups[1]",
        "waves[0].before[0].approval",
        "waves[1]",
        "waves[1].name",
        "waves[1].depends_on[0]",
    ]
    assert any(p.severity is Severity.ERROR for p in problems)


def test_problem_str() -> None:
    assert str(Problem("waves[2].servers[5]", f"unknown source server {A}")) == (
        f"waves[2].servers[5]: unknown source server {A}"
    )
    assert str(Problem("", "whole plan")) == "whole plan"
    assert str(Problem("waves[0]", "big", Severity.WARNING)) == "warning: waves[0]: big"


# ------------------------------------------------------------------------------------- resolution


def test_resolve_group() -> None:
    inv = inventory((A, {"App": "pay", "Tier": "web"}), (B, {"App": "pay"}), (C, {"Tier": "web"}))
    assert resolve_group(ProtectionGroup("g", server_ids=(C, A)), inv) == (C, A)
    assert resolve_group(ProtectionGroup("g", server_ids=(C, A)), None) == (C, A)
    assert resolve_group(ProtectionGroup("t", tags={"App": "pay"}), inv) == (A, B)
    assert resolve_group(ProtectionGroup("t", tags={"App": "pay", "Tier": "web"}), inv) == (A,)
    assert resolve_group(ProtectionGroup("t", tags={"App": "pay"}), None) == ()
    assert resolve_group(ProtectionGroup("t", tags={}), inv) == ()  # never "every server"


def test_resolve_wave_servers_keeps_order_and_drops_duplicates() -> None:
    inv = inventory((A, {"Tier": "web"}), (B, {"Tier": "web"}), (C, {}))
    groups = (ProtectionGroup("ids", server_ids=(C, A)), ProtectionGroup("web", tags={"Tier": "web"}))
    p = plan(Wave("W", groups=("ids", "missing", "web"), servers=(D, A)), groups=groups)
    assert resolve_wave_servers(p, 0, inv) == (C, A, B, D)
    assert resolve_wave_servers(p, 0, None) == (C, A, D)
