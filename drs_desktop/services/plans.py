"""Plan use cases shared by the CLI and the GUI: check, import, export, list, history, diff.

Each function takes an open ``Database`` (the composition root opens one per process) and returns domain
values. Import checks the whole file, and the plan against the cached inventory when there is one, before
it writes anything: a plan is saved whole or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from drs_desktop.domain.errors import PlanFileError
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.revisions import PlanRevision, PlanSummary
from drs_desktop.domain.plan.targets import Connected, target_matches
from drs_desktop.domain.plan.validation import Problem, Severity, validate_plan
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database
from drs_desktop.storage.planfile import dump_plan, load_plan_file, write_plan_file

logger = logging.getLogger(__name__)

PlanFormat = Literal["yaml", "json"]


@dataclass(frozen=True)
class CheckedPlan:
    """A plan file that holds a valid plan, with its warnings and what it was checked against."""

    plan: RecoveryPlan
    warnings: tuple[Problem, ...]
    inventory_note: str = ""


@dataclass(frozen=True)
class ImportResult:
    revision: PlanRevision
    created: bool  # False when the file matched the latest revision, so nothing new was saved
    warnings: tuple[Problem, ...]


def check_plan_file(path: Path, inventory: Inventory | None = None) -> CheckedPlan:
    """Read and validate a plan file; with an inventory, also check that every server exists.

    Raises PlanFileError listing every problem (file, line where known, field path).
    """
    loaded = load_plan_file(path)
    warnings = tuple(loaded.warnings)
    note = ""
    if inventory is not None:
        problems = validate_plan(loaded.plan, inventory)
        errors = [p for p in problems if p.severity is Severity.ERROR]
        if errors:
            lines = loaded.lines_for([p.path for p in errors])
            raise PlanFileError(
                str(path), [(p.path, line, p.message) for p, line in zip(errors, lines, strict=True)]
            )
        warnings = tuple(p for p in problems if p.severity is Severity.WARNING)
        stamp = f"{inventory.fetched_at:%Y-%m-%d %H:%M} UTC" if inventory.fetched_at else "an unknown time"
        note = (
            f"checked against the cached inventory of account {inventory.account_id or '?'} "
            f"in {inventory.region or '?'} ({len(inventory.servers)} servers, as of {stamp})"
        )
        connected = Connected(inventory.account_id, inventory.region)
        others = [t.name for t in loaded.plan.targets if not target_matches(t, connected)]
        if others:
            note += f"; servers of target(s) {', '.join(others)} were not checked (not that inventory's)"
    return CheckedPlan(loaded.plan, warnings, note)


def cached_inventory(db: Database) -> Inventory | None:
    """The most recent cached inventory, or None when the inventory was never refreshed."""
    return inventory_store.load_inventory(db)


def import_plan_file(
    db: Database,
    path: Path,
    *,
    comment: str = "",
    use_inventory: bool = True,
    now: datetime | None = None,
) -> ImportResult:
    """Validate ``path`` completely, then save it as the plan's next revision (or nothing, if unchanged)."""
    checked = check_plan_file(path, cached_inventory(db) if use_inventory else None)
    before = _latest_revision_number(db, checked.plan.name)
    revision = plan_store.save_plan(db, checked.plan, comment=comment, now=now)
    created = revision.revision != before
    logger.info("imported %s as plan %r revision %d", path, revision.name, revision.revision)
    return ImportResult(revision, created, checked.warnings)


def _latest_revision_number(db: Database, name: str) -> int | None:
    for summary in plan_store.list_plans(db):
        if summary.name.casefold() == name.casefold():
            return summary.latest_revision
    return None


def export_plan(
    db: Database, name: str, fmt: PlanFormat, *, revision: int | None = None, output: Path | None = None
) -> str:
    """The plan as YAML or JSON text; with ``output``, also written there atomically."""
    plan = plan_store.get_plan(db, name, revision)
    if output is not None:
        write_plan_file(plan, output, fmt)
    return dump_plan(plan, fmt)


def list_plans(db: Database) -> list[PlanSummary]:
    return plan_store.list_plans(db)


def plan_history(db: Database, name: str) -> list[PlanRevision]:
    return plan_store.list_revisions(db, name)


def diff_revisions(db: Database, name: str, rev_a: int, rev_b: int) -> list[str]:
    """What changed from revision ``rev_a`` to ``rev_b``, one line per change."""
    return plan_store.diff_revisions(db, name, rev_a, rev_b)


def summary_to_json(summary: PlanSummary) -> dict[str, Any]:
    return {
        "name": summary.name,
        "latest_revision": summary.latest_revision,
        "updated_at": summary.updated_at.isoformat(),
        "waves": summary.wave_count,
        "servers": summary.server_count,
    }
