"""Deleting executions: the record, its journal and every row that hangs off it, in one transaction,
with the tombstone that tells the team (issue 18, item 6; docs/sync.md, "Deletions").

Why every table with an ``execution_id`` column is swept, found from the schema rather than listed:
an execution's rows live in ``execution_events``, ``control_inbox``, ``sync_foreign_executions``,
``sync_first_drivers``, ``sync_superseded_events`` and ``sync_blocked_executions`` today (migrations
0002, 0003, 0006, 0008), and a later migration that adds one more must not leave orphans behind a
retention written before it. The sync's own rows keyed by kind and key go too: the execution's queued
pushes (``sync_outbox``) and its closed conflicts (``sync_conflicts``, whose documents copy the record).
Plans and their revisions stay: a revision a deleted run pinned is only pinned by no run any more.

What stays: a schedule's record of the run (``schedule_runs``: the schedule's history, which says it
ran and reported, not the run's evidence), and ``sync_entities``' row for the execution, which is only
the version the team's table holds, so that the tombstone's push is conditioned on it and a later pull
of the same head is not applied again. A desktop that never pushed or pulled the execution queues no
tombstone: the team never had it.
The driver lock file (``<home>/locks/<id>.lock``) stays, as every lock file: deleting one that another
process may open could let two processes hold "the" lock.

The tombstone is the execution's head entry in ``sync_outbox`` whose execution no longer exists: the push
(``services.sync_push``) sends it as a head with ``deleted = true`` and no body, on the version the table
held, the same way a plan's deletion goes.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from drs_desktop.domain.errors import StorageError
from drs_desktop.storage.db import Database, Readable, to_db_time, utc_now

logger = logging.getLogger(__name__)

__all__ = [
    "DeletedExecution",
    "delete_execution_rows",
    "delete_executions",
    "execution_exists",
    "execution_tables",
    "queue_tombstone_again",
    "tombstone_queued",
]

#: Tables with an ``execution_id`` column whose rows are another record's history, not the run's: a
#: schedule's runs (migration 0018) say that the scheduled drill ran and reported; deleted with the
#: execution, the schedule would look as if it had never run and raise "missed the run due ...".
_NOT_THE_RUNS = frozenset({"schedule_runs"})
#: Tables keyed by (kind, key) that hold rows of an execution besides those with an execution_id.
_SYNC_BY_KEY = (("sync_outbox", ""), ("sync_conflicts", " AND resolved_at IS NOT NULL"))


@dataclass(frozen=True)
class DeletedExecution:
    """What one deletion removed: rows per table, and whether a tombstone was queued for the team."""

    execution_id: str
    plan_name: str
    plan_revision_id: str
    rows: dict[str, int] = field(default_factory=dict)
    tombstone: bool = False
    revision_unpinned: bool = False  # no other run pins its plan revision now (the revision stays)


def execution_tables(conn: sqlite3.Connection) -> tuple[str, ...]:
    """Every table, ``executions`` and ``_NOT_THE_RUNS`` aside, with an ``execution_id`` column, read
    from the schema."""
    names = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    found = []
    for name in names:
        if name == "executions" or name in _NOT_THE_RUNS:
            continue
        columns = {str(c[1]) for c in conn.execute(f"PRAGMA table_info({_quoted(name)})")}
        if "execution_id" in columns:
            found.append(name)
    return tuple(found)


def execution_exists(db: Readable, execution_id: str) -> bool:
    with db.reader() as conn:
        return conn.execute("SELECT 1 FROM executions WHERE id = ?", (execution_id,)).fetchone() is not None


def tombstone_queued(db: Readable, execution_id: str) -> bool:
    """Whether the execution's tombstone waits in the queue (its head entry, the execution gone)."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT 1 FROM sync_outbox o WHERE o.kind = 'EXEC' AND o.key = ? AND o.what = 'head' "
            "AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.id = o.key)",
            (execution_id,),
        ).fetchone()
    return row is not None


