"""Following a DRS Desktop simulator's virtual clock, so a plan's waits take virtual time, not real time.

Against AWS the runner's clock is DRS's time carried forward on the monotonic clock (``drs_clock``), and
it sleeps real seconds. Against ``drs-desktop simulator --time-scale 60`` that is wrong twice: DRS's time
runs 60 times faster than the monotonic clock between answers, and a 30-second poll interval would be
30 virtual minutes. So when the endpoint is a DRS Desktop simulator (on loopback, answering
``GET /_sim/clock`` with ``"simulator": "drs-desktop"``), the runner's clock and sleeper follow the
simulator's clock: ``now`` is its virtual time, ``real_seconds`` turns a virtual wait into the real
seconds it lasts at the current scale. Paused or manual (someone advances it through the control API),
the wait is a short real poll, so the runner sees the clock move.

Only loopback endpoints are asked: the simulator binds nothing else, and nothing is sent to an AWS
endpoint that is not a DRS call.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from drs_desktop.aws.drs_clock import DrsClock
from drs_desktop.aws.session import is_loopback_url

logger = logging.getLogger(__name__)

CLOCK_PATH = "/_sim/clock"
IDENTITY = "drs-desktop"
#: How often (real seconds) the follower asks the simulator again: its scale may have changed.
REFRESH_SECONDS = 1.0
#: The shortest real sleep: a tiny virtual wait at a high scale must not become a busy loop.
MIN_REAL_SLEEP = 0.05
#: How long a wait on a paused or manual clock sleeps before looking at the clock again.
STILL_CLOCK_POLL = 0.5

Fetch = Callable[[str], dict[str, Any]]


def _fetch(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        document = json.loads(response.read())
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


class SimulatorClock:
    """The virtual clock of the simulator at ``endpoint_url``, read through its control API and carried
    forward between reads at its scale. Thread-safe."""

    def __init__(
        self, endpoint_url: str, *, fetch: Fetch = _fetch, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._url = endpoint_url.rstrip("/") + CLOCK_PATH
        self._fetch = fetch
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._virtual = 0.0
        self._scale: float | None = None
        self._tick = 0.0
        self._origin: float | None = None
        self._last = 0.0
        self.read()

    @classmethod
    def probe(cls, endpoint_url: str | None, *, fetch: Fetch = _fetch) -> SimulatorClock | None:
        """A follower when ``endpoint_url`` is a DRS Desktop simulator on loopback; else None."""
        if not is_loopback_url(endpoint_url):
            return None
        assert endpoint_url is not None
        try:
            return cls(endpoint_url, fetch=fetch)
        except (OSError, ValueError, KeyError, urllib.error.URLError) as exc:
            logger.debug("%s is not a DRS Desktop simulator: %s", endpoint_url, exc)
            return None

    def read(self) -> None:
        """Ask the simulator for its time and scale now."""
        document = self._fetch(self._url)
        if document.get("simulator") != IDENTITY:
            raise ValueError("not a DRS Desktop simulator")
        virtual = float(document["now_ts"])
        scale = document.get("scale")
        tick = self._monotonic()
        with self._lock:
            self._virtual = virtual
            self._scale = float(scale) if scale is not None else None
            self._tick = tick
            if self._origin is None:
                self._origin = virtual

    @property
    def scale(self) -> float | None:
        """Virtual seconds per real second; None (manual) or 0 (paused): time moves only when told."""
        with self._lock:
            return self._scale

    def now_ts(self) -> float:
        tick = self._monotonic()
        with self._lock:
            stale = tick - self._tick >= REFRESH_SECONDS
        if stale:
            try:
                self.read()
            except (OSError, ValueError, KeyError, urllib.error.URLError) as exc:
                logger.info("could not read the simulator's clock: %s", exc)
        with self._lock:
            estimate = self._virtual + (self._scale or 0.0) * (self._monotonic() - self._tick)
            self._last = max(self._last, estimate)  # never backwards, whatever a read said
            return self._last

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ts(), UTC)

    def elapsed(self) -> float:
        """Virtual seconds since the first read: the monotonic clock of a ``DrsClock`` on this time."""
        now = self.now_ts()
        with self._lock:
            assert self._origin is not None
            return now - self._origin

    def real_seconds(self, virtual_seconds: float) -> float:
        """How long to sleep for a wait of ``virtual_seconds`` at the current scale."""
        scale = self.scale
        if not scale:
            return STILL_CLOCK_POLL
        return max(MIN_REAL_SLEEP, virtual_seconds / scale)

    def drs_clock(self) -> DrsClock:
        """DRS's time for the gateway: the simulator's answers anchor it, this clock carries it forward,
        and the desktop's clock is the simulator's (no skew to report)."""
        return DrsClock(wall=self.now, monotonic=self.elapsed)


def simulator_world(endpoint_url: str | None, *, fetch: Fetch = _fetch) -> str | None:
    """The world ID of the DRS Desktop simulator at ``endpoint_url`` (new at each of its starts), or None
    when the endpoint is not a loopback DRS Desktop simulator or does not answer."""
    if not is_loopback_url(endpoint_url):
        return None
    assert endpoint_url is not None
    try:
        document = fetch(endpoint_url.rstrip("/") + CLOCK_PATH)
    except (OSError, ValueError, urllib.error.URLError) as exc:
        logger.debug("%s is not a DRS Desktop simulator: %s", endpoint_url, exc)
        return None
    world = document.get("world")
    return world if document.get("simulator") == IDENTITY and isinstance(world, str) and world else None
