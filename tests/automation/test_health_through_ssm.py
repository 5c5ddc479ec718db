"""A health check from inside the VPC through SSM (``Reach.SSM``), run by the shipped runner against the
simulator over loopback with real boto3: the probe script goes to the instance ``via`` (a recovered
jump host in the recovery VPC), the simulator runs it as that instance would (real probes of the
listeners at the targets' private addresses), and the desktop reads its lines. Passing, a listener down,
the jump host's agent offline, an undeliverable round, and crashes mid-round and between rounds."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.automation_events import HealthProbed, HealthRoundSent, SsmPolled
from drs_desktop.domain.engine.automation_state import AttemptStatus, StepOutcome
from drs_desktop.domain.engine.events import Event, Outcome, StepPhase
from drs_desktop.domain.engine.health_script import PROBE_MARKER
from drs_desktop.domain.engine.state import ExecutionState
from drs_desktop.domain.plan.automation import HealthCheckStep, OnFailure, Probe, Reach, StepPolicy
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.automation_spec import ListenerSpec, RunBehaviour
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from tests.automation.test_automation_runs import (
    DB_PORT,
    WEB_PORT,
    Crash,
    key,
    report,
    save,
    sleeper,
    start,
    until_held,
)
from tests.simulator.automation_world import client, drill

pytestmark = pytest.mark.timeout(180)


JUMP = "shop-app-01"  # a Linux server not in the plan: recovered beforehand, a jump host in the VPC


def jump_host(sim: EmbeddedSimulator) -> str:
    """The recovered jump host's instance ID, its SSM agent online."""
    return drill(sim, JUMP)[JUMP]


def web_check(via: str, **extra: Any) -> HealthCheckStep:
    values: dict[str, Any] = {
        "name": "web ready (from the VPC)",
        "probe": Probe.HTTP,
        "port": WEB_PORT,
        "path": "/health",
        "expect_body": "READY",
        "reach": Reach.SSM,
        "via": via,
        "interval_seconds": 10,
        "policy": StepPolicy(timeout_seconds=120, on_failure=OnFailure.HOLD),
    }
    values.update(extra)
    return HealthCheckStep(**values)


def commands(sim: EmbeddedSimulator) -> list[Any]:
    return [sim.backend.ssm.commands[c] for c in sim.backend.ssm._order]


