"""``NativePlansGateway``: DRS's native recovery plan operations, typed (drs_native_recovery_plans.txt).

It rides on a ``DrsGateway`` (its target, clients, error mapping and DRS's clock: ``DrsGateway.call``),
so a failure is the same ``DrsError`` family as every other DRS call: ``DrsThrottled``, ``DrsConflict``,
``DrsNotFound``, ``DrsAccessDenied``, ``DrsRejected`` (validation), ``DrsOutcomeUnknown`` for a write whose
answer was lost. Reads get botocore's retries; writes go out once (the ``write`` client), because only
two of them take an idempotency token (CreateRecoveryPlan, CreateRecoveryPlanStep): the publisher
(``services.native_plans``) reads the plan back before sending anything again.

A native plan's tags carry the local plan it was published from (``drs-desktop:plan``) and the revision
(``drs-desktop:revision``): DRS lists no tags, so ``get_plan`` reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.drs_parse import parse_timestamp
from drs_desktop.domain.drs.errors import DrsOutcomeUnknown, DrsRejected, DrsUnavailable
from drs_desktop.domain.native.steps import NativeStep, NativeStepKind

logger = logging.getLogger(__name__)

#: Tags a published native plan carries: the local plan's ID and the revision published.
PLAN_TAG = "drs-desktop:plan"
REVISION_TAG = "drs-desktop:revision"
#: The model's limit on clientToken (``ClientIdempotencyToken``: 0..64 characters).
MAX_CLIENT_TOKEN = 64


@dataclass(frozen=True)
class NativePlanView:
    """A native plan as DRS describes it; ``tags`` and ``description`` only from GetRecoveryPlan."""

    arn: str
    name: str
    status: str  # ACTIVE | INVALID
    description: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NativeStepView:
    """One step of a native plan: its ARN, DRS's order (1-based), the step, and the item as DRS gave it."""

    arn: str
    order: int
    step: NativeStep
    item: Mapping[str, Any]


@dataclass(frozen=True)
class NativeExecutionView:
    arn: str
    plan_arn: str
    mode: str  # DRILL | RECOVERY
    status: str  # CREATED | IN_PROGRESS | COMPLETED | FAILED | CANCELLING | CANCELLED
    started_at: datetime | None
    completed_at: datetime | None = None
    error: str = ""


def step_configuration(step: NativeStep, server_arns: Mapping[str, str]) -> dict[str, Any]:
    """The ``configuration`` CreateRecoveryPlanStep and UpdateRecoveryPlanStep take.

    DRS names a server by its ARN, which holds the account and partition a ``NativeServer`` does not know:
    ``server_arns`` maps each source server ID to its ARN (DescribeSourceServers). ``DrsRejected`` names
    a server it lacks.
    """
    if step.kind is NativeStepKind.WAIT:
        return {"waitStepConfiguration": {"waitDurationMinutes": int(step.wait_minutes or 0)}}
    servers = []
    for server in step.servers:
        arn = server_arns.get(server.source_server_id)
        if not arn:
            raise DrsRejected(
                f"source server {server.source_server_id} of step {step.name!r} is not in this account and "
                "Region",
                code="ClientValidation",
                operation="CreateRecoveryPlanStep",
            )
        servers.append({"serverArn": arn, "impactLevel": server.impact})
    return {"serverStepConfiguration": {"servers": servers}}


