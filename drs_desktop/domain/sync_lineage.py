"""An execution's lineage: which desktop journaled which events (docs/sync.md, "More than one driver").

An execution is driven by one desktop at a time, but not always the same one: when its driver goes
silent, another desktop takes the lease over and journals ``TakenOver`` (``by``: its desktop ID) as its
first own event, continuing the seq numbers from the last event it held. The old driver may come back with
events it journaled but never pushed, under the same seq numbers. The lineage says whose events are the
execution's: ``((first_seq, desktop_id), ...)``, the first driver from seq 1, then each takeover's desktop
from the seq of its ``TakenOver``. Journal pages in the table are keyed by their segment of the lineage,
so two drivers' events under one seq never collide, and a reader reads each seq range from its driver only.

Pure: derived from the local journal, compared with the one a table head carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: The journal event a desktop writes first when it takes an execution over (its payload's ``by``).
TAKEN_OVER = "TakenOver"

Lineage = tuple[tuple[int, str], ...]


class LineageError(ValueError):
    """A lineage that is not what the design says (a head's ``drivers``)."""


def derive(first_driver: str, events: Iterable[tuple[int, Mapping[str, Any]]]) -> Lineage:
    """The lineage of a journal: ``first_driver`` from seq 1, then each ``TakenOver``'s ``by`` from its seq.

    Every takeover starts a segment, even one by the desktop already driving (a desktop taking its own
    run back from a lagging copy): the segment, not the desktop alone, names its pages.
    """
    lineage = [(1, first_driver)]
    for seq, payload in events:
        if payload.get("type") == TAKEN_OVER and seq > 1:
            by = payload.get("by")
            if isinstance(by, str) and by:
                lineage.append((seq, by))
    return tuple(lineage)


def parse(value: object) -> Lineage:
    """A head's ``drivers`` (``[[first_seq, desktop_id], ...]``) checked; LineageError says what is wrong."""
    if not isinstance(value, list) or not value:
        raise LineageError("'drivers' is not a non-empty list of [first_seq, desktop_id]")
    lineage: list[tuple[int, str]] = []
    for entry in value:
        if (
            not isinstance(entry, list)
            or len(entry) != 2
            or not isinstance(entry[0], int)
            or isinstance(entry[0], bool)
            or not isinstance(entry[1], str)
        ):
            raise LineageError(f"'drivers' entry {entry!r} is not [first_seq, desktop_id]")
        seq, desktop = entry
        if not desktop or "#" in desktop:
            raise LineageError(f"'drivers' entry {entry!r}: a desktop ID is not empty and has no '#'")
        if (not lineage and seq != 1) or (lineage and seq <= lineage[-1][0]):
            raise LineageError("'drivers' does not start at seq 1 and go up")
        lineage.append((seq, desktop))
    return tuple(lineage)


def dump(lineage: Lineage) -> list[list[int | str]]:
    """The head body's form of a lineage."""
    return [[seq, desktop] for seq, desktop in lineage]


def last_driver(lineage: Lineage) -> str:
    return lineage[-1][1]


def segments(lineage: Lineage, low: int, high: int) -> list[tuple[int, str, int, int]]:
    """``(segment start, driver, from, to)`` for each segment overlapping seqs ``low..high``, clipped."""
    found = []
    for n, (start, desktop) in enumerate(lineage):
        end = lineage[n + 1][0] - 1 if n + 1 < len(lineage) else high
        lo, hi = max(low, start), min(high, end)
        if lo <= hi:
            found.append((start, desktop, lo, hi))
    return found


def extends(longer: Lineage, shorter: Lineage) -> bool:
    """True when ``longer`` is ``shorter`` and at least one takeover more: its driver took the execution
    over after every event ``shorter``'s last driver journaled up to that takeover."""
    return len(longer) > len(shorter) and longer[: len(shorter)] == shorter


def diverges_at(local: Lineage, table: Lineage) -> int | None:
    """The first seq whose driver the two lineages disagree on (None when one is a prefix of the other
    and neither has a later segment: the same lineage)."""
    for mine, theirs in zip(local, table, strict=False):
        if mine != theirs:
            return min(mine[0], theirs[0])
    if len(local) == len(table):
        return None
    return (table if len(table) > len(local) else local)[min(len(local), len(table))][0]
