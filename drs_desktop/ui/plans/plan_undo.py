"""Undo and redo for the plan editor: each command holds the plan before and after one edit.

Why whole plans rather than inverse operations: plans are frozen, and an edit shares every wave it did
not touch, so keeping both versions costs a few tuples, and undo gives back exactly the plan that was
there, bit for bit, however the edit was computed. The edit itself is a ``domain.plan.edit`` function,
applied once when the command is built, so an impossible edit raises ``PlanEditError`` before anything
reaches the stack.

Commands call ``PlanHolder.apply_plan`` (the editor), which updates the model with fine-grained signals
and re-selects the rows the edit concerned (``select``), so that undoing a move shows the moved servers
back where they came from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from typing import Protocol

from PySide6.QtGui import QUndoCommand

from drs_desktop.domain.plan.model import RecoveryPlan

logger = logging.getLogger(__name__)

#: A row to select after the edit: ("wave", name), ("server", ID) or ("group", name).
Ref = tuple[str, str]
Edit = Callable[[RecoveryPlan], RecoveryPlan]

_MERGEABLE_ID = 4711


class PlanHolder(Protocol):
    def apply_plan(self, plan: RecoveryPlan, select: Sequence[Ref]) -> None: ...


class PlanEditCommand(QUndoCommand):
    """One edit: ``redo`` shows ``after``, ``undo`` shows ``before``."""

    def __init__(
        self,
        holder: PlanHolder,
        text: str,
        before: RecoveryPlan,
        after: RecoveryPlan,
        select: Sequence[Ref] = (),
    ) -> None:
        super().__init__(text)
        self._holder = holder
        self.before = before
        self.after = after
        self.select = tuple(select)

    @classmethod
    def build(
        cls, holder: PlanHolder, text: str, plan: RecoveryPlan, edit: Edit, select: Sequence[Ref] = ()
    ) -> PlanEditCommand:
        """The command for ``edit`` applied to ``plan``; raises the edit's ``PlanEditError``."""
        return cls(holder, text, plan, edit(plan), select)

    def redo(self) -> None:
        self._holder.apply_plan(self.after, self.select)

    def undo(self) -> None:
        self._holder.apply_plan(self.before, self.select)


class MergingEditCommand(PlanEditCommand):
    """An edit that merges with the next one of the same ``merge_key``: renaming a wave, or changing
    one plan field, several times in a row is one step to undo."""

    def __init__(
        self,
        holder: PlanHolder,
        text: str,
        before: RecoveryPlan,
        after: RecoveryPlan,
        select: Sequence[Ref] = (),
        *,
        merge_key: Hashable = None,
    ) -> None:
        super().__init__(holder, text, before, after, select)
        self.merge_key = merge_key

    @classmethod
    def build_merging(
        cls,
        holder: PlanHolder,
        text: str,
        plan: RecoveryPlan,
        edit: Edit,
        merge_key: Hashable,
        select: Sequence[Ref] = (),
    ) -> MergingEditCommand:
        return cls(holder, text, plan, edit(plan), select, merge_key=merge_key)

    def id(self) -> int:
        return _MERGEABLE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MergingEditCommand) or other.merge_key != self.merge_key:
            return False
        if other.before != self.after:
            return False
        self.after = other.after
        self.setText(other.text())
        if self.after == self.before:
            self.setObsolete(True)  # renamed back: nothing left to undo
        return True
