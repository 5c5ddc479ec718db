"""The local side of team sync: the queue of changes to push, this desktop's sync state, and what the
table held for each entity when this desktop last pushed or pulled it (docs/sync.md).

Why a queue in SQLite, written in the change's own transaction: edits made offline must go out when the
table is reachable again, in order, after a crash too (issue 14). Every storage function that changes
something that syncs calls one of the ``enqueue_*`` functions below with its own connection, inside its
own transaction, so the change and its entry commit together or not at all:

* ``plans.save_plan`` (and ``rename_plan``, through it): the new revision, then the plan's head;
* ``plans.delete_plan``: the plan's head (a tombstone: ``plans.deleted_at``);
* ``executions.create_execution`` and ``set_execution_status``: the execution's head;
* ``executions.append_events`` (``control_inbox.journal_control`` too, through it): the execution's
  journal, then its head;
* ``settings.set_setting``: the setting's head, for a key the team shares
  (``domain.settings.shared.SHARED_SETTINGS``);
* ``inventory.save_inventory``: the target's inventory head, only while the shared setting
  ``sync.inventory`` is on (a cache is large and rewritten at every refresh: not queued "always").

Why always, sync configured or not: the entry costs a row or two in a transaction that is written
anyway, heads are coalesced so the queue grows with the revisions saved rather than with every edit,
and a desktop that turns sync on later then pushes its history in the order it was made, through the
same path as any later change, with nothing to reconstruct from timestamps. Migration 0005 queued what
older schemas had written the same way.

Why "pending" revisions are a missing ``sync_revisions`` row rather than a NULL ``plan_revisions.revision``:
that column is every reader's number of the revision on this desktop (NOT NULL, unique per plan), and
executions pin a revision by ID and content hash, not by number. The number the table gives is recorded
by ``mark_pushed`` (or by the pull); until then ``revision_numbers`` answers None: "pending".

Applying pulled changes is the sync's own code; it must write with plain SQL (pulled rows keep their
IDs) rather than through ``save_plan`` and the like, which would queue the pulled change to be pushed
back, and record what it applied with ``note_entity`` and ``note_revision_number`` in the same
transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.settings.shared import is_shared_setting
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now

logger = logging.getLogger(__name__)

__all__ = [
    "EntityVersion",
    "OutboxEntry",
    "Pushed",
    "SyncState",
    "configure",
    "enqueue_execution",
    "enqueue_inventory",
    "enqueue_journal",
    "enqueue_plan_head",
    "enqueue_revision",
    "enqueue_setting",
    "entity_version",
    "get_state",
    "inventory_key",
    "inventory_shared",
    "mark_pushed",
    "note_entity",
    "note_journal",
    "note_revision_number",
    "pending",
    "pending_count",
    "queued_for",
    "record_sync",
    "revision_number",
    "revision_numbers",
    "set_cursor",
]

Kind = Literal["PLAN", "EXEC", "SETTING", "INVENTORY"]
What = Literal["head", "revision", "journal"]


@dataclass(frozen=True)
class OutboxEntry:
    """One queued change. ``version``: the local version (a plan's or execution's ``version``), the
    local revision number, or the last journal seq; None for a setting or an inventory. ``ref``: the
    revision's ID, or the revision a plan head named when queued."""

    entry_id: int
    kind: Kind
    key: str
    what: What
    version: int | None
    ref: str | None
    enqueued_at: datetime


@dataclass(frozen=True)
class Pushed:
    """What the table answered for one pushed entry: a head's new ``version`` and change ``seq``, or a
    revision's ``number``. For a journal entry, ``version`` is the last event pushed when the push went
    past the entry's own (events appended meanwhile); by default the entry's."""

    entry: OutboxEntry
    version: int | None = None
    seq: int | None = None
    number: int | None = None


@dataclass(frozen=True)
class EntityVersion:
    """What the table held for an entity when this desktop last pushed or pulled it."""

    version: int | None
    seq: int | None
    journal_last: int
    synced_at: datetime


@dataclass(frozen=True)
class SyncState:
    desktop_id: str
    table_name: str
    region: str
    endpoint: str
    profile: str
    cursor: int
    last_sync_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None

    @property
    def configured(self) -> bool:
        return bool(self.table_name)


# ------------------------------------------------------------------------------------------ capture


def enqueue_revision(conn: sqlite3.Connection, plan_id: str, revision_id: str, number: int) -> None:
    """Queue a new revision; never coalesced (revisions are append-only). Call before its head."""
    conn.execute(
        "INSERT INTO sync_outbox (kind, key, what, version, ref, enqueued_at) "
        "VALUES ('PLAN', ?, 'revision', ?, ?, ?)",
        (plan_id, number, revision_id, _now()),
    )


