"""Automation steps run by the shipped runner against the simulator (DRS, EC2, SSM and Lambda in one world,
loopback HTTP, real boto3, virtual clock): each kind passing, failing and timing out, a crash or a lost
answer during each, and what the evidence keeps."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.automation_events import AutomationRequested
from drs_desktop.domain.engine.automation_state import AttemptStatus, StepOutcome, step_key
from drs_desktop.domain.engine.events import Event, Outcome, StepDecided, StepPhase
from drs_desktop.domain.engine.queries import is_held
from drs_desktop.domain.engine.state import ExecutionState, Mode
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
from drs_desktop.domain.plan.model import RecoveryPlan, Step, Wave
from drs_desktop.services import reports
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.report_pdf import pdf_report
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.simulator.automation_spec import FunctionSpec, RunBehaviour
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import shipped_path
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

pytestmark = pytest.mark.timeout(180)

DB_PORT = 15432
WEB_PORT = 18080


class Crash(BaseException):
    """The runner's process dies here (not an Exception: nothing in the runner catches it)."""


def scenario() -> dict[str, Any]:
    data = yaml.safe_load(shipped_path("small").read_text(encoding="utf-8"))
    data["behaviour"] = {"missing_instance_id_fraction": 0}
    data["timings"] = {"instance_listed": [0, 0], "boot": [120, 120]}
    data["automation"] = {
        "ssm_documents": [{"name": "Team-Smoke", "platforms": ["Linux"], "parameters": ["url"]}],
        "ssm_runs": [{"document": "Team-Smoke", "seconds": 60, "exit_code": 3, "output": "smoke failed\n"}],
        "lambda_functions": [
            {"name": "dns-cutover", "behaviour": "echo", "seconds": 5, "timeout": 60},
            {"name": "smoke", "behaviour": "not-ok", "error_message": "checkout returned 500"},
        ],
        "listeners": [
            {"server": "shop-db-01", "port": DB_PORT},
            {"server": "shop-web-01", "port": WEB_PORT, "kind": "http", "status": 200, "body": "READY"},
        ],
    }
    return dict(data)


def save(
    db: Database, sim: EmbeddedSimulator, *, before: tuple[Step, ...] = (), after: tuple[Step, ...] = ()
) -> None:
    """A two-wave plan: the database, then the web tier with the steps under test."""
    s = sim.backend.server_id_of
    plan = RecoveryPlan(
        name="Shop",
        waves=(
            Wave(name="db", servers=(s("shop-db-01"),)),
            Wave(name="web", servers=(s("shop-web-01"), s("shop-web-02")), before=before, after=after),
        ),
    )
    save_plan(db, plan)


def start(db: Database, drs: DrsGateway, sim: EmbeddedSimulator, mode: Mode = Mode.DRILL) -> ExecutionRunner:
    request = RunRequest(plan_name="Shop", mode=mode, poll_interval_seconds=30)
    return create_execution(db, drs, prepare_execution(db, drs, request), request, clock=sim.clock.now)


def sleeper(sim: EmbeddedSimulator, runner: ExecutionRunner) -> Callable[[float], None]:
    """Move the virtual clock to the next wake-up, once what runs beside the loop had its real moment."""

    def sleep(seconds: float) -> None:
        runner.wait_beside(2.0)
        sim.clock.advance(max(seconds, 1.0))

    return sleep


def until_held(sim: EmbeddedSimulator, runner: ExecutionRunner) -> None:
    runner.run(sleep=sleeper(sim, runner), should_stop=lambda: is_held(runner.state))
    assert is_held(runner.state)


def report(db: Database, runner: ExecutionRunner) -> dict[str, Any]:
    view = reports.load_execution_view(db, runner.execution_id)
    return dict(json.loads(reports.render_json(view)))


def key(phase: StepPhase, index: int = 0) -> str:
    return step_key(1, phase, index)


