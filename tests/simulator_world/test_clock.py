"""The virtual clock: manual for tests, scaled for demos, never backwards."""

from __future__ import annotations

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
