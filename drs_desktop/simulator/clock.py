"""The simulator's virtual clock.

Nothing in the simulated world reads the wall clock: every duration (a conversion, a boot, a wait step)
is measured on this clock, so a test can jump an hour ahead in one call and a demo can run a 20-minute
drill in 20 seconds. The world is advanced lazily: moving the clock costs nothing until the next request
observes the world (see ``world.World.advance_to``).

Two modes:

- manual (``scale=None``): time stands still until ``advance``/``advance_to`` move it. Tests use this, so
  no test ever sleeps.
- scaled: ``virtual = start + offset + scale * (real seconds since the clock was made)``. ``scale=60``
  turns a minute of virtual time into a second of real time. ``advance`` still works (it adds to the
  offset), which lets a demo skip a long wait.

``wait_until`` blocks a thread until virtual time reaches a point: the HTTP server holds a request
this way (``hold`` faults). On a manual clock only ``advance``/``advance_to`` can get it there, so they
wake every waiter; ``wake`` wakes them without moving time, so a server that is stopping can release
its held requests at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

#: Where a manual clock starts unless told otherwise: fixed, so the same seed gives the same run.
DEFAULT_START = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)


class VirtualClock:
    """Thread-safe virtual time. ``now_ts()`` is POSIX seconds (float), ``now()`` an aware UTC datetime."""

    def __init__(
        self,
        start: datetime | None = None,
        *,
        scale: float | None = None,
        real_time: Callable[[], float] = time.monotonic,
    ) -> None:
        if scale is not None and scale < 0:
            raise ValueError(f"time scale must be >= 0, got {scale}")
        if start is None:
            start = DEFAULT_START if scale is None else datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("the clock's start must be timezone-aware")
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._start = start.timestamp()
        self._offset = 0.0
        self._scale = scale
        self._real_time = real_time
        self._real_origin = real_time()
        self._paused_scale: float | None = None

    @property
    def manual(self) -> bool:
        """True when time moves only through ``advance``/``advance_to``."""
        return self._scale is None

    @property
    def scale(self) -> float | None:
        return self._scale

    def now_ts(self) -> float:
        with self._lock:
            return self._now_locked()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ts(), UTC)

    def advance(self, seconds: float) -> datetime:
        """Move virtual time forward by ``seconds`` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward (asked for {seconds} s)")
        with self._lock:
            self._offset += seconds
            self._changed.notify_all()
            return datetime.fromtimestamp(self._now_locked(), UTC)

    def advance_to(self, when: datetime) -> datetime:
        """Move virtual time forward to ``when``; moving backwards is an error."""
        if when.tzinfo is None:
            raise ValueError("advance_to needs a timezone-aware datetime")
        target = when.timestamp()
        with self._lock:
            now = self._now_locked()
            if target < now:
                raise ValueError(f"the clock only moves forward ({when.isoformat()} is in its past)")
            self._offset += target - now
            self._changed.notify_all()
            return datetime.fromtimestamp(self._now_locked(), UTC)

    def set_scale(self, scale: float | None) -> None:
        """Run at ``scale`` virtual seconds per real second from now on (None: manual, 0: frozen); the
        present stays where it is. A person rehearsing speeds a demo up or stops it this way."""
        if scale is not None and scale < 0:
            raise ValueError(f"time scale must be >= 0, got {scale}")
        with self._lock:
            now = self._now_locked()
            self._real_origin = self._real_time()
            self._offset = now - self._start
            self._scale = scale
            self._paused_scale = None
            self._changed.notify_all()

    @property
    def paused(self) -> bool:
        """Whether ``pause`` stopped a running clock (``resume`` restarts it at its scale)."""
        with self._lock:
            return self._paused_scale is not None

    def pause(self) -> None:
        """Stop a running clock where it is; ``resume`` restarts it. A manual clock stands still anyway."""
        with self._lock:
            if not self._scale:
                return
            scale = self._scale
        self.set_scale(0.0)
        with self._lock:
            self._paused_scale = scale

    def resume(self) -> None:
        """Restart a paused clock at the scale it had."""
        with self._lock:
            scale = self._paused_scale
        if scale is not None:
            self.set_scale(scale)

    def wait_until(self, ts: float, *, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Block until virtual time reaches ``ts`` (POSIX seconds): True, or False once ``cancelled()``.

        ``cancelled`` is checked whenever the waiter wakes, so whoever makes it true must call ``wake``
        afterwards. A manual (or frozen, ``scale=0``) clock is only moved by ``advance``, which wakes the
        waiters; a running clock also wakes them when the real time the rest of the way takes has passed.
        """
        with self._changed:
            while True:
                now = self._now_locked()
                if now >= ts:
                    return True
                if cancelled():
                    return False
                timeout = None
                if self._scale:
                    # A little extra so one wait usually suffices despite float rounding.
                    timeout = (ts - now) / self._scale + 0.001
                self._changed.wait(timeout)

    def wake(self) -> None:
        """Wake every ``wait_until`` so it checks its ``cancelled`` again; time does not move."""
        with self._changed:
            self._changed.notify_all()

    def _now_locked(self) -> float:
        elapsed = 0.0
        if self._scale is not None:
            elapsed = self._scale * (self._real_time() - self._real_origin)
        return self._start + self._offset + elapsed
