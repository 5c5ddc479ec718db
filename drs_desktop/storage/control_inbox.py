"""The control inbox: operator controls sent from another process to the live driver of an execution.

Only an execution's driver appends to its journal (``storage.executions``: a second writer is a
``JournalConflictError``). So a control from another terminal (``drs-desktop control``) is queued here
instead; the driver takes queued rows between two decisions, checks each against its state, and then
either journals it (``journal_control``: the journal append and the row's ``journaled`` mark in one
transaction, the row keeping the journal seq, so a crash can never journal it twice) or refuses it
(``refuse``, with the reason). The sender polls its row to tell the operator which.

A row is decided once: both marks only change a row that is still ``queued``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drs_desktop.domain.errors import DrsDesktopError, StorageError
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now
from drs_desktop.storage.executions import ExecutionNotFoundError, append_events

logger = logging.getLogger(__name__)

__all__ = [
    "JOURNALED",
    "QUEUED",
    "REFUSED",
    "InboxConflictError",
    "InboxControl",
    "get_control",
    "has_queued",
    "journal_control",
    "list_controls",
    "queued_controls",
    "refuse",
    "submit",
]

QUEUED = "queued"
JOURNALED = "journaled"
REFUSED = "refused"

_COLUMNS = "id, execution_id, control, submitted_at, submitted_by, state, reason, seq, decided_at"


class InboxConflictError(DrsDesktopError):
    """The control was already decided (by another driver): nothing was journaled."""


@dataclass(frozen=True)
class InboxControl:
    """One queued or decided control. ``control`` is the event's JSON (``{"type": ..., ...}``)."""

    id: int
    execution_id: str
    control: dict[str, Any]
    submitted_at: datetime
    submitted_by: str
    state: str
    reason: str | None
    seq: int | None
    decided_at: datetime | None

    @property
    def kind(self) -> str:
        return str(self.control.get("type", "?"))


def submit(db: Database, execution_id: str, control: Mapping[str, Any], *, submitted_by: str = "") -> int:
    """Queue a control for the execution's driver; return the row's ID (to poll with ``get_control``)."""
    text = json.dumps(dict(control), sort_keys=True, separators=(",", ":"), allow_nan=False)
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM executions WHERE id = ?", (execution_id,)).fetchone() is None:
            raise ExecutionNotFoundError(f"no execution with ID {execution_id}")
        cursor = conn.execute(
            "INSERT INTO control_inbox (execution_id, control, submitted_at, submitted_by) "
            "VALUES (?, ?, ?, ?)",
            (execution_id, text, to_db_time(utc_now()), submitted_by),
        )
        row_id = cursor.lastrowid
    assert row_id is not None
    logger.info("control %s queued for execution %s (%s)", control.get("type"), execution_id, submitted_by)
    return int(row_id)


def has_queued(db: Readable, execution_id: str) -> bool:
    """Whether a control waits for the driver: the cheap check a sleeping driver makes every second."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT 1 FROM control_inbox WHERE execution_id = ? AND state = 'queued' LIMIT 1", (execution_id,)
        ).fetchone()
    return row is not None


def queued_controls(db: Readable, execution_id: str) -> list[InboxControl]:
    """The execution's queued controls, oldest first (the order the driver decides them in)."""
    with db.reader() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM control_inbox WHERE execution_id = ? AND state = 'queued' ORDER BY id",
            (execution_id,),
        ).fetchall()
    return [_row(row) for row in rows]


def list_controls(db: Readable, execution_id: str) -> list[InboxControl]:
    """Every control sent to the execution through the inbox, oldest first."""
    with db.reader() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM control_inbox WHERE execution_id = ? ORDER BY id", (execution_id,)
        ).fetchall()
    return [_row(row) for row in rows]


def get_control(db: Readable, row_id: int) -> InboxControl:
    with db.reader() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM control_inbox WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        raise StorageError(f"no queued control with ID {row_id}")
    return _row(row)


def journal_control(
    db: Database,
    row_id: int,
    execution_id: str,
    event: Mapping[str, Any],
    *,
    expected_last: int | None,
) -> int:
    """Append ``event`` (the control as the driver journals it) and mark the row journaled with its seq,
    in one transaction; return the seq. InboxConflictError (nothing journaled) if the row was decided
    already; JournalConflictError if someone else appended since ``expected_last``."""
    with db.transaction() as conn:
        seq = append_events(db, execution_id, [event], expected_last=expected_last)
        cursor = conn.execute(
            "UPDATE control_inbox SET state = 'journaled', seq = ?, decided_at = ? "
            "WHERE id = ? AND execution_id = ? AND state = 'queued'",
            (seq, to_db_time(utc_now()), row_id, execution_id),
        )
        if cursor.rowcount != 1:
            raise InboxConflictError(f"control {row_id} of execution {execution_id} was already decided")
    return seq


def refuse(db: Database, row_id: int, reason: str) -> bool:
    """Mark a queued control refused, with the reason the operator sees; False if it was decided already."""
    with db.transaction() as conn:
        cursor = conn.execute(
            "UPDATE control_inbox SET state = 'refused', reason = ?, decided_at = ? "
            "WHERE id = ? AND state = 'queued'",
            (reason, to_db_time(utc_now()), row_id),
        )
    return cursor.rowcount == 1


def _row(row: sqlite3.Row | tuple[Any, ...]) -> InboxControl:
    try:
        control = json.loads(str(row[2]))
    except ValueError:
        control = {}
    return InboxControl(
        id=int(row[0]),
        execution_id=str(row[1]),
        control=control if isinstance(control, dict) else {},
        submitted_at=from_db_time(str(row[3])),
        submitted_by=str(row[4]),
        state=str(row[5]),
        reason=str(row[6]) if row[6] is not None else None,
        seq=int(row[7]) if row[7] is not None else None,
        decided_at=from_db_time(str(row[8])) if row[8] else None,
    )
