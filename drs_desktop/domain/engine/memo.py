"""Answers about one immutable state, remembered while that state is the one being asked about.

The engine asks the same question of the same state many times in one decision (each target's view,
the instances still looked for, ...), and a state is a frozen value: while it is the object asked about,
the answer cannot change. ``LastOf`` keeps the answers for the last few objects asked about (one decision
asks about the full state and each target's view in turn), by identity, holding each so its ``id``
cannot be reused meanwhile. Entries are replaced whole and read once, so threads that drive different
executions at once only ever miss, never mix answers. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["LastOf"]

K = TypeVar("K")
V = TypeVar("V")


#: Owners remembered: a decision asks about the full state and up to a few dozen targets' views.
OWNERS = 32


class LastOf(Generic[K, V]):
    """``memo(owner, key, compute)``: ``compute()``, remembered for ``owner`` (one of the last
    ``OWNERS`` asked about) and ``key``."""

    def __init__(self) -> None:
        self._owners: dict[int, tuple[object, dict[Hashable, V]]] = {}

    def __call__(self, owner: object, key: Hashable, compute: Callable[[], V]) -> V:
        entry = self._owners.get(id(owner))
        if entry is None or entry[0] is not owner:
            entry = (owner, {})
            if len(self._owners) >= OWNERS:
                self._owners = {}  # a new decision's states: the old ones are not asked about again
            self._owners[id(owner)] = entry
        answers = entry[1]
        if key not in answers:
            answers[key] = compute()
        return answers[key]
