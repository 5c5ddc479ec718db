"""Sync conflicts (migration 0006) and what the sync reads of local data to push it (docs/sync.md).

A conflict is recorded, never resolved by itself: the operator chooses (keep mine, take theirs, save as a
copy) and until then neither side is applied or pushed. Recorded in SQLite so that it survives a restart,
is listed by ``sync status`` and makes ``sync now`` exit non-zero until it is resolved.

``start_over`` is what a desktop does when the table it synced with is not there any more as it was (a
table deleted and created again, an empty emulator): what the old table numbered means nothing in the new
one, so the cursor, the recorded versions and team revision numbers are forgotten and this desktop's
whole history is queued again, in the order it was made, as migration 0005 queued it the first time.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drs_desktop.domain.errors import StorageError
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now

__all__ = [
    "SyncConflict",
    "drop_queued",
    "execution_body",
    "only_requeued",
    "open_conflicts",
    "plan_head_state",
    "queued_entities",
    "record_conflict",
    "resolve_conflict",
    "revision_row",
    "setting_value",
    "start_over",
    "table_created_at",
]

_CONFLICT_COLUMNS = (
    "id, kind, key, mine_version, mine_document, theirs_version, theirs_seq, theirs_writer, theirs_deleted, "
    "theirs_body, detected_at"
)


@dataclass(frozen=True)
class SyncConflict:
    """One open conflict: this desktop's side (``mine``) and the table's (``theirs``)."""

    conflict_id: int
    kind: str
    key: str
    mine_version: int | None
    mine: dict[str, Any]
    theirs_version: int
    theirs_seq: int
    theirs_writer: str
    theirs_deleted: bool
    theirs_body: str | None
    detected_at: datetime

    @property
    def theirs(self) -> dict[str, Any]:
        return json.loads(self.theirs_body) if self.theirs_body else {}


def record_conflict(
    db: Database,
    kind: str,
    key: str,
    *,
    mine_version: int | None,
    mine: dict[str, Any],
    theirs_version: int,
    theirs_seq: int,
    theirs_writer: str,
    theirs_deleted: bool,
    theirs_body: str | None,
) -> None:
    """Record (or bring up to date: a newer head of theirs) the open conflict on ``kind``/``key``."""
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO sync_conflicts (kind, key, mine_version, mine_document, theirs_version, theirs_seq, "
            "theirs_writer, theirs_deleted, theirs_body, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, key) WHERE resolved_at IS NULL DO UPDATE SET "
            "theirs_version = excluded.theirs_version, theirs_seq = excluded.theirs_seq, "
            "theirs_writer = excluded.theirs_writer, theirs_deleted = excluded.theirs_deleted, "
            "theirs_body = excluded.theirs_body",
            (
                kind,
                key,
                mine_version,
                json.dumps(mine, sort_keys=True, ensure_ascii=False),
                theirs_version,
                theirs_seq,
                theirs_writer,
                int(theirs_deleted),
                theirs_body,
                now,
            ),
        )


def open_conflicts(db: Readable) -> list[SyncConflict]:
    with db.reader() as conn:
        rows = conn.execute(
            f"SELECT {_CONFLICT_COLUMNS} FROM sync_conflicts WHERE resolved_at IS NULL ORDER BY id"
        ).fetchall()
    return [
        SyncConflict(
            conflict_id=int(r[0]),
            kind=str(r[1]),
            key=str(r[2]),
            mine_version=None if r[3] is None else int(r[3]),
            mine=json.loads(r[4]),
            theirs_version=int(r[5]),
            theirs_seq=int(r[6]),
            theirs_writer=str(r[7]),
            theirs_deleted=bool(r[8]),
            theirs_body=r[9],
            detected_at=from_db_time(r[10]),
        )
        for r in rows
    ]


def resolve_conflict(conn: sqlite3.Connection, conflict_id: int, resolution: str) -> None:
    """Close a conflict, inside the caller's transaction (the one that carries the resolution out)."""
    cursor = conn.execute(
        "UPDATE sync_conflicts SET resolved_at = ?, resolution = ? WHERE id = ? AND resolved_at IS NULL",
        (to_db_time(utc_now()), resolution, conflict_id),
    )
    if cursor.rowcount != 1:
        raise StorageError(f"sync conflict {conflict_id} is not open")


