"""Events of a run in DRS (a native recovery plan execution followed by this desktop; ``engine.native``).

The desktop starts the execution (``NativeStartRequested`` before the call, ``NativeStarted`` or
``NativeStartFailed`` after), or attaches to one already running (``NativeStarted`` first). From then on it
only observes: ``NativeObserved`` is one reading of the execution and its steps, with each server's DRS
job. The operator's retry, skip and cancel go to DRS as calls (``NativeControlSent`` or
``NativeControlFailed``); what they did is known from the next reading, never assumed.

Frozen and JSON-serializable like every event (``engine.events``): add fields with defaults, never
repurpose one. No ``target`` field: a native plan lives in the connected account and Region.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class NativeServerSeen:
    """A server of an execution's SERVER step: its source server ID, impact, and the DRS job that launched
    it ("" until the step starts it; a retry gives the servers it relaunches a new job)."""

    server_id: str
    impact: str = "CRITICAL"
    job_id: str = ""


@dataclass(frozen=True, kw_only=True)
class NativeStepSeen:
    """One step of the execution as DRS listed it (``ListRecoveryPlanExecutionSteps``)."""

    index: int  # DRS's stepIndex, from 1
    arn: str
    name: str
    kind: str  # SERVER | WAIT
    status: str  # NOT_STARTED | EXECUTING | WAITING | COMPLETED | FAILED | TIMED_OUT | SKIPPED
    servers: tuple[NativeServerSeen, ...] = ()
    wait_minutes: int | None = None
    error: str = ""
    error_code: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class NativeStartRequested:
    """Journaled before StartRecoveryPlanExecution is sent (with the run's client token: sending it again
    returns the execution the first call started, never a second one)."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class NativeStarted:
    """DRS answered with this execution (or the operator attached this desktop to it: ``attached``)."""

    execution_arn: str
    at: datetime
    attached: bool = False


@dataclass(frozen=True, kw_only=True)
class NativeStartFailed:
    """StartRecoveryPlanExecution failed. ``definite``: DRS refused it (nothing started; the run ends
    FAILED with ``reason``); otherwise the answer was lost and the same token is sent again later."""

    reason: str
    definite: bool
    at: datetime
    retry_after: float | None = None


@dataclass(frozen=True, kw_only=True)
class NativeLooked:
    """After a start whose outcome is unknown (a lost answer, a crash during the call): the executions of
    the plan DRS lists since the start was asked, read for this run's tag. ``execution_arn``: the one
    found ("" none: the start is sent again with the same token)."""

    execution_arn: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class NativeObserved:
    """GetRecoveryPlanExecution and ListRecoveryPlanExecutionSteps, read together. ``gone``: DRS answered
    that the execution does not exist (ResourceNotFound; ``status`` "" and no steps then)."""

    status: str  # CREATED | IN_PROGRESS | COMPLETED | FAILED | CANCELLING | CANCELLED
    steps: tuple[NativeStepSeen, ...]
    at: datetime
    error: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None
    gone: bool = False


@dataclass(frozen=True, kw_only=True)
class NativeControlSent:
    """DRS accepted an operator's control: ``kind`` is retry or skip (of the step ``step_index``) or cancel
    (``step_index`` 0)."""

    kind: str
    step_index: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class NativeControlFailed:
    """An operator's control did not go through. ``definite``: DRS refused it (``reason``), and it is given
    up; otherwise its answer was lost: the execution is read again before it is sent again, and only if
    the step still wants it."""

    kind: str
    step_index: int
    reason: str
    definite: bool
    at: datetime
