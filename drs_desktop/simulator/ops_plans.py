"""Handlers of the native Recovery Plan operations (drs_native_recovery_plans.txt) and their views."""

from __future__ import annotations

import logging
from typing import Any

from drs_desktop.simulator import errors
from drs_desktop.simulator.fleet import pit_snapshots
from drs_desktop.simulator.native_plans import ExecStep, Execution, Plan, PlanEngine, PlanStep
from drs_desktop.simulator.ops_core import Handler, page
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)


class PlanOperations:
    def __init__(self, world: World, engine: PlanEngine) -> None:
        self.w = world
        self.e = engine

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateRecoveryPlan": self.create_plan,
            "GetRecoveryPlan": self.get_plan,
            "ListRecoveryPlans": self.list_plans,
            "UpdateRecoveryPlan": self.update_plan,
            "DeleteRecoveryPlan": self.delete_plan,
            "CreateRecoveryPlanStep": self.create_step,
            "GetRecoveryPlanStep": self.get_step,
            "ListRecoveryPlanSteps": self.list_steps,
            "UpdateRecoveryPlanStep": self.update_step,
            "DeleteRecoveryPlanStep": self.delete_step,
            "ReorderRecoveryPlanSteps": self.reorder_steps,
            "StartRecoveryPlanExecution": self.start_execution,
            "GetRecoveryPlanExecution": self.get_execution,
            "ListRecoveryPlanExecutions": self.list_executions,
            "CancelRecoveryPlanExecution": self.cancel_execution,
            "DeleteRecoveryPlanExecution": self.delete_execution,
            "ListRecoveryPlanExecutionSteps": self.list_execution_steps,
            "GetRecoveryPlanExecutionStep": self.get_execution_step,
            "UpdateRecoveryPlanExecutionStep": self.update_execution_step,
            "RetryRecoveryPlanExecutionStep": self.retry_execution_step,
        }

    # -- lookups ---------------------------------------------------------------------------------

    def _plan(self, arn: str) -> Plan:
        plan = self.e.plans.get(arn)
        if plan is None:
            raise errors.not_found(arn, "RECOVERY_PLAN", f"Recovery plan {arn} not found")
        return plan

    def _step(self, arn: str) -> PlanStep:
        step = self.e.steps.get(arn)
        if step is None:
            raise errors.not_found(arn, "RECOVERY_PLAN_STEP", f"Recovery plan step {arn} not found")
        return step

    def _execution(self, arn: str) -> Execution:
        ex = self.e.executions.get(arn)
        if ex is None:
            raise errors.not_found(arn, "RECOVERY_PLAN_EXECUTION", f"Recovery plan execution {arn} not found")
        return ex

    def _exec_step(self, arn: str) -> tuple[Execution, ExecStep]:
        found = self.e.exec_steps.get(arn)
        if found is None:
            raise errors.not_found(arn, "RECOVERY_PLAN_EXECUTION_STEP", f"Execution step {arn} not found")
        return found

    def _idempotent(self, operation: str, params: dict[str, Any]) -> str | None:
        token = params.get("clientToken")
        return self.e.client_tokens.get((operation, token)) if token else None

    def _remember(self, operation: str, params: dict[str, Any], arn: str) -> None:
        if params.get("clientToken"):
            self.e.client_tokens[(operation, params["clientToken"])] = arn

    # -- plans -----------------------------------------------------------------------------------

    def create_plan(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        seen = self._idempotent("CreateRecoveryPlan", params)
        if seen in self.e.plans:
            return {"recoveryPlan": self._plan_view(self.e.plans[seen])}
        self._unique_name(params["name"])
        if len(self.e.plans) >= w.quotas.max_recovery_plans:
            raise errors.quota_exceeded(
                errors.QUOTA_RECOVERY_PLANS,
                f"At most {w.quotas.max_recovery_plans} recovery plans",
                "RECOVERY_PLAN",
            )
        tags = dict(params.get("tags") or {})
        if len(tags) > w.quotas.max_tags_per_resource:
            raise errors.invalid(f"At most {w.quotas.max_tags_per_resource} tags per resource", "tags")
        plan_id = w.ids.prefixed("rp-")
        plan = Plan(
            plan_id,
            w.arns.recovery_plan(plan_id),
            params["name"],
            params.get("description"),
            w.now,
            w.now,
            tags,
        )
        self.e.plans[plan.arn] = plan
        self._remember("CreateRecoveryPlan", params, plan.arn)
        return {"recoveryPlan": self._plan_view(plan)}

    def _unique_name(self, name: str, ignore: Plan | None = None) -> None:
        if any(p.name == name and p is not ignore for p in self.e.plans.values()):
            raise errors.conflict(f"A recovery plan named {name!r} already exists", name, "RECOVERY_PLAN")

    def get_plan(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"recoveryPlan": self._plan_view(self._plan(params["recoveryPlanArn"]))}

    def list_plans(self, params: dict[str, Any]) -> dict[str, Any]:
        items, token = page(self.w, "ListRecoveryPlans", list(self.e.plans.values()), params)
        summaries = [
            {k: v for k, v in self._plan_view(p).items() if k not in ("description", "tags")} for p in items
        ]
        return _out("recoveryPlans", summaries, token)

    def update_plan(self, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(params["recoveryPlanArn"])
        if "name" in params:
            self._unique_name(params["name"], ignore=plan)
            plan.name = params["name"]
        if "description" in params:
            plan.description = params["description"]
        plan.updated_ts = self.w.now
        return {"recoveryPlan": self._plan_view(plan)}

    def delete_plan(self, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(params["recoveryPlanArn"])
        if self.e.plan_has_active_execution(plan):
            raise errors.conflict("The plan has an execution in progress", plan.arn, "RECOVERY_PLAN")
        del self.e.plans[plan.arn]
        for step in plan.steps:
            self.e.steps.pop(step.arn, None)
        return {"recoveryPlanArn": plan.arn}

    # -- plan steps ------------------------------------------------------------------------------

    def _config(
        self, plan: Plan, config: dict[str, Any], ignore: PlanStep | None = None
    ) -> tuple[list[dict[str, str]] | None, int | None]:
        server_cfg = config.get("serverStepConfiguration")
        wait_cfg = config.get("waitStepConfiguration")
        if (server_cfg is None) == (wait_cfg is None):
            raise errors.invalid(
                "Set exactly one of serverStepConfiguration and waitStepConfiguration", "configuration"
            )
        if wait_cfg is not None:
            return None, int(wait_cfg["waitDurationMinutes"])
        assert server_cfg is not None
        servers = [
            {"serverArn": s["serverArn"], "impactLevel": s.get("impactLevel", "CRITICAL")}
            for s in server_cfg["servers"]
        ]
        ids = [self._server_id(s["serverArn"]) for s in servers]
        if len(set(ids)) != len(ids):
            raise errors.invalid(
                "A source server appears twice in the step", "configuration.serverStepConfiguration"
            )
        elsewhere = {
            s["serverArn"].rsplit("/", 1)[-1]
            for st in plan.steps
            if st is not ignore
            for s in st.servers or []
        }
        both = [i for i in ids if i in elsewhere]
        if both:
            raise errors.invalid(
                f"Source server {both[0]} is already in another step of the plan", "configuration"
            )
        return servers, None

    def _server_id(self, arn: str) -> str:
        server_id = arn.rsplit("/", 1)[-1]
        server = self.w.servers.get(server_id)
        if server is None or server.arn != arn:
            raise errors.not_found(arn, "SOURCE_SERVER", f"Source server {arn} not found")
        return server_id

    def create_step(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        seen = self._idempotent("CreateRecoveryPlanStep", params)
        if seen in self.e.steps:
            return {"recoveryPlanStep": self._step_view(self.e.steps[seen])}
        plan = self._plan(params["recoveryPlanArn"])
        if len(plan.steps) >= w.quotas.max_steps_per_plan:
            raise errors.quota_exceeded(
                errors.QUOTA_PLAN_STEPS,
                f"A plan holds at most {w.quotas.max_steps_per_plan} steps",
                "RECOVERY_PLAN_STEP",
            )
        order = params.get("stepOrder", len(plan.steps) + 1)
        if order > len(plan.steps) + 1:
            raise errors.invalid(f"stepOrder must be between 1 and {len(plan.steps) + 1}", "stepOrder")
        if any(s.name == params["stepName"] for s in plan.steps):
            raise errors.conflict(
                f"The plan already has a step named {params['stepName']!r}", params["stepName"]
            )
        servers, wait = self._config(plan, params["configuration"])
        step_id = w.ids.prefixed("rps-")
        step = PlanStep(
            step_id,
            w.arns.recovery_plan_step(plan.plan_id, step_id),
            plan.arn,
            params["stepName"],
            servers,
            wait,
            w.now,
            w.now,
        )
        plan.steps.insert(order - 1, step)
        plan.updated_ts = w.now
        self.e.steps[step.arn] = step
        self._remember("CreateRecoveryPlanStep", params, step.arn)
        return {"recoveryPlanStep": self._step_view(step)}

    def get_step(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"recoveryPlanStep": self._step_view(self._step(params["recoveryPlanStepArn"]))}

    def list_steps(self, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(params["recoveryPlanArn"])
        items, token = page(self.w, "ListRecoveryPlanSteps", plan.steps, params, plan.arn)
        return _out("recoveryPlanSteps", [self._step_view(s) for s in items], token)

    def update_step(self, params: dict[str, Any]) -> dict[str, Any]:
        step = self._step(params["recoveryPlanStepArn"])
        plan = self.e.plans[step.plan_arn]
        if "stepName" in params and params["stepName"] != step.name:
            if any(s.name == params["stepName"] for s in plan.steps):
                raise errors.conflict(
                    f"The plan already has a step named {params['stepName']!r}", params["stepName"]
                )
            step.name = params["stepName"]
        if "configuration" in params:
            servers, wait = self._config(plan, params["configuration"], ignore=step)
            if (servers is None) != (step.servers is None):
                raise errors.invalid("A step's type cannot change", "configuration")
            step.servers, step.wait_minutes = servers, wait
        step.updated_ts = plan.updated_ts = self.w.now
        return {"recoveryPlanStep": self._step_view(step)}

    def delete_step(self, params: dict[str, Any]) -> dict[str, Any]:
        step = self._step(params["recoveryPlanStepArn"])
        plan = self.e.plans[step.plan_arn]
        plan.steps.remove(step)
        plan.updated_ts = self.w.now
        del self.e.steps[step.arn]
        return {"recoveryPlanStepArn": step.arn}

    def reorder_steps(self, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(params["recoveryPlanArn"])
        wanted = list(params["orderedStepArns"])
        current = {s.arn: s for s in plan.steps}
        if len(wanted) != len(current) or set(wanted) != set(current):
            raise errors.invalid(
                "orderedStepArns must list every step of the plan exactly once", "orderedStepArns"
            )
        plan.steps = [current[a] for a in wanted]
        plan.updated_ts = self.w.now
        for s in plan.steps:
            s.updated_ts = self.w.now
        return {"recoveryPlanSteps": [self._step_view(s) for s in plan.steps]}

    # -- executions ------------------------------------------------------------------------------

    def start_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        seen = self._idempotent("StartRecoveryPlanExecution", params)
        if seen in self.e.executions:
            return {"recoveryPlanExecution": self._execution_view(self.e.executions[seen])}
        plan = self._plan(params["recoveryPlanArn"])
        snapshots: dict[str, str] = {}
        planned = {s["serverArn"].rsplit("/", 1)[-1] for st in plan.steps for s in st.servers or []}
        for item in params.get("sourceServers") or []:
            sid, pit = item["sourceServerID"], item["recoverySnapshotID"]
            if sid not in planned:
                raise errors.invalid(f"Source server {sid} is not in the plan", "sourceServers")
            server = w.servers.get(sid)
            if server is None:
                raise errors.not_found(sid, "SOURCE_SERVER", f"Source server {sid} not found")
            if not any(s.snapshot_id == pit for s in pit_snapshots(server, w.now, w.seed)):
                raise errors.not_found(
                    pit, "RECOVERY_SNAPSHOT", f"Recovery snapshot {pit} not found for {sid}"
                )
            snapshots[sid] = pit
        ex = self.e.start(plan, params["mode"], snapshots, dict(params.get("tags") or {}))
        self._remember("StartRecoveryPlanExecution", params, ex.arn)
        return {"recoveryPlanExecution": self._execution_view(ex)}

    def get_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "recoveryPlanExecution": self._execution_view(self._execution(params["recoveryPlanExecutionArn"]))
        }

    def list_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        execs = sorted(self.e.executions.values(), key=lambda e: (e.started_ts, e.seq), reverse=True)
        if params.get("recoveryPlanArn"):
            execs = [e for e in execs if e.plan_arn == params["recoveryPlanArn"]]
        if params.get("status"):
            execs = [e for e in execs if e.status == params["status"]]
        scope = [params.get("recoveryPlanArn"), params.get("status")]
        items, token = page(self.w, "ListRecoveryPlanExecutions", execs, params, scope)
        keys = ("recoveryPlanExecutionArn", "recoveryPlanArn", "mode", "status", "startedAt", "errorDetail")
        views = [{k: v for k, v in self._execution_view(e).items() if k in keys} for e in items]
        return _out("recoveryPlanExecutions", views, token)

    def cancel_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        ex = self._execution(params["recoveryPlanExecutionArn"])
        self.e.cancel(ex)
        return {"recoveryPlanExecution": self._execution_view(ex)}

    def delete_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        ex = self._execution(params["recoveryPlanExecutionArn"])
        self.e.delete_execution(ex)
        return {"recoveryPlanExecutionArn": ex.arn}

    def list_execution_steps(self, params: dict[str, Any]) -> dict[str, Any]:
        ex = self._execution(params["recoveryPlanExecutionArn"])
        steps = ex.steps
        status = (params.get("filter") or {}).get("status")
        if status:
            steps = [s for s in steps if s.status == status]
        items, token = page(self.w, "ListRecoveryPlanExecutionSteps", steps, params, [ex.arn, status])
        keys = (
            "recoveryPlanExecutionStepArn",
            "stepName",
            "stepIndex",
            "status",
            "configuration",
            "errorDetail",
        )
        views = [{k: v for k, v in self._exec_step_view(s).items() if k in keys} for s in items]
        return _out("recoveryPlanExecutionSteps", views, token)

    def get_execution_step(self, params: dict[str, Any]) -> dict[str, Any]:
        _, step = self._exec_step(params["recoveryPlanExecutionStepArn"])
        return {"recoveryPlanExecutionStep": self._exec_step_view(step)}

    def update_execution_step(self, params: dict[str, Any]) -> dict[str, Any]:
        ex, step = self._exec_step(params["recoveryPlanExecutionStepArn"])
        servers = params.get("servers")
        if servers is not None:
            for s in servers:
                self._server_id(s["serverArn"])
        self.e.update_step(ex, step, params.get("status"), servers, params.get("waitDurationMinutes"))
        return {"recoveryPlanExecutionStep": self._exec_step_view(step)}

    def retry_execution_step(self, params: dict[str, Any]) -> dict[str, Any]:
        ex, step = self._exec_step(params["recoveryPlanExecutionStepArn"])
        self.e.retry(ex, step)
        return {"recoveryPlanExecutionStep": self._exec_step_view(step)}

    # -- views -----------------------------------------------------------------------------------

    def _plan_view(self, plan: Plan) -> dict[str, Any]:
        known = all(
            s["serverArn"].rsplit("/", 1)[-1] in self.w.servers for st in plan.steps for s in st.servers or []
        )
        view: dict[str, Any] = {
            "recoveryPlanArn": plan.arn,
            "name": plan.name,
            "status": "ACTIVE" if known else "INVALID",
            "createdAt": self.w.fmt(plan.created_ts),
            "updatedAt": self.w.fmt(plan.updated_ts),
            "tags": dict(plan.tags),
        }
        if plan.description is not None:
            view["description"] = plan.description
        return view

    def _step_view(self, step: PlanStep) -> dict[str, Any]:
        plan = self.e.plans.get(step.plan_arn)
        order = plan.steps.index(step) + 1 if plan is not None and step in plan.steps else 1
        if step.servers is not None:
            config: dict[str, Any] = {"serverStepConfiguration": {"servers": [dict(s) for s in step.servers]}}
        else:
            config = {"waitStepConfiguration": {"waitDurationMinutes": step.wait_minutes}}
        return {
            "recoveryPlanStepArn": step.arn,
            "stepOrder": order,
            "stepName": step.name,
            "configuration": config,
            "createdAt": self.w.fmt(step.created_ts),
            "updatedAt": self.w.fmt(step.updated_ts),
        }

    def _execution_view(self, ex: Execution) -> dict[str, Any]:
        view: dict[str, Any] = {
            "recoveryPlanExecutionArn": ex.arn,
            "recoveryPlanArn": ex.plan_arn,
            "mode": ex.mode,
            "status": ex.status,
            "startedAt": self.w.fmt(ex.started_ts),
            "tags": dict(ex.tags),
        }
        if ex.completed_ts is not None:
            view["completedAt"] = self.w.fmt(ex.completed_ts)
        if ex.error is not None:
            view["errorDetail"] = dict(ex.error)
        return view

    def _exec_step_view(self, step: ExecStep) -> dict[str, Any]:
        if step.kind == "SERVER":
            servers = []
            for s in step.servers:
                item = {"serverArn": s.server_arn, "impactLevel": s.impact}
                if s.job_id is not None:
                    item["jobID"] = s.job_id
                servers.append(item)
            config: dict[str, Any] = {"executionServerStepConfiguration": {"servers": servers}}
        else:
            config = {"waitStepConfiguration": {"waitDurationMinutes": step.wait_minutes}}
        view: dict[str, Any] = {
            "recoveryPlanExecutionStepArn": step.arn,
            "stepIndex": step.index,
            "status": step.status,
            "stepName": step.name,
            "configuration": config,
            "attempt": step.attempt,
            "createdAt": self.w.fmt(step.created_ts),
            "updatedAt": self.w.fmt(step.updated_ts),
        }
        if step.error is not None:
            view["errorDetail"] = dict(step.error)
        return view


def _out(key: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {key: items}
    if token:
        out["nextToken"] = token
    return out
