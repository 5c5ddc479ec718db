"""Backoff for the sync table's calls that DynamoDB refused for load, not for their content.

botocore already retries throttling a few times inside one call; a busy table can outlast that, and a
refused call changed nothing, so the sync module tries again, later each time, a bounded number of times.
Which calls are retried, and why that is safe for each, is said where they are made (aws/sync_feed.py).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Error codes that mean "refused for load, nothing done": the request may be sent again as it is.
THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        # A single-item write or a consistent read that met a transaction in progress on the same item.
        "TransactionConflictException",
    }
)
#: CancellationReasons codes of a cancelled transaction that mean the same: nothing written, try again.
RETRYABLE_CANCEL_CODES = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with full jitter; ``sleep`` is injectable so tests never wait."""

    attempts: int = 8
    base: float = 0.05
    cap: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def pause(self, attempt: int) -> None:
        """Sleep before retry number ``attempt`` (0-based)."""
        self.sleep(random.uniform(0, min(self.cap, self.base * (2**attempt))))


DEFAULT_BACKOFF = Backoff()


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_throttled(error: ClientError) -> bool:
    return error_code(error) in THROTTLE_CODES


def retrying(backoff: Backoff, what: str, call: Callable[[], T]) -> T:
    """``call()``, again after a pause while refused for load; ``backoff.attempts`` calls at most."""
    for attempt in range(backoff.attempts):
        try:
            return call()
        except ClientError as error:
            if not is_throttled(error) or attempt == backoff.attempts - 1:
                raise
            logger.info("sync table: %s refused (%s), retrying", what, error_code(error))
        backoff.pause(attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")
