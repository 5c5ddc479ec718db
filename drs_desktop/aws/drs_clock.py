"""DRS's own time, read from the ``Date`` header of its answers and carried forward on a monotonic clock.

No decision of the engine may depend on the desktop's wall clock agreeing with DRS: a laptop 10 minutes
ahead once made a resume filter DescribeJobs from a time after the job it was looking for, and launch the
servers again. So the runner's clock is this one: every answer DRS sends (errors and throttles included)
anchors it to DRS's time; between answers it moves on the monotonic clock, which a change of the wall
clock does not move. A laptop that sleeps stops the monotonic clock on Linux, so the estimate falls behind
until the next answer re-anchors it forward; it never runs ahead of DRS by more than an answer's latency
(the header is whole seconds, so the estimate keeps the later of the two).

Before any answer the clock falls back to the desktop's wall clock (``anchored`` is False): callers that
journal an intent make a read first (``ExecutionRunner`` does).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

logger = logging.getLogger(__name__)

WallClock = Callable[[], datetime]
Monotonic = Callable[[], float]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def parse_http_date(value: object) -> datetime | None:
    """An HTTP ``Date`` header (IMF-fixdate) as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class DrsClock:
    """``now()`` is DRS's time as last answered plus the monotonic time since. Thread-safe."""

    def __init__(self, *, wall: WallClock = _utc_now, monotonic: Monotonic = time.monotonic) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._anchor: tuple[datetime, float] | None = None
        self._skew: timedelta | None = None

    @property
    def anchored(self) -> bool:
        """Whether DRS has answered at least once (before that, ``now`` is the desktop's clock)."""
        with self._lock:
            return self._anchor is not None

    def observe(self, drs_time: datetime) -> None:
        """An answer's ``Date``: move the clock to it when it is later than the estimate."""
        tick = self._monotonic()
        wall = self._wall()
        with self._lock:
            self._skew = wall - drs_time
            if self._anchor is None or drs_time > self._estimate(tick):
                self._anchor = (drs_time, tick)

    def now(self) -> datetime:
        tick = self._monotonic()
        with self._lock:
            if self._anchor is None:
                return self._wall()
            return self._estimate(tick)

    def skew(self) -> timedelta | None:
        """Desktop clock minus DRS's at the last answer (positive: the desktop is ahead); None before any."""
        with self._lock:
            return self._skew

    def _estimate(self, tick: float) -> datetime:
        assert self._anchor is not None
        at, anchored_tick = self._anchor
        return at + timedelta(seconds=max(0.0, tick - anchored_tick))
