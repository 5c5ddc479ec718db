"""The progress view says "held" only while the run waits for the operator, never after it ended."""

from __future__ import annotations

from drs_desktop.domain.execution_events import Cancel, LaunchStatus, Outcome
from drs_desktop.domain.progress_view import ProgressTracker

from .fake_drs import Harness
from .helpers import chain, sid


def test_a_wave_is_held_while_the_run_waits_and_not_once_it_has_ended() -> None:
    h = Harness(chain(2))
    h.step()
    job = h.job_of_chunk("1.1")
    h.drs.set_status(job, sid(1), LaunchStatus.FAILED, h.now)
    h.drs.launch_all(job)
    h.poll()
    held = ProgressTracker().update(h.state, h.now, force=True)
    assert held is not None
    assert held.waves[0].held and held.waves[0].detail == "held: a critical server failed"

    h.record(Cancel(at=h.now, by="op"))
    h.run()
    assert h.state.finished is Outcome.FAILED
    ended = ProgressTracker().update(h.state, h.now, force=True)
    assert ended is not None and ended.finished
    assert not ended.waves[0].held
    assert ended.waves[0].detail == "a critical server failed"
