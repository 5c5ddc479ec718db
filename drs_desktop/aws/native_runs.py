"""``NativeRunsGateway``: running a native DRS recovery plan in DRS, typed (drs_native_recovery_plans.txt).

The plan calls (``NativePlansGateway``) and the execution calls share one gateway object: this class
extends it, so one ``DrsGateway`` (target, clients, error mapping, DRS's clock) serves both and a failure
is the same ``DrsError`` family (a second start while one runs is ``DrsConflict``).

Writes go out once. StartRecoveryPlanExecution is the only execution call that takes an idempotency token:
sent again with the same ``client_token`` after a lost answer (``DrsOutcomeUnknown``), DRS answers with
the execution it started the first time. Retry, skip and cancel take none: the caller reads the execution
step back before sending one again (a retried step shows ``attempt`` + 1, a skipped one SKIPPED).

DRS's executions never terminate what they launched, drill or not: the step views carry each server's
DRS job ID (``jobID`` of ``executionServerStepConfiguration``), through which the desktop finds the
recovery instances to clean up (only those).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drs_desktop.aws.drs_parse import parse_timestamp
from drs_desktop.aws.native_plans import (
    NativeExecutionView,
    NativePlansGateway,
    _answered,
    _malformed,
    _token,
)

logger = logging.getLogger(__name__)

MODES = ("DRILL", "RECOVERY")
#: Step statuses DRS names; a step in one of the last four moves no more unless retried or skipped.
STEP_STATUSES = ("NOT_STARTED", "EXECUTING", "WAITING", "COMPLETED", "FAILED", "TIMED_OUT", "SKIPPED")
EXECUTION_TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")


@dataclass(frozen=True)
class NativeRunServer:
    """One server of an execution's SERVER step: its ARN, impact, and the DRS job that launched it ("" until
    the step starts; a retry gives the servers it relaunches a new one)."""

    server_arn: str
    impact: str  # CRITICAL | OPTIONAL
    job_id: str = ""

    @property
    def source_server_id(self) -> str:
        return self.server_arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class NativeExecutionStepView:
    """One step of a native execution. ``attempt`` is 0 in a listing (DRS gives it only for one step) and
    1 or more from GetRecoveryPlanExecutionStep, Retry and Update."""

    arn: str
    index: int
    name: str
    kind: str  # SERVER | WAIT
    status: str
    attempt: int = 0
    servers: tuple[NativeRunServer, ...] = ()
    wait_minutes: int | None = None
    error: str = ""
    error_code: str = ""
    updated_at: datetime | None = None

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The distinct DRS jobs this step's servers were launched by, in the servers' order."""
        return tuple(dict.fromkeys(s.job_id for s in self.servers if s.job_id))


