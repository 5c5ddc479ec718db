"""A wave's automation steps (``domain.plan.automation``): when an attempt starts, what its facts mean,
when the operator must decide. Pure, like every engine rule; the calls are the runner's
(``services.automation_calls``).

How a step moves (the runner contract of ``engine.decide`` holds: intent journaled before a call, facts
after):

- ``engine.waves`` starts a step as any other (once the wave is at it and the run may progress); a step
  that does not run in this mode (``RunIn``) ends at once, SKIPPED. Otherwise it ends once its
  ``StepRun`` says PASSED, WARNED or DONE; FAILED fails its wave (``queries.wave_failed``), which holds
  the run like a critical server's failure (skip the wave, or cancel).
- ``decide_automation`` starts attempt 1 (``RunAutomation``), then follows it: a health check probes
  every ``interval_seconds`` (``ProbeHealth``) until ``must_pass`` targets answer or the timeout (through
  SSM, ``Reach.SSM``, a round is sent, then read at the SSM poll's pace until it ended; the next round
  goes out an interval after its answer; nothing waits on the wall clock in between); an SSM
  command is read (``PollSsm``) until every invocation has ended; a Lambda function's answer and a
  script's exit come back by themselves (the runner runs them beside its loop). A failed attempt is
  followed by the next while retries remain; then the policy decides: hold (the run waits for the
  operator's ``StepDecided``: retry, done, fail), fail the wave, or warn and go on.
- Neither SendCommand nor Invoke takes an idempotency token, so an attempt is sent at most once: after
  a crash (``RunnerRestarted``) or a lost answer, an SSM attempt not known to be sent is looked for by
  its comment (``FindSsm``) and sent again only once a look that answered past ``SSM_SETTLE`` did not
  list it (a look that failed proves nothing); a Lambda function or a script whose outcome is lost is
  UNKNOWN and holds the run whatever the policy; a health check only reads, and probes again (a round
  through SSM cut off by a crash is forgotten, and a new round goes out at once).
- Once the run stops (cancel), nothing more goes out: an SSM attempt never sent stays unsent, a health
  check probes no more, and a failed attempt ends its step FAILED (no retry starts, no decision can
  come); what is already out (a command, a function, a script) is still followed to its end.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from drs_desktop.domain.engine.automation_events import (
    AutomationAnswered,
)
from drs_desktop.domain.engine.automation_state import (
    ATTEMPT_OPEN,
    AttemptStatus,
    StepAttempt,
    StepOutcome,
    StepRun,
    parse_key,
    step_key,
    tail,
)
from drs_desktop.domain.engine.commands import (
    Command,
    FindSsm,
    PollSsm,
    ProbeHealth,
    Record,
    RunAutomation,
    StepTarget,
)
from drs_desktop.domain.engine.events import StepPhase
from drs_desktop.domain.engine.instances import lookups_pending
from drs_desktop.domain.engine.queries import may_progress
from drs_desktop.domain.engine.state import ExecutionState, WavePhase, WaveState
from drs_desktop.domain.plan.automation import (
    AUTOMATION_STEPS,
    AutomationStep,
    HealthCheckStep,
    Reach,
    SsmStep,
)

#: An SSM send whose outcome is unknown is sent again only once ListCommands, looked at this long after
#: the send, does not list it (SSM lists a command as soon as SendCommand returns).
SSM_SETTLE = timedelta(seconds=60)
#: Looks for such a command: the first this long after the send, then at doubling intervals.
SSM_LOOK_DELAY = timedelta(seconds=10)
#: An SSM send waiting for its instances' agents to come online tries again this often (until its timeout).
SSM_AGENT_WAIT = timedelta(seconds=15)
#: SSM invocation reads: every this long, doubling after each read that changed nothing, up to the cap.
SSM_POLL = timedelta(seconds=5)
SSM_POLL_CAP = timedelta(seconds=60)
#: Past the step's timeout, SSM still delivers and reports (its own timeout ends the invocations): the
#: attempt is failed by the engine only this much later, if SSM has still not reported an end.
SSM_GRACE = timedelta(minutes=5)
#: A Lambda function or a script runs beside the runner's loop and always answers within its timeout (the
#: read timeout, the script's kill): the loop wakes this long after it, whether or not the answer woke it.
#: No rule counts the answer lost by time: with a virtual clock, time may pass faster than the call, and
#: the runner that started it is the one that hears its end (``RunnerRestarted`` says when it cannot).
LOCAL_GRACE = timedelta(minutes=2)
#: SSM invocation statuses that are over.
SSM_ENDED = frozenset({"Success", "Failed", "TimedOut", "Cancelled", "Undeliverable", "Terminated"})


def comment_of(execution_id: str, key: str, attempt: int) -> str:
    """The SSM ``Comment`` of an attempt (at most 100 characters): how it is found again after a crash."""
    return f"drs-desktop {execution_id} step {key} attempt {attempt}"[:100]


def probe_comment_of(execution_id: str, key: str, attempt: int, round_number: int) -> str:
    """The SSM ``Comment`` of a health check's probe round through SSM (at most 100 characters): it names
    the round in SSM's console; nothing looks a round up by it (a lost round is simply sent again)."""
    return f"drs-desktop {execution_id} step {key} attempt {attempt} probe {round_number}"[:100]


