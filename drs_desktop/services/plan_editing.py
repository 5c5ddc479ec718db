"""The plan editor's use cases, Qt-free: one object a worker thread calls for every plan operation.

Why an object rather than the functions of ``services.plans``: the GUI's plan work runs on a task thread
(``workers.tasks``), and the design wants that thread to read through its own SQLite connection
(``Database.open_reader``) while every write goes through the process's one shared connection. A
``PlanLibrary`` belongs to the one thread that uses it (the task thread builds it): it holds its reader as
a plain attribute, opened on first use, and ``close()`` on that thread closes it. Writes and plan files
reuse ``services.plans``. Everything returned is a frozen domain value.

Saving does not refuse a plan with problems: an operator builds a plan over days, and a draft with an
empty wave must survive a restart. The problems come back with the saved revision, and running a plan
is what refuses errors (preflight).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drs_desktop.domain.errors import PlanConflictError, PlanNotFoundError, StorageError
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.revisions import PlanRevision, PlanSummary, StoredPlan
from drs_desktop.domain.plan.validation import Problem, validate_plan
from drs_desktop.services import plans as plan_service
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database, LazyReader
from drs_desktop.storage.planfile import PlanFormat

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SavedPlan:
    """A save's outcome: the revision now latest (new, or the unchanged latest one) and the problems."""

    revision: PlanRevision
    created: bool
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ImportedPlan:
    """A plan file imported as a revision, with the warnings the file's check gave."""

    revision: PlanRevision
    created: bool
    warnings: tuple[Problem, ...] = ()


class PlanLibrary:
    """Plans of one database for the editor: list, open, save, history, diff, import, export, delete."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] | None = None) -> None:
        self._db = db
        self._reader = LazyReader(db)
        # The time a save, rename or delete is stamped with: the GUI's one clock (services.clock), so in
        # demo mode a plan saved after a drill is saved after it on the drill's clock. None: now.
        self._clock = clock

    # -- reads (through this library's own connection)

    def list_plans(self) -> list[PlanSummary]:
        return plan_store.list_plans(self._reader())

    def load_plan(self, name: str, revision: int | None = None) -> StoredPlan:
        return plan_store.load_plan(self._reader(), name, revision)

    def history(self, name: str) -> list[PlanRevision]:
        return plan_store.list_revisions(self._reader(), name)

    def diff(self, name: str, old: int, new: int | None = None) -> list[str]:
        """What changed in plan ``name`` from revision ``old`` to ``new`` (latest when None)."""
        return plan_store.diff_revisions(self._reader(), name, old, new)

    def inventory(self) -> Inventory | None:
        """The most recent cached inventory, or None when the inventory was never refreshed."""
        return inventory_store.load_inventory(self._reader())

    # -- writes (through the shared connection)

    def save_plan(
        self, plan: RecoveryPlan, comment: str = "", *, previous_name: str = "", base_revision: int = 0
    ) -> SavedPlan:
        """Save ``plan`` as the next revision of the plan it was opened as (``previous_name``).

        ``base_revision`` is the revision the editor opened (0: no check); when the stored plan has moved
        on since, PlanConflictError, so one pane never silently overwrites another's save.
        An empty ``previous_name`` means a new plan, refused when its name is taken: saving over another
        plan by accident would bury that plan's content under a revision. A plan renamed in the editor
        keeps its identity and history: the stored plan is renamed (a revision of its own) before the
        edited content is saved, both in one transaction.
        """
        with self._db.transaction():
            stored = self._latest(previous_name or plan.name)
            if base_revision and stored is not None and stored != base_revision:
                raise PlanConflictError(
                    f"plan {previous_name or plan.name!r} was saved elsewhere as revision {stored} after "
                    f"this editor opened revision {base_revision}; nothing was saved and your edits are "
                    "still here: reopen the plan to see the other change, then edit again"
                )
            before = self._latest(plan.name)
            if not previous_name and before is not None:
                raise StorageError(
                    f"a plan named {plan.name!r} already exists; open that plan, or name this one differently"
                )
            if previous_name and previous_name != plan.name and self._exists(previous_name):
                plan_store.rename_plan(self._db, previous_name, plan.name, comment=comment, now=self._now())
                before = None
            revision = plan_store.save_plan(self._db, plan, comment=comment, now=self._now())
        problems = tuple(validate_plan(plan, self.inventory()))
        logger.info("saved plan %r revision %d (%d problems)", plan.name, revision.revision, len(problems))
        return SavedPlan(revision, revision.revision != before, problems)

    def import_file(self, path: Path, comment: str = "") -> ImportedPlan:
        """Check a plan file whole (and against the cached inventory), then save it (services.plans)."""
        result = plan_service.import_plan_file(
            self._db, path, comment=comment or f"imported from {path.name}", now=self._now()
        )
        return ImportedPlan(result.revision, result.created, result.warnings)

    def export_file(
        self, name: str, path: Path, fmt: PlanFormat | None = None, revision: int | None = None
    ) -> Path:
        """Write plan ``name`` to ``path`` atomically, as YAML or JSON (by suffix when ``fmt`` is None)."""
        chosen: PlanFormat = fmt or ("json" if path.suffix.lower() == ".json" else "yaml")
        plan_service.export_plan(self._db, name, chosen, revision=revision, output=path)
        return path

    def delete_plan(self, name: str) -> None:
        plan_store.delete_plan(self._db, name, now=self._now())

    def close(self) -> None:
        """Close the read connection, on the thread that used it (a task thread does as it stops)."""
        self._reader.close()

    # -- helpers

    def _now(self) -> datetime | None:
        return self._clock() if self._clock is not None else None

    def _latest(self, name: str) -> int | None:
        try:
            return plan_store.load_plan(self._db, name).revision.revision
        except PlanNotFoundError:
            return None

    def _exists(self, name: str) -> bool:
        return self._latest(name) is not None
