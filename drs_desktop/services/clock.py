"""The application's one clock: every time the GUI stamps or shows is read from it.

A run's times are DRS's (``aws.drs_clock``); in demo mode DRS is the embedded simulator, whose virtual
clock runs ``DEMO_TIME_SCALE`` times faster than the wall clock. A plan saved, an inventory fetched, an
approval, a cleanup or a report stamped with the desktop's wall clock beside such a run would end before
the run began. So the composition root builds one ``AppClock`` and hands ``AppClock.now`` to everything
that stamps a time (the runner, the plan library, the history's cleanups and reports, the run dialog,
any pane that shows an age), and ``AppClock`` itself, as their ``DrsClock``, to every gateway.

Against AWS it *is* a ``DrsClock``: DRS's time, anchored by every answer's ``Date`` and carried forward
on the monotonic clock (the desktop's wall clock until DRS has answered). Following a simulator
(``follow_simulator``), ``now`` is the simulator's virtual time, the answers anchor a second
``DrsClock`` of the simulator's own (so a switch back to AWS finds AWS's clock untouched by virtual
times), and ``pace`` turns a virtual wait into the real seconds it lasts. The switch is the
composition root's, asked for first (``domain.targets.target_switch``); it refuses one while a run is
driven, so one run never mixes two clocks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from drs_desktop.aws.drs_clock import DrsClock, Monotonic, WallClock

logger = logging.getLogger(__name__)

__all__ = ["STILL_CLOCK_POLL", "AppClock"]

#: Real seconds a wait lasts at most while the simulator's clock is paused or manual.
STILL_CLOCK_POLL = 0.5


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Simulated:
    now: Callable[[], datetime]
    scale: Callable[[], float | None]  # virtual seconds per real second now; None or 0: it moves when told
    drs: DrsClock  # the answers' Date headers while the simulator is the target


class AppClock(DrsClock):
    """DRS's time (``DrsClock``) against AWS, a simulator's virtual time in demo mode. Thread-safe."""

    def __init__(self, *, wall: WallClock = _utc_now, monotonic: Monotonic = time.monotonic) -> None:
        super().__init__(wall=wall, monotonic=monotonic)
        self._mode_lock = threading.Lock()
        self._simulated: _Simulated | None = None

    # -- the mode (the composition root's)

    def follow_simulator(self, now: Callable[[], datetime], scale: Callable[[], float | None]) -> None:
        """From now on the time is ``now`` (a simulator's virtual clock), running ``scale()`` times faster
        than real time (asked at each wait: the simulator's control API may change it)."""
        with self._mode_lock:
            self._simulated = _Simulated(now, scale, DrsClock(wall=now))
        logger.info("the application's clock follows the simulator's (scale %s)", scale())

    def follow_drs(self) -> None:
        """Back to DRS's time (AWS)."""
        with self._mode_lock:
            self._simulated = None
        logger.info("the application's clock follows DRS's")

    @property
    def simulated(self) -> bool:
        with self._mode_lock:
            return self._simulated is not None

    def pace(self, seconds: float) -> float:
        """Real seconds for a wait of ``seconds`` on this clock (the runner's ``Pace``)."""
        simulated = self._current()
        if simulated is None:
            return seconds
        scale = simulated.scale()
        if not scale:  # paused or manual: look again soon, someone moves it
            return min(seconds, STILL_CLOCK_POLL)
        return seconds / scale

    # -- DrsClock

    def now(self) -> datetime:
        simulated = self._current()
        return simulated.now() if simulated is not None else super().now()

    def observe(self, drs_time: datetime) -> None:
        simulated = self._current()
        if simulated is not None:
            simulated.drs.observe(drs_time)
        else:
            super().observe(drs_time)

    @property
    def anchored(self) -> bool:
        simulated = self._current()
        return simulated.drs.anchored if simulated is not None else super().anchored

    def skew(self) -> timedelta | None:
        simulated = self._current()
        return simulated.drs.skew() if simulated is not None else super().skew()

    def _current(self) -> _Simulated | None:
        with self._mode_lock:
            return self._simulated
