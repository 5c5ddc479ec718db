"""The log's lines about automation steps (``views.step_changes``) and what a held step waits for
(``views.held_steps``), from the engine's own events applied by hand (``test_automation_engine.Run``)."""

from __future__ import annotations

from drs_desktop.domain.engine.automation_events import (
    AutomationAnswered,
    AutomationLost,
    AutomationRequested,
)
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.views.change_text import describe_change
from drs_desktop.domain.views.held_steps import held_step_views

from .helpers import T0
from .test_automation_engine import KEY, Run, decided, lambda_step

LABEL = "wave 1 'db' before step 1 lambda 'dns'"
AT = f"{T0:%H:%M:%S}"


def lines(run: Run, event: Event) -> list[str]:
    before = run.state
    run.apply(event)
    return describe_change(before, run.state, event)


def test_a_failed_attempt_then_the_hold_then_the_operator_s_retry_are_each_said_once() -> None:
    run = Run(lambda_step(retries=1))
    requested = lines(run, AutomationRequested(key=KEY, attempt=1, at=run.now, instances=("s-1=i-1",)))
    assert requested == [f"{AT} {LABEL}: attempt 1 of 2 requested on 1 instance(s)"]
    failed = lines(run, AutomationAnswered(key=KEY, attempt=1, ok=False, at=run.now, detail="HTTP 500"))
    assert failed == [f"{AT} {LABEL}: attempt 1 FAILED: HTTP 500"], "a retry follows: no hold yet"
    lines(run, AutomationRequested(key=KEY, attempt=2, at=run.now))
    held = lines(run, AutomationAnswered(key=KEY, attempt=2, ok=False, at=run.now, detail="HTTP 500"))
    assert held == [
        f"{AT} {LABEL}: attempt 2 FAILED: HTTP 500",
        f"{AT} {LABEL}: waiting for the operator: retry, done or fail",
    ]
    (view,) = held_step_views(run.state)
    assert (view.wave_index, view.phase, view.step_index, view.lost, view.attempts) == (
        0,
        "BEFORE",
        0,
        False,
        2,
    )
    assert view.reason == "failed after 2 attempts (HTTP 500): retry it, mark it done or fail it"

    retried = lines(run, decided("retry", run))
    assert retried == [f"{AT} {LABEL}: retry decided by ana: one more attempt"]
    assert held_step_views(run.state) == ()


def test_a_lost_outcome_says_the_function_may_have_run_and_done_names_who_decided() -> None:
    run = Run(lambda_step())
    lines(run, AutomationRequested(key=KEY, attempt=1, at=run.now))
    lost = lines(run, AutomationLost(key=KEY, attempt=1, reason="read timeout", at=run.now))
    assert lost == [
        f"{AT} {LABEL}: attempt 1 outcome LOST: read timeout; the Lambda function may have run",
        f"{AT} {LABEL}: waiting for the operator: retry, done or fail",
    ]
    (view,) = held_step_views(run.state)
    assert view.lost and view.to_json()["lost"] is True
    assert "the Lambda function may have run" in view.reason and "a retry runs it again" in view.reason

    done = lines(run, decided("done", run, by="bo"))
    assert done == [f"{AT} {LABEL}: marked done by bo: the wave goes on", "wave 1 'db': launching 2 servers"]
