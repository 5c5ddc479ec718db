"""Same seed, same run: a scripted session gives a byte-identical transcript of responses."""

from __future__ import annotations

import json
from typing import Any

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.contract import SimulatorError


def _session(seed: int) -> str:
    backend = DrsBackend("demo", seed=seed)
    backend.faults.fail_launch(fraction=0.2)
    backend.faults.throttle("DescribeJobs", rate=0.2)
    transcript: list[Any] = []

    def call(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        fault = backend.transport_fault(operation)
        if fault is not None:
            transcript.append([operation, "fault", fault.kind])
            return {}
        try:
            answer = backend.handle(operation, params)
        except SimulatorError as exc:
            transcript.append([operation, "error", exc.code, exc.message, exc.members])
            return {}
        transcript.append([operation, answer])
        return answer

    servers = call("DescribeSourceServers", {})["items"]
    web = [s["sourceServerID"] for s in servers if s["tags"]["Tier"] == "web"][:8]
    db = [s["sourceServerID"] for s in servers if s["tags"]["Tier"] == "db"][:3]
    call(
        "StartRecovery",
        {"sourceServers": [{"sourceServerID": s} for s in web], "isDrill": True, "tags": {"w": "1"}},
    )
    plan = call("CreateRecoveryPlan", {"name": "p1"})["recoveryPlan"]["recoveryPlanArn"]
    servers_cfg = [{"serverArn": s["arn"]} for s in servers if s["sourceServerID"] in db]
    call(
        "CreateRecoveryPlanStep",
        {
            "recoveryPlanArn": plan,
            "stepName": "db",
            "configuration": {"serverStepConfiguration": {"servers": servers_cfg}},
        },
    )
    call(
        "CreateRecoveryPlanStep",
        {
            "recoveryPlanArn": plan,
            "stepName": "pause",
            "configuration": {"waitStepConfiguration": {"waitDurationMinutes": 5}},
        },
    )
    execution = call("StartRecoveryPlanExecution", {"recoveryPlanArn": plan, "mode": "DRILL"})
    for _ in range(40):
        backend.clock.advance(97)
        jobs = call("DescribeJobs", {})
        for j in jobs.get("items", []):
            call("DescribeJobLogItems", {"jobID": j["jobID"]})
    call(
        "GetRecoveryPlanExecution",
        {"recoveryPlanExecutionArn": execution["recoveryPlanExecution"]["recoveryPlanExecutionArn"]},
    )
    instances = call("DescribeRecoveryInstances", {})["items"]
    call("TerminateRecoveryInstances", {"recoveryInstanceIDs": [i["recoveryInstanceID"] for i in instances]})
    backend.clock.advance(600)
    call("DescribeJobs", {})
    call("DescribeSourceServers", {"maxResults": 7})
    return json.dumps(transcript, sort_keys=True)


def test_same_seed_gives_a_byte_identical_transcript() -> None:
    first = _session(31)
    assert first == _session(31)
    assert first != _session(32)
    assert "LAUNCH_FAILED" in first and '"fault", "throttle"' in first
