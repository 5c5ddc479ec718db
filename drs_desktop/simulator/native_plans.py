"""DRS's native Recovery Plans: plans of ordered SERVER and WAIT steps, and their executions.

An execution copies the plan's steps and runs them one at a time on the virtual clock. A WAIT step is
WAITING for its minutes, then COMPLETED. A SERVER step is EXECUTING while one DRS job (the same job
machinery StartRecovery uses, with the same limits) launches its servers; when the job completes the step
is COMPLETED unless a CRITICAL server failed to launch, which makes the step and the execution FAILED (an
OPTIONAL server may fail). A step whose job does not finish within the scenario's step timeout ends
TIMED_OUT. A FAILED execution resumes when its failed step is retried (only the servers that did not
launch are launched again) or skipped; cancelling skips the remaining steps, and lets a running job
finish first (CANCELLING). DRS never terminates what a plan launched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from drs_desktop.simulator import errors
from drs_desktop.simulator.contract import SimulatorError
from drs_desktop.simulator.entities import Job
from drs_desktop.simulator.jobs import JobEngine
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)

TERMINAL_EXECUTION = ("COMPLETED", "FAILED", "CANCELLED")
ACTIVE_EXECUTION = ("CREATED", "IN_PROGRESS", "CANCELLING")


@dataclass(slots=True)
class PlanStep:
    step_id: str
    arn: str
    plan_arn: str
    name: str
    servers: list[dict[str, str]] | None  # [{serverArn, impactLevel}] for SERVER steps
    wait_minutes: int | None
    created_ts: float
    updated_ts: float

    @property
    def kind(self) -> str:
        return "SERVER" if self.servers is not None else "WAIT"


@dataclass(slots=True)
class Plan:
    plan_id: str
    arn: str
    name: str
    description: str | None
    created_ts: float
    updated_ts: float
    tags: dict[str, str]
    steps: list[PlanStep] = field(default_factory=list)


@dataclass(slots=True)
class ExecServer:
    server_arn: str
    server_id: str
    impact: str
    job_id: str | None = None
    launched: bool = False


@dataclass(slots=True)
class ExecStep:
    arn: str
    index: int
    name: str
    kind: str
    servers: list[ExecServer]
    wait_minutes: int | None
    created_ts: float
    updated_ts: float
    status: str = "NOT_STARTED"
    error: dict[str, str] | None = None
    attempt: int = 1
    generation: int = 0  # bumped whenever a pending timer or job of this step must be ignored


@dataclass(slots=True)
class Execution:
    execution_id: str
    arn: str
    plan_arn: str
    mode: str
    started_ts: float
    tags: dict[str, str]
    steps: list[ExecStep]
    snapshots: dict[str, str]
    status: str = "CREATED"
    completed_ts: float | None = None
    error: dict[str, str] | None = None
    seq: int = 0


class PlanEngine:
    """Plans, executions and the rules that run them; the handlers live in ``ops_plans``."""

    def __init__(self, world: World, jobs: JobEngine) -> None:
        self.w = world
        self.jobs = jobs
        self.plans: dict[str, Plan] = {}
        self.steps: dict[str, PlanStep] = {}
        self.executions: dict[str, Execution] = {}
        self.exec_steps: dict[str, tuple[Execution, ExecStep]] = {}
        self.client_tokens: dict[tuple[str, str], str] = {}
        self._running: dict[str, tuple[Execution, ExecStep, int]] = {}
        self._exec_seq = 0
        world.job_listeners.append(self._on_job_completed)

    # -- executions ------------------------------------------------------------------------------

    def start(self, plan: Plan, mode: str, snapshots: dict[str, str], tags: dict[str, str]) -> Execution:
        w = self.w
        if not plan.steps:
            raise errors.invalid(f"Recovery plan {plan.name} has no steps", "recoveryPlanArn")
        if any(e.plan_arn == plan.arn and e.status in ACTIVE_EXECUTION for e in self.executions.values()):
            raise errors.conflict(
                f"Recovery plan {plan.name} already has an execution in progress", plan.arn, "RECOVERY_PLAN"
            )
        planned = {s["serverArn"].rsplit("/", 1)[-1] for st in plan.steps for s in st.servers or []}
        for server_id in snapshots:
            if server_id not in planned:
                raise errors.invalid(f"Source server {server_id} is not in the plan", "sourceServers")
        execution_id = w.ids.prefixed("rpe-")
        arn = w.arns.recovery_plan_execution(execution_id)
        steps = []
        for index, st in enumerate(plan.steps, start=1):
            servers = [
                ExecServer(
                    s["serverArn"], s["serverArn"].rsplit("/", 1)[-1], s.get("impactLevel", "CRITICAL")
                )
                for s in st.servers or []
            ]
            steps.append(
                ExecStep(
                    arn=w.arns.recovery_plan_execution_step(execution_id, index),
                    index=index,
                    name=st.name,
                    kind=st.kind,
                    servers=servers,
                    wait_minutes=st.wait_minutes,
                    created_ts=w.now,
                    updated_ts=w.now,
                )
            )
        self._exec_seq += 1
        execution = Execution(execution_id, arn, plan.arn, mode, w.now, dict(tags), steps, dict(snapshots))
        execution.seq = self._exec_seq
        self.executions[arn] = execution
        for step in steps:
            self.exec_steps[step.arn] = (execution, step)
        w.schedule(w.now + 1.0, lambda: self._begin(execution))
        return execution

    def _begin(self, ex: Execution) -> None:
        if ex.status == "CREATED":
            ex.status = "IN_PROGRESS"
            self._run_next(ex)

    def _run_next(self, ex: Execution) -> None:
        w = self.w
        if ex.status != "IN_PROGRESS":
            return
        step = next((s for s in ex.steps if s.status == "NOT_STARTED"), None)
        if step is None:
            ex.status = "COMPLETED"
            ex.completed_ts = w.now
            return
        step.updated_ts = w.now
        step.generation += 1
        generation = step.generation
        if step.kind == "WAIT":
            step.status = "WAITING"
            w.schedule(w.now + (step.wait_minutes or 0) * 60, lambda: self._wait_over(ex, step, generation))
        else:
            self._launch_step(ex, step)

    def _wait_over(self, ex: Execution, step: ExecStep, generation: int) -> None:
        if step.generation != generation or step.status != "WAITING":
            return
        step.status = "COMPLETED"
        step.updated_ts = self.w.now
        self._run_next(ex)

    def _launch_step(self, ex: Execution, step: ExecStep) -> None:
        w = self.w
        step.status = "EXECUTING"
        pending = [s for s in step.servers if not s.launched]
        requests = [(s.server_id, ex.snapshots.get(s.server_id)) for s in pending]
        try:
            job = self.jobs.start_launch(requests, is_drill=ex.mode == "DRILL", tags={})
        except SimulatorError as exc:
            self._step_failed(ex, step, "FAILED", exc.code, exc.message)
            return
        for s in pending:
            s.job_id = job.job_id
        generation = step.generation
        self._running[job.job_id] = (ex, step, generation)
        timeout = w.scenario.server_step_timeout_minutes * 60
        w.schedule(w.now + timeout, lambda: self._timed_out(ex, step, generation, job.job_id))

    def _on_job_completed(self, job: Job) -> None:
        entry = self._running.pop(job.job_id, None)
        if entry is None:
            return
        ex, step, generation = entry
        if step.generation != generation or step.status != "EXECUTING":
            return
        for s in step.servers:
            if s.job_id == job.job_id:
                p = job.participant(s.server_id)
                s.launched = p is not None and p.launch_status == "LAUNCHED"
        failed = [s.server_id for s in step.servers if not s.launched and s.impact == "CRITICAL"]
        step.updated_ts = self.w.now
        if failed:
            message = f"{len(failed)} critical source server(s) failed to launch: {', '.join(failed)}"
            self._step_failed(ex, step, "FAILED", "CriticalServerLaunchFailed", message)
            return
        step.status = "COMPLETED"
        if ex.status == "CANCELLING":
            self._finish_cancel(ex)
        else:
            self._run_next(ex)

    def _timed_out(self, ex: Execution, step: ExecStep, generation: int, job_id: str) -> None:
        if step.generation != generation or step.status != "EXECUTING":
            return
        self._running.pop(job_id, None)
        minutes = self.w.scenario.server_step_timeout_minutes
        self._step_failed(
            ex, step, "TIMED_OUT", "StepTimedOut", f"The step's job did not finish in {minutes} minutes"
        )

    def _step_failed(self, ex: Execution, step: ExecStep, status: str, code: str, message: str) -> None:
        step.status = status
        step.error = {"code": code, "message": message}
        step.updated_ts = self.w.now
        if ex.status == "CANCELLING":
            self._finish_cancel(ex)
            return
        ex.status = "FAILED"
        ex.completed_ts = self.w.now
        ex.error = {"code": code, "message": f"Step {step.index} ({step.name}): {message}"}

    def cancel(self, ex: Execution) -> None:
        if ex.status == "CANCELLING":
            return
        if ex.status not in ("CREATED", "IN_PROGRESS"):
            raise errors.conflict(
                f"Execution is {ex.status} and cannot be cancelled", ex.arn, "RECOVERY_PLAN_EXECUTION"
            )
        for step in ex.steps:
            if step.status in ("NOT_STARTED", "WAITING"):
                step.status = "SKIPPED"
                step.generation += 1
                step.updated_ts = self.w.now
        if any(s.status == "EXECUTING" for s in ex.steps):
            ex.status = "CANCELLING"  # DRS cannot stop a running job: wait for it
        else:
            self._finish_cancel(ex)

    def _finish_cancel(self, ex: Execution) -> None:
        ex.status = "CANCELLED"
        ex.completed_ts = self.w.now

    def retry(self, ex: Execution, step: ExecStep) -> None:
        if step.kind != "SERVER":
            raise errors.invalid("Only SERVER steps can be retried", "recoveryPlanExecutionStepArn")
        if step.status not in ("FAILED", "TIMED_OUT") or ex.status != "FAILED":
            raise errors.conflict(
                f"Step is {step.status} in a {ex.status} execution; only a failed step of a failed execution "
                "can be retried",
                step.arn,
                "RECOVERY_PLAN_EXECUTION_STEP",
            )
        self._check_resumable(ex)
        step.attempt += 1
        step.error = None
        step.generation += 1
        step.updated_ts = self.w.now
        ex.status = "IN_PROGRESS"
        ex.error = None
        ex.completed_ts = None
        self._launch_step(ex, step)

    def update_step(
        self,
        ex: Execution,
        step: ExecStep,
        status: str | None,
        servers: list[dict[str, str]] | None,
        wait_minutes: int | None,
    ) -> None:
        if status is None and servers is None and wait_minutes is None:
            raise errors.invalid("Nothing to update: give status, servers or waitDurationMinutes")
        if status is not None and status != "SKIPPED":
            raise errors.invalid("Only SKIPPED is accepted as a new status", "status")
        if ex.status in ("COMPLETED", "CANCELLED", "CANCELLING"):
            raise errors.conflict(f"Execution is {ex.status}", ex.arn, "RECOVERY_PLAN_EXECUTION")
        if servers is not None or wait_minutes is not None:
            if step.status != "NOT_STARTED":
                raise errors.conflict(
                    f"Step is {step.status}; only a NOT_STARTED step can be changed", step.arn
                )
            if servers is not None:
                if step.kind != "SERVER":
                    raise errors.invalid("servers can only be set on a SERVER step", "servers")
                step.servers = [
                    ExecServer(
                        s["serverArn"], s["serverArn"].rsplit("/", 1)[-1], s.get("impactLevel", "CRITICAL")
                    )
                    for s in servers
                ]
            if wait_minutes is not None:
                if step.kind != "WAIT":
                    raise errors.invalid(
                        "waitDurationMinutes can only be set on a WAIT step", "waitDurationMinutes"
                    )
                step.wait_minutes = wait_minutes
            step.updated_ts = self.w.now
        if status == "SKIPPED":
            if step.status not in ("NOT_STARTED", "FAILED", "TIMED_OUT"):
                raise errors.conflict(f"A {step.status} step cannot be skipped", step.arn)
            blocking = step.status in ("FAILED", "TIMED_OUT")
            if blocking and ex.status == "FAILED":
                self._check_resumable(ex)
            step.status = "SKIPPED"
            step.generation += 1
            step.updated_ts = self.w.now
            if blocking and ex.status == "FAILED":
                ex.status = "IN_PROGRESS"  # skipping the failed step resumes at the following one
                ex.error = None
                ex.completed_ts = None
                self._run_next(ex)

    def _check_resumable(self, ex: Execution) -> None:
        """A FAILED execution is terminal, so its plan may have started another since; resuming this one
        (a retry, or skipping its failed step) would make two non-terminal executions of one plan."""
        if any(
            other is not ex and other.plan_arn == ex.plan_arn and other.status in ACTIVE_EXECUTION
            for other in self.executions.values()
        ):
            raise errors.conflict(
                "Another execution of this recovery plan is in progress", ex.plan_arn, "RECOVERY_PLAN"
            )

    def delete_execution(self, ex: Execution) -> None:
        if ex.status not in TERMINAL_EXECUTION:
            raise errors.conflict(f"Execution is {ex.status}; only a finished one can be deleted", ex.arn)
        del self.executions[ex.arn]
        for step in ex.steps:
            self.exec_steps.pop(step.arn, None)

    def plan_has_active_execution(self, plan: Plan) -> bool:
        return any(e.plan_arn == plan.arn and e.status in ACTIVE_EXECUTION for e in self.executions.values())

    def tags_target(self, arn: str) -> dict[str, Any] | None:
        """The tag map of a plan or execution with this ARN (for the tag operations)."""
        if arn in self.plans:
            return self.plans[arn].tags
        if arn in self.executions:
            return self.executions[arn].tags
        return None
