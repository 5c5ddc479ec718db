"""Applying what a pull brought: plan heads and revisions, executions and their journal pages, shared
settings (docs/sync.md). The sync's own writers, next to the queue they must not feed.

Why not ``save_plan``, ``append_events`` or ``set_setting``: those queue the change they write, so a pulled
change would be pushed straight back as this desktop's. These functions write with plain SQL, keep the
IDs the table gave (a revision or an execution is the same row on every desktop), and record what they
applied with ``note_entity`` / ``note_revision_number`` / ``note_journal`` in the same transaction, so a
crash leaves either the change and its record or neither.

Rules they keep, whoever calls them:

* A deleted plan is never brought back by a pull: a tombstone marks the plan deleted, and a live head of a
  plan deleted here changes nothing (the operator may save it again; that is a new plan).
* A revision keeps its ID and its content hash (checked against its document: a mismatch is refused).
  Here it gets the next local number, so the revision a plan head names is always the plan's latest on
  this desktop (``plans`` readers take the highest local number as the current plan).
* A pulled plan whose name another live plan here already holds is applied as ``<name> (from <writer>)``:
  two desktops made plans of one name independently; nothing is lost, and either can be renamed.
* A pulled inventory replaces a target's cache only when its ``fetched_at`` is newer than the one here
  (a newer local refresh is never replaced; no conflict: the newest knowledge of DRS wins), and only
  while ``sync.inventory`` is on here.
* An execution pulled from another desktop is theirs (``sync_foreign_executions``): history shows it, this
  desktop never resumes it. Its journal arrives page by page, each page checked against what is here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drs_desktop.domain.errors import PlanDocumentError, StorageError
from drs_desktop.domain.plan.document import plan_from_document
from drs_desktop.domain.settings import SettingError, setting_for
from drs_desktop.domain.settings.shared import is_shared_setting
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now
from drs_desktop.storage.inventory import SERVER_COLUMN_COUNT, SERVER_COLUMNS, servers_from_body
from drs_desktop.storage.plans import _server_count
from drs_desktop.storage.sync_outbox import (
    inventory_key,
    inventory_shared,
    note_entity,
    note_journal,
    note_revision_number,
)

logger = logging.getLogger(__name__)

__all__ = [
    "PulledRevision",
    "apply_execution",
    "apply_inventory",
    "apply_journal_page",
    "apply_plan_head",
    "apply_revisions",
    "apply_setting",
    "clear_foreign",
    "has_revision",
    "is_foreign",
]


@dataclass(frozen=True)
class PulledRevision:
    """A revision as the table holds it (``number``: the team's)."""

    revision_id: str
    number: int
    document: str
    content_hash: str
    comment: str
    author: str
    created_at: str


def has_revision(db: Database, revision_id: str) -> bool:
    with db.reader() as conn:
        return (
            conn.execute("SELECT 1 FROM plan_revisions WHERE id = ?", (revision_id,)).fetchone() is not None
        )


def is_foreign(db: Readable, execution_id: str) -> bool:
    """True for an execution pulled from another desktop (someone else's: read-only here)."""
    return foreign_writer(db, execution_id) is not None


def clear_foreign(db: Database, execution_id: str) -> bool:
    """This desktop drives the execution now (it took it over): no longer someone else's here. True when
    it was marked. Called by the takeover, right after its TakenOver is journaled."""
    with db.transaction() as conn:
        return bool(
            conn.execute(
                "DELETE FROM sync_foreign_executions WHERE execution_id = ?", (execution_id,)
            ).rowcount
        )


def foreign_writer(db: Readable, execution_id: str) -> str | None:
    """The desktop an execution pulled from another desktop came from; None for this desktop's own."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT writer FROM sync_foreign_executions WHERE execution_id = ?", (execution_id,)
        ).fetchone()
    return None if row is None else str(row[0])


def apply_plan_head(
    db: Database,
    plan_id: str,
    *,
    version: int,
    seq: int,
    writer: str,
    deleted: bool,
    name: str | None,
    revision_id: str | None,
    revisions: Sequence[PulledRevision] = (),
) -> str:
    """Apply a pulled plan head (and the revisions it needs) in one transaction; say what was done."""
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        row = conn.execute("SELECT name, deleted_at FROM plans WHERE id = ?", (plan_id,)).fetchone()
        if deleted:
            note_entity(conn, "PLAN", plan_id, version, seq, now=now)
            if row is None:
                return "tombstone of a plan never seen here"
            if row[1] is None:
                conn.execute(
                    "UPDATE plans SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                    (now, now, plan_id),
                )
                return f"plan {row[0]!r} deleted"
            return f"plan {row[0]!r} already deleted"
        if not name or not revision_id:
            raise StorageError(f"pulled head of plan {plan_id} names no plan name or revision")
        if row is not None and row[1] is not None:
            note_entity(conn, "PLAN", plan_id, version, seq, now=now)
            return f"plan {row[0]!r} stays deleted here (a pull never brings a deleted plan back)"
        local_name = _free_name(conn, plan_id, name, writer)
        if row is None:
            conn.execute(
                "INSERT INTO plans (id, name, created_at, updated_at, version) VALUES (?, ?, ?, ?, 1)",
                (plan_id, local_name, now, now),
            )
        else:
            conn.execute(
                "UPDATE plans SET name = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                (local_name, now, plan_id),
            )
        named_last = sorted(revisions, key=lambda r: (r.revision_id == revision_id, r.number))
        _insert_revisions(conn, plan_id, named_last, now)
        if conn.execute("SELECT 1 FROM plan_revisions WHERE id = ?", (revision_id,)).fetchone() is None:
            raise StorageError(
                f"pulled head of plan {name!r} names revision {revision_id}, which is not here"
            )
        note_entity(conn, "PLAN", plan_id, version, seq, now=now)
    renamed = f" (as {local_name!r}: the name is taken here)" if local_name != name else ""
    return f"plan {name!r} updated{renamed}"


def apply_revisions(db: Database, plan_id: str, revisions: Sequence[PulledRevision]) -> int:
    """Add pulled revisions of a plan this desktop has (an execution's pinned one); how many were new."""
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        return _insert_revisions(conn, plan_id, sorted(revisions, key=lambda r: r.number), now)


def _insert_revisions(
    conn: sqlite3.Connection, plan_id: str, revisions: Sequence[PulledRevision], now: str
) -> int:
    added = 0
    for revision in revisions:
        digest = hashlib.sha256(revision.document.encode("utf-8")).hexdigest()
        if digest != revision.content_hash:
            raise StorageError(
                f"pulled revision {revision.number} of plan {plan_id} does not hash to its content hash: "
                "refused, nothing applied"
            )
        known = conn.execute(
            "SELECT plan_id FROM plan_revisions WHERE id = ?", (revision.revision_id,)
        ).fetchone()
        if known is None:
            try:
                plan = plan_from_document(json.loads(revision.document))
            except (ValueError, PlanDocumentError) as exc:
                raise StorageError(
                    f"pulled revision {revision.number} of plan {plan_id} cannot be read: "
                    f"{' '.join(str(exc).split())}"
                ) from None
            local = int(
                conn.execute(
                    "SELECT COALESCE(max(revision), 0) + 1 FROM plan_revisions WHERE plan_id = ?", (plan_id,)
                ).fetchone()[0]
            )
            conn.execute(
                "INSERT INTO plan_revisions (id, plan_id, revision, document, content_hash, wave_count, "
                "server_count, comment, author, created_at, updated_at, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (
                    revision.revision_id,
                    plan_id,
                    local,
                    revision.document,
                    revision.content_hash,
                    len(plan.waves),
                    _server_count(plan),
                    revision.comment,
                    revision.author,
                    revision.created_at,
                    now,
                ),
            )
            added += 1
        elif str(known[0]) != plan_id:
            raise StorageError(f"pulled revision {revision.revision_id} belongs to plan {known[0]} here")
        note_revision_number(conn, revision.revision_id, revision.number, now=now)
    return added


def _free_name(conn: sqlite3.Connection, plan_id: str, name: str, writer: str) -> str:
    candidate = name
    n = 1
    while conn.execute(
        "SELECT 1 FROM plans WHERE name = ? AND deleted_at IS NULL AND id <> ?", (candidate, plan_id)
    ).fetchone():
        n += 1
        candidate = f"{name} (from {writer[:8]})" if n == 2 else f"{name} (from {writer[:8]}, {n - 1})"
    return candidate


_EXEC_FIELDS = ("plan_id", "plan_revision_id", "plan_name", "mode", "status", "started_at")


def apply_execution(db: Database, body: Mapping[str, Any], *, writer: str, foreign: bool) -> str:
    """Insert or update an execution's record from a pulled head (its journal comes by pages). Its plan
    revision must be here already (the caller fetches it). Not noted yet: the head is noted once its
    journal is complete (``note_execution``), so an interrupted pull fetches the missing pages again."""
    missing = [name for name in ("execution_id", *_EXEC_FIELDS) if not isinstance(body.get(name), str)]
    if missing or body.get("mode") not in ("DRILL", "RECOVERY"):
        raise StorageError(f"pulled execution record lacks {', '.join(missing) or 'a valid mode'}")
    execution_id = str(body["execution_id"])
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        local_rev = conn.execute(
            "SELECT revision FROM plan_revisions WHERE id = ? AND plan_id = ?",
            (body["plan_revision_id"], body["plan_id"]),
        ).fetchone()
        if local_rev is None:
            raise StorageError(
                f"execution {execution_id}: its plan revision {body['plan_revision_id']} is not here"
            )
        values = (
            body["plan_id"],
            body["plan_revision_id"],
            body["plan_name"],
            int(local_rev[0]),
            body["mode"],
            body["status"],
            body.get("outcome"),
            _dump(body.get("options")),
            _dump(body.get("identity")),
            _dump(body.get("spec")),
            _time(body["started_at"]),
            _time(body["finished_at"]) if body.get("finished_at") else None,
        )
        exists = conn.execute("SELECT 1 FROM executions WHERE id = ?", (execution_id,)).fetchone()
        if exists is None:
            conn.execute(
                "INSERT INTO executions (plan_id, plan_revision_id, plan_name, plan_revision, mode, status, "
                "outcome, options, identity, spec, started_at, finished_at, id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, execution_id, now, now),
            )
        else:
            conn.execute(
                "UPDATE executions SET plan_id = ?, plan_revision_id = ?, plan_name = ?, plan_revision = ?, "
                "mode = ?, status = ?, outcome = ?, options = ?, identity = ?, spec = ?, started_at = ?, "
                "finished_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                (*values, now, execution_id),
            )
        if foreign:
            conn.execute(
                "INSERT INTO sync_foreign_executions (execution_id, writer, pulled_at) VALUES (?, ?, ?) "
                "ON CONFLICT (execution_id) DO UPDATE SET writer = excluded.writer",
                (execution_id, writer, now),
            )
    return f"execution {execution_id[:8]} of {body['plan_name']!r} ({body['status']})"


def note_execution(db: Database, execution_id: str, version: int, seq: int) -> None:
    """Record that the execution's head (``version``) is applied, its journal with it."""
    with db.transaction() as conn:
        note_entity(conn, "EXEC", execution_id, version, seq)


def journal_last(db: Database, execution_id: str) -> int:
    with db.reader() as conn:
        return int(
            conn.execute(
                "SELECT COALESCE(max(seq), 0) FROM execution_events WHERE execution_id = ?", (execution_id,)
            ).fetchone()[0]
        )


def apply_journal_page(
    db: Database, execution_id: str, first: int, events: Sequence[Mapping[str, Any]]
) -> int:
    """Append a pulled page of events (seqs ``first``...) in one transaction; the new last seq.

    Events already here must be the same ones (a page read again after an interruption); a different
    event under a seq here, or a page that leaves a hole, is refused with nothing written.
    """
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        last = int(
            conn.execute(
                "SELECT COALESCE(max(seq), 0) FROM execution_events WHERE execution_id = ?", (execution_id,)
            ).fetchone()[0]
        )
        if first > last + 1:
            raise StorageError(
                f"journal of execution {execution_id}: a pulled page starts at {first}, "
                f"this desktop has {last}"
            )
        rows = []
        for offset, event in enumerate(events):
            seq = first + offset
            text = _dump(event)
            if seq <= last:
                here = conn.execute(
                    "SELECT payload FROM execution_events WHERE execution_id = ? AND seq = ?",
                    (execution_id, seq),
                ).fetchone()
                if here is None or json.loads(here[0]) != json.loads(text):
                    raise StorageError(
                        f"journal of execution {execution_id}: event {seq} here differs from the table's"
                    )
                continue
            kind, at = event.get("type"), event.get("at")
            if not isinstance(kind, str) or not kind:
                raise StorageError(f"journal of execution {execution_id}: pulled event {seq} has no type")
            rows.append((execution_id, seq, kind, _time(at) if isinstance(at, str) else now, text, now))
        conn.executemany(
            "INSERT INTO execution_events (execution_id, seq, type, at, payload, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        new_last = max(last, first + len(events) - 1)
        note_journal(conn, "EXEC", execution_id, new_last, now=now)
    return new_last


def apply_setting(
    db: Database, key: str, *, version: int, seq: int, deleted: bool, body: Mapping[str, Any] | None
) -> str:
    """Apply a pulled shared setting: its value, or back to the default for a tombstone. A key this
    version does not share or know is only noted (a newer desktop's), never written."""
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        note_entity(conn, "SETTING", key, version, seq, now=now)
        if not is_shared_setting(key):
            return f"setting {key} is not shared by this version: left alone"
        setting = setting_for(key)
        if deleted:
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            return f"setting {key} back to its default"
        if body is None or "value" not in body:
            raise StorageError(f"pulled setting {key} has no value")
        try:
            checked = setting.validate(body["value"])
        except SettingError as exc:
            raise StorageError(f"pulled setting {key}: {exc}") from None
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, json.dumps(setting.to_json(checked)), now),
        )
    return f"setting {key} = {checked!r}"