# -- the steps of a run


def step_at(state: ExecutionState, key: str) -> AutomationStep | None:
    wave_index, phase, index = parse_key(key)
    wave = state.spec.waves[wave_index]
    steps = wave.after if phase == StepPhase.AFTER else wave.before
    step = steps[index] if index < len(steps) else None
    return step if isinstance(step, AUTOMATION_STEPS) else None


def current_step(state: ExecutionState, wave: WaveState) -> tuple[str, AutomationStep] | None:
    """The automation step the wave is at, once started (None: none, or an approval or a wait)."""
    if wave.phase not in (WavePhase.BEFORE, WavePhase.AFTER) or wave.step_started_at is None:
        return None
    steps = wave.steps_of(state.spec)
    if wave.step_index >= len(steps):
        return None
    step = steps[wave.step_index]
    if not isinstance(step, AUTOMATION_STEPS):
        return None
    return step_key(wave.index, wave.step_phase(), wave.step_index), step


def allowed_attempts(step: AutomationStep, run: StepRun | None) -> int:
    return 1 + step.policy.retries + (run.extra_attempts if run is not None else 0)


def step_targets(state: ExecutionState, key: str, step: AutomationStep) -> tuple[StepTarget, ...]:
    """The servers a step acts on and their recovered EC2 instances ("" where none is known): the
    step's named servers, else (after a launch) the wave's own servers, else (before it) the servers of
    the waves it depends on, whose instances are up by then."""
    wave_index, phase, _ = parse_key(key)
    named = getattr(step, "servers", ())
    if named:
        server_ids: tuple[str, ...] = tuple(named)
    elif phase == StepPhase.AFTER:
        server_ids = state.spec.waves[wave_index].server_ids
    else:
        names = state.spec.waves[wave_index].depends_on
        server_ids = tuple(s for w in state.spec.waves if w.name in names for s in w.server_ids)
    out: list[StepTarget] = []
    for server_id in server_ids:
        server = state.servers.get(server_id)
        if server is None:
            continue
        out.append(
            StepTarget(
                server_id=server_id, instance_id=ec2_instance_of(state, server_id), target=server.target
            )
        )
    return tuple(out)


def held_step(state: ExecutionState, wave_index: int) -> tuple[StepPhase, int, StepRun] | None:
    """The wave's automation step that waits for the operator's decision, if one does."""
    if state.waves[wave_index].phase is WavePhase.SKIPPED:
        return None  # the operator went on without the wave: its step holds nothing, waits for nobody
    for key, run in state.automation.items():
        index, phase, step_index = parse_key(key)
        if index == wave_index and run.held:
            return StepPhase(phase), step_index, run
    return None


def in_flight(state: ExecutionState) -> bool:
    """An attempt may still be running somewhere: the run does not finish before it has ended."""
    return any(run.in_flight for run in state.automation.values())


def ec2_instance_of(state: ExecutionState, server_id: str) -> str:
    """The EC2 instance of the server's recovery instance in this run ("" none known): DRS names it in
    the job, or the instance lookups found it (``engine.instances``)."""
    server = state.servers[server_id]
    if server.ec2_instance_id:
        return server.ec2_instance_id
    record = state.instances.get(server.recovery_instance_id or "")
    return (record.ec2_instance_id or "") if record is not None and record.gone_at is None else ""


def step_ended_at(state: ExecutionState, key: str) -> datetime | None:
    """When the step ended in a way that lets its wave go on (PASSED, WARNED, DONE); None otherwise."""
    run = state.automation.get(key)
    if run is None or run.outcome not in (StepOutcome.PASSED, StepOutcome.WARNED, StepOutcome.DONE):
        return None
    return run.ended_at


# -- deciding


