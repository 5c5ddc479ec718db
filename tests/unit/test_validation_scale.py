"""Validation stays linear in the size of the plan: the work that once grew with its square is done
once (indexes) or within a fixed budget. No timings here (benchmarks are run on demand:
tests/benchmarks/bench_plan_validation.py); these count the costly calls and check the results."""

from __future__ import annotations

import difflib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan import validation_support
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import validate_plan
from drs_desktop.domain.plan.validation_support import (
    MAX_FUZZY_SEARCHES,
    Suggester,
    TagIndex,
    cycle_path,
    strongly_connected,
)


def server(number: int) -> str:
    return f"s-{number:017d}"


def unknown_groups_plan(waves: int) -> RecoveryPlan:
    return RecoveryPlan(
        "P",
        protection_groups=tuple(ProtectionGroup(f"group {i}", server_ids=(server(i),)) for i in range(waves)),
        waves=tuple(
            Wave(f"wave {i}", groups=(f"grup {i}",), depends_on=(f"wave {i}x",)) for i in range(waves)
        ),
    )


def test_unknown_names_get_a_bounded_number_of_fuzzy_searches(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = difflib.get_close_matches

    def counting(word: str, possibilities: Any, *args: Any, **kwargs: Any) -> list[str]:
        calls.append(len(possibilities))
        return real(word, possibilities, *args, **kwargs)

    monkeypatch.setattr(validation_support.difflib, "get_close_matches", counting)
    problems = validate_plan(unknown_groups_plan(800))
    assert len(problems) == 1600
    assert len(calls) <= 2 * MAX_FUZZY_SEARCHES  # one budget for group names, one for wave names
    assert max(calls) <= validation_support.MAX_RATIO_CANDIDATES
    assert problems[0].message == "unknown protection group 'grup 0' (did you mean 'group 0'?)"
    assert problems[1].message == "unknown wave 'wave 0x' (did you mean 'wave 0'?)"
    # Beyond the budget, a name that differs only in case or separators is still recognised.
    plan = unknown_groups_plan(800)
    late = plan.waves[700]
    waves = list(plan.waves)
    waves[700] = Wave(late.name, groups=("GROUP_700",), depends_on=())
    messages = [
        p.message
        for p in validate_plan(
            RecoveryPlan("P", protection_groups=plan.protection_groups, waves=tuple(waves))
        )
    ]
    assert "unknown protection group 'GROUP_700' (did you mean 'group 700'?)" in messages


def test_a_plan_that_is_one_long_cycle_gives_short_messages() -> None:
    count = 3000
    plan = RecoveryPlan(
        "P",
        waves=tuple(
            Wave(f"w{i}", servers=(server(i),), depends_on=(f"w{(i + 1) % count}",)) for i in range(count)
        ),
    )
    problems = validate_plan(plan)
    assert len(problems) == count - 1  # every wave but the last depends on a later one
    assert problems[0].message == (
        "wave 'w1' comes later; a wave can only depend on earlier waves (dependency cycle: "
        "'w0' -> 'w1' -> 'w2' -> 'w3' -> 'w4' -> ... (2994 more) -> 'w2999' -> 'w0')"
    )
    assert problems[-1].message.endswith("(part of a dependency cycle)")
    assert max(len(p.message) for p in problems) < 200


def test_a_forward_dependency_without_a_cycle_says_so_without_one() -> None:
    plan = RecoveryPlan(
        "P",
        waves=(
            Wave("a", servers=(server(1),), depends_on=("b",)),
            Wave("b", servers=(server(2),), depends_on=()),
        ),
    )
    assert [p.message for p in validate_plan(plan)] == [
        "wave 'b' comes later; a wave can only depend on earlier waves"
    ]


def test_components_and_cycle_paths_on_a_deep_graph() -> None:
    count = 50_000  # far deeper than Python's recursion limit
    edges = {i: [i + 1] for i in range(count - 1)} | {count - 1: [0]}
    component = strongly_connected(count, lambda node: edges[node])
    assert len(set(component)) == 1
    assert cycle_path(count - 1, 0, lambda node: edges[node], component) == [count - 1, *range(count)]
    chain = {i: [i + 1] for i in range(count - 1)} | {count - 1: []}
    component = strongly_connected(count, lambda node: chain[node])
    assert len(set(component)) == count
    assert cycle_path(0, 1, lambda node: chain[node], component) == []


def test_suggester_prefers_exact_folds_and_caches() -> None:
    suggester = Suggester(["Databases", "web tier", "App servers"])
    assert suggester.suggest("databases") == "Databases"
    assert suggester.suggest("web-tier") == "web tier"
    assert suggester.suggest("App servrs") == "App servers"
    assert suggester.suggest("zzz") is None
    assert Suggester([]).suggest("x") is None


TAGS = st.dictionaries(st.sampled_from(["App", "Tier", "Env"]), st.sampled_from(["a", "b", ""]), max_size=3)


@settings(max_examples=200, deadline=None)
@given(st.lists(TAGS, max_size=12), st.lists(TAGS, max_size=6))
def test_the_tag_index_matches_what_the_inventory_matches(
    servers: list[dict[str, str]], selectors: list[dict[str, str]]
) -> None:
    inventory = Inventory(servers=tuple(SourceServer(server(i), tags=tags) for i, tags in enumerate(servers)))
    index = TagIndex(inventory)
    for selector in selectors:
        assert index.matching(selector) == inventory.matching(selector)


def test_tag_groups_against_an_inventory_still_find_clashes() -> None:
    inventory = Inventory(servers=(SourceServer(server(1), tags={"App": "x", "Tier": "web"}),))
    plan = RecoveryPlan(
        "P",
        protection_groups=(
            ProtectionGroup("one", tags={"App": "x"}),
            ProtectionGroup("two", tags={"Tier": "web"}),
        ),
        waves=(Wave("W1", groups=("one",)), Wave("W2", groups=("two",))),
    )
    messages = [str(p) for p in validate_plan(plan, inventory)]
    assert any("already in protection group 'one'" in m for m in messages), messages
    assert any("already in wave 'W1'" in m for m in messages), messages
