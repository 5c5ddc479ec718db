"""SSM Run Command in the simulator through the real boto3 SSM client: every invocation status path on
the virtual clock, SSM's refusals, ListCommands' filters and pages (how the app finds a command again by
its comment), the output limit, and conformance to botocore's output shapes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from drs_desktop.simulator.automation_spec import DocumentSpec, RunBehaviour
from drs_desktop.simulator.conformance import validate_json_output
from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.simulator.automation_world import DRILLED, automation_scenario, client, drill

SCENARIO = automation_scenario(
    ssm_documents=[{"name": "Custom-Smoke", "platforms": ["Linux"], "parameters": ["target"]}],
    ssm_runs=[
        {"document": "Custom-Smoke", "seconds": 120, "exit_code": 3, "output": "smoke failed\n"},
        {"server": "shop-web-02", "document": "AWS-RunShellScript", "hang": True},
    ],
)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(SCENARIO, seed=7) as running:
        yield running


@pytest.fixture
def ssm(sim: EmbeddedSimulator) -> Any:
    return client(sim, "ssm")


@pytest.fixture
def instances(sim: EmbeddedSimulator) -> dict[str, str]:
    return drill(sim, *DRILLED)


def _code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return str(info.value.response["Error"]["Code"])


def _run(ssm: Any, instance_ids: list[str], document: str = "AWS-RunShellScript", **extra: Any) -> str:
    params = extra.pop("Parameters", {"commands": ["echo hello", "uptime"]})
    command = ssm.send_command(
        DocumentName=document, InstanceIds=instance_ids, Parameters=params, Comment="run-1", **extra
    )
    return str(command["Command"]["CommandId"])


def _invocation(ssm: Any, command_id: str, instance_id: str) -> dict[str, Any]:
    answer = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
    return {k: answer[k] for k in ("Status", "StatusDetails", "ResponseCode", "StandardOutputContent")}


def test_a_run_goes_pending_in_progress_success_on_the_virtual_clock(
    sim: EmbeddedSimulator, ssm: Any, instances: dict[str, str]
) -> None:
    web = instances["shop-web-01"]
    command_id = _run(ssm, [web])
    assert _invocation(ssm, command_id, web)["Status"] == "Pending"
    sim.clock.advance(1)
    assert _invocation(ssm, command_id, web)["Status"] == "InProgress"
    assert ssm.list_commands(CommandId=command_id)["Commands"][0]["Status"] == "InProgress"
    sim.clock.advance(5)
    assert _invocation(ssm, command_id, web) == {
        "Status": "Success",
        "StatusDetails": "Success",
        "ResponseCode": 0,
        "StandardOutputContent": "hello\n",
    }
    (command,) = ssm.list_commands(CommandId=command_id)["Commands"]
    assert (command["Status"], command["CompletedCount"], command["ErrorCount"]) == ("Success", 1, 0)
    assert command["Comment"] == "run-1"


def test_a_failing_document_fails_with_its_exit_code_and_a_slow_one_takes_its_time(
    sim: EmbeddedSimulator, ssm: Any, instances: dict[str, str]
) -> None:
    web = instances["shop-web-01"]
    command_id = _run(ssm, [web], "Custom-Smoke", Parameters={"target": ["db"]})
    sim.clock.advance(100)
    assert _invocation(ssm, command_id, web)["Status"] == "InProgress"
    sim.clock.advance(30)
    answer = ssm.get_command_invocation(CommandId=command_id, InstanceId=web)
    assert (answer["Status"], answer["StatusDetails"], answer["ResponseCode"]) == ("Failed", "Failed", 3)
    assert answer["StandardOutputContent"] == "smoke failed\n"
    assert "exit status 3" in answer["StandardErrorContent"]
    assert ssm.list_commands(CommandId=command_id)["Commands"][0]["Status"] == "Failed"


def test_a_hanging_run_times_out_at_the_execution_timeout(
    sim: EmbeddedSimulator, ssm: Any, instances: dict[str, str]
) -> None:
    web1, web2 = instances["shop-web-01"], instances["shop-web-02"]
    params = {"commands": ["./migrate.sh"], "executionTimeout": ["600"]}
    command_id = _run(ssm, [web1, web2], Parameters=params)
    sim.clock.advance(590)
    assert _invocation(ssm, command_id, web1)["Status"] == "Success"
    assert _invocation(ssm, command_id, web2)["Status"] == "InProgress"
    sim.clock.advance(20)
    timed_out = _invocation(ssm, command_id, web2)
    assert (timed_out["Status"], timed_out["StatusDetails"], timed_out["ResponseCode"]) == (
        "TimedOut",
        "ExecutionTimedOut",
        -1,
    )
    (command,) = ssm.list_commands(CommandId=command_id)["Commands"]
    assert (command["Status"], command["StatusDetails"]) == ("TimedOut", "Execution Timed Out")


def test_an_agent_that_lost_its_connection_times_out_delivery_and_an_undeliverable_one_fails(
    sim: EmbeddedSimulator, ssm: Any, instances: dict[str, str]
) -> None:
    app, web = instances["shop-app-01"], instances["shop-web-01"]
    sim.backend.ssm.set_run(RunBehaviour(server="shop-app-01", offline=True))
    sim.backend.ssm.set_run(RunBehaviour(server=web, undeliverable=True))
    info = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [app, web]}])
    assert {i["InstanceId"]: i["PingStatus"] for i in info["InstanceInformationList"]} == {
        app: "ConnectionLost",
        web: "Online",
    }
    late = _run(ssm, [app], TimeoutSeconds=60)
    lost = _run(ssm, [web])
    sim.clock.advance(59)
    assert _invocation(ssm, late, app)["Status"] == "Pending"
    assert _invocation(ssm, lost, web)["StatusDetails"] == "Undeliverable"
    sim.clock.advance(1)
    assert _invocation(ssm, late, app)["StatusDetails"] == "DeliveryTimedOut"
    assert ssm.list_commands(CommandId=late)["Commands"][0]["DeliveryTimedOutCount"] == 1


def test_a_document_for_another_platform_fails_invalid_platform(
    sim: EmbeddedSimulator, ssm: Any, instances: dict[str, str]
) -> None:
    db = instances["shop-db-01"]  # Windows
    command_id = _run(ssm, [db])
    sim.clock.advance(10)
    assert _invocation(ssm, command_id, db)["StatusDetails"] == "InvalidPlatform"


def test_ssm_refuses_what_it_cannot_run(sim: EmbeddedSimulator, ssm: Any) -> None:
    booting = drill(sim, "shop-web-01", boot=False)["shop-web-01"]
    assert _code(ssm.send_command, DocumentName="AWS-RunShellScript", InstanceIds=[booting]) == (
        "InvalidInstanceId"
    )
    sim.clock.advance(30 * 60)
    params = {"commands": ["true"]}
    send = ssm.send_command
    assert _code(send, DocumentName="No-Such-Doc", InstanceIds=[booting]) == "InvalidDocument"
    assert _code(send, DocumentName="AWS-RunShellScript", InstanceIds=["i-0123456789abcdef0"]) == (
        "InvalidInstanceId"
    )
    assert _code(send, DocumentName="AWS-RunShellScript", InstanceIds=[booting]) == "InvalidParameters"
    assert _code(
        send, DocumentName="AWS-RunShellScript", InstanceIds=[booting], Parameters={**params, "x": ["1"]}
    ) == ("InvalidParameters")
    assert _code(send, DocumentName="AWS-RunShellScript", InstanceIds=[booting, booting]) == (
        "DuplicateInstanceId"
    )
    sim.backend.ssm.register_document(DocumentSpec("Locked-Doc", denied=True))
    assert _code(ssm.describe_document, Name="Locked-Doc") == "AccessDeniedException"
    assert _code(ssm.describe_document, Name="No-Such-Doc") == "InvalidDocument"
    assert _code(ssm.get_command_invocation, CommandId="0" * 36, InstanceId=booting) == "InvalidCommandId"
    assert _code(ssm.list_commands, NextToken="forged") == "InvalidNextToken"
    assert _code(ssm.list_commands, Filters=[{"key": "InvokedAfter", "value": "yesterday"}]) == (
        "InvalidFilterValue"
    )


def test_list_commands_finds_a_command_by_comment_through_time_filters_and_pages(
    sim: EmbeddedSimulator, ssm: Any, instances: dict[str, str]
) -> None:
    web = instances["shop-web-01"]
    started = sim.clock.now()
    ids = []
    for n in range(5):
        ids.append(
            ssm.send_command(
                DocumentName="AWS-RunShellScript",
                InstanceIds=[web],
                Parameters={"commands": ["true"]},
                Comment=f"exec-9/step-{n}/attempt-1",
            )["Command"]["CommandId"]
        )
        sim.clock.advance(60)
    after = (started + dt.timedelta(seconds=150)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pages = ssm.get_paginator("list_commands").paginate(
        Filters=[{"key": "InvokedAfter", "value": after}], PaginationConfig={"PageSize": 1}
    )
    listed = [c for page in pages for c in page["Commands"]]
    assert [c["CommandId"] for c in listed] == ids[:2:-1]  # newest first, invoked at or after +150 s
    assert [c["Comment"] for c in listed] == ["exec-9/step-4/attempt-1", "exec-9/step-3/attempt-1"]
    before = (started + dt.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    early = ssm.list_commands(Filters=[{"key": "InvokedBefore", "value": before}])["Commands"]
    assert [c["CommandId"] for c in early] == [ids[0]]
    done = ssm.list_commands(Filters=[{"key": "ExecutionStage", "value": "Complete"}])["Commands"]
    assert len(done) == 5
    assert ssm.list_commands(Filters=[{"key": "DocumentName", "value": "Custom-Smoke"}])["Commands"] == []


def test_output_is_the_first_24000_characters_and_the_listing_shows_2500(
    sim: EmbeddedSimulator, ssm: Any, instances: dict[str, str]
) -> None:
    web = instances["shop-web-01"]
    sim.backend.ssm.set_run(RunBehaviour(server="shop-web-01", output="BEGIN\n", output_chars=30_000))
    command_id = _run(ssm, [web])
    sim.clock.advance(10)
    output = ssm.get_command_invocation(CommandId=command_id, InstanceId=web)["StandardOutputContent"]
    assert len(output) == 24_000 and output.startswith("BEGIN\nline 000000\n")
    (listed,) = ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"]
    assert len(listed["CommandPlugins"][0]["Output"]) == 2_500


def test_every_served_answer_conforms_to_botocores_output_shapes(
    sim: EmbeddedSimulator, ssm: Any, instances: dict[str, str]
) -> None:
    web = instances["shop-web-01"]
    sent = ssm.send_command(
        DocumentName="AWS-RunShellScript", InstanceIds=[web], Parameters={"commands": ["x"]}
    )
    command_id = sent["Command"]["CommandId"]
    sim.clock.advance(10)
    answers = {
        "SendCommand": sent,
        "ListCommands": ssm.list_commands(),
        "GetCommandInvocation": ssm.get_command_invocation(CommandId=command_id, InstanceId=web),
        "ListCommandInvocations": ssm.list_command_invocations(CommandId=command_id, Details=True),
        "DescribeInstanceInformation": ssm.describe_instance_information(),
        "DescribeDocument": ssm.describe_document(Name="AWS-RunPowerShellScript"),
    }
    for operation, answer in answers.items():
        assert validate_json_output("ssm", operation, answer) == [], operation
    assert len(answers["DescribeInstanceInformation"]["InstanceInformationList"]) == len(DRILLED)
    counts = sim.backend.request_counts()
    assert counts["ssm:SendCommand"] == 1 and counts["ssm:ListCommands"] == 1
