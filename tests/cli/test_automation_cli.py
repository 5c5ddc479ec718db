"""The command line and automation steps (issue 17): ``run`` held on a step says which step, why and the
exact commands that decide it; ``control done|fail|retry`` decides it; the progress lines follow each
attempt; ``executions show`` lists every step with its attempts. The CLI runs in this process against the
simulator (DRS, EC2, SSM and Lambda in one world, loopback HTTP, real boto3) in its virtual time: the
runner's sleeps move the simulator's manual clock, after what runs beside the loop (a Lambda function)
had its real moment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from drs_desktop import cli_target
from drs_desktop.aws.drs_clock import DrsClock
from drs_desktop.domain.plan.automation import (
    HealthCheckStep,
    LambdaStep,
    Probe,
    Reach,
    RunIn,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.model import RecoveryPlan, Step, Wave
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import shipped_path

from .conftest import Cli, Result, ids, save_plans

pytestmark = pytest.mark.timeout(180)

DB_PORT = 15532


def scenario() -> dict[str, Any]:
    """The small estate, its instances listed at once and booted (agents online) 2 minutes after launch;
    a smoke-test document that fails with exit 3, a DNS function, a database listener up a minute late."""
    data = yaml.safe_load(shipped_path("small").read_text(encoding="utf-8"))
    data["behaviour"] = {"missing_instance_id_fraction": 0}
    data["timings"] = {"instance_listed": [0, 0], "boot": [120, 120]}
    data["automation"] = {
        "ssm_documents": [{"name": "Team-Smoke", "platforms": ["Linux"], "parameters": ["url"]}],
        "ssm_runs": [{"document": "Team-Smoke", "seconds": 60, "exit_code": 3, "output": "smoke failed\n"}],
        "lambda_functions": [{"name": "dns-cutover", "behaviour": "ok", "seconds": 5, "timeout": 60}],
        "listeners": [{"server": "shop-db-01", "port": DB_PORT, "up_after": 60}],
    }
    return dict(data)


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedSimulator]:
    """The simulator on a manual clock that the CLI's runner reads and moves when it sleeps."""
    with EmbeddedSimulator(scenario(), seed=7) as simulator:
        clock = simulator.clock
        monkeypatch.setattr(cli_target, "_now", clock.now)
        monkeypatch.setattr(
            cli_target,
            "_drs_clock",
            lambda: DrsClock(wall=clock.now, monotonic=lambda: clock.now().timestamp()),
        )
        monkeypatch.setattr(cli_target, "_simulator_clock", lambda endpoint: None)  # the test moves time

        def sleeper(runner: ExecutionRunner) -> Any:
            def sleep(seconds: float) -> None:
                runner.wait_beside(2.0)  # a jump must not overtake a call the real clock still serves
                clock.advance(max(seconds, 1.0))

            return sleep

        monkeypatch.setattr(cli_target, "_runner_sleeper", sleeper)
        yield simulator


SMOKE = SsmStep(
    name="smoke",
    document="Team-Smoke",
    parameters={"url": ("http://shop",)},
    policy=StepPolicy(timeout_seconds=600, retries=1),
)


def save(
    sim: EmbeddedSimulator, home: Path, *, before: tuple[Step, ...] = (), after: tuple[Step, ...] = ()
) -> None:
    """The database, then the web tier with the steps under test."""
    save_plans(
        home,
        RecoveryPlan(
            name="Shop",
            waves=(
                Wave(name="db", servers=ids(sim, "shop-db-01")),
                Wave(name="web", servers=ids(sim, "shop-web-01", "shop-web-02"), before=before, after=after),
            ),
        ),
    )


def target(sim: EmbeddedSimulator, home: Path) -> list[str]:
    return ["--endpoint", sim.endpoint_url, "--poll-interval", "10", "--home", str(home)]


def show(cli: Cli, execution_id: str, home: Path) -> Result:
    return cli("executions", "show", execution_id, "--home", str(home))


