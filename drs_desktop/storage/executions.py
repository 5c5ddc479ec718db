"""Executions and their append-only journal.

The runner appends each event in its own committed transaction before it acts on it, so a crash at any
point leaves a journal that replays to the last known truth. Events are stored as the JSON the domain
gives (``{"type": ..., "at": ..., ...}``); this module does not interpret them beyond ``type`` and ``at``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from drs_desktop.domain.engine.journal_integrity import JournalRead, read_entries, unreadable_entry
from drs_desktop.domain.engine.record import ExecutionRecord, JournalEntry
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now
from drs_desktop.storage.sync_outbox import enqueue_execution, enqueue_journal

logger = logging.getLogger(__name__)

__all__ = [
    "ExecutionNotFoundError",
    "JournalConflictError",
    "append_events",
    "create_execution",
    "get_execution",
    "list_executions",
    "load_journal",
    "read_journal",
    "set_execution_status",
    "unfinished_executions",
]

_COLUMNS = (
    "id, plan_id, plan_revision_id, plan_name, plan_revision, mode, status, outcome, options, identity, "
    "started_at, finished_at, "
    "(SELECT COUNT(*) FROM execution_events e WHERE e.execution_id = executions.id), spec"
)


class ExecutionNotFoundError(DrsDesktopError):
    """No execution has that ID."""


class JournalConflictError(DrsDesktopError):
    """Someone else appended to this execution's journal: two runners are driving one execution."""


def create_execution(db: Database, record: ExecutionRecord) -> ExecutionRecord:
    """Store a new execution; its journal starts empty."""
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO executions (id, plan_id, plan_revision_id, plan_name, plan_revision, mode, status, "
            "outcome, options, identity, started_at, finished_at, created_at, updated_at, spec) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.execution_id,
                record.plan_id,
                record.plan_revision_id,
                record.plan_name,
                record.plan_revision,
                record.mode,
                record.status,
                record.outcome,
                _dump(record.options),
                _dump(record.identity),
                to_db_time(record.started_at),
                to_db_time(record.finished_at) if record.finished_at else None,
                now,
                now,
                _dump(record.spec),
            ),
        )
        enqueue_execution(conn, record.execution_id)  # queued for sync with the row, or neither
    logger.info(
        "execution %s created (%s of %r rev %d)",
        record.execution_id,
        record.mode,
        record.plan_name,
        record.plan_revision,
    )
    return get_execution(db, record.execution_id)


