"""One driver per execution across desktops: the lease as a value, and when an observer may call it
expired (docs/sync.md, "Leases").

The lease item carries a ``heartbeat`` counter that its holder adds 1 to every ``HEARTBEAT_INTERVAL``
seconds. Another desktop never compares its clock with the holder's (two desktops' clocks may disagree by
minutes, and a wall clock may jump): ``LeaseWatch`` times, on the *observer's* monotonic clock, how long
the heartbeat it reads has stayed the same, and calls the lease expired only when it has not moved for
``LEASE_EXPIRY`` seconds of that clock. The counter never goes back (a take, a takeover and a release
add 1 too, and the item is never deleted), so a reading equal to an earlier one means that nothing was
written to the lease in between.

Stdlib only, no clock read: the caller passes the time of each reading.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AT_RISK_AFTER",
    "CALL_IN_FLIGHT",
    "DRIVE_LIMIT",
    "HEARTBEAT_INTERVAL",
    "LEASE_EXPIRY",
    "Lease",
    "LeaseWatch",
    "may_drive",
]

#: Seconds between a holder's beats. One UpdateItem per driven execution every 5 s is 720 write units an
#: hour (well under a cent on demand), and it leaves 11 more beats before the holder stops starting steps.
HEARTBEAT_INTERVAL = 5.0
#: Seconds since its last confirmed beat after which a holder starts no new step of its execution, and no
#: StartRecovery or TerminateRecoveryInstances even within a step (``ExecutionRunner``'s act guard), until
#: a beat lands again: past this, it can no longer be sure that nobody will take the execution over while
#: it acts (``ExecutionSession``).
DRIVE_LIMIT = 30.0
#: Seconds a launch or termination let through just before the limit may still take to reach DRS: a
#: role's credentials renewed on the way (an STS call) and the DRS call itself, each up to the clients'
#: 10 s connect and 60 s read timeouts (``aws.session``).
CALL_IN_FLIGHT = 140.0
#: Seconds of an observer's monotonic clock without a heartbeat change before it may take over (after the
#: operator confirms). Why 180: an observer starts counting no earlier than the holder's last confirmed
#: beat (sent), and by then the holder has stopped acting for ``DRIVE_LIMIT`` and its last call has
#: reached DRS or failed (``CALL_IN_FLIGHT``): 30 + 140 = 170 s, with 10 to spare, before the operator's
#: confirmation. So the new driver, which reconciles with DRS's tags before it launches anything, never
#: meets a launch of the old one still on its way: a server is never launched twice. A crashed desktop's
#: run waits three minutes for a takeover, short next to a recovery that takes tens of minutes.
LEASE_EXPIRY = 180.0
#: Fraction of the expiry after which a holder whose beats keep failing says its lease is at risk (15 s:
#: before it stops acting at ``DRIVE_LIMIT``, so the operator sees why it may soon wait).
AT_RISK_AFTER = 1 / 12


def may_drive(unconfirmed_for: float) -> bool:
    """Whether a holder whose last beat was confirmed ``unconfirmed_for`` seconds ago may start a step."""
    return unconfirmed_for < DRIVE_LIMIT


assert DRIVE_LIMIT + CALL_IN_FLIGHT < LEASE_EXPIRY, "a takeover could meet the old driver's last call"


@dataclass(frozen=True)
class Lease:
    """``LEASE#<execution_id>/LEASE`` as read or written: who holds it and its heartbeat counter.
    ``taken_at`` (UTC ISO-8601, the taker's wall clock) is shown to operators, never compared."""

    execution_id: str
    holder: str
    heartbeat: int
    taken_at: str = ""


class LeaseWatch:
    """An observer's view of one lease: fed readings of ``(now, heartbeat, holder)`` (``now`` from the
    observer's monotonic clock), it says ``expired`` once the same heartbeat and holder have been read for
    ``expiry`` seconds since the first reading of that pair. A changed heartbeat or holder restarts it; a
    reading of no lease at all (``observe_lease(now, None)``) makes it ``free``.

    Only readings count: while the observer cannot read the table, the lease does not expire in its eyes,
    because "no change seen" is not "no change made". A takeover is then conditioned on the pair seen
    (``seen_heartbeat``, ``seen_holder``), so a beat that lands after the last reading defeats it.
    """

    def __init__(self, expiry: float = LEASE_EXPIRY) -> None:
        if expiry <= 0:
            raise ValueError(f"a lease expiry must be positive, not {expiry}")
        self.expiry = float(expiry)
        self._holder: str | None = None
        self._heartbeat: int | None = None
        self._since: float | None = None  # the first reading of the current pair
        self._last: float | None = None  # the latest reading
        self._free = False

    def observe(self, now: float, heartbeat: int, holder: str) -> bool:
        """Record a reading of the lease; whether it is expired now."""
        if self._last is not None and now < self._last:
            raise ValueError(f"the monotonic clock went back: {now} after {self._last}")
        if self._free or heartbeat != self._heartbeat or holder != self._holder:
            self._heartbeat, self._holder, self._since = heartbeat, holder, now
        self._last = now
        self._free = False
        return self.expired

    def observe_lease(self, now: float, lease: Lease | None) -> bool:
        """``observe`` a lease as read (None: no lease item, the execution is free to take)."""
        if lease is not None:
            return self.observe(now, lease.heartbeat, lease.holder)
        if self._last is not None and now < self._last:
            raise ValueError(f"the monotonic clock went back: {now} after {self._last}")
        self._heartbeat, self._holder, self._since, self._last = None, None, None, now
        self._free = True
        return False

    @property
    def free(self) -> bool:
        """The last reading found no lease."""
        return self._free

    @property
    def holder(self) -> str | None:
        """The holder last read (None before any reading, or when free)."""
        return self._holder

    @property
    def heartbeat(self) -> int | None:
        """The heartbeat last read (None before any reading, or when free)."""
        return self._heartbeat

    @property
    def unchanged_for(self) -> float:
        """Seconds of the observer's clock the current pair has been read unchanged (0 before a reading)."""
        if self._since is None or self._last is None:
            return 0.0
        return self._last - self._since

    @property
    def remaining(self) -> float:
        """Seconds of unchanged readings still needed before ``expired`` (0 once expired)."""
        if self._since is None:
            return self.expiry
        return max(0.0, self.expiry - self.unchanged_for)

    @property
    def expired(self) -> bool:
        """The same heartbeat and holder have been read for at least ``expiry`` seconds."""
        return self._since is not None and self.unchanged_for >= self.expiry
