"""``domain.lease.LeaseWatch``: an observer calls a lease expired only when the heartbeat and holder it
reads have stayed the same for ``expiry`` seconds of its own monotonic clock (docs/sync.md, "Leases")."""

from __future__ import annotations

import pytest

from drs_desktop.domain.lease import LEASE_EXPIRY, Lease, LeaseWatch


def test_expired_only_after_expiry_seconds_of_unchanged_readings() -> None:
    watch = LeaseWatch(expiry=60.0)
    assert watch.observe(1000.0, 7, "desk-a") is False
    assert watch.observe(1030.0, 7, "desk-a") is False
    assert watch.observe(1059.9, 7, "desk-a") is False
    assert watch.remaining == pytest.approx(0.1)
    assert watch.observe(1060.0, 7, "desk-a") is True
    assert watch.expired and watch.unchanged_for == 60.0
    assert (watch.heartbeat, watch.holder) == (7, "desk-a")


def test_beats_that_keep_coming_never_expire_it() -> None:
    watch = LeaseWatch(expiry=60.0)
    for step in range(100):  # 500 s of readings, every one showing a new beat
        assert watch.observe(1000.0 + 5 * step, step, "desk-a") is False
    assert watch.unchanged_for == 0.0


def test_a_new_heartbeat_or_holder_restarts_the_count() -> None:
    watch = LeaseWatch(expiry=60.0)
    watch.observe(0.0, 3, "desk-a")
    watch.observe(50.0, 4, "desk-a")  # one beat landed just before this reading
    assert watch.observe(100.0, 4, "desk-a") is False  # 50 s since 4 was first seen
    assert watch.observe(110.0, 4, "desk-a") is True
    # Taken over by another desktop with the same number (not possible in the table, where the counter
    # only grows, but the holder alone must restart it too).
    assert watch.observe(111.0, 4, "desk-b") is False
    assert watch.unchanged_for == 0.0 and watch.holder == "desk-b"


def test_without_readings_it_does_not_expire() -> None:
    watch = LeaseWatch(expiry=60.0)
    watch.observe(0.0, 3, "desk-a")
    # The observer could not read for ten minutes: only a reading can say "unchanged".
    assert watch.expired is False
    assert watch.observe(600.0, 3, "desk-a") is True  # the next reading does


def test_no_lease_is_free_and_a_lease_after_it_starts_afresh() -> None:
    watch = LeaseWatch()
    assert watch.expiry == LEASE_EXPIRY
    watch.observe(0.0, 3, "desk-a")
    assert watch.observe_lease(100.0, None) is False
    assert watch.free and watch.holder is None and watch.heartbeat is None
    assert watch.observe_lease(101.0, Lease("e1", "desk-a", 3)) is False  # same pair, after a gap: new
    assert not watch.free and watch.unchanged_for == 0.0
    assert watch.observe_lease(100.0 + LEASE_EXPIRY, Lease("e1", "desk-a", 3)) is False
    assert watch.observe_lease(101.0 + LEASE_EXPIRY, Lease("e1", "desk-a", 3)) is True


def test_a_clock_that_goes_back_is_refused() -> None:
    watch = LeaseWatch()
    watch.observe(10.0, 1, "desk-a")
    with pytest.raises(ValueError, match="went back"):
        watch.observe(9.0, 1, "desk-a")
    with pytest.raises(ValueError, match="positive"):
        LeaseWatch(expiry=0)