def queued_entities(db: Readable) -> set[tuple[str, str]]:
    """Entities with a queued head or journal (a local change not pushed yet): a pulled head of one of
    them is a conflict. Queued revisions alone are not: they are append-only history."""
    with db.reader() as conn:
        rows = conn.execute("SELECT DISTINCT kind, key FROM sync_outbox WHERE what <> 'revision'").fetchall()
    return {(str(r[0]), str(r[1])) for r in rows}


def only_requeued(db: Readable, kind: str, key: str) -> bool:
    """True when the entity's queued head was queued by a start over and not edited since: it repeats
    what the old table held, and the new table's head is taken rather than met as a conflict."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT 1 FROM sync_requeued q WHERE q.kind = ? AND q.key = ? AND NOT EXISTS (SELECT 1 FROM "
            "sync_outbox o WHERE o.kind = q.kind AND o.key = q.key AND o.what <> 'revision' "
            "AND o.id > q.through_id)",
            (kind, key),
        ).fetchone()
    return row is not None


def drop_queued(conn: sqlite3.Connection, kind: str, key: str) -> int:
    """Take an entity's queued heads and journal off the queue (take theirs); revisions stay queued."""
    conn.execute("DELETE FROM sync_requeued WHERE kind = ? AND key = ?", (kind, key))
    return conn.execute(
        "DELETE FROM sync_outbox WHERE kind = ? AND key = ? AND what <> 'revision'", (kind, key)
    ).rowcount


# ------------------------------------------------------------------------ what a push reads


def revision_row(db: Readable, revision_id: str) -> dict[str, Any] | None:
    with db.reader() as conn:
        row = conn.execute(
            "SELECT plan_id, document, content_hash, comment, author, created_at, revision "
            "FROM plan_revisions WHERE id = ?",
            (revision_id,),
        ).fetchone()
    if row is None:
        return None
    keys = ("plan_id", "document", "content_hash", "comment", "author", "created_at", "revision")
    return dict(zip(keys, row, strict=True))


def plan_head_state(db: Readable, plan_id: str) -> dict[str, Any] | None:
    """The plan's head as this desktop has it: name, local version, deleted, its latest revision (ID,
    content hash, document, team number or None while pending)."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT p.name, p.version, p.deleted_at, r.id, r.content_hash, r.document, s.number "
            "FROM plans p LEFT JOIN plan_revisions r ON r.plan_id = p.id AND r.revision = "
            "(SELECT max(revision) FROM plan_revisions WHERE plan_id = p.id) "
            "LEFT JOIN sync_revisions s ON s.revision_id = r.id WHERE p.id = ?",
            (plan_id,),
        ).fetchone()
    if row is None:
        return None
    return {
        "name": str(row[0]),
        "version": int(row[1]),
        "deleted": row[2] is not None,
        "revision_id": row[3],
        "content_hash": row[4],
        "document": row[5],
        "revision_number": None if row[6] is None else int(row[6]),
    }


def execution_body(db: Readable, execution_id: str) -> tuple[int, dict[str, Any]] | None:
    """The execution's local version and its record as a head body (times as stored, UTC ISO-8601)."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT e.version, e.plan_id, e.plan_revision_id, e.plan_name, e.plan_revision, e.mode, "
            "e.status, e.outcome, e.options, e.identity, e.spec, e.started_at, e.finished_at, "
            "r.content_hash, s.number "
            "FROM executions e JOIN plan_revisions r ON r.id = e.plan_revision_id "
            "LEFT JOIN sync_revisions s ON s.revision_id = r.id WHERE e.id = ?",
            (execution_id,),
        ).fetchone()
    if row is None:
        return None
    body = {
        "execution_id": execution_id,
        "plan_id": row[1],
        "plan_revision_id": row[2],
        "plan_name": row[3],
        "plan_revision": int(row[4]),
        "mode": row[5],
        "status": row[6],
        "outcome": row[7],
        "options": json.loads(row[8] or "{}"),
        "identity": json.loads(row[9] or "{}"),
        "spec": json.loads(row[10] or "{}"),
        "started_at": row[11],
        "finished_at": row[12],
        "plan_revision_hash": row[13],
        "plan_revision_number": None if row[14] is None else int(row[14]),
    }
    return int(row[0]), body


