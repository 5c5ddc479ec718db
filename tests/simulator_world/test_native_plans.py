"""Native Recovery Plans: CRUD, and executions that run server and wait steps on the virtual clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.scenario import Timings

from .helpers import error_of, host_ids, job

ARN = "arn:aws:drs:us-east-1:123456789012:source-server/"


def _server_step(backend: DrsBackend, plan: str, name: str, hosts: dict[str, str], **extra: Any) -> str:
    ids = host_ids(backend)
    servers = [{"serverArn": ARN + ids[h], "impactLevel": impact} for h, impact in hosts.items()]
    params = {
        "recoveryPlanArn": plan,
        "stepName": name,
        "configuration": {"serverStepConfiguration": {"servers": servers}},
        **extra,
    }
    return backend.handle("CreateRecoveryPlanStep", params)["recoveryPlanStep"]["recoveryPlanStepArn"]


def _wait_step(backend: DrsBackend, plan: str, name: str, minutes: int, **extra: Any) -> str:
    params = {
        "recoveryPlanArn": plan,
        "stepName": name,
        "configuration": {"waitStepConfiguration": {"waitDurationMinutes": minutes}},
        **extra,
    }
    return backend.handle("CreateRecoveryPlanStep", params)["recoveryPlanStep"]["recoveryPlanStepArn"]


def _plan(backend: DrsBackend, name: str = "shop") -> str:
    return backend.handle("CreateRecoveryPlan", {"name": name, "description": "d"})["recoveryPlan"][
        "recoveryPlanArn"
    ]


def _shop_plan(backend: DrsBackend) -> str:
    plan = _plan(backend)
    _server_step(backend, plan, "db", {"shop-db-01": "CRITICAL"})
    _wait_step(backend, plan, "settle", 10)
    _server_step(backend, plan, "web", {"shop-web-01": "CRITICAL", "shop-web-02": "OPTIONAL"})
    return plan


def _start(backend: DrsBackend, plan: str, mode: str = "DRILL") -> str:
    answer = backend.handle("StartRecoveryPlanExecution", {"recoveryPlanArn": plan, "mode": mode})
    return answer["recoveryPlanExecution"]["recoveryPlanExecutionArn"]


def _execution(backend: DrsBackend, arn: str) -> dict[str, Any]:
    return backend.handle("GetRecoveryPlanExecution", {"recoveryPlanExecutionArn": arn})[
        "recoveryPlanExecution"
    ]


def _steps(backend: DrsBackend, arn: str) -> list[dict[str, Any]]:
    listed = backend.handle("ListRecoveryPlanExecutionSteps", {"recoveryPlanExecutionArn": arn})
    full = []
    for s in listed["recoveryPlanExecutionSteps"]:
        got = backend.handle(
            "GetRecoveryPlanExecutionStep",
            {"recoveryPlanExecutionStepArn": s["recoveryPlanExecutionStepArn"]},
        )
        full.append(got["recoveryPlanExecutionStep"])
    return full


def _statuses(backend: DrsBackend, arn: str) -> list[str]:
    return [s["status"] for s in _steps(backend, arn)]


def _run(
    backend: DrsBackend,
    arn: str,
    *,
    until: tuple[str, ...] = ("COMPLETED", "FAILED", "CANCELLED"),
    step: float = 60,
    limit: float = 6 * 3600,
) -> dict[str, Any]:
    waited = 0.0
    while waited <= limit:
        current = _execution(backend, arn)
        if current["status"] in until:
            return current
        backend.clock.advance(step)
        waited += step
    raise AssertionError(f"execution still {current['status']}")


def test_plan_and_step_crud(small: DrsBackend) -> None:
    plan = _plan(small)
    got = small.handle("GetRecoveryPlan", {"recoveryPlanArn": plan})["recoveryPlan"]
    assert got["name"] == "shop" and got["status"] == "ACTIVE" and got["description"] == "d"
    assert plan.startswith("arn:aws:drs:us-east-1:123456789012:recovery-plan/rp-")
    assert error_of(small, "CreateRecoveryPlan", {"name": "shop"}).code == "ConflictException"
    db = _server_step(small, plan, "db", {"shop-db-01": "CRITICAL"})
    web = _server_step(small, plan, "web", {"shop-web-01": "OPTIONAL"})
    pause = _wait_step(small, plan, "pause", 5, stepOrder=2)
    listed = small.handle("ListRecoveryPlanSteps", {"recoveryPlanArn": plan})["recoveryPlanSteps"]
    assert [(s["stepName"], s["stepOrder"]) for s in listed] == [("db", 1), ("pause", 2), ("web", 3)]
    reordered = small.handle(
        "ReorderRecoveryPlanSteps", {"recoveryPlanArn": plan, "orderedStepArns": [web, db, pause]}
    )
    assert [s["stepName"] for s in reordered["recoveryPlanSteps"]] == ["web", "db", "pause"]
    bad = error_of(small, "ReorderRecoveryPlanSteps", {"recoveryPlanArn": plan, "orderedStepArns": [web, db]})
    assert bad.code == "ValidationException"
    updated = small.handle(
        "UpdateRecoveryPlanStep",
        {
            "recoveryPlanStepArn": pause,
            "stepName": "longer",
            "configuration": {"waitStepConfiguration": {"waitDurationMinutes": 15}},
        },
    )
    assert updated["recoveryPlanStep"]["configuration"] == {
        "waitStepConfiguration": {"waitDurationMinutes": 15}
    }
    change_type = {
        "recoveryPlanStepArn": pause,
        "configuration": {
            "serverStepConfiguration": {"servers": [{"serverArn": ARN + host_ids(small)["shop-app-01"]}]}
        },
    }
    assert error_of(small, "UpdateRecoveryPlanStep", change_type).code == "ValidationException"
    small.handle("DeleteRecoveryPlanStep", {"recoveryPlanStepArn": pause})
    assert (
        error_of(small, "GetRecoveryPlanStep", {"recoveryPlanStepArn": pause}).code
        == "ResourceNotFoundException"
    )
    renamed = small.handle("UpdateRecoveryPlan", {"recoveryPlanArn": plan, "name": "shop2"})["recoveryPlan"]
    assert renamed["name"] == "shop2"
    summaries = small.handle("ListRecoveryPlans", {})["recoveryPlans"]
    assert [p["name"] for p in summaries] == ["shop2"] and "tags" not in summaries[0]
    assert small.handle("DeleteRecoveryPlan", {"recoveryPlanArn": plan}) == {"recoveryPlanArn": plan}
    assert small.handle("ListRecoveryPlans", {})["recoveryPlans"] == []


def test_step_validation(small: DrsBackend) -> None:
    plan = _plan(small)
    _server_step(small, plan, "db", {"shop-db-01": "CRITICAL"})
    both = {
        "recoveryPlanArn": plan,
        "stepName": "x",
        "configuration": {
            "waitStepConfiguration": {"waitDurationMinutes": 1},
            "serverStepConfiguration": {"servers": [{"serverArn": ARN + host_ids(small)["shop-web-01"]}]},
        },
    }
    assert error_of(small, "CreateRecoveryPlanStep", both).code == "ValidationException"
    again = {
        "recoveryPlanArn": plan,
        "stepName": "again",
        "configuration": {
            "serverStepConfiguration": {"servers": [{"serverArn": ARN + host_ids(small)["shop-db-01"]}]}
        },
    }
    assert error_of(small, "CreateRecoveryPlanStep", again).code == "ValidationException"
    unknown = {
        "recoveryPlanArn": plan,
        "stepName": "ghost",
        "configuration": {
            "serverStepConfiguration": {"servers": [{"serverArn": ARN + "s-00000000000000000"}]}
        },
    }
    assert error_of(small, "CreateRecoveryPlanStep", unknown).code == "ResourceNotFoundException"
    assert error_of(small, "CreateRecoveryPlanStep", {**again, "stepName": "db"}).code == "ConflictException"
    for i in range(19):
        _wait_step(small, plan, f"w{i}", 1)
    err = error_of(
        small,
        "CreateRecoveryPlanStep",
        {
            "recoveryPlanArn": plan,
            "stepName": "w20",
            "configuration": {"waitStepConfiguration": {"waitDurationMinutes": 1}},
        },
    )
    assert err.code == "ServiceQuotaExceededException"
    empty = _plan(small, "empty")
    assert error_of(
        small, "StartRecoveryPlanExecution", {"recoveryPlanArn": empty, "mode": "DRILL"}
    ).code == ("ValidationException")


def test_execution_runs_steps_in_order_with_waits(small: DrsBackend) -> None:
    plan = _shop_plan(small)
    arn = _start(small, plan)
    first = _execution(small, arn)
    assert first["status"] == "CREATED" and first["mode"] == "DRILL" and "completedAt" not in first
    small.clock.advance(5)
    assert _execution(small, arn)["status"] == "IN_PROGRESS"
    steps = _steps(small, arn)
    assert [s["status"] for s in steps] == ["EXECUTING", "NOT_STARTED", "NOT_STARTED"]
    db_job = steps[0]["configuration"]["executionServerStepConfiguration"]["servers"][0]["jobID"]
    assert job(small, db_job)["initiatedBy"] == "START_DRILL"
    _run(small, arn, until=("IN_PROGRESS",))
    while _statuses(small, arn)[1] != "WAITING":
        small.clock.advance(30)
    waiting_since = small.clock.now()
    db_end = datetime.fromisoformat(job(small, db_job)["endDateTime"])
    assert waiting_since - db_end < timedelta(seconds=31)
    small.clock.advance(9 * 60)
    assert _statuses(small, arn) == ["COMPLETED", "WAITING", "NOT_STARTED"]
    small.clock.advance(90)
    steps = _steps(small, arn)
    assert [s["status"] for s in steps] == ["COMPLETED", "COMPLETED", "EXECUTING"]
    web_job = steps[2]["configuration"]["executionServerStepConfiguration"]["servers"][0]["jobID"]
    assert datetime.fromisoformat(job(small, web_job)["creationDateTime"]) >= db_end + timedelta(minutes=10)
    done = _run(small, arn)
    assert done["status"] == "COMPLETED" and "completedAt" in done
    assert [s["attempt"] for s in _steps(small, arn)] == [1, 1, 1]
    listed = small.handle("ListRecoveryPlanExecutions", {"recoveryPlanArn": plan})["recoveryPlanExecutions"]
    assert [e["status"] for e in listed] == ["COMPLETED"]
    # DRS never cleans up what a plan launched (listed once DescribeRecoveryInstances caught up).
    small.clock.advance(Timings().instance_listed.high)
    assert len(small.handle("DescribeRecoveryInstances", {})["items"]) == 3


def test_critical_failure_fails_the_execution_and_retry_relaunches_only_failures(small: DrsBackend) -> None:
    ids = host_ids(small)
    plan = _plan(small)
    _server_step(small, plan, "web", {"shop-web-01": "CRITICAL", "shop-web-02": "CRITICAL"})
    _server_step(small, plan, "app", {"shop-app-01": "CRITICAL"})
    small.faults.fail_launch(servers=["shop-web-02"])
    arn = _start(small, plan, "RECOVERY")
    failed = _run(small, arn)
    assert failed["status"] == "FAILED"
    assert failed["errorDetail"]["code"] == "CriticalServerLaunchFailed"
    steps = _steps(small, arn)
    assert [s["status"] for s in steps] == ["FAILED", "NOT_STARTED"]
    assert ids["shop-web-02"] in steps[0]["errorDetail"]["message"]
    small.faults.clear()
    retried = small.handle(
        "RetryRecoveryPlanExecutionStep",
        {"recoveryPlanExecutionStepArn": steps[0]["recoveryPlanExecutionStepArn"]},
    )
    assert retried["recoveryPlanExecutionStep"]["attempt"] == 2
    assert retried["recoveryPlanExecutionStep"]["status"] == "EXECUTING"
    assert _execution(small, arn)["status"] == "IN_PROGRESS"
    done = _run(small, arn)
    assert done["status"] == "COMPLETED" and "errorDetail" not in done
    launched = [(r.source_server_id, r.outcome) for r in small.launch_records()]
    assert launched.count((ids["shop-web-01"], "LAUNCHED")) == 1  # never launched twice
    assert launched.count((ids["shop-web-02"], "FAILED")) == 1
    assert launched.count((ids["shop-web-02"], "LAUNCHED")) == 1
    assert all(not r.is_drill for r in small.launch_records())
    servers = _steps(small, arn)[0]["configuration"]["executionServerStepConfiguration"]["servers"]
    assert servers[0]["jobID"] != servers[1]["jobID"]


def test_optional_failure_lets_the_step_complete(small: DrsBackend) -> None:
    plan = _shop_plan(small)
    small.faults.fail_launch(servers=["shop-web-02"])
    arn = _start(small, plan)
    done = _run(small, arn)
    assert done["status"] == "COMPLETED"
    assert _statuses(small, arn) == ["COMPLETED", "COMPLETED", "COMPLETED"]


def test_skipping_a_failed_step_resumes_at_the_next(small: DrsBackend) -> None:
    plan = _shop_plan(small)
    small.faults.fail_launch(servers=["shop-db-01"])
    arn = _start(small, plan)
    assert _run(small, arn)["status"] == "FAILED"
    steps = _steps(small, arn)
    running = {
        "recoveryPlanExecutionStepArn": steps[1]["recoveryPlanExecutionStepArn"],
        "status": "COMPLETED",
    }
    assert error_of(small, "UpdateRecoveryPlanExecutionStep", running).code == "ValidationException"
    small.handle(
        "UpdateRecoveryPlanExecutionStep",
        {"recoveryPlanExecutionStepArn": steps[0]["recoveryPlanExecutionStepArn"], "status": "SKIPPED"},
    )
    assert _execution(small, arn)["status"] == "IN_PROGRESS"
    assert _statuses(small, arn)[:2] == ["SKIPPED", "WAITING"]
    executing = {
        "recoveryPlanExecutionStepArn": steps[1]["recoveryPlanExecutionStepArn"],
        "status": "SKIPPED",
    }
    assert error_of(small, "UpdateRecoveryPlanExecutionStep", executing).code == "ConflictException"
    assert _run(small, arn)["status"] == "COMPLETED"
    assert _statuses(small, arn) == ["SKIPPED", "COMPLETED", "COMPLETED"]


def test_skip_ahead_and_edit_a_not_started_step(small: DrsBackend) -> None:
    plan = _shop_plan(small)
    arn = _start(small, plan)
    small.clock.advance(5)
    steps = _steps(small, arn)
    small.handle(
        "UpdateRecoveryPlanExecutionStep",
        {"recoveryPlanExecutionStepArn": steps[1]["recoveryPlanExecutionStepArn"], "waitDurationMinutes": 1},
    )
    small.handle(
        "UpdateRecoveryPlanExecutionStep",
        {"recoveryPlanExecutionStepArn": steps[2]["recoveryPlanExecutionStepArn"], "status": "SKIPPED"},
    )
    assert _statuses(small, arn) == ["EXECUTING", "NOT_STARTED", "SKIPPED"]
    wrong = {
        "recoveryPlanExecutionStepArn": steps[2]["recoveryPlanExecutionStepArn"],
        "waitDurationMinutes": 3,
    }
    assert error_of(small, "UpdateRecoveryPlanExecutionStep", wrong).code == "ConflictException"
    assert _run(small, arn)["status"] == "COMPLETED"
    assert len(small.launch_records()) == 1  # only the db server: the web step was skipped
    assert _steps(small, arn)[1]["configuration"]["waitStepConfiguration"]["waitDurationMinutes"] == 1


def test_cancel_during_a_wait_is_immediate(small: DrsBackend) -> None:
    plan = _shop_plan(small)
    arn = _start(small, plan)
    while _statuses(small, arn)[1] != "WAITING":
        small.clock.advance(60)
    cancelled = small.handle("CancelRecoveryPlanExecution", {"recoveryPlanExecutionArn": arn})
    assert cancelled["recoveryPlanExecution"]["status"] == "CANCELLED"
    assert _statuses(small, arn) == ["COMPLETED", "SKIPPED", "SKIPPED"]
    small.clock.advance(3600)
    assert len(small.launch_records()) == 1
    assert (
        error_of(small, "CancelRecoveryPlanExecution", {"recoveryPlanExecutionArn": arn}).code
        == "ConflictException"
    )


def test_cancel_while_a_job_runs_waits_for_it(small: DrsBackend) -> None:
    plan = _shop_plan(small)
    arn = _start(small, plan)
    small.clock.advance(60)
    answer = small.handle("CancelRecoveryPlanExecution", {"recoveryPlanExecutionArn": arn})
    assert answer["recoveryPlanExecution"]["status"] == "CANCELLING"
    assert _statuses(small, arn) == ["EXECUTING", "SKIPPED", "SKIPPED"]
    done = _run(small, arn)
    assert done["status"] == "CANCELLED"
    assert _statuses(small, arn) == ["COMPLETED", "SKIPPED", "SKIPPED"]
    assert len(small.launch_records()) == 1


def test_one_active_execution_per_plan_and_deletes(small: DrsBackend) -> None:
    plan = _shop_plan(small)
    arn = _start(small, plan)
    again = error_of(small, "StartRecoveryPlanExecution", {"recoveryPlanArn": plan, "mode": "DRILL"})
    assert again.code == "ConflictException"
    assert error_of(small, "DeleteRecoveryPlan", {"recoveryPlanArn": plan}).code == "ConflictException"
    assert (
        error_of(small, "DeleteRecoveryPlanExecution", {"recoveryPlanExecutionArn": arn}).code
        == "ConflictException"
    )
    _run(small, arn)
    assert small.handle("DeleteRecoveryPlanExecution", {"recoveryPlanExecutionArn": arn}) == {
        "recoveryPlanExecutionArn": arn
    }
    assert error_of(small, "GetRecoveryPlanExecution", {"recoveryPlanExecutionArn": arn}).code == (
        "ResourceNotFoundException"
    )
    small.handle("DeleteRecoveryPlan", {"recoveryPlanArn": plan})


def test_a_step_whose_job_never_finishes_times_out(make_backend: Callable[..., DrsBackend]) -> None:
    backend = make_backend({**_small_dict(), "native_plans": {"server_step_timeout_minutes": 30}})
    plan = _plan(backend)
    _server_step(backend, plan, "web", {"shop-web-01": "CRITICAL"})
    backend.faults.hang_jobs(servers=["shop-web-01"])
    arn = _start(backend, plan)
    backend.clock.advance(29 * 60)
    assert _statuses(backend, arn) == ["EXECUTING"]
    failed = _run(backend, arn)
    assert failed["status"] == "FAILED"
    step = _steps(backend, arn)[0]
    assert step["status"] == "TIMED_OUT" and step["errorDetail"]["code"] == "StepTimedOut"
    # The stuck job still holds the server, so a retry fails at once.
    backend.handle(
        "RetryRecoveryPlanExecutionStep",
        {"recoveryPlanExecutionStepArn": step["recoveryPlanExecutionStepArn"]},
    )
    step = _steps(backend, arn)[0]
    assert step["status"] == "FAILED" and step["attempt"] == 2
    assert step["errorDetail"]["code"] == "ConflictException"


def _small_dict() -> dict[str, Any]:
    return {
        "fleet": {"applications": [{"name": "shop", "tiers": [{"name": "web", "count": 2, "os": "linux"}]}]}
    }


def test_snapshot_overrides_and_filters(small: DrsBackend) -> None:
    ids = host_ids(small)
    plan = _shop_plan(small)
    pit = small.handle("DescribeRecoverySnapshots", {"sourceServerID": ids["shop-db-01"]})["items"][-2][
        "snapshotID"
    ]
    wrong = {
        "recoveryPlanArn": plan,
        "mode": "DRILL",
        "sourceServers": [{"sourceServerID": ids["crm-web-01"], "recoverySnapshotID": pit}],
    }
    assert error_of(small, "StartRecoveryPlanExecution", wrong).code == "ValidationException"
    answer = small.handle(
        "StartRecoveryPlanExecution",
        {
            "recoveryPlanArn": plan,
            "mode": "DRILL",
            "clientToken": "tok-1",
            "tags": {"who": "test"},
            "sourceServers": [{"sourceServerID": ids["shop-db-01"], "recoverySnapshotID": pit}],
        },
    )["recoveryPlanExecution"]
    again = small.handle(
        "StartRecoveryPlanExecution", {"recoveryPlanArn": plan, "mode": "DRILL", "clientToken": "tok-1"}
    )
    assert again["recoveryPlanExecution"]["recoveryPlanExecutionArn"] == answer["recoveryPlanExecutionArn"]
    assert answer["tags"] == {"who": "test"}
    assert small.handle("ListTagsForResource", {"resourceArn": answer["recoveryPlanExecutionArn"]})[
        "tags"
    ] == {"who": "test"}
    small.clock.advance(6 * 60)  # the servers' work starts after minutes PENDING
    db_job = _steps(small, answer["recoveryPlanExecutionArn"])[0]["configuration"][
        "executionServerStepConfiguration"
    ]["servers"][0]["jobID"]
    events = [e["event"] for e in small.handle("DescribeJobLogItems", {"jobID": db_job})["items"]]
    assert "USING_PREVIOUS_SNAPSHOT" in events
    executing = small.handle(
        "ListRecoveryPlanExecutionSteps",
        {"recoveryPlanExecutionArn": answer["recoveryPlanExecutionArn"], "filter": {"status": "EXECUTING"}},
    )
    assert [s["stepName"] for s in executing["recoveryPlanExecutionSteps"]] == ["db"]
    in_progress = small.handle("ListRecoveryPlanExecutions", {"status": "IN_PROGRESS"})[
        "recoveryPlanExecutions"
    ]
    assert len(in_progress) == 1 and "tags" not in in_progress[0]
    assert small.handle("ListRecoveryPlanExecutions", {"status": "COMPLETED"})["recoveryPlanExecutions"] == []


def test_create_plan_is_idempotent_with_a_client_token(small: DrsBackend) -> None:
    first = small.handle("CreateRecoveryPlan", {"name": "p", "clientToken": "abc"})["recoveryPlan"]
    second = small.handle("CreateRecoveryPlan", {"name": "p", "clientToken": "abc"})["recoveryPlan"]
    assert first["recoveryPlanArn"] == second["recoveryPlanArn"]
    assert len(small.handle("ListRecoveryPlans", {})["recoveryPlans"]) == 1


@pytest.mark.parametrize("count", [3])
def test_list_plans_pages(small: DrsBackend, count: int) -> None:
    for i in range(count):
        _plan(small, f"p{i}")
    first = small.handle("ListRecoveryPlans", {"maxResults": 2})
    assert len(first["recoveryPlans"]) == 2 and first["nextToken"]
    rest = small.handle("ListRecoveryPlans", {"maxResults": 2, "nextToken": first["nextToken"]})
    assert [p["name"] for p in rest["recoveryPlans"]] == ["p2"] and "nextToken" not in rest
