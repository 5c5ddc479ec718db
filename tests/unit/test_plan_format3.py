"""Plan format 3: automation steps read and written (every field round-trips), refused by name in format
1 and 2 files, and bad input named with its path; files of formats 1 and 2 unchanged."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drs_desktop.domain.errors import PlanDocumentError
from drs_desktop.domain.plan.automation import (
    HealthCheckStep,
    LambdaStep,
    OnFailure,
    Probe,
    Reach,
    RunIn,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.document import (
    FORMAT_V1,
    FORMAT_V2,
    FORMAT_V3,
    plan_from_document,
    plan_to_document,
)
from drs_desktop.domain.plan.document_automation import KIND_KEYS, duration_text
from drs_desktop.domain.plan.document_v2 import RESERVED_STEP_KINDS
from drs_desktop.domain.plan.model import ApprovalStep, PlanTarget, RecoveryPlan, Step, WaitStep, Wave
from drs_desktop.domain.plan.validation import validate_plan
from drs_desktop.storage.plan_syntax import parse_json, parse_yaml
from drs_desktop.storage.planfile import dump_plan, parse_plan_text
from tests.strategies import automation_steps

A, B = "s-0123456789abcdef0", "s-0123456789abcdef1"

FULL_HEALTH = HealthCheckStep(
    name="web answers",
    probe=Probe.HTTPS,
    port=8443,
    servers=(A, B),
    path="/health",
    expect_status=204,
    expect_body="ok",
    interval_seconds=15,
    must_pass=1,
    reach=Reach.SSM,
    via="i-0123456789abcdef0",
    policy=StepPolicy(timeout_seconds=5400, retries=3, on_failure=OnFailure.FAIL_WAVE, run_in=RunIn.DRILL),
)
FULL_SSM = SsmStep(
    name="warm caches",
    document="AWS-RunShellScript",
    parameters={"commands": ("systemctl restart app", "echo done"), "workingDirectory": ("/opt",)},
    servers=(B,),
    document_version="$LATEST",
    policy=StepPolicy(timeout_seconds=600, retries=1, on_failure=OnFailure.WARN, run_in=RunIn.RECOVERY),
)
FULL_LAMBDA = LambdaStep(
    name="move dns",
    function="arn:aws:lambda:us-east-1:123456789012:function:dns-flip:live",
    payload={"zone": "example.com", "ttl": 60, "weights": [0.5, 1.5], "dry": False, "note": None, "x": {}},
    policy=StepPolicy(timeout_seconds=90, retries=10, on_failure=OnFailure.HOLD, run_in=RunIn.BOTH),
)
FULL_SCRIPT = ScriptStep(
    name="smoke test",
    path="/opt/runbooks/smoke.sh",
    arguments=("--env", "dr", ""),
    environment={"TARGET_URL": "https://dr.example.com", "LEVEL": "3"},
    policy=StepPolicy(timeout_seconds=1, retries=0, on_failure=OnFailure.FAIL_WAVE),
)


def plan_with(before: tuple[Step, ...] = (), after: tuple[Step, ...] = (), **plan: Any) -> RecoveryPlan:
    return RecoveryPlan(name="P", waves=(Wave(name="W", servers=(A, B), before=before, after=after),), **plan)


def doc_with(*steps: dict[str, Any], fmt: str = FORMAT_V3) -> dict[str, Any]:
    return {"format": fmt, "name": "P", "waves": [{"name": "W", "servers": [A, B], "after": list(steps)}]}


def problems_of(doc: object) -> list[tuple[str, str]]:
    with pytest.raises(PlanDocumentError) as caught:
        plan_from_document(doc)
    return list(caught.value.problems)


# ------------------------------------------------------------------------------------------ round trip


@pytest.mark.parametrize("step", [FULL_HEALTH, FULL_SSM, FULL_LAMBDA, FULL_SCRIPT], ids=lambda s: s.name)
def test_every_field_of_every_kind_round_trips_through_the_document_and_the_file(step: Step) -> None:
    plan = plan_with(before=(ApprovalStep("go?"),), after=(step, WaitStep(5)))
    doc = plan_to_document(plan)
    assert doc["format"] == FORMAT_V3
    assert plan_from_document(doc) == plan
    assert parse_plan_text(dump_plan(plan, "yaml"), "p.yaml").plan == plan
    assert parse_plan_text(dump_plan(plan, "json"), "p.json").plan == plan


def test_defaults_are_left_out_and_every_set_field_is_written_in_the_canonical_order() -> None:
    minimal = HealthCheckStep(name="db", probe=Probe.TCP, port=5432)
    assert plan_to_document(plan_with(after=(minimal,)))["waves"][0]["after"] == [
        {"kind": "health-check", "name": "db", "probe": "tcp", "port": 5432}
    ]
    written = plan_to_document(plan_with(after=(FULL_HEALTH,)))["waves"][0]["after"][0]
    assert list(written) == [
        "kind",
        "name",
        "servers",
        "probe",
        "port",
        "path",
        "expect_status",
        "expect_body",
        "interval",
        "must_pass",
        "reach",
        "via",
        "timeout",
        "retries",
        "on_failure",
        "run_in",
    ]
    assert written["timeout"] == "1h30m" and written["interval"] == "15s"
    assert written["on_failure"] == "fail-wave" and written["run_in"] == "drill"


def test_expect_status_any_is_no_status_and_round_trips() -> None:
    step = HealthCheckStep(name="body", probe=Probe.HTTP, port=80, expect_status=None, expect_body="ready")
    doc = plan_to_document(plan_with(after=(step,)))
    assert doc["waves"][0]["after"][0]["expect_status"] == "any"
    assert plan_from_document(doc) == plan_with(after=(step,))


@pytest.mark.parametrize(
    ("written", "seconds"), [(90, 90), ("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("1m30s", 90)]
)
def test_a_duration_is_seconds_or_hours_minutes_seconds(written: object, seconds: int) -> None:
    plan = plan_from_document(doc_with({"kind": "ssm", "name": "s", "document": "Doc-1", "timeout": written}))
    step = plan.waves[0].after[0]
    assert isinstance(step, SsmStep) and step.policy.timeout_seconds == seconds
    written_back = plan_to_document(plan)["waves"][0]["after"][0]
    assert written_back.get("timeout", "5m") == duration_text(seconds)  # 5m, the default, is left out


def test_one_string_for_an_ssm_parameter_is_a_list_of_one() -> None:
    plan = plan_from_document(
        doc_with({"kind": "ssm", "name": "s", "document": "Doc-1", "parameters": {"commands": "uptime"}})
    )
    step = plan.waves[0].after[0]
    assert isinstance(step, SsmStep) and step.parameters == {"commands": ("uptime",)}


# ------------------------------------------------------------------------------------------ versions


def test_a_plan_is_written_as_format_3_only_when_it_has_an_automation_step() -> None:
    assert plan_to_document(plan_with(after=(WaitStep(5),)))["format"] == FORMAT_V1
    targets = (PlanTarget("a", "111111111111", "us-east-1", profile="p"),)
    assert plan_to_document(plan_with(after=(WaitStep(5),), targets=targets))["format"] == FORMAT_V2
    assert plan_to_document(plan_with(after=(FULL_SCRIPT,), targets=targets))["format"] == FORMAT_V3


def test_a_format_3_file_without_automation_steps_is_written_back_in_the_oldest_format() -> None:
    doc = doc_with({"wait_minutes": 5})
    assert plan_to_document(plan_from_document(doc))["format"] == FORMAT_V1


@pytest.mark.parametrize("fmt", [FORMAT_V1, FORMAT_V2])
def test_an_automation_step_in_an_older_file_asks_for_format_3(fmt: str) -> None:
    problems = problems_of(doc_with({"kind": "ssm", "name": "s", "document": "Doc-1"}, fmt=fmt))
    assert problems == [
        (
            "waves[0].after[0].kind",
            f"'kind' is a key of format 3 (automation steps): write format: {FORMAT_V3} to use it",
        )
    ]


@pytest.mark.parametrize("fmt", [FORMAT_V1, FORMAT_V2, FORMAT_V3])
@pytest.mark.parametrize("key", sorted(RESERVED_STEP_KINDS))
def test_format_2s_reserved_step_shape_is_refused_with_how_format_3_writes_it(fmt: str, key: str) -> None:
    problems = problems_of(doc_with({key: {"port": 5432}}, fmt=fmt))
    assert [path for path, _ in problems] == [f"waves[0].after[0].{key}"]
    assert f"{{kind: {RESERVED_STEP_KINDS[key]}, name: NAME, ...}}" in problems[0][1]
    assert FORMAT_V3 in problems[0][1]


def test_approvals_and_waits_read_as_before_in_format_3() -> None:
    plan = plan_from_document(doc_with({"approval": "ok?"}, {"wait_minutes": 3}))
    assert plan.waves[0].after == (ApprovalStep("ok?"), WaitStep(3))


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("step", "path", "words"),
    [
        (
            {"kind": "smoke", "name": "x"},
            "kind",
            "unknown step kind 'smoke'; a step's kind is one of: health-check",
        ),
        ({"kind": 1, "name": "x"}, "kind", "got an integer; a step's kind is one of"),
        ({"kind": ["ssm"], "name": "x"}, "kind", "got a list; a step's kind is one of"),
        ({"kind": None, "name": "x"}, "kind", "got null; a step's kind is one of"),
        (
            {"kind": "lambda", "name": "l", "function": "f", "payload": [1]},
            "payload",
            "must be a JSON object",
        ),
        ({"kind": "lambda", "name": "l", "function": "f", "payload": "{}"}, "payload", "got a string"),
        (
            {"kind": "script", "name": "x", "path": "/a", "environment": {"LEVEL": 3}},
            "environment.LEVEL",
            "must be a string, got an integer (put it in quotes)",
        ),
        ({"kind": "script", "name": "x", "path": "/a", "environment": ["A=1"]}, "environment", "a mapping"),
        ({"kind": "ssm", "name": "s", "document": "D-1", "timeout": "-5m"}, "timeout", "positive duration"),
        ({"kind": "ssm", "name": "s", "document": "D-1", "timeout": "5 min"}, "timeout", "90s, 5m, 1h30m"),
        (
            {"kind": "ssm", "name": "s", "document": "D-1", "timeout": 1.5},
            "timeout",
            "a number with a fraction",
        ),
        ({"kind": "ssm", "name": "s", "document": "D-1", "retries": "2"}, "retries", "got a string ('2')"),
        (
            {"kind": "ssm", "name": "s", "document": "D-1", "on_failure": "stop"},
            "on_failure",
            "hold, fail-wave",
        ),
        (
            {"kind": "ssm", "name": "s", "document": "D-1", "run_in": "DRILL"},
            "run_in",
            "both, drill, recovery",
        ),
        (
            {"kind": "ssm", "name": "s", "document": "D-1", "parameters": {"c": [1]}},
            "parameters.c[0]",
            "string",
        ),
        ({"kind": "health-check", "name": "h", "probe": "icmp", "port": 1}, "probe", "tcp, http, https"),
        ({"kind": "health-check", "name": "h", "probe": "tcp", "port": "80"}, "port", "a port number"),
        (
            {"kind": "health-check", "name": "h", "probe": "tcp", "port": 80, "reach": "vpc"},
            "reach",
            "private",
        ),
        (
            {"kind": "health-check", "name": "h", "probe": "http", "port": 80, "expect_status": "2xx"},
            "expect_status",
            "'any'",
        ),
        (
            {"kind": "lambda", "name": "l", "function": "f", "payload": {"a": float("nan")}},
            "payload.a",
            "not a JSON",
        ),
        ({"kind": "ssm", "name": "s", "document": "D-1", "runas": "root"}, "runas", "unknown key 'runas'"),
    ],
)
def test_bad_input_is_named_with_its_path(step: dict[str, Any], path: str, words: str) -> None:
    problems = problems_of(doc_with(step))
    assert len(problems) == 1, problems
    where, message = problems[0]
    assert where == f"waves[0].after[0].{path}" and words in message


@pytest.mark.parametrize(
    ("step", "missing"),
    [
        ({"kind": "health-check", "name": "h"}, ["probe", "port"]),
        ({"kind": "ssm", "document": "D-1"}, ["name"]),
        ({"kind": "lambda", "name": "l"}, ["function"]),
        ({"kind": "script", "name": "x"}, ["path"]),
    ],
)
def test_each_kind_names_its_missing_keys(step: dict[str, Any], missing: list[str]) -> None:
    problems = problems_of(doc_with(step))
    assert problems == [("waves[0].after[0]", f"missing required key {key!r}") for key in missing]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    problems = problems_of(
        doc_with(
            {"kind": "ssm", "name": "s", "document": "D-1", "timeout": "soon"},
            {"kind": "script", "name": "x", "path": "/a", "environment": {"A": True}},
        )
    )
    assert [path for path, _ in problems] == ["waves[0].after[0].timeout", "waves[0].after[1].environment.A"]


def test_a_yaml_file_with_an_ambiguous_number_in_a_step_is_refused_by_line() -> None:
    text = (
        "format: drs-desktop/plan@3\nname: P\nwaves:\n  - name: W\n    servers: [s-0123456789abcdef0]\n"
        "    after:\n      - kind: health-check\n        name: h\n        probe: tcp\n        port: 0x50\n"
    )
    with pytest.raises(Exception) as caught:
        parse_plan_text(text, "p.yaml")
    assert "port" in str(caught.value) and "hexadecimal" in str(caught.value)


def test_the_payload_is_copied_not_shared_with_the_document() -> None:
    doc = doc_with({"kind": "lambda", "name": "l", "function": "f", "payload": {"a": {"b": [1]}}})
    original = copy.deepcopy(doc)
    plan = plan_from_document(doc)
    doc["waves"][0]["after"][0]["payload"]["a"]["b"].append(2)
    step = plan.waves[0].after[0]
    assert isinstance(step, LambdaStep) and step.payload == original["waves"][0]["after"][0]["payload"]


def test_the_format_3_example_of_the_docs_reads_is_valid_and_round_trips() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "plan-format.md").read_text(encoding="utf-8")
    section = text.split("## Format 3 (`drs-desktop/plan@3`)", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    plan = parse_plan_text(example, "example.yaml").plan
    assert validate_plan(plan) == []
    kinds = [type(step) for wave in plan.waves for step in wave.after]
    assert kinds == [HealthCheckStep, SsmStep, HealthCheckStep, LambdaStep, ScriptStep]
    assert plan_from_document(plan_to_document(plan)) == plan


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_automation_step_round_trips_through_the_document_yaml_and_json(data: st.DataObject) -> None:
    steps = data.draw(st.lists(automation_steps((A, B)), min_size=1, max_size=3))
    plan = plan_with(after=tuple(steps))
    doc = plan_to_document(plan)
    assert doc["format"] == FORMAT_V3
    assert plan_from_document(doc) == plan
    # The file's text, read back by the file syntax and the document reader (not validated: the steps
    # drawn are any shape a file can hold, valid or not, as the database stores them too).
    text = dump_plan(plan, "yaml")
    assert plan_from_document(parse_yaml(text).data) == plan
    assert plan_from_document(parse_json(dump_plan(plan, "json")).data) == plan


_ANY = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_KEYS = sorted({key for keys in KIND_KEYS.values() for key in keys})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.one_of(st.sampled_from(sorted(KIND_KEYS)), _ANY),
    fields=st.dictionaries(st.sampled_from(_KEYS), _ANY, max_size=6),
)
def test_any_step_shape_is_read_or_refused_with_paths_never_a_crash(
    kind: object, fields: dict[str, Any]
) -> None:
    doc = doc_with({"name": "n", **fields, "kind": kind})
    try:
        plan = plan_from_document(doc)
    except PlanDocumentError as error:
        assert error.problems and all(path.startswith("waves[0].after[0]") for path, _ in error.problems)
        return
    assert plan_from_document(plan_to_document(plan)) == plan