def decide_automation(state: ExecutionState, now: datetime, progress: bool) -> list[Command]:
    """The calls the waves' automation steps need now. ``progress``: whether a new attempt may start
    (``queries.may_progress``); attempts already under way are followed regardless."""
    commands: list[Command] = []
    for wave in state.waves:
        current = current_step(state, wave)
        if current is not None:
            commands.extend(_decide_step(state, current[0], current[1], now, progress))
    # An attempt of a step the wave has left (skipped, the run stopped) is still followed to its end.
    for key, run in state.automation.items():
        step = step_at(state, key)
        if step is not None and run.in_flight and not _is_current(state, key):
            commands.extend(_follow(state, key, step, run, now))
    return commands


def _is_current(state: ExecutionState, key: str) -> bool:
    wave_index, phase, index = parse_key(key)
    wave = state.waves[wave_index]
    return (
        wave.phase in (WavePhase.BEFORE, WavePhase.AFTER)
        and wave.step_phase() == phase
        and wave.step_index == index
        and wave.step_started_at is not None
    )


def _decide_step(
    state: ExecutionState, key: str, step: AutomationStep, now: datetime, progress: bool
) -> list[Command]:
    run = state.automation.get(key)
    if run is not None and (run.outcome is not None or run.held):
        return []
    if run is not None and run.in_flight:
        return _follow(state, key, step, run, now)
    last = run.last if run is not None else None
    if last is not None and last.status is not AttemptStatus.FAILED:
        return []  # PASSED or UNKNOWN: the reducer has ended or held the step
    if not progress:
        return []
    targets = {t.server_id for t in step_targets(state, key, step)}
    if targets & set(lookups_pending(state)):
        return []  # DRS did not name some targets' instances yet: acting now would miss them
    attempt = (last.number + 1) if last is not None else 1
    return [_run(state, key, step, attempt)]


def _run(state: ExecutionState, key: str, step: AutomationStep, attempt: int) -> RunAutomation:
    targets = step_targets(state, key, step)
    where = next((t.target for t in targets if t.instance_id), "")
    return RunAutomation(
        execution_id=state.spec.execution_id,
        plan_name=state.spec.plan_name,
        mode=state.spec.mode.value,
        key=key,
        attempt=attempt,
        step=step,
        targets=targets,
        comment=comment_of(state.spec.execution_id, key, attempt),
        target=where if isinstance(step, SsmStep | HealthCheckStep) else "",
    )


def _follow(
    state: ExecutionState, key: str, step: AutomationStep, run: StepRun, now: datetime
) -> list[Command]:
    """The next call of the attempt under way, if one is due; its timeout, if it passed."""
    last = run.last
    assert last is not None
    deadline = last.requested_at + timedelta(seconds=step.policy.timeout_seconds)
    stopping = state.stop is not None
    if isinstance(step, HealthCheckStep):
        if stopping:  # it only reads: once the run is cancelled nothing waits for its answer
            return [_stopped(key, last, now, "not probed further: the run is stopping")]
        if now >= deadline:
            return [Record(event=_health_timed_out(key, step, last, now))]
        targets = step_targets(state, key, step)

        def probe(**round_: str) -> list[Command]:
            target = _where(targets)
            return [
                ProbeHealth(key=key, attempt=last.number, step=step, targets=targets, target=target, **round_)
            ]

        if last.round_ref:  # a round through SSM is out: read it at the poll's pace
            return probe(round_ref=last.round_ref) if now >= _next_poll_at(last) else []
        due = _next_probe_at(step, last)
        if due is None or now >= due:
            if step.reach is Reach.SSM:  # a new round through SSM: its own comment
                return probe(
                    comment=probe_comment_of(state.spec.execution_id, key, last.number, last.rounds + 1)
                )
            return probe()
        return []
    if isinstance(step, SsmStep):
        targets = step_targets(state, key, step)
        if last.status is AttemptStatus.REQUESTED and last.waiting:  # agents not online: nothing sent
            if stopping:
                return [_stopped(key, last, now, f"never sent, the run is stopping ({last.waiting})")]
            if now >= deadline:
                detail = f"not sent within {step.policy.timeout_seconds} s: {last.waiting}"
                answered = AutomationAnswered(key=key, attempt=last.number, ok=False, at=now, detail=detail)
                return [Record(event=answered)]
            if (last.waited_at is None or now >= last.waited_at + SSM_AGENT_WAIT) and may_progress(state):
                return [_run(state, key, step, last.number)]  # paused or held: nothing new goes out
            return []
        if last.status is AttemptStatus.REQUESTED:  # cut off, or its answer lost: look for it
            if ssm_resend_due(last):
                if stopping:  # the operator cancelled: what never went out stays unsent
                    return [
                        _stopped(
                            key, last, now, "never sent (SSM lists no such command): the run is stopping"
                        )
                    ]
                if not may_progress(state):
                    return []  # paused or held: what never went out waits, as a new attempt would
                return [_run(state, key, step, last.number)]  # not sent: this attempt goes out now
            due = _next_look_at(last)
            if now >= due:
                return [
                    FindSsm(
                        key=key,
                        attempt=last.number,
                        comment=comment_of(state.spec.execution_id, key, last.number),
                        since=last.requested_at - timedelta(minutes=5),
                        target=_where(targets),
                    )
                ]
            return []
        if now >= deadline + SSM_GRACE:
            detail = f"SSM reported no end within {step.policy.timeout_seconds} s (+{SSM_GRACE} grace)"
            return [
                Record(
                    event=AutomationAnswered(key=key, attempt=last.number, ok=False, at=now, detail=detail)
                )
            ]
        if now >= _next_poll_at(last):
            return [
                PollSsm(
                    key=key, attempt=last.number, command_id=last.ref, targets=targets, target=_where(targets)
                )
            ]
        return []
    return []  # a Lambda function or a script: its end comes back by itself (``LOCAL_GRACE``)