def enqueue_plan_head(conn: sqlite3.Connection, plan_id: str) -> None:
    """Queue the plan's head (its current version and latest revision; deleted or not)."""
    row = conn.execute(
        "SELECT p.version, (SELECT r.id FROM plan_revisions r WHERE r.plan_id = p.id "
        "ORDER BY r.revision DESC LIMIT 1) FROM plans p WHERE p.id = ?",
        (plan_id,),
    ).fetchone()
    if row is None:
        raise StorageError(f"cannot queue plan {plan_id} for sync: no such plan")
    queued = conn.execute(
        "SELECT max(id) FROM sync_outbox WHERE kind = 'PLAN' AND key = ? AND what = 'head'", (plan_id,)
    ).fetchone()[0]
    if queued is not None:
        # An execution of this plan queued after that head must stay behind a head naming its revision.
        blocked = conn.execute(
            "SELECT 1 FROM sync_outbox o JOIN executions e ON e.id = o.key "
            "WHERE o.kind = 'EXEC' AND o.id > ? AND e.plan_id = ? LIMIT 1",
            (queued, plan_id),
        ).fetchone()
        if blocked is None:
            conn.execute("DELETE FROM sync_outbox WHERE id = ?", (queued,))
    conn.execute(
        "INSERT INTO sync_outbox (kind, key, what, version, ref, enqueued_at) "
        "VALUES ('PLAN', ?, 'head', ?, ?, ?)",
        (plan_id, int(row[0]), row[1], _now()),
    )


def enqueue_execution(conn: sqlite3.Connection, execution_id: str) -> None:
    """Queue the execution's head (its record); replaces a queued one, at the end of the queue."""
    row = conn.execute("SELECT version FROM executions WHERE id = ?", (execution_id,)).fetchone()
    if row is None:
        raise StorageError(f"cannot queue execution {execution_id} for sync: no such execution")
    _replace(conn, "EXEC", execution_id, "head", int(row[0]))


def enqueue_journal(conn: sqlite3.Connection, execution_id: str, last_seq: int) -> None:
    """Queue the execution's journal up to ``last_seq``; call before its head."""
    _replace(conn, "EXEC", execution_id, "journal", last_seq)


def enqueue_setting(conn: sqlite3.Connection, key: str) -> bool:
    """Queue a setting the team shares; a per-desktop one is not queued. True when queued."""
    if not is_shared_setting(key):
        return False
    _replace(conn, "SETTING", key, "head", None)
    return True


#: The shared setting that turns the exchange of inventory caches on (domain/settings/shared.py).
INVENTORY_SETTING = "sync.inventory"


def inventory_key(account_id: str, region: str) -> str:
    """The sync key of one target's inventory cache: ``<account>#<region>`` (docs/sync.md)."""
    return f"{account_id}#{region}"


