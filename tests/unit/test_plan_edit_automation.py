"""The editor's guard on automation steps: each rule refuses with its sentence, a good step goes in whole."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drs_desktop.domain.plan import edit_parts as parts
from drs_desktop.domain.plan.automation import (
    AutomationStep,
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
from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.edit_automation import automation_step_problem
from drs_desktop.domain.plan.model import RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.plan.validation import Severity, validate_plan

A, B = "s-00000000000000001", "s-00000000000000002"
CHECK = HealthCheckStep("db up", Probe.HTTP, 8080, servers=(A, B), path="/health")
SSM = SsmStep("patch", "AWS-RunShellScript", {"commands": ("uptime", "df -h")})
LAMBDA = LambdaStep("dns", "arn:aws:lambda:eu-west-1:111122223333:function:move-dns:live", {"zone": "x"})
SCRIPT = ScriptStep("smoke", "/opt/runbooks/smoke.sh", ("--fast",), {"APP_URL": "http://app"})


def plan() -> RecoveryPlan:
    return RecoveryPlan("P", waves=(Wave("DB", servers=(A, B), after=(WaitStep(5),)),))


@pytest.mark.parametrize("step", [CHECK, SSM, LAMBDA, SCRIPT], ids=lambda s: type(s).__name__)
def test_a_good_step_is_added_replaced_and_removed_whole(step: AutomationStep) -> None:
    policy = StepPolicy(timeout_seconds=600, retries=2, on_failure=OnFailure.WARN, run_in=RunIn.DRILL)
    added = parts.add_step(plan(), 0, "after", step, 0)
    assert added.waves[0].after == (step, WaitStep(5))
    changed = replace(step, policy=policy)
    replaced = parts.replace_step(added, 0, "after", 0, changed)
    assert replaced.waves[0].after[0].policy == policy  # type: ignore[union-attr]
    assert parts.remove_step(replaced, 0, "after", 0) == plan()


BAD = [
    (replace(CHECK, name="  "), "needs a name"),
    (replace(CHECK, port=0), "Port: must be a port number from 1 to 65535, got 0"),
    (replace(CHECK, port=70000), "got 70000"),
    (replace(CHECK, path="health"), "an HTTP path starts with '/', got 'health'"),
    (replace(CHECK, expect_status=700), "HTTP status: must be an HTTP status from 100 to 599, got 700"),
    (
        replace(CHECK, probe=Probe.TCP, expect_body="ok"),
        "a body is only read by an http or https probe, not tcp",
    ),
    (replace(CHECK, interval_seconds=300), "shorter than the timeout"),
    (replace(CHECK, must_pass=3), "3 must pass, but the check has 2 targets"),
    (replace(CHECK, must_pass=0), "Must pass: must be at least 1, got 0"),
    (
        replace(CHECK, reach=Reach.SSM, via="web-01"),
        "probes from an EC2 instance: give its ID (i-...), got 'web-01'",
    ),
    (replace(CHECK, reach=Reach.LAMBDA, via=None), "probes from a Lambda function: give its name or ARN"),
    (replace(CHECK, servers=("db-01",)), "'db-01' is not a DRS source server ID"),
    (replace(CHECK, servers=(A, A)), f"{A} is listed twice"),
    (replace(CHECK, policy=StepPolicy(timeout_seconds=0)), "Timeout: must be more than 0 seconds, got 0"),
    (
        replace(CHECK, policy=StepPolicy(timeout_seconds=90_000)),
        "Timeout: must be at most 24h (86400 seconds), got 90000",
    ),
    (replace(SSM, policy=StepPolicy(retries=11)), "Retries: must be from 0 to 10, got 11"),
    (replace(SSM, document="x"), "'x' is not an SSM document name or ARN"),
    (
        replace(SSM, document_version="latest"),
        "Version: must be $DEFAULT, $LATEST or a version number, got 'latest'",
    ),
    (replace(SSM, parameters={"api_token": ("t",)}), "looks like a secret"),
    (replace(SSM, parameters={"commands": ()}), "needs a value"),
    (replace(LAMBDA, function="move dns"), "'move dns' is not a Lambda function name or ARN"),
    (replace(LAMBDA, payload={"nested": {"password": "x"}}), "'password' looks like a secret"),
    (
        replace(SCRIPT, path="smoke.sh"),
        "Program: must be an absolute path (the desktop runs it by path), got 'smoke.sh'",
    ),
    (replace(SCRIPT, path=""), "needs the path"),
    (replace(SCRIPT, environment={"1X": "v"}), "'1X' is not an environment variable name"),
    (replace(SCRIPT, environment={"DRS_WAVE": "v"}), "run's facts"),
    (replace(SCRIPT, environment={"DB_PASSWORD": "v"}), "looks like a secret"),
    # the rules that were only validation's before the editor showed its first error
    (replace(CHECK, name="db\x1bup"), "Name: holds a control character (U+001B ESC) at character 3"),
    (
        replace(CHECK, expect_status=None),
        "with no status and no body expected, the check would pass on anything",
    ),
    (replace(CHECK, expect_body=""), "Body contains: must not be empty"),
    (replace(CHECK, path="/a\x00"), "HTTP path: holds a control character (U+0000 NUL)"),
    (replace(CHECK, via="i-0123456789abcdef0"), "only reach ssm or lambda probe through something"),
    (replace(CHECK, reach=Reach.SSM, via="i-0123456789"), "give its ID (i-...), got 'i-0123456789'"),
    (replace(CHECK, reach=Reach.LAMBDA, via="f" * 257), "is not a Lambda function name or ARN (1 to 256"),
    (replace(CHECK, interval_seconds=0), "Probe every: must be more than 0 seconds, got 0"),
    (replace(SSM, parameters={"commands": ("a\x07",)}), "Parameters: holds a control character (U+0007 BEL)"),
    (replace(SSM, parameters={"": ("x",)}), "a parameter name must not be empty"),
    (replace(SCRIPT, arguments=("\x1b[2J",)), "Arguments: holds a control character (U+001B ESC)"),
    (replace(SCRIPT, environment={"LEVEL": "\x9b"}), "Environment: holds a control character (U+009B CSI)"),
    (replace(SCRIPT, path="/opt/\u202egnp.sh"), "Program: holds a bidirectional-text control"),
    (replace(SSM, document=""), "an SSM step needs the document to run"),
    (replace(LAMBDA, function=" "), "a Lambda step needs the function to invoke"),
]


@pytest.mark.parametrize(("step", "says"), BAD, ids=[says for _, says in BAD])
def test_a_bad_step_is_refused_with_its_reason(step: AutomationStep, says: str) -> None:
    assert says in automation_step_problem(step)
    with pytest.raises(PlanEditError) as caught:
        parts.add_step(plan(), 0, "before", step)
    assert says in str(caught.value)
    with pytest.raises(PlanEditError):
        parts.replace_step(plan(), 0, "after", 0, step)


def test_windows_paths_are_absolute_too() -> None:
    assert automation_step_problem(replace(SCRIPT, path=r"C:\runbooks\smoke.cmd")) == ""
    assert "absolute" in automation_step_problem(replace(SCRIPT, path=r"runbooks\smoke.cmd"))


def test_a_payload_is_a_json_object() -> None:
    not_an_object = replace(LAMBDA, payload=[1, 2])  # type: ignore[arg-type]
    assert automation_step_problem(not_an_object).startswith("Payload: must be a JSON object")
    assert automation_step_problem(replace(LAMBDA, payload={"n": float("nan")})).startswith(
        "Payload: is not JSON"
    )
    assert automation_step_problem(replace(LAMBDA, payload={"list": [{"ok": True}]})) == ""


@pytest.mark.parametrize(("step", "says"), BAD, ids=[says for _, says in BAD])
def test_the_editor_refuses_what_validation_reports_in_validations_words(
    step: AutomationStep, says: str
) -> None:
    """One source of rules: the editor's sentence is the first error plan validation finds in the step,
    at the same field (the form's label before a message that does not name its field)."""
    wave = Wave("DB", servers=(A, B), before=(step,))
    found = [p for p in validate_plan(RecoveryPlan("P", waves=(wave,))) if p.severity is Severity.ERROR]
    assert found, "validation let through a step the editor refuses"
    first = found[0]
    assert first.path.startswith("waves[0].before[0].")
    assert automation_step_problem(step).endswith(first.message)


@pytest.mark.parametrize("step", [CHECK, SSM, LAMBDA, SCRIPT], ids=lambda s: type(s).__name__)
def test_a_step_the_editor_takes_is_valid_in_its_wave(step: AutomationStep) -> None:
    assert automation_step_problem(step) == ""
    assert validate_plan(RecoveryPlan("P", waves=(Wave("DB", servers=(A, B), before=(step,)),))) == []
