"""Edges of the automation steps' engine found in review (``engine.automation``), pure like
``test_automation_engine``: a failed look is not a look that found nothing, a cancelled run sends and
probes nothing more, a skipped wave's held step holds nothing."""

from __future__ import annotations

from drs_desktop.domain.engine import automation
from drs_desktop.domain.engine.automation_events import (
    AutomationAnswered,
    AutomationLost,
    AutomationRequested,
    SsmLooked,
    SsmWaiting,
)
from drs_desktop.domain.engine.automation_state import AttemptStatus, StepOutcome
from drs_desktop.domain.engine.commands import FindSsm, ProbeHealth, RunAutomation
from drs_desktop.domain.engine.decide import finish_outcome
from drs_desktop.domain.engine.events import Cancel, SkipWave
from drs_desktop.domain.engine.queries import is_held
from drs_desktop.domain.engine.state import WavePhase
from drs_desktop.domain.plan.automation import HealthCheckStep, LambdaStep, Probe, SsmStep, StepPolicy

from .helpers import T0, seconds
from .test_automation_engine import KEY, Run


def flush() -> SsmStep:
    return SsmStep(name="flush", document="AWS-RunShellScript", parameters={"commands": ("sync",)})


def test_a_look_that_failed_never_lets_an_ssm_attempt_go_out_again() -> None:
    """ListCommands throttled or unreachable says nothing about whether the command exists: only a look
    that answered and did not list it, past the settle, lets the same attempt be sent again."""
    run = Run(flush())
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(AutomationLost(key=KEY, attempt=1, reason="read timeout", at=run.now))
    run.now = T0 + automation.SSM_SETTLE + seconds(1)
    run.apply(SsmLooked(key=KEY, attempt=1, command_id="", at=run.now, error="ThrottlingException"))
    assert run.runs() == [], "a failed look found nothing out: the command may be running"
    last = run.state.automation[KEY].last
    assert last is not None and last.status is AttemptStatus.REQUESTED and last.looks == 1
    # The failed look still paces the next one (no tight loop of looks) ...
    assert last.looked_at is not None
    run.now = last.looked_at + automation.SSM_LOOK_DELAY * 2
    assert [type(c) for c in run.decide() if isinstance(c, FindSsm)] == [FindSsm]
    # ... and a look that answers and does not list it, past the settle, sends it again.
    run.apply(SsmLooked(key=KEY, attempt=1, command_id="", at=run.now))
    (again,) = run.runs()
    assert again.attempt == 1


def test_a_cancelled_run_never_sends_an_ssm_attempt_that_waited_for_its_agents() -> None:
    run = Run(flush())
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(SsmWaiting(key=KEY, attempt=1, reason="the SSM agent of i-1 is not online yet", at=run.now))
    run.apply(Cancel(at=run.now, by="ana"))
    run.at(automation.SSM_AGENT_WAIT)
    assert run.runs() == [], "the operator cancelled: a command that never went out stays unsent"
    last = run.state.automation[KEY].last
    assert last is not None and last.status is AttemptStatus.FAILED and "never sent" in last.detail
    assert finish_outcome(run.state) is not None


def test_a_cancelled_run_never_resends_an_ssm_attempt_its_look_did_not_find() -> None:
    run = Run(flush())
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(AutomationLost(key=KEY, attempt=1, reason="read timeout", at=run.now))
    run.apply(Cancel(at=run.now, by="ana"))
    run.now = T0 + automation.SSM_SETTLE
    assert [type(c) for c in run.decide() if isinstance(c, FindSsm)] == [FindSsm], "still looked for"
    run.apply(SsmLooked(key=KEY, attempt=1, command_id="", at=run.now))
    assert run.runs() == []
    assert finish_outcome(run.state) is not None


def test_a_cancelled_run_stops_probing_and_finishes_without_waiting_for_the_timeout() -> None:
    check = HealthCheckStep(
        name="db up", probe=Probe.TCP, port=5432, interval_seconds=10, policy=StepPolicy(timeout_seconds=3600)
    )
    run = Run(check)
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(Cancel(at=run.now, by="ana"))
    run.at(seconds(10))
    assert [c for c in run.decide() if isinstance(c, ProbeHealth)] == [], "nothing probed once cancelled"
    step = run.state.automation[KEY]
    assert step.last is not None and step.last.status is AttemptStatus.FAILED
    assert step.outcome is StepOutcome.FAILED and not step.held, "no decision can come while stopping"
    assert finish_outcome(run.state) is not None, "not an hour of probes after a cancel"


def test_skipping_the_wave_of_a_held_step_lets_the_run_go_on() -> None:
    run = Run(LambdaStep(name="dns", function="move-dns"))
    run.attempt(1, ok=False, detail="exit 1")
    assert is_held(run.state)
    run.apply(SkipWave(wave_index=0, at=run.now, by="ana"))
    assert run.state.waves[0].phase is WavePhase.SKIPPED
    assert not is_held(run.state), "the operator went on without the wave, and its step with it"
    assert finish_outcome(run.state) is not None


def test_an_attempt_that_fails_after_its_wave_was_skipped_holds_nothing() -> None:
    run = Run(LambdaStep(name="dns", function="move-dns"))
    (command,) = run.runs()
    assert isinstance(command, RunAutomation)
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(SkipWave(wave_index=0, at=run.now, by="ana"))
    run.apply(AutomationAnswered(key=KEY, attempt=1, ok=False, at=run.now, detail="exit 1"))
    assert not is_held(run.state)
    assert finish_outcome(run.state) is not None