def test_a_run_held_on_a_failing_ssm_step_names_it_and_done_lets_it_finish(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    save(sim, app_home, after=(SMOKE,))
    held = cli("run", "Shop", "--mode", "drill", "--json", *target(sim, app_home))

    assert held.code == 3, held.err
    payload = held.json()
    execution_id = payload["execution_id"]
    assert payload["status"] == "HELD" and payload["outcome"] is None
    (waiting,) = payload["waiting_for"]
    step = waiting["step"]
    assert {k: step[k] for k in ("wave", "phase", "step", "kind", "name", "lost")} == {
        "wave": 2,
        "phase": "AFTER",
        "step": 1,
        "kind": "ssm",
        "name": "smoke",
        "lost": False,
    }
    assert "0 of 2 invocation(s) succeeded" in step["detail"] and "exit 3" in step["detail"]
    assert waiting["wave"] == "web" and "retry it, mark it done or fail it" in waiting["message"]
    err = held.err
    assert f"drs-desktop control {execution_id} retry|done|fail --wave 2" in err
    assert "held: wave 'web': after step 1: ssm 'smoke': failed after 2 attempts (0 of 2" in err
    # The progress lines followed the attempts: the wait for agents, each send, each end, the hold.
    label = "wave 2 'web' after step 1 ssm 'smoke'"
    assert f"{label}: attempt 1 of 2 requested on 2 instance(s)" in err
    assert err.count(f"{label}: nothing sent yet: the SSM agent of") == 1, "said once, not every 15 s"
    assert err.count(f"{label}: SSM command ") == 2
    assert f"{label}: attempt 2 FAILED: 0 of 2 invocation(s) succeeded" in err
    assert f"{label}: waiting for the operator: retry, done or fail" in err
    assert sim.backend.request_counts()["ssm:SendCommand"] == 2

    listed = show(cli, execution_id, app_home).out
    assert "    after step 1: ssm 'smoke': WAITING FOR THE OPERATOR" in listed

    unexplained = cli("control", execution_id, "done", "--by", "ana", *target(sim, app_home))
    assert unexplained.code == 2 and "done needs --comment" in unexplained.err
    assert show(cli, execution_id, app_home).out == listed, "refused: nothing was journaled"

    done = cli(
        "control", execution_id, "done", "--by", "ana", "--comment", "checked by hand", "--json",
        *target(sim, app_home),
    )  # fmt: skip
    assert done.code == 0, done.err
    assert done.json()["outcome"] == "SUCCEEDED"
    assert "done (wave 2 'web', after step 1: ssm 'smoke') journaled" in done.err
    assert sim.backend.request_counts()["ssm:SendCommand"] == 2, "marked done: nothing sent again"

    shown = cli("executions", "show", execution_id, "--json", "--home", str(app_home)).json()
    (smoke,) = shown["waves"][1]["automation"]
    assert (smoke["result"], smoke["decided_by"], smoke["comment"]) == ("DONE", "ana", "checked by hand")
    assert [a["status"] for a in smoke["attempts"]] == ["FAILED", "FAILED"]
    assert all("smoke failed" in t["output"] for a in smoke["attempts"] for t in a["targets"])


def test_control_fail_fails_the_step_and_its_wave_which_is_then_skipped_or_cancelled(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    save(sim, app_home, after=(SMOKE,))
    execution_id = cli("run", "Shop", "--mode", "drill", "--json", *target(sim, app_home)).json()[
        "execution_id"
    ]
    nothing_to_approve = cli("control", execution_id, "approve", *target(sim, app_home))
    assert nothing_to_approve.code == 2 and "no wave waits for an approval" in nothing_to_approve.err

    failed = cli(
        "control", execution_id, "fail", "--wave", "web", "--by", "ana", "--json", *target(sim, app_home)
    )

    assert failed.code == 3, failed.err  # the wave failed with its step: held for skip or cancel
    assert "fail (wave 2 'web', after step 1: ssm 'smoke') journaled" in failed.err
    (waiting,) = failed.json()["waiting_for"]
    assert waiting["step"]["decidable"] is False and waiting["step"]["name"] == "smoke"
    assert "failed by ana" in waiting["message"] and "skip the wave or cancel" in waiting["message"]
    assert f"drs-desktop control {execution_id} skip --wave 2 (or cancel)" in failed.err
    assert "retry|done|fail" not in failed.err
    again = cli("control", execution_id, "done", "--comment", "too late", *target(sim, app_home))
    assert again.code == 2 and "no step waits for a decision" in again.err
    listed = show(cli, execution_id, app_home).out
    assert "    after step 1: ssm 'smoke': FAILED by ana" in listed

    cancelled = cli("control", execution_id, "cancel", "--json", *target(sim, app_home))
    assert cancelled.code == 1 and cancelled.json()["outcome"] == "FAILED"  # a wave failed: the run did


def test_a_lambda_whose_answer_is_lost_says_it_may_have_run_and_retry_runs_it_again(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    dns = LambdaStep(name="dns", function="dns-cutover", policy=StepPolicy(retries=3))
    save(sim, app_home, after=(dns,))
    sim.faults.lose_answer("lambda:Invoke", count=1)
    held = cli("run", "Shop", "--mode", "drill", "--json", *target(sim, app_home))

    assert held.code == 3, held.err
    execution_id = held.json()["execution_id"]
    (waiting,) = held.json()["waiting_for"]
    assert waiting["step"]["lost"] is True and waiting["step"]["kind"] == "lambda"
    assert "the Lambda function may have run" in held.err
    assert "wave 2 'web' after step 1 lambda 'dns': attempt 1 outcome LOST" in held.err
    assert len(sim.backend.lambdas.invocations) == 1, "never invoked again on its own"

    retried = cli("control", execution_id, "retry", "--by", "ana", "--json", *target(sim, app_home))
    assert retried.code == 0, retried.err
    assert "retry (wave 2 'web', after step 1: lambda 'dns') journaled" in retried.err
    assert "wave 2 'web' after step 1 lambda 'dns': attempt 2 passed" in retried.err
    assert len(sim.backend.lambdas.invocations) == 2


def test_executions_show_lists_each_wave_s_steps_with_their_attempts(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    db_up = HealthCheckStep(
        name="db answers",
        probe=Probe.TCP,
        port=DB_PORT,
        reach=Reach.PUBLIC,
        interval_seconds=20,  # no servers named: before its wave, the wave it depends on (db)
    )
    dns = LambdaStep(name="dns", function="dns-cutover", policy=StepPolicy(run_in=RunIn.RECOVERY))
    save(sim, app_home, before=(db_up,), after=(dns,))
    run = cli("run", "Shop", "--mode", "drill", "--json", *target(sim, app_home))
    assert run.code == 0, run.err
    assert "wave 2 'web' before step 1 health-check 'db answers': probes: 0 of 1 passed (" in run.err
    assert "health-check 'db answers': attempt 1 passed: 1 of 1 target(s) passed" in run.err
    assert "after step 1 lambda 'dns': skipped (not run in a drill)" in run.err
    execution_id = run.json()["execution_id"]

    listed = show(cli, execution_id, app_home).out.splitlines()
    start = listed.index("  wave 2 'web': COMPLETED")
    section = listed[start:]
    assert "    before step 1: health-check 'db answers': PASSED" in section
    attempt = next(line for line in section if line.startswith("      attempt 1 PASSED"))
    assert attempt.endswith(": 1 of 1 target(s) passed")
    (db_server,) = ids(sim, "shop-db-01")
    assert any(
        line.startswith(f"        {db_server} (i-")
        and line.endswith(f": TCP {DB_PORT} open")
        and " PASS: 127." in line
        for line in section
    )
    assert "    after step 1: lambda 'dns': SKIPPED" in section
    assert all(
        "automation" in wave and not wave["automation"] for wave in _json(cli, execution_id, app_home)[:1]
    )
    (db_step, dns_step) = _json(cli, execution_id, app_home)[1]["automation"]
    assert (db_step["result"], db_step["kind"], len(db_step["attempts"])) == ("PASSED", "health-check", 1)
    assert (dns_step["result"], dns_step["attempts"]) == ("SKIPPED", [])
    assert sim.backend.lambdas.invocations == []


def _json(cli: Cli, execution_id: str, home: Path) -> list[dict[str, Any]]:
    waves: list[dict[str, Any]] = cli(
        "executions", "show", execution_id, "--json", "--home", str(home)
    ).json()["waves"]
    return waves
