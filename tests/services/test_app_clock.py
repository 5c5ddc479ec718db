"""services.clock.AppClock: DRS's time against AWS, the simulator's virtual time in demo mode, and a
switch back to AWS that finds AWS's clock untouched by the simulator's answers. The simulator's own
VirtualClock drives it (manual, then at a scale), as the composition root wires it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drs_desktop.services.clock import STILL_CLOCK_POLL, AppClock
from drs_desktop.simulator.clock import VirtualClock

WALL = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


def test_aws_time_is_drs_time_and_demo_time_is_virtual() -> None:
    ticks = Ticks()
    clock = AppClock(wall=lambda: WALL, monotonic=ticks)
    assert clock.now() == WALL and not clock.anchored, "before DRS answers: the desktop's clock"
    clock.observe(WALL + timedelta(minutes=2))  # DRS is 2 minutes ahead of this desktop
    ticks.value += 30
    assert clock.now() == WALL + timedelta(minutes=2, seconds=30)
    assert clock.skew() == timedelta(minutes=-2)

    virtual = VirtualClock(WALL + timedelta(days=3))  # manual: moves when told
    clock.follow_simulator(virtual.now, lambda: virtual.scale)
    assert clock.simulated and clock.now() == virtual.now()
    virtual.advance(600)
    assert clock.now() == WALL + timedelta(days=3, minutes=10)
    clock.observe(virtual.now())  # the simulator's Date header
    assert clock.skew() == timedelta(0), "the demo's desktop clock is the simulator's"
    assert clock.pace(30) == STILL_CLOCK_POLL, "a manual clock: look again soon"

    clock.follow_drs()
    assert not clock.simulated
    assert clock.now() == WALL + timedelta(minutes=2, seconds=30), "AWS's clock kept no virtual time"
    assert clock.pace(30) == 30


def test_the_pace_follows_the_simulators_scale_as_it_changes() -> None:
    virtual = VirtualClock(WALL, scale=60.0)
    clock = AppClock()
    clock.follow_simulator(virtual.now, lambda: virtual.scale)
    assert clock.pace(60) == 1.0
    virtual.set_scale(600.0)
    assert clock.pace(60) == 0.1
    virtual.pause()
    assert clock.pace(60) == STILL_CLOCK_POLL
