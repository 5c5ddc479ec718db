"""plan_to_document / plan_from_document: the canonical form, and every structural problem at once."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from drs_desktop.domain.errors import DrsDesktopError, PlanDocumentError
from drs_desktop.domain.plan.document import FORMAT_ID, join_path, plan_from_document, plan_to_document
from drs_desktop.domain.plan.model import ApprovalStep, ProtectionGroup, RecoveryPlan, WaitStep, Wave
from tests.strategies import valid_plans

A = "s-0123456789abcdef0"
B = "s-0123456789abcdef1"


def example_document() -> dict[str, Any]:
    return {
        "format": "drs-desktop/plan@1",
        "name": "Payments",
        "description": "Tier-1 payments estate",
        "rto_minutes": 60,
        "rpo_minutes": 15,
        "protection_groups": [
            {"name": "payments-db", "servers": [A]},
            {"name": "payments-web", "tags": {"App": "payments", "Tier": "web"}},
        ],
        "waves": [
            {
                "name": "Databases",
                "groups": ["payments-db"],
                "servers": [],
                "optional": [],
                "depends_on": [],
                "before": [{"approval": "DB team ready?"}],
                "after": [{"wait_minutes": 5}],
            },
            {"name": "Web", "groups": ["payments-web"]},
        ],
    }


EXAMPLE_PLAN = RecoveryPlan(
    name="Payments",
    description="Tier-1 payments estate",
    rto_minutes=60,
    rpo_minutes=15,
    protection_groups=(
        ProtectionGroup("payments-db", server_ids=(A,)),
        ProtectionGroup("payments-web", tags={"App": "payments", "Tier": "web"}),
    ),
    waves=(
        Wave(
            "Databases",
            groups=("payments-db",),
            depends_on=(),
            before=(ApprovalStep("DB team ready?"),),
            after=(WaitStep(5),),
        ),
        Wave("Web", groups=("payments-web",)),
    ),
)


def problems_of(doc: object) -> list[tuple[str, str]]:
    with pytest.raises(PlanDocumentError) as caught:
        plan_from_document(doc)
    assert caught.value.problems, "a PlanDocumentError always lists its problems"
    return caught.value.problems


def paths_of(doc: object) -> list[str]:
    return [path for path, _ in problems_of(doc)]


def with_changes(**changes: Any) -> dict[str, Any]:
    doc = example_document()
    doc.update(changes)
    return doc


# ------------------------------------------------------------------------------------- reading


def test_the_documented_example_reads_as_expected() -> None:
    assert plan_from_document(example_document()) == EXAMPLE_PLAN


def test_the_canonical_document_has_a_stable_order_and_leaves_empties_out() -> None:
    doc = plan_to_document(EXAMPLE_PLAN)
    assert list(doc) == [
        "format",
        "name",
        "description",
        "rto_minutes",
        "rpo_minutes",
        "protection_groups",
        "waves",
    ]
    assert doc["format"] == FORMAT_ID
    assert doc["waves"][0] == {
        "name": "Databases",
        "groups": ["payments-db"],
        "depends_on": [],  # "nothing" survives, distinct from "the previous wave"
        "before": [{"approval": "DB team ready?"}],
        "after": [{"wait_minutes": 5}],
    }
    assert doc["waves"][1] == {"name": "Web", "groups": ["payments-web"]}  # depends_on None: left out
    minimal = plan_to_document(RecoveryPlan("P", waves=(Wave("W", servers=(A,)),)))
    assert minimal == {"format": FORMAT_ID, "name": "P", "waves": [{"name": "W", "servers": [A]}]}
    assert json.loads(json.dumps(doc)) == doc  # plain JSON-ready data


def test_depends_on_none_and_empty_both_survive() -> None:
    p = RecoveryPlan("P", waves=(Wave("A", servers=(A,)), Wave("B", servers=(B,), depends_on=())))
    back = plan_from_document(plan_to_document(p))
    assert back.waves[0].depends_on is None
    assert back.waves[1].depends_on == ()


def test_invalid_but_representable_plans_round_trip_too() -> None:
    # The editor saves drafts; structure must survive even where validation would complain.
    p = RecoveryPlan(
        "",
        rto_minutes=0,
        protection_groups=(ProtectionGroup("neither"), ProtectionGroup("both", (A,), {"k": "v"})),
        waves=(Wave("", depends_on=("nowhere",), after=(WaitStep(-1), ApprovalStep(""))),),
    )
    assert plan_from_document(plan_to_document(p)) == p


def test_null_is_the_same_as_leaving_an_optional_key_out() -> None:
    doc = {
        "format": FORMAT_ID,
        "name": "P",
        "description": None,
        "rto_minutes": None,
        "protection_groups": None,
        "waves": [{"name": "W", "servers": None, "groups": None, "before": None}],
    }
    assert plan_from_document(doc) == RecoveryPlan("P", waves=(Wave("W"),))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_plans())
def test_any_valid_plan_survives_the_document_and_json(p: RecoveryPlan) -> None:
    doc = plan_to_document(p)
    assert plan_from_document(doc) == p
    assert plan_from_document(json.loads(json.dumps(doc))) == p  # what the database stores


# ------------------------------------------------------------------------------------- format


def test_not_a_mapping() -> None:
    documents: list[object] = [None, [], "format: x", 3, b"{}"]
    for doc in documents:
        problems = problems_of(doc)
        assert len(problems) == 1 and problems[0][0] == ""
        assert "must be a mapping" in problems[0][1]


def test_missing_format_names_the_supported_one_and_still_checks_the_rest() -> None:
    doc = example_document()
    del doc["format"]
    doc["waves"][0]["dependson"] = []
    problems = problems_of(doc)
    assert problems[0][0] == "" and FORMAT_ID in problems[0][1]
    assert [path for path, _ in problems] == ["", "waves[0].dependson"]


def test_a_newer_format_is_named_as_such_and_nothing_else_is_reported() -> None:
    problems = problems_of({"format": "drs-desktop/plan@5", "name": 5, "new_field": True})
    assert problems == [
        (
            "format",
            "drs-desktop/plan@5 was written by a newer DRS Desktop; this version reads "
            f"{FORMAT_ID}, drs-desktop/plan@2, drs-desktop/plan@3 or drs-desktop/plan@4 only",
        )
    ]


@pytest.mark.parametrize("value", ["drs-desktop/plan@0", "drs-desktop/plan", "something/else@1", 1, ["x"]])
def test_an_unsupported_format(value: object) -> None:
    problems = problems_of(with_changes(format=value))
    assert len(problems) == 1
    assert (
        problems[0][0] == "format" and "unsupported format" in problems[0][1] and FORMAT_ID in problems[0][1]
    )


# ------------------------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("where", "key", "expected_path", "suggestion"),
    [
        ((), "descripton", "descripton", "description"),
        ((), "RTO_minutes", "RTO_minutes", "rto_minutes"),
        (("protection_groups", 0), "server", "protection_groups[0].server", "servers"),
        (("waves", 0), "dependson", "waves[0].dependson", "depends_on"),
        (("waves", 1), "group", "waves[1].group", "groups"),
        (("waves", 0, "after", 0), "wait_minute", "waves[0].after[0].wait_minute", "wait_minutes"),
    ],
)
def test_unknown_keys_are_errors_with_a_suggestion(
    where: tuple[Any, ...], key: str, expected_path: str, suggestion: str
) -> None:
    doc = example_document()
    target: Any = doc
    for step in where:
        target = target[step]
    target[key] = target.pop(suggestion, 1)
    problems = problems_of(doc)
    assert [path for path, _ in problems] == [expected_path]
    assert f"did you mean '{suggestion}'?" in problems[0][1]


def test_an_unknown_key_far_from_any_lists_the_valid_ones() -> None:
    problems = problems_of(with_changes(zzz=1))
    assert problems[0][0] == "zzz"
    assert "expected one of: format, name" in problems[0][1]


def test_odd_keys_get_quoted_paths() -> None:
    problems = problems_of(with_changes(**{"a b": 1, "x\ny": 2}))
    assert [path for path, _ in problems] == ['["a b"]', '["x\\ny"]']
    assert all("\n" not in message for _, message in problems)


def test_non_string_keys() -> None:
    doc: dict[Any, Any] = example_document()
    doc[1] = "x"
    doc["waves"][0][None] = "y"
    problems = problems_of(doc)
    assert [path for path, _ in problems] == ["", "waves[0]"]
    assert "keys must be strings" in problems[0][1]


# ------------------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"name": 5}, "name", "must be a string, got an integer (put it in quotes)"),
        ({"name": ["x"]}, "name", "got a list"),
        ({"description": 1.5}, "description", "got a number"),
        ({"rto_minutes": True}, "rto_minutes", "got a boolean"),  # bool is not int
        ({"rto_minutes": 60.0}, "rto_minutes", "whole number"),
        ({"rpo_minutes": "15"}, "rpo_minutes", "got a string"),
        ({"protection_groups": {"name": "x"}}, "protection_groups", "must be a list"),
        ({"waves": "Databases"}, "waves", "must be a list of waves, got a string"),
    ],
)
def test_wrong_types_at_the_top(changes: dict[str, Any], path: str, words: str) -> None:
    problems = problems_of(with_changes(**changes))
    assert [p for p, _ in problems] == [path]
    assert words in problems[0][1]


def test_wrong_types_inside() -> None:
    doc = example_document()
    doc["protection_groups"][0]["servers"] = [A, 5, None]
    doc["protection_groups"][1]["tags"] = {"App": "payments", "Tier": 1, "On": True}
    doc["waves"][0]["groups"] = "payments-db"
    doc["waves"][0]["depends_on"] = None
    doc["waves"][1]["optional"] = [["nested"]]
    doc["waves"][1]["before"] = "wait"
    assert paths_of(doc) == [
        "protection_groups[0].servers[1]",
        "protection_groups[0].servers[2]",
        "protection_groups[1].tags.Tier",
        "protection_groups[1].tags.On",
        "waves[0].groups",
        "waves[0].depends_on",
        "waves[1].optional[0]",
        "waves[1].before",
    ]


def test_tags_must_be_a_mapping_of_strings() -> None:
    doc = example_document()
    doc["protection_groups"][1]["tags"] = ["App=payments"]
    doc["protection_groups"].append({"name": "x", "tags": {3: "y"}})
    problems = problems_of(doc)
    assert [p for p, _ in problems] == ["protection_groups[1].tags", "protection_groups[2].tags"]
    assert "tag names must be strings" in problems[1][1]


def test_missing_required_names() -> None:
    doc = example_document()
    del doc["name"]
    del doc["protection_groups"][0]["name"]
    doc["waves"][1]["name"] = None
    doc["waves"].append("just a string")
    problems = problems_of(doc)
    assert [p for p, _ in problems] == ["", "protection_groups[0]", "waves[1].name", "waves[2]"]
    assert problems[0][1] == "missing required key 'name'"
    assert "a wave must be a mapping, got a string" in problems[3][1]


@pytest.mark.parametrize(
    ("step", "path", "words"),
    [
        ({}, "waves[0].before[0]", "got an empty mapping"),
        ("approve", "waves[0].before[0]", "got a string"),
        ({"approval": "ok", "wait_minutes": 5}, "waves[0].before[0]", "exactly one"),
        ({"aproval": "ok"}, "waves[0].before[0].aproval", "did you mean 'approval'?"),
        ({"approval": 5}, "waves[0].before[0].approval", "must be a string"),
        ({"wait_minutes": "5"}, "waves[0].before[0].wait_minutes", "whole number"),
        ({"wait_minutes": False}, "waves[0].before[0].wait_minutes", "got a boolean"),
    ],
)
def test_bad_steps(step: object, path: str, words: str) -> None:
    doc = example_document()
    doc["waves"][0]["before"] = [step]
    problems = problems_of(doc)
    assert [p for p, _ in problems] == [path]
    assert words in problems[0][1]


def test_every_problem_is_reported_at_once() -> None:
    doc = example_document()
    doc["name"] = 1
    doc["rto_minutes"] = "1h"
    doc["protection_groups"][0]["servrs"] = []
    doc["waves"][0]["before"] = [{}]
    doc["waves"][1]["depends_on"] = "Databases"
    assert len(problems_of(doc)) == 5


def test_the_error_is_one_line_naming_the_first_problem_and_the_count() -> None:
    doc = example_document()
    doc["name"] = 1
    doc["rto_minutes"] = "1h"
    doc["waves"][0]["x"] = 1
    with pytest.raises(PlanDocumentError) as caught:
        plan_from_document(doc)
    text = str(caught.value)
    assert text.startswith("name: must be a string")
    assert text.endswith("(and 2 more problems)")
    assert "\n" not in text
    assert isinstance(caught.value, DrsDesktopError)


def test_the_input_document_is_not_modified() -> None:
    doc = example_document()
    doc["waves"][0]["dependson"] = []
    before = copy.deepcopy(doc)
    problems_of(doc)
    plan_from_document(example_document())
    assert doc == before


def test_join_path() -> None:
    assert join_path("", "waves") == "waves"
    assert join_path("waves", 2) == "waves[2]"
    assert join_path("waves[2]", "servers") == "waves[2].servers"
    assert join_path("tags", "aws:cloudformation:stack-name") == 'tags["aws:cloudformation:stack-name"]'
    assert join_path("", "") == '[""]'
    assert "\n" not in join_path("tags", "a\nb")
