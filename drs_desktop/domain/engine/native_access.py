"""Reaching a run in DRS's part of the execution state (``engine.native``), shared by its modules."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from drs_desktop.domain.engine.native_state import NativeRunState
from drs_desktop.domain.engine.state import ExecutionState


def is_native(state: ExecutionState) -> bool:
    return state.native is not None


def native_of(state: ExecutionState) -> NativeRunState:
    assert state.native is not None, "not a run in DRS"
    return state.native


def native_held(state: ExecutionState) -> bool:
    """DRS failed a step and waits for a retry or a skip: the run is held for the operator."""
    return state.native is not None and state.native.status == "FAILED" and state.stop is None


def with_native(state: ExecutionState, **changes: Any) -> ExecutionState:
    return replace(state, native=replace(native_of(state), **changes))
