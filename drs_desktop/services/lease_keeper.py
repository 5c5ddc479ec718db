"""Keeping an execution's lease while this desktop drives it: a heartbeat on a thread of its own
(docs/sync.md, "Leases").

The driver takes the lease (``aws.sync_lease.take``) and hands it to a ``LeaseKeeper``, which adds 1 to
its heartbeat every ``interval`` seconds until it is stopped. The keeper tells three things apart,
because they call for different actions:

- **lost** (``KeeperState.LOST``): the table refused a beat's condition ``holder = me``: another desktop
  took the lease over (after seeing it unchanged for ``LEASE_EXPIRY`` and its operator confirming). Only
  that refusal means lost; the keeper then ends and does not release (the lease is not ours to delete).
- **a failed beat** (``HOLDING`` or ``AT_RISK`` with ``error``): a throttle, a dropped connection, an
  expired SSO session. It says nothing about the lease, which stays ours as long as no one takes it over;
  the beat is retried with backoff (``retry_base`` doubling, capped at ``interval``) on the keeper's own
  schedule (its client makes one attempt per call, bounded by the interval).
- **at risk** (``AT_RISK``): beats have kept failing for longer than ``expiry * AT_RISK_AFTER`` seconds
  since the last one landed. Observers' clocks may soon call the lease expired; the GUI says so. It goes
  back to ``HOLDING`` when a beat lands.

What the runner must do with a report (the lead wires it; nothing here touches the engine):

- ``LOST``: stop driving at once. Ask the session to stop (``ExecutionSession.stop()``, which wakes the
  loop): no further DRS call and no further journal append as driver; cancel nothing in DRS (the new
  holder reconciles with DRS's tags and carries on). Release the local driver lock and show the execution
  read-only, driven by ``report.new_holder``. Do not release the lease.
- ``AT_RISK``: keep driving, and show "lease at risk: <error>" on the execution; back to normal on the
  next ``HOLDING``.
- Closing a session (finished, paused by the operator, the app quitting): ``stop(release=True)`` and
  ``join`` before the driver lock is released, on the session's thread (``join`` may wait for one beat
  in flight, bounded by the client's timeout). A release that fails (offline) leaves the lease to expire
  on the observers' clocks; this desktop can take it again at once (``take`` accepts its own lease).

``on_report`` runs on the keeper's thread and must not block (a Qt signal, an Event, a queue).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from drs_desktop.aws import sync_lease
from drs_desktop.aws.sync_schema import SyncTableTarget
from drs_desktop.domain.lease import AT_RISK_AFTER, HEARTBEAT_INTERVAL, LEASE_EXPIRY, Lease, may_drive
from drs_desktop.domain.sync_errors import LeaseLost

__all__ = ["RETRY_BASE", "KeeperReport", "KeeperState", "LeaseKeeper"]

logger = logging.getLogger(__name__)

#: Seconds before the first retry of a failed beat; each further failure doubles it, up to the interval.
RETRY_BASE = 0.5

#: ``wait(stop, seconds)``: wait up to ``seconds``, True as soon as ``stop`` is set.
Wait = Callable[[threading.Event, float], bool]


def _event_wait(stop: threading.Event, seconds: float) -> bool:
    return stop.wait(seconds)


def awake_clock() -> float:
    """Seconds that go on counting while the machine sleeps: a laptop closed for ten minutes mid-run must
    wake up knowing its lease went unconfirmed that long (``time.monotonic`` stops during sleep on Linux
    and macOS). Linux: CLOCK_BOOTTIME; macOS: CLOCK_MONOTONIC (which counts sleep there, unlike Python's
    monotonic); elsewhere ``time.monotonic``."""
    if sys.platform.startswith("linux"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    if sys.platform == "darwin":
        return time.clock_gettime(time.CLOCK_MONOTONIC)
    return time.monotonic()


class KeeperState(StrEnum):
    HOLDING = "holding"
    AT_RISK = "at_risk"
    LOST = "lost"
    STOPPED = "stopped"


@dataclass(frozen=True)
class KeeperReport:
    """What the keeper knows, reported on every change. ``lease`` is the lease as the last beat that
    landed left it. ``unconfirmed_for``: seconds of the keeper's clock since that beat (or the take),
    when beats are failing; 0 while they land. ``error``: the last failed beat's (or release's) one-line
    error, "" once a beat lands. ``new_holder``: LOST, who holds the lease now (None: the item is gone).
    ``released``: STOPPED, whether the lease was given back now (False: it was already free, another
    desktop holds it, or the table could not be reached, as ``error`` says; None: not asked to)."""

    state: KeeperState
    lease: Lease
    unconfirmed_for: float = 0.0
    error: str = ""
    new_holder: str | None = None
    released: bool | None = None


class LeaseKeeper:
    """Beats ``lease`` every ``interval`` seconds on its own thread until ``stop`` or until the lease is
    lost. ``client_factory`` builds the DynamoDB client in the keeper's thread (boto3 sessions are not
    shared; ``for_target`` uses ``aws.sync_lease.lease_client``). ``clock`` (monotonic seconds) and
    ``wait`` are injectable so tests step time instead of sleeping."""

    def __init__(
        self,
        lease: Lease,
        *,
        table: str,
        client_factory: Callable[[], Any],
        on_report: Callable[[KeeperReport], None] | None = None,
        interval: float = HEARTBEAT_INTERVAL,
        expiry: float = LEASE_EXPIRY,
        clock: Callable[[], float] = awake_clock,
        wait: Wait = _event_wait,
        retry_base: float = RETRY_BASE,
        confirmed_at: float | None = None,
        before_release: Callable[[], int | None] | None = None,
    ) -> None:
        if interval <= 0 or interval >= expiry * AT_RISK_AFTER:
            raise ValueError(
                f"a heartbeat interval ({interval} s) must be positive and well under the expiry ({expiry} s)"
            )
        self._table = table
        self._client_factory = client_factory
        self._on_report = on_report
        self._interval = float(interval)
        self._at_risk_after = float(expiry) * AT_RISK_AFTER
        self._clock = clock
        self._wait = wait
        self._retry_base = float(retry_base)
        self._stop = threading.Event()
        self._release = True
        self._pushed_events: int | None = None
        # A clean stop pushes the execution before giving the lease back (``execution_lease.give_back``).
        self._before_release = before_release
        self._guard = threading.Lock()
        self._report = KeeperReport(KeeperState.HOLDING, lease)
        # The take counts as the last beat: when it was sent (``confirmed_at``, on ``clock``), else now.
        self._last_landed = clock() if confirmed_at is None else confirmed_at
        self._thread = threading.Thread(
            target=self._run, name=f"lease-keeper-{lease.execution_id[:8]}", daemon=True
        )

    @classmethod
    def for_target(cls, lease: Lease, target: SyncTableTarget, **options: Any) -> LeaseKeeper:
        """A keeper on the sync table ``target`` (its client made in the keeper's thread)."""
        factory = lambda: sync_lease.lease_client(target)  # noqa: E731 - built in the keeper's thread
        return cls(lease, table=target.table, client_factory=factory, **options)

    # -- any thread

    def start(self) -> None:
        """Start beating; call it right after the lease was taken (the take counts as the last beat)."""
        self._thread.start()

    def stop(self, *, release: bool = True, pushed_events: int | None = None) -> None:
        """Ask the keeper to end (it sees it at once, even waiting), giving the lease back if ``release``,
        recording ``pushed_events`` with it (``sync_lease.release``). Does not wait: ``join`` does."""
        self._release = release
        self._pushed_events = pushed_events
        self._stop.set()

    @property
    def pushes_before_release(self) -> bool:
        """Whether giving the lease back pushes the execution first (a keeper made with a database)."""
        return self._before_release is not None

    def push_before_release(self) -> int | None:
        """Push the execution while the lease is still ours (the hook given at construction): how many
        of its journal events the table then holds, or None (no hook, or it failed: it is bounded in
        time and never raises past here, a failed push only means no count is recorded)."""
        if self._before_release is None:
            return None
        try:
            return self._before_release()
        except Exception:
            logger.exception("pushing %s before giving its lease back failed", self.lease.execution_id)
            return None

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the keeper's thread to end; whether it has."""
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def report(self) -> KeeperReport:
        with self._guard:
            return self._report

    @property
    def lease(self) -> Lease:
        return self.report.lease

    @property
    def lost(self) -> bool:
        return self.report.state is KeeperState.LOST

    def may_drive(self) -> bool:
        """Whether the holder may start a step now: the lease not lost, and its last beat confirmed less
        than ``DRIVE_LIMIT`` seconds ago on the keeper's clock (``domain.lease``: why that keeps a
        takeover from meeting a launch still on its way)."""
        with self._guard:
            lost = self._report.state is KeeperState.LOST
            landed = self._last_landed
        return not lost and may_drive(self._clock() - landed)

    def unconfirmed_for(self) -> float:
        """Seconds since the last beat that landed (or the take)."""
        with self._guard:
            return self._clock() - self._last_landed

    # -- the keeper's thread

    def _run(self) -> None:
        client: Any = None
        failures = 0
        while not self._wait(self._stop, self._delay(failures)):
            lease = self.report.lease
            sent_at = self._clock()  # an observer may have read the beat as soon as it was sent
            try:
                if client is None:
                    client = self._client_factory()
                lease = sync_lease.beat(client, self._table, lease)
            except LeaseLost as exc:
                logger.warning("%s", exc)
                self._publish(KeeperState.LOST, error=str(exc), new_holder=exc.holder, unconfirmed_for=0.0)
                return
            except Exception as exc:  # a throttle, the network, a refusal: the lease is not lost
                failures += 1
                unconfirmed = self.unconfirmed_for()
                at_risk = unconfirmed > self._at_risk_after
                state = KeeperState.AT_RISK if at_risk else KeeperState.HOLDING
                logger.info("lease beat %d failed (%.1f s unconfirmed): %s", failures, unconfirmed, exc)
                self._publish(state, error=str(exc) or type(exc).__name__, unconfirmed_for=unconfirmed)
                continue
            recovered = failures > 0
            failures = 0
            with self._guard:
                self._last_landed = sent_at
                self._report = replace(self._report, lease=lease)
            if recovered:
                self._publish(KeeperState.HOLDING, error="", unconfirmed_for=0.0)
        self._finish(client)

    def _delay(self, failures: int) -> float:
        if failures == 0:
            return self._interval
        return min(self._interval, self._retry_base * 2 ** (failures - 1))

    def _finish(self, client: Any) -> None:
        if not self._release:
            self._publish(KeeperState.STOPPED, unconfirmed_for=0.0)
            return
        lease = self.report.lease
        try:
            if client is None:
                client = self._client_factory()
            released = sync_lease.release(client, self._table, lease, pushed_events=self._pushed_events)
        except LeaseLost as exc:
            self._publish(KeeperState.STOPPED, error=str(exc), new_holder=exc.holder, released=False)
            return
        except Exception as exc:
            logger.warning("the lease on %s was not released: %s", lease.execution_id, exc)
            self._publish(KeeperState.STOPPED, error=str(exc) or type(exc).__name__, released=False)
            return
        self._publish(KeeperState.STOPPED, error="", released=released)

    def _publish(self, state: KeeperState, **changes: Any) -> None:
        with self._guard:
            self._report = replace(self._report, state=state, **changes)
            report = self._report
        if self._on_report is None:
            return
        try:
            self._on_report(report)
        except Exception:  # a listener's bug must not stop the heartbeat
            logger.exception("a lease report listener failed")