def test_every_step_kind_passes_in_order_and_the_evidence_keeps_what_each_found(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    script = tmp_path / "announce.sh"
    script.write_text('#!/bin/sh\necho "wave $DRS_WAVE of $DRS_PLAN: $DRS_INSTANCES"\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    ScriptTrustService(db).trust(str(script), str(script))
    db_up = HealthCheckStep(
        name="db answers",
        probe=Probe.TCP,
        port=DB_PORT,
        reach=Reach.PUBLIC,
        interval_seconds=10,
        servers=(sim.backend.server_id_of("shop-db-01"),),
    )
    web_up = HealthCheckStep(
        name="web ready",
        probe=Probe.HTTP,
        port=WEB_PORT,
        path="/health",
        expect_body="READY",
        reach=Reach.PUBLIC,
        must_pass=1,
    )
    flush = SsmStep(name="flush", document="AWS-RunShellScript", parameters={"commands": ("echo flushed",)})
    dns = LambdaStep(name="dns", function="dns-cutover", payload={"zone": "shop.example"})
    announce = ScriptStep(name="announce", path=str(script))
    save(db, sim, before=(db_up,), after=(flush, web_up, dns, announce))
    runner = start(db, drs, sim)
    assert runner.run(sleep=sleeper(sim, runner)).outcome is Outcome.SUCCEEDED

    runs = runner.state.automation
    assert [runs[key(StepPhase.BEFORE)].outcome] == [StepOutcome.PASSED]
    assert [runs[key(StepPhase.AFTER, i)].outcome for i in range(4)] == [StepOutcome.PASSED] * 4
    web = runner.state.waves[1]
    assert runs[key(StepPhase.BEFORE)].ended_at <= web.launch_started_at  # type: ignore[operator]
    ssm = runs[key(StepPhase.AFTER, 0)].last
    assert ssm is not None and {t.status for t in ssm.targets} == {"Success"} and len(ssm.targets) == 2
    assert all("flushed" in t.output for t in ssm.targets)
    (invocation,) = sim.backend.lambdas.invocations
    facts = invocation.payload["drsDesktop"]
    assert invocation.payload["zone"] == "shop.example"
    assert facts["executionId"] == runner.execution_id and facts["wave"] == 2 and facts["phase"] == "AFTER"
    assert len(facts["instances"]) == 2
    script_run = runs[key(StepPhase.AFTER, 3)].last
    assert script_run is not None and "wave 2 of Shop" in script_run.output
    assert sim.backend.request_counts()["ssm:SendCommand"] == 1

    evidence = report(db, runner)
    steps = evidence["waves"][1]["automation"]
    assert [(s["kind"], s["name"], s["result"]) for s in steps] == [
        ("health-check", "db answers", "PASSED"),
        ("ssm", "flush", "PASSED"),
        ("health-check", "web ready", "PASSED"),
        ("lambda", "dns", "PASSED"),
        ("script", "announce", "PASSED"),
    ]
    assert "flushed" in json.dumps(steps[1])
    view = reports.load_execution_view(db, runner.execution_id)
    page = reports.render_html(view)
    section = page[page.index("<h2>Automation steps</h2>") :]
    section = section[: section.index("</section>")]
    assert section.count("<tr>") == 1 + 5, "a header and one row per attempt"
    assert "health-check &#x27;db answers&#x27;" in section and "flushed" in section
    assert "TCP 15432 open" in section
    pdf = pdf_report(view)
    assert "Automation steps" in pdf.html and "announce" in pdf.html


def test_a_failing_step_is_retried_then_holds_and_the_operator_decides(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    smoke = SsmStep(
        name="smoke",
        document="Team-Smoke",
        parameters={"url": ("http://shop",)},
        policy=StepPolicy(timeout_seconds=600, retries=1),
    )
    save(db, sim, after=(smoke,))
    runner = start(db, drs, sim)
    until_held(sim, runner)
    run = runner.state.automation[key(StepPhase.AFTER)]
    assert run.held and [a.status for a in run.attempts] == [AttemptStatus.FAILED] * 2
    assert "exit 3" in run.attempts[0].detail and "smoke failed" in run.attempts[0].targets[0].output
    assert sim.backend.request_counts()["ssm:SendCommand"] == 2
    runner.control(
        StepDecided(
            wave_index=1,
            phase=StepPhase.AFTER,
            step_index=0,
            action="done",
            at=runner.now(),
            by="ana",
            comment="checked by hand",
        )
    )
    assert runner.run(sleep=sleeper(sim, runner)).outcome is Outcome.SUCCEEDED
    steps = report(db, runner)["waves"][1]["automation"]
    assert steps[0]["result"] == "DONE" and steps[0]["decided_by"] == "ana"


def test_a_failure_that_fails_the_wave_and_a_warning_that_does_not(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    warn = LambdaStep(name="smoke", function="smoke", policy=StepPolicy(on_failure=OnFailure.WARN))
    fail = LambdaStep(name="smoke again", function="smoke", policy=StepPolicy(on_failure=OnFailure.FAIL_WAVE))
    save(db, sim, after=(warn, fail))
    runner = start(db, drs, sim)
    until_held(sim, runner)
    runs = runner.state.automation
    assert runs[key(StepPhase.AFTER, 0)].outcome is StepOutcome.WARNED
    assert runs[key(StepPhase.AFTER, 1)].outcome is StepOutcome.FAILED
    assert "checkout returned 500" in (runs[key(StepPhase.AFTER, 1)].last.detail)  # type: ignore[union-attr]


def test_a_health_check_that_never_answers_times_out_with_what_it_saw(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    silent = HealthCheckStep(
        name="nothing there",
        probe=Probe.TCP,
        port=DB_PORT + 1,
        reach=Reach.PUBLIC,
        interval_seconds=20,
        policy=StepPolicy(timeout_seconds=120),
    )
    save(db, sim, after=(silent,))
    runner = start(db, drs, sim)
    until_held(sim, runner)
    last = runner.state.automation[key(StepPhase.AFTER)].last
    assert last is not None and last.status is AttemptStatus.FAILED
    assert "timed out after 120 s: 0 of 2 target(s) passed" in last.detail
    assert last.probes >= 5, "probed every interval until the timeout"


def test_a_step_for_the_other_mode_is_skipped(db: Database, drs: DrsGateway, sim: EmbeddedSimulator) -> None:
    only_recovery = LambdaStep(name="dns", function="dns-cutover", policy=StepPolicy(run_in=RunIn.RECOVERY))
    save(db, sim, after=(only_recovery,))
    runner = start(db, drs, sim)
    assert runner.run(sleep=sleeper(sim, runner)).outcome is Outcome.SUCCEEDED
    assert sim.backend.lambdas.invocations == []
    assert report(db, runner)["waves"][1]["automation"][0]["result"] == "SKIPPED"


def test_an_ssm_send_cut_off_by_a_crash_is_found_by_its_comment_and_never_sent_twice(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    flush = SsmStep(name="flush", document="AWS-RunShellScript", parameters={"commands": ("echo ok",)})
    save(db, sim, after=(flush,))
    sim.faults.lose_answer("ssm:SendCommand", count=1)  # sent, its answer lost: then the process dies

    runner = start(db, drs, sim)
    runner.run(
        sleep=sleeper(sim, runner),
        should_stop=lambda: sim.backend.request_counts().get("ssm:SendCommand", 0) >= 1,
    )
    runner.close()
    resumed = ExecutionRunner.resume(db, drs, runner.execution_id, clock=sim.clock.now)
    assert resumed.run(sleep=sleeper(sim, resumed)).outcome is Outcome.SUCCEEDED
    assert sim.backend.request_counts()["ssm:SendCommand"] == 1
    assert resumed.state.automation[key(StepPhase.AFTER)].outcome is StepOutcome.PASSED


def test_a_lambda_whose_answer_is_lost_holds_the_run_and_is_never_invoked_again_on_its_own(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    dns = LambdaStep(name="dns", function="dns-cutover", policy=StepPolicy(retries=3))
    save(db, sim, after=(dns,))
    sim.faults.lose_answer("lambda:Invoke", count=1)
    runner = start(db, drs, sim)
    until_held(sim, runner)
    run = runner.state.automation[key(StepPhase.AFTER)]
    assert run.last is not None and run.last.status is AttemptStatus.UNKNOWN
    assert len(sim.backend.lambdas.invocations) == 1, "it ran once; its retries are the operator's to give"
    runner.control(
        StepDecided(
            wave_index=1, phase=StepPhase.AFTER, step_index=0, action="retry", at=runner.now(), by="ana"
        )
    )
    assert runner.run(sleep=sleeper(sim, runner)).outcome is Outcome.SUCCEEDED
    assert len(sim.backend.lambdas.invocations) == 2


def test_a_crash_while_a_script_runs_holds_the_run_for_the_operator(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    script = tmp_path / "slow.sh"
    script.write_text("#!/bin/sh\necho started\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    ScriptTrustService(db).trust(str(script), str(script))
    save(db, sim, after=(ScriptStep(name="slow", path=str(script)),))
    runner = start(db, drs, sim)

    def die(before: ExecutionState, after: ExecutionState, event: Event) -> None:
        if isinstance(event, AutomationRequested):
            raise Crash

    runner.add_listener(die)
    with pytest.raises(Crash):
        runner.run(sleep=sleeper(sim, runner))
    runner.close()
    resumed = ExecutionRunner.resume(db, drs, runner.execution_id, clock=sim.clock.now)
    until_held(sim, resumed)
    run = resumed.state.automation[key(StepPhase.AFTER)]
    assert run.last is not None and run.last.status is AttemptStatus.UNKNOWN
    assert "not known" in run.last.detail


def test_an_untrusted_or_changed_script_never_runs(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    script = tmp_path / "touch.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    ScriptTrustService(db).trust(str(script), str(script))
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho changed\n", encoding="utf-8")  # changed since
    save(db, sim, after=(ScriptStep(name="touch", path=str(script)),))
    runner = start(db, drs, sim)
    until_held(sim, runner)
    last = runner.state.automation[key(StepPhase.AFTER)].last
    assert last is not None and last.status is AttemptStatus.FAILED
    assert "does not trust" in last.detail and "CHANGED" in last.detail
    assert not marker.exists() and os.access(script, os.X_OK)


def test_an_ssm_command_that_never_ends_times_out_and_its_policy_decides(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    sim.backend.ssm.set_run(RunBehaviour(document="AWS-RunShellScript", hang=True))
    stuck = SsmStep(
        name="stuck",
        document="AWS-RunShellScript",
        parameters={"commands": ("sleep infinity",)},
        # longer than the agents' boot (two minutes here): then the run itself times out
        policy=StepPolicy(timeout_seconds=600, on_failure=OnFailure.WARN),
    )
    save(db, sim, after=(stuck,))
    runner = start(db, drs, sim)
    assert runner.run(sleep=sleeper(sim, runner)).outcome is Outcome.SUCCEEDED
    run = runner.state.automation[key(StepPhase.AFTER)]
    assert run.outcome is StepOutcome.WARNED and run.last is not None
    assert {t.status for t in run.last.targets} == {"TimedOut"}, run.last
    assert sim.backend.request_counts()["ssm:SendCommand"] == 1


def test_a_lambda_function_that_outruns_its_timeout_fails_the_wave(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    sim.backend.lambdas.register(FunctionSpec(name="slow", behaviour="ok", seconds=120, timeout=60))
    slow = LambdaStep(name="slow", function="slow", policy=StepPolicy(on_failure=OnFailure.FAIL_WAVE))
    save(db, sim, after=(slow,))
    runner = start(db, drs, sim)
    until_held(sim, runner)
    run = runner.state.automation[key(StepPhase.AFTER)]
    assert run.outcome is StepOutcome.FAILED and run.last is not None
    assert "Task timed out after 60" in run.last.detail
    assert len(sim.backend.lambdas.invocations) == 1


def test_a_script_that_exits_non_zero_fails_with_its_exit_and_output(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    script = tmp_path / "check.sh"
    script.write_text("#!/bin/sh\necho 'dns not moved yet' >&2\nexit 4\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    ScriptTrustService(db).trust(str(script), str(script))
    save(db, sim, after=(ScriptStep(name="check", path=str(script)),))
    runner = start(db, drs, sim)
    until_held(sim, runner)
    last = runner.state.automation[key(StepPhase.AFTER)].last
    assert last is not None and last.status is AttemptStatus.FAILED
    assert last.detail == "exit 4" and "dns not moved yet" in last.output
