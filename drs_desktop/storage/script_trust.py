"""This desktop's allow-list of local scripts (``script_trust``, migration 0015).

Why a table of its own, outside every synced aggregate: trust is a fact about one machine and the person
at it (issue 17). Nothing here queues a ``sync_outbox`` entry, no plan or export reads it, and pulled
changes never write it, so neither a colleague's desktop nor a plan file can make this one run a
program. One row per absolute path; trusting a path again replaces its row (the new bytes, who, when).

A row that does not read back whole (a hash that is not 64 hex digits, an unreadable time) is a
``StorageError`` naming the path, never a half-read trust: a damaged row must not make a script run.
"""

from __future__ import annotations

import sqlite3

from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.script_trust import TrustedScript, is_sha256
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time

__all__ = ["delete_trust", "get_trust", "list_trust", "save_trust"]

_COLUMNS = "path, resolved_path, sha256, trusted_by, trusted_at, shown_command"


def save_trust(db: Database, trust: TrustedScript) -> TrustedScript:
    """Store ``trust`` for its path, replacing an earlier trust of the same path; return it as stored."""
    if not is_sha256(trust.sha256):
        raise StorageError(f"not a SHA-256 (64 lowercase hex digits) for {trust.path}: {trust.sha256!r}")
    with db.transaction() as conn:
        conn.execute(
            f"INSERT OR REPLACE INTO script_trust ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                trust.path,
                trust.resolved_path,
                trust.sha256,
                trust.trusted_by,
                to_db_time(trust.trusted_at),
                trust.shown_command,
            ),
        )
    stored = get_trust(db, trust.path)
    assert stored is not None
    return stored


def get_trust(db: Readable, path: str) -> TrustedScript | None:
    with db.reader() as conn:
        row = _cursor(conn).execute(f"SELECT {_COLUMNS} FROM script_trust WHERE path = ?", (path,)).fetchone()
    return _trust(row) if row is not None else None


def list_trust(db: Readable) -> list[TrustedScript]:
    """Every trusted script, by path."""
    with db.reader() as conn:
        rows = _cursor(conn).execute(f"SELECT {_COLUMNS} FROM script_trust ORDER BY path").fetchall()
    return [_trust(row) for row in rows]


def delete_trust(db: Database, path: str) -> bool:
    """Forget the trust of ``path``; False when it was not trusted."""
    with db.transaction() as conn:
        deleted = conn.execute("DELETE FROM script_trust WHERE path = ?", (path,)).rowcount
    return deleted > 0


def _cursor(conn: sqlite3.Connection) -> sqlite3.Cursor:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor


def _trust(row: sqlite3.Row) -> TrustedScript:
    path = str(row["path"])
    sha256 = row["sha256"]
    if not isinstance(sha256, str) or not is_sha256(sha256):
        raise StorageError(f"the trust of script {path} is damaged (its SHA-256 does not read); revoke it")
    try:
        trusted_at = from_db_time(str(row["trusted_at"]))
    except ValueError as exc:
        raise StorageError(
            f"the trust of script {path} is damaged (its time does not read: {exc}); revoke it"
        ) from exc
    return TrustedScript(
        path=path,
        resolved_path=str(row["resolved_path"]),
        sha256=sha256,
        trusted_by=str(row["trusted_by"]),
        trusted_at=trusted_at,
        shown_command=str(row["shown_command"]),
    )
