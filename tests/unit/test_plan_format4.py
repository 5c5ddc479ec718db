"""Plan format 4: the test brief and the cadence read and written (every field round-trips), refused by
name in older files, bad input named with its path; plans without them keep their format and bytes."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drs_desktop.domain.errors import PlanDocumentError, PlanFileError
from drs_desktop.domain.plan.automation import HealthCheckStep, Probe
from drs_desktop.domain.plan.document import (
    FORMAT_V1,
    FORMAT_V2,
    FORMAT_V3,
    FORMAT_V4,
    plan_from_document,
    plan_to_document,
)
from drs_desktop.domain.plan.model import ApprovalStep, Cadence, PlanTarget, RecoveryPlan, Wave
from drs_desktop.domain.plan.model import TestBrief as Brief  # not a test class to pytest
from drs_desktop.domain.plan.validation import validate_plan
from drs_desktop.storage.planfile import dump_plan, parse_plan_text
from drs_desktop.storage.plans import canonical_json
from tests.strategies import names

A = "s-0123456789abcdef0"
BRIEF = Brief(
    scenario="Loss of the primary site",
    objectives=("Recover payments in eu-west-1", "Prove the runbook"),
    success_criteria=("API answers within the RTO", "No data older than the RPO"),
    participants=("DR lead", "DBA on call"),
)
CADENCE = Cadence(every_days=90, retest_days=30, after_changes=True)
ROOT = Path(__file__).resolve().parents[2]


def plan_with(**fields: Any) -> RecoveryPlan:
    return RecoveryPlan(name="P", waves=(Wave(name="W", servers=(A,)),), **fields)


def doc(fmt: str = FORMAT_V4, **parts: Any) -> dict[str, Any]:
    return {"format": fmt, "name": "P", "waves": [{"name": "W", "servers": [A]}], **parts}


def problems_of(document: object) -> list[tuple[str, str]]:
    with pytest.raises(PlanDocumentError) as caught:
        plan_from_document(document)
    return list(caught.value.problems)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------ round trip


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_brief_and_a_cadence_round_trip_through_the_document_and_the_file(fmt: str) -> None:
    plan = plan_with(brief=BRIEF, cadence=CADENCE)
    document = plan_to_document(plan)
    assert document["format"] == FORMAT_V4
    assert list(document)[-2:] == ["test", "cadence"]
    assert document["test"] == {
        "scenario": BRIEF.scenario,
        "objectives": list(BRIEF.objectives),
        "success_criteria": list(BRIEF.success_criteria),
        "participants": list(BRIEF.participants),
    }
    assert document["cadence"] == {"every_days": 90, "retest_days": 30, "after_changes": True}
    assert plan_from_document(document) == plan
    text = dump_plan(plan, fmt)  # type: ignore[arg-type]
    assert parse_plan_text(text, f"p.{fmt}").plan == plan


def test_empty_parts_are_left_out_and_a_partial_brief_or_cadence_round_trips() -> None:
    plan = plan_with(brief=Brief(participants=("Alice",)), cadence=Cadence(retest_days=14))
    document = plan_to_document(plan)
    assert document["test"] == {"participants": ["Alice"]}
    assert document["cadence"] == {"retest_days": 14}
    assert plan_from_document(document) == plan
    only_changes = plan_with(cadence=Cadence(after_changes=True))
    assert plan_to_document(only_changes)["cadence"] == {"after_changes": True}
    assert plan_from_document(plan_to_document(only_changes)) == only_changes


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    brief=st.builds(
        Brief,
        scenario=st.one_of(st.just(""), names),
        objectives=st.lists(names, max_size=4).map(tuple),
        success_criteria=st.lists(names, max_size=4).map(tuple),
        participants=st.lists(names, max_size=4).map(tuple),
    ),
    cadence=st.builds(
        Cadence,
        every_days=st.one_of(st.none(), st.integers(1, 3660)),
        retest_days=st.one_of(st.none(), st.integers(1, 365)),
        after_changes=st.booleans(),
    ),
    fmt=st.sampled_from(["yaml", "json"]),
)
def test_any_brief_and_cadence_round_trip_in_the_oldest_format_that_holds_them(
    brief: Brief, cadence: Cadence, fmt: str
) -> None:
    plan = plan_with(brief=brief, cadence=cadence)
    document = plan_to_document(plan)
    assert document["format"] == (FORMAT_V1 if brief.empty and cadence.empty else FORMAT_V4)
    assert parse_plan_text(dump_plan(plan, fmt), f"p.{fmt}").plan == plan  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- older formats unchanged


#: (plan, its format, SHA-256 of its canonical JSON, SHA-256 of its YAML file), the hashes as the format-3
#: code of commit 3bb15e1 wrote them: a plan without brief and cadence keeps its bytes and content hash.
OLDER = [
    (
        RecoveryPlan(
            "P",
            description="d",
            rto_minutes=60,
            waves=(Wave("W", servers=(A,), before=(ApprovalStep("go?"),)),),
        ),
        FORMAT_V1,
        "ce9eb19527f80fa0d88fa0047a21099a04b97ef4f2b43e2140b1498e1e3bf065",
        "cd0f96b9d6f1adef684162c274d75baebf0ee0a285724a0d3545a96bfcd2f1f6",
    ),
    (
        plan_with(targets=(PlanTarget("a", "111111111111", "us-east-1", profile="p"),)),
        FORMAT_V2,
        "bf729cef89598a4292d6fecde3d190e2d7871c9a0a18fba3818377d28f60fcb3",
        "6c1914e3b03027bffbb94ef2b5af547ab202a7b69e6cd5adcd2a9cfc3a8f14b8",
    ),
    (
        RecoveryPlan("P", waves=(Wave("W", servers=(A,), after=(HealthCheckStep("h", Probe.TCP, 22),)),)),
        FORMAT_V3,
        "df6c839e279aa7e61feb2ccf431cde86a99f501f320bdf33946fc0731b99b10d",
        "c995d287a54c1b61aafdd1c0538301f6f0c52e66fabdc897690fd4438e007bb9",
    ),
]


@pytest.mark.parametrize(
    ("plan", "fmt", "json_sha", "yaml_sha"), OLDER, ids=["format-1", "format-2", "format-3"]
)
def test_a_plan_without_brief_and_cadence_keeps_its_format_and_bytes(
    plan: RecoveryPlan, fmt: str, json_sha: str, yaml_sha: str
) -> None:
    document = plan_to_document(plan)
    assert document["format"] == fmt
    assert "test" not in document and "cadence" not in document
    assert sha256(canonical_json(document)) == json_sha
    assert sha256(dump_plan(plan, "yaml")) == yaml_sha
    explicit = replace(plan, brief=Brief(), cadence=Cadence(after_changes=False))
    assert sha256(canonical_json(plan_to_document(explicit))) == json_sha


def test_a_format_4_file_with_neither_part_is_written_back_in_the_oldest_format() -> None:
    plan = plan_from_document(doc(test={}, cadence={"after_changes": False}))
    assert plan == plan_with()
    assert plan_to_document(plan)["format"] == FORMAT_V1


# ------------------------------------------------------------------------------------- refused by name


@pytest.mark.parametrize("fmt", [FORMAT_V1, FORMAT_V2, FORMAT_V3])
@pytest.mark.parametrize("key", ["test", "cadence"])
def test_a_format_4_key_in_an_older_file_asks_for_format_4(fmt: str, key: str) -> None:
    assert problems_of(doc(fmt, **{key: {"every_days": 3} if key == "cadence" else {"scenario": "x"}})) == [
        (key, f"{key!r} is a key of format 4 (test brief and cadence): write format: {FORMAT_V4} to use it")
    ]


@pytest.mark.parametrize("fmt", [FORMAT_V2, FORMAT_V3, FORMAT_V4])
def test_format_2s_reserved_objectives_say_where_format_4_writes_them(fmt: str) -> None:
    ((path, message),) = problems_of(doc(fmt, objectives={"scenario": "x"}))
    assert path == "objectives"
    assert "reserved place for test objectives" in message and "test block" in message
    assert FORMAT_V4 in message


def test_a_newer_format_is_refused_as_before() -> None:
    assert problems_of({"format": "drs-desktop/plan@5", "name": "P", "test": 1}) == [
        (
            "format",
            "drs-desktop/plan@5 was written by a newer DRS Desktop; this version reads "
            f"{FORMAT_V1}, {FORMAT_V2}, {FORMAT_V3} or {FORMAT_V4} only",
        )
    ]


@pytest.mark.parametrize(
    ("parts", "path", "words"),
    [
        ({"test": ["x"]}, "test", "the test brief must be a mapping, got a list"),
        ({"test": {"scenario": 5}}, "test.scenario", "must be a string, got an integer (put it in quotes)"),
        ({"test": {"objectives": "one"}}, "test.objectives", "must be a list of objectives, got a string"),
        ({"test": {"participants": ["a", 1]}}, "test.participants[1]", "must be a string, got an integer"),
        ({"test": {"criteria": []}}, "test.criteria", "unknown key 'criteria'"),
        ({"cadence": 90}, "cadence", "the cadence must be a mapping, got an integer"),
        ({"cadence": {"every_days": "90"}}, "cadence.every_days", "must be a number of days"),
        ({"cadence": {"every_days": 1.5}}, "cadence.every_days", "got a number with a fraction"),
        ({"cadence": {"after_changes": "true"}}, "cadence.after_changes", "must be true or false"),
        ({"cadence": {"weekly": True}}, "cadence.weekly", "unknown key 'weekly'"),
    ],
)
def test_bad_input_is_named_with_its_path(parts: dict[str, Any], path: str, words: str) -> None:
    problems = problems_of(doc(**parts))
    assert [p for p, _ in problems] == [path]
    assert words in problems[0][1]


def test_yaml_ambiguities_in_the_cadence_are_refused_by_line() -> None:
    text = f"format: {FORMAT_V4}\nname: P\nwaves: []\ncadence:\n  every_days: 017\n  after_changes: yes\n"
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, "p.yaml")
    problems = caught.value.problems
    assert [(path, line) for path, line, _ in problems] == [
        ("cadence.every_days", 5),
        ("cadence.after_changes", 6),
    ]
    assert "leading zero" in problems[0][2] and "write true" in problems[1][2]


# ------------------------------------------------------------------------------------------------ docs


def test_the_format_4_example_of_the_docs_reads_is_valid_and_round_trips() -> None:
    text = (ROOT / "docs" / "plan-format.md").read_text(encoding="utf-8")
    section = text.split("## Format 4 (`drs-desktop/plan@4`)", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    plan = parse_plan_text(example, "example.yaml").plan
    assert validate_plan(plan) == []
    assert not plan.brief.empty and plan.cadence.every_days is not None
    assert plan_from_document(plan_to_document(plan)) == plan
