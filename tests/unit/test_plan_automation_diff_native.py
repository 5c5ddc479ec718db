"""Automation steps in the plan diff (named: added, removed, changed field by field), in a run in DRS
(does not fit: not published, said step by step) and in the words that list them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drs_desktop.domain.native.adopting import merge_native
from drs_desktop.domain.native.fit import fit
from drs_desktop.domain.native.run_map import run_layout
from drs_desktop.domain.native.steps import NativeServer, NativeStep, NativeStepKind
from drs_desktop.domain.plan.automation import (
    AutomationStep,
    HealthCheckStep,
    LambdaStep,
    OnFailure,
    Probe,
    RunIn,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.automation_text import describe_automation
from drs_desktop.domain.plan.diff import diff_plans
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Step, WaitStep, Wave
from drs_desktop.domain.plan.validation import validate_plan

A, B = "s-0123456789abcdef0", "s-0123456789abcdef1"
CHECK = HealthCheckStep(name="db answers", probe=Probe.TCP, port=5432)
SSM = SsmStep(name="warm", document="AWS-RunShellScript")


def plan(*after: Step, before: tuple[Step, ...] = ()) -> RecoveryPlan:
    return RecoveryPlan(
        name="P",
        waves=(Wave(name="DB", servers=(A,), before=before, after=after), Wave(name="App", servers=(B,))),
    )


# ------------------------------------------------------------------------------------------------ diff


def test_an_added_and_a_removed_step_are_named_with_their_kind() -> None:
    assert diff_plans(plan(CHECK), plan(SSM)) == [
        "wave 'DB': after step 'db answers' removed",
        "wave 'DB': after step 'warm' added (ssm)",
    ]


def test_a_changed_step_names_each_field_in_the_files_words() -> None:
    changed = replace(
        CHECK,
        port=5433,
        policy=StepPolicy(timeout_seconds=600, on_failure=OnFailure.WARN, run_in=RunIn.DRILL),
    )
    assert diff_plans(plan(CHECK), plan(changed)) == [
        "wave 'DB': after step 'db answers': port 5432 -> 5433",
        "wave 'DB': after step 'db answers': timeout none -> '10m'",
        "wave 'DB': after step 'db answers': on_failure none -> 'warn'",
        "wave 'DB': after step 'db answers': run_in none -> 'drill'",
    ]


def test_a_changed_payload_and_a_changed_kind_are_said() -> None:
    old = LambdaStep(name="dns", function="flip", payload={"ttl": 60})
    assert diff_plans(plan(old), plan(replace(old, payload={"ttl": 30}))) == [
        "wave 'DB': after step 'dns': payload {\"ttl\": 60} -> {\"ttl\": 30}"
    ]
    script = ScriptStep(name="dns", path="/opt/flip.sh")
    lines = diff_plans(plan(old), plan(script))
    assert "wave 'DB': after step 'dns': kind 'lambda' -> 'script'" in lines


def test_a_reordering_and_an_approval_change_show_the_lists() -> None:
    assert diff_plans(plan(CHECK, SSM), plan(SSM, CHECK)) == [
        "wave 'DB': steps after: [health-check 'db answers', ssm 'warm'] -> "
        "[ssm 'warm', health-check 'db answers']"
    ]
    assert diff_plans(plan(CHECK, before=(ApprovalStep("a"),)), plan(CHECK, before=(WaitStep(5),))) == [
        "wave 'DB': steps before: [approval 'a'] -> [wait 5 min]"
    ]


def test_a_step_moved_from_before_to_after_is_removed_there_and_added_here() -> None:
    assert diff_plans(plan(before=(CHECK,)), plan(CHECK)) == [
        "wave 'DB': before step 'db answers' removed",
        "wave 'DB': after step 'db answers' added (health-check)",
    ]


def test_equal_plans_have_no_lines_and_two_steps_of_one_name_still_say_something() -> None:
    assert diff_plans(plan(CHECK, SSM), plan(CHECK, SSM)) == []
    twice = plan(CHECK, replace(CHECK, port=1))
    lines = diff_plans(twice, plan(CHECK, replace(CHECK, port=2)))
    assert lines == [
        "wave 'DB': steps after: [health-check 'db answers', health-check 'db answers'] -> "
        "[health-check 'db answers', health-check 'db answers']"
    ]


# ------------------------------------------------------------------------------------------ run in DRS


@pytest.mark.parametrize(
    "step", [CHECK, SSM, LambdaStep(name="dns", function="flip"), ScriptStep(name="smoke", path="/x")]
)
def test_a_plan_with_an_automation_step_does_not_fit_a_native_plan(step: AutomationStep) -> None:
    report = fit(plan(WaitStep(5), step), plan_name="P")
    assert not report.fits and report.steps == ()
    (problem,) = report.problems
    assert problem.code == "automation_step" and problem.where == "wave 1 'DB', after step 2"
    assert "SERVER and WAIT only: it is not published" in problem.text and repr(step.name) in problem.text
    assert report.nearest is not None
    assert report.nearest.waves[0].after == (WaitStep(5),)  # the step is left out, the wait kept
    assert any(
        "is not published" in change
        and "a run in DRS does not run it" in change
        and repr(step.name) in change
        for change in report.changes
    )
    assert not fit(report.nearest, plan_name="P").problems
    assert validate_plan(report.nearest) == []


def test_run_layout_refuses_a_plan_with_an_automation_step() -> None:
    published = (
        NativeStep("DB", NativeStepKind.SERVER, (NativeServer(A, "CRITICAL"),)),
        NativeStep("App", NativeStepKind.SERVER, (NativeServer(B, "CRITICAL"),)),
    )
    run_layout(plan(), published)  # the same plan without the step lays out
    with pytest.raises(ValueError, match="has a step of kind 'ssm'"):
        run_layout(plan(SSM), published)


def test_taking_drss_side_says_the_automation_steps_are_dropped() -> None:
    native = (
        NativeStep("DB", NativeStepKind.SERVER, (NativeServer(A, "CRITICAL"),)),
        NativeStep("App", NativeStepKind.SERVER, (NativeServer(B, "CRITICAL"),)),
    )
    merged, lines = merge_native(plan(CHECK, SSM), native)
    assert merged.waves[0].after == ()
    assert "Wave 'DB': automation step(s) 'db answers', 'warm' dropped" in " ".join(lines)


# ------------------------------------------------------------------------------------------ words


def test_a_step_in_one_line() -> None:
    check = replace(
        CHECK,
        probe=Probe.HTTPS,
        port=443,
        path="/ready",
        expect_body="ok",
        servers=(A,),
        must_pass=1,
        policy=StepPolicy(timeout_seconds=90, retries=2, on_failure=OnFailure.FAIL_WAVE, run_in=RunIn.DRILL),
    )
    assert describe_automation(check) == (
        "health-check 'db answers': https port 443 /ready status 200 body has 'ok' on 1 server "
        "(1 must pass, private address); timeout 1m30s, 2 retries, on failure fail-wave, drill only"
    )
    assert describe_automation(SSM) == (
        "ssm 'warm': SSM document AWS-RunShellScript on the wave's instances; timeout 5m, on failure hold"
    )
