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

from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.engine.native_state import CANCEL, NativeControl, NativeRunState
from drs_desktop.domain.engine.state import ExecutionState

__all__ = ["NativeStepRow", "NativeView", "native_view"]

#: A step DRS has not listed yet (before the first reading, or the run was never started).
NOT_READ = "NOT_STARTED"
_SENT = ("retry sent", "skip sent", "cancel sent")


@dataclass(frozen=True)
class NativeStepRow:
    """One native step, in DRS's order: ``index`` is DRS's stepIndex (from 1)."""

    index: int
    name: str
    kind: str  # SERVER | WAIT
    wave_name: str
    status: str  # DRS's step status; NOT_STARTED until a reading lists it
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
        pending=_pending(state, native, rows),
    )


def _pending(state: ExecutionState, native: NativeRunState, rows: list[NativeStepRow]) -> tuple[str, ...]:
    """Controls not sent yet (``native.pending``), then those sent since DRS was last read."""
    names = {row.index: row for row in rows}
    texts = [f"{_what(c, names)}: {_queued(c)}" for c in native.pending]
    for entry in state.audit:
        if entry.action not in _SENT:
            continue
        if native.observed_at is not None and entry.at < native.observed_at:
            continue  # a reading came after it: DRS's statuses show what it did
        # Journaled after the reading at the same instant, or later: DRS has not been read since.
        kind = entry.action.removesuffix(" sent")
        texts.append(f"{_sent_what(kind, entry.detail, names)}: sent to DRS, waiting for DRS's next reading")
    return tuple(texts)


def _queued(control: NativeControl) -> str:
    if control.unknown_at is not None:
        return "DRS's answer was lost: reading DRS again before it is sent again"
    return "waiting to be sent to DRS"


def _what(control: NativeControl, rows: dict[int, NativeStepRow]) -> str:
    if control.kind == CANCEL:
        return "cancel of the execution"
    row = rows.get(control.step_index)
    where = f"wave {row.wave_name!r} (step {control.step_index})" if row else f"step {control.step_index}"
    return f"{control.kind} of {where}"


def _sent_what(kind: str, detail: str, rows: dict[int, NativeStepRow]) -> str:
    if kind == CANCEL:
        return "cancel of the execution"
    number = detail.removeprefix("step ")
    if number.isdigit():
        row = rows.get(int(number))
        if row is not None:
            return f"{kind} of wave {row.wave_name!r} (step {row.index})"
    return f"{kind} of {detail}"