class NativeRunsGateway(NativePlansGateway):
    """The native plan calls and the native execution calls of one DRS target (one account and Region)."""

    def start_execution(
        self,
        plan_arn: str,
        mode: str,
        client_token: str,
        tags: Mapping[str, str] | None = None,
    ) -> NativeExecutionView:
        """StartRecoveryPlanExecution. The same ``client_token`` sent again returns the execution the first
        call started (never a second one); a plan with an execution still running is ``DrsConflict``."""
        if mode not in MODES:
            raise ValueError(f"an execution's mode is DRILL or RECOVERY, not {mode!r}")
        params: dict[str, Any] = {
            "recoveryPlanArn": plan_arn,
            "mode": mode,
            "clientToken": _token(client_token),
            "tags": {str(k): str(v) for k, v in (tags or {}).items()},
        }
        response = self._write("StartRecoveryPlanExecution", "start_recovery_plan_execution", params)
        execution: NativeExecutionView = _answered(
            response, "recoveryPlanExecution", "StartRecoveryPlanExecution", _checked_execution
        )
        logger.info("StartRecoveryPlanExecution (%s): %s", mode, execution.arn)
        return execution

    def get_execution(self, execution_arn: str) -> NativeExecutionView:
        response = self.drs.call(
            "GetRecoveryPlanExecution",
            "read",
            lambda c: c.get_recovery_plan_execution(recoveryPlanExecutionArn=execution_arn),
        )
        return _checked_execution(response.get("recoveryPlanExecution"), "GetRecoveryPlanExecution")

    def list_execution_steps(self, execution_arn: str) -> list[NativeExecutionStepView]:
        """Every step of the execution (every page), by index. Summaries: no ``attempt``."""
        params = {"recoveryPlanExecutionArn": execution_arn}
        steps = self._pages("ListRecoveryPlanExecutionSteps", params, _execution_step)
        return sorted(steps, key=lambda s: s.index)

    def get_execution_step(self, step_arn: str) -> NativeExecutionStepView:
        """GetRecoveryPlanExecutionStep: the step with its attempt and each server's job ID."""
        response = self.drs.call(
            "GetRecoveryPlanExecutionStep",
            "read",
            lambda c: c.get_recovery_plan_execution_step(recoveryPlanExecutionStepArn=step_arn),
        )
        return _execution_step(response.get("recoveryPlanExecutionStep"), "GetRecoveryPlanExecutionStep")

    def retry_step(self, step_arn: str) -> NativeExecutionStepView:
        """RetryRecoveryPlanExecutionStep: a failed SERVER step runs again (a new attempt, a new job for the
        servers that did not launch). No token: read the step back before resending."""
        params = {"recoveryPlanExecutionStepArn": step_arn}
        response = self._write("RetryRecoveryPlanExecutionStep", "retry_recovery_plan_execution_step", params)
        return _answered(
            response, "recoveryPlanExecutionStep", "RetryRecoveryPlanExecutionStep", _execution_step
        )

    def skip_step(self, step_arn: str) -> NativeExecutionStepView:
        """UpdateRecoveryPlanExecutionStep to SKIPPED: a NOT_STARTED step is passed over; a FAILED one lets
        the held execution go on. Skipping twice is harmless, so it needs no token."""
        params = {"recoveryPlanExecutionStepArn": step_arn, "status": "SKIPPED"}
        response = self._write(
            "UpdateRecoveryPlanExecutionStep", "update_recovery_plan_execution_step", params
        )
        return _answered(
            response, "recoveryPlanExecutionStep", "UpdateRecoveryPlanExecutionStep", _execution_step
        )

    def set_wait(self, step_arn: str, minutes: int) -> NativeExecutionStepView:
        """UpdateRecoveryPlanExecutionStep: a NOT_STARTED WAIT step's duration (1 to 120 minutes)."""
        if not 1 <= minutes <= 120:
            raise ValueError(f"a wait is 1 to 120 minutes, not {minutes}")
        params = {"recoveryPlanExecutionStepArn": step_arn, "waitDurationMinutes": int(minutes)}
        response = self._write(
            "UpdateRecoveryPlanExecutionStep", "update_recovery_plan_execution_step", params
        )
        return _answered(
            response, "recoveryPlanExecutionStep", "UpdateRecoveryPlanExecutionStep", _execution_step
        )

    def find_execution(
        self, plan_arn: str, tag: tuple[str, str], since: datetime
    ) -> NativeExecutionView | None:
        """The execution of ``plan_arn`` started at or after ``since`` that carries ``tag`` (key, value),
        or None. The listing has no tags: each candidate is read with GetRecoveryPlanExecution."""
        key, value = tag
        for summary in self.list_executions(plan_arn):
            if summary.started_at is not None and summary.started_at < since:
                continue
            execution = self.get_execution(summary.arn)
            if execution.tags.get(key) == value:
                return execution
        return None

    def cancel_execution(self, execution_arn: str) -> NativeExecutionView:
        """CancelRecoveryPlanExecution: the remaining steps are skipped; a step whose job is running lets
        it finish (CANCELLING, then CANCELLED)."""
        params = {"recoveryPlanExecutionArn": execution_arn}
        response = self._write("CancelRecoveryPlanExecution", "cancel_recovery_plan_execution", params)
        execution: NativeExecutionView = _answered(
            response, "recoveryPlanExecution", "CancelRecoveryPlanExecution", _checked_execution
        )
        logger.info("CancelRecoveryPlanExecution: %s is %s", execution.arn, execution.status)
        return execution


