"""One execution of an ``ExecutionSpec`` through the runner that ships (``services.runner``), a real
journal (SQLite) and the shipped ``DrsGateway`` whose requests the simulator's own backend answers in
process (``tests.inprocess_drs``): what the engine's tests drive, so every rule they prove holds for the
shipped loop and gateway, not for a model of them.

The simulated account holds exactly the spec's servers (IDs as the spec names them) plus some of another
team, with the spec's quotas; its jobs run on the simulator's virtual clock, which only the test moves.
Jobs run their own timeline, or, with ``hold_launches``, wait for the test's hands (the simulator's
``by_hand``: this server launches now, that one fails, this job ends). Faults come from the simulator's
``FaultPlan`` (launch and post-launch failures, throttles, 5xx, lost answers) and from
``start_outcomes``, the fate of the next StartRecovery calls:

``ok``; ``refuse:<Code>[:<retry after s>]`` (DRS refuses it); ``timeout-launched`` (carried out, answer
lost); ``timeout-not-launched`` (the connection drops before DRS sees it); ``timeout-late:<s>`` (DRS
carries it out that many seconds later, after the client gave up); ``crash-launched`` (carried out, then
the runner's process dies before it journals the answer); ``crash-before`` (the process dies after
journaling the intent, before the call goes out). A crash reopens the execution with
``ExecutionRunner.resume``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ConnectionClosedError

from drs_desktop.domain.drs.observations import external_load
from drs_desktop.domain.engine.commands import Command, StartJob, SurveyInstances
from drs_desktop.domain.engine.decide import EXTERNAL_LOAD_WINDOW, decide, next_poll_at
from drs_desktop.domain.engine.events import (
    Event,
    ExecutionFinished,
    JobsObserved,
    PollFailed,
    StartRequested,
    Throttled,
)
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.reducer import apply, initial_state, replay
from drs_desktop.domain.engine.state import ExecutionSpec, ExecutionState, spec_to_json
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.services.runner import ExecutionRunner, StepResult
from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.contract import SimulatorError
from drs_desktop.simulator.model import load_model
from drs_desktop.simulator.protocol import ProtocolError
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from ..inprocess_drs import Crash, InProcessDrs

#: Servers of another team in the same account (their jobs are the "external load").
OTHER_SERVERS = tuple(f"s-{9_000_000_000_000_000 + n:017d}" for n in range(1, 21))


def scenario_for(
    spec: ExecutionSpec,
    *,
    seed: int,
    launch_failures: float = 0.0,
    post_launch_failures: float = 0.0,
    start: datetime | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """The world of a run of ``spec``. ``exact``: DRS names every launched server's instance in
    DescribeJobs and lists it at once, for tests whose hands play DRS step by step; otherwise DRS's
    calibrated eventual consistency (docs/simulator.md) applies."""
    servers = [s for wave in spec.waves for s in wave.server_ids]
    limits = spec.limits
    return {
        "name": "engine",
        "seed": seed,
        "start_time": (start or spec.started_at).isoformat().replace("+00:00", "Z"),
        "quotas": {
            "max_servers_per_job": limits.max_servers_per_job,
            "max_servers_in_active_jobs": limits.max_servers_in_active_jobs,
            "max_concurrent_jobs": limits.max_concurrent_jobs,
            "max_replicating_servers": max(300, len(servers) + len(OTHER_SERVERS)),
        },
        "fleet": {
            "servers": [
                {"hostname": f"host-{index}", "id": server_id, "os": "linux"}
                for index, server_id in enumerate([*servers, *OTHER_SERVERS])
            ]
        },
        "post_launch": {
            "run_on_drills": True,
            "actions": [{"name": "Verify", "action_code": "AWS-RunShellScript", "optional": False}],
        },
        "faults": {
            "launch_failures": {"fraction": launch_failures},
            "post_launch_failures": {"fraction": post_launch_failures},
        },
        **(EXACT_WORLD if exact else {}),
    }


#: Scenario keys that switch DRS's eventual consistency off (``scenario_for(exact=True)``).
EXACT_WORLD: dict[str, Any] = {
    "behaviour": {"missing_instance_id_fraction": 0.0},
    "timings": {"instance_listed": [0, 0]},
}


class ShippedRun:
    """The runner, its journal and its DRS; ``step`` is one ``ExecutionRunner.step``.

    ``hold_launches``: every LAUNCH job waits for the test's hands (``launch_chunk``, ``by_hand``).
    ``drs_start``: the simulator's clock starts there instead of at the spec's start (DRS's history).
    ``exact`` (default: ``hold_launches``): DRS names and lists every instance at once, so a test that
    launches by hand decides when an instance becomes known; runs on their own timeline meet the
    calibrated world, where most jobs name no instance and DescribeRecoveryInstances lags.
    """

    def __init__(
        self,
        db: Database,
        revision: PlanRevision,
        spec: ExecutionSpec,
        *,
        seed: int = 7,
        launch_failures: float = 0.0,
        post_launch_failures: float = 0.0,
        hold_launches: bool = False,
        drs_start: datetime | None = None,
        exact: bool | None = None,
    ) -> None:
        self.db = db
        self.spec = spec
        self.backend = DrsBackend(
            scenario_for(
                spec,
                seed=seed,
                launch_failures=launch_failures,
                post_launch_failures=post_launch_failures,
                start=drs_start,
                exact=hold_launches if exact is None else exact,
            )
        )
        self.by_hand = self.backend.by_hand
        self.by_hand.hold_launches(hold_launches)
        self.drs = InProcessDrs(self.backend, before_call=self._before_call, after_call=self._after_call)
        self.start_outcomes: list[str] = []
        self.start_calls: list[dict[str, str]] = []  # the tags of every StartRecovery that went out
        self.late_starts: list[tuple[datetime, dict[str, Any]]] = []
        self.late_jobs: list[str] = []
        self.external_job_ids: set[str] = set()
        self.crashes = 0
        self._crash_after = False
        self._crash_after_operations: set[str] = set()
        self._seen: list[Event] = []
        actions = {s: 1 for wave in self.spec.waves for s in wave.post_launch}
        record = journal.create_execution(
            db,
            ExecutionRecord(
                execution_id=self.spec.execution_id,
                plan_id=revision.plan_id,
                plan_revision_id=revision.revision_id,
                plan_name=revision.name,
                plan_revision=revision.revision,
                mode=self.spec.mode.value,
                status="RUNNING",
                started_at=self.spec.started_at,
                options={"post_launch_actions": actions},
                spec=spec_to_json(self.spec),
            ),
        )
        self.runner = self._watched(
            ExecutionRunner(db, self.drs, record, initial_state(self.spec), clock=self.backend.clock.now)
        )

    def _watched(self, runner: ExecutionRunner) -> ExecutionRunner:
        runner.add_listener(lambda _before, _after, event: self._seen.append(event))
        return runner

    # -- what the test reads

    @property
    def state(self) -> ExecutionState:
        return self.runner.state

    @property
    def now(self) -> datetime:
        return self.backend.clock.now()

    def events(self) -> tuple[Event, ...]:
        record = journal.get_execution(self.db, self.spec.execution_id)
        return journal.read_journal(self.db, record).require_whole()

    def replayed(self, upto: int | None = None) -> ExecutionState:
        return replay(self.spec, self.events()[:upto])

    def decide(self) -> tuple[Command, ...]:
        """What the engine says now (nothing is executed)."""
        return decide(self.state, self.now)

    def starts(self) -> list[StartJob]:
        """The StartJob commands the engine would give now."""
        return [c for c in self.decide() if isinstance(c, StartJob)]

    def finishes(self) -> int:
        return sum(isinstance(e, ExecutionFinished) for e in self.events())

    def job_of_chunk(self, chunk_id: str) -> str:
        job_id = self.state.chunks[chunk_id].job_id
        assert job_id is not None, f"chunk {chunk_id} has no job"
        return job_id

    def terminated(self) -> list[str]:
        """Every recovery instance a TerminateRecoveryInstances asked DRS to terminate, in order."""
        return [
            p.recovery_instance_id or ""
            for job in self.backend.world.jobs.values()
            if job.job_type == "TERMINATE"
            for p in job.participants
        ]

    def instance_of(self, job_id: str, server_id: str) -> str | None:
        """The recovery instance DRS made for ``server_id`` in ``job_id`` (whether it named it or not)."""
        participant = self.backend.world.jobs[job_id].participant(server_id)
        return None if participant is None else participant.recovery_instance_id

    # -- what the test does

    def step(self) -> StepResult | None:
        """One step of the shipped runner; None when its process died in it (then it is reopened)."""
        try:
            return self.runner.step()
        except Crash:
            self.crash()
            return None

    def act(self, *, max_steps: int = 2000) -> list[Event]:
        """Step until a step does nothing, without moving the clock; the events journaled meanwhile."""
        first = len(self._seen)
        for _ in range(max_steps):
            result = self.step()
            if result is not None and not result.acted:
                return self._seen[first:]
        raise AssertionError("the runner did not settle")

    def started(self) -> list[str]:
        """``act``, and the chunks it asked DRS to start."""
        return [e.chunk_id for e in self.act() if isinstance(e, StartRequested)]

    def poll(self) -> None:
        """Move the clock to the next DescribeJobs of every job the engine watches, and step until the
        runner journaled its answer or its failure (and whatever it does first)."""
        due = next_poll_at(self.state, self.now)
        assert due is not None, "no job to poll"
        if due > self.now:
            self.advance_to(due)
        first = len(self._seen)
        for _ in range(50):
            self.step()
            if any(isinstance(e, (JobsObserved, PollFailed, Throttled)) for e in self._seen[first:]):
                return
        raise AssertionError("the runner did not poll")

    def run(self, *, until: Callable[[], bool] | None = None, max_steps: int = 5000) -> None:
        """Step, sleeping (on the virtual clock) to each wake-up, until ``until()``, or the execution has
        finished with nothing left to do, or it waits for the operator (nothing to wake up for)."""
        for _ in range(max_steps):
            if until is not None and until():
                return
            result = self.step()
            if result is None or result.acted:
                continue
            if result.wake_at is None:
                if until is None:
                    return
                raise AssertionError("waiting for the operator, and until() is not true")
            self.advance_to(max(self.now, result.wake_at))
        raise AssertionError("the execution did not settle within max_steps")

    def survey(self) -> None:
        """Step until the cleanup's look at DRS's records (which comes before any termination) is done."""
        for _ in range(50):
            if not any(isinstance(c, SurveyInstances) for c in self.decide()):
                return
            self.step()
        raise AssertionError("the survey did not happen")

    def crash(self) -> None:
        """The process dies between two journal entries; a new one reopens the execution."""
        self.crashes += 1
        self._crash_after = False
        self.runner = self._watched(
            ExecutionRunner.resume(self.db, self.drs, self.spec.execution_id, clock=self.backend.clock.now)
        )

    def advance(self, delta: timedelta) -> None:
        self.backend.clock.advance(delta.total_seconds())

    def advance_to(self, when: datetime) -> None:
        self.backend.clock.advance_to(when)

    def record(self, event: Event) -> None:
        """Journal ``event`` as the runner would (an operator control the runner did not check, or what
        a restarting runner journals), so that ``apply`` must cope with it."""
        self.runner._record_event(event)

    # -- DRS

    def launch_chunk(self, chunk_id: str, fail: Iterable[str] = (), *, poll: bool = True) -> None:
        """The chunk's held job launches its servers (but ``fail``) and completes; the runner polls."""
        self.by_hand.finish(self.job_of_chunk(chunk_id), fail=fail)
        if poll:
            self.poll()

    def launch_everything(self, fail: Iterable[str] = ()) -> None:
        """Every held job of this run launches its servers (but those in ``fail``) and completes."""
        for job_id in self.by_hand.held_jobs():
            if job_id not in self.external_job_ids:
                self.by_hand.finish(job_id, fail=fail)

    def start_external_job(
        self, server_ids: tuple[str, ...], *, tags: dict[str, str] | None = None, is_drill: bool = True
    ) -> str:
        """Another tool launches these servers (the account's load outside this run); its job ID."""
        params: dict[str, Any] = {
            "sourceServers": [{"sourceServerID": s} for s in server_ids],
            "isDrill": is_drill,
        }
        if tags:
            params["tags"] = tags
        job_id = str(self.backend.handle("StartRecovery", params)["job"]["jobID"])
        self.external_job_ids.add(job_id)
        return job_id

    def look_at_load(self) -> None:
        """What a runner journals when it looks at the account's load (before it starts anything)."""
        listed = self.drs.jobs_since(self.now - EXTERNAL_LOAD_WINDOW)
        self.record(external_load(self.state, listed, self.now))

    # -- the faults of StartRecovery

    def _before_call(self, operation: str, params: dict[str, Any]) -> None:
        self._carry_out_late_starts()
        if operation != "StartRecovery":
            return
        outcome = self.start_outcomes.pop(0) if self.start_outcomes else "ok"
        if outcome == "crash-before":
            raise Crash
        self.start_calls.append(dict(params.get("tags") or {}))
        self._crash_after = (
            outcome == "crash-launched"
        )  # this call's fate only, even if it is not carried out
        if outcome.startswith("refuse:"):
            code, _, retry_after = outcome.removeprefix("refuse:").partition(":")
            if code == "ThrottlingException":
                self.backend.faults.throttle("StartRecovery", retry_after=int(retry_after or 5), count=1)
            else:
                raise refusal(code, retry_after)
        elif outcome == "timeout-launched":
            self.backend.faults.lose_answer("StartRecovery", count=1)
        elif outcome == "timeout-not-launched":
            self.backend.faults.drop_connections("StartRecovery", count=1)
        elif outcome.startswith("timeout-late:"):
            delay = timedelta(seconds=float(outcome.split(":", 1)[1]))
            self.late_starts.append((self.now + delay, dict(params)))
            raise ConnectionClosedError(endpoint_url="in-process")

    def crash_after_next(self, operation: str) -> None:
        """The next ``operation`` call is carried out by DRS, then the runner's process dies before it
        journals the answer (any mutating call: TerminateRecoveryInstances, ...)."""
        self._crash_after_operations.add(operation)

    def _after_call(self, operation: str, params: dict[str, Any]) -> None:
        if operation == "StartRecovery" and self._crash_after:
            raise Crash
        if operation in self._crash_after_operations:
            self._crash_after_operations.discard(operation)
            raise Crash

    def _carry_out_late_starts(self) -> None:
        """DRS acts at its own time, whoever asks next."""
        due = [start for start in self.late_starts if start[0] <= self.now]
        self.late_starts = [start for start in self.late_starts if start[0] > self.now]
        for _, params in due:
            try:
                self.late_jobs.append(str(self.backend.handle("StartRecovery", params)["job"]["jobID"]))
            except SimulatorError as refused:
                self.drs.refused.append(("StartRecovery (late)", refused.code))


def refusal(code: str, retry_after: str = "") -> SimulatorError:
    """DRS refusing a call with ``code``. A Retry-After on an error whose model has no member for it (a
    conflict) can only come as a bare header, which botocore leaves in ``ResponseMetadata``."""
    if not retry_after:
        return SimulatorError(code, "refused by the test")
    shape = load_model().error_shape(code)
    if shape is not None and "retryAfterSeconds" in shape.members:
        return SimulatorError(code, "refused by the test", retryAfterSeconds=retry_after)
    status = int(shape.metadata["error"]["httpStatusCode"]) if shape is not None else 400
    return ProtocolError(code, "refused by the test", status=status, headers=[("Retry-After", retry_after)])


def applied(spec: ExecutionSpec, events: tuple[Event, ...]) -> list[ExecutionState]:
    """The state after each event, from the start."""
    state = initial_state(spec)
    states = []
    for event in events:
        state = apply(state, event)
        states.append(state)
    return states