def test_a_check_through_ssm_passes_against_the_listeners_at_the_private_addresses(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    via = jump_host(sim)
    s = sim.backend.server_id_of
    db_up = HealthCheckStep(
        name="db answers", probe=Probe.TCP, port=DB_PORT, reach=Reach.SSM, via=via, servers=(s("shop-db-01"),)
    )
    save(db, sim, before=(db_up,), after=(web_check(via, must_pass=1),))
    runner = start(db, drs, sim)
    assert runner.run(sleep=sleeper(sim, runner)).outcome is Outcome.SUCCEEDED

    before, after = (
        runner.state.automation[key(StepPhase.BEFORE)],
        runner.state.automation[key(StepPhase.AFTER)],
    )
    assert before.outcome is StepOutcome.PASSED and after.outcome is StepOutcome.PASSED
    ec2 = client(sim, "ec2")
    db_instance = runner.state.servers[s("shop-db-01")].ec2_instance_id
    (jump, db_host) = (
        ec2.describe_instances(InstanceIds=[i])["Reservations"][0]["Instances"][0] for i in (via, db_instance)
    )
    assert jump["PrivateIpAddress"].startswith("10."), "the jump host is in the recovery VPC"
    (db_target,) = before.last.targets  # type: ignore[union-attr]
    assert db_target.status == "PASS" and db_target.detail.endswith(f": TCP {DB_PORT} open")
    assert db_target.detail == f"{db_host['PrivateIpAddress']}: TCP {DB_PORT} open", "its private address"
    assert db_host["PublicIpAddress"].startswith("127."), "its listener is at the loopback (public) address"
    web = {t.server_id: t for t in after.last.targets}  # type: ignore[union-attr]
    assert web[s("shop-web-01")].status == "PASS" and web[s("shop-web-01")].detail.endswith(": HTTP 200")
    # shop-web-02 was still booting (PENDING) when the one round ran: its address did not answer in time.
    assert web[s("shop-web-02")].status == "FAIL" and "curl exit 28" in web[s("shop-web-02")].detail

    rounds = before.last.rounds + after.last.rounds  # type: ignore[union-attr]
    assert sim.backend.request_counts()["ssm:SendCommand"] == rounds, "one command per round, no more"
    sent = commands(sim)[-rounds:]
    assert [c.document for c in sent] == ["AWS-RunShellScript"] * rounds
    assert all(list(c.invocations) == [via] for c in sent), "every round runs on the jump host alone"
    assert all(c.parameters["commands"][0] == PROBE_MARKER for c in sent)
    prefix = f"drs-desktop {runner.execution_id} step"
    assert [c.comment for c in sent[:2]] == [
        f"{prefix} {key(StepPhase.BEFORE)} attempt 1 probe 1",
        f"{prefix} {key(StepPhase.BEFORE)} attempt 1 probe 2",
    ][: min(2, before.last.rounds)]  # type: ignore[union-attr]
    assert sent[-1].comment == f"{prefix} {key(StepPhase.AFTER)} attempt 1 probe {after.last.rounds}"  # type: ignore[union-attr]

    steps = report(db, runner)["waves"][1]["automation"]
    text = json.dumps(steps)
    assert f"TCP {DB_PORT} open" in text and "HTTP 200" in text and "curl exit 28" in text


def test_a_listener_that_is_down_fails_every_round_until_the_timeout(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    via = jump_host(sim)
    sim.backend.listeners.add(
        ListenerSpec("shop-web-02", port=WEB_PORT, kind="http", body="READY", down=True)
    )
    save(db, sim, after=(web_check(via),))  # every target must pass
    runner = start(db, drs, sim)
    until_held(sim, runner)
    run = runner.state.automation[key(StepPhase.AFTER)]
    last = run.last
    assert run.held and last is not None and last.status is AttemptStatus.FAILED
    assert "timed out after 120 s: 1 of 2 target(s) passed" in last.detail
    assert last.rounds >= 4 and last.probes >= 4, "a round every interval until the timeout"
    assert sim.backend.request_counts()["ssm:SendCommand"] == last.rounds
    s = sim.backend.server_id_of
    web = {t.server_id: t for t in last.targets}
    assert web[s("shop-web-01")].status == "PASS"
    assert web[s("shop-web-02")].status == "FAIL" and "curl exit 7" in web[s("shop-web-02")].detail
    rows = json.dumps(report(db, runner)["waves"][1]["automation"])
    assert "HTTP 200" in rows and "curl exit 7" in rows


def test_the_jump_hosts_agent_offline_the_round_waits_then_fails_as_ssm_says(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    via = jump_host(sim)
    sim.backend.ssm.set_run(RunBehaviour(server=via, offline=True))
    save(
        db,
        sim,
        after=(web_check(via, policy=StepPolicy(timeout_seconds=100, on_failure=OnFailure.FAIL_WAVE)),),
    )
    runner = start(db, drs, sim)
    seen: list[Event] = []
    runner.add_listener(lambda _b, _a, event: seen.append(event))
    until_held(sim, runner)
    run = runner.state.automation[key(StepPhase.AFTER)]
    assert run.outcome is StepOutcome.FAILED
    probed = [e for e in seen if isinstance(e, HealthProbed)]
    assert probed, "a round ended"
    first = probed[0]
    assert {r.status for r in first.results} == {"FAIL"}
    assert all("ended TimedOut (DeliveryTimedOut)" in r.detail for r in first.results)
    sent = [e for e in seen if isinstance(e, HealthRoundSent)]
    assert (first.at - sent[0].at).total_seconds() >= 30, "it waited for SSM's delivery timeout"
    pending = [e for e in seen if isinstance(e, SsmPolled) and e.at < first.at]
    assert len(pending) >= 3 and {e.results[0].status for e in pending} == {"Pending"}, "read while Pending"
    assert all(b.at > a.at for a, b in itertools.pairwise(pending)), "each read paced on the virtual clock"


def test_a_crash_mid_round_sends_a_new_round_and_the_old_one_is_never_read(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    via = jump_host(sim)
    save(db, sim, after=(web_check(via, must_pass=1),))
    runner = start(db, drs, sim)

    def die(before: ExecutionState, after: ExecutionState, event: Event) -> None:
        if isinstance(event, HealthRoundSent):
            raise Crash

    runner.add_listener(die)
    with pytest.raises(Crash):
        runner.run(sleep=sleeper(sim, runner))
    runner.close()
    lost = runner.state.automation[key(StepPhase.AFTER)].last
    assert lost is not None and lost.round_ref, "the round was journaled as out"
    resumed = ExecutionRunner.resume(db, drs, runner.execution_id, clock=sim.clock.now)
    assert resumed.run(sleep=sleeper(sim, resumed)).outcome is Outcome.SUCCEEDED
    last = resumed.state.automation[key(StepPhase.AFTER)].last
    assert last is not None and last.status is AttemptStatus.PASSED
    assert last.rounds == 2 and last.probes == 1, "a new round went out; the cut-off one was never read"
    assert sim.backend.request_counts()["ssm:SendCommand"] == 2


def test_an_undeliverable_round_fails_then_a_crash_between_rounds_resumes_with_the_next(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    via = jump_host(sim)
    sim.backend.ssm.set_run(RunBehaviour(server=via, undeliverable=True))
    save(db, sim, after=(web_check(via, must_pass=1),))
    runner = start(db, drs, sim)

    def die(before: ExecutionState, after: ExecutionState, event: Event) -> None:
        if isinstance(event, HealthProbed):
            raise Crash

    runner.add_listener(die)
    with pytest.raises(Crash):
        runner.run(sleep=sleeper(sim, runner))
    runner.close()
    first = runner.state.automation[key(StepPhase.AFTER)].last
    assert first is not None and first.probes == 1 and {t.status for t in first.targets} == {"FAIL"}
    assert all("ended Failed (Undeliverable)" in t.detail for t in first.targets)
    sim.backend.ssm.runs.pop()  # the jump host takes commands again

    resumed = ExecutionRunner.resume(db, drs, runner.execution_id, clock=sim.clock.now)
    assert resumed.run(sleep=sleeper(sim, resumed)).outcome is Outcome.SUCCEEDED
    last = resumed.state.automation[key(StepPhase.AFTER)].last
    assert last is not None and last.status is AttemptStatus.PASSED and last.rounds == 2
    assert (last.probed_at - first.probed_at).total_seconds() >= 10, "the next round after the interval"  # type: ignore[operator]
