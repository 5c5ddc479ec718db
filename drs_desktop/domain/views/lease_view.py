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

__all__ = ["SILENT_AFTER", "LeaseLine", "LeaseReading", "feed", "lease_line", "span_text"]

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


@dataclass(frozen=True)
class LeaseLine:
    """The line to show, whether a takeover may be asked now, and the lease it would be conditioned on
    (None: the lease is free)."""

    text: str
    can_take_over: bool
    seen: Lease | None = None


def feed(watch: LeaseWatch, reading: LeaseReading) -> None:
    """Give ``watch`` a reading; a failed one changes nothing (no reading, no expiry counted)."""
    if not reading.error:
        watch.observe_lease(reading.at, reading.lease)


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
    if lease is None:
        return LeaseLine("No desktop drives it · Take over…", True, None)
    who = "this desktop" if lease.holder == reading.here else f"desktop {lease.holder}"
    if lease.holder == reading.here:
        return LeaseLine(f"Driven by {who} (heartbeat {lease.heartbeat})", False, lease)
    unchanged = watch.unchanged_for
    if watch.expired:
        return LeaseLine(
            f"Desktop {lease.holder} silent for {span_text(unchanged)} · Take over…", True, lease
        )
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
