"""An SSM step whose servers are in several DRS targets (accounts or Regions) is refused before anything is
sent: one SendCommand reaches one account and Region, and a partial send would run the document on some
servers only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drs_desktop.domain.engine.automation_events import AutomationAnswered, AutomationRequested
from drs_desktop.domain.engine.commands import RunAutomation, StepTarget
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.plan.automation import SsmStep
from drs_desktop.services.automation_calls import AutomationCalls

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def never(target: str) -> Any:
    raise AssertionError(f"no gateway may be made: nothing is sent (target {target!r})")


def test_an_ssm_step_across_targets_is_refused_and_nothing_is_sent() -> None:
    journal: list[Event] = []
    calls = AutomationCalls(
        ssm=never, lambdas=never, ec2=never, own_lambda=never, trust=lambda _p: "TRUSTED",
        record=journal.append, clock=lambda: AT, wake=lambda: None,
    )  # fmt: skip
    command = RunAutomation(
        execution_id="e-1",
        plan_name="Shop",
        mode="DRILL",
        key="0:AFTER:0",
        attempt=1,
        step=SsmStep(name="flush", document="AWS-RunShellScript"),
        targets=(
            StepTarget(server_id="s-1", instance_id="i-1", target="east"),
            StepTarget(server_id="s-2", instance_id="i-2", target="west"),
        ),
        comment="drs-desktop e-1 step 0:AFTER:0 attempt 1",
        target="east",
    )
    calls.run(command)
    requested, answered = journal
    assert isinstance(requested, AutomationRequested)
    assert isinstance(answered, AutomationAnswered) and not answered.ok
    assert "several DRS targets (east, west)" in answered.detail