def inventory_shared(conn: sqlite3.Connection) -> bool:
    """True when ``sync.inventory`` is on, read on the caller's connection (inside its transaction). An
    unreadable stored value counts as off: a cache is never pushed by mistake."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (INVENTORY_SETTING,)).fetchone()
    if row is None:
        return False
    try:
        return json.loads(row[0]) is True
    except ValueError:
        return False


def enqueue_inventory(conn: sqlite3.Connection, account_id: str, region: str) -> bool:
    """Queue a target's inventory cache, inside the refresh's own transaction, when ``sync.inventory`` is
    on; replaces a queued one (only the latest refresh matters). True when queued."""
    if not inventory_shared(conn):
        return False
    _replace(conn, "INVENTORY", inventory_key(account_id, region), "head", None)
    return True


def _replace(conn: sqlite3.Connection, kind: Kind, key: str, what: What, version: int | None) -> None:
    conn.execute("DELETE FROM sync_outbox WHERE kind = ? AND key = ? AND what = ?", (kind, key, what))
    conn.execute(
        "INSERT INTO sync_outbox (kind, key, what, version, ref, enqueued_at) VALUES (?, ?, ?, ?, NULL, ?)",
        (kind, key, what, version, _now()),
    )


# ------------------------------------------------------------------------------------------ the queue


def pending(db: Readable, limit: int = 500) -> list[OutboxEntry]:
    """The first ``limit`` queued changes, oldest first: the order to push them in."""
    with db.reader() as conn:
        rows = conn.execute(
            "SELECT id, kind, key, what, version, ref, enqueued_at FROM sync_outbox ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
    return [
        OutboxEntry(
            int(r[0]), r[1], str(r[2]), r[3], None if r[4] is None else int(r[4]), r[5], from_db_time(r[6])
        )
        for r in rows
    ]


def queued_for(db: Readable, kind: str, key: str) -> int:
    """How many entries of one entity wait in the queue (0: the table has all of it that was pushed)."""
    with db.reader() as conn:
        row = conn.execute("SELECT count(*) FROM sync_outbox WHERE kind = ? AND key = ?", (kind, key))
        return int(row.fetchone()[0])


def pending_count(db: Readable) -> int:
    with db.reader() as conn:
        return int(conn.execute("SELECT count(*) FROM sync_outbox").fetchone()[0])


def mark_pushed(db: Database, results: Iterable[Pushed]) -> None:
    """Record what the table answered for pushed entries and take them off the queue, in one transaction.

    An entry replaced meanwhile by a newer one of the same entity (a later edit) is already gone; its
    answer is still recorded, and the newer entry stays queued. StorageError, with nothing recorded, for
    an answer that does not fit its entry or contradicts what is recorded (a revision numbered twice).
    """
    now = _now()
    with db.transaction() as conn:
        for result in results:
            entry = result.entry
            if entry.what == "revision":
                if result.number is None or entry.ref is None:
                    raise StorageError(f"pushed revision entry {entry.entry_id} has no number from the table")
                note_revision_number(conn, entry.ref, result.number, now=now)
            elif entry.what == "journal":
                last = result.version if result.version is not None else entry.version
                _note(conn, entry.kind, entry.key, None, None, last, now)
            else:
                if result.version is None or result.seq is None:
                    raise StorageError(
                        f"pushed head entry {entry.entry_id} needs the table's version and seq"
                    )
                note_entity(conn, entry.kind, entry.key, result.version, result.seq, now=now)
            conn.execute("DELETE FROM sync_outbox WHERE id = ?", (entry.entry_id,))


# --------------------------------------------------------------------------- what the table holds


def note_entity(
    conn: sqlite3.Connection,
    kind: str,
    key: str,
    version: int,
    seq: int,
    *,
    journal_last: int | None = None,
    now: str | None = None,
) -> None:
    """Record that the table holds ``kind``/``key`` at ``version`` (change ``seq``), inside the caller's
    transaction (a push's answer, or a pulled head just applied). Never moves back to an older version."""
    _note(conn, kind, key, version, seq, journal_last, now or _now())


def note_journal(conn: sqlite3.Connection, kind: str, key: str, last: int, *, now: str | None = None) -> None:
    """Record that the table holds the entity's journal up to event ``last`` (pulled pages applied), inside
    the caller's transaction. Never moves back."""
    _note(conn, kind, key, None, None, last, now or _now())


def _note(
    conn: sqlite3.Connection,
    kind: str,
    key: str,
    version: int | None,
    seq: int | None,
    journal_last: int | None,
    now: str,
) -> None:
    conn.execute(
        "INSERT INTO sync_entities (kind, key, version, seq, journal_last, synced_at) "
        "VALUES (?, ?, ?, ?, COALESCE(?, 0), ?) "
        "ON CONFLICT (kind, key) DO UPDATE SET "
        "version = CASE WHEN excluded.version > COALESCE(version, 0) THEN excluded.version ELSE version END, "
        "seq = CASE WHEN excluded.version > COALESCE(version, 0) THEN excluded.seq ELSE seq END, "
        "journal_last = max(journal_last, COALESCE(?, 0)), synced_at = excluded.synced_at",
        (kind, key, version, seq, journal_last, now, journal_last),
    )


def note_revision_number(
    conn: sqlite3.Connection, revision_id: str, number: int, *, now: str | None = None
) -> None:
    """Record the number the table gave a revision, inside the caller's transaction. StorageError when
    the revision already has another number, or another revision of its plan has this one."""
    row = conn.execute(
        "SELECT r.plan_id, s.number FROM plan_revisions r LEFT JOIN sync_revisions s ON s.revision_id = r.id "
        "WHERE r.id = ?",
        (revision_id,),
    ).fetchone()
    if row is None:
        raise StorageError(f"cannot record the team number of revision {revision_id}: no such revision")
    if row[1] is not None:
        if int(row[1]) != number:
            raise StorageError(
                f"revision {revision_id} already has team number {row[1]}; the table answered {number}"
            )
        return
    taken = conn.execute(
        "SELECT revision_id FROM sync_revisions WHERE plan_id = ? AND number = ?", (row[0], number)
    ).fetchone()
    if taken is not None:
        raise StorageError(f"team revision number {number} of plan {row[0]} is already revision {taken[0]}")
    conn.execute(
        "INSERT INTO sync_revisions (revision_id, plan_id, number, synced_at) VALUES (?, ?, ?, ?)",
        (revision_id, row[0], number, now or _now()),
    )


def entity_version(db: Readable, kind: str, key: str) -> EntityVersion | None:
    """What the table held for ``kind``/``key`` when last pushed or pulled: the version a local edit is
    based on (a push's condition). None when this desktop never synced it."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT version, seq, journal_last, synced_at FROM sync_entities WHERE kind = ? AND key = ?",
            (kind, key),
        ).fetchone()
    if row is None:
        return None
    return EntityVersion(
        None if row[0] is None else int(row[0]),
        None if row[1] is None else int(row[1]),
        int(row[2]),
        from_db_time(row[3]),
    )


def revision_number(db: Readable, revision_id: str) -> int | None:
    """The team's number of a revision; None while it is pending (not pushed yet)."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT number FROM sync_revisions WHERE revision_id = ?", (revision_id,)
        ).fetchone()
    return None if row is None else int(row[0])


