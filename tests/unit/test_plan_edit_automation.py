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
from drs_desktop.domain.plan.edit_automation import automation_step_problem, payload_problem
from drs_desktop.domain.plan.model import RecoveryPlan, WaitStep, Wave

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
    (replace(CHECK, port=0), "port must be between 1 and 65535, not 0"),
    (replace(CHECK, port=70000), "not 70000"),
    (replace(CHECK, path="health"), "must start with '/'"),
    (replace(CHECK, expect_status=700), "between 100 and 599"),
    (replace(CHECK, probe=Probe.TCP, expect_body="ok"), "body check needs an HTTP"),
    (replace(CHECK, interval_seconds=300), "shorter than the timeout"),
    (replace(CHECK, must_pass=3), "3 must pass, but the check names 2 servers"),
    (replace(CHECK, must_pass=0), "at least one server"),
    (replace(CHECK, reach=Reach.SSM, via="web-01"), "EC2 instance to probe from"),
    (replace(CHECK, reach=Reach.LAMBDA, via=None), "function's name or ARN"),
    (replace(CHECK, servers=("db-01",)), "'db-01' is not a DRS source server ID"),
    (replace(CHECK, servers=(A, A)), "named twice"),
    (replace(CHECK, policy=StepPolicy(timeout_seconds=0)), "between 1 second and 24 hours"),
    (replace(CHECK, policy=StepPolicy(timeout_seconds=90_000)), "24 hours"),
    (replace(SSM, policy=StepPolicy(retries=11)), "retries must be between 0 and 10"),
    (replace(SSM, document="x"), "no SSM document name"),
    (replace(SSM, document_version="latest"), "$LATEST, $DEFAULT or a number"),
    (replace(SSM, parameters={"api_token": ("t",)}), "looks like a secret"),
    (replace(SSM, parameters={"commands": ()}), "needs a value"),
    (replace(LAMBDA, function="move dns"), "no Lambda function name"),
    (replace(LAMBDA, payload={"nested": {"password": "x"}}), "'password' looks like a secret"),
    (replace(SCRIPT, path="smoke.sh"), "must be absolute"),
    (replace(SCRIPT, path=""), "needs the path"),
    (replace(SCRIPT, environment={"1X": "v"}), "no environment variable name"),
    (replace(SCRIPT, environment={"DRS_WAVE": "v"}), "run's facts"),
    (replace(SCRIPT, environment={"DB_PASSWORD": "v"}), "looks like a secret"),
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
    assert "JSON object" in payload_problem([1, 2])
    assert "not JSON" in payload_problem({"n": float("nan")})
    assert payload_problem({"list": [{"ok": True}]}) == ""
