"""Validation of automation steps: servers of the wave, targets, reach, patterns, limits and secrets."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.automation import (
    HealthCheckStep,
    LambdaStep,
    Probe,
    Reach,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Step, Wave
from drs_desktop.domain.plan.validation import Problem, Severity, validate_plan

A, B, C = "s-0123456789abcdef0", "s-0123456789abcdef1", "s-0123456789abcdef2"
TCP = HealthCheckStep(name="db", probe=Probe.TCP, port=5432)
HTTP = HealthCheckStep(name="web", probe=Probe.HTTP, port=80)
SSM = SsmStep(name="warm", document="AWS-RunShellScript", parameters={"commands": ("uptime",)})
LAMBDA = LambdaStep(name="dns", function="dns-flip", payload={"zone": "example.com"})
SCRIPT = ScriptStep(name="smoke", path="/opt/smoke.sh", environment={"LEVEL": "3"})


def plan_of(*steps: Step, wave: Wave | None = None) -> RecoveryPlan:
    wave = wave or Wave(name="W", servers=(A, B))
    second = Wave(name="X", servers=(C,))
    return RecoveryPlan(name="P", waves=(replace(wave, after=steps), second))


def errors(plan: RecoveryPlan, inventory: Inventory | None = None) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in validate_plan(plan, inventory) if p.severity is Severity.ERROR]


def only_error(*steps: Step) -> tuple[str, str]:
    found = errors(plan_of(*steps))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("step", [TCP, HTTP, SSM, LAMBDA, SCRIPT], ids=lambda s: s.name)
def test_a_well_formed_step_of_each_kind_is_valid(step: Step) -> None:
    assert validate_plan(plan_of(step)) == []


@pytest.mark.parametrize(
    ("step", "path", "words"),
    [
        (replace(TCP, servers=(C,)), "servers[0]", f"{C} is not a server of this wave"),
        (replace(SSM, servers=(A, A)), "servers[1]", "listed twice"),
        (replace(SSM, servers=("s-1",)), "servers[0]", "not a DRS source server ID"),
        (replace(TCP, must_pass=3), "must_pass", "3 must pass, but the check has 2 targets"),
        (replace(TCP, servers=(A,), must_pass=2), "must_pass", "2 must pass, but the check has 1 target"),
        (replace(TCP, must_pass=0), "must_pass", "at least 1"),
        (replace(TCP, port=0), "port", "from 1 to 65535, got 0"),
        (replace(TCP, port=65536), "port", "got 65536"),
        (replace(TCP, reach=Reach.SSM), "via", "give its ID (i-...), got nothing"),
        (replace(TCP, reach=Reach.SSM, via="web-1"), "via", "got 'web-1'"),
        (replace(TCP, reach=Reach.LAMBDA), "via", "give its name or ARN"),
        (replace(TCP, reach=Reach.LAMBDA, via="bad name!"), "via", "not a Lambda function name"),
        (replace(TCP, via="i-0123456789abcdef0"), "via", "only reach ssm or lambda"),
        (replace(TCP, expect_body="ok"), "expect_body", "only read by an http or https probe, not tcp"),
        (replace(HTTP, path="health"), "path", "starts with '/'"),
        (replace(HTTP, expect_status=99), "expect_status", "100 to 599"),
        (replace(HTTP, expect_status=None), "expect_status", "pass on anything"),
        (replace(HTTP, expect_body=""), "expect_body", "must not be empty"),
        (replace(TCP, interval_seconds=0), "interval", "more than 0 seconds"),
        (replace(TCP, interval_seconds=300), "interval", "shorter than the timeout (300s)"),
        (replace(SSM, policy=StepPolicy(timeout_seconds=-5)), "timeout", "more than 0 seconds, got -5"),
        (replace(SSM, policy=StepPolicy(timeout_seconds=86401)), "timeout", "at most 24h"),
        (replace(SSM, policy=StepPolicy(retries=11)), "retries", "from 0 to 10, got 11"),
        (replace(SSM, policy=StepPolicy(retries=-1)), "retries", "got -1"),
        (replace(SSM, document="ab"), "document", "not an SSM document name"),
        (replace(SSM, document="My Doc"), "document", "not an SSM document name"),
        (replace(SSM, document_version="v2"), "document_version", "$DEFAULT, $LATEST or a version number"),
        (replace(LAMBDA, function="dns flip"), "function", "not a Lambda function name or ARN"),
        (replace(LAMBDA, function="f" * 257), "function", "1 to 256"),
        (replace(LAMBDA, function=""), "function", "needs the function to invoke"),
        (replace(SCRIPT, path="smoke.sh"), "path", "must be an absolute path"),
        (replace(SCRIPT, path="./bin/smoke"), "path", "absolute"),
        (replace(SCRIPT, environment={"2X": "1"}), 'environment["2X"]', "not an environment variable name"),
        (
            replace(SCRIPT, environment={"DRS_EXECUTION_ID": "x"}),
            "environment.DRS_EXECUTION_ID",
            "run's facts",
        ),
        (replace(SCRIPT, name=" "), "name", "a step needs a name"),
        (replace(SCRIPT, name="a\x1bb"), "name", "control character"),
        (replace(SCRIPT, arguments=("a\x00",)), "arguments[0]", "control character"),
        # the rules that were only the editor's before it became a view of these
        (replace(SSM, document=" "), "document", "needs the document to run (its name or ARN"),
        (replace(SSM, parameters={"commands": ()}), "parameters.commands", "'commands' needs a value"),
        (replace(LAMBDA, payload=[1, 2]), "payload", "must be a JSON object ({...})"),  # type: ignore[arg-type]
        (replace(LAMBDA, payload={"n": float("nan")}), "payload", "is not JSON: Out of range float"),
        (replace(LAMBDA, payload={"at": object()}), "payload", "is not JSON"),
        (replace(SCRIPT, path=""), "path", "a local script needs the path of the program to run"),
    ],
)
def test_each_rule_names_the_field(step: Step, path: str, words: str) -> None:
    where, message = only_error(step)
    assert where == f"waves[0].after[0].{path}" and words in message, (where, message)


@pytest.mark.parametrize(
    "step",
    [
        replace(SCRIPT, environment={"AWS_SECRET_ACCESS_KEY": "x"}),
        replace(SCRIPT, environment={"DB_PASSWORD": "x"}),
        replace(LAMBDA, payload={"auth": {"api_token": "x"}}),
        replace(LAMBDA, payload={"items": [{"password": "x"}]}),
        replace(SSM, parameters={"SecretValue": ("x",)}),
    ],
    ids=["env-aws", "env-password", "payload-nested", "payload-in-list", "parameter"],
)
def test_a_key_that_looks_like_a_secret_is_refused(step: Step) -> None:
    where, message = only_error(step)
    assert "looks like a secret, and a plan file never holds one" in message
    assert where.startswith("waves[0].after[0].") and where.split(".", 2)[2].split("[")[0].split(".")[0] in (
        "environment",
        "payload",
        "parameters",
    )


@pytest.mark.parametrize(
    "function",
    [
        "dns-flip",
        "dns-flip:live",
        "123456789012:function:dns-flip",
        "arn:aws:lambda:eu-west-1:123456789012:function:dns-flip",
        "arn:aws:lambda:us-gov-west-1:123456789012:function:dns-flip:$LATEST",
    ],
)
def test_lambda_takes_names_partial_arns_and_arns(function: str) -> None:
    assert errors(plan_of(replace(LAMBDA, function=function))) == []


@pytest.mark.parametrize(
    "document", ["AWS-RunShellScript", "arn:aws:ssm:eu-west-1:123456789012:document/My_Doc.v1", "abc"]
)
def test_ssm_takes_names_and_arns(document: str) -> None:
    assert errors(plan_of(replace(SSM, document=document, document_version="3"))) == []


def test_a_windows_script_path_is_absolute_too() -> None:
    assert errors(plan_of(replace(SCRIPT, path="C:\\runbooks\\smoke.ps1"))) == []


def test_before_steps_are_checked_and_every_problem_reported_at_once() -> None:
    wave = Wave(name="W", servers=(A,), before=(replace(TCP, port=0),))
    found = errors(plan_of(replace(SSM, document="x"), replace(LAMBDA, function="a b"), wave=wave))
    assert [path for path, _ in found] == [
        "waves[0].before[0].port",
        "waves[0].after[0].document",
        "waves[0].after[1].function",
    ]


def test_two_steps_of_one_name_in_a_wave_are_a_warning() -> None:
    problems = validate_plan(plan_of(SSM, replace(SCRIPT, name=SSM.name)))
    assert problems == [
        Problem(
            "waves[0].after[1].name",
            "another step of this wave is named 'warm' (waves[0].after[0]); the evidence tells them apart by "
            "place only",
            Severity.WARNING,
        )
    ]


def test_servers_of_a_tag_group_count_once_the_inventory_resolves_them() -> None:
    group = ProtectionGroup(name="web", tags={"Tier": "web"})
    wave = Wave(name="W", groups=("web",))
    check = replace(TCP, servers=(A,), must_pass=1)
    plan = replace(plan_of(check, wave=wave), protection_groups=(group,))
    assert errors(plan) == []  # not judged: the group cannot be resolved here
    inventory = Inventory(
        servers=(
            SourceServer(source_server_id=B, hostname="b", tags={"Tier": "web"}),
            SourceServer(source_server_id=C, hostname="c"),
        )
    )
    found = errors(plan, inventory)
    assert ("waves[0].after[0].servers[0]", f"{A} is not a server of this wave") in found


def test_must_pass_counts_the_wave_when_the_step_names_no_server() -> None:
    assert errors(plan_of(replace(TCP, must_pass=2))) == []
