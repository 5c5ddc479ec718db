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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from botocore import xform_name

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.drs_parse import parse_timestamp
from drs_desktop.domain.drs.errors import DrsOutcomeUnknown, DrsRejected, DrsUnavailable
from drs_desktop.domain.native.steps import NativeStep, NativeStepKind

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

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
    tags: Mapping[str, str] = field(default_factory=dict)  # from GetRecoveryPlanExecution only


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

    def _pages(self, operation: str, params: Mapping[str, Any], parse: Callable[[Any, str], _T]) -> list[_T]:
        """Every item of every page of a List operation, each read by ``parse`` (an item it cannot read
        fails the call). boto3's method is the operation's snake_case name, and the items stand under
        its name without "List", lower camel case ("ListRecoveryPlans": ``recoveryPlans``)."""
        method, key = xform_name(operation), operation[4].lower() + operation[5:]

        def run(client: Any) -> list[Any]:
            config = {"PageSize": self._page_size} if self._page_size else {}
            pages = client.get_paginator(method).paginate(**params, PaginationConfig=config)
            return [item for page in pages for item in page.get(key, []) or [] if isinstance(item, Mapping)]

        items: list[Any] = self.drs.call(operation, "read", run)
        logger.debug("%s: %d item(s)", operation, len(items))
        return [parse(item, operation) for item in items]

    def _write(self, operation: str, method: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        response: Mapping[str, Any] = self.drs.call(
            operation, "write", lambda client: getattr(client, method)(**params)
        )
        return response

    # -- plans -------------------------------------------------------------------------------------

    def list_plans(self) -> list[NativePlanView]:
        """ListRecoveryPlans, every page (summaries: no tags, no description)."""
        return self._pages("ListRecoveryPlans", {}, _plan)

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
        steps = self._pages("ListRecoveryPlanSteps", {"recoveryPlanArn": plan_arn}, _step)
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
        executions = self._pages("ListRecoveryPlanExecutions", {"recoveryPlanArn": plan_arn}, _execution)
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


def _checked(item: Any, arn_key: str, operation: str, what: str) -> Mapping[str, Any]:
    """The item, once it is a mapping with its ARN: nothing of DRS's is read without it."""
    if not isinstance(item, Mapping) or not item.get(arn_key):
        raise _malformed(operation, f"{what} without its ARN")
    return item


def _fields(
    item: Any,
    operation: str,
    what: str,
    arn_key: str,
    texts: Mapping[str, str],
    times: Mapping[str, str],
) -> dict[str, Any]:
    """A view's fields read the one way every item is read: the ARN (required), texts (a missing one
    is ""), moments (a missing one is None); ``texts`` and ``times`` map a field to DRS's key."""
    checked = _checked(item, arn_key, operation, what)
    fields: dict[str, Any] = {"arn": str(checked[arn_key])}
    fields.update({name: str(checked.get(key) or "") for name, key in texts.items()})
    fields.update({name: parse_timestamp(checked.get(key)) for name, key in times.items()})
    return fields


def _mapping(item: Any, key: str) -> Mapping[str, Any]:
    value = item.get(key) or {}
    return value if isinstance(value, Mapping) else {}


#: A view's text fields and moments, each field to DRS's key, for ``_fields``.
_PLAN_TEXTS = {"name": "name", "status": "status", "description": "description"}
_PLAN_TIMES = {"created_at": "createdAt", "updated_at": "updatedAt"}
_EXECUTION_TEXTS = {"plan_arn": "recoveryPlanArn", "mode": "mode", "status": "status"}
_EXECUTION_TIMES = {"started_at": "startedAt", "completed_at": "completedAt"}


def _plan(item: Any, operation: str) -> NativePlanView:
    fields = _fields(item, operation, "a recovery plan", "recoveryPlanArn", _PLAN_TEXTS, _PLAN_TIMES)
    tags = {str(k): str(v) for k, v in _mapping(item, "tags").items()}
    return NativePlanView(**fields, tags=tags)


def _step(item: Any, operation: str) -> NativeStepView:
    checked = _checked(item, "recoveryPlanStepArn", operation, "a recovery plan step")
    try:
        step = NativeStep.from_wire(checked)
        order = int(checked.get("stepOrder") or 0)
    except (ValueError, TypeError) as exc:
        raise _malformed(operation, f"a step that cannot be read ({exc})") from exc
    return NativeStepView(arn=str(checked["recoveryPlanStepArn"]), order=order, step=step, item=dict(checked))


def _execution(item: Any, operation: str) -> NativeExecutionView:
    what, key = "an execution", "recoveryPlanExecutionArn"
    fields = _fields(item, operation, what, key, _EXECUTION_TEXTS, _EXECUTION_TIMES)
    return NativeExecutionView(**fields, error=str(_mapping(item, "errorDetail").get("message") or ""))