def delete_executions(db: Database, execution_ids: Sequence[str]) -> list[DeletedExecution]:
    """Delete finished executions and everything that hangs off them in one transaction, queuing a
    tombstone for each the team's table knows. StorageError, nothing deleted, when one is missing, has
    not finished, or has an open sync conflict (each checked again here, inside the transaction)."""
    deleted: list[DeletedExecution] = []
    with db.transaction() as conn:
        for execution_id in execution_ids:
            deleted.append(delete_execution_rows(conn, execution_id, tombstone=True, only_finished=True))
    for one in deleted:
        logger.info(
            "execution %s of %r deleted (%s rows%s)",
            one.execution_id,
            one.plan_name,
            sum(one.rows.values()),
            "; tombstone queued" if one.tombstone else "",
        )
    return deleted


def delete_execution_rows(
    conn: sqlite3.Connection, execution_id: str, *, tombstone: bool, only_finished: bool
) -> DeletedExecution:
    """Delete one execution inside the caller's transaction. ``tombstone``: queue its deletion for the
    team (a local deletion), or not (applying a teammate's tombstone). StorageError when it is missing,
    or (``only_finished``) unfinished, or when it has an open sync conflict and ``tombstone`` is set."""
    row = conn.execute(
        "SELECT plan_name, plan_revision_id, finished_at, version FROM executions WHERE id = ?",
        (execution_id,),
    ).fetchone()
    if row is None:
        raise StorageError(f"no execution with ID {execution_id}: nothing deleted")
    plan_name, revision_id, finished_at, version = str(row[0]), str(row[1]), row[2], int(row[3])
    if only_finished and finished_at is None:
        raise StorageError(f"execution {execution_id} has not finished: nothing deleted")
    if (
        tombstone
        and conn.execute(
            "SELECT 1 FROM sync_conflicts WHERE kind = 'EXEC' AND key = ? AND resolved_at IS NULL",
            (execution_id,),
        ).fetchone()
    ):
        raise StorageError(f"execution {execution_id} has an open sync conflict: resolve it first")
    rows: dict[str, int] = {}
    for table in execution_tables(conn):
        count = conn.execute(f"DELETE FROM {_quoted(table)} WHERE execution_id = ?", (execution_id,)).rowcount
        if count:
            rows[table] = count
    # Its queued pushes, and its closed conflicts (an open one is being resolved by the caller: taking a
    # teammate's deletion closes it afterwards, and that record of the operator's choice stays).
    for table, where in _SYNC_BY_KEY:
        sql = f"DELETE FROM {table} WHERE kind = 'EXEC' AND key = ?{where}"
        count = conn.execute(sql, (execution_id,)).rowcount
        if count:
            rows[table] = count
    conn.execute("DELETE FROM executions WHERE id = ?", (execution_id,))
    rows["executions"] = 1
    known = conn.execute(
        "SELECT 1 FROM sync_entities WHERE kind = 'EXEC' AND key = ?", (execution_id,)
    ).fetchone()
    queued = tombstone and known is not None
    if queued:
        # The head entry of an execution that is gone is its tombstone (services.sync_push).
        conn.execute(
            "INSERT INTO sync_outbox (kind, key, what, version, ref, enqueued_at) "
            "VALUES ('EXEC', ?, 'head', ?, NULL, ?)",
            (execution_id, version + 1, to_db_time(utc_now())),
        )
    pinned = conn.execute("SELECT 1 FROM executions WHERE plan_revision_id = ? LIMIT 1", (revision_id,))
    return DeletedExecution(
        execution_id=execution_id,
        plan_name=plan_name,
        plan_revision_id=revision_id,
        rows=rows,
        tombstone=queued,
        revision_unpinned=pinned.fetchone() is None,
    )


def queue_tombstone_again(conn: sqlite3.Connection, execution_id: str) -> None:
    """Queue the tombstone of an execution deleted here once more (a conflict resolved as "keep mine":
    this desktop's deletion goes on top of the team's head). StorageError if it is not deleted here."""
    if conn.execute("SELECT 1 FROM executions WHERE id = ?", (execution_id,)).fetchone() is not None:
        raise StorageError(f"execution {execution_id} is here, not deleted: no tombstone to queue")
    conn.execute("DELETE FROM sync_outbox WHERE kind = 'EXEC' AND key = ?", (execution_id,))
    conn.execute(
        "INSERT INTO sync_outbox (kind, key, what, version, ref, enqueued_at) VALUES ('EXEC', ?, 'head', 1, "
        "NULL, ?)",
        (execution_id, to_db_time(utc_now())),
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
