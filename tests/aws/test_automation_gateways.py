"""``SsmGateway`` and ``LambdaGateway`` against the simulator over loopback HTTP with the real boto3
clients: every run status typed, a command found again by its comment after its answer was lost, one
attempt only for SendCommand and Invoke, Lambda's error, ``ok: false`` and timeout answers, a slow
function waited for on the virtual clock, and what preflight asks (agent online, document and function
exist)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from drs_desktop.aws.lambda_fn import LambdaGateway
from drs_desktop.aws.ssm import SsmGateway
from drs_desktop.domain.automation_calls import LambdaResult
from drs_desktop.domain.drs.errors import DrsAccessDenied, DrsNotFound, DrsOutcomeUnknown, DrsRejected
from drs_desktop.simulator.automation_spec import DocumentSpec, FunctionSpec, RunBehaviour
from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.aws.conftest import target_of
from tests.simulator.automation_world import automation_scenario, drill

SCENARIO = automation_scenario(
    ssm_runs=[
        {"server": "shop-web-02", "exit_code": 2, "output": "migration failed\n"},
        {"server": "shop-app-01", "hang": True},
    ],
    lambda_functions=[
        {"name": "smoke", "behaviour": "echo"},
        {"name": "gate", "behaviour": "not-ok", "error_message": "dns not moved"},
        {"name": "broken", "behaviour": "raise", "error_message": "boom"},
        {"name": "slow", "behaviour": "ok", "seconds": 200, "timeout": 300},
        {"name": "too-slow", "behaviour": "ok", "seconds": 200, "timeout": 60},
    ],
)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(SCENARIO, seed=7) as running:
        yield running


@pytest.fixture
def ssm(sim: EmbeddedSimulator) -> Iterator[SsmGateway]:
    gateway = SsmGateway(target_of(sim), page_size=2)
    yield gateway
    gateway.close()


@pytest.fixture
def lam(sim: EmbeddedSimulator) -> Iterator[LambdaGateway]:
    gateway = LambdaGateway(target_of(sim))
    yield gateway
    gateway.close()


@pytest.fixture
def instances(sim: EmbeddedSimulator) -> dict[str, str]:
    return drill(sim, "shop-web-01", "shop-web-02", "shop-app-01")


def test_a_command_runs_on_every_instance_and_reads_back_typed(
    sim: EmbeddedSimulator, ssm: SsmGateway, instances: dict[str, str]
) -> None:
    ids = list(instances.values())
    command_id = ssm.send_command(
        "e-1/w-1/s-1/a-1", "AWS-RunShellScript", ids, {"commands": ["echo ready"]}, timeout=600
    )
    assert {r.status for r in ssm.invocations(command_id)} == {"Pending"}
    sim.clock.advance(30)
    runs = {r.instance_id: r for r in ssm.invocations(command_id)}
    ok, failed, hung = (
        runs[instances["shop-web-01"]],
        runs[instances["shop-web-02"]],
        runs[instances["shop-app-01"]],
    )
    assert (ok.status, ok.response_code, ok.output, ok.finished, ok.succeeded) == (
        "Success",
        0,
        "ready\n",
        True,
        True,
    )
    assert (failed.status, failed.response_code, failed.output_tail(8)) == ("Failed", 2, " failed\n")
    assert "exit status 2" in failed.error_output
    assert (hung.status, hung.finished) == ("InProgress", False)
    sim.clock.advance(600)  # the step's timeout became the run's executionTimeout
    hung = next(r for r in ssm.invocations(command_id) if r.instance_id == instances["shop-app-01"])
    assert (hung.status, hung.details, hung.response_code) == ("TimedOut", "ExecutionTimedOut", -1)


def test_a_lost_answer_is_an_unknown_outcome_and_the_command_is_found_by_its_comment(
    sim: EmbeddedSimulator, ssm: SsmGateway, instances: dict[str, str]
) -> None:
    web = instances["shop-web-01"]
    journaled = sim.clock.now()
    for n in range(3):  # other commands, before and after, so the search pages and filters
        ssm.send_command(f"e-1/s-{n}/a-1", "AWS-RunShellScript", [web], {"commands": ["true"]}, timeout=60)
    sim.faults.lose_answer("ssm:SendCommand", count=1)
    with pytest.raises(DrsOutcomeUnknown):
        ssm.send_command("e-1/s-9/a-1", "AWS-RunShellScript", [web], {"commands": ["true"]}, timeout=60)
    assert sim.backend.request_counts()["ssm:SendCommand"] == 4  # sent once: no retry of a lost answer
    (found,) = ssm.find_commands_by_comment("e-1/s-9/a-1", journaled)
    sim.clock.advance(10)
    assert [r.status for r in ssm.invocations(found)] == ["Success"]
    assert ssm.find_commands_by_comment("e-1/s-8/a-1", journaled) == []


def test_a_5xx_before_sending_is_not_retried_either(
    sim: EmbeddedSimulator, ssm: SsmGateway, instances: dict[str, str]
) -> None:
    sim.faults.server_errors("ssm:SendCommand", count=1)
    with pytest.raises(DrsOutcomeUnknown):
        ssm.send_command(
            "c", "AWS-RunShellScript", [instances["shop-web-01"]], {"commands": ["x"]}, timeout=60
        )
    assert sim.backend.request_counts()["ssm:SendCommand"] == 1
    assert sim.backend.ssm.commands == {}  # the client cannot tell; the search by comment can


def test_ssm_refusals_are_definite_and_preflight_reads_agents_and_documents(
    sim: EmbeddedSimulator, ssm: SsmGateway
) -> None:
    booting = drill(sim, "shop-web-01", boot=False)["shop-web-01"]
    assert ssm.agent_online([booting, "i-0123456789abcdef0"]) == {
        booting: False,
        "i-0123456789abcdef0": False,
    }
    with pytest.raises(DrsRejected) as refused:
        ssm.send_command("c", "AWS-RunShellScript", [booting], {"commands": ["x"]}, timeout=60)
    assert refused.value.definite and refused.value.code == "InvalidInstanceId"
    sim.clock.advance(30 * 60)
    assert ssm.agent_online([booting]) == {booting: True}
    sim.backend.ssm.set_run(RunBehaviour(server="shop-web-01", offline=True))
    assert ssm.agent_online([booting]) == {booting: False}
    assert ssm.document_exists("AWS-RunShellScript") and not ssm.document_exists("Team-Smoke")
    sim.backend.ssm.register_document(DocumentSpec("Team-Smoke"))
    assert ssm.document_exists("Team-Smoke")
    sim.backend.ssm.register_document(DocumentSpec("Locked", denied=True))
    with pytest.raises(DrsAccessDenied):
        ssm.document_exists("Locked")
    with pytest.raises(DrsNotFound):
        ssm.send_command("c", "Nope", [booting], {}, timeout=60)
    with pytest.raises(DrsNotFound):
        ssm.invocations("00000000-0000-4000-8000-000000000000")


def test_lambda_answers_are_results_and_the_payload_arrives(
    sim: EmbeddedSimulator, lam: LambdaGateway
) -> None:
    facts = {"execution": "e-1", "wave": "db", "instances": ["i-1", "i-2"]}
    echo = lam.invoke("smoke", facts, timeout=30)
    assert (echo.status_code, echo.ok, echo.payload) == (200, True, facts)
    assert sim.backend.lambdas.invocations[-1].payload == facts
    gate = lam.invoke("gate", {}, timeout=30)
    assert (gate.ok, gate.function_error, gate.payload) == (
        False,
        None,
        {"ok": False, "reason": "dns not moved"},
    )
    broken = lam.invoke("broken", {}, timeout=30)
    assert (broken.ok, broken.function_error, broken.error_message) == (False, "Unhandled", "boom")
    assert lam.function_exists("smoke") and not lam.function_exists("nope")
    with pytest.raises(DrsNotFound):
        lam.invoke("nope", {}, timeout=30)
    sim.backend.lambdas.register(FunctionSpec("secret", denied=True))
    with pytest.raises(DrsAccessDenied):
        lam.invoke("secret", {}, timeout=30)


def test_a_slow_function_is_waited_for_and_one_past_its_timeout_answers_unhandled(
    sim: EmbeddedSimulator, lam: LambdaGateway
) -> None:
    results: dict[str, LambdaResult] = {}

    def call(name: str) -> None:  # each thread its own gateway (DESIGN §3.5)
        gateway = LambdaGateway(target_of(sim))
        try:
            results[name] = gateway.invoke(name, {"n": name}, timeout=300)
        finally:
            gateway.close()

    threads = {name: threading.Thread(target=call, args=(name,)) for name in ("slow", "too-slow")}
    for thread in threads.values():
        thread.start()
    assert sim.backend.lambdas.wait_invoked(2)
    sim.clock.advance(60)
    threads["too-slow"].join(timeout=10)
    assert (results["too-slow"].function_error, results["too-slow"].ok) == ("Unhandled", False)
    assert "slow" not in results
    sim.clock.advance(140)
    threads["slow"].join(timeout=10)
    assert results["slow"].ok


def test_a_lost_lambda_answer_is_an_unknown_outcome_after_one_invocation(
    sim: EmbeddedSimulator, lam: LambdaGateway
) -> None:
    sim.faults.lose_answer("lambda:Invoke", count=1)
    with pytest.raises(DrsOutcomeUnknown):
        lam.invoke("smoke", {"attempt": 1}, timeout=30)
    assert [i.payload for i in sim.backend.lambdas.invocations] == [{"attempt": 1}]
    assert sim.backend.request_counts()["lambda:Invoke"] == 1
