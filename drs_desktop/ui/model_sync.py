"""Bring one level of an item model's rows from their current order to a target order, with the
fine-grained signals views need (remove, move, insert), never a reset.

Why: after an edit or an undo the plan editor gets a whole new plan, yet the view must keep its
selection, its expanded waves and its scroll position, and a 1,000-server plan must not be rebuilt for a
one-server move. Rows are identified by hashable keys, unique at their level. Removals and insertions go
in contiguous runs; moves are the fewest that work: the rows on a longest increasing subsequence of the
current order stay, and only the others move (moving one server to the end of a 100-server wave is one
move, not 99).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Hashable, Sequence
from typing import TypeVar

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
AnyIndex = QModelIndex | QPersistentModelIndex


def sync_rows(model: QAbstractItemModel, parent: AnyIndex, items: list[K], target: Sequence[K]) -> None:
    """Mutate ``items`` into ``target`` under ``parent``, announcing each step through ``model``.

    ``items`` must be the very list the model reads its rows from, so that the model is consistent
    between each begin/end pair.
    """
    wanted = set(target)
    _remove_runs(model, parent, items, wanted)
    present = set(items)
    kept = [key for key in target if key in present]
    _move_into_order(model, parent, items, kept)
    _insert_runs(model, parent, items, target, present)


def _remove_runs(model: QAbstractItemModel, parent: AnyIndex, items: list[K], wanted: set[K]) -> None:
    row = len(items) - 1
    while row >= 0:
        if items[row] in wanted:
            row -= 1
            continue
        last = row
        while row > 0 and items[row - 1] not in wanted:
            row -= 1
        model.beginRemoveRows(parent, row, last)
        del items[row : last + 1]
        model.endRemoveRows()
        row -= 1


def _move_into_order(model: QAbstractItemModel, parent: AnyIndex, items: list[K], kept: list[K]) -> None:
    if items == kept:
        return
    position = {key: row for row, key in enumerate(items)}
    staying = _longest_increasing([position[key] for key in kept])
    for order, key in enumerate(kept):
        if order in staying:
            continue
        # Place the key right after its predecessor in the target order (or first): predecessors are
        # either staying rows, in order already, or moved rows placed in an earlier iteration.
        source = items.index(key)
        dest = 0 if order == 0 else items.index(kept[order - 1]) + 1
        if dest in (source, source + 1):
            continue
        model.beginMoveRows(parent, source, source, parent, dest)
        items.pop(source)
        items.insert(dest - 1 if dest > source else dest, key)
        model.endMoveRows()


def _insert_runs(
    model: QAbstractItemModel, parent: AnyIndex, items: list[K], target: Sequence[K], present: set[K]
) -> None:
    row = 0
    while row < len(target):
        if target[row] in present:
            row += 1
            continue
        first = row
        while row + 1 < len(target) and target[row + 1] not in present:
            row += 1
        model.beginInsertRows(parent, first, row)
        items[first:first] = target[first : row + 1]
        model.endInsertRows()
        row += 1


def _longest_increasing(values: Sequence[int]) -> set[int]:
    """Indices (into ``values``) of one longest strictly increasing subsequence."""
    tails: list[int] = []  # tails[k]: value ending the best subsequence of length k + 1
    tail_index: list[int] = []
    previous = [-1] * len(values)
    for i, value in enumerate(values):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        previous[i] = tail_index[k - 1] if k else -1
    chosen: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i != -1:
        chosen.add(i)
        i = previous[i]
    return chosen