def _stopped(key: str, last: StepAttempt, now: datetime, detail: str) -> Record:
    """The end of an attempt that a stopping run neither sends nor probes any further."""
    return Record(event=AutomationAnswered(key=key, attempt=last.number, ok=False, at=now, detail=detail))


def _where(targets: tuple[StepTarget, ...]) -> str:
    return next((t.target for t in targets if t.instance_id), "")


def _next_probe_at(step: HealthCheckStep, last: StepAttempt) -> datetime | None:
    if last.probed_at is None:
        return None
    return last.probed_at + timedelta(seconds=step.interval_seconds)


def _next_poll_at(last: StepAttempt) -> datetime:
    """The next read of an SSM command: an SSM step's, or a health check's probe round under way."""
    since = last.polled_at or (last.round_sent_at if last.round_ref else None) or last.requested_at
    return since + min(SSM_POLL * (2 ** min(last.polls // 6, 4)), SSM_POLL_CAP)


def _next_look_at(last: StepAttempt) -> datetime:
    if last.looked_at is None or (last.tried_at is not None and last.looked_at < last.tried_at):
        return (last.tried_at or last.requested_at) + SSM_LOOK_DELAY
    return last.looked_at + SSM_LOOK_DELAY * (2 ** min(last.looks, 5))


def _health_timed_out(
    key: str, step: HealthCheckStep, last: StepAttempt, now: datetime
) -> AutomationAnswered:
    passed = sum(1 for t in last.targets if t.status == "PASS")
    failing = "; ".join(f"{t.server_id}: {t.detail}" for t in last.targets if t.status != "PASS")
    detail = (
        f"timed out after {step.policy.timeout_seconds} s: {passed} of {len(last.targets)} target(s) passed"
        + (f" ({failing})" if failing else "")
        + (
            f"; probe round {last.rounds} through SSM ({last.round_ref}) had not answered"
            if last.round_ref
            else ""
        )
    )
    return AutomationAnswered(key=key, attempt=last.number, ok=False, at=now, detail=tail(detail, 500))


def wake_at(state: ExecutionState, now: datetime) -> datetime | None:
    """The next moment an attempt under way needs a call or times out."""
    times: list[datetime] = []
    for key, run in state.automation.items():
        step = step_at(state, key)
        last = run.last
        if step is None or last is None or last.status not in ATTEMPT_OPEN:
            continue
        deadline = last.requested_at + timedelta(seconds=step.policy.timeout_seconds)
        if isinstance(step, HealthCheckStep):
            times.append(deadline)
            probe = _next_poll_at(last) if last.round_ref else _next_probe_at(step, last)
            if probe is not None:
                times.append(probe)
        elif isinstance(step, SsmStep) and last.waiting:
            times.append((last.waited_at or now) + SSM_AGENT_WAIT)
            times.append(deadline)
        elif isinstance(step, SsmStep):
            times.append(
                _next_look_at(last) if last.status is AttemptStatus.REQUESTED else _next_poll_at(last)
            )
            times.append(deadline + SSM_GRACE)
        else:
            times.append(deadline + LOCAL_GRACE)
    future = [t for t in times if t > now]
    return min(future) if future else None


def ssm_resend_due(last: StepAttempt) -> bool:
    """An SSM attempt that a look answered without listing, at least ``SSM_SETTLE`` after its last try,
    was never sent. A look that failed does not count: the command may be running."""
    tried = last.tried_at or last.requested_at
    return (
        last.status is AttemptStatus.REQUESTED
        and last.unseen_at is not None
        and last.unseen_at >= tried + SSM_SETTLE
    )
