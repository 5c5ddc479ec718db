"""What a run in DRS adds to an execution's spec and state (``engine.native`` says how it moves).

A run in DRS runs a native recovery plan published from (or imported into) the local plan: DRS starts
each step's job, the desktop follows. ``NativeRunSpec`` fixes, when the run starts, the native plan, the
client token of the start, and where each native step stands in the local plan (``NativeStepMap``), so
that the execution's waves, chunks and servers show the native execution as they show a local run.
``NativeRunState`` is the last reading of the execution and the operator's controls on their way to DRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.engine.native_events import NativeStepSeen

#: Execution statuses after which DRS does nothing more by itself. FAILED is not the end of a run: the
#: failed step may be retried or skipped (the run is held, as a local run is after a critical failure).
NATIVE_DONE = ("COMPLETED", "CANCELLED")
NATIVE_ACTIVE = ("CREATED", "IN_PROGRESS", "CANCELLING")
#: Step statuses that hold a FAILED execution for the operator (retry or skip).
STEP_FAILED = ("FAILED", "TIMED_OUT")

RETRY = "retry"
SKIP = "skip"
CANCEL = "cancel"


@dataclass(frozen=True, kw_only=True)
class NativeStepMap:
    """Where native step ``index`` (DRS's stepIndex, from 1) stands in the local plan: a SERVER step is a
    wave's launch; a WAIT step is the ``step_index``-th step of that wave's ``phase`` steps (BEFORE or
    AFTER)."""

    index: int
    name: str
    kind: str  # SERVER | WAIT
    wave_index: int
    phase: str = ""  # WAIT: "BEFORE" | "AFTER"
    step_index: int = 0
    wait_minutes: int | None = None


@dataclass(frozen=True, kw_only=True)
class NativeRunSpec:
    """The native plan this run runs in DRS. ``execution_arn``: set when the desktop attached to an
    execution started elsewhere (none is started then); ``client_token``: StartRecoveryPlanExecution's."""

    plan_arn: str
    client_token: str
    steps: tuple[NativeStepMap, ...]
    account_id: str = ""
    region: str = ""
    execution_arn: str = ""
    native_name: str = ""

    def step(self, index: int) -> NativeStepMap | None:
        return next((s for s in self.steps if s.index == index), None)

    def server_step(self, wave_index: int) -> NativeStepMap | None:
        return next((s for s in self.steps if s.kind == "SERVER" and s.wave_index == wave_index), None)


@dataclass(frozen=True, kw_only=True)
class NativeControl:
    """An operator's control on its way to DRS, or sent and not yet seen in a reading. ``unknown_at``: the
    last call's answer was lost then; the execution is read again (a reading newer than that) before it is
    sent again."""

    kind: str  # retry | skip | cancel
    step_index: int  # 0 for cancel
    requested_at: datetime
    by: str = ""
    sent: int = 0
    unknown_at: datetime | None = None
    #: DRS accepted it then: it stays (refusing the same control again, never sent again) until a reading
    #: newer than that shows what it did.
    sent_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class NativeRunState:
    """The execution in DRS as last read, and what the desktop asked of it."""

    execution_arn: str = ""
    start_requested_at: datetime | None = None
    start_attempts: int = 0
    start_not_before: datetime | None = None
    start_refused: str = ""  # DRS refused the start: nothing started
    #: The last start's outcome is unknown: DRS's executions are looked at before it is sent again.
    look_due: bool = False
    status: str = ""  # DRS's execution status ("" before the first reading)
    error: str = ""
    steps: tuple[NativeStepSeen, ...] = ()
    observed_at: datetime | None = None
    quiet_reads: int = 0  # readings in a row that saw nothing change (the reading pace slows)
    changed_at: datetime | None = None
    started_at: datetime | None = None  # DRS's startedAt
    completed_at: datetime | None = None
    pending: tuple[NativeControl, ...] = ()
    #: A reading was journaled after the run was stopped (a cancel ends a FAILED execution here only
    #: once DRS was read again: someone may have retried it meanwhile).
    read_after_stop: bool = False
    #: Readings in a row that DRS answered "not found", and whether the run concluded the execution is
    #: gone (deleted in DRS: it is read no more).
    missing_reads: int = 0
    gone: bool = False
    #: Where DRS's steps differ from the run's map, each noted once: (step index, server ID) for a server
    #: a SERVER step has that its wave does not (or the reverse); (step index, "") for a step of another kind.
    drift: tuple[tuple[int, str], ...] = ()

    @property
    def done(self) -> bool:
        return self.status in NATIVE_DONE

    def step(self, index: int) -> NativeStepSeen | None:
        return next((s for s in self.steps if s.index == index), None)
