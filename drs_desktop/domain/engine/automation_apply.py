"""What the facts of a wave's automation steps mean (``engine.automation`` decides the calls; this applies
their events to the state): an attempt requested, sent, probed, polled, looked for, answered or lost; the
policy once an attempt failed (the next attempt, hold, fail the wave, warn); the operator's decision on a
held step; a restart that cut calls off. Pure, like every reducer rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from drs_desktop.domain.engine.automation import SSM_ENDED, allowed_attempts, held_step, step_at, step_targets
from drs_desktop.domain.engine.automation_events import (
    AutomationAnswered,
    AutomationLost,
    AutomationRequested,
    AutomationSent,
    HealthProbed,
    HealthRoundSent,
    SsmLooked,
    SsmPolled,
    SsmWaiting,
)
from drs_desktop.domain.engine.automation_state import (
    ATTEMPT_OPEN,
    AttemptStatus,
    StepAttempt,
    StepOutcome,
    StepRun,
    step_key,
    tail,
)
from drs_desktop.domain.engine.events import STEP_ACTIONS, StepDecided
from drs_desktop.domain.engine.state import ExecutionState
from drs_desktop.domain.plan.automation import HealthCheckStep, OnFailure, SsmStep, step_kind

# -- what the facts mean


def on_requested(state: ExecutionState, event: AutomationRequested) -> ExecutionState:
    step = step_at(state, event.key)
    if step is None:
        return state
    run = state.automation.get(event.key) or StepRun(key=event.key, kind=step_kind(step), name=step.name)
    sent_to = tuple(item.split("=", 1)[0] for item in event.instances)
    attempt = StepAttempt(
        number=event.attempt,
        status=AttemptStatus.REQUESTED,
        requested_at=event.at,
        tried_at=event.at,
        sent_to=sent_to,
    )
    attempts = run.attempts
    if attempts and attempts[-1].number == event.attempt:
        # Tried again: it never went out (a look past the settle found nothing, or its agents were not
        # online). The attempt's timeout still runs from its first request.
        previous = attempts[-1]
        attempt = replace(
            previous, status=AttemptStatus.REQUESTED, tried_at=event.at, waiting="", sent_to=sent_to
        )
        attempts = attempts[:-1]
    return _with_run(state, replace(run, attempts=(*attempts, attempt), held=False))


def on_sent(state: ExecutionState, event: AutomationSent) -> ExecutionState:
    return _update(
        state, event.key, event.attempt, lambda a: replace(a, status=AttemptStatus.RUNNING, ref=event.ref)
    )


def on_round_sent(state: ExecutionState, event: HealthRoundSent) -> ExecutionState:
    """A probe round went out through SSM: its reads start (paced afresh) until it answers."""
    step = step_at(state, event.key)
    attempt = _attempt(state, event.key, event.attempt)
    if not isinstance(step, HealthCheckStep) or attempt is None or attempt.status not in ATTEMPT_OPEN:
        return state
    sent = replace(
        attempt,
        status=AttemptStatus.RUNNING,
        round_ref=event.command_id,
        round_sent_at=event.at,
        rounds=attempt.rounds + 1,
        polls=0,
        polled_at=None,
    )
    return _update(state, event.key, event.attempt, lambda _a: sent)


def on_probed(state: ExecutionState, event: HealthProbed) -> ExecutionState:
    step = step_at(state, event.key)
    attempt = _attempt(state, event.key, event.attempt)
    if not isinstance(step, HealthCheckStep) or attempt is None or attempt.status not in ATTEMPT_OPEN:
        return state
    probed = replace(
        attempt,
        status=AttemptStatus.RUNNING,
        targets=event.results,
        probes=attempt.probes + 1,
        probed_at=event.at,
        round_ref="",  # the round through SSM (if one was out) has answered
    )
    state = _update(state, event.key, event.attempt, lambda _a: probed)
    if not event.results:
        detail = "nothing to check: the step names no server, and no server of its waves was launched"
        return _attempt_ended(state, event.key, event.attempt, False, event.at, detail, "")
    passed = sum(1 for r in event.results if r.status == "PASS")
    must = step.must_pass if step.must_pass is not None else len(event.results)
    if event.results and passed >= must:
        detail = f"{passed} of {len(event.results)} target(s) passed"
        return _attempt_ended(state, event.key, event.attempt, True, event.at, detail, "")
    return state


def on_ssm_polled(state: ExecutionState, event: SsmPolled) -> ExecutionState:
    attempt = _attempt(state, event.key, event.attempt)
    if attempt is None or attempt.status not in ATTEMPT_OPEN:
        return state
    if isinstance(step_at(state, event.key), HealthCheckStep):
        # A probe round through SSM still running (or its read failed): only the next read's pace; its
        # answer comes as ``HealthProbed``.
        if not attempt.round_ref:
            return state
        paced = replace(attempt, polls=attempt.polls + 1, polled_at=event.at)
        return _update(state, event.key, event.attempt, lambda _a: paced)
    changed = bool(event.results) and event.results != attempt.targets
    polled = replace(
        attempt,
        targets=event.results or attempt.targets,
        polls=0 if changed else attempt.polls + 1,
        polled_at=event.at,
    )
    state = _update(state, event.key, event.attempt, lambda _a: polled)
    if not event.results or any(r.status not in SSM_ENDED for r in event.results):
        return state
    failed = [r for r in event.results if r.status != "Success"]
    detail = f"{len(event.results) - len(failed)} of {len(event.results)} invocation(s) succeeded" + (
        "; " + "; ".join(f"{r.server_id} ({r.instance_id}): {r.status} {r.detail}".strip() for r in failed)
        if failed
        else ""
    )
    step = step_at(state, event.key)
    if step is not None and attempt.sent_to:  # a server with no recovered instance was not sent to: say so
        not_run = [
            t.server_id for t in step_targets(state, event.key, step) if t.server_id not in attempt.sent_to
        ]
        if not_run:
            detail += f"; not run on {', '.join(not_run)} (no recovered instance)"
    return _attempt_ended(state, event.key, event.attempt, not failed, event.at, tail(detail, 500), "")


def on_ssm_waiting(state: ExecutionState, event: SsmWaiting) -> ExecutionState:
    attempt = _attempt(state, event.key, event.attempt)
    if attempt is None or attempt.status is not AttemptStatus.REQUESTED:
        return state
    waiting = replace(attempt, waiting=event.reason, waited_at=event.at)
    return _update(state, event.key, event.attempt, lambda _a: waiting)


def on_ssm_looked(state: ExecutionState, event: SsmLooked) -> ExecutionState:
    attempt = _attempt(state, event.key, event.attempt)
    if attempt is None or attempt.status is not AttemptStatus.REQUESTED:
        return state
    looked = replace(attempt, looks=attempt.looks + 1, looked_at=event.at)
    if not event.error:  # a failed look (throttled, unreachable) paces the next, and proves nothing
        looked = replace(looked, unseen_at=event.at)
    if event.command_id:
        looked = replace(looked, status=AttemptStatus.RUNNING, ref=event.command_id)
    return _update(state, event.key, event.attempt, lambda _a: looked)


def on_answered(state: ExecutionState, event: AutomationAnswered) -> ExecutionState:
    attempt = _attempt(state, event.key, event.attempt)
    if attempt is None or attempt.status not in ATTEMPT_OPEN:
        return state  # an answer for an attempt already ended (timed out meanwhile): the end stands
    return _attempt_ended(state, event.key, event.attempt, event.ok, event.at, event.detail, event.output)


def on_lost(state: ExecutionState, event: AutomationLost) -> ExecutionState:
    """An SSM attempt is looked for by its comment; a Lambda function's or a script's outcome is
    unknown: the step holds the run for the operator (retry, done, fail), whatever its policy."""
    step = step_at(state, event.key)
    attempt = _attempt(state, event.key, event.attempt)
    if step is None or attempt is None or attempt.status not in ATTEMPT_OPEN:
        return state
    if isinstance(step, SsmStep):
        return _update(
            state,
            event.key,
            event.attempt,
            lambda a: replace(a, status=AttemptStatus.REQUESTED, detail=event.reason),
        )
    if isinstance(step, HealthCheckStep):
        return state  # a probe round that failed to run: the next one is due anyway
    unknown = replace(attempt, status=AttemptStatus.UNKNOWN, ended_at=event.at, detail=event.reason)
    state = _update(state, event.key, event.attempt, lambda _a: unknown)
    run = state.automation[event.key]
    return _with_run(state, replace(run, held=True))


def on_restarted(state: ExecutionState, at: datetime) -> ExecutionState:
    """The runner stopped with attempts under way: a Lambda function's or a script's outcome is lost
    (held for the operator); an SSM attempt not known to be sent is looked for; a health check probes
    again: a probe round through SSM under way is forgotten (it only reads; whether or not its send was
    journaled, the next round goes out at once, and the old command's answer is never read)."""
    for key, run in state.automation.items():
        step = step_at(state, key)
        last = run.last
        if step is None or last is None or last.status not in ATTEMPT_OPEN:
            continue
        if isinstance(step, HealthCheckStep) and last.round_ref:
            state = _update(state, key, last.number, lambda a: replace(a, round_ref="", probed_at=None))
            continue
        if isinstance(step, SsmStep | HealthCheckStep):
            continue
        reason = "the runner stopped while it ran: whether it ran, and how, is not known"
        state = on_lost(state, AutomationLost(key=key, attempt=last.number, reason=reason, at=at))
    return state


def on_decided(state: ExecutionState, event: StepDecided) -> ExecutionState:
    key = step_key(event.wave_index, event.phase, event.step_index)
    run = state.automation.get(key)
    if run is None:
        return state
    run = replace(run, decided_by=event.by, comment=event.comment, held=False)
    if event.action == "retry":
        run = replace(run, extra_attempts=run.extra_attempts + 1)
        if run.last is not None and run.last.status is AttemptStatus.UNKNOWN:
            # The next attempt follows as after a failure (decide starts it).
            run = replace(
                run, attempts=(*run.attempts[:-1], replace(run.attempts[-1], status=AttemptStatus.FAILED))
            )
    elif event.action == "done":
        run = replace(run, outcome=StepOutcome.DONE, ended_at=event.at)
    else:
        run = replace(run, outcome=StepOutcome.FAILED, ended_at=event.at)
    return _with_run(state, run).noting(
        f"step {event.action}", event.at, event.by, f"{run.name}: {event.comment}"
    )


def decision_error(state: ExecutionState, event: StepDecided) -> str | None:
    """Why the operator's decision cannot apply (None: it can)."""
    if event.action not in STEP_ACTIONS:
        return f"unknown decision {event.action!r}: retry, done or fail"
    key = step_key(event.wave_index, event.phase, event.step_index)
    run = state.automation.get(key)
    if run is None or not run.held or held_step(state, event.wave_index) is None:
        return "that step is not waiting for a decision"
    return None


# -- helpers


def _attempt(state: ExecutionState, key: str, number: int) -> StepAttempt | None:
    run = state.automation.get(key)
    if run is None:
        return None
    return next((a for a in reversed(run.attempts) if a.number == number), None)


def _update(state: ExecutionState, key: str, number: int, change: object) -> ExecutionState:
    run = state.automation.get(key)
    if run is None:
        return state
    attempts = tuple(change(a) if a.number == number else a for a in run.attempts)  # type: ignore[operator]
    return _with_run(state, replace(run, attempts=attempts))


def _with_run(state: ExecutionState, run: StepRun) -> ExecutionState:
    automation: Mapping[str, StepRun] = {**state.automation, run.key: run}
    return replace(state, automation=automation)


def _attempt_ended(
    state: ExecutionState, key: str, number: int, ok: bool, at: datetime, detail: str, output: str
) -> ExecutionState:
    status = AttemptStatus.PASSED if ok else AttemptStatus.FAILED
    state = _update(
        state,
        key,
        number,
        lambda a: replace(a, status=status, ended_at=at, detail=detail, output=tail(output)),
    )
    run = state.automation[key]
    step = step_at(state, key)
    if ok:
        return _with_run(state, replace(run, outcome=StepOutcome.PASSED, ended_at=at))
    stopping = state.stop is not None  # no next attempt starts, no decision is taken: it ends here
    if step is None or (len(run.attempts) < allowed_attempts(step, run) and not stopping):
        return state  # the next attempt follows
    policy = step.policy.on_failure
    if policy is OnFailure.WARN:
        return _with_run(state, replace(run, outcome=StepOutcome.WARNED, ended_at=at))
    if policy is OnFailure.FAIL_WAVE or stopping:
        return _with_run(state, replace(run, outcome=StepOutcome.FAILED, ended_at=at))
    return _with_run(state, replace(run, held=True))
