"""Applying the retention of executions and their evidence (issue 18, item 6): list, then delete.

Two steps, never one, because deleting history deletes evidence: ``plan`` lists what a retention of N
days deletes and what it keeps (with why: ``domain.views.retention``), and ``apply`` deletes exactly the
runs of a plan the operator saw and confirmed (the CLI's question, the GUI's dialog). Nothing calls
``apply`` on a timer. ``delete`` does the same for one execution named by ID, with the same rules but its
age.

Why the facts are gathered again inside ``apply``: between the list and the confirmation, a teammate's
pull may add a finding to a run, a cleanup may start, a sync conflict may appear. Each run is checked
again while its driver lock is held (so no cleanup or resume starts on it meanwhile), and one that no
longer may go is kept and said, not deleted. The rows go in one SQLite transaction per batch
(``storage.retention``), with a tombstone queued for the team; the evidence files the app wrote for a
run under its home (``<home>/reports``, a file whose name holds the execution's ID) are removed once its
batch is committed, and a file that cannot be removed is said, never hidden.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drs_desktop.config import AppPaths
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.settings import RETENTION_KEY
from drs_desktop.domain.views.audit import audit_record
from drs_desktop.domain.views.drill_net_evidence import maybe_left_pointed
from drs_desktop.domain.views.retention import (
    KeptRun,
    RetentionPlan,
    RunFacts,
    kept_reasons,
    retention_cutoff,
    select_for_retention,
)
from drs_desktop.services.driver_lock import DriverLock, lock_path
from drs_desktop.services.journal_replay import replay_journal
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage.db import Database, Readable, utc_now
from drs_desktop.storage.retention import DeletedExecution, delete_executions
from drs_desktop.storage.settings import get_int, set_setting
from drs_desktop.storage.sync_conflicts import open_conflicts

logger = logging.getLogger(__name__)

__all__ = ["BATCH", "RetentionOutcome", "RetentionRefused", "RetentionService"]

#: Executions deleted per SQLite transaction: a batch holds the database's write lock (the running
#: executions' journals wait behind it), so a long list goes in several short transactions.
BATCH = 50
#: Executions read for a plan; more than any desktop's history.
_SCAN_LIMIT = 100_000


class RetentionRefused(DrsDesktopError):
    """One execution named for deletion must stay: the message says why."""


@dataclass(frozen=True)
class RetentionOutcome:
    """What ``apply`` or ``delete`` did: the runs deleted, the runs kept since the list (with why), the
    evidence files removed and those that could not be."""

    deleted: tuple[DeletedExecution, ...] = ()
    kept: tuple[KeptRun, ...] = ()
    files_removed: tuple[str, ...] = ()
    files_failed: tuple[str, ...] = ()

    @property
    def tombstones(self) -> int:
        return sum(1 for d in self.deleted if d.tombstone)

    def describe(self) -> str:
        """One line for the status bar or the terminal."""
        parts = [f"Deleted {len(self.deleted)} execution(s)"]
        if self.tombstones:
            parts.append(f"{self.tombstones} deletion(s) queued for the team's table")
        if self.files_removed:
            parts.append(f"{len(self.files_removed)} evidence file(s) removed")
        if self.kept:
            parts.append(f"{len(self.kept)} kept because they changed since the list")
        if self.files_failed:
            parts.append(f"{len(self.files_failed)} evidence file(s) could not be removed")
        return "; ".join(parts) + "."


class RetentionService:
    """Retention of one database's executions. ``clock``: the time the cutoff counts from (the GUI's one
    clock, the CLI's desktop time); ``reports_dir``: where the app keeps evidence files it wrote
    (default ``<home>/reports`` beside the database)."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] | None = None,
        reports_dir: Path | None = None,
    ) -> None:
        self._db = db
        self._clock = clock or utc_now
        self._reports = reports_dir if reports_dir is not None else AppPaths(db.path.parent).reports

    # -- the setting ---------------------------------------------------------------------------------

    def days(self) -> int:
        """The retention setting (``retention.executions_days``; 0 keeps everything)."""
        return get_int(self._db, RETENTION_KEY)

    def set_days(self, days: int) -> int:
        """Store the setting (SettingError for a negative or non-whole number); nothing is deleted."""
        set_setting(self._db, RETENTION_KEY, days)
        return self.days()

    # -- listing -------------------------------------------------------------------------------------

    def plan(self, days: int | None = None) -> RetentionPlan:
        """What a retention of ``days`` (default: the setting) deletes and keeps, as of the clock's now."""
        chosen = self.days() if days is None else days
        now = self._clock()
        cutoff = retention_cutoff(now, chosen)
        records = execution_store.list_executions(self._db, limit=_SCAN_LIMIT)
        conflicts = self._conflicts()
        files = self._evidence_files()
        facts = [self._facts(r, cutoff, conflicts, files, full=_may_go(r, cutoff)) for r in records]
        return select_for_retention(facts, chosen, now)

    def check(self, execution_id: str) -> tuple[RunFacts, tuple[str, ...]]:
        """One execution's facts and why it must stay (empty: it may be deleted), its age aside.
        ``execution_id`` may be a unique prefix."""
        record = execution_store.get_execution(self._db, execution_id)
        facts = self._facts(record, None, self._conflicts(), self._evidence_files(), full=True)
        return facts, kept_reasons(facts, None)

    # -- deleting ------------------------------------------------------------------------------------

    def apply(self, plan: RetentionPlan, *, batch: int = BATCH) -> RetentionOutcome:
        """Delete the runs ``plan`` lists as going (what the operator confirmed), each checked again."""
        if plan.cutoff is None or not plan.goes:
            return RetentionOutcome()
        ids = [f.execution_id for f in plan.goes]
        return self._delete(ids, plan.cutoff, batch)

    def delete(self, execution_id: str) -> RetentionOutcome:
        """Delete one execution (after the operator confirmed it), with the retention's rules but its
        age; RetentionRefused naming why when one holds."""
        facts, reasons = self.check(execution_id)
        if reasons:
            raise RetentionRefused(
                f"execution {facts.execution_id} of {facts.plan_name!r} is kept: {'; '.join(reasons)}"
            )
        outcome = self._delete([facts.execution_id], None, 1)
        if outcome.kept:
            kept = outcome.kept[0]
            raise RetentionRefused(
                f"execution {facts.execution_id} of {facts.plan_name!r} is kept: {'; '.join(kept.reasons)}"
            )
        return outcome

    def _delete(self, ids: Sequence[str], cutoff: datetime | None, batch: int) -> RetentionOutcome:
        deleted: list[DeletedExecution] = []
        kept: list[KeptRun] = []
        removed: list[str] = []
        failed: list[str] = []
        for start in range(0, len(ids), max(batch, 1)):
            chunk = ids[start : start + max(batch, 1)]
            locks: list[DriverLock] = []
            try:
                going: list[RunFacts] = []
                conflicts, files = self._conflicts(), self._evidence_files()
                for execution_id in chunk:
                    try:
                        record = execution_store.get_execution(self._db, execution_id)
                    except execution_store.ExecutionNotFoundError:
                        continue  # gone meanwhile (a teammate's tombstone pulled): nothing to do
                    lock = DriverLock(lock_path(self._db.path, execution_id), execution_id=execution_id)
                    facts = self._facts(record, cutoff, conflicts, files, full=True)
                    if not lock.acquire():
                        holder = lock.holder()
                        facts = _with_driver(facts, holder.describe() if holder else "another process")
                    else:
                        locks.append(lock)
                    reasons = kept_reasons(facts, cutoff)
                    if reasons:
                        kept.append(KeptRun(facts, reasons))
                    else:
                        going.append(facts)
                if going:
                    deleted += delete_executions(self._db, [f.execution_id for f in going])
                    for facts in going:
                        self._remove_files(facts.evidence_files, removed, failed)
            finally:
                for lock in locks:
                    lock.release()
        return RetentionOutcome(tuple(deleted), tuple(kept), tuple(removed), tuple(failed))

    # -- facts ---------------------------------------------------------------------------------------

    def _facts(
        self,
        record: ExecutionRecord,
        cutoff: datetime | None,
        conflicts: set[str],
        files: Sequence[Path],
        *,
        full: bool,
    ) -> RunFacts:
        facts = RunFacts(
            execution_id=record.execution_id,
            plan_name=record.plan_name,
            mode=record.mode,
            started_at=record.started_at,
            finished_at=record.finished_at,
            outcome=record.outcome,
            conflict=record.execution_id in conflicts,
            evidence_files=tuple(str(p) for p in files if record.execution_id in p.name),
        )
        if not full:
            return facts
        return _journal_facts(self._db, record, facts)

    def _conflicts(self) -> set[str]:
        return {c.key for c in open_conflicts(self._db) if c.kind == "EXEC"}

    def _evidence_files(self) -> list[Path]:
        """The files under ``<home>/reports`` (not below): the app's own exports, named by execution."""
        try:
            return sorted(p for p in self._reports.iterdir() if p.is_file())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise DrsDesktopError(f"cannot list the evidence folder {self._reports}: {exc}") from exc

    @staticmethod
    def _remove_files(paths: Sequence[str], removed: list[str], failed: list[str]) -> None:
        for path in paths:
            try:
                Path(path).unlink()
                removed.append(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                failed.append(f"{path}: {exc.strerror or exc}")
                logger.warning("evidence file %s of a deleted execution stays: %s", path, exc)


def _may_go(record: ExecutionRecord, cutoff: datetime | None) -> bool:
    """Whether the run is old enough and finished, so its journal must be read to decide."""
    return cutoff is not None and record.finished_at is not None and record.finished_at < cutoff


def _journal_facts(db: Readable, record: ExecutionRecord, facts: RunFacts) -> RunFacts:
    """What the journal says: drill instances running, templates left pointed, open findings. A journal
    that cannot be read (or replayed) keeps the run: what it holds is unknown."""
    try:
        replayed = replay_journal(db, record)
        state = replayed.state
        running = drill_instances_running(state) if state.is_drill else ()
        left = maybe_left_pointed(state)
        findings = tuple(f.text for f in audit_record(replayed.events).open_findings)
        damage = replayed.journal.damage
    except (DrsDesktopError, ValueError, TypeError, KeyError) as exc:
        return _replace(facts, unreadable=" ".join(str(exc).split()) or type(exc).__name__)
    return _replace(
        facts,
        instances_running=tuple(running),
        left_pointed=tuple(left),
        open_findings=findings,
        unreadable=str(damage) if damage else "",
    )


def _with_driver(facts: RunFacts, who: str) -> RunFacts:
    return _replace(facts, driven_by=who)


def _replace(facts: RunFacts, **changes: object) -> RunFacts:
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]