def revision_numbers(db: Readable, plan_id: str) -> dict[str, int | None]:
    """Every revision of a plan (by ID, in local order) with its team number, None for pending ones."""
    with db.reader() as conn:
        rows = conn.execute(
            "SELECT r.id, s.number FROM plan_revisions r LEFT JOIN sync_revisions s ON s.revision_id = r.id "
            "WHERE r.plan_id = ? ORDER BY r.revision",
            (plan_id,),
        ).fetchall()
    return {str(r[0]): None if r[1] is None else int(r[1]) for r in rows}


# -------------------------------------------------------------------------------------------- state


def get_state(db: Readable) -> SyncState:
    with db.reader() as conn:
        row = conn.execute(
            "SELECT desktop_id, table_name, region, endpoint, profile, cursor, last_sync_at, last_error, "
            "last_error_at FROM sync_state WHERE id = 1"
        ).fetchone()
    if row is None:
        raise StorageError("the sync state row is missing (database damaged or edited by hand)")
    return SyncState(
        desktop_id=str(row[0]),
        table_name=str(row[1]),
        region=str(row[2]),
        endpoint=str(row[3]),
        profile=str(row[4]),
        cursor=int(row[5]),
        last_sync_at=from_db_time(row[6]) if row[6] else None,
        last_error=row[7],
        last_error_at=from_db_time(row[8]) if row[8] else None,
    )


def configure(
    db: Database, table_name: str, *, region: str = "", endpoint: str = "", profile: str = ""
) -> None:
    """Point this desktop at a table (name, Region, endpoint, profile name: never credentials).

    Pointing it at another table once something was synced is refused: the cursor, the versions and
    the team revision numbers recorded belong to the first table, and the queue holds only what was not
    pushed there. StorageError, nothing changed.
    """
    if not table_name.strip():
        raise StorageError("a sync table needs a name")
    with db.transaction() as conn:
        current, cursor = conn.execute("SELECT table_name, cursor FROM sync_state WHERE id = 1").fetchone()
        synced = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM sync_entities) OR EXISTS (SELECT 1 FROM sync_revisions)"
        ).fetchone()[0]
        if current and current != table_name and (cursor or synced):
            raise StorageError(
                f"this desktop already syncs with table {current!r}; "
                f"switching to {table_name!r} is not supported"
            )
        conn.execute(
            "UPDATE sync_state SET table_name = ?, region = ?, endpoint = ?, profile = ? WHERE id = 1",
            (table_name, region, endpoint, profile),
        )
    logger.info("sync table set to %s (region %s)", table_name, region or "default")


def set_cursor(db: Database, cursor: int) -> None:
    """Move the pull cursor forward; StorageError if that would move it back (a change would be read
    twice, or worse, a bug would skip some)."""
    with db.transaction() as conn:
        current = int(conn.execute("SELECT cursor FROM sync_state WHERE id = 1").fetchone()[0])
        if cursor < current:
            raise StorageError(f"the sync cursor only moves forward (at {current}, asked {cursor})")
        conn.execute("UPDATE sync_state SET cursor = ? WHERE id = 1", (cursor,))


def record_sync(db: Database, *, error: str | None = None, now: datetime | None = None) -> None:
    """Record a finished sync: its time when it succeeded (clearing the last error), or its error."""
    stamp = to_db_time(now or utc_now())
    with db.transaction() as conn:
        if error is None:
            conn.execute(
                "UPDATE sync_state SET last_sync_at = ?, last_error = NULL, last_error_at = NULL "
                "WHERE id = 1",
                (stamp,),
            )
        else:
            conn.execute(
                "UPDATE sync_state SET last_error = ?, last_error_at = ? WHERE id = 1",
                (" ".join(error.split()), stamp),
            )


def _now() -> str:
    return to_db_time(utc_now())
