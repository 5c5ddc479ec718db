"""The progress view says "held" only while the run waits for the operator, never after it ended."""

from __future__ import annotations

from drs_desktop.domain.engine.events import Cancel, Outcome
from drs_desktop.domain.views.progress import ProgressTracker

from .conftest import Shipped
from .helpers import chain, sid


def test_a_wave_is_held_while_the_run_waits_and_not_once_it_has_ended(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.act()
    h.launch_chunk("1.1", fail=[sid(1)])
    held = ProgressTracker().update(h.state, h.now, force=True)
    assert held is not None
    assert held.waves[0].held and held.waves[0].detail == "held: a critical server failed"

    h.record(Cancel(at=h.now, by="op"))
    h.run()
    assert h.state.finished is Outcome.FAILED
    ended = ProgressTracker().update(h.state, h.now, force=True)
    assert ended is not None and ended.finished
    assert not ended.waves[0].held
    assert ended.waves[0].detail.startswith("a critical server failed; ended: ")
    assert ended.waves[0].final == "FAILED", "the wave says how it ended, not the phase it stopped in"
