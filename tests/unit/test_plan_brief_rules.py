"""The test brief and the cadence: each validation message with its path, the editor's edits refusing what
validation calls an error, the revision diff in words, and the editor's place names for the problems."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drs_desktop.domain.plan.diff import diff_plans
from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.edit_brief import set_brief, set_cadence
from drs_desktop.domain.plan.model import Cadence, RecoveryPlan, Wave
from drs_desktop.domain.plan.model import TestBrief as Brief  # not a test class to pytest
from drs_desktop.domain.plan.problem_places import problem_text
from drs_desktop.domain.plan.validation import Problem, Severity, validate_plan
from drs_desktop.domain.safe_text import name_problem
from tests.strategies import hostile_strings

A = "s-0123456789abcdef0"
PLAN = RecoveryPlan("P", waves=(Wave("W", servers=(A,)),))
EVERY = "must be a whole number of days from 1 to 3660 (ten years), got "
RETEST = "must be a whole number of days from 1 to 365 (a year), got "
GOOD_BRIEF = Brief("Loss of the primary site", ("Recover", "Prove"), ("API up",), ("Alice", "Bob"))


def problems(**fields: object) -> list[Problem]:
    return validate_plan(replace(PLAN, **fields))  # type: ignore[arg-type]


def test_a_good_brief_and_cadence_have_no_problems() -> None:
    assert problems(brief=GOOD_BRIEF, cadence=Cadence(90, 30, True)) == []
    assert problems(cadence=Cadence(every_days=1, retest_days=1)) == []
    assert problems(cadence=Cadence(every_days=3660, retest_days=365)) == []


@pytest.mark.parametrize(
    ("cadence", "path", "message"),
    [
        (Cadence(every_days=0), "cadence.every_days", f"{EVERY}0"),
        (Cadence(every_days=3661), "cadence.every_days", f"{EVERY}3661"),
        (Cadence(retest_days=-5), "cadence.retest_days", f"{RETEST}-5"),
        (Cadence(retest_days=366), "cadence.retest_days", f"{RETEST}366"),
    ],
)
def test_each_cadence_number_out_of_range_is_an_error_with_its_path(
    cadence: Cadence, path: str, message: str
) -> None:
    assert problems(cadence=cadence) == [Problem(path, message)]


def test_a_retest_window_longer_than_the_cadence_is_a_warning() -> None:
    assert problems(cadence=Cadence(every_days=14, retest_days=30)) == [
        Problem(
            "cadence.retest_days",
            "a re-test within 30 days is longer than the cadence of 14 days: "
            "the regular drill falls due first",
            Severity.WARNING,
        )
    ]


@pytest.mark.parametrize(
    ("brief", "path", "words"),
    [
        (Brief(scenario="   "), "test.scenario", "the scenario is blank; write one or leave it out"),
        (Brief(scenario="two\nlines"), "test.scenario", "a scenario must be one line of printable text"),
        (Brief(scenario="x" * 301), "test.scenario", "is 301 characters long; at most 300 are allowed"),
        (Brief(objectives=("ok", " ")), "test.objectives[1]", "an objective must not be blank"),
        (Brief(objectives=("a\tb",)), "test.objectives[0]", "an objective must be one line of printable"),
        (Brief(success_criteria=("\u202eevil",)), "test.success_criteria[0]", "criterion must be one line"),
        (Brief(participants=("y" * 400,)), "test.participants[0]", "is 400 characters long"),
        (Brief(objectives=tuple(f"o{n}" for n in range(21))), "test.objectives", "holds 21 entries; at most"),
        (Brief(participants=tuple(f"p{n}" for n in range(25))), "test.participants", "holds 25 entries"),
    ],
)
def test_each_brief_problem_is_an_error_with_its_path(brief: Brief, path: str, words: str) -> None:
    found = problems(brief=brief)
    assert [(p.path, p.severity) for p in found] == [(path, Severity.ERROR)]
    assert words in found[0].message


def test_an_entry_listed_twice_is_a_warning() -> None:
    found = problems(brief=Brief(participants=("Alice", "alice ")))
    assert found == [
        Problem("test.participants[1]", "the participant 'alice' is listed twice", Severity.WARNING)
    ]


def test_the_editor_names_the_place_of_a_brief_or_cadence_problem() -> None:
    plan = replace(PLAN, brief=Brief(objectives=("ok", "")), cadence=Cadence(every_days=0))
    texts = [problem_text(problem, plan) for problem in validate_plan(plan)]
    assert texts == [
        "Test brief, objective 2: an objective must not be blank",
        "Cadence, test every: must be a whole number of days from 1 to 3660 (ten years), got 0",
    ]


# ------------------------------------------------------------------------------------------------ edits


def test_set_brief_trims_and_drops_blank_entries() -> None:
    edited = set_brief(PLAN, Brief("  Loss  ", ("  Recover ", "", "  "), ("API up",), ("Alice", "\t")))
    assert edited.brief == Brief("Loss", ("Recover",), ("API up",), ("Alice",))
    assert edited.waves == PLAN.waves


@pytest.mark.parametrize(
    ("brief", "message"),
    [
        (Brief(scenario="a\x1bb"), "Test brief, scenario: holds a control character"),
        (Brief(objectives=tuple(str(n) for n in range(21))), "Test brief, objectives: holds 21 entries"),
        (Brief(participants=("z" * 301,)), "Test brief, participant 1: is 301 characters long"),
    ],
)
def test_set_brief_refuses_what_validation_calls_an_error(brief: Brief, message: str) -> None:
    with pytest.raises(PlanEditError) as caught:
        set_brief(PLAN, brief)
    assert str(caught.value).startswith(message)


def test_set_brief_allows_a_warning() -> None:
    assert set_brief(PLAN, Brief(objectives=("a", "a"))).brief.objectives == ("a", "a")


def test_set_cadence_refuses_a_number_out_of_range_and_allows_the_rest() -> None:
    with pytest.raises(PlanEditError, match=r"^Cadence, re-test within: must be a whole number of days"):
        set_cadence(PLAN, Cadence(retest_days=0))
    assert set_cadence(PLAN, Cadence(7, 30, True)).cadence == Cadence(7, 30, True)  # a warning only


# ------------------------------------------------------------------------------------------------- diff


def test_a_changed_brief_shows_in_the_diff_in_words() -> None:
    old = replace(PLAN, brief=GOOD_BRIEF)
    new = replace(
        PLAN,
        brief=Brief("Loss of a Region", ("Prove", "Recover"), ("API up", "DB consistent"), ("Alice",)),
    )
    assert diff_plans(old, new) == [
        "test scenario: 'Loss of the primary site' -> 'Loss of a Region'",
        "test objectives reordered: ['Recover', 'Prove'] -> ['Prove', 'Recover']",
        "test success criterion 'DB consistent' added",
        "test participant 'Bob' removed",
    ]
    assert diff_plans(PLAN, replace(PLAN, brief=Brief(scenario="X"))) == ["test scenario: none -> 'X'"]
    assert diff_plans(old, old) == []


def test_a_changed_cadence_shows_in_the_diff_in_words() -> None:
    old = replace(PLAN, cadence=Cadence(every_days=90, retest_days=30))
    new = replace(PLAN, cadence=Cadence(every_days=60, after_changes=True))
    assert diff_plans(old, new) == [
        "cadence every_days: 90 days -> 60 days",
        "cadence retest_days: 30 days -> none",
        "cadence after_changes: false -> true (test again after material changes)",
    ]
    assert diff_plans(PLAN, replace(PLAN, cadence=Cadence(every_days=1))) == [
        "cadence every_days: none -> 1 day"
    ]


# --------------------------------------------------------------------------------------- hostile text


@settings(max_examples=150, deadline=None)
@given(
    text=hostile_strings,
    where=st.sampled_from(["scenario", "objectives", "success_criteria", "participants"]),
)
def test_hostile_text_anywhere_in_the_brief_is_an_error_at_its_place(text: str, where: str) -> None:
    entries: dict[str, object] = {where: text if where == "scenario" else ("fine", text)}
    brief = replace(Brief(), **entries)  # type: ignore[arg-type]
    path = "test.scenario" if where == "scenario" else f"test.{where}[1]"
    found = [p for p in problems(brief=brief) if p.severity is Severity.ERROR]
    if text.strip():
        assert [p.path for p in found] == [path], found
    else:  # only control characters that strip() removes: blank
        assert [p.path for p in found] == [path] and "blank" in found[0].message
    # The editor trims each entry: what trimming leaves hostile is refused, what it cleans is valid.
    if name_problem(text.strip()) is not None:
        with pytest.raises(PlanEditError):
            set_brief(PLAN, brief)
    else:
        edited = set_brief(PLAN, brief)
        assert [p for p in validate_plan(edited) if p.severity is Severity.ERROR] == []


def test_an_access_key_id_pasted_into_the_brief_is_refused_by_place_never_quoted() -> None:
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    found = problems(brief=Brief(scenario=f"use {key}", participants=("Alice", f"key {key}")))
    assert [p.path for p in found] == ["test.scenario", "test.participants[1]"]
    assert all("access key ID" in p.message and key not in p.message for p in found)
