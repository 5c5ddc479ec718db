"""The engine's rules for automation steps (``engine.automation``), pure: ``decide`` and ``apply`` only.

The calls themselves (SSM, Lambda, probes, scripts) are proven against the simulator in
``tests/automation/``; here the facts are given as events and the test checks what the engine makes of
them: attempts and retries, the policy on failure, the operator's decision, a crash, the modes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from drs_desktop.domain.engine import automation
from drs_desktop.domain.engine.automation_events import (
    AutomationAnswered,
    AutomationLost,
    AutomationRequested,
    AutomationSent,
    HealthProbed,
    SsmLooked,
    SsmPolled,
    SsmWaiting,
)
from drs_desktop.domain.engine.automation_state import AttemptStatus, StepOutcome, TargetResult, step_key
from drs_desktop.domain.engine.commands import (
    Command,
    FindSsm,
    PollSsm,
    ProbeHealth,
    Record,
    RunAutomation,
    StartJob,
    WakeAt,
)
from drs_desktop.domain.engine.controls import (
    ControlAction,
    ControlRequest,
    available_controls,
    choose_wave,
    control_event,
)
from drs_desktop.domain.engine.decide import decide, finish_outcome
from drs_desktop.domain.engine.events import (
    Cancel,
    Event,
    Pause,
    Resume,
    RunnerRestarted,
    SkipWave,
    StepDecided,
    StepPhase,
)
from drs_desktop.domain.engine.queries import is_held, wave_failed
from drs_desktop.domain.engine.reducer import apply, control_error, initial_state
from drs_desktop.domain.engine.state import ExecutionState, Mode, WavePhase
from drs_desktop.domain.plan.automation import (
    HealthCheckStep,
    LambdaStep,
    OnFailure,
    Probe,
    RunIn,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.views.evidence_steps import automation_evidence

from .helpers import T0, seconds, sid, spec, wave

KEY = step_key(0, StepPhase.BEFORE, 0)


def lambda_step(**policy: object) -> LambdaStep:
    return LambdaStep(name="dns", function="move-dns", policy=StepPolicy(**policy))  # type: ignore[arg-type]


class Run:
    """A run of one wave with ``before`` steps, driven by hand: the test gives the facts."""

    def __init__(self, *before: object, mode: Mode = Mode.DRILL) -> None:
        self.state: ExecutionState = initial_state(
            spec(wave("db", (sid(1), sid(2)), before=before), mode=mode)  # type: ignore[arg-type]
        )
        self.now = T0

    def apply(self, *events: Event) -> None:
        for event in events:
            self.state = apply(self.state, event)

    def decide(self) -> list[Command]:
        """What the engine says now, once the Records it asks for (Ticks) are applied."""
        for _ in range(20):
            commands = list(decide(self.state, self.now))
            records = [c for c in commands if isinstance(c, Record)]
            if not records:
                return commands
            for record in records:
                self.apply(record.event)
        raise AssertionError("decide kept asking for records")

    def runs(self) -> list[RunAutomation]:
        return [c for c in self.decide() if isinstance(c, RunAutomation)]

    def at(self, delta: timedelta) -> None:
        self.now = self.now + delta

    def attempt(self, number: int, *, ok: bool, detail: str = "") -> None:
        (run,) = self.runs()
        assert run.attempt == number
        self.apply(AutomationRequested(key=run.key, attempt=number, at=self.now))
        self.apply(AutomationAnswered(key=run.key, attempt=number, ok=ok, at=self.now, detail=detail))


def decided(action: str, run: Run, by: str = "ana") -> StepDecided:
    return StepDecided(wave_index=0, phase=StepPhase.BEFORE, step_index=0, action=action, at=run.now, by=by)


def starts(run: Run) -> list[StartJob]:
    return [c for c in run.decide() if isinstance(c, StartJob)]


def test_a_step_passes_and_the_wave_launches_after_it() -> None:
    run = Run(lambda_step())
    (command,) = run.runs()
    assert command.key == KEY and command.attempt == 1 and command.step == lambda_step()
    assert command.comment == f"drs-desktop {run.state.spec.execution_id} step {KEY} attempt 1"
    assert not starts(run), "nothing launches while the before-step runs"
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    assert run.runs() == [], "an attempt under way is not started again"
    run.at(seconds(30))
    run.apply(AutomationAnswered(key=KEY, attempt=1, ok=True, at=run.now, detail="answered"))
    assert starts(run), "the wave launches once its step passed"
    (record,) = run.state.waves[0].steps
    assert (record.kind, record.name, record.outcome) == ("lambda", "dns", "PASSED")
    assert record.ended_at == T0 + seconds(30)


def test_failed_attempts_are_retried_then_the_run_holds_until_the_operator_retries() -> None:
    run = Run(lambda_step(retries=1))
    run.attempt(1, ok=False, detail="exit 1")
    run.attempt(2, ok=False, detail="exit 1")
    assert is_held(run.state) and run.runs() == [] and not starts(run)
    held = run.state.automation[KEY]
    assert (
        held.held and held.outcome is None and [a.status for a in held.attempts] == [AttemptStatus.FAILED] * 2
    )
    decision = StepDecided(
        wave_index=0, phase=StepPhase.BEFORE, step_index=0, action="retry", at=run.now, by="ana"
    )
    assert control_error(run.state, decision) is None
    run.apply(decision)
    run.attempt(3, ok=True)
    assert not is_held(run.state) and starts(run)
    assert run.state.automation[KEY].decided_by == "ana"


def test_a_warned_failure_lets_the_wave_go_on() -> None:
    run = Run(lambda_step(on_failure=OnFailure.WARN))
    run.attempt(1, ok=False, detail="ok: false")
    assert run.state.automation[KEY].outcome is StepOutcome.WARNED
    assert not is_held(run.state) and starts(run)
    assert run.state.waves[0].steps[0].outcome == "WARNED"


def test_a_failure_that_fails_the_wave_holds_the_run_until_the_wave_is_skipped() -> None:
    run = Run(lambda_step(on_failure=OnFailure.FAIL_WAVE))
    run.attempt(1, ok=False)
    assert run.state.automation[KEY].outcome is StepOutcome.FAILED
    assert wave_failed(run.state, 0) and is_held(run.state) and not starts(run)
    decision = decided("retry", run)
    assert control_error(run.state, decision) == "that step is not waiting for a decision"
    run.apply(SkipWave(wave_index=0, at=run.now, by="ana"))
    assert run.state.waves[0].phase is WavePhase.SKIPPED and not is_held(run.state)


def test_a_lost_lambda_answer_holds_the_run_whatever_the_policy_and_done_goes_on() -> None:
    run = Run(lambda_step(on_failure=OnFailure.WARN, retries=3))
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(RunnerRestarted(at=run.now + seconds(5)))  # the process died while the function ran
    step = run.state.automation[KEY]
    assert step.held and step.last is not None and step.last.status is AttemptStatus.UNKNOWN
    assert run.runs() == [], "never invoked again on its own: it may have run"
    run.apply(
        StepDecided(wave_index=0, phase=StepPhase.BEFORE, step_index=0, action="done", at=run.now, by="ana")
    )
    assert run.state.automation[KEY].outcome is StepOutcome.DONE and starts(run)
    assert any(entry.action == "step done" and entry.by == "ana" for entry in run.state.audit)


def test_a_function_under_way_is_waited_for_and_only_a_restart_makes_its_outcome_unknown() -> None:
    run = Run(lambda_step(timeout_seconds=60))
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    wakes = [c.at for c in decide(run.state, run.now) if isinstance(c, WakeAt)]
    assert wakes == [T0 + seconds(60) + automation.LOCAL_GRACE]
    run.at(seconds(600))  # a virtual clock may run ahead of the call: its answer still counts
    assert run.runs() == [] and not run.state.automation[KEY].held
    run.apply(AutomationAnswered(key=KEY, attempt=1, ok=True, at=run.now))
    assert run.state.automation[KEY].outcome is StepOutcome.PASSED
    # An answer that comes for an attempt already ended changes nothing.
    run.apply(AutomationAnswered(key=KEY, attempt=1, ok=False, at=run.now))
    assert run.state.automation[KEY].outcome is StepOutcome.PASSED


def test_an_ssm_send_cut_off_is_looked_for_and_sent_again_only_past_the_settle() -> None:
    step = SsmStep(name="flush", document="AWS-RunShellScript", parameters={"commands": ("sync",)})
    run = Run(step)
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(AutomationLost(key=KEY, attempt=1, reason="read timeout", at=run.now))
    assert run.decide() == [WakeAt(at=T0 + automation.SSM_LOOK_DELAY)], "no look before the delay"
    run.at(automation.SSM_LOOK_DELAY)
    (look,) = [c for c in run.decide() if isinstance(c, FindSsm)]
    assert look.comment.endswith(f"step {KEY} attempt 1") and look.since < T0
    run.apply(SsmLooked(key=KEY, attempt=1, command_id="", at=run.now))
    assert run.runs() == [], "not found 10 s after: SSM may not list it yet"
    run.now = T0 + automation.SSM_SETTLE
    run.apply(SsmLooked(key=KEY, attempt=1, command_id="", at=run.now))
    (again,) = run.runs()
    assert again.attempt == 1, "the same attempt goes out: it never did"
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(AutomationSent(key=KEY, attempt=1, ref="cmd-7", at=run.now))
    run.at(automation.SSM_POLL)
    (poll,) = [c for c in run.decide() if isinstance(c, PollSsm)]
    assert poll.command_id == "cmd-7"
    results = (
        TargetResult(server_id=sid(1), status="Success", instance_id="i-1"),
        TargetResult(server_id=sid(2), status="InProgress", instance_id="i-2"),
    )
    run.apply(SsmPolled(key=KEY, attempt=1, results=results, at=run.now))
    assert run.state.automation[KEY].outcome is None
    done = (results[0], TargetResult(server_id=sid(2), status="Success", instance_id="i-2", output="ok"))
    run.apply(SsmPolled(key=KEY, attempt=1, results=done, at=run.now))
    assert run.state.automation[KEY].outcome is StepOutcome.PASSED
    assert len(run.state.automation[KEY].attempts) == 1


def test_an_ssm_command_found_after_a_crash_is_followed_not_sent_again() -> None:
    run = Run(SsmStep(name="flush", document="AWS-RunShellScript"))
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(RunnerRestarted(at=run.now))
    run.at(automation.SSM_LOOK_DELAY)
    assert [type(c) for c in run.decide() if not isinstance(c, WakeAt)] == [FindSsm]
    run.apply(SsmLooked(key=KEY, attempt=1, command_id="cmd-9", at=run.now))
    run.at(automation.SSM_POLL)
    assert [c.command_id for c in run.decide() if isinstance(c, PollSsm)] == ["cmd-9"]
    failed = (TargetResult(server_id=sid(1), status="Failed", detail="exit 2", instance_id="i-1"),)
    run.apply(SsmPolled(key=KEY, attempt=1, results=failed, at=run.now))
    last = run.state.automation[KEY].last
    assert last is not None and last.status is AttemptStatus.FAILED and "exit 2" in last.detail


def test_a_step_of_the_other_mode_is_skipped_and_said() -> None:
    run = Run(lambda_step(run_in=RunIn.RECOVERY))
    assert run.runs() == [] and starts(run)
    (record,) = run.state.waves[0].steps
    assert record.outcome == "SKIPPED" and record.kind == "lambda"


def test_a_health_check_probes_each_interval_until_enough_pass_or_it_times_out() -> None:
    check = HealthCheckStep(
        name="db up", probe=Probe.TCP, port=5432, interval_seconds=10, policy=StepPolicy(timeout_seconds=60)
    )
    run = Run(check)
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    (probe,) = [c for c in run.decide() if isinstance(c, ProbeHealth)]
    assert [t.server_id for t in probe.targets] == [], "a before-step of a first wave has nothing launched"
    nothing = Run(check)
    nothing.runs()
    nothing.apply(AutomationRequested(key=KEY, attempt=1, at=nothing.now))
    nothing.apply(HealthProbed(key=KEY, attempt=1, results=(), at=nothing.now))
    assert "nothing to check" in nothing.state.automation[KEY].attempts[0].detail
    one_of_two = (
        TargetResult(server_id=sid(1), status="PASS", detail="TCP 5432 open"),
        TargetResult(server_id=sid(2), status="FAIL", detail="connection refused"),
    )
    run.apply(HealthProbed(key=KEY, attempt=1, results=one_of_two, at=run.now))
    assert run.decide() == [WakeAt(at=T0 + seconds(10))], "the next round after the interval"
    run.at(seconds(60))
    run.decide()
    last = run.state.automation[KEY].last
    assert last is not None and last.status is AttemptStatus.FAILED
    assert "1 of 2 target(s) passed" in last.detail and "connection refused" in last.detail
    assert run.state.automation[KEY].held


def test_must_pass_counts_and_the_run_does_not_finish_while_an_attempt_runs() -> None:
    check = HealthCheckStep(name="web", probe=Probe.HTTP, port=80, must_pass=1)
    run = Run(check)
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(Cancel(at=run.now, by="ana"))
    assert finish_outcome(run.state) is None, "the attempt under way ends first"
    one_of_two = (
        TargetResult(server_id=sid(1), status="FAIL", detail="HTTP 503 (expected 200)"),
        TargetResult(server_id=sid(2), status="PASS", detail="HTTP 200"),
    )
    run.apply(HealthProbed(key=KEY, attempt=1, results=one_of_two, at=run.now))
    assert run.state.automation[KEY].outcome is StepOutcome.PASSED
    assert finish_outcome(run.state) is not None


def test_the_operator_s_buttons_for_a_held_step_become_its_decisions() -> None:
    run = Run(lambda_step())
    run.attempt(1, ok=False, detail="exit 1")
    controls = available_controls(run.state, run.now)
    assert controls.step_waves == (0,)
    assert controls.allows(ControlAction.RETRY, 0) and controls.allows(ControlAction.STEP_DONE, 0)
    assert choose_wave(run.state, ControlAction.STEP_FAIL, None) == 0
    assert choose_wave(run.state, ControlAction.RETRY, None) == 0
    event = control_event(ControlRequest(ControlAction.RETRY, wave_index=0), run.state, at=run.now, by="ana")
    assert event == decided("retry", run)
    request = ControlRequest(ControlAction.STEP_FAIL, wave_index=0, comment="db gone")
    fail = control_event(request, run.state, at=run.now, by="ana")
    assert isinstance(fail, StepDecided) and fail.action == "fail" and fail.comment == "db gone"
    run.apply(fail)
    assert wave_failed(run.state, 0) and available_controls(run.state, run.now).step_waves == ()
    with pytest.raises(ValueError, match="no step waiting"):
        control_event(ControlRequest(ControlAction.STEP_DONE, wave_index=0), run.state, at=run.now, by="ana")


def test_the_evidence_lists_every_step_with_its_attempts_and_who_decided() -> None:
    run = Run(lambda_step(), SsmStep(name="flush", document="AWS-RunShellScript"))
    run.attempt(1, ok=False, detail="exit 1")
    (first, second) = automation_evidence(run.state, run.state.waves[0])
    assert (first.result, second.result) == ("WAITING FOR THE OPERATOR", "NOT RUN")
    run.apply(decided("done", run))
    (first, second) = automation_evidence(run.state, run.state.waves[0])
    assert first.result == "DONE" and first.decided_by == "ana"
    assert [(a.number, a.status.value, a.detail) for a in first.attempts] == [(1, "FAILED", "exit 1")]
    assert first.label == "before step 1: lambda 'dns'"
    (command,) = run.runs()
    assert command.step.name == "flush"
    run.apply(AutomationRequested(key=command.key, attempt=1, at=run.now))
    assert automation_evidence(run.state, run.state.waves[0])[1].result == "RUNNING"


def test_a_paused_run_sends_no_ssm_attempt_that_never_went_out() -> None:
    run = Run(SsmStep(name="flush", document="AWS-RunShellScript"))
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now))
    run.apply(SsmWaiting(key=KEY, attempt=1, reason="the SSM agent of i-1 is not online yet", at=run.now))
    run.apply(Pause(at=run.now, by="ana"))
    run.at(automation.SSM_AGENT_WAIT)
    assert run.runs() == [], "paused: the send that waited for its agents waits for the resume"
    run.apply(Resume(at=run.now, by="ana"))
    (again,) = run.runs()
    assert again.attempt == 1


def test_an_ssm_step_says_which_servers_it_could_not_run_on() -> None:
    run = Run(SsmStep(name="flush", document="AWS-RunShellScript", servers=(sid(1), sid(2))))
    run.runs()
    run.apply(AutomationRequested(key=KEY, attempt=1, at=run.now, instances=(f"{sid(1)}=i-1",)))
    run.apply(AutomationSent(key=KEY, attempt=1, ref="cmd-1", at=run.now))
    done = (TargetResult(server_id=sid(1), status="Success", instance_id="i-1"),)
    run.apply(SsmPolled(key=KEY, attempt=1, results=done, at=run.now))
    last = run.state.automation[KEY].last
    assert last is not None and last.status is AttemptStatus.PASSED
    assert last.detail == f"1 of 1 invocation(s) succeeded; not run on {sid(2)} (no recovered instance)"