class NativePlansGateway:
    """The native recovery plan API of one DRS target (one account and Region)."""

    def __init__(self, drs: DrsGateway, *, page_size: int | None = None) -> None:
        self.drs = drs
        self._page_size = page_size

    # -- plumbing ----------------------------------------------------------------------------------

    def _pages(self, operation: str, method: str, key: str, params: Mapping[str, Any]) -> list[Any]:
        """Every item under ``key`` of every page."""

        def run(client: Any) -> list[Any]:
            config = {"PageSize": self._page_size} if self._page_size else {}
            pages = client.get_paginator(method).paginate(**params, PaginationConfig=config)
            return [item for page in pages for item in page.get(key, []) or [] if isinstance(item, Mapping)]

        items: list[Any] = self.drs.call(operation, "read", run)
        logger.debug("%s: %d item(s)", operation, len(items))
        return items

    def _write(self, operation: str, method: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        response: Mapping[str, Any] = self.drs.call(
            operation, "write", lambda client: getattr(client, method)(**params)
        )
        return response

    # -- plans -------------------------------------------------------------------------------------

    def list_plans(self) -> list[NativePlanView]:
        """ListRecoveryPlans, every page (summaries: no tags, no description)."""
        items = self._pages("ListRecoveryPlans", "list_recovery_plans", "recoveryPlans", {})
        return [_plan(item, "ListRecoveryPlans") for item in items]

    def get_plan(self, plan_arn: str) -> NativePlanView:
        """GetRecoveryPlan, with tags and description; ``DrsNotFound`` when it is gone."""
        response = self.drs.call(
            "GetRecoveryPlan", "read", lambda c: c.get_recovery_plan(recoveryPlanArn=plan_arn)
        )
        return _plan(response.get("recoveryPlan"), "GetRecoveryPlan")

    def create_plan(
        self, name: str, description: str, *, tags: Mapping[str, str], client_token: str
    ) -> NativePlanView:
        """CreateRecoveryPlan with ``client_token``: sent again with the same token after a lost answer,
        DRS answers with the plan it created the first time instead of a second one."""
        params: dict[str, Any] = {
            "name": name,
            "description": description[:1024],
            "tags": {str(k): str(v) for k, v in tags.items()},
            "clientToken": _token(client_token),
        }
        response = self._write("CreateRecoveryPlan", "create_recovery_plan", params)
        plan = _answered(response, "recoveryPlan", "CreateRecoveryPlan", _plan)
        logger.info("CreateRecoveryPlan: %s", plan.arn)
        return plan

    def update_plan(self, plan_arn: str, *, name: str, description: str) -> NativePlanView:
        params = {"recoveryPlanArn": plan_arn, "name": name, "description": description[:1024]}
        response = self._write("UpdateRecoveryPlan", "update_recovery_plan", params)
        return _answered(response, "recoveryPlan", "UpdateRecoveryPlan", _plan)

    def tag_plan(self, plan_arn: str, tags: Mapping[str, str]) -> None:
        """TagResource: set ``tags`` on the native plan (others it has stay). Setting a tag twice is
        harmless, so a resend after a lost answer needs no token."""
        params = {"resourceArn": plan_arn, "tags": {str(k): str(v) for k, v in tags.items()}}
        self._write("TagResource", "tag_resource", params)

    # -- steps -------------------------------------------------------------------------------------

    def list_steps(self, plan_arn: str) -> list[NativeStepView]:
        """The plan's steps in DRS's order. An item that is not a step (``NativeStep.from_wire`` refuses
        it) is an error, not a skipped step: a publish must never act on a partial picture."""
        items = self._pages(
            "ListRecoveryPlanSteps",
            "list_recovery_plan_steps",
            "recoveryPlanSteps",
            {"recoveryPlanArn": plan_arn},
        )
        steps = [_step(item, "ListRecoveryPlanSteps") for item in items]
        return sorted(steps, key=lambda s: s.order)

    def create_step(
        self,
        plan_arn: str,
        step: NativeStep,
        *,
        order: int,
        server_arns: Mapping[str, str],
        client_token: str,
    ) -> NativeStepView:
        params = {
            "recoveryPlanArn": plan_arn,
            "stepName": step.name,
            "stepOrder": order,
            "configuration": step_configuration(step, server_arns),
            "clientToken": _token(client_token),
        }
        response = self._write("CreateRecoveryPlanStep", "create_recovery_plan_step", params)
        return _answered(response, "recoveryPlanStep", "CreateRecoveryPlanStep", _step)

    def update_step(
        self, step_arn: str, step: NativeStep, *, server_arns: Mapping[str, str]
    ) -> NativeStepView:
        params = {
            "recoveryPlanStepArn": step_arn,
            "stepName": step.name,
            "configuration": step_configuration(step, server_arns),
        }
        response = self._write("UpdateRecoveryPlanStep", "update_recovery_plan_step", params)
        return _answered(response, "recoveryPlanStep", "UpdateRecoveryPlanStep", _step)

    def delete_step(self, step_arn: str) -> None:
        self._write("DeleteRecoveryPlanStep", "delete_recovery_plan_step", {"recoveryPlanStepArn": step_arn})

    def reorder_steps(self, plan_arn: str, ordered_step_arns: Sequence[str]) -> None:
        params = {"recoveryPlanArn": plan_arn, "orderedStepArns": list(ordered_step_arns)}
        self._write("ReorderRecoveryPlanSteps", "reorder_recovery_plan_steps", params)

    # -- executions (read only in this slice) -------------------------------------------------------

    def list_executions(self, plan_arn: str) -> list[NativeExecutionView]:
        """The plan's executions, latest first."""
        items = self._pages(
            "ListRecoveryPlanExecutions",
            "list_recovery_plan_executions",
            "recoveryPlanExecutions",
            {"recoveryPlanArn": plan_arn},
        )
        executions = [_execution(item, "ListRecoveryPlanExecutions") for item in items]
        return sorted(
            executions, key=lambda e: e.started_at.timestamp() if e.started_at else 0.0, reverse=True
        )

    def get_execution(self, execution_arn: str) -> NativeExecutionView:
        response = self.drs.call(
            "GetRecoveryPlanExecution",
            "read",
            lambda c: c.get_recovery_plan_execution(recoveryPlanExecutionArn=execution_arn),
        )
        return _execution(response.get("recoveryPlanExecution"), "GetRecoveryPlanExecution")


def _token(token: str) -> str:
    if not token or len(token) > MAX_CLIENT_TOKEN:
        raise ValueError(f"a client token is 1 to {MAX_CLIENT_TOKEN} characters, not {len(token)}")
    return token


def _answered(response: Mapping[str, Any], key: str, operation: str, parse: Any) -> Any:
    """The object of a write's answer. DRS accepted the call, so an unreadable answer leaves its outcome
    unknown (the caller reads the plan back) rather than saying it failed."""
    try:
        return parse(response[key], operation)
    except (KeyError, TypeError, DrsUnavailable) as exc:
        raise DrsOutcomeUnknown(
            f"DRS accepted {operation} but its answer could not be read; read the plan back",
            code="MalformedResponse",
            operation=operation,
        ) from exc


def _malformed(operation: str, what: str) -> DrsUnavailable:
    return DrsUnavailable(
        f"DRS answered {operation} with {what}", code="MalformedResponse", operation=operation
    )


def _plan(item: Any, operation: str) -> NativePlanView:
    if not isinstance(item, Mapping) or not item.get("recoveryPlanArn"):
        raise _malformed(operation, "a recovery plan without its ARN")
    tags = item.get("tags") or {}
    return NativePlanView(
        arn=str(item["recoveryPlanArn"]),
        name=str(item.get("name") or ""),
        status=str(item.get("status") or ""),
        description=str(item.get("description") or ""),
        created_at=parse_timestamp(item.get("createdAt")),
        updated_at=parse_timestamp(item.get("updatedAt")),
        tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {},
    )


def _step(item: Any, operation: str) -> NativeStepView:
    if not isinstance(item, Mapping) or not item.get("recoveryPlanStepArn"):
        raise _malformed(operation, "a recovery plan step without its ARN")
    try:
        step = NativeStep.from_wire(item)
        order = int(item.get("stepOrder") or 0)
    except (ValueError, TypeError) as exc:
        raise _malformed(operation, f"a step that cannot be read ({exc})") from exc
    return NativeStepView(arn=str(item["recoveryPlanStepArn"]), order=order, step=step, item=dict(item))


def _execution(item: Any, operation: str) -> NativeExecutionView:
    if not isinstance(item, Mapping) or not item.get("recoveryPlanExecutionArn"):
        raise _malformed(operation, "an execution without its ARN")
    error = item.get("errorDetail") or {}
    return NativeExecutionView(
        arn=str(item["recoveryPlanExecutionArn"]),
        plan_arn=str(item.get("recoveryPlanArn") or ""),
        mode=str(item.get("mode") or ""),
        status=str(item.get("status") or ""),
        started_at=parse_timestamp(item.get("startedAt")),
        completed_at=parse_timestamp(item.get("completedAt")),
        error=str(error.get("message") or "") if isinstance(error, Mapping) else "",
    )
