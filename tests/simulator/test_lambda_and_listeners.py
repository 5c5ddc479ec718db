"""Lambda in the simulator through the real boto3 Lambda client (every behaviour, a slow function and
Lambda's own timeout on the virtual clock, refusals, conformance), and the loopback listeners a health
check reaches with real sockets (TCP, HTTP, up after N virtual seconds, down, gone with the instance or
the simulator)."""

from __future__ import annotations

import json
import re
import socket
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from drs_desktop.simulator.automation_spec import FunctionSpec, ListenerSpec
from drs_desktop.simulator.conformance import validate_json_output
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import ScenarioError
from drs_desktop.simulator.scenario_schema import load_scenario
from tests.simulator.automation_world import automation_scenario, client, drill

SCENARIO = automation_scenario(
    lambda_functions=[
        {"name": "echo"},
        {"name": "gate", "behaviour": "not-ok", "error_message": "dns not moved"},
        {"name": "broken", "behaviour": "raise", "error_message": "KeyError: 'wave'"},
        {"name": "slow", "behaviour": "ok", "seconds": 40, "timeout": 60},
        {"name": "too-slow", "behaviour": "ok", "seconds": 120, "timeout": 30},
    ],
    listeners=[
        {"server": "shop-db-01", "port": 15432},
        {"server": "shop-web-01", "port": 18080, "kind": "http", "status": 503, "body": "warming up"},
        {"server": "shop-web-02", "port": 18080, "kind": "http", "body": "ready", "up_after": 3600},
        {"server": "shop-app-01", "port": 18081, "down": True},
    ],
)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(SCENARIO, seed=7) as running:
        yield running


@pytest.fixture
def lam(sim: EmbeddedSimulator) -> Any:
    return client(sim, "lambda")


def _invoke(lam: Any, name: str, payload: dict[str, Any]) -> tuple[int, str | None, Any]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(payload))
    return answer["StatusCode"], answer.get("FunctionError"), json.loads(answer["Payload"].read())


def test_each_behaviour_answers_as_lambda_does_and_every_payload_is_recorded(
    sim: EmbeddedSimulator, lam: Any
) -> None:
    facts = {"execution": "e-1", "wave": 2, "instances": ["i-1"]}
    assert _invoke(lam, "echo", facts) == (200, None, facts)
    assert _invoke(lam, "gate", {}) == (200, None, {"ok": False, "reason": "dns not moved"})
    status, error, body = _invoke(lam, "broken", {"x": 1})
    assert (status, error, body["errorMessage"], body["errorType"]) == (
        200,
        "Unhandled",
        "KeyError: 'wave'",
        "Exception",
    )
    arn = f"arn:aws:lambda:us-east-1:{sim.account_id}:function:echo"
    assert _invoke(lam, arn, {"by": "arn"})[2] == {"by": "arn"}
    recorded = sim.backend.lambdas.invocations
    assert [(r.function, r.payload) for r in recorded] == [
        ("echo", facts),
        ("gate", {}),
        ("broken", {"x": 1}),
        ("echo", {"by": "arn"}),
    ]


def test_a_slow_function_answers_after_its_virtual_seconds_and_one_past_its_timeout_times_out(
    sim: EmbeddedSimulator, lam: Any
) -> None:
    answers: dict[str, Any] = {}

    def call(name: str) -> None:
        answers[name] = _invoke(lam, name, {})

    threads = [threading.Thread(target=call, args=(n,)) for n in ("slow", "too-slow")]
    for t in threads:
        t.start()
    assert sim.backend.lambdas.wait_invoked(2)
    sim.clock.advance(29)
    assert answers == {}  # nothing answered before its virtual time
    sim.clock.advance(1)
    threads[1].join(timeout=10)
    assert answers["too-slow"][:2] == (200, "Unhandled")
    assert answers["too-slow"][2]["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 30.00 seconds" in answers["too-slow"][2]["errorMessage"]
    assert "slow" not in answers
    sim.clock.advance(10)
    threads[0].join(timeout=10)
    assert answers["slow"] == (200, None, {"ok": True})


def test_lambda_refuses_unknown_functions_bad_payloads_and_denied_callers(
    sim: EmbeddedSimulator, lam: Any
) -> None:
    def code(**kwargs: Any) -> tuple[str, int]:
        with pytest.raises(ClientError) as info:
            lam.invoke(**kwargs)
        return info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]

    assert code(FunctionName="nope", Payload=b"{}") == ("ResourceNotFoundException", 404)
    assert code(FunctionName="echo", Payload=b"{not json") == ("InvalidRequestContentException", 400)
    sim.backend.lambdas.register(FunctionSpec("secret", denied=True))
    assert code(FunctionName="secret", Payload=b"{}") == ("AccessDeniedException", 403)
    with pytest.raises(ClientError) as info:
        lam.get_function(FunctionName="nope")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert lam.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"] == 204
    assert sim.backend.lambdas.invocations == []


