"""Recovery plans in the database, each with its numbered revisions.

A plan is stored as the canonical JSON of its document (``domain.plan.document``): sorted keys, no
spaces, so that equal plans give equal text and the SHA-256 of that text identifies the content. Every
save of changed content adds a revision; saving what the latest revision already holds adds nothing. A
deleted plan stays as a tombstone (sync must learn of the deletion, executions keep their pinned
revision) and its name is free again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sqlite3
import uuid
from datetime import datetime
from typing import Any

from drs_desktop.domain.errors import PlanDocumentError, PlanNotFoundError, StorageError
from drs_desktop.domain.plan.diff import diff_plans
from drs_desktop.domain.plan.document import plan_from_document, plan_to_document
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.revisions import PlanRevision, PlanSummary, StoredPlan
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now
from drs_desktop.storage.sync_outbox import enqueue_plan_head, enqueue_revision

logger = logging.getLogger(__name__)

__all__ = [
    "canonical_json",
    "delete_plan",
    "diff_revisions",
    "get_plan",
    "list_plans",
    "list_revisions",
    "load_plan",
    "rename_plan",
    "save_plan",
]

_REVISION_COLUMNS = "r.id, r.plan_id, p.name, r.revision, r.created_at, r.content_hash, r.comment, r.author"


def canonical_json(document: dict[str, Any]) -> str:
    """The one text form of a document that storage hashes and compares."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def save_plan(
    db: Database, plan: RecoveryPlan, *, comment: str = "", author: str = "", now: datetime | None = None
) -> PlanRevision:
    """Save ``plan`` under its name: a new plan, or a new revision of the live plan of that name.

    When the content equals the latest revision, nothing is written and that revision is returned.
    A plan whose document does not read back (a bug in the document code) raises PlanDocumentError
    rather than storing a revision that could never be opened.
    """
    document = plan_to_document(plan)
    text = canonical_json(document)
    plan_from_document(json.loads(text))  # never store what cannot be read back
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    saved = to_db_time(now or utc_now())
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT id FROM plans WHERE name = ? AND deleted_at IS NULL", (plan.name,)
        ).fetchone()
        if row is None:
            plan_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO plans (id, name, created_at, updated_at, version) VALUES (?, ?, ?, ?, 1)",
                (plan_id, plan.name, saved, saved),
            )
            number = 1
        else:
            plan_id = str(row[0])
            latest = _revision_row(conn, plan_id, None)
            if latest is not None and latest["content_hash"] == digest and latest["document"] == text:
                return _revision(latest)
            number = (int(latest["revision"]) if latest is not None else 0) + 1
            conn.execute(
                "UPDATE plans SET name = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                (plan.name, saved, plan_id),
            )
        revision_id = _insert_revision(conn, plan_id, number, plan, text, digest, saved, comment, author)
        # Queued for sync in the same transaction: the revision, then the head that names it.
        enqueue_revision(conn, plan_id, revision_id, number)
        enqueue_plan_head(conn, plan_id)
        stored = _revision_row(conn, plan_id, number)
    assert stored is not None
    logger.info("plan %r saved as revision %d", plan.name, number)
    return _revision(stored)


def load_plan(db: Readable, name: str, revision: int | None = None) -> StoredPlan:
    """The plan named ``name`` (case-insensitive) at ``revision`` (latest when None), with its revision.

    PlanNotFoundError when there is no such live plan or revision; StorageError when the stored
    document cannot be read.
    """
    with db.reader() as conn:
        plan_id = _live_plan_id(conn, name)
        row = _revision_row(conn, plan_id, revision)
        if row is None:
            latest = _revision_row(conn, plan_id, None)
            newest = f" (latest is {latest['revision']})" if latest is not None else ""
            raise PlanNotFoundError(f"plan {name!r} has no revision {revision}{newest}")
    info = _revision(row)
    try:
        plan = plan_from_document(json.loads(str(row["document"])))
    except (ValueError, PlanDocumentError) as exc:
        raise StorageError(
            f"stored plan {info.name!r} revision {info.revision} cannot be read: {' '.join(str(exc).split())}"
        ) from exc
    return StoredPlan(revision=info, plan=plan)


def get_plan(db: Readable, name: str, revision: int | None = None) -> RecoveryPlan:
    """The plan named ``name`` at ``revision`` (latest when None); see ``load_plan``."""
    return load_plan(db, name, revision).plan


def list_plans(db: Readable) -> list[PlanSummary]:
    """Every live plan with its latest revision, by name (case-insensitive)."""
    with db.reader() as conn:
        rows = conn.execute(
            "SELECT p.id, p.name, p.created_at, p.updated_at, r.revision, r.wave_count, r.server_count "
            "FROM plans p JOIN plan_revisions r ON r.plan_id = p.id "
            "WHERE p.deleted_at IS NULL "
            "AND r.revision = (SELECT max(revision) FROM plan_revisions WHERE plan_id = p.id) "
            "ORDER BY p.name COLLATE NOCASE, p.name"
        ).fetchall()
    return [
        PlanSummary(
            plan_id=str(row[0]),
            name=str(row[1]),
            latest_revision=int(row[4]),
            created_at=from_db_time(row[2]),
            updated_at=from_db_time(row[3]),
            wave_count=int(row[5]),
            server_count=int(row[6]),
        )
        for row in rows
    ]


