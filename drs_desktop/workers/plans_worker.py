"""The plans worker: every plan operation of the GUI, run off the GUI thread (DESIGN §3).

It lives on its own QThread (``WorkerThread``) and is driven by queued signals only. Each slot calls the
``PlanLibrary`` service and answers with a past-tense signal carrying frozen domain values, or with
``failed(operation, message)``: a slot never lets an exception escape, because an exception in a Qt slot
is lost to the operator and leaves the GUI waiting. Operation names are the slot names, so the GUI can
tell which request failed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from drs_desktop.domain.plan import RecoveryPlan
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.workers.guarded import guarded

logger = logging.getLogger(__name__)


class PlansWorker(QObject):
    """Plan list, open, save, history, diff, import, export, delete and the cached inventory."""

    plans_loaded = Signal(object)  # list[PlanSummary]
    plan_loaded = Signal(object)  # StoredPlan
    plan_saved = Signal(object, object)  # PlanRevision, tuple[Problem, ...] (validation of what was saved)
    history_loaded = Signal(str, object)  # plan name, list[PlanRevision] oldest first
    diff_loaded = Signal(str, int, int, object)  # plan name, old revision, new revision, list[str]
    plan_imported = Signal(object, object)  # PlanRevision, tuple[Problem, ...] warnings
    plan_exported = Signal(str, str)  # plan name, path written
    plan_deleted = Signal(str)  # plan name
    inventory_loaded = Signal(object)  # Inventory | None
    failed = Signal(str, str)  # operation (the slot's name), message for the operator

    def __init__(self, library: PlanLibrary, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library

    @Slot()
    def close(self) -> None:
        """Release this thread's read connection; ``WorkerThread(on_stop=worker.close)`` calls it."""
        try:
            self._library.close()
        except Exception:
            logger.exception("closing the plans worker's reader failed")

    @Slot()
    @guarded("load_plans")
    def load_plans(self) -> None:
        self.plans_loaded.emit(self._library.list_plans())

    @Slot(str, object)
    @guarded("load_plan")
    def load_plan(self, name: str, revision: int | None = None) -> None:
        self.plan_loaded.emit(self._library.load_plan(name, revision))

    @Slot(object, str, str, int)
    @guarded("save_plan")
    def save_plan(
        self, plan: RecoveryPlan, comment: str = "", previous_name: str = "", base_revision: int = 0
    ) -> None:
        if not isinstance(plan, RecoveryPlan):
            raise TypeError(f"save_plan needs a RecoveryPlan, got {type(plan).__name__}")
        saved = self._library.save_plan(
            plan, comment, previous_name=previous_name, base_revision=base_revision
        )
        self.plan_saved.emit(saved.revision, saved.problems)

    @Slot(str)
    @guarded("load_history")
    def load_history(self, name: str) -> None:
        self.history_loaded.emit(name, self._library.history(name))

    @Slot(str, int, int)
    @guarded("diff")
    def diff(self, name: str, old: int, new: int) -> None:
        self.diff_loaded.emit(name, old, new, self._library.diff(name, old, new))

    @Slot(str)
    @guarded("import_file")
    def import_file(self, path: str) -> None:
        imported = self._library.import_file(Path(path))
        self.plan_imported.emit(imported.revision, imported.warnings)

    @Slot(str, str, str)
    @guarded("export_file")
    def export_file(self, name: str, path: str, fmt: str = "") -> None:
        chosen: Any = fmt if fmt in ("yaml", "json") else None
        written = self._library.export_file(name, Path(path), chosen)
        self.plan_exported.emit(name, str(written))

    @Slot(str)
    @guarded("delete_plan")
    def delete_plan(self, name: str) -> None:
        self._library.delete_plan(name)
        self.plan_deleted.emit(name)

    @Slot()
    @guarded("load_inventory")
    def load_inventory(self) -> None:
        self.inventory_loaded.emit(self._library.inventory())
