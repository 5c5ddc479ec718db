"""When to ask DRS again: the adaptive poll interval, and backoff after throttling or errors.

DRS publishes no request rate, throttles per account, and botocore ignores ``Retry-After`` (reference
§2.3, §7). So the engine paces its own reads:
- right after a job starts or a phase changes, things move: poll at ``base / 3``;
- when several polls in a row saw nothing change, slow down gradually to ``4 x base``;
- ``--poll-interval`` fixes the interval (``fixed_interval``);
- after a throttle or a failure, wait ``Retry-After`` or an exponential backoff with jitter, whichever is
  longer, before any read. The jitter is derived from a seed in the execution's state, never from
  ``random()``, so replaying the journal rebuilds the very same ``not_before``.
Pure: times are passed in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True, kw_only=True)
class PollSettings:
    base_interval: timedelta = timedelta(seconds=20)
    fixed_interval: timedelta | None = None
    fast_divisor: float = 3.0
    max_slowdown: float = 4.0
    quiet_polls_before_slowing: int = 2
    backoff_initial: timedelta = timedelta(seconds=2)
    backoff_max: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, kw_only=True)
class PollState:
    """The execution's read pacing. ``not_before`` blocks every read (and a throttled start) until then."""

    last_poll_at: datetime | None = None
    last_change_at: datetime | None = None  # a job started, or a poll saw a status change
    quiet_polls: int = 0  # polls in a row that saw no change
    failures: int = 0  # failed reads in a row
    not_before: datetime | None = None
    last_error: str = ""


def poll_interval(settings: PollSettings, quiet_polls: int) -> timedelta:
    """The gap after the last poll: fast while things change, up to ``max_slowdown x base`` when quiet."""
    if settings.fixed_interval is not None:
        return settings.fixed_interval
    if quiet_polls == 0:
        return settings.base_interval / settings.fast_divisor
    slowdown = 1.0 + 0.5 * max(0, quiet_polls - settings.quiet_polls_before_slowing)
    return settings.base_interval * min(settings.max_slowdown, slowdown)


def poll_due_at(settings: PollSettings, poll: PollState, now: datetime) -> datetime:
    """When the next DescribeJobs is due: an interval after the last poll or change, never before
    ``not_before``. With nothing polled or started yet, at once."""
    references = [t for t in (poll.last_poll_at, poll.last_change_at) if t is not None]
    due = max(references) + poll_interval(settings, poll.quiet_polls) if references else now
    if poll.not_before is not None and poll.not_before > due:
        due = poll.not_before
    return due


def jitter(seed: str, n: int) -> float:
    """A number in [0, 1) that depends only on ``seed`` and ``n``: deterministic jitter for replays."""
    digest = hashlib.sha256(f"{seed}:{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def backoff_delay(settings: PollSettings, failures: int, seed: str) -> timedelta:
    """Exponential backoff with "equal jitter": half the step fixed, half spread, capped at the max."""
    if failures <= 0:
        return timedelta(0)
    step = min(settings.backoff_max, settings.backoff_initial * 2 ** min(failures - 1, 30))
    return step * (0.5 + 0.5 * jitter(seed, failures))


def after_poll(poll: PollState, at: datetime, changed: bool) -> PollState:
    """A successful DescribeJobs: reset the failure streak; count quiet polls."""
    return replace(
        poll,
        last_poll_at=at,
        last_change_at=at if changed else poll.last_change_at,
        quiet_polls=0 if changed else poll.quiet_polls + 1,
        failures=0,
        last_error="",
    )


def after_read_ok(poll: PollState) -> PollState:
    """Any other successful read (job log, reconcile, verify) ends a failure streak too."""
    if poll.failures == 0 and not poll.last_error:
        return poll
    return replace(poll, failures=0, last_error="")


def after_change(poll: PollState, at: datetime) -> PollState:
    """A job started (or was found): the next poll should come soon."""
    return replace(poll, last_change_at=at, quiet_polls=0)


def after_throttle(
    poll: PollState, settings: PollSettings, seed: str, at: datetime, retry_after: float, error: str
) -> PollState:
    """Throttled: hold every read for Retry-After or the backoff, whichever is longer."""
    failures = poll.failures + 1
    wait = max(timedelta(seconds=max(0.0, retry_after)), backoff_delay(settings, failures, seed))
    return _hold(poll, failures, at + wait, error)


def after_failure(poll: PollState, settings: PollSettings, seed: str, at: datetime, error: str) -> PollState:
    """A failed read (5xx, network, or a lasting error such as AccessDenied): back off and remember why."""
    failures = poll.failures + 1
    return _hold(poll, failures, at + backoff_delay(settings, failures, seed), error)


def _hold(poll: PollState, failures: int, until: datetime, error: str) -> PollState:
    not_before = until if poll.not_before is None or until > poll.not_before else poll.not_before
    return replace(poll, failures=failures, not_before=not_before, last_error=error)
