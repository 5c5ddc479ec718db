"""DRS reads made before an execution's journal exists, paced like the engine's own reads.

Once an execution is journaled, the engine paces every read itself: a throttle or a failed read
becomes an event and holds further calls for Retry-After or an exponential backoff with jitter
(``domain.engine.polling``). The reads that prepare a run (the live inventory, recovery snapshots for a
point in time, post-launch actions, preflight's recent jobs and launch configurations) come before
there is any journal to hold that backoff in, and a run used to fail at botocore's third "Rate
exceeded". ``PatientReads`` waits in place instead, by the same rules (``backoff_delay`` of the
engine's ``PollSettings``, never less than Retry-After), until a bounded total has been spent waiting
on one call; then it gives up with one clear line ("DRS kept throttling DescribeSourceServers for 2
minutes").

The waiting is an injected sleeper: ``time.sleep`` on the CLI (the GUI calls these on a worker
thread), a recorder in tests, so the bound is on requested waiting, never on wall-clock time.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from drs_desktop.domain.drs.errors import DrsError, DrsThrottled
from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.engine.polling import PollSettings, backoff_delay

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_BUDGET", "MAX_FAILED_ATTEMPTS", "PatientReads"]

T = TypeVar("T")
Sleeper = Callable[[float], None]

#: How long one read may keep being throttled before the run gives up.
DEFAULT_BUDGET = timedelta(minutes=2)
#: Attempts of a read that fails for another transient reason (5xx, a dropped connection, a read
#: timeout): as many as botocore's standard retries would make, but paced.
MAX_FAILED_ATTEMPTS = 3


class PatientReads:
    """Calls a DRS read, and calls it again after a throttle or a transient failure.

    ``budget`` bounds the waiting requested for one call; ``seed`` makes the jitter reproducible (a
    random one by default: there is no execution yet whose seed could be used).
    """

    def __init__(
        self,
        *,
        sleep: Sleeper = time.sleep,
        budget: timedelta = DEFAULT_BUDGET,
        settings: PollSettings | None = None,
        seed: str | None = None,
    ) -> None:
        self._sleep = sleep
        self._budget = budget.total_seconds()
        self._settings = settings or PollSettings()
        self._seed = seed if seed is not None else uuid.uuid4().hex
        self._calls = 0

    def __call__(self, call: Callable[[], T], operation: str = "") -> T:
        """``call()``'s answer; the last error once throttling outlasted the budget or another
        transient failure repeated ``MAX_FAILED_ATTEMPTS`` times. Lasting errors propagate at once."""
        self._calls += 1
        seed = f"{self._seed}:{self._calls}"
        waited = 0.0
        throttles = failures = 0
        while True:
            try:
                return call()
            except DrsThrottled as error:
                throttles += 1
                last: DrsError = error
                if waited >= self._budget:
                    raise self._gave_up(error, operation or error.operation) from error
            except DrsError as error:
                if not error.transient:
                    raise
                failures += 1
                last = error
                if failures >= MAX_FAILED_ATTEMPTS or waited >= self._budget:
                    raise
            delay = self._delay(last, throttles + failures, seed)
            delay = min(delay, self._budget - waited)
            logger.info(
                "%s: %s; trying again in %.1f s", operation or last.operation, last.code or "failed", delay
            )
            self._sleep(delay)
            waited += delay

    def _delay(self, error: DrsError, attempt: int, seed: str) -> float:
        """``domain.engine.polling.after_throttle``, the engine's rule: Retry-After or backoff, the longer."""
        backoff = backoff_delay(self._settings, attempt, seed).total_seconds()
        return max(error.retry_after or 0.0, backoff)

    def _gave_up(self, error: DrsThrottled, operation: str) -> DrsThrottled:
        what = operation or "a read"
        return DrsThrottled(
            f"DRS kept throttling {what} for {format_duration(self._budget)}; try again later",
            code=error.code,
            retry_after=error.retry_after,
            status=error.status,
            request_id=error.request_id,
        )