def _required(item: Mapping[str, Any], key: str, operation: str, what: str) -> Any:
    value = item.get(key)
    if value is None or value == "":
        raise _malformed(operation, f"{what} without {key}")
    return value


def _int_field(item: Mapping[str, Any], key: str, operation: str, what: str, *, minimum: int) -> int:
    value = _required(item, key, operation, what)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _malformed(operation, f"{what} whose {key} is {value!r}, not a whole number >= {minimum}")
    return value


def _checked_execution(item: Any, operation: str) -> NativeExecutionView:
    """An execution, once it has what the model requires (its plan, mode, status)."""
    what = "an execution"
    if not isinstance(item, Mapping) or not item.get("recoveryPlanExecutionArn"):
        raise _malformed(operation, f"{what} without recoveryPlanExecutionArn")
    for key in ("recoveryPlanArn", "status"):
        _required(item, key, operation, what)
    mode = _required(item, "mode", operation, what)
    if mode not in MODES:
        raise _malformed(operation, f"{what} whose mode is {mode!r}")
    error = item.get("errorDetail")
    tags = item.get("tags")
    return NativeExecutionView(
        tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {},
        arn=str(item["recoveryPlanExecutionArn"]),
        plan_arn=str(item["recoveryPlanArn"]),
        mode=str(mode),
        status=str(item["status"]),
        started_at=parse_timestamp(item.get("startedAt")),
        completed_at=parse_timestamp(item.get("completedAt")),
        error=str(error.get("message") or "") if isinstance(error, Mapping) else "",
    )


def _execution_step(item: Any, operation: str) -> NativeExecutionStepView:
    what = "an execution step"
    if not isinstance(item, Mapping) or not item.get("recoveryPlanExecutionStepArn"):
        raise _malformed(operation, f"{what} without recoveryPlanExecutionStepArn")
    index = _int_field(item, "stepIndex", operation, what, minimum=1)
    status = str(_required(item, "status", operation, what))
    if status not in STEP_STATUSES:
        raise _malformed(operation, f"{what} whose status is {status!r}")
    attempt = _int_field(item, "attempt", operation, what, minimum=1) if "attempt" in item else 0
    config = _required(item, "configuration", operation, what)
    if not isinstance(config, Mapping):
        raise _malformed(operation, f"{what} whose configuration is not a structure")
    servers: tuple[NativeRunServer, ...] = ()
    wait: int | None = None
    if isinstance(config.get("executionServerStepConfiguration"), Mapping):
        kind = "SERVER"
        listed = config["executionServerStepConfiguration"].get("servers")
        if not isinstance(listed, list):
            raise _malformed(operation, f"{what} whose executionServerStepConfiguration has no servers list")
        servers = tuple(_run_server(s, operation) for s in listed)
    elif isinstance(config.get("waitStepConfiguration"), Mapping):
        kind = "WAIT"
        wait = _int_field(config["waitStepConfiguration"], "waitDurationMinutes", operation, what, minimum=1)
    else:
        raise _malformed(
            operation, f"{what} with neither executionServerStepConfiguration nor waitStepConfiguration"
        )
    error = item.get("errorDetail")
    error = error if isinstance(error, Mapping) else {}
    return NativeExecutionStepView(
        arn=str(item["recoveryPlanExecutionStepArn"]),
        index=index,
        name=str(item.get("stepName") or ""),
        kind=kind,
        status=status,
        attempt=attempt,
        servers=servers,
        wait_minutes=wait,
        error=str(error.get("message") or ""),
        error_code=str(error.get("code") or ""),
        updated_at=parse_timestamp(item.get("updatedAt")),
    )


def _run_server(item: Any, operation: str) -> NativeRunServer:
    what = "an execution step's server"
    if not isinstance(item, Mapping):
        raise _malformed(operation, f"{what} that is not a structure")
    return NativeRunServer(
        server_arn=str(_required(item, "serverArn", operation, what)),
        impact=str(item.get("impactLevel") or "CRITICAL"),
        job_id=str(item.get("jobID") or ""),
    )
