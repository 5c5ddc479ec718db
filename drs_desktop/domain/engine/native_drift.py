"""Where DRS no longer matches what a run in DRS follows (``engine.native``): an execution DRS deleted, and
steps whose servers or kind differ from the run's map (the console may change a step not yet started).
Both are said, never guessed over. Pure, stdlib only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.native_events import NativeStepSeen
from drs_desktop.domain.engine.native_state import NativeRunState
from drs_desktop.domain.engine.observe import abandon
from drs_desktop.domain.engine.state import ChunkStatus, ExecutionState, ServerStatus, StopRequest

#: "Not found" answers in a row, for an execution read before, after which it is taken as deleted in DRS
#: (one may be DRS's listing lagging behind; DRS deletes only an execution that is over).
GONE_AFTER_READS = 3


def _native(state: ExecutionState) -> NativeRunState:
    assert state.native is not None, "not a run in DRS"
    return state.native


def _with(state: ExecutionState, **changes: Any) -> ExecutionState:
    return replace(state, native=replace(_native(state), **changes))


def not_found(state: ExecutionState, at: datetime) -> ExecutionState:
    """DRS answered that the execution does not exist. Once it was read before and the answer holds for
    ``GONE_AFTER_READS`` readings, it was deleted in DRS (which deletes only an execution that is over):
    the run stops reading it and ends, FAILED, once its jobs have ended (its end in DRS was never read)."""
    native = _native(state)
    missing = native.missing_reads + 1
    state = _with(state, missing_reads=missing, observed_at=at, quiet_reads=native.quiet_reads + 1)
    if missing < GONE_AFTER_READS or not native.status:
        return state
    why = "the execution was deleted in DRS before this desktop read its end"
    state = _with(state, gone=True, error=why, pending=())
    if state.stop is None:
        state = replace(
            state, stop=StopRequest(at=at, by="DRS", outcome=Outcome.FAILED, reason="deleted in DRS")
        )
    waiting = [c for c in state.chunks.values() if c.status in (ChunkStatus.PLANNED, ChunkStatus.QUEUED)]
    state = abandon(state, waiting, ServerStatus.CANCELLED, f"not started: {why}")
    return state.noting("deleted in DRS", at, "DRS", why)


#: The audit action of a difference between DRS's steps and the run's map.
NOT_FOLLOWED = "not followed"


def note_drift(state: ExecutionState, steps: Iterable[NativeStepSeen], at: datetime) -> ExecutionState:
    """DRS's steps as the run's map has them, or a note, once each, of where they differ (the console may
    change a step's servers mid-run): a server DRS launches that no wave here has is not shown and never
    cleaned up from here; a wave's server that is not in its step is not launched by DRS."""
    spec = state.spec.native
    assert spec is not None
    noted = set(_native(state).drift)
    for step in steps:
        where = spec.step(step.index)
        if where is None or where.kind != step.kind:
            if (step.index, "") not in noted:
                noted.add((step.index, ""))
                expected = f"a {where.kind} step" if where is not None else "no step"
                state = state.noting(
                    NOT_FOLLOWED,
                    at,
                    "DRS",
                    f"step {step.index} ({step.name}) is a {step.kind} step where the "
                    f"run has {expected}: what it launches is not followed here",
                )
            continue
        if where.kind != "SERVER":
            continue
        listed = {s.server_id for s in step.servers}
        wave = {s.server_id for s in state.wave_servers(where.wave_index)}
        strangers = sorted(s for s in listed - wave if (step.index, s) not in noted)
        left_out = sorted(s for s in wave - listed if (step.index, s) not in noted)
        if strangers:
            state = state.noting(
                NOT_FOLLOWED,
                at,
                "DRS",
                f"step {step.index} ({step.name}) launches {', '.join(strangers)}, not in "
                f"wave {state.waves[where.wave_index].name!r}: not shown, nor cleaned up, here",
            )
        if left_out:
            state = state.noting(
                NOT_FOLLOWED,
                at,
                "DRS",
                f"step {step.index} ({step.name}) no longer has {', '.join(left_out)} of "
                f"wave {state.waves[where.wave_index].name!r}: DRS does not launch them",
            )
        noted.update((step.index, s) for s in (*strangers, *left_out))
    drift = tuple(sorted(noted))
    return state if drift == _native(state).drift else _with(state, drift=drift)
