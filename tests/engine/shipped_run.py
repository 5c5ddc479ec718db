"""One execution of an ``ExecutionSpec`` through the runner that ships (``services.runner``), a real
journal (SQLite) and the simulator's own backend in process (``tests.inprocess_drs``): what the engine's
property tests drive, so the invariants hold for the shipped loop, not for a model of it.

The simulated account holds exactly the spec's servers (IDs as the spec names them) plus a few of another
team, with the spec's quotas; its jobs run on the simulator's virtual clock, which only the test moves.
Faults come from the simulator's ``FaultPlan`` (launch and post-launch failures, throttles, 5xx, lost
answers) and from ``start_outcomes``, the fate of the next StartRecovery calls:

``ok``; ``refuse:<Code>`` (DRS refuses it); ``timeout-launched`` (carried out, answer lost);
``timeout-not-launched`` (the connection drops before DRS sees it); ``timeout-late:<s>`` (DRS carries it
out that many seconds later, after the client gave up); ``crash-launched`` (carried out, then the runner's
process dies before it journals the answer); ``crash-before`` (the process dies after journaling the
intent, before the call goes out). A crash reopens the execution with ``ExecutionRunner.resume``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ConnectionClosedError

from drs_desktop.domain.engine import EXTERNAL_LOAD_WINDOW
from drs_desktop.domain.execution import apply, initial_state, replay
from drs_desktop.domain.execution_events import Event
from drs_desktop.domain.execution_record import ExecutionRecord
from drs_desktop.domain.execution_state import ExecutionSpec, ExecutionState, spec_to_json
from drs_desktop.domain.observations import external_load
from drs_desktop.domain.revisions import PlanRevision
from drs_desktop.services.runner import ExecutionRunner, StepResult
from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.contract import SimulatorError
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from ..inprocess_drs import Crash, InProcessDrs

#: Servers of another team in the same account (their jobs are the "external load").
OTHER_SERVERS = tuple(f"s-{9_000_000_000_000_000 + n:017d}" for n in range(1, 3))


def scenario_for(
    spec: ExecutionSpec, *, seed: int, launch_failures: float = 0.0, post_launch_failures: float = 0.0
) -> dict[str, Any]:
    servers = [s for wave in spec.waves for s in wave.server_ids]
    limits = spec.limits
    return {
        "name": "engine",
        "seed": seed,
        "start_time": spec.started_at.isoformat().replace("+00:00", "Z"),
        "quotas": {
            "max_servers_per_job": limits.max_servers_per_job,
            "max_servers_in_active_jobs": limits.max_servers_in_active_jobs,
            "max_concurrent_jobs": limits.max_concurrent_jobs,
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
    }


class ShippedRun:
    """The runner, its journal and its DRS; ``step`` is one ``ExecutionRunner.step``."""

    def __init__(
        self,
        db: Database,
        revision: PlanRevision,
        spec: ExecutionSpec,
        *,
        seed: int = 7,
        launch_failures: float = 0.0,
        post_launch_failures: float = 0.0,
    ) -> None:
        self.db = db
        self.spec = replace(spec, execution_id=str(uuid.uuid4()))
        self.backend = DrsBackend(
            scenario_for(
                spec, seed=seed, launch_failures=launch_failures, post_launch_failures=post_launch_failures
            )
        )
        self.drs = InProcessDrs(self.backend, before_call=self._before_call, after_call=self._after_call)
        self.start_outcomes: list[str] = []
        self.late_starts: list[tuple[datetime, dict[str, Any]]] = []
        self.external_job_ids: set[str] = set()
        self.crashes = 0
        self._crash_after = False
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
        self.runner = ExecutionRunner(
            db, self.drs, record, initial_state(self.spec), clock=self.backend.clock.now
        )

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

    def replayed(self) -> ExecutionState:
        return replay(self.spec, self.events())

    # -- what the test does

    def step(self) -> StepResult | None:
        """One step of the shipped runner; None when its process died in it (then it is reopened)."""
        try:
            return self.runner.step()
        except Crash:
            self.crash()
            return None

    def crash(self) -> None:
        """The process dies between two journal entries; a new one reopens the execution."""
        self.crashes += 1
        self._crash_after = False
        self.runner = ExecutionRunner.resume(
            self.db, self.drs, self.spec.execution_id, clock=self.backend.clock.now
        )

    def advance(self, delta: timedelta) -> None:
        self.backend.clock.advance(delta.total_seconds())

    def record(self, event: Event) -> None:
        """Journal ``event`` as the runner would (an operator control the runner did not check, or what
        a restarting runner journals), so that ``apply`` must cope with it."""
        self.runner._record_event(event)

    def start_external_job(self, server_ids: tuple[str, ...]) -> None:
        """Another tool launches these servers (the account's load outside this run)."""
        params = {"sourceServers": [{"sourceServerID": s} for s in server_ids], "isDrill": True}
        self.external_job_ids.add(self.backend.handle("StartRecovery", params)["job"]["jobID"])

    def look_at_load(self) -> None:
        """What a runner journals when it looks at the account's load (before it starts anything)."""
        listed = self.drs.jobs_since(self.now - EXTERNAL_LOAD_WINDOW)
        self.record(external_load(self.state, listed, self.now))

    # -- the faults of StartRecovery

    def _before_call(self, operation: str, params: dict[str, Any]) -> None:
        self._carry_out_late_starts()
        if operation != "StartRecovery" or not self.start_outcomes:
            return
        outcome = self.start_outcomes.pop(0)
        if outcome == "crash-before":
            raise Crash
        if outcome == "crash-launched":
            self._crash_after = True
        elif outcome == "refuse:ThrottlingException":
            self.backend.faults.throttle("StartRecovery", retry_after=5, count=1)
        elif outcome.startswith("refuse:"):
            raise SimulatorError(outcome.removeprefix("refuse:"), "refused by the test")
        elif outcome == "timeout-launched":
            self.backend.faults.lose_answer("StartRecovery", count=1)
        elif outcome == "timeout-not-launched":
            self.backend.faults.drop_connections("StartRecovery", count=1)
        elif outcome.startswith("timeout-late:"):
            delay = timedelta(seconds=float(outcome.split(":", 1)[1]))
            self.late_starts.append((self.now + delay, dict(params)))
            raise ConnectionClosedError(endpoint_url="in-process")

    def _after_call(self, operation: str, params: dict[str, Any]) -> None:
        if operation == "StartRecovery" and self._crash_after:
            raise Crash

    def _carry_out_late_starts(self) -> None:
        """DRS acts at its own time, whoever asks next."""
        due = [start for start in self.late_starts if start[0] <= self.now]
        self.late_starts = [start for start in self.late_starts if start[0] > self.now]
        for _, params in due:
            try:
                self.backend.handle("StartRecovery", params)
            except SimulatorError as refused:
                self.drs.refused.append(("StartRecovery (late)", refused.code))


def applied(spec: ExecutionSpec, events: tuple[Event, ...]) -> list[ExecutionState]:
    """The state after each event, from the start."""
    state = initial_state(spec)
    states = []
    for event in events:
        state = apply(state, event)
        states.append(state)
    return states
