"""Everything the world answers conforms to botocore's output shapes (checked without HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.conformance import validate_error, validate_output
from drs_desktop.simulator.contract import SimulatorError

ARN = "arn:aws:drs:us-east-1:123456789012:source-server/"


class Checked:
    """Calls ``handle`` and records every shape problem of answers and modeled errors."""

    def __init__(self, backend: DrsBackend, *, strict: bool) -> None:
        self.backend = backend
        self.strict = strict
        self.problems: list[str] = []
        self.operations: set[str] = set()

    def __call__(self, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.operations.add(operation)
        try:
            answer = self.backend.handle(operation, params or {})
        except SimulatorError as exc:
            response = {
                "Error": {"Code": exc.code, "Message": exc.message},
                "message": exc.message,
                **exc.members,
            }
            self.problems += [
                f"{operation} error: {p}" for p in validate_error(response, strict_patterns=self.strict)
            ]
            return {}
        self.problems += [
            f"{operation}: {p}" for p in validate_output(operation, answer, strict_patterns=self.strict)
        ]
        return answer


@pytest.mark.parametrize("style", ["offset", "zulu"])
def test_a_full_session_conforms(style: str) -> None:
    backend = DrsBackend(
        {
            "timestamp_format": style,
            "fleet": {
                "applications": [
                    {
                        "name": "shop",
                        "tiers": [
                            {"name": "web", "count": 3, "os": "linux"},
                            {"name": "db", "count": 1, "os": "windows"},
                        ],
                    }
                ],
                "servers": [
                    {"hostname": "stalled", "replication_state": "STALLED"},
                    {"hostname": "starting", "replication_state": "INITIATING"},
                    {"hostname": "syncing", "replication_state": "INITIAL_SYNC"},
                    {"hostname": "gone", "replication_state": "DISCONNECTED"},
                ],
            },
            "post_launch": {"actions": [{"name": "Check", "action_code": "Doc-1"}]},
        }
    )
    # "+00:00" breaks the model's "...Z" pattern exactly as real DRS does; the zulu style must not.
    call = Checked(backend, strict=style == "zulu")
    backend.faults.fail_launch(servers=["shop-web-03"])
    backend.faults.fail_post_launch(servers=["shop-web-02"])
    servers = call("DescribeSourceServers")["items"]
    ids = {s["sourceProperties"]["identificationHints"]["hostname"]: s["sourceServerID"] for s in servers}
    everyone = [{"sourceServerID": sid} for sid in ids.values()]
    job = call("StartRecovery", {"sourceServers": everyone, "isDrill": False, "tags": {"k": "v"}})["job"]
    call("StartRecovery", {"sourceServers": everyone[:1]})  # conflict
    backend.clock.advance(30 * 60)
    call("DescribeJobs", {"maxResults": 1})
    call("DescribeJobLogItems", {"jobID": job["jobID"]})
    backend.clock.advance(3 * 3600)
    call("DescribeJobs")
    call("DescribeSourceServers")
    call("DescribeRecoverySnapshots", {"sourceServerID": ids["shop-web-01"], "order": "DESC"})
    instances = call("DescribeRecoveryInstances")["items"]
    call("GetLaunchConfiguration", {"sourceServerID": ids["shop-web-01"]})
    call("UpdateLaunchConfiguration", {"sourceServerID": ids["shop-web-01"], "copyTags": False})
    call("ListLaunchActions", {"resourceId": ids["shop-web-01"]})
    call("ListTagsForResource", {"resourceArn": job["arn"]})
    call("TagResource", {"resourceArn": job["arn"], "tags": {"x": "y"}})
    call("UntagResource", {"resourceArn": job["arn"], "tagKeys": ["x"]})
    term = call(
        "TerminateRecoveryInstances", {"recoveryInstanceIDs": [i["recoveryInstanceID"] for i in instances]}
    )
    backend.clock.advance(600)
    call("DescribeJobs", {"filters": {"jobIDs": [term["job"]["jobID"]]}})
    call("DeleteJob", {"jobID": job["jobID"]})
    call("DeleteJob", {"jobID": job["jobID"]})  # not found
    call("StopReplication", {"sourceServerID": ids["shop-web-01"]})
    call("StartReplication", {"sourceServerID": ids["shop-web-01"]})
    call("DisconnectSourceServer", {"sourceServerID": ids["shop-web-02"]})
    call("ListStagingAccounts")
    plan = call("CreateRecoveryPlan", {"name": "p", "description": "d", "tags": {"a": "b"}})["recoveryPlan"]
    plan_arn = plan["recoveryPlanArn"]
    server_cfg = {"serverStepConfiguration": {"servers": [{"serverArn": ARN + ids["shop-db-01"]}]}}
    step = call(
        "CreateRecoveryPlanStep", {"recoveryPlanArn": plan_arn, "stepName": "db", "configuration": server_cfg}
    )
    call(
        "CreateRecoveryPlanStep",
        {
            "recoveryPlanArn": plan_arn,
            "stepName": "w",
            "configuration": {"waitStepConfiguration": {"waitDurationMinutes": 2}},
        },
    )
    call("GetRecoveryPlan", {"recoveryPlanArn": plan_arn})
    call("ListRecoveryPlans")
    call("UpdateRecoveryPlan", {"recoveryPlanArn": plan_arn, "description": "e"})
    call("GetRecoveryPlanStep", {"recoveryPlanStepArn": step["recoveryPlanStep"]["recoveryPlanStepArn"]})
    steps = call("ListRecoveryPlanSteps", {"recoveryPlanArn": plan_arn})["recoveryPlanSteps"]
    call(
        "ReorderRecoveryPlanSteps",
        {"recoveryPlanArn": plan_arn, "orderedStepArns": [s["recoveryPlanStepArn"] for s in steps]},
    )
    call("UpdateRecoveryPlanStep", {"recoveryPlanStepArn": steps[1]["recoveryPlanStepArn"], "stepName": "w2"})
    backend.faults.fail_launch(servers=["shop-db-01"])
    ex = call("StartRecoveryPlanExecution", {"recoveryPlanArn": plan_arn, "mode": "DRILL"})[
        "recoveryPlanExecution"
    ]
    backend.clock.advance(3 * 3600)
    ex_arn = ex["recoveryPlanExecutionArn"]
    call("GetRecoveryPlanExecution", {"recoveryPlanExecutionArn": ex_arn})
    ex_steps = call("ListRecoveryPlanExecutionSteps", {"recoveryPlanExecutionArn": ex_arn})
    first = ex_steps["recoveryPlanExecutionSteps"][0]["recoveryPlanExecutionStepArn"]
    call("GetRecoveryPlanExecutionStep", {"recoveryPlanExecutionStepArn": first})
    backend.faults.clear()
    call("RetryRecoveryPlanExecutionStep", {"recoveryPlanExecutionStepArn": first})
    call(
        "UpdateRecoveryPlanExecutionStep", {"recoveryPlanExecutionStepArn": first, "status": "SKIPPED"}
    )  # conflict
    call("ListRecoveryPlanExecutions", {"recoveryPlanArn": plan_arn})
    call("CancelRecoveryPlanExecution", {"recoveryPlanExecutionArn": ex_arn})
    backend.clock.advance(3 * 3600)
    call("GetRecoveryPlanExecution", {"recoveryPlanExecutionArn": ex_arn})
    call("DeleteRecoveryPlanExecution", {"recoveryPlanExecutionArn": ex_arn})
    call("DeleteRecoveryPlanStep", {"recoveryPlanStepArn": steps[1]["recoveryPlanStepArn"]})
    call("DeleteRecoveryPlan", {"recoveryPlanArn": plan_arn})
    call("InitializeService")
    assert call.problems == []
    assert len(call.operations) >= 39
