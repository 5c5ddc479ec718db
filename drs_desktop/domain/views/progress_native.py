"""What the progress view shows of a run in DRS: the native execution and each of its steps, as DRS last
showed them, and the operator's controls on their way to DRS.

A run in DRS (``engine.native``) shows its waves and servers like any run (the servers' jobs are the
steps' jobs, adopted); what it adds is DRS's own account: the execution's ARN and status, each native step
in DRS's order (server steps and wait steps) with its status and DRS's error message, and where an
operator's retry, skip or cancel stands. A control is journaled, then sent, then seen in a reading: until
that reading the view says so ("waiting to be sent to DRS", "sent to DRS: waiting for DRS's next
reading"), so the view never shows the effect of a control DRS has not shown yet. Pure, stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from drs_desktop.domain.engine.controls import AvailableControls
from drs_desktop.domain.engine.native_state import (
    CANCEL,
    NativeControl,
    NativeRunState,
)
from drs_desktop.domain.engine.state import ExecutionState

__all__ = ["NativeStepRow", "NativeView", "native_controls", "native_view"]

#: A step DRS has not listed yet (before the first reading, or the run was never started).
NOT_READ = "NOT LISTED"


@dataclass(frozen=True)
class NativeStepRow:
    """One native step, in DRS's order: ``index`` is DRS's stepIndex (from 1)."""

    index: int
    name: str
    kind: str  # SERVER | WAIT
    wave_name: str
    status: str  # DRS's step status; NOT LISTED until a reading lists it (never a word DRS did not say)
    servers: int = 0
    wait_minutes: int | None = None
    error: str = ""
    updated_at: datetime | None = None

    @property
    def what(self) -> str:
        """The step in words: ``3 servers`` or ``wait 5 min``."""
        if self.kind == "WAIT":
            return f"wait {self.wait_minutes} min" if self.wait_minutes is not None else "wait"
        return f"{self.servers} server{'s' * (self.servers != 1)}"


@dataclass(frozen=True)
class NativeView:
    """The run in DRS as the live and history views show it."""

    plan_arn: str
    native_name: str
    execution_arn: str  # "" until DRS answered the start
    status: str  # DRS's execution status; "" before the first reading
    steps: tuple[NativeStepRow, ...]
    error: str = ""
    observed_at: datetime | None = None
    start_refused: str = ""
    attached: bool = False  # this desktop follows an execution started elsewhere
    #: The operator's controls on their way to DRS, each in words ("retry of wave 'App': sent to DRS…").
    pending: tuple[str, ...] = ()
    #: Waves whose step has a retry or skip on its way to DRS (queued, or sent and not read since).
    in_flight_waves: tuple[int, ...] = ()

    @property
    def status_text(self) -> str:
        """DRS's status in words: ``IN_PROGRESS``, or what stands in for it before DRS answered."""
        if self.start_refused:
            return f"not started: {self.start_refused}"
        if not self.execution_arn:
            return "starting in DRS"
        return self.status or "started: waiting for DRS's first reading"


def native_view(state: ExecutionState) -> NativeView | None:
    """The view of a run in DRS (None for a run here)."""
    spec, native = state.spec.native, state.native
    if spec is None:
        return None
    native = native or NativeRunState()
    waves = state.spec.waves
    rows: list[NativeStepRow] = []
    for step in sorted(spec.steps, key=lambda s: s.index):
        seen = native.step(step.index)
        wave = waves[step.wave_index].name if 0 <= step.wave_index < len(waves) else ""
        servers = len(seen.servers) if seen is not None and seen.servers else 0
        if not servers and step.kind == "SERVER" and 0 <= step.wave_index < len(waves):
            servers = len(waves[step.wave_index].server_ids)
        rows.append(
            NativeStepRow(
                index=step.index,
                name=seen.name if seen is not None and seen.name else step.name,
                kind=step.kind,
                wave_name=wave,
                status=seen.status if seen is not None else NOT_READ,
                servers=servers,
                wait_minutes=seen.wait_minutes
                if seen is not None and seen.wait_minutes
                else step.wait_minutes,
                error=seen.error if seen is not None else "",
                updated_at=seen.updated_at if seen is not None else None,
            )
        )
    execution_arn = native.execution_arn or spec.execution_arn
    flights = _in_flight(state, native, rows)
    names = {step.index: step for step in spec.steps}
    return NativeView(
        plan_arn=spec.plan_arn,
        native_name=spec.native_name,
        execution_arn=execution_arn,
        status=native.status,
        steps=tuple(rows),
        error=native.error,
        observed_at=native.observed_at,
        start_refused=native.start_refused,
        attached=bool(spec.execution_arn),
        pending=tuple(text for text, _ in flights),
        in_flight_waves=tuple(sorted({names[i].wave_index for _, i in flights if i in names})),
    )


def _in_flight(
    state: ExecutionState, native: NativeRunState, rows: list[NativeStepRow]
) -> list[tuple[str, int]]:
    """The controls on their way to DRS (``native.pending``: queued, or sent and not read since), each in
    words, with its step (0: the execution)."""
    names = {row.index: row for row in rows}
    return [(f"{_what(c, names)}: {_queued(c)}", c.step_index) for c in native.pending]


def native_controls(controls: AvailableControls, view: NativeView | None) -> AvailableControls:
    """The controls a run in DRS offers: none that DRS's executions lack (pause, resume, approvals: the
    engine refuses them too), and no second retry or skip of a step while one is on its way to DRS: until
    DRS is read again the step still shows FAILED, and a second call would be refused by DRS or act twice."""
    if view is None:
        return controls
    busy = set(view.in_flight_waves)
    return replace(
        controls,
        pause=False,
        resume=False,
        approvals=(),
        retry_waves=tuple(i for i in controls.retry_waves if i not in busy),
        skip_waves=tuple(i for i in controls.skip_waves if i not in busy),
    )


def _queued(control: NativeControl) -> str:
    if control.sent_at is not None:
        return "sent to DRS, waiting for DRS's next reading"
    if control.unknown_at is not None:
        return "DRS's answer was lost: reading DRS again before it is sent again"
    return "waiting to be sent to DRS"


def _what(control: NativeControl, rows: dict[int, NativeStepRow]) -> str:
    if control.kind == CANCEL:
        return "cancel of the execution"
    row = rows.get(control.step_index)
    where = f"wave {row.wave_name!r} (step {control.step_index})" if row else f"step {control.step_index}"
    return f"{control.kind} of {where}"
