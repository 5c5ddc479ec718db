"""The virtual clock: manual for tests, scaled for demos, never backwards."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from drs_desktop.simulator.clock import DEFAULT_START, VirtualClock


def test_manual_clock_stands_still_until_advanced() -> None:
    clock = VirtualClock()
    assert clock.manual
    assert clock.now() == DEFAULT_START
    assert clock.now() == DEFAULT_START
    assert clock.advance(90) == DEFAULT_START + timedelta(seconds=90)
    target = DEFAULT_START + timedelta(hours=2)
    assert clock.advance_to(target) == target
    assert clock.now_ts() == target.timestamp()


def test_clock_refuses_to_go_backwards_or_naive() -> None:
    clock = VirtualClock(datetime(2026, 3, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.advance_to(datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.advance_to(datetime(2026, 4, 1))
    with pytest.raises(ValueError):
        VirtualClock(datetime(2026, 3, 1))


def test_scaled_clock_runs_scale_times_real_time_plus_advances() -> None:
    real = [1000.0]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = VirtualClock(start, scale=60, real_time=lambda: real[0])
    assert not clock.manual
    real[0] += 20  # 20 real seconds at x60: a 20-minute drill
    assert clock.now() == start + timedelta(minutes=20)
    clock.advance(600)
    assert clock.now() == start + timedelta(minutes=30)
    with pytest.raises(ValueError):
        VirtualClock(start, scale=-1)


def _waiter(
    clock: VirtualClock, ts: float, cancelled: threading.Event | None = None
) -> tuple[threading.Thread, list[bool]]:
    """A thread blocked in ``clock.wait_until(ts)``; its result lands in the returned list."""
    result: list[bool] = []
    stop = cancelled or threading.Event()
    thread = threading.Thread(target=lambda: result.append(clock.wait_until(ts, cancelled=stop.is_set)))
    thread.start()
    return thread, result


def test_wait_until_on_a_manual_clock_is_woken_by_advance() -> None:
    clock = VirtualClock()
    target = clock.now_ts() + 90
    thread, result = _waiter(clock, target)
    clock.advance(60)  # not far enough: only an advance past the target releases the waiter
    assert result == []
    clock.advance(30)
    thread.join(timeout=5)
    assert not thread.is_alive() and result == [True]
    assert clock.wait_until(target - 1)  # already passed: returns at once


def test_wait_until_gives_up_when_cancelled_and_woken() -> None:
    clock = VirtualClock(scale=0)  # frozen: time never moves on its own
    before = clock.now()
    cancelled = threading.Event()
    thread, result = _waiter(clock, clock.now_ts() + 3600, cancelled)
    cancelled.set()
    clock.wake()
    thread.join(timeout=5)
    assert not thread.is_alive() and result == [False]
    assert clock.now() == before  # waking moved nothing


def test_wait_until_on_a_scaled_clock_waits_the_real_time() -> None:
    clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), scale=36000)  # 36 virtual s = 1 real ms
    target = clock.now_ts() + 36
    thread, result = _waiter(clock, target)
    thread.join(timeout=5)
    assert not thread.is_alive() and result == [True]
    assert clock.now_ts() >= target