def test_lambda_answers_conform_to_botocores_output_shapes(lam: Any) -> None:
    answers = {
        "Invoke": lam.invoke(FunctionName="broken", Payload=b"{}"),
        "GetFunction": lam.get_function(FunctionName="slow"),
        "GetFunctionConfiguration": lam.get_function_configuration(FunctionName="slow"),
    }
    for operation, answer in answers.items():
        assert validate_json_output("lambda", operation, answer) == [], operation
    assert answers["GetFunctionConfiguration"]["Timeout"] == 60


def _connect(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=5):
            return True
    except ConnectionRefusedError:
        return False


def test_recovered_instances_get_loopback_addresses_with_real_listeners(sim: EmbeddedSimulator) -> None:
    instances = drill(sim, "shop-db-01", "shop-web-01", "shop-web-02", "shop-app-01")
    ec2 = client(sim, "ec2")
    described = ec2.describe_instances(InstanceIds=list(instances.values()))
    by_id = {i["InstanceId"]: i for r in described["Reservations"] for i in r["Instances"]}
    address = {h: by_id[iid]["PublicIpAddress"] for h, iid in instances.items()}
    assert len(set(address.values())) == 4 and all(a.startswith("127.") for a in address.values())
    assert all(by_id[iid]["PrivateIpAddress"].startswith("10.20.") for iid in instances.values())
    drs_view = client(sim, "drs").describe_recovery_instances()["items"]
    assert {i["recoveryInstanceProperties"]["networkInterfaces"][0]["ips"][1] for i in drs_view} == set(
        address.values()
    )

    assert _connect(address["shop-db-01"], 15432)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"http://{address['shop-web-01']}:18080/health", timeout=5)
    assert (info.value.code, info.value.read()) == (503, b"warming up")
    assert not _connect(address["shop-app-01"], 18081)  # down: never listens

    web2 = sim.backend.listeners.of("shop-web-02")[0]
    assert not _connect(address["shop-web-02"], 18080)
    sim.clock.advance(3600)
    assert web2.bound.wait(timeout=5)
    with urllib.request.urlopen(f"http://{address['shop-web-02']}:18080/", timeout=5) as answer:
        assert (answer.status, answer.read()) == (200, b"ready")

    client(sim, "drs").terminate_recovery_instances(recoveryInstanceIDs=[instances["shop-db-01"]])
    sim.clock.advance(600)
    sim.backend.settle()
    assert not _connect(address["shop-db-01"], 15432)
    sim.stop()
    assert not _connect(address["shop-web-02"], 18080)


def test_a_listener_added_by_a_test_and_a_port_that_cannot_be_bound(sim: EmbeddedSimulator) -> None:
    instances = drill(sim, "shop-app-02", boot=False)
    sim.backend.listeners.add(ListenerSpec("shop-app-02", port=18443, kind="tcp"))
    (listener,) = sim.backend.listeners.of(instances["shop-app-02"])
    assert listener.bound.is_set() and _connect(listener.address, 18443)
    sim.backend.listeners.add(ListenerSpec("shop-app-02", port=18443, kind="http"))  # the same port again
    clash = sim.backend.listeners.of("shop-app-02", 18443)[-1]
    assert not clash.bound.is_set() and clash.error is not None and "18443" in clash.error


def test_scenario_errors_name_the_key() -> None:
    with pytest.raises(ScenarioError, match=re.escape("automation.listeners[0].port")):
        load_scenario({"automation": {"listeners": [{"server": "x"}]}})
    with pytest.raises(ScenarioError, match=re.escape("automation.lambda_functions[0].behaviour")):
        load_scenario({"automation": {"lambda_functions": [{"name": "f", "behaviour": "dance"}]}})
    with pytest.raises(ScenarioError, match=re.escape("automation.ssm_runs[0]")):
        load_scenario({"automation": {"ssm_runs": [{"seconds": 5}]}})