def append_events(
    db: Database, execution_id: str, events: Iterable[Mapping[str, Any]], *, expected_last: int | None = None
) -> int:
    """Append events (each a JSON object with ``type`` and ``at``) in one transaction; return the last seq.

    Committed before this returns: the caller may act on the events once it has the number back. With
    ``expected_last`` (the last seq the caller knows), JournalConflictError when another writer appended
    since: a runner must never act on a journal it has not read, or two runners could launch twice.
    """
    batch = list(events)
    recorded = to_db_time(utc_now())
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT COALESCE(MAX(seq), 0), (SELECT COUNT(*) FROM executions WHERE id = ?) "
            "FROM execution_events WHERE execution_id = ?",
            (execution_id, execution_id),
        ).fetchone()
        if not row[1]:
            raise ExecutionNotFoundError(f"no execution with ID {execution_id}")
        seq = int(row[0])
        if expected_last is not None and seq != expected_last:
            raise JournalConflictError(
                f"execution {execution_id} is being driven elsewhere (its journal has {seq} events, this "
                f"runner knew {expected_last}); nothing was done: close the other runner, then resume"
            )
        rows = []
        for event in batch:
            seq += 1
            rows.append((execution_id, seq, _event_type(event), _event_time(event), _dump(event), recorded))
        conn.executemany(
            "INSERT INTO execution_events (execution_id, seq, type, at, payload, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        if rows:
            conn.execute(
                "UPDATE executions SET updated_at = ?, version = version + 1 WHERE id = ?",
                (recorded, execution_id),
            )
            # Queued for sync in the append's own transaction: the journal, then the head counting it.
            enqueue_journal(conn, execution_id, seq)
            enqueue_execution(conn, execution_id)
    return seq


def set_execution_status(
    db: Database,
    execution_id: str,
    status: str,
    *,
    outcome: str | None = None,
    finished_at: datetime | None = None,
) -> None:
    """Update the listing summary: the live status, and the outcome and end time once finished."""
    now = to_db_time(utc_now())
    with db.transaction() as conn:
        cursor = conn.execute(
            "UPDATE executions SET status = ?, outcome = COALESCE(?, outcome), "
            "finished_at = COALESCE(?, finished_at), updated_at = ?, version = version + 1 WHERE id = ?",
            (status, outcome, to_db_time(finished_at) if finished_at else None, now, execution_id),
        )
        if cursor.rowcount == 0:
            raise ExecutionNotFoundError(f"no execution with ID {execution_id}")
        enqueue_execution(conn, execution_id)


def load_journal(db: Readable, execution_id: str) -> list[JournalEntry]:
    """Every entry of the execution's journal, in order of ``seq``, as stored (gaps included: see
    ``read_journal``). A payload that is not JSON is a one-line JournalUnreadableError."""
    with db.reader() as conn:
        if conn.execute("SELECT 1 FROM executions WHERE id = ?", (execution_id,)).fetchone() is None:
            raise ExecutionNotFoundError(f"no execution with ID {execution_id}")
        rows = conn.execute(
            "SELECT seq, type, at, payload FROM execution_events WHERE execution_id = ? ORDER BY seq",
            (execution_id,),
        ).fetchall()
    entries = []
    for seq, type_, at, payload in rows:
        try:
            decoded = json.loads(payload)
            moment = from_db_time(str(at))
        except (ValueError, TypeError) as exc:
            raise unreadable_entry(execution_id, int(seq), "is not valid JSON") from exc
        entries.append(JournalEntry(int(seq), str(type_), moment, decoded))
    return entries


def read_journal(db: Readable, record: ExecutionRecord) -> JournalRead:
    """The journal of ``record`` decoded, and checked for missing entries (``JournalRead.damage``).

    JournalUnreadableError (one line) for an entry this version cannot decode: an event type it does not
    know (written by a newer DRS Desktop) or a damaged one. Read the record before the journal: the
    runner journals before it updates the record, so the record may lag the journal, never lead it.
    """
    return read_entries(record, load_journal(db, record.execution_id))


def get_execution(db: Readable, execution_id: str) -> ExecutionRecord:
    with db.reader() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM executions WHERE id = ?", (execution_id,)).fetchone()
        if row is None:
            # Let an operator type a unique prefix of the UUID, as with git commits.
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM executions WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
                (_like_prefix(execution_id),),
            ).fetchall()
            if len(rows) != 1 or len(execution_id) < 6:
                raise ExecutionNotFoundError(f"no execution with ID {execution_id}")
            row = rows[0]
    return _record(row)


def list_executions(
    db: Readable, *, plan_name: str | None = None, mode: str | None = None, limit: int = 500
) -> list[ExecutionRecord]:
    """Newest first, optionally for one plan or one mode."""
    clauses, params = [], []
    if plan_name:
        clauses.append("plan_name = ? COLLATE NOCASE")
        params.append(plan_name)
    if mode:
        clauses.append("mode = ?")
        params.append(mode)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    with db.reader() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM executions {where} ORDER BY started_at DESC LIMIT ?", (*params, limit)
        ).fetchall()
    return [_record(row) for row in rows]


def unfinished_executions(db: Readable) -> list[ExecutionRecord]:
    """Executions with no end: after a crash these are resumed (reconciled first, then driven on).
    Executions pulled from another desktop are left out: they are someone else's to drive (sync)."""
    with db.reader() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE finished_at IS NULL "
            "AND id NOT IN (SELECT execution_id FROM sync_foreign_executions) ORDER BY started_at"
        ).fetchall()
    return [_record(row) for row in rows]


def _record(row: sqlite3.Row | tuple[Any, ...]) -> ExecutionRecord:
    return ExecutionRecord(
        execution_id=str(row[0]),
        plan_id=str(row[1]),
        plan_revision_id=str(row[2]),
        plan_name=str(row[3]),
        plan_revision=int(row[4]),
        mode=str(row[5]),
        status=str(row[6]),
        outcome=str(row[7]) if row[7] is not None else None,
        options=_load(row[8]),
        identity=_load(row[9]),
        started_at=from_db_time(str(row[10])),
        finished_at=from_db_time(str(row[11])) if row[11] else None,
        event_count=int(row[12]),
        spec=_load(row[13]),
    )


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _event_type(event: Mapping[str, Any]) -> str:
    kind = event.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValueError("a journal event needs a 'type'")
    return kind


def _event_time(event: Mapping[str, Any]) -> str:
    at = event.get("at")
    if isinstance(at, str):
        return to_db_time(datetime.fromisoformat(at))
    return to_db_time(utc_now())


def _dump(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _load(text: object) -> dict[str, Any]:
    try:
        value = json.loads(str(text)) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
