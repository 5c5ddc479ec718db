"""A plan whose servers are in another target never runs against the connected DRS (the simulator here)."""

from __future__ import annotations

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan, Wave
from drs_desktop.domain.preflight.checks import CheckStatus
from drs_desktop.services.executions import (
    ExecutionSetupError,
    RunRequest,
    create_execution,
    prepare_execution,
)
from drs_desktop.services.preflight import preflight
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

from .conftest import ids


def here(sim: EmbeddedSimulator) -> PlanTarget:
    return PlanTarget("demo", sim.backend.account_id, sim.region, profile="demo")


def elsewhere() -> PlanTarget:
    return PlanTarget("stage-b", "222222222222", "eu-west-1", profile="stage-b")


def test_a_plan_spanning_two_targets_is_prepared_across_them(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    """The multi-target engine runs it: each server goes with its target (tests/runner/test_runner_targets.py
    runs such plans end to end)."""
    db_id, app_id = ids(sim, "shop-db-01", "shop-app-01")
    plan = RecoveryPlan(
        "Spread",
        targets=(here(sim), elsewhere()),
        waves=(Wave("Both", target="demo", servers=(db_id, app_id), server_targets={app_id: "stage-b"}),),
    )
    save_plan(db, plan)
    request = RunRequest(plan_name="Spread", mode=Mode.DRILL)
    prepared = prepare_execution(db, gateway, request)
    assert [t.name for t in prepared.targets] == ["demo", "stage-b"]
    assert dict(prepared.server_targets) == {db_id: "demo", app_id: "stage-b"}
    report = preflight(db, gateway, prepared, request, now=sim.clock.now())
    first = report.checks[0]
    assert (first.name, first.status) == ("targets", CheckStatus.PASS)
    assert first.message.startswith("the run goes across targets 'demo'")
    runner = create_execution(db, gateway, prepared, request)
    assert runner.state.spec.targets == ("demo", "stage-b")
    assert sim.backend.launch_records() == []


def test_a_plan_whose_one_target_is_the_connected_one_runs_as_today(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    plan = RecoveryPlan(
        "Home", targets=(here(sim),), waves=(Wave("W", servers=ids(sim, "shop-db-01", "shop-app-01")),)
    )
    save_plan(db, plan)
    request = RunRequest(plan_name="Home", mode=Mode.DRILL)
    prepared = prepare_execution(db, gateway, request)
    report = preflight(db, gateway, prepared, request, now=sim.clock.now())
    assert report.ok, [c for c in report.checks if c.status is not CheckStatus.PASS]
    assert (report.checks[0].name, report.checks[0].status) == ("targets", CheckStatus.PASS)
    assert len(report.start_calls) == 1
    runner = create_execution(db, gateway, prepared, request)
    assert runner.execution_id in {r.execution_id for r in journal.unfinished_executions(db)}


def test_an_entry_in_no_declared_target_is_refused_before_it_is_looked_for_in_the_connected_account(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    """Several targets and a wave server that names none (or a target the plan does not declare): it
    would otherwise be resolved in whatever account is connected. The run path refuses it by itself,
    whatever the plan's other problems say."""
    from drs_desktop.domain.plan.model import ProtectionGroup
    from drs_desktop.domain.preflight.plan_targets import unplaced_problem

    db_id, app_id = ids(sim, "shop-db-01", "shop-app-01")
    plan = RecoveryPlan(
        "Unsaid",
        targets=(here(sim), elsewhere()),
        protection_groups=(ProtectionGroup("web", tags={"Role": "web"}),),  # no target of several
        waves=(
            Wave("One", servers=(db_id,)),  # no target either
            Wave("Two", target="demo", servers=(app_id,), server_targets={app_id: "typo"}, groups=("web",)),
        ),
    )
    problem = unplaced_problem(plan)
    assert problem is not None and "does not say which one" in problem
    assert f"server {db_id} in wave 'One'" in problem and f"server {app_id} in wave 'Two'" in problem
    assert "group 'web'" in problem
    save_plan(db, plan)
    request = RunRequest(plan_name="Unsaid", mode=Mode.DRILL)
    with pytest.raises(ExecutionSetupError, match="does not say which one"):
        create_execution(db, gateway, prepare_execution(db, gateway, request), request)
    assert sim.backend.launch_records() == []
