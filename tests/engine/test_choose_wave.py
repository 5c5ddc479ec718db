"""``choose_wave`` and ``control_event``: the one way the CLI and the GUI turn an operator's control
(with the wave typed as a number, a name, or left out) into the event the runner checks and journals."""

from __future__ import annotations

import pytest

from drs_desktop.domain.engine.controls import (
    ControlAction,
    ControlRequest,
    WaveChoiceError,
    choose_wave,
    control_event,
)
from drs_desktop.domain.engine.events import ApprovalGranted, SkipWave, StepPhase
from drs_desktop.domain.plan.model import ApprovalStep

from .conftest import Shipped
from .helpers import T0, sid, sids, spec, wave
from .shipped_run import ShippedRun


def side_by_side(shipped: Shipped) -> ShippedRun:
    """Two independent waves: both start at once, so both can fail."""
    return shipped(spec(wave("web", sids(1, 1)), wave("db", sids(2, 1))))


def test_a_wave_is_named_by_its_number_or_its_name(shipped: Shipped) -> None:
    h = side_by_side(shipped)
    assert choose_wave(h.state, ControlAction.SKIP, "2") == 1
    assert choose_wave(h.state, ControlAction.SKIP, "web") == 0
    for wrong in ("3", "0", "Web", "-1"):
        with pytest.raises(WaveChoiceError, match=f"no wave {wrong!r} in this execution") as caught:
            choose_wave(h.state, ControlAction.SKIP, wrong)
        assert caught.value.choices == ()


def test_no_wave_named_means_the_only_one_the_control_applies_to(shipped: Shipped) -> None:
    h = side_by_side(shipped)
    with pytest.raises(
        WaveChoiceError, match=r"^no wave has failed servers or a step waiting for a decision$"
    ):
        choose_wave(h.state, ControlAction.RETRY, None)
    with pytest.raises(WaveChoiceError, match=r"^no wave has failed servers$"):
        choose_wave(h.state, ControlAction.SKIP, None)
    h.act()
    h.launch_chunk("1.1", fail=[sid(1)])
    assert choose_wave(h.state, ControlAction.RETRY, None) == 0
    h.launch_chunk("2.1", fail=[sid(2)])
    with pytest.raises(WaveChoiceError) as caught:
        choose_wave(h.state, ControlAction.SKIP, None)
    assert str(caught.value) == "several waves have failed servers (1 'web', 2 'db')"
    assert caught.value.choices == (0, 1)
    event = control_event(
        ControlRequest(ControlAction.SKIP, wave_index=1, comment="db later"), h.state, at=T0, by="al"
    )
    assert event == SkipWave(wave_index=1, at=T0, by="al", reason="db later")


def test_an_approval_goes_to_the_wave_at_its_gate(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("w1", sids(1, 1)),
            wave("w2", sids(2, 1), depends_on=("w1",), before=(ApprovalStep(message="go?"),)),
        )
    )
    with pytest.raises(WaveChoiceError, match=r"^no wave waits for an approval$"):
        choose_wave(h.state, ControlAction.APPROVE, None)
    h.act()
    h.launch_chunk("1.1")
    index = choose_wave(h.state, ControlAction.APPROVE, None)
    assert index == 1
    request = ControlRequest(ControlAction.APPROVE, wave_index=index, comment="ok by phone")
    assert control_event(request, h.state, at=T0, by="carol") == ApprovalGranted(
        wave_index=1, phase=StepPhase.BEFORE, step_index=0, by="carol", at=T0, comment="ok by phone"
    )
    with pytest.raises(ValueError, match="wave 1 is not waiting for an approval"):
        control_event(ControlRequest(ControlAction.REJECT, wave_index=0), h.state, at=T0, by="carol")
