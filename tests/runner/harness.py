"""A whole execution against the simulator, watched from both ends: the journal and the simulator's own
request counts and launch ledger (shared by the fault and scale tests).

``Recorder`` is the runner's sleeper and listener at once. Between two sleeps the virtual clock stands
still, so every request the runner sends happens at the clock time it sampled last: sampling the
simulator's per-operation request counts after each journaled event and before each sleep is enough to
say which requests went out while a ``Retry-After`` hold was in force.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.state import ExecutionState, ExecutionStatus, Mode
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.runner import ExecutionRunner, RunResult
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

E = TypeVar("E")


def engine_gateway(sim: EmbeddedSimulator, *, read_timeout: float | None = None) -> DrsGateway:
    """A gateway whose reads go out once, like its launches: the engine's own pacing (Retry-After,
    backoff) is what these tests watch, and botocore's in-call retries would resend a throttled read in
    the same virtual instant (see ``test_botocore_read_retries_ignore_retry_after``)."""
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    if read_timeout is None:
        return DrsGateway(target, read_max_attempts=1)
    return DrsGateway(target, read_max_attempts=1, read_timeout=read_timeout)


@dataclass(frozen=True)
class Sample:
    """The simulator's request counts at one moment of virtual time; ``event`` when taken after one."""

    at: datetime
    counts: Counter[str]
    event: Event | None = None


@dataclass
class Recorder:
    """Sleeper (advances the simulator's clock) and listener (samples requests after each event)."""

    sim: EmbeddedSimulator
    samples: list[Sample] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    statuses: list[ExecutionStatus] = field(default_factory=list)
    transitions: list[tuple[ExecutionState, ExecutionState, Event]] = field(default_factory=list)
    before_sleep: Callable[[], None] | None = None

    def counts(self) -> Counter[str]:
        return Counter(self.sim.backend.request_counts())

    def sleep(self, seconds: float) -> None:
        if self.before_sleep is not None:
            self.before_sleep()
        self.samples.append(Sample(self.sim.clock.now(), self.counts()))
        self.sim.clock.advance(max(seconds, 1.0))

    def listener(self, before: ExecutionState, after: ExecutionState, event: Event) -> None:
        self.events.append(event)
        self.transitions.append((before, after, event))
        self.samples.append(Sample(self.sim.clock.now(), self.counts(), event))

    def idle(self) -> bool:
        """The runner slept since its last event: it had nothing to do at that moment."""
        return bool(self.samples) and self.samples[-1].event is None

    def of(self, kind: type[E]) -> list[E]:
        """The journaled events of one type, in order."""
        return [e for e in self.events if isinstance(e, kind)]

    def early_requests(
        self, hold: Callable[[Event], timedelta | None], operations: Iterable[str]
    ) -> list[tuple[Event, int]]:
        """For every event that starts a hold (``hold(event)`` is its length), how many requests of
        ``operations`` went out after it and before the hold ran out."""
        ops = set(operations)
        ordered = [*self.samples, Sample(self.sim.clock.now(), self.counts())]
        found: list[tuple[Event, int]] = []
        for index, sample in enumerate(ordered):
            length = None if sample.event is None else hold(sample.event)
            if sample.event is None or length is None:
                continue
            base = sum(sample.counts[op] for op in ops)
            early = 0
            for later in ordered[index + 1 :]:
                if later.at >= sample.at + length:
                    break
                early = max(early, sum(later.counts[op] for op in ops) - base)
            found.append((sample.event, early))
        return found


@dataclass
class Run:
    """One execution of a saved plan through the real runner, gateway and simulator."""

    sim: EmbeddedSimulator
    runner: ExecutionRunner
    recorder: Recorder

    def run(self, until: Callable[[], bool] | None = None, *, max_steps: int = 5000) -> RunResult:
        """Run to the end (or until ``until()``); ``max_steps`` only guards a test from looping."""
        return self.runner.run(
            sleep=self.recorder.sleep, should_stop=until or (lambda: False), max_steps=max_steps
        )

    def submit(self, control: Event) -> None:
        self.runner.submit(control)

    @property
    def now(self) -> datetime:
        return self.sim.clock.now()

    @property
    def state(self) -> ExecutionState:
        return self.runner.state

    def launches(self) -> Counter[str]:
        """How many times the simulator launched each source server."""
        return Counter(r.source_server_id for r in self.sim.backend.launch_records())


def start_run(
    db: Database,
    gateway: DrsGateway,
    sim: EmbeddedSimulator,
    plan: RecoveryPlan,
    *,
    mode: Mode = Mode.DRILL,
    poll_interval_seconds: float | None = None,
    wave_timeout_minutes: int | None = None,
    limits: Limits | None = None,
    cancel_grace_minutes: int | None = None,
) -> Run:
    """Save ``plan``, prepare and create its execution on the simulator's clock; nothing launched yet."""
    save_plan(db, plan)
    request = RunRequest(
        plan_name=plan.name,
        mode=mode,
        poll_interval_seconds=poll_interval_seconds,
        wave_timeout_minutes=wave_timeout_minutes,
        cancel_grace_minutes=cancel_grace_minutes,
        limits=limits or Limits(),
    )
    prepared = prepare_execution(db, gateway, request)
    runner = create_execution(db, gateway, prepared, request, clock=sim.clock.now)
    recorder = Recorder(sim)
    runner.add_listener(recorder.listener)
    runner.add_listener(lambda before, after, event: recorder.statuses.append(runner.status))
    return Run(sim, runner, recorder)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait in real time for something the simulator's HTTP thread does on its own (a late call being
    served), like ``qtbot.waitUntil``; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        pause.wait(0.005)
