"""Operator controls are checked before they are journaled, and ignored by apply when they do not fit."""

from __future__ import annotations

from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    Cancel,
    Pause,
    Resume,
    RetryFailed,
    SkipWave,
    StepPhase,
)
from drs_desktop.domain.engine.queries import execution_status
from drs_desktop.domain.engine.reducer import control_error
from drs_desktop.domain.engine.state import ExecutionStatus
from drs_desktop.domain.plan.model import ApprovalStep

from .conftest import Shipped
from .helpers import T0, sids, spec, wave
from .shipped_run import ShippedRun


def gated(shipped: Shipped) -> ShippedRun:
    """w1, then w2 behind an approval."""
    return shipped(
        spec(
            wave("w1", sids(1, 1)),
            wave("w2", sids(2, 1), depends_on=("w1",), before=(ApprovalStep(message="go?"),)),
        )
    )


def test_pause_and_resume_are_checked(shipped: Shipped) -> None:
    h = gated(shipped)
    assert control_error(h.state, Resume(at=T0)) == "not paused"
    h.record(Pause(at=T0, by="a"))
    assert control_error(h.state, Pause(at=T0)) == "already paused"
    h.record(Pause(at=T0, by="b"))  # ignored
    assert [a.by for a in h.state.audit] == ["a"]


def test_approvals_need_a_name_and_the_right_step(shipped: Shipped) -> None:
    h = gated(shipped)
    early = ApprovalGranted(wave_index=1, phase=StepPhase.BEFORE, step_index=0, by="carol", at=T0)
    assert control_error(h.state, early) == "wave 'w2' is not waiting for this approval"
    h.act()
    h.launch_chunk("1.1")
    anonymous = ApprovalGranted(wave_index=1, phase=StepPhase.BEFORE, step_index=0, by=" ", at=T0)
    assert control_error(h.state, anonymous) == "an approval decision needs the name of who made it"
    assert control_error(h.state, early) is None
    assert control_error(
        h.state, ApprovalGranted(wave_index=7, phase=StepPhase.BEFORE, step_index=0, by="c", at=T0)
    ) == ("there is no wave 8")


def test_skip_and_retry_are_checked(shipped: Shipped) -> None:
    h = gated(shipped)
    assert control_error(h.state, RetryFailed(wave_index=0, at=T0)) == "wave 'w1' has no failed server"
    h.act()
    h.launch_chunk("1.1")
    assert control_error(h.state, SkipWave(wave_index=0, at=T0)) == "wave 'w1' is completed"
    h.record(SkipWave(wave_index=1, at=T0))
    assert control_error(h.state, RetryFailed(wave_index=1, at=T0)) == "wave 'w2' was skipped"


def test_once_stopping_only_a_cleanup_upgrade_is_accepted(shipped: Shipped) -> None:
    h = gated(shipped)
    h.act()
    h.record(Cancel(at=T0, by="op"))
    assert execution_status(h.state) is ExecutionStatus.CANCELLING
    assert control_error(h.state, Cancel(at=T0)) == "the execution is already stopping"
    assert control_error(h.state, Pause(at=T0)) == "the execution is stopping"
    upgrade = Cancel(at=T0, by="op", terminate_drill_instances=True)
    assert control_error(h.state, upgrade) is None
    h.record(upgrade)
    assert h.state.cleanup_requested
    assert control_error(h.state, upgrade) == "the execution is already stopping"
