"""An execution's lineage (domain/sync_lineage.py) and the journal pages cut by it (aws/sync_history.py)."""

from __future__ import annotations

import pytest

from drs_desktop.aws.sync_history import cut_pages
from drs_desktop.domain.sync_lineage import (
    LineageError,
    derive,
    diverges_at,
    dump,
    extends,
    parse,
    segments,
)


def test_the_lineage_is_the_first_driver_then_every_takeover() -> None:
    events = [
        (1, {"type": "ExecutionStarted"}),
        (11, {"type": "TakenOver", "by": "b"}),
        (12, {"type": "ServerPolled", "by": "x"}),
        (30, {"type": "TakenOver", "by": "a"}),
    ]
    lineage = derive("a", events)
    assert lineage == ((1, "a"), (11, "b"), (30, "a"))
    assert parse(dump(lineage)) == lineage
    assert segments(lineage, 5, 40) == [(1, "a", 5, 10), (11, "b", 11, 29), (30, "a", 30, 40)]
    assert segments(lineage, 12, 20) == [(11, "b", 12, 20)]


@pytest.mark.parametrize(
    "value",
    [None, [], [[2, "a"]], [[1, "a"], [1, "b"]], [[1, ""]], [[1, "a#b"]], [[True, "a"]], [["1", "a"]], [[1]]],
)
def test_a_lineage_not_as_designed_is_refused(value: object) -> None:
    with pytest.raises(LineageError):
        parse(value)


def test_which_lineage_extends_which_and_where_they_part() -> None:
    a = ((1, "a"),)
    ab = ((1, "a"), (11, "b"))
    ac = ((1, "a"), (9, "c"))
    assert extends(ab, a) and not extends(a, ab) and not extends(ab, ab) and not extends(ab, ac)
    assert diverges_at(a, ab) == 11 and diverges_at(ab, a) == 11
    assert diverges_at(ab, ac) == 9 and diverges_at(ab, ab) is None


def test_pages_never_cross_a_takeover() -> None:
    events = [{"type": "E", "n": n} for n in range(5, 16)]
    pages = cut_pages("x", 5, events, ((1, "a"), (11, "b")))
    assert [(p.segment, p.driver, p.first, p.last) for p in pages] == [(1, "a", 5, 10), (11, "b", 11, 15)]
