"""``domain.durations.format_duration``: the one notation every view writes a duration in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from drs_desktop.domain.durations import format_duration

ROUGH = [
    (0, "0 s"),
    (59.4, "59 s"),
    (60, "1 min"),
    (750, "12 min"),
    (3599, "59 min"),
    (3600, "1 h"),
    (3900, "1 h 5 min"),
    (7500, "2 h 5 min"),
    (86400, "1 d"),
    (90000, "1 d 1 h"),
    (49 * 3600, "2 d 1 h"),
    (72 * 3600, "3 d"),
    (-5, "0 s"),
]
EXACT = [
    (0, "0 s"),
    (45, "45 s"),
    (603, "10 min 3 s"),
    (750, "12 min 30 s"),
    (3600, "1 h"),
    (5400, "1 h 30 min"),
    (3907, "1 h 5 min 7 s"),
    (3607, "1 h 7 s"),
    (86400 + 5, "1 d 5 s"),
    (-5, "0 s"),
]


@pytest.mark.parametrize(("seconds", "text"), ROUGH)
def test_durations_read_naturally(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert format_duration(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize(("seconds", "text"), EXACT)
def test_exact_durations_keep_every_unit_down_to_the_second(seconds: float, text: str) -> None:
    assert format_duration(seconds, exact=True) == text
    assert format_duration(timedelta(seconds=seconds), exact=True) == text
