"""DRS's time from its answers' Date header, carried forward on the monotonic clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drs_desktop.aws.drs_clock import DrsClock, parse_http_date

DRS = datetime(2031, 5, 1, 12, 0, 0, tzinfo=UTC)


class Ticks:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def test_before_any_answer_the_desktop_clock_stands_in() -> None:
    desktop = DRS + timedelta(minutes=10)
    clock = DrsClock(wall=lambda: desktop, monotonic=Ticks())
    assert not clock.anchored and clock.now() == desktop and clock.skew() is None


def test_an_answer_anchors_the_clock_and_the_desktop_skew_changes_nothing() -> None:
    ticks = Ticks()
    for skew in (timedelta(minutes=10), timedelta(hours=-1), timedelta(hours=1)):

        def desktop(skew: timedelta = skew) -> datetime:
            return DRS + skew + timedelta(seconds=ticks.value)

        clock = DrsClock(wall=desktop, monotonic=ticks)
        clock.observe(DRS)
        assert clock.anchored and clock.now() == DRS
        ticks.value += 90
        assert clock.now() == DRS + timedelta(seconds=90)  # the monotonic clock, not the wall
        assert clock.skew() is not None


def test_a_later_answer_moves_the_clock_on_and_an_earlier_one_never_back() -> None:
    ticks = Ticks()
    clock = DrsClock(wall=lambda: DRS, monotonic=ticks)
    clock.observe(DRS)
    ticks.value += 10.6
    clock.observe(DRS + timedelta(seconds=10))  # whole seconds: behind the estimate, kept
    assert clock.now() == DRS + timedelta(seconds=10.6)
    # A laptop that slept: the monotonic clock stood still, DRS moved on an hour.
    clock.observe(DRS + timedelta(hours=1))
    assert clock.now() == DRS + timedelta(hours=1)


def test_skew_is_the_desktop_minus_drs() -> None:
    clock = DrsClock(wall=lambda: DRS + timedelta(minutes=6), monotonic=Ticks())
    clock.observe(DRS)
    assert clock.skew() == timedelta(minutes=6)


def test_http_dates_parse_to_utc_and_garbage_to_none() -> None:
    assert parse_http_date("Thu, 01 May 2031 12:00:00 GMT") == DRS
    for bad in (None, "", "yesterday", 42, "Thu, 99 May 2031 12:00:00 GMT"):
        assert parse_http_date(bad) is None
