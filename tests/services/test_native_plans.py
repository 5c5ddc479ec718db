"""Publish, republish, import, diff, adopt and status of native DRS recovery plans, on the simulator over
loopback HTTP with the real boto3 client (``services.native_plans``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drs_desktop.aws.native_plans import PLAN_TAG, NativePlansGateway
from drs_desktop.domain.native.fit import fit
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, WaitStep, Wave
from drs_desktop.services import native_plans as service
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database
from tests.services.native_fixtures import native_gateway, servers_fixture, sim_client, sim_fixture  # noqa: F401
from tests.services.settings_fixtures import db_fixture  # noqa: F401


@pytest.fixture(name="gateway")
def gateway_fixture(sim: EmbeddedSimulator) -> Iterator[NativePlansGateway]:
    yield from native_gateway(sim, page_size=2)  # small pages: every listing follows its pages


def _plan(servers: list[str], *, waves: int = 3, name: str = "Payments") -> RecoveryPlan:
    built = []
    for i in range(waves):
        before = (WaitStep(5),) if i == 1 else ()
        built.append(Wave(f"Tier {i + 1}", servers=tuple(servers[2 * i : 2 * i + 2]), before=before))
    return RecoveryPlan(name=name, description="test plan", waves=tuple(built))


def _names(plan: RecoveryPlan) -> list[str]:
    """The step names the domain gives the plan (its naming of wait steps is its own)."""
    return [step.name for step in fit(plan, plan_name=plan.name).steps]


def _drs_steps(sim: EmbeddedSimulator, plan_arn: str) -> list[dict[str, Any]]:
    steps = sim_client(sim).list_recovery_plan_steps(recoveryPlanArn=plan_arn)["recoveryPlanSteps"]
    return sorted(steps, key=lambda s: s["stepOrder"])


def _no_sleep(seconds: float) -> None:
    assert seconds >= 0


def _published(
    db: Database, gateway: NativePlansGateway, name: str = "Payments", *, overwrite: bool = False
) -> service.PublishResult:
    result = service.publish(db, gateway, name, operator="alice", sleep=_no_sleep, overwrite=overwrite)
    assert result.outcome == "published", result
    return result


def test_publish_creates_the_plan_its_steps_and_the_link(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    rev = plan_store.save_plan(db, _plan(servers))
    result = _published(db, gateway)
    client = sim_client(sim)
    plans = client.list_recovery_plans()["recoveryPlans"]
    assert [p["recoveryPlanArn"] for p in plans] == [result.plan_arn]
    tags = client.get_recovery_plan(recoveryPlanArn=result.plan_arn)["recoveryPlan"]["tags"]
    assert tags[PLAN_TAG] == rev.plan_id
    steps = _drs_steps(sim, result.plan_arn)
    assert [s["stepName"] for s in steps] == _names(_plan(servers))
    assert "waitStepConfiguration" in steps[1]["configuration"]
    assert steps[1]["configuration"]["waitStepConfiguration"]["waitDurationMinutes"] == 5
    assert [
        s["serverArn"].rsplit("/", 1)[-1]
        for s in steps[0]["configuration"]["serverStepConfiguration"]["servers"]
    ] == servers[:2]
    link = native_links.get_link(db, rev.plan_id)
    assert link is not None and link.recovery_plan_arn == result.plan_arn
    assert link.revision_id == rev.revision_id and link.published_by == "alice"
    assert [s["stepName"] for s in link.steps] == [s["stepName"] for s in steps]
    again = service.publish(db, gateway, "Payments", sleep=_no_sleep)
    assert again.outcome == "unchanged" and again.actions == ()


def test_republish_after_edits_leaves_exactly_the_desired_steps_and_keeps_unchanged_arns(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan_store.save_plan(db, _plan(servers))
    first = _published(db, gateway)
    before = {s["stepName"]: s["recoveryPlanStepArn"] for s in _drs_steps(sim, first.plan_arn)}
    t1, t2, t3 = _plan(servers).waves
    edited = RecoveryPlan(
        name="Payments",
        description="test plan",
        waves=(
            Wave("Tier 3", servers=(servers[4], servers[6])),  # moved first, a server added
            t1,  # unchanged
            Wave("Tier 2", servers=t2.servers, before=(WaitStep(12),)),  # the wait changed
            Wave("Tier 4", servers=(servers[5],)),  # a server moved here from Tier 3
        ),
    )
    assert t3.servers == (servers[4], servers[5])
    plan_store.save_plan(db, edited)
    result = _published(db, gateway)
    assert result.plan_arn == first.plan_arn
    steps = _drs_steps(sim, first.plan_arn)
    assert [s["stepName"] for s in steps] == _names(edited)
    assert [s["stepName"] for s in steps if "serverStepConfiguration" in s["configuration"]] == [
        "Tier 3",
        "Tier 1",
        "Tier 2",
        "Tier 4",
    ]
    assert steps[2]["configuration"]["waitStepConfiguration"]["waitDurationMinutes"] == 12
    after = {s["stepName"]: s["recoveryPlanStepArn"] for s in steps}
    assert after["Tier 1"] == before["Tier 1"] and after["Tier 2"] == before["Tier 2"]
    assert after["Tier 3"] == before["Tier 3"]  # moved and changed in place, not deleted and created
    assert len(sim_client(sim).list_recovery_plans()["recoveryPlans"]) == 1
    # Remove a wave: its step goes, nothing else does.
    plan_store.save_plan(db, RecoveryPlan(name="Payments", description="test plan", waves=edited.waves[:2]))
    _published(db, gateway)
    assert [s["stepName"] for s in _drs_steps(sim, first.plan_arn)] == ["Tier 3", "Tier 1"]


def test_lost_answers_to_creates_are_resent_without_duplicating_the_plan_or_a_step(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan_store.save_plan(db, _plan(servers))
    sim.faults.lose_answer("CreateRecoveryPlan", count=1)
    sim.faults.lose_answer("CreateRecoveryPlanStep", count=2)
    result = _published(db, gateway)
    assert result.retried >= 3
    assert sim.faults.injected() == {"drop_after": 3}  # the plan's and two steps' answers were lost
    assert len(sim_client(sim).list_recovery_plans()["recoveryPlans"]) == 1
    names = [s["stepName"] for s in _drs_steps(sim, result.plan_arn)]
    assert names == _names(_plan(servers))


def test_import_makes_local_plans_of_unlinked_native_plans_once(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    client = sim_client(sim)
    arns = {s.source_server_id: s.arn for s in gateway.drs.describe_source_servers()}
    made = client.create_recovery_plan(name="Console plan", description="made in the console")["recoveryPlan"]
    server_config = {"servers": [{"serverArn": arns[servers[0]], "impactLevel": "OPTIONAL"}]}
    client.create_recovery_plan_step(
        recoveryPlanArn=made["recoveryPlanArn"],
        stepName="Web",
        configuration={"serverStepConfiguration": server_config},
    )
    client.create_recovery_plan_step(
        recoveryPlanArn=made["recoveryPlanArn"],
        stepName="Settle",
        configuration={"waitStepConfiguration": {"waitDurationMinutes": 7}},
    )
    report = service.import_plans(db, gateway, operator="bob")
    assert report.imported == (("Console plan", 1, made["recoveryPlanArn"]),)
    plan = plan_store.get_plan(db, "Console plan")
    assert plan.waves[0].servers == (servers[0],) and plan.waves[0].optional == (servers[0],)
    assert plan.waves[0].after == (WaitStep(7),)
    assert plan_store.list_revisions(db, "Console plan")[0].comment.startswith("imported from DRS")
    second = service.import_plans(db, gateway)
    assert second.imported == () and "linked already" in second.skipped[0]
    assert service.diff(db, gateway, "Console plan").in_drs == ()


def test_drift_is_shown_in_words_and_either_side_can_win(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan_store.save_plan(db, _plan(servers))
    result = _published(db, gateway)
    wait = next(s for s in _drs_steps(sim, result.plan_arn) if "waitStepConfiguration" in s["configuration"])
    sim_client(sim).update_recovery_plan_step(
        recoveryPlanStepArn=wait["recoveryPlanStepArn"],
        configuration={"waitStepConfiguration": {"waitDurationMinutes": 30}},
    )
    found = service.diff(db, gateway, "Payments")
    assert found.drift and any(wait["stepName"] in line for line in found.in_drs)
    assert found.unpublished == ()
    assert next(s for s in service.status(db, gateway) if s.plan_name == "Payments").drift is True
    # Ours wins: publish puts the 5 minutes back, once told to overwrite what was changed in DRS.
    with pytest.raises(service.DriftNotConfirmed, match="waits 30 minutes in DRS"):
        _published(db, gateway)
    _published(db, gateway, overwrite=True)
    assert not service.diff(db, gateway, "Payments").drift
    steps = _drs_steps(sim, result.plan_arn)
    assert steps[1]["configuration"]["waitStepConfiguration"]["waitDurationMinutes"] == 5
    # Theirs wins: adopt makes DRS's steps the next revision.
    sim_client(sim).update_recovery_plan_step(
        recoveryPlanStepArn=wait["recoveryPlanStepArn"],
        configuration={"waitStepConfiguration": {"waitDurationMinutes": 45}},
    )
    rev = service.adopt(db, gateway, "Payments", operator="carol")
    assert rev.revision == 2 and rev.comment.startswith("adopted from DRS")
    assert plan_store.get_plan(db, "Payments").waves[1].before == (WaitStep(45),)
    assert not service.diff(db, gateway, "Payments").drift


def test_a_plan_that_does_not_fit_is_refused_with_its_problems_and_nothing_is_sent(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    gated = Wave("Gated", servers=(servers[0],), before=(ApprovalStep("go?"),))
    plan_store.save_plan(db, RecoveryPlan(name="Gates", waves=(gated,)))
    result = service.publish(db, gateway, "Gates", sleep=_no_sleep)
    assert result.outcome == "does_not_fit" and not result.ok
    assert [p.code for p in result.problems] == ["approval_gate"]
    assert any("Gated" in line for line in service.nearest_words(result.problems, result.nearest_changes))
    assert sim_client(sim).list_recovery_plans()["recoveryPlans"] == []


def test_status_lists_executions_latest_first(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan_store.save_plan(db, _plan(servers))
    plan_store.save_plan(db, _plan(servers, name="Unpublished"))
    result = _published(db, gateway)
    client = sim_client(sim)
    first = client.start_recovery_plan_execution(recoveryPlanArn=result.plan_arn, mode="DRILL")
    client.cancel_recovery_plan_execution(
        recoveryPlanExecutionArn=first["recoveryPlanExecution"]["recoveryPlanExecutionArn"]
    )
    sim.clock.advance(60)
    second = client.start_recovery_plan_execution(recoveryPlanArn=result.plan_arn, mode="DRILL")
    rows = {s.plan_name: s for s in service.status(db, gateway)}
    assert rows["Unpublished"].plan_arn == "" and rows["Unpublished"].note == "not published"
    published = rows["Payments"]
    assert published.drift is False and published.linked_revision == 1
    assert [e.arn for e in published.executions] == [
        second["recoveryPlanExecution"]["recoveryPlanExecutionArn"],
        first["recoveryPlanExecution"]["recoveryPlanExecutionArn"],
    ]