def list_revisions(db: Readable, name: str) -> list[PlanRevision]:
    """Every revision of the live plan ``name``, oldest first."""
    with db.reader() as conn:
        plan_id = _live_plan_id(conn, name)
        rows = _rows(
            conn,
            f"SELECT {_REVISION_COLUMNS} FROM plan_revisions r JOIN plans p ON p.id = r.plan_id "
            "WHERE r.plan_id = ? ORDER BY r.revision",
            (plan_id,),
        )
    return [_revision(row) for row in rows]


def diff_revisions(db: Readable, name: str, old: int, new: int | None = None) -> list[str]:
    """What changed in plan ``name`` from revision ``old`` to ``new`` (latest when None)."""
    return diff_plans(get_plan(db, name, old), get_plan(db, name, new))


def delete_plan(db: Database, name: str, *, now: datetime | None = None) -> None:
    """Delete the live plan ``name``: its revisions stay, as a tombstone, and the name is free again."""
    stamp = to_db_time(now or utc_now())
    with db.transaction() as conn:
        plan_id = _live_plan_id(conn, name)
        conn.execute(
            "UPDATE plans SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            (stamp, stamp, plan_id),
        )
        enqueue_plan_head(conn, plan_id)  # the tombstone travels like any change
        # Its native plan link goes too (migration 0011's trigger): it would block importing it again.
    logger.info("plan %r deleted", name)


def rename_plan(
    db: Database, name: str, new_name: str, *, comment: str = "", now: datetime | None = None
) -> PlanRevision:
    """Rename a plan by saving its latest revision under ``new_name`` as a new revision.

    The plan keeps its identity and history. StorageError when another live plan has that name.
    """
    with db.transaction() as conn:
        current = get_plan(db, name)
        if new_name.casefold() != name.casefold():
            taken = conn.execute(
                "SELECT 1 FROM plans WHERE name = ? AND deleted_at IS NULL", (new_name,)
            ).fetchone()
            if taken:
                raise StorageError(f"cannot rename plan {name!r}: a plan named {new_name!r} already exists")
        # Point the row at the new name first so that save_plan finds this plan, not a new one.
        conn.execute("UPDATE plans SET name = ? WHERE name = ? AND deleted_at IS NULL", (new_name, name))
        return save_plan(
            db,
            dataclasses.replace(current, name=new_name),
            comment=comment or f"renamed from {name!r}",
            now=now,
        )


# ------------------------------------------------------------------------------------------ helpers


def plan_name_taken(db: Readable, name: str) -> bool:
    """Whether a plan that is not deleted has ``name`` (case-insensitive, as the unique index)."""
    with db.reader() as conn:
        row = conn.execute("SELECT 1 FROM plans WHERE name = ? AND deleted_at IS NULL", (name,)).fetchone()
    return row is not None


def _live_plan_id(conn: sqlite3.Connection, name: str) -> str:
    row = conn.execute("SELECT id FROM plans WHERE name = ? AND deleted_at IS NULL", (name,)).fetchone()
    if row is None:
        raise PlanNotFoundError(f"no plan named {name!r}")
    return str(row[0])


def _revision_row(conn: sqlite3.Connection, plan_id: str, revision: int | None) -> sqlite3.Row | None:
    """One revision row (latest when ``revision`` is None) with the plan's current name."""
    query = (
        f"SELECT {_REVISION_COLUMNS}, r.document FROM plan_revisions r JOIN plans p ON p.id = r.plan_id "
        "WHERE r.plan_id = ? "
    )
    if revision is None:
        params: tuple[object, ...] = (plan_id,)
        query += "ORDER BY r.revision DESC LIMIT 1"
    else:
        params = (plan_id, revision)
        query += "AND r.revision = ?"
    rows = _rows(conn, query, params)
    return rows[0] if rows else None


def _rows(conn: sqlite3.Connection, query: str, params: tuple[object, ...]) -> list[sqlite3.Row]:
    """Rows by column name, without changing the shared connection's row factory."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    rows: list[sqlite3.Row] = cursor.execute(query, params).fetchall()
    return rows


def _revision(row: sqlite3.Row) -> PlanRevision:
    return PlanRevision(
        plan_id=str(row["plan_id"]),
        name=str(row["name"]),
        revision=int(row["revision"]),
        saved_at=from_db_time(str(row["created_at"])),
        content_hash=str(row["content_hash"]),
        comment=str(row["comment"]),
        author=str(row["author"]),
        revision_id=str(row["id"]),
    )


def _insert_revision(
    conn: sqlite3.Connection,
    plan_id: str,
    number: int,
    plan: RecoveryPlan,
    text: str,
    digest: str,
    saved: str,
    comment: str,
    author: str,
) -> str:
    revision_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO plan_revisions (id, plan_id, revision, document, content_hash, wave_count, "
        "server_count, comment, author, created_at, updated_at, version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        (
            revision_id,
            plan_id,
            number,
            text,
            digest,
            len(plan.waves),
            _server_count(plan),
            comment,
            author,
            saved,
            saved,
        ),
    )
    return revision_id


def _server_count(plan: RecoveryPlan) -> int:
    """Distinct server IDs the waves name directly or through groups of explicit IDs."""
    servers: set[str] = set()
    for wave in plan.waves:
        servers.update(wave.servers)
        for group_name in wave.groups:
            group = plan.group(group_name)
            if group is not None:
                servers.update(group.server_ids)
    return len(servers)
