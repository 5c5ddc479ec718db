"""What an observer says about another desktop's run: one true line about its lease, and whether it may
be taken over now (docs/sync.md, "Leases"; issue 14 item 5).

The GUI's driver strip and ``drs-desktop sync takeover`` read the lease every ``HEARTBEAT_INTERVAL``
seconds (``LeaseReading``, the time of each from the observer's own monotonic clock), feed a
``LeaseWatch`` with it and show ``lease_line``. Only the watch's readings count: a failed read says so
and counts no expiry, and the Take over button is enabled only when the last reading found the lease
expired or free. Pure: no clock read, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from drs_desktop.domain.lease import HEARTBEAT_INTERVAL, Lease, LeaseWatch

__all__ = [
    "NOBODY",
    "SILENT_AFTER",
    "LeaseLine",
    "LeaseReading",
    "feed",
    "lease_line",
    "may_take_over",
    "span_text",
]

#: Seconds of unchanged readings after which the line stops saying "driven" and counts down instead:
#: three missed beats, so a reading that just missed one beat is not called silence.
SILENT_AFTER = 3 * HEARTBEAT_INTERVAL


@dataclass(frozen=True)
class LeaseReading:
    """One look at an execution's lease. ``at``: the observer's monotonic seconds when the answer came
    (an answer is never earlier than the beat it shows). ``lease`` None with no ``error``: free.
    ``here``: this desktop's ID; ``writer``: the desktop the execution was pulled from (None: this
    desktop's own); ``finished``: the execution has ended (nothing to take over); ``sync``: team sync is
    on here (off: there is no lease to watch)."""

    execution_id: str
    at: float
    lease: Lease | None = None
    error: str = ""
    here: str = ""
    writer: str | None = None
    finished: bool = False
    sync: bool = True
    #: A free lease's counter (None: no lease item at all), and what a clean stop's release recorded: how
    #: many journal events the team's table held (None: not given back after a clean stop, or held).
    free_heartbeat: int | None = None
    released_events: int | None = None

    @property
    def cleanly_released(self) -> bool:
        """Free, and given back by a driver that pushed its whole journal first: nothing to wait for."""
        return self.lease is None and self.released_events is not None


@dataclass(frozen=True)
class LeaseLine:
    """The line to show, whether a takeover may be asked now, and the lease it would be conditioned on
    (None: the lease is free)."""

    text: str
    can_take_over: bool
    seen: Lease | None = None


#: The holder a watch is fed for a lease nobody holds that was not given back after a clean stop.
NOBODY = ""


def feed(watch: LeaseWatch, reading: LeaseReading) -> None:
    """Give ``watch`` a reading; a failed one changes nothing (no reading, no expiry counted). A free
    lease that was not given back after a clean stop (a failed push, or never taken: a run started
    before team sync was on) is watched like a silent holder's: a takeover waits until nothing has
    written to it for the expiry."""
    if reading.error:
        return
    if reading.lease is None and not reading.cleanly_released:
        heartbeat = reading.free_heartbeat if reading.free_heartbeat is not None else -1
        watch.observe(reading.at, heartbeat, NOBODY)
        return
    watch.observe_lease(reading.at, reading.lease)


def may_take_over(watch: LeaseWatch, reading: LeaseReading) -> bool:
    """Whether a takeover may be asked after ``reading``: read without error, held by another desktop
    (this desktop's own run too, when another holds it: a copy of this database, or a desktop that took
    it over and went silent) or another desktop's run nobody holds; its lease given back after a clean
    stop, or unchanged in this observer's watch for the expiry."""
    if reading.error or reading.finished or not reading.sync:
        return False
    if reading.lease is not None and reading.lease.holder == reading.here:
        return False
    if reading.writer is None and reading.lease is None:
        return False  # this desktop's own run, nobody holds it: this desktop resumes it itself
    return reading.cleanly_released or watch.expired


def lease_line(watch: LeaseWatch, reading: LeaseReading | None) -> LeaseLine:
    """The one line about the lease after ``reading`` was fed to ``watch`` (None: not read yet)."""
    if reading is None:
        return LeaseLine("Reading who drives this run…", False)
    if reading.finished:
        return LeaseLine("This run has ended: nobody drives it.", False)
    if reading.error:
        return LeaseLine(
            f"Cannot read the lease: {reading.error} · no expiry is counted while the table cannot be read",
            False,
        )
    lease = reading.lease
    allowed = may_take_over(watch, reading)
    if reading.writer is None and (lease is None or lease.holder == reading.here):
        # This desktop's own run: picked up here when the app starts, never taken over from itself.
        if lease is None:
            return LeaseLine("This desktop's run · no desktop holds its lease now", False, None)
        return LeaseLine(
            f"This desktop's run · its lease is this desktop's (heartbeat {lease.heartbeat})", False, lease
        )
    if lease is None:
        if reading.cleanly_released:
            return LeaseLine(
                "Stopped cleanly by its last driver (its whole journal is in the team's table) · no "
                "desktop drives it",
                allowed,
                None,
            )
        if watch.expired:
            return LeaseLine(
                f"No desktop holds its lease, and nothing wrote to it for {span_text(watch.unchanged_for)}",
                allowed,
                None,
            )
        return LeaseLine(
            "No desktop holds its lease, but it was not given back after a clean stop · can be taken over "
            f"once nothing writes to it for {span_text(watch.expiry)} ({span_text(watch.remaining)} left)",
            False,
            None,
        )
    who = "this desktop" if lease.holder == reading.here else f"desktop {lease.holder}"
    if lease.holder == reading.here:
        return LeaseLine(f"Driven by {who} (heartbeat {lease.heartbeat})", False, lease)
    unchanged = watch.unchanged_for
    if watch.expired:
        return LeaseLine(f"Desktop {lease.holder} silent for {span_text(unchanged)}", allowed, lease)
    if unchanged < SILENT_AFTER:
        return LeaseLine(f"Driven by {who} · heartbeat seen {span_text(unchanged)} ago", False, lease)
    return LeaseLine(
        f"No heartbeat from {who} for {span_text(unchanged)} · can be taken over in "
        f"{span_text(watch.remaining)}",
        False,
        lease,
    )


def span_text(seconds: float) -> str:
    """``4 s``, ``2 min 40 s``, ``3 min``, ``1 h 5 min``: whole seconds, rounded up."""
    whole = max(0, math.ceil(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
