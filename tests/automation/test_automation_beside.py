"""What runs beside the runner's loop (``services.automation_calls``), found in review: a Lambda gateway
belongs to the one thread that uses it (DESIGN §3.5), and a script killed at its timeout ends even when
a process it started still holds its output open (no attempt that hangs forever)."""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.lambda_fn import LambdaGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.automation_calls import LambdaResult
from drs_desktop.domain.engine.automation_events import AutomationAnswered, AutomationSent
from drs_desktop.domain.engine.automation_state import StepOutcome
from drs_desktop.domain.engine.commands import RunAutomation
from drs_desktop.domain.engine.events import Event, Outcome, StepPhase
from drs_desktop.domain.plan.automation import LambdaStep, ScriptStep, StepPolicy
from drs_desktop.services.automation_calls import AutomationCalls
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database

from .test_automation_runs import key, save, sleeper, start

pytestmark = pytest.mark.timeout(180)


class Watched:
    """A real LambdaGateway that notes every thread that calls it (invoke or close)."""

    def __init__(self, target: AwsTarget) -> None:
        self._inner = LambdaGateway(target)
        self.threads: list[threading.Thread] = []  # held, so no thread's identity is reused

    def invoke(self, function: str, payload: Any, *, timeout: float) -> LambdaResult:
        self._note()
        return self._inner.invoke(function, payload, timeout=timeout)

    def close(self) -> None:
        self._note()
        self._inner.close()

    def _note(self) -> None:
        current = threading.current_thread()
        if all(t is not current for t in self.threads):
            self.threads.append(current)


def test_each_lambda_gateway_is_used_by_one_thread_only(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    """Two Lambda steps run on two threads beside the loop, and the runner closes its gateways on its
    own: a shared gateway (its boto3 session made lazily by whichever thread calls first) would be
    used by three threads."""
    dns = LambdaStep(name="dns", function="dns-cutover", payload={"zone": "a"})
    again = LambdaStep(name="dns again", function="dns-cutover", payload={"zone": "b"})
    save(db, sim, after=(dns, again))
    runner = start(db, drs, sim)
    made: list[Watched] = []

    def factory(target: AwsTarget) -> Watched:
        made.append(Watched(target))
        return made[-1]

    runner.lambda_factory = factory
    assert runner.run(sleep=sleeper(sim, runner)).outcome is Outcome.SUCCEEDED
    runner.close()
    runs = runner.state.automation
    assert [runs[key(StepPhase.AFTER, i)].outcome for i in range(2)] == [StepOutcome.PASSED] * 2
    assert len(sim.backend.lambdas.invocations) == 2
    assert made and all(len(w.threads) == 1 for w in made), [len(w.threads) for w in made]


def _command(step: ScriptStep) -> RunAutomation:
    return RunAutomation(
        execution_id="exec-1",
        plan_name="Shop",
        mode="DRILL",
        key="0:AFTER:0",
        attempt=1,
        step=step,
        targets=(),
        comment="drs-desktop exec-1 step 0:AFTER:0 attempt 1",
    )


def _calls(events: list[Event]) -> AutomationCalls:
    def nothing(_target: str) -> Any:
        raise AssertionError("a script calls no AWS service")

    return AutomationCalls(
        ssm=nothing,
        lambdas=nothing,
        ec2=nothing,
        own_lambda=nothing,
        trust=lambda _path: "TRUSTED",
        record=events.append,
        clock=lambda: datetime.now(UTC),
        wake=lambda: None,
    )


def _running(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[0] not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the child is gone")
def test_a_script_killed_at_its_timeout_ends_even_when_its_child_holds_the_output(tmp_path: Path) -> None:
    """``sleep &`` inherits the script's stdout: killing the script alone, then reading its output to
    the end, would wait for that child (here 60 s; a daemon the script started, forever)."""
    child = tmp_path / "child.pid"
    script = tmp_path / "starts-a-daemon.sh"
    script.write_text(f"#!/bin/sh\necho started\nsleep 60 &\necho $! > {child}\nsleep 60\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    events: list[Event] = []
    calls = _calls(events)
    began = time.monotonic()
    calls.run(_command(ScriptStep(name="daemon", path=str(script), policy=StepPolicy(timeout_seconds=1))))
    assert calls.wait(20.0), "the attempt ended: killed at its timeout, its output no longer waited for"
    assert time.monotonic() - began < 20.0
    calls.drain()
    assert [type(e) for e in events] == [
        type(events[0]),
        AutomationSent,
        AutomationAnswered,
    ]
    answered = events[-1]
    assert isinstance(answered, AutomationAnswered) and not answered.ok
    assert "killed after 1 s" in answered.detail and "started" in answered.output
    # A killed process closes its files before it is a zombie: give its end a moment to show.
    pid, gone_by = int(child.read_text(encoding="ascii")), time.monotonic() + 5.0
    while _running(pid) and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert not _running(pid), "the script's own children are killed too"


def test_a_script_s_own_exit_is_reported_as_before(tmp_path: Path) -> None:
    script = tmp_path / "quick.sh"
    script.write_text("#!/bin/sh\necho done\nexit 4\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    events: list[Event] = []
    calls = _calls(events)
    calls.run(_command(ScriptStep(name="quick", path=str(script), policy=StepPolicy(timeout_seconds=30))))
    assert calls.wait(20.0)
    calls.drain()
    answered = events[-1]
    assert isinstance(answered, AutomationAnswered) and not answered.ok
    assert answered.detail == "exit 4" and answered.output.strip() == "done"
    assert os.environ.get("DRS_EXECUTION_ID") is None, "the run's facts go to the script, not to this process"