def setting_value(db: Readable, key: str) -> object | None:
    """The stored override of ``key`` as JSON, None when the setting follows its default."""
    with db.reader() as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else json.loads(row[0])


# ------------------------------------------------------------------------ a table that is new


def table_created_at(db: Readable) -> str:
    with db.reader() as conn:
        return str(conn.execute("SELECT table_created_at FROM sync_state WHERE id = 1").fetchone()[0])


def remember_table(db: Database, created_at: str) -> None:
    with db.transaction() as conn:
        conn.execute("UPDATE sync_state SET table_created_at = ? WHERE id = 1", (created_at,))


_SHARED_KEYS = "SELECT key FROM settings WHERE key IN ({})"


def start_over(db: Database, created_at: str, shared_settings: tuple[str, ...]) -> int:
    """Forget what the old table held and queue this desktop's whole history again; how many entries.

    One transaction: the cursor back to 0, recorded versions and team revision numbers forgotten, open
    conflicts closed (the table they were with is gone), and the queue rebuilt in the order things were
    made: every revision, every plan head (tombstones too), every execution (journal, then head), then
    the shared settings overrides. Pulled executions go too: the new table must have the team's history,
    and a teammate re-pushing the same one meets an identical head, which is not a conflict.
    """
    now = to_db_time(utc_now())
    marks = ", ".join("?" for _ in shared_settings) or "''"
    with db.transaction() as conn:
        edited = {
            (str(r[0]), str(r[1]))
            for r in conn.execute("SELECT DISTINCT kind, key FROM sync_outbox WHERE what <> 'revision'")
        }
        conn.execute("DELETE FROM sync_requeued")
        conn.execute("DELETE FROM sync_outbox")
        conn.execute("DELETE FROM sync_entities")
        conn.execute("DELETE FROM sync_revisions")
        conn.execute(
            "UPDATE sync_conflicts SET resolved_at = ?, resolution = 'table_recreated' "
            "WHERE resolved_at IS NULL",
            (now,),
        )
        conn.execute("UPDATE sync_state SET cursor = 0, table_created_at = ? WHERE id = 1", (created_at,))
        conn.execute(
            "INSERT INTO sync_outbox (kind, key, what, version, ref, enqueued_at) "
            "SELECT kind, key, what, version, ref, ? FROM ("
            "  SELECT 1 AS part, r.created_at AS at, r.plan_id AS tiebreak, r.revision AS n, 'PLAN' AS kind, "
            "         r.plan_id AS key, 'revision' AS what, r.revision AS version, r.id AS ref "
            "  FROM plan_revisions r "
            "  UNION ALL "
            "  SELECT 2, p.created_at, p.id, 0, 'PLAN', p.id, 'head', p.version, "
            "         (SELECT r.id FROM plan_revisions r WHERE r.plan_id = p.id "
            "          ORDER BY r.revision DESC LIMIT 1) "
            "  FROM plans p "
            "  UNION ALL "
            "  SELECT 3, e.created_at, e.id, 0, 'EXEC', e.id, 'journal', "
            "         (SELECT max(v.seq) FROM execution_events v WHERE v.execution_id = e.id), NULL "
            "  FROM executions e WHERE EXISTS (SELECT 1 FROM execution_events v WHERE v.execution_id = e.id) "
            "  UNION ALL "
            "  SELECT 3, e.created_at, e.id, 1, 'EXEC', e.id, 'head', e.version, NULL FROM executions e "
            "  UNION ALL "
            "  SELECT 4, '', s.key, 0, 'SETTING', s.key, 'head', NULL, NULL FROM settings s "
            f"  WHERE s.key IN ({marks})"
            ") ORDER BY part, at, tiebreak, n",
            (now, *shared_settings),
        )
        clean = conn.execute(
            "SELECT kind, key, max(id) FROM sync_outbox WHERE what <> 'revision' GROUP BY kind, key"
        ).fetchall()
        conn.executemany(
            "INSERT INTO sync_requeued (kind, key, through_id) VALUES (?, ?, ?)",
            [row for row in clean if (str(row[0]), str(row[1])) not in edited],
        )
        return int(conn.execute("SELECT count(*) FROM sync_outbox").fetchone()[0])
