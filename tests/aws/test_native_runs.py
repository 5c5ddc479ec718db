"""Running a native DRS plan in DRS (``aws.native_runs``): on the simulator over loopback HTTP with the real
boto3 client, its virtual clock advanced by hand (no sleeps)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_runs import EXECUTION_TERMINAL, NativeExecutionStepView, NativeRunsGateway
from drs_desktop.domain.drs.errors import DrsConflict, DrsUnavailable
from drs_desktop.domain.engine.events import JobStatus
from drs_desktop.domain.native.steps import NativeServer, NativeStep, NativeStepKind
from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.aws.conftest import ids_of, target_of


@pytest.fixture(name="runs")
def runs_fixture(sim: EmbeddedSimulator) -> Iterator[NativeRunsGateway]:
    drs = DrsGateway(target_of(sim), page_size=2)
    yield NativeRunsGateway(drs, page_size=2)  # small pages: the step listing follows its pages
    drs.close()


def _server_step(name: str, *servers: tuple[str, str]) -> NativeStep:
    return NativeStep(
        name, NativeStepKind.SERVER, servers=tuple(NativeServer(sid, impact) for sid, impact in servers)
    )


def _plan(sim: EmbeddedSimulator, runs: NativeRunsGateway, *steps: NativeStep, name: str = "shop") -> str:
    arns = {s.source_server_id: s.arn for s in runs.drs.describe_source_servers()}
    plan = runs.create_plan(name, "test", tags={}, client_token=f"plan-{name}")
    for order, step in enumerate(steps, start=1):
        runs.create_step(plan.arn, step, order=order, server_arns=arns, client_token=f"{name}-{order}")
    return plan.arn


def _three_steps(sim: EmbeddedSimulator, runs: NativeRunsGateway) -> str:
    db, web1, web2 = ids_of(sim, "shop-db-01", "shop-web-01", "shop-web-02")
    return _plan(
        sim,
        runs,
        _server_step("db", (db, "CRITICAL")),
        NativeStep("settle", NativeStepKind.WAIT, wait_minutes=10),
        _server_step("web", (web1, "CRITICAL"), (web2, "OPTIONAL")),
    )


def _follow(
    sim: EmbeddedSimulator, runs: NativeRunsGateway, arn: str, *, limit: float = 6 * 3600
) -> tuple[str, list[tuple[str, ...]]]:
    """Advance the virtual clock a minute at a time until the execution is terminal; its final status
    and every distinct tuple of step statuses seen on the way."""
    seen: list[tuple[str, ...]] = []
    waited = 0.0
    while True:
        statuses = tuple(s.status for s in runs.list_execution_steps(arn))
        if not seen or seen[-1] != statuses:
            seen.append(statuses)
        status = runs.get_execution(arn).status
        if status in EXECUTION_TERMINAL:
            return status, seen
        assert waited < limit, f"execution still {status}"
        sim.clock.advance(60)
        waited += 60


def _full(runs: NativeRunsGateway, arn: str) -> list[NativeExecutionStepView]:
    return [runs.get_execution_step(s.arn) for s in runs.list_execution_steps(arn)]


def test_a_native_drill_runs_to_completion_and_each_step_job_is_a_drill_job(
    sim: EmbeddedSimulator, runs: NativeRunsGateway
) -> None:
    plan = _three_steps(sim, runs)
    started = runs.start_execution(plan, "DRILL", "run-1", tags={"drs-desktop:run": "r1"})
    assert (started.plan_arn, started.mode, started.status) == (plan, "DRILL", "CREATED")
    status, seen = _follow(sim, runs, started.arn)
    assert status == "COMPLETED"
    assert seen[0] == ("NOT_STARTED", "NOT_STARTED", "NOT_STARTED")
    assert ("EXECUTING", "NOT_STARTED", "NOT_STARTED") in seen
    assert ("COMPLETED", "WAITING", "NOT_STARTED") in seen
    assert ("COMPLETED", "COMPLETED", "EXECUTING") in seen
    assert seen[-1] == ("COMPLETED", "COMPLETED", "COMPLETED")
    steps = _full(runs, started.arn)
    assert [(s.index, s.name, s.kind, s.attempt) for s in steps] == [
        (1, "db", "SERVER", 1),
        (2, "settle", "WAIT", 1),
        (3, "web", "SERVER", 1),
    ]
    assert steps[1].wait_minutes == 10 and steps[1].job_ids == ()
    assert [s.impact for s in steps[2].servers] == ["CRITICAL", "OPTIONAL"]
    for step in (steps[0], steps[2]):
        (job_id,) = step.job_ids
        (job,) = runs.drs.describe_jobs([job_id])
        assert job.status is JobStatus.COMPLETED and job.is_drill is True
        assert set(job.server_ids) == {s.source_server_id for s in step.servers}
    finished = runs.get_execution(started.arn)
    assert finished.completed_at is not None and finished.error == ""
    # DRS never terminates what a drill launched: hours later the recovery instances are all there (DRS
    # lists a new one a while after its job ends), running.
    sim.clock.advance(3 * 3600)
    launched = {s.source_server_id for s in steps[0].servers + steps[2].servers}
    instances = runs.drs.describe_recovery_instances(sorted(launched))
    assert {i.source_server_id for i in instances} == launched
    assert all(i.is_drill and i.ec2_state == "RUNNING" for i in instances)
    assert {i.job_id for i in instances} == {steps[0].job_ids[0], steps[2].job_ids[0]}
    assert runs.get_execution(started.arn).status == "COMPLETED"


def test_the_client_token_returns_the_same_execution_and_a_second_run_conflicts(
    sim: EmbeddedSimulator, runs: NativeRunsGateway
) -> None:
    plan = _three_steps(sim, runs)
    first = runs.start_execution(plan, "DRILL", "tok-1")
    again = runs.start_execution(plan, "DRILL", "tok-1")
    assert again.arn == first.arn
    assert [e.arn for e in runs.list_executions(plan)] == [first.arn]
    with pytest.raises(DrsConflict):
        runs.start_execution(plan, "DRILL", "tok-2")
    assert _follow(sim, runs, first.arn)[0] == "COMPLETED"
    second = runs.start_execution(plan, "RECOVERY", "tok-2")  # the first is over: a new run may start
    assert second.arn != first.arn and second.mode == "RECOVERY"


def test_a_failed_critical_server_holds_the_execution_until_retried(
    sim: EmbeddedSimulator, runs: NativeRunsGateway
) -> None:
    web1, web2, app = ids_of(sim, "shop-web-01", "shop-web-02", "shop-app-01")
    plan = _plan(
        sim,
        runs,
        _server_step("web", (web1, "CRITICAL"), (web2, "CRITICAL")),
        _server_step("app", (app, "OPTIONAL")),
    )
    sim.faults.fail_launch(servers=["shop-web-02"])
    run = runs.start_execution(plan, "DRILL", "fail-1")
    assert _follow(sim, runs, run.arn)[0] == "FAILED"
    failed = runs.get_execution(run.arn)
    assert web2 in failed.error
    web, rest = _full(runs, run.arn)
    assert (web.status, web.attempt, web.error_code, rest.status) == (
        "FAILED",
        1,
        "CriticalServerLaunchFailed",
        "NOT_STARTED",
    )
    (first_job,) = web.job_ids
    sim.faults.clear()
    retried = runs.retry_step(web.arn)
    assert (retried.status, retried.attempt) == ("EXECUTING", 2)
    assert runs.get_execution(run.arn).status == "IN_PROGRESS"
    assert _follow(sim, runs, run.arn)[0] == "COMPLETED"
    web = runs.get_execution_step(web.arn)
    jobs = {s.source_server_id: s.job_id for s in web.servers}
    assert jobs[web1] == first_job  # launched the first time: not launched again
    assert jobs[web2] != first_job  # a new job for the server that failed
    (job,) = runs.drs.describe_jobs([jobs[web2]])
    assert job.is_drill is True and job.server_ids == (web2,)


def test_an_optional_server_failing_does_not_fail_the_step(
    sim: EmbeddedSimulator, runs: NativeRunsGateway
) -> None:
    web1, web2 = ids_of(sim, "shop-web-01", "shop-web-02")
    plan = _plan(sim, runs, _server_step("web", (web1, "CRITICAL"), (web2, "OPTIONAL")))
    sim.faults.fail_launch(servers=["shop-web-02"])
    run = runs.start_execution(plan, "DRILL", "opt-1")
    assert _follow(sim, runs, run.arn)[0] == "COMPLETED"
    assert [s.status for s in runs.list_execution_steps(run.arn)] == ["COMPLETED"]


def test_skip_a_not_started_step_and_a_failed_one(sim: EmbeddedSimulator, runs: NativeRunsGateway) -> None:
    plan = _three_steps(sim, runs)
    sim.faults.fail_launch(servers=["shop-db-01"])
    run = runs.start_execution(plan, "DRILL", "skip-1")
    db, settle, web = runs.list_execution_steps(run.arn)
    assert runs.skip_step(settle.arn).status == "SKIPPED"  # NOT_STARTED: passed over when reached
    assert _follow(sim, runs, run.arn)[0] == "FAILED"
    assert runs.skip_step(db.arn).status == "SKIPPED"  # FAILED: the held execution goes on
    sim.faults.clear()
    status, seen = _follow(sim, runs, run.arn)
    assert status == "COMPLETED"
    assert seen[-1] == ("SKIPPED", "SKIPPED", "COMPLETED")
    assert runs.get_execution_step(db.arn).job_ids  # the failed attempt's job stays named
    with pytest.raises(DrsConflict):
        runs.skip_step(web.arn)  # COMPLETED: nothing to skip


def test_cancel_skips_the_remaining_steps(sim: EmbeddedSimulator, runs: NativeRunsGateway) -> None:
    plan = _three_steps(sim, runs)
    run = runs.start_execution(plan, "DRILL", "cancel-1")
    while [s.status for s in runs.list_execution_steps(run.arn)][1] != "WAITING":
        sim.clock.advance(60)
    cancelled = runs.cancel_execution(run.arn)
    assert cancelled.status == "CANCELLED" and cancelled.completed_at is not None
    assert [s.status for s in runs.list_execution_steps(run.arn)] == ["COMPLETED", "SKIPPED", "SKIPPED"]
    with pytest.raises(DrsConflict):
        runs.cancel_execution(run.arn)
    assert runs.start_execution(plan, "DRILL", "cancel-2").status == "CREATED"


def test_a_wait_can_be_changed_before_it_starts(sim: EmbeddedSimulator, runs: NativeRunsGateway) -> None:
    plan = _three_steps(sim, runs)
    run = runs.start_execution(plan, "DRILL", "wait-1")
    settle = runs.list_execution_steps(run.arn)[1]
    assert runs.set_wait(settle.arn, 1).wait_minutes == 1
    with pytest.raises(ValueError, match="1 to 120"):
        runs.set_wait(settle.arn, 121)


@pytest.mark.parametrize(
    ("item", "named"),
    [
        ({"stepIndex": 1, "status": "EXECUTING", "configuration": {}}, "recoveryPlanExecutionStepArn"),
        ({"recoveryPlanExecutionStepArn": "a", "status": "EXECUTING", "configuration": {}}, "stepIndex"),
        ({"recoveryPlanExecutionStepArn": "a", "stepIndex": 1, "status": "RUNNING"}, "status"),
        (
            {"recoveryPlanExecutionStepArn": "a", "stepIndex": 1, "status": "EXECUTING", "configuration": {}},
            "executionServerStepConfiguration",
        ),
        (
            {
                "recoveryPlanExecutionStepArn": "a",
                "stepIndex": 1,
                "status": "EXECUTING",
                "attempt": 0,
                "configuration": {"waitStepConfiguration": {"waitDurationMinutes": 5}},
            },
            "attempt",
        ),
        (
            {
                "recoveryPlanExecutionStepArn": "a",
                "stepIndex": 1,
                "status": "EXECUTING",
                "configuration": {"executionServerStepConfiguration": {"servers": [{"jobID": "j"}]}},
            },
            "serverArn",
        ),
    ],
)
def test_a_malformed_step_is_an_error_naming_the_field(item: dict[str, object], named: str) -> None:
    from drs_desktop.aws.native_runs import _execution_step

    with pytest.raises(DrsUnavailable, match=named):
        _execution_step(item, "GetRecoveryPlanExecutionStep")


def test_a_malformed_execution_is_an_error_naming_the_field() -> None:
    from drs_desktop.aws.native_runs import _checked_execution

    item = {"recoveryPlanExecutionArn": "a", "recoveryPlanArn": "p", "status": "IN_PROGRESS", "mode": "TEST"}
    with pytest.raises(DrsUnavailable, match="mode"):
        _checked_execution(item, "GetRecoveryPlanExecution")
    with pytest.raises(DrsUnavailable, match="recoveryPlanArn"):
        _checked_execution({"recoveryPlanExecutionArn": "a", "mode": "DRILL"}, "GetRecoveryPlanExecution")


def test_a_failed_execution_cannot_resume_while_a_newer_one_runs(
    sim: EmbeddedSimulator, runs: NativeRunsGateway
) -> None:
    """FAILED is terminal, so a new run may start; resuming the failed one then would make two at once."""
    plan = _three_steps(sim, runs)
    sim.faults.fail_launch(servers=["shop-db-01"])
    old = runs.start_execution(plan, "DRILL", "old")
    assert _follow(sim, runs, old.arn)[0] == "FAILED"
    failed = runs.list_execution_steps(old.arn)[0]
    sim.faults.clear()
    new = runs.start_execution(plan, "DRILL", "new")
    with pytest.raises(DrsConflict):
        runs.retry_step(failed.arn)
    with pytest.raises(DrsConflict):
        runs.skip_step(failed.arn)
    assert runs.get_execution_step(failed.arn).status == "FAILED"  # the refused calls changed nothing
    assert runs.get_execution(old.arn).status == "FAILED"
    assert _follow(sim, runs, new.arn)[0] == "COMPLETED"
    assert runs.retry_step(failed.arn).attempt == 2  # the newer run over: the old one may go on
    assert _follow(sim, runs, old.arn)[0] == "COMPLETED"


def test_cancel_while_a_job_runs_lets_it_finish(sim: EmbeddedSimulator, runs: NativeRunsGateway) -> None:
    plan = _three_steps(sim, runs)
    run = runs.start_execution(plan, "DRILL", "cancel-job")
    while runs.list_execution_steps(run.arn)[0].status != "EXECUTING":
        sim.clock.advance(1)
    assert runs.cancel_execution(run.arn).status == "CANCELLING"
    with pytest.raises(DrsConflict):
        runs.start_execution(plan, "DRILL", "cancel-job-2")  # CANCELLING is not over yet
    status, seen = _follow(sim, runs, run.arn)
    assert status == "CANCELLED"
    assert seen[-1] == ("COMPLETED", "SKIPPED", "SKIPPED")
    (job_id,) = runs.get_execution_step(runs.list_execution_steps(run.arn)[0].arn).job_ids
    (job,) = runs.drs.describe_jobs([job_id])
    assert job.status is JobStatus.COMPLETED
