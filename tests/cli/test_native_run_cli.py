"""``drs-desktop native run``: a published plan run in DRS from the command line, on the simulator over
loopback HTTP with the real boto3 client, in the simulator's virtual time (``manual_sim``: the CLI's runner
reads its clock and its sleeps advance it, so the plan's five-minute wait step passes at once).

What DRS did is read from the simulator's own records (its executions, its launches), not taken from the
CLI's word for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from drs_desktop.config import AppPaths
from drs_desktop.domain.plan.model import RecoveryPlan, WaitStep, Wave
from drs_desktop.services.executions import RUN_IN_KEY
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import Cli, ids, launch_records, launches_per_server, planned_servers, save_plans

pytestmark = pytest.mark.timeout(120)

PLAN = "Shop"


def native_shop(sim: EmbeddedSimulator) -> RecoveryPlan:
    """Three waves in a line, a five-minute wait after the first: four native steps."""
    return RecoveryPlan(
        name=PLAN,
        waves=(
            Wave(name="Database", servers=ids(sim, "shop-db-01"), after=(WaitStep(minutes=5),)),
            Wave(name="App", servers=ids(sim, "shop-app-01", "shop-app-02"), depends_on=("Database",)),
            Wave(name="Web", servers=ids(sim, "shop-web-01", "shop-web-02"), depends_on=("App",)),
        ),
    )


def where(sim: EmbeddedSimulator, home: Path) -> list[str]:
    return ["--endpoint", sim.endpoint_url, "--region", sim.region, "--home", str(home)]


def run_args(sim: EmbeddedSimulator, home: Path) -> list[str]:
    return [*where(sim, home), "--poll-interval", "30"]


def publish(cli: Cli, sim: EmbeddedSimulator, home: Path) -> RecoveryPlan:
    plan = native_shop(sim)
    save_plans(home, plan)
    done = cli("native", "publish", PLAN, "--yes", "--json", *where(sim, home))
    assert done.code == 0 and done.json()["outcome"] == "published", done.err
    return plan


def drs_executions(sim: EmbeddedSimulator) -> list[dict[str, Any]]:
    client = boto3.client("drs", **sim.client_kwargs())
    [plan] = client.list_recovery_plans()["recoveryPlans"]
    found: list[dict[str, Any]] = client.list_recovery_plan_executions(
        recoveryPlanArn=plan["recoveryPlanArn"]
    )["recoveryPlanExecutions"]
    return found


def local_executions(home: Path) -> list[Any]:
    with Database.open(AppPaths.resolve(home).database) as db:
        return journal.list_executions(db)


def test_a_drill_in_drs_runs_to_its_end_then_cleanup_and_status(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    plan = publish(cli, sim, app_home)
    started_at = sim.clock.now()
    result = cli("native", "run", PLAN, "--mode", "drill", "--json", *run_args(sim, app_home))
    assert result.code == 0, result.err
    payload = result.json()
    execution_id = payload["execution_id"]
    assert payload == {
        "execution_id": execution_id,
        "outcome": "SUCCEEDED",
        "status": "SUCCEEDED",
        "waiting_for": [],
        "restore_command": None,  # no launch template left pointed at a drill network
    }
    assert "in DRS (native plan arn:aws:drs:" in result.err
    assert "execution finished: SUCCEEDED" in result.err
    # DRS ran it: one execution of the native plan, completed, every server launched once as a drill.
    [execution] = drs_executions(sim)
    assert (execution["status"], execution["mode"]) == ("COMPLETED", "DRILL")
    assert f"DRS started execution {execution['recoveryPlanExecutionArn']}" in result.err
    assert "DRS step 2 'Wait after Database': waiting 5 min" in result.err
    assert "DRS execution COMPLETED" in result.err
    per_server = launches_per_server(sim)
    assert set(per_server) == planned_servers(plan) and set(per_server.values()) == {1}
    assert all(r.is_drill for r in launch_records(sim))
    assert (sim.clock.now() - started_at).total_seconds() >= 5 * 60  # the wait step, in virtual time
    [record] = local_executions(app_home)
    assert record.execution_id == execution_id and record.options[RUN_IN_KEY] == "DRS"

    # DRS never terminates a drill's instances: the desktop's cleanup does, the step jobs' only.
    cleaned = cli("cleanup", execution_id, "--home", str(app_home))
    assert cleaned.code == 0, cleaned.err
    assert "terminated 5 of 5 drill instances" in cleaned.out

    status = cli("native", "status", "--json", *where(sim, app_home))
    assert status.code == 0, status.err
    [row] = status.json()["plans"]
    [followed] = row["runs_here"]
    assert followed["execution_id"] == execution_id
    assert followed["execution_arn"] == execution["recoveryPlanExecutionArn"]
    assert (followed["mode"], followed["outcome"]) == ("DRILL", "SUCCEEDED")
    [in_drs] = row["executions"]
    assert in_drs["arn"] == execution["recoveryPlanExecutionArn"] and in_drs["followed_by"] == execution_id
    text = cli("native", "status", *where(sim, app_home))
    assert f"followed here as execution {execution_id}" in text.out
    assert f"run in DRS {execution_id}" in text.out


def test_a_recovery_in_drs_needs_the_plans_name(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    plan = publish(cli, sim, app_home)
    refused = cli("native", "run", PLAN, "--mode", "recovery", *run_args(sim, app_home))
    assert refused.code == 2
    assert f"--confirm {PLAN}" in refused.err
    wrong = cli("native", "run", PLAN, "--mode", "recovery", "--confirm", "shop", *run_args(sim, app_home))
    assert wrong.code == 2
    assert drs_executions(sim) == [] and launch_records(sim) == [] and local_executions(app_home) == []

    confirmed = cli(
        "native", "run", PLAN, "--mode", "recovery", "--confirm", PLAN, "--json", *run_args(sim, app_home)
    )
    assert confirmed.code == 0, confirmed.err
    assert confirmed.json()["outcome"] == "SUCCEEDED"
    [execution] = drs_executions(sim)
    assert execution["mode"] == "RECOVERY"
    records = launch_records(sim)
    assert {r.source_server_id for r in records} == planned_servers(plan)
    assert not any(r.is_drill for r in records)


def test_dry_run_prints_the_preflight_and_starts_nothing(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    publish(cli, sim, app_home)
    text = cli("native", "run", PLAN, "--mode", "drill", "--dry-run", *run_args(sim, app_home))
    assert text.code == 0, text.err
    assert "native plan 'Shop' is revision 1, unchanged" in text.out
    as_json = cli("native", "run", PLAN, "--mode", "drill", "--dry-run", "--json", *run_args(sim, app_home))
    assert as_json.code == 0 and as_json.json()["ok"] is True
    assert drs_executions(sim) == [] and local_executions(app_home) == []


def test_an_unpublished_plan_is_refused_clearly(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    save_plans(app_home, native_shop(sim))
    result = cli("native", "run", PLAN, "--mode", "drill", *run_args(sim, app_home))
    assert result.code == 1
    assert f"plan {PLAN!r} is not published to DRS from this desktop: publish it first" in result.err
    assert f"drs-desktop native publish {PLAN}" in result.err
    assert local_executions(app_home) == [] and launch_records(sim) == []
    assert cli("native", "run", PLAN, *run_args(sim, app_home)).code == 2  # no --mode, no --attach


def test_an_execution_started_elsewhere_is_named_then_attached(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    plan = publish(cli, sim, app_home)
    client = boto3.client("drs", **sim.client_kwargs())
    [native] = client.list_recovery_plans()["recoveryPlans"]
    arn = client.start_recovery_plan_execution(recoveryPlanArn=native["recoveryPlanArn"], mode="DRILL")[
        "recoveryPlanExecution"
    ]["recoveryPlanExecutionArn"]

    busy = cli("native", "run", PLAN, "--mode", "drill", *run_args(sim, app_home))
    assert busy.code == 1
    assert "DRS already runs an execution of this native plan: DRILL" in busy.err and arn in busy.err
    assert f"drs-desktop native run {PLAN} --attach {arn}" in busy.err
    assert local_executions(app_home) == []

    attached = cli("native", "run", PLAN, "--attach", arn, "--json", *run_args(sim, app_home))
    assert attached.code == 0, attached.err
    assert attached.json()["outcome"] == "SUCCEEDED"
    assert "nothing started" in attached.err
    assert f"following DRS execution {arn} (started elsewhere)" in attached.err
    [execution] = drs_executions(sim)  # no second execution was started
    assert execution["recoveryPlanExecutionArn"] == arn and execution["status"] == "COMPLETED"
    per_server = launches_per_server(sim)
    assert set(per_server) == planned_servers(plan) and set(per_server.values()) == {1}
    [record] = local_executions(app_home)
    assert record.mode == "DRILL" and record.options[RUN_IN_KEY] == "DRS"
    # Its drill instances are this desktop's to clean up now.
    cleaned = cli("cleanup", record.execution_id, "--home", str(app_home))
    assert cleaned.code == 0 and "terminated 5 of 5 drill instances" in cleaned.out


def test_attach_to_an_execution_of_another_plan_is_refused(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    publish(cli, sim, app_home)
    client = boto3.client("drs", **sim.client_kwargs())
    other = client.create_recovery_plan(name="Other")["recoveryPlan"]["recoveryPlanArn"]
    client.create_recovery_plan_step(
        recoveryPlanArn=other,
        stepName="Pause",
        configuration={"waitStepConfiguration": {"waitDurationMinutes": 1}},
    )
    arn = client.start_recovery_plan_execution(recoveryPlanArn=other, mode="DRILL")["recoveryPlanExecution"][
        "recoveryPlanExecutionArn"
    ]
    refused = cli("native", "run", PLAN, "--attach", arn, *run_args(sim, app_home))
    assert refused.code == 1
    assert f"{arn} is an execution of {other}" in refused.err
    assert local_executions(app_home) == []


def held_run(cli: Cli, sim: EmbeddedSimulator, home: Path) -> tuple[str, str]:
    """A drill in DRS whose App step failed (a critical server's launch): exit 3, held. Its ID, and the
    failed server."""
    failing = sim.backend.server_id_of("shop-app-02")
    sim.faults.fail_launch(servers=["shop-app-02"])
    held = cli("native", "run", PLAN, "--mode", "drill", "--json", *run_args(sim, home))
    assert held.code == 3, held.err
    payload = held.json()
    assert (payload["status"], payload["outcome"]) == ("HELD", None)
    [waiting] = payload["waiting_for"]
    assert waiting["wave"] == "App" and failing in waiting["message"]
    execution_id = payload["execution_id"]
    assert f"drs-desktop control {execution_id} retry|skip|cancel" in held.err
    [execution] = drs_executions(sim)
    assert execution["status"] == "FAILED"  # DRS holds it: the run here is held for the operator
    assert f"DRS execution FAILED: {execution['errorDetail']['message']}" in held.err
    return execution_id, failing


def test_a_held_run_in_drs_exits_3_then_retry_finishes_it_and_pause_is_refused(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    plan = publish(cli, sim, app_home)
    execution_id, failing = held_run(cli, sim, app_home)
    assert not set(plan.waves[2].servers) & set(launches_per_server(sim))  # nothing after the held wave

    paused = cli("control", execution_id, "pause", *run_args(sim, app_home))
    assert paused.code == 1
    assert "a run in DRS cannot be paused: DRS's executions have no pause (cancel stops it)" in paused.err

    sim.faults.clear()
    retried = cli("control", execution_id, "retry", "--by", "bob", "--json", *run_args(sim, app_home))
    assert retried.code == 0, retried.err
    assert retried.json()["outcome"] == "SUCCEEDED"
    assert "retry sent to DRS (step 3 'App')" in retried.err
    [execution] = drs_executions(sim)  # the same execution, retried in DRS
    assert execution["status"] == "COMPLETED"
    per_server = launches_per_server(sim)
    assert per_server[failing] == 2
    assert {count for server, count in per_server.items() if server != failing} == {1}


def test_a_held_run_in_drs_skipped_runs_the_rest(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    plan = publish(cli, sim, app_home)
    execution_id, failing = held_run(cli, sim, app_home)
    skipped = cli("control", execution_id, "skip", "--wave", "App", "--json", *run_args(sim, app_home))
    assert skipped.code == 0, skipped.err
    assert set(plan.waves[2].servers) <= set(launches_per_server(sim))
    assert launches_per_server(sim)[failing] == 1
    [execution] = drs_executions(sim)
    assert execution["status"] == "COMPLETED"


def test_a_held_run_in_drs_cancelled_ends_failed(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    plan = publish(cli, sim, app_home)
    execution_id, _ = held_run(cli, sim, app_home)
    cancelled = cli("control", execution_id, "cancel", "--json", *run_args(sim, app_home))
    assert cancelled.code == 1, cancelled.err
    assert cancelled.json()["outcome"] == "FAILED"
    assert not set(plan.waves[2].servers) & set(launches_per_server(sim))
    [record] = local_executions(app_home)
    assert record.outcome == "FAILED" and record.finished_at is not None


def test_detach_returns_once_drs_has_it_and_run_resume_follows_it(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    plan = publish(cli, sim, app_home)
    detached = cli("native", "run", PLAN, "--mode", "drill", "--detach", "--json", *run_args(sim, app_home))
    assert detached.code == 0, detached.err
    payload = detached.json()
    execution_id = payload["execution_id"]
    [execution] = drs_executions(sim)
    assert payload["execution_arn"] == execution["recoveryPlanExecutionArn"] and payload["outcome"] is None
    assert execution["status"] in ("CREATED", "IN_PROGRESS")  # DRS runs it; this process has returned
    assert f"drs-desktop run --resume {execution_id}" in detached.err
    [record] = local_executions(app_home)
    assert record.finished_at is None

    followed = cli("run", "--resume", execution_id, "--json", *run_args(sim, app_home))
    assert followed.code == 0, followed.err
    assert followed.json()["outcome"] == "SUCCEEDED"
    [execution] = drs_executions(sim)  # the same execution, not a second start
    assert execution["status"] == "COMPLETED"
    per_server = launches_per_server(sim)
    assert set(per_server) == planned_servers(plan) and set(per_server.values()) == {1}