def apply_inventory(
    db: Database, key: str, *, version: int, seq: int, deleted: bool, body: Mapping[str, Any] | None
) -> bool:
    """Apply a pulled inventory head (``<account>#<region>``) in one transaction; True when the cache
    of that target was replaced.

    Always noted, so the head is not read again. Written only while ``sync.inventory`` is on here and
    only when its ``fetched_at`` is newer than this desktop's cache of that target; then a refresh of it
    still queued here (older) is dropped, since the cache now holds the teammate's newer list. A body that
    is not an inventory of that target is refused (StorageError), nothing written.
    """
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        note_entity(conn, "INVENTORY", key, version, seq, now=now)
        if not inventory_shared(conn):
            logger.info("sync: inventory %s not applied: sync.inventory is off here", key)
            return False
        if deleted or body is None:
            return False  # no inventory in the table: the cache here is kept
        account_id, region = body.get("account_id"), body.get("region")
        if (
            not isinstance(account_id, str)
            or not isinstance(region, str)
            or inventory_key(account_id, region) != key
        ):
            raise StorageError(f"pulled inventory {key} names another target ({account_id}/{region})")
        try:
            fetched_at, rows = servers_from_body(body)
        except ValueError as exc:
            raise StorageError(
                f"pulled inventory {key} cannot be read: {' '.join(str(exc).split())}"
            ) from None
        scope = (account_id, region)
        here = conn.execute(
            "SELECT fetched_at FROM inventory_snapshots WHERE account_id = ? AND region = ?", scope
        ).fetchone()
        if here is not None and from_db_time(str(here[0])) >= fetched_at:
            logger.info("sync: inventory %s: the cache here (%s) is as new or newer; kept", key, here[0])
            return False
        conn.execute("DELETE FROM inventory WHERE account_id = ? AND region = ?", scope)
        conn.execute(
            "INSERT INTO inventory_snapshots (account_id, region, fetched_at, server_count) "
            "VALUES (?, ?, ?, ?) "
            "ON CONFLICT (account_id, region) DO UPDATE SET fetched_at = excluded.fetched_at, "
            "server_count = excluded.server_count",
            (*scope, to_db_time(fetched_at), len(rows)),
        )
        conn.executemany(
            f"INSERT INTO inventory (account_id, region, position, {SERVER_COLUMNS}) "
            f"VALUES (?, ?, ?, {', '.join('?' * SERVER_COLUMN_COUNT)})",
            [(*scope, position, *row) for position, row in enumerate(rows)],
        )
        conn.execute("DELETE FROM sync_outbox WHERE kind = 'INVENTORY' AND key = ?", (key,))
    logger.info("sync: inventory %s: %d servers fetched %s", key, len(rows), to_db_time(fetched_at))
    return True


def _dump(value: object) -> str:
    data = dict(value) if isinstance(value, Mapping) else {}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _time(text: object) -> str:
    try:
        return to_db_time(datetime.fromisoformat(str(text)))
    except ValueError:
        raise StorageError(f"pulled time {text!r} is not ISO-8601") from None
