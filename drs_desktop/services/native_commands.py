"""The runner's calls for a run in DRS (``engine.native``): start the execution, read it, send controls.

``ExecutionRunner`` hands the engine's native commands here with its own journal, read pacing and clock,
so each call follows the runner contract: the intent is journaled before a write, its answer right after,
and a read that fails becomes the ``Throttled`` / ``PollFailed`` the engine paces itself by.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from drs_desktop.aws.native_plans import NativeExecutionView
from drs_desktop.aws.native_runs import NativeExecutionStepView, NativeRunsGateway
from drs_desktop.domain.drs.errors import DrsAuthError, DrsError, DrsNotFound
from drs_desktop.domain.engine.commands import FindNative, PollNative, SendNativeControl, StartNative
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.native_events import (
    NativeControlFailed,
    NativeControlSent,
    NativeLooked,
    NativeObserved,
    NativeServerSeen,
    NativeStarted,
    NativeStartFailed,
    NativeStartRequested,
    NativeStepSeen,
)
from drs_desktop.domain.engine.native_state import CANCEL, RETRY, SKIP

logger = logging.getLogger(__name__)

#: The runner's read: the call's answer, or None once a failure was journaled.
Reader = Callable[[str, Callable[[], Any]], Any]


class NativeCommands:
    """Executes ``StartNative``, ``PollNative`` and ``SendNativeControl`` for one runner."""

    def __init__(
        self,
        gateway: Callable[[], NativeRunsGateway],
        record: Callable[[Event], None],
        read: Reader,
        clock: Callable[[], datetime],
        on_auth: Callable[[DrsAuthError], None],
    ) -> None:
        self._gateway = gateway
        self._record = record
        self._read = read
        self._clock = clock
        self._on_auth = on_auth

    def start(self, command: StartNative) -> None:
        self._record(NativeStartRequested(at=self._clock()))
        try:
            execution = self._gateway().start_execution(
                command.plan_arn, command.mode, command.client_token, tags=command.tags
            )
        except DrsError as error:
            # Refused for good (a plan already running, a plan DRS finds invalid): nothing started. Anything
            # else (a lost answer, throttling, credentials) is sent again later with the same token.
            final = error.definite and not error.transient and not isinstance(error, DrsAuthError)
            self._record(
                NativeStartFailed(
                    reason=_reason(error),
                    definite=final,
                    retry_after=error.retry_after,
                    at=self._clock(),
                )
            )
            if isinstance(error, DrsAuthError):
                self._on_auth(error)
            return
        except Exception:  # a bug of ours after the call went out: the token makes the resend safe
            logger.exception("StartRecoveryPlanExecution ended unexpectedly")
            self._record(NativeStartFailed(reason="unexpected error", definite=False, at=self._clock()))
            return
        self._record(NativeStarted(execution_arn=execution.arn, at=self._clock()))

    def find(self, command: FindNative) -> None:
        gateway = self._gateway()
        found = self._read(
            "ListRecoveryPlanExecutions",
            lambda: gateway.find_execution(command.plan_arn, command.tag, command.since) or False,
        )
        if found is None:
            return
        arn = found.arn if found else ""
        logger.info("look for this run's execution of %s: %s", command.plan_arn, arn or "none")
        self._record(NativeLooked(execution_arn=arn, at=self._clock()))

    def poll(self, command: PollNative) -> None:
        gateway = self._gateway()
        gone = False

        def get() -> NativeExecutionView | None:
            nonlocal gone
            try:
                return gateway.get_execution(command.execution_arn)
            except DrsNotFound:  # deleted in DRS, or DRS's records lagging: the engine tells which
                gone = True
                return None

        execution = self._read("GetRecoveryPlanExecution", get)
        if gone:
            self._record(NativeObserved(status="", steps=(), gone=True, at=self._clock()))
            return
        if execution is None:
            return
        steps = self._read(
            "ListRecoveryPlanExecutionSteps", lambda: gateway.list_execution_steps(command.execution_arn)
        )
        if steps is None:
            return
        self._record(
            NativeObserved(
                status=execution.status,
                steps=tuple(step_seen(s) for s in steps),
                error=execution.error,
                started_at=execution.started_at,
                completed_at=execution.completed_at,
                at=self._clock(),
            )
        )

    def control(self, command: SendNativeControl) -> None:
        gateway = self._gateway()
        try:
            if command.kind == RETRY:
                gateway.retry_step(command.step_arn)
            elif command.kind == SKIP:
                gateway.skip_step(command.step_arn)
            elif command.kind == CANCEL:
                gateway.cancel_execution(command.execution_arn)
            else:
                raise ValueError(f"unknown control {command.kind!r}")
        except DrsError as error:
            self._record(
                NativeControlFailed(
                    kind=command.kind,
                    step_index=command.step_index,
                    reason=_reason(error),
                    definite=error.definite and not error.transient and not isinstance(error, DrsAuthError),
                    at=self._clock(),
                )
            )
            if isinstance(error, DrsAuthError):
                self._on_auth(error)
            return
        self._record(NativeControlSent(kind=command.kind, step_index=command.step_index, at=self._clock()))


def step_seen(step: NativeExecutionStepView) -> NativeStepSeen:
    """A step as the engine journals it: its servers by source server ID, with their jobs."""
    return NativeStepSeen(
        index=step.index,
        arn=step.arn,
        name=step.name,
        kind=step.kind,
        status=step.status,
        servers=tuple(
            NativeServerSeen(server_id=s.source_server_id, impact=s.impact, job_id=s.job_id)
            for s in step.servers
        ),
        wait_minutes=step.wait_minutes,
        error=step.error,
        error_code=step.error_code,
        updated_at=step.updated_at,
    )


def _reason(error: DrsError) -> str:
    text = str(error).strip()
    code = error.code or type(error).__name__
    return f"{code}: {text}" if text and text != code else code
