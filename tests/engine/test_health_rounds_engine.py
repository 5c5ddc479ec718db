"""A health check's rounds through SSM in the pure engine (``engine.automation``): a round is sent, read
at the SSM poll's pace (``wake_at`` says when), answered, and the next one goes out an interval later; a
restart forgets a round under way and sends a new one at once; the attempt's timeout still applies."""

from __future__ import annotations

from drs_desktop.domain.engine import automation
from drs_desktop.domain.engine.automation_events import (
    AutomationRequested,
    HealthProbed,
    HealthRoundSent,
    SsmPolled,
)
from drs_desktop.domain.engine.automation_state import AttemptStatus, TargetResult
from drs_desktop.domain.engine.commands import ProbeHealth
from drs_desktop.domain.engine.events import RunnerRestarted
from drs_desktop.domain.plan.automation import HealthCheckStep, Probe, Reach, StepPolicy

from .helpers import seconds, sid
from .test_automation_engine import KEY, Run

VIA = "i-0123456789abcdef0"


def check() -> HealthCheckStep:
    return HealthCheckStep(
        name="db",
        probe=Probe.TCP,
        port=5432,
        reach=Reach.SSM,
        via=VIA,
        interval_seconds=20,
        policy=StepPolicy(timeout_seconds=300),
    )


def probes(run: Run) -> list[ProbeHealth]:
    return [c for c in run.decide() if isinstance(c, ProbeHealth)]


def started() -> Run:
    run = Run(check())
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    return run


def test_a_round_is_sent_then_read_at_the_poll_pace_then_the_next_follows_an_interval_later() -> None:
    run = started()
    (send,) = probes(run)
    assert send.round_ref == "" and send.comment.endswith(f"step {KEY} attempt 1 probe 1")
    run.apply(HealthRoundSent(key=KEY, attempt=1, command_id="cmd-1", at=run.now))
    assert probes(run) == [], "nothing before the first read is due"
    assert automation.wake_at(run.state, run.now) == run.now + automation.SSM_POLL
    run.at(automation.SSM_POLL)
    (read,) = probes(run)
    assert read.round_ref == "cmd-1"
    pending = (TargetResult(server_id="", instance_id=VIA, status="InProgress"),)
    run.apply(SsmPolled(key=KEY, attempt=1, results=pending, at=run.now))
    last = run.state.automation[KEY].last
    assert last is not None and last.polls == 1 and last.targets == (), "a read is no probe answer"
    assert probes(run) == []
    run.at(automation.SSM_POLL)
    fail = tuple(TargetResult(server_id=sid(n), status="FAIL", detail="refused") for n in (1, 2))
    run.apply(HealthProbed(key=KEY, attempt=1, results=fail, at=run.now))
    last = run.state.automation[KEY].last
    assert last is not None and last.round_ref == "" and last.probes == 1
    assert automation.wake_at(run.state, run.now) == run.now + seconds(20)
    run.at(seconds(19))
    assert probes(run) == []
    run.at(seconds(1))
    (again,) = probes(run)
    assert again.round_ref == "" and again.comment.endswith("probe 2")


def test_a_restart_mid_round_forgets_it_and_sends_a_new_round_at_once() -> None:
    run = started()
    run.apply(HealthRoundSent(key=KEY, attempt=1, command_id="cmd-1", at=run.now))
    run.at(seconds(1))
    run.apply(RunnerRestarted(at=run.now))
    (send,) = probes(run)
    assert send.round_ref == "", "a new round, not a read of the old one"
    assert send.comment.endswith("probe 2")
    last = run.state.automation[KEY].last
    assert last is not None and last.status is AttemptStatus.RUNNING


def test_the_attempt_times_out_with_a_round_still_out() -> None:
    run = started()
    run.apply(HealthRoundSent(key=KEY, attempt=1, command_id="cmd-1", at=run.now))
    run.at(seconds(300))
    assert probes(run) == []
    last = run.state.automation[KEY].last
    assert last is not None and last.status is AttemptStatus.FAILED
    assert "timed out after 300 s" in last.detail and "probe round 1 through SSM (cmd-1)" in last.detail
