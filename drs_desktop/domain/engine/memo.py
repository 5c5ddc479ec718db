"""Answers about one immutable state, remembered while that state is the one being asked about.

The engine asks the same question of the same state many times in one decision (each target's view,
the instances still looked for, ...), and a state is a frozen value: while it is the object asked about,
the answer cannot change. ``LastOf`` keeps the answers for the last object only (by identity, holding it,
so its ``id`` cannot be reused meanwhile). The pair is replaced in one assignment and read once, so
threads that drive different executions at once only ever miss, never mix answers. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["LastOf"]

K = TypeVar("K")
V = TypeVar("V")


class LastOf(Generic[K, V]):
    """``memo(owner, key, compute)``: ``compute()``, remembered for ``owner`` (the last one asked) and
    ``key``."""

    def __init__(self) -> None:
        self._last: tuple[object, dict[Hashable, V]] = (object(), {})

    def __call__(self, owner: object, key: Hashable, compute: Callable[[], V]) -> V:
        last = self._last
        if last[0] is not owner:
            last = (owner, {})
            self._last = last
        answers = last[1]
        if key not in answers:
            answers[key] = compute()
        return answers[key]
