"""The local side of an execution with more than one driver (docs/sync.md, "More than one driver").

Why here and not in sync_apply.py: these are the writes that take events out of a journal (into
``sync_superseded_events``, never deleted) and the durable record of executions a pull could not read
(``sync_blocked_executions``); each is plain SQL inside the caller's transaction where the rule needs it
(the events moved aside and the table's applied commit together or not at all).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drs_desktop.domain.sync_lineage import TAKEN_OVER, Lineage, derive
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now

__all__ = [
    "BlockedExecution",
    "SupersededEvent",
    "blocked_executions",
    "clear_blocked",
    "drop_queued_execution",
    "local_lineage",
    "mark_foreign",
    "record_blocked",
    "set_first_driver",
    "set_journal_last",
    "supersede_from",
    "superseded_events",
]


@dataclass(frozen=True)
class BlockedExecution:
    execution_id: str
    problem: str
    first_seen_at: datetime
    last_tried_at: datetime
    tries: int


@dataclass(frozen=True)
class SupersededEvent:
    execution_id: str
    seq: int
    payload: dict[str, Any]
    superseded_at: datetime
    superseded_by: str


def local_lineage(db: Readable, execution_id: str, me: str) -> Lineage | None:
    """The lineage of the journal here (its first driver, then every TakenOver's ``by``); None when the
    execution is not here."""
    with db.reader() as conn:
        if conn.execute("SELECT 1 FROM executions WHERE id = ?", (execution_id,)).fetchone() is None:
            return None
        row = conn.execute(
            "SELECT desktop_id FROM sync_first_drivers WHERE execution_id = ?", (execution_id,)
        ).fetchone()
        takeovers = conn.execute(
            "SELECT seq, payload FROM execution_events WHERE execution_id = ? AND type = ? ORDER BY seq",
            (execution_id, TAKEN_OVER),
        ).fetchall()
    return derive(me if row is None else str(row[0]), [(int(s), json.loads(p)) for s, p in takeovers])


def set_first_driver(conn: sqlite3.Connection, execution_id: str, desktop_id: str, me: str) -> None:
    """Record who drove a pulled execution first (nothing for this desktop's own: no row means this one)."""
    if desktop_id == me:
        conn.execute("DELETE FROM sync_first_drivers WHERE execution_id = ?", (execution_id,))
        return
    conn.execute(
        "INSERT INTO sync_first_drivers (execution_id, desktop_id) VALUES (?, ?) "
        "ON CONFLICT (execution_id) DO UPDATE SET desktop_id = excluded.desktop_id",
        (execution_id, desktop_id),
    )


def mark_foreign(
    conn: sqlite3.Connection, execution_id: str, driver: str, me: str, *, own: bool = False
) -> None:
    """The foreign mark follows the lineage's last driver: someone else's (read-only here) or this one's
    (``me``, or ``own``: a former ID of this database, ``storage.sync_identity.is_own_writer``)."""
    if driver == me or own:
        conn.execute("DELETE FROM sync_foreign_executions WHERE execution_id = ?", (execution_id,))
        return
    conn.execute(
        "INSERT INTO sync_foreign_executions (execution_id, writer, pulled_at) VALUES (?, ?, ?) "
        "ON CONFLICT (execution_id) DO UPDATE SET writer = excluded.writer",
        (execution_id, driver, to_db_time(utc_now())),
    )


def supersede_from(conn: sqlite3.Connection, execution_id: str, first: int, by: str) -> int:
    """Move this desktop's events from seq ``first`` on into ``sync_superseded_events``, inside the
    caller's transaction (which then applies the table's); how many were moved."""
    now = to_db_time(utc_now())
    moved = conn.execute(
        "INSERT INTO sync_superseded_events (execution_id, seq, type, at, payload, recorded_at, "
        "superseded_at, superseded_by) "
        "SELECT execution_id, seq, type, at, payload, recorded_at, ?, ? FROM execution_events "
        "WHERE execution_id = ? AND seq >= ? ORDER BY seq",
        (now, by, execution_id, first),
    ).rowcount
    conn.execute("DELETE FROM execution_events WHERE execution_id = ? AND seq >= ?", (execution_id, first))
    return int(moved)


def set_journal_last(conn: sqlite3.Connection, execution_id: str, last: int) -> None:
    """What the table holds of the journal, set (not only raised): after a supersede it may go down."""
    conn.execute(
        "UPDATE sync_entities SET journal_last = ? WHERE kind = 'EXEC' AND key = ?", (last, execution_id)
    )


def drop_queued_execution(conn: sqlite3.Connection, execution_id: str) -> int:
    """Drop this desktop's queued push of an execution (its journal and head); how many entries."""
    return int(
        conn.execute("DELETE FROM sync_outbox WHERE kind = 'EXEC' AND key = ?", (execution_id,)).rowcount
    )


def superseded_events(db: Readable, execution_id: str) -> list[SupersededEvent]:
    with db.reader() as conn:
        rows = conn.execute(
            "SELECT seq, payload, superseded_at, superseded_by FROM sync_superseded_events "
            "WHERE execution_id = ? ORDER BY id",
            (execution_id,),
        ).fetchall()
    return [
        SupersededEvent(execution_id, int(r[0]), json.loads(r[1]), from_db_time(r[2]), str(r[3]))
        for r in rows
    ]


def record_blocked(db: Database, execution_id: str, problem: str) -> None:
    """Record (or count again) an execution whose journal the pull could not read as its lineage says."""
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO sync_blocked_executions (execution_id, problem, first_seen_at, last_tried_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (execution_id) DO UPDATE SET problem = excluded.problem, "
            "last_tried_at = excluded.last_tried_at, tries = tries + 1",
            (execution_id, " ".join(problem.split()), now, now),
        )


def clear_blocked(db: Database, execution_id: str) -> bool:
    with db.transaction() as conn:
        return bool(
            conn.execute(
                "DELETE FROM sync_blocked_executions WHERE execution_id = ?", (execution_id,)
            ).rowcount
        )


def blocked_executions(db: Readable) -> list[BlockedExecution]:
    with db.reader() as conn:
        rows = conn.execute(
            "SELECT execution_id, problem, first_seen_at, last_tried_at, tries FROM sync_blocked_executions "
            "ORDER BY first_seen_at, execution_id"
        ).fetchall()
    return [
        BlockedExecution(str(r[0]), str(r[1]), from_db_time(r[2]), from_db_time(r[3]), int(r[4]))
        for r in rows
    ]
