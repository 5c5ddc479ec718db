"""Conformance of the real simulator (DrsBackend + server) with botocore's DRS model, through boto3.

Every response of every operation the backend implements is checked against the model's output shape
(``conformance.validate_output``); errors must arrive as their typed exceptions with conforming members;
every paginator must return all items once, the same as a single big page.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.conformance import validate_error, validate_output
from drs_desktop.simulator.scenario_schema import load_scenario
from drs_desktop.simulator.server import SimulatorServer
from tests.simulator.conftest import make_client

HOUR = 3600.0


@dataclass
class Sim:
    backend: DrsBackend
    server: SimulatorServer
    drs: Any
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def ready_servers(self) -> list[dict[str, Any]]:
        items = self.drs.describe_source_servers()["items"]
        return [s for s in items if s["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"]


def _start(backend: DrsBackend) -> Iterator[Sim]:
    with SimulatorServer(backend, strict_output=True) as server:
        sim = Sim(backend, server, make_client(server.endpoint_url))

        def record(parsed: dict[str, Any], model: Any, **_: Any) -> None:
            if "Error" not in parsed:
                sim.responses.append((model.name, parsed))

        sim.drs.meta.events.register("after-call.drs", record)
        yield sim


@pytest.fixture
def sim() -> Iterator[Sim]:
    yield from _start(DrsBackend(seed=7))


def exercise_classic(sim: Sim) -> None:
    drs, clock = sim.drs, sim.backend.clock
    ready = sim.ready_servers()
    sid1, sid2, sid3, sid4 = (s["sourceServerID"] for s in ready[:4])
    drs.initialize_service()
    drs.list_staging_accounts()
    drs.get_launch_configuration(sourceServerID=sid1)
    drs.update_launch_configuration(sourceServerID=sid1, copyTags=True, launchDisposition="STARTED")
    action_id = str(uuid.UUID(int=7))
    drs.put_launch_action(
        resourceId=sid1,
        actionCode="AWS-RunShellScript",
        order=9000,
        actionId=action_id,
        optional=True,
        active=True,
        name="smoke check",
        actionVersion="$DEFAULT",
        category="VALIDATION",
        description="Checks the web tier answers",
    )
    drs.list_launch_actions(resourceId=sid1)
    drs.delete_launch_action(resourceId=sid1, actionId=action_id)
    drs.describe_recovery_snapshots(sourceServerID=sid1, order="DESC")

    job = drs.start_recovery(
        sourceServers=[{"sourceServerID": sid1}, {"sourceServerID": sid2}], isDrill=True, tags={"run": "c1"}
    )["job"]
    drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})
    clock.advance(2 * HOUR)
    drs.describe_jobs()
    drs.describe_job_log_items(jobID=job["jobID"])
    drs.tag_resource(resourceArn=job["arn"], tags={"wave": "1"})
    drs.list_tags_for_resource(resourceArn=job["arn"])
    drs.untag_resource(resourceArn=job["arn"], tagKeys=["wave"])
    instances = drs.describe_recovery_instances(filters={"sourceServerIDs": [sid1, sid2]})["items"]
    assert instances, "the drill launched nothing"
    drs.terminate_recovery_instances(recoveryInstanceIDs=[i["recoveryInstanceID"] for i in instances])
    clock.advance(HOUR)
    drs.describe_jobs()
    drs.delete_job(jobID=job["jobID"])
    drs.stop_replication(sourceServerID=sid3)
    drs.start_replication(sourceServerID=sid3)
    drs.disconnect_source_server(sourceServerID=sid4)


def exercise_native_plans(sim: Sim) -> None:
    drs, clock = sim.drs, sim.backend.clock
    ready = sim.ready_servers()[10:14]

    def servers(chunk: list[dict[str, Any]], impact: str) -> dict[str, Any]:
        return {
            "serverStepConfiguration": {
                "servers": [{"serverArn": s["arn"], "impactLevel": impact} for s in chunk]
            }
        }

    plan = drs.create_recovery_plan(name="conformance plan", description="all operations", tags={"a": "b"})
    plan_arn = plan["recoveryPlan"]["recoveryPlanArn"]
    web = drs.create_recovery_plan_step(
        recoveryPlanArn=plan_arn, stepName="web", configuration=servers(ready[:2], "CRITICAL")
    )["recoveryPlanStep"]["recoveryPlanStepArn"]
    pause = drs.create_recovery_plan_step(
        recoveryPlanArn=plan_arn,
        stepName="pause",
        configuration={"waitStepConfiguration": {"waitDurationMinutes": 5}},
    )["recoveryPlanStep"]["recoveryPlanStepArn"]
    app = drs.create_recovery_plan_step(
        recoveryPlanArn=plan_arn, stepName="app", configuration=servers(ready[2:4], "OPTIONAL")
    )["recoveryPlanStep"]["recoveryPlanStepArn"]
    drs.get_recovery_plan(recoveryPlanArn=plan_arn)
    drs.list_recovery_plans()
    drs.get_recovery_plan_step(recoveryPlanStepArn=web)
    drs.list_recovery_plan_steps(recoveryPlanArn=plan_arn)
    drs.update_recovery_plan(recoveryPlanArn=plan_arn, description="every operation")
    drs.update_recovery_plan_step(recoveryPlanStepArn=pause, stepName="short pause")
    drs.reorder_recovery_plan_steps(recoveryPlanArn=plan_arn, orderedStepArns=[web, app, pause])
    drs.reorder_recovery_plan_steps(recoveryPlanArn=plan_arn, orderedStepArns=[web, pause, app])

    # A failed critical server fails the first step, so Retry has something to retry.
    sim.backend.faults.fail_launch(servers=[ready[0]["sourceServerID"]])
    execution = drs.start_recovery_plan_execution(recoveryPlanArn=plan_arn, mode="DRILL", tags={"run": "c2"})
    execution_arn = execution["recoveryPlanExecution"]["recoveryPlanExecutionArn"]
    clock.advance(3 * HOUR)
    drs.get_recovery_plan_execution(recoveryPlanExecutionArn=execution_arn)
    drs.list_recovery_plan_executions(recoveryPlanArn=plan_arn)
    steps = drs.list_recovery_plan_execution_steps(recoveryPlanExecutionArn=execution_arn)
    step_arns = [s["recoveryPlanExecutionStepArn"] for s in steps["recoveryPlanExecutionSteps"]]
    drs.get_recovery_plan_execution_step(recoveryPlanExecutionStepArn=step_arns[0])
    sim.backend.faults.clear()
    drs.update_recovery_plan_execution_step(recoveryPlanExecutionStepArn=step_arns[1], waitDurationMinutes=1)
    drs.retry_recovery_plan_execution_step(recoveryPlanExecutionStepArn=step_arns[0])
    drs.cancel_recovery_plan_execution(recoveryPlanExecutionArn=execution_arn)
    clock.advance(3 * HOUR)
    drs.get_recovery_plan_execution(recoveryPlanExecutionArn=execution_arn)
    drs.delete_recovery_plan_execution(recoveryPlanExecutionArn=execution_arn)
    drs.delete_recovery_plan_step(recoveryPlanStepArn=app)
    drs.delete_recovery_plan(recoveryPlanArn=plan_arn)


def test_every_supported_operation_conforms(sim: Sim) -> None:
    exercise_classic(sim)
    exercise_native_plans(sim)
    called = {op for op, _ in sim.responses}
    missing = sorted(set(sim.backend.supported_operations()) - called)
    assert missing == [], f"operations the backend implements that this test does not call: {missing}"
    problems = [f"{op}: {p}" for op, parsed in sim.responses for p in validate_output(op, parsed)]
    assert problems == [], "\n".join(dict.fromkeys(problems))  # deduplicated, in order


# --- errors ---------------------------------------------------------------------------------------------


def _raises(sim: Sim, code: str, call: str, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(getattr(sim.drs.exceptions, code)) as info:
        getattr(sim.drs, call)(**kwargs)
    response = info.value.response
    assert validate_error(response) == []
    return response


def test_world_errors_arrive_typed_and_conforming(sim: Sim) -> None:
    ready = sim.ready_servers()
    sid = ready[0]["sourceServerID"]
    missing = _raises(
        sim, "ResourceNotFoundException", "get_launch_configuration", sourceServerID="s-" + "0" * 17
    )
    assert missing["ResponseMetadata"]["HTTPStatusCode"] == 404
    sim.drs.start_recovery(sourceServers=[{"sourceServerID": sid}], isDrill=True)
    busy = _raises(
        sim, "ConflictException", "start_recovery", sourceServers=[{"sourceServerID": sid}], isDrill=True
    )
    assert busy["ResponseMetadata"]["HTTPStatusCode"] == 409

    sim.backend.faults.throttle("DescribeJobs", retry_after=5)
    throttled = _raises(sim, "ThrottlingException", "describe_jobs")
    assert throttled["retryAfterSeconds"] == "5"
    sim.backend.faults.clear()
    sim.backend.faults.server_errors("DescribeJobs", status=503)
    assert (
        _raises(sim, "InternalServerException", "describe_jobs")["ResponseMetadata"]["HTTPStatusCode"] == 503
    )
    sim.backend.faults.clear()

    sim.backend.set_initialized(False)
    _raises(sim, "UninitializedAccountException", "describe_source_servers")
    sim.backend.set_initialized(True)
    invalid = _raises(
        sim, "ValidationException", "describe_jobs", filters={"fromDate": "2024-13-45T00:00:00Z"}
    )
    assert invalid["fieldList"][0]["name"] == "filters.fromDate"


def test_quota_error_is_typed_402() -> None:
    scenario = load_scenario("demo")
    scenario = dataclasses.replace(
        scenario, quotas=dataclasses.replace(scenario.quotas, max_servers_per_job=2)
    )
    for sim in _start(DrsBackend(scenario, seed=7)):
        servers = [{"sourceServerID": s["sourceServerID"]} for s in sim.ready_servers()[:3]]
        quota = _raises(
            sim, "ServiceQuotaExceededException", "start_recovery", sourceServers=servers, isDrill=True
        )
        assert quota["ResponseMetadata"]["HTTPStatusCode"] == 402
        assert quota["quotaCode"]


# --- pagination -----------------------------------------------------------------------------------------


def _paginated_inputs(sim: Sim) -> dict[str, dict[str, Any]]:
    """Inputs for every paginated operation, after building some history so pages are not trivial."""
    drs = sim.drs
    ready = sim.ready_servers()
    sid = ready[0]["sourceServerID"]
    job_ids = []
    for chunk in (ready[0:3], ready[3:6], ready[6:9]):
        job = drs.start_recovery(
            sourceServers=[{"sourceServerID": s["sourceServerID"]} for s in chunk], isDrill=True
        )
        job_ids.append(job["job"]["jobID"])
        sim.backend.clock.advance(2 * HOUR)
    for n in range(5):
        drs.put_launch_action(
            resourceId=sid,
            actionCode="AWS-RunShellScript",
            order=9100 + n,
            actionId=str(uuid.UUID(int=100 + n)),
            optional=True,
            active=True,
            name=f"check {n}",
            actionVersion="$LATEST",
            category="OTHER",
            description="",
        )
    plan_arn = ""
    for n in range(4):
        plan_arn = drs.create_recovery_plan(name=f"plan {n}")["recoveryPlan"]["recoveryPlanArn"]
    for n in range(4):
        drs.create_recovery_plan_step(
            recoveryPlanArn=plan_arn,
            stepName=f"wait {n}",
            configuration={"waitStepConfiguration": {"waitDurationMinutes": 1 + n}},
        )
    execution = drs.start_recovery_plan_execution(recoveryPlanArn=plan_arn, mode="DRILL")
    execution_arn = execution["recoveryPlanExecution"]["recoveryPlanExecutionArn"]
    return {
        "DescribeSourceServers": {},
        "DescribeJobs": {},
        "DescribeJobLogItems": {"jobID": job_ids[0]},
        "DescribeRecoveryInstances": {},
        "DescribeRecoverySnapshots": {"sourceServerID": sid},
        "ListLaunchActions": {"resourceId": sid},
        "ListStagingAccounts": {},
        "ListRecoveryPlans": {},
        "ListRecoveryPlanSteps": {"recoveryPlanArn": plan_arn},
        "ListRecoveryPlanExecutions": {},
        "ListRecoveryPlanExecutionSteps": {"recoveryPlanExecutionArn": execution_arn},
    }


def _key(item: Any) -> str:
    return json.dumps(item, sort_keys=True, default=str)


def test_pagination_is_complete_and_consistent(sim: Sim) -> None:
    inputs = _paginated_inputs(sim)
    supported = set(sim.backend.supported_operations())
    paginated = [op for op in sim.backend.supported_operations() if sim.drs.can_paginate(_snake(op))]
    assert set(paginated) <= set(inputs), f"no pagination inputs for {sorted(set(paginated) - set(inputs))}"
    multi_page = 0
    for op in paginated:
        assert op in supported
        paginator = sim.drs.get_paginator(_snake(op))
        result_key = paginator.result_keys[0].expression
        page_size = 2 if op == "ListStagingAccounts" else 3
        pages = list(paginator.paginate(**inputs[op], PaginationConfig={"PageSize": page_size}))
        items = [item for page in pages for item in page.get(result_key, [])]
        single = getattr(sim.drs, _snake(op))(
            **inputs[op], maxResults=50 if op == "ListStagingAccounts" else 1000
        )
        assert "nextToken" not in single or not single["nextToken"], op
        everything = single.get(result_key, [])
        assert [_key(i) for i in items] == [_key(i) for i in everything], op
        assert len({_key(i) for i in items}) == len(items), f"{op}: duplicates across pages"
        tokens = [p["nextToken"] for p in pages if p.get("nextToken")]
        assert len(tokens) == len(set(tokens)), op
        multi_page += len(pages) > 1
        for page in pages:
            assert validate_output(op, page) == [], op
    assert multi_page >= 8, "too few operations had more than one page to make this test meaningful"


def _snake(operation: str) -> str:
    out = []
    for i, ch in enumerate(operation):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
