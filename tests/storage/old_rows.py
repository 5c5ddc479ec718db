"""Rows written the way an older DRS Desktop wrote them, with plain SQL, for the migration tests.

Why not the storage functions: they write the current schema (since schema v5 every save also queues
its change for sync in ``sync_outbox``), and a database built by ``Database.open(migrations=...[:n])``
has schema v``n`` only. An old desktop's rows are what an old schema's columns can hold.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from drs_desktop.domain.plan.document import plan_to_document
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.storage.plans import canonical_json

T_OLD = "2025-03-01T12:00:00.000000+00:00"


def insert_plan(
    conn: sqlite3.Connection, revisions: Sequence[RecoveryPlan], *, at: str = T_OLD, deleted: bool = False
) -> tuple[str, list[str]]:
    """A plan with these revisions (numbered 1, 2, ...); return its ID and its revisions' IDs."""
    plan_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO plans (id, name, created_at, updated_at, version, deleted_at) VALUES (?, ?, ?, ?, ?, ?)",
        (plan_id, revisions[-1].name, at, at, len(revisions) + int(deleted), at if deleted else None),
    )
    ids = []
    for number, plan in enumerate(revisions, start=1):
        text = canonical_json(plan_to_document(plan))
        revision_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO plan_revisions (id, plan_id, revision, document, content_hash, wave_count, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                revision_id,
                plan_id,
                number,
                text,
                hashlib.sha256(text.encode()).hexdigest(),
                len(plan.waves),
                at,
                at,
            ),
        )
        ids.append(revision_id)
    return plan_id, ids


def insert_execution(
    conn: sqlite3.Connection,
    plan_id: str,
    revision_id: str,
    events: Sequence[Mapping[str, Any]] = (),
    *,
    at: str = T_OLD,
) -> str:
    """An execution of that revision with these journal events; return its ID."""
    execution_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO executions (id, plan_id, plan_revision_id, plan_name, plan_revision, mode, status, "
        "started_at, created_at, updated_at, version) "
        "VALUES (?, ?, ?, (SELECT name FROM plans WHERE id = ?), 1, 'DRILL', 'RUNNING', ?, ?, ?, ?)",
        (execution_id, plan_id, revision_id, plan_id, at, at, at, 1 + len(events)),
    )
    for seq, event in enumerate(events, start=1):
        conn.execute(
            "INSERT INTO execution_events (execution_id, seq, type, at, payload, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (execution_id, seq, event["type"], at, json.dumps(dict(event)), at),
        )
    return execution_id
