"""The local SQLite database: one shared write connection, integrity checks, migrations with backup.

Why one write connection: SQLite builds older than 3.51.3 (Debian's, and the one PyInstaller bundles)
can corrupt a WAL database when several connections of one process write and checkpoint at the same
time. So every write of the process goes through the single connection a ``Database`` owns, one
transaction at a time under a lock; other threads that only read open their own read-only connection
(``read_connection`` / ``open_reader``).

Why so careful at open: the file holds an operator's recovery plans. Opening never deletes, truncates or
rewrites a file it cannot read: a file that is not SQLite, a corrupt one, another program's database or
one written by a newer DRS Desktop is refused with a one-line ``StorageError`` before anything is written.
A new database is created only where no file exists: an existing empty (0-byte) file is refused too.
Before a migration the file is copied (SQLite backup API) into ``backups/`` and the copy is verified; each
migration then runs in one transaction together with its ``user_version`` bump, so a failure leaves the
previous schema whole.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from drs_desktop.domain.errors import SchemaTooNewError, StorageError
from drs_desktop.storage.schema import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    Migration,
    backup_database,
    load_migrations,
    migrate,
    normalize_migrations,
    one_line,
    rollback_quietly,
    user_version,
)

logger = logging.getLogger(__name__)

__all__ = [
    "APPLICATION_ID",
    "DEFAULT_BUSY_TIMEOUT_MS",
    "SCHEMA_VERSION",
    "Database",
    "Migration",
    "ReadOnlyDatabase",
    "Readable",
    "from_db_time",
    "load_migrations",
    "migrate",
    "normalize_migrations",
    "storage_error",
    "to_db_time",
    "utc_now",
]

DEFAULT_BUSY_TIMEOUT_MS = 5000

_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_HEADER_SIZE = 100


class Readable(Protocol):
    """Anything the read functions of ``storage`` can query: a ``Database`` or a ``ReadOnlyDatabase``."""

    def reader(self) -> AbstractContextManager[sqlite3.Connection]: ...


# ----------------------------------------------------------------------------------------------- time


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_db_time(moment: datetime) -> str:
    """UTC ISO-8601 with microseconds: fixed width, so text order is time order. Naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -------------------------------------------------------------------------------------------- errors


def storage_error(exc: sqlite3.Error, path: Path) -> StorageError:
    """The one-line operator message for an SQLite failure on ``path``."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = one_line(exc)
    lowered = text.lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in lowered:
        return StorageError(f"database is locked by another process: {path}")
    if name == "SQLITE_NOTADB" or "file is not a database" in lowered:
        return StorageError(f"not a DRS Desktop database (file is not SQLite): {path}")
    if name.startswith("SQLITE_CORRUPT") or "malformed" in lowered:
        return StorageError(f"database is corrupt: {path} ({text})")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")) or "readonly" in lowered:
        if not _folder_writable(path.parent):
            return StorageError(f"cannot write to {path}: read-only folder")
        if path.exists() and not os.access(path, os.W_OK):
            return StorageError(f"cannot write to {path}: read-only file")
        return StorageError(f"cannot open {path} for writing ({text})")
    if name == "SQLITE_FULL":
        return StorageError(f"cannot write to {path}: disk full")
    if name.startswith("SQLITE_IOERR"):
        return StorageError(f"cannot read or write {path}: I/O error ({text})")
    return StorageError(f"database error on {path}: {text}")


def _folder_writable(folder: Path) -> bool:
    # os.access also answers EROFS (read-only mounts) and immutable folders, even for root.
    return os.access(folder, os.W_OK | os.X_OK)


# ------------------------------------------------------------------------------------------ database


class Database:
    """The process's one SQLite write connection, shared by threads under a lock.

    Use ``transaction()`` to write (``BEGIN IMMEDIATE`` ... ``COMMIT``) and ``reader()`` to read a
    consistent snapshot. Both hold the lock for their whole block, so keep blocks short and never call
    AWS inside one. Nested ``transaction()`` blocks on the same thread become savepoints.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, busy_timeout_ms: int) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.RLock()
        self._depth = 0
        self._reading = False
        self.backup_path: Path | None = None
        """The verified copy made before this open migrated the file, if it did."""

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        backup_dir: str | os.PathLike[str] | None = None,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        migrations: Sequence[Migration | tuple[int, str]] | None = None,
    ) -> Database:
        """Open (creating it only where no file exists) and migrate the database at ``path``.

        ``backup_dir`` defaults to ``backups/`` beside the file. ``migrations`` replaces the packaged
        migrations (tests use it to build an old schema). Raises ``StorageError`` (one line) for a file
        that is not SQLite, corrupt, another program's, locked, or in a read-only folder, and
        ``SchemaTooNewError`` for a schema newer than the migrations know; the file is left untouched.
        """
        path = Path(path).expanduser().absolute()
        steps = load_migrations() if migrations is None else normalize_migrations(migrations)
        target = steps[-1].version if steps else 0
        backups = Path(backup_dir) if backup_dir is not None else path.parent / "backups"
        _prepare_folder(path)
        _check_file(path)
        created = not path.exists()
        try:
            conn = sqlite3.connect(
                path,
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise storage_error(exc, path) from exc
        db = cls(conn, path, busy_timeout_ms)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            version = _inspect(conn, path)
            if version > target:
                raise SchemaTooNewError(
                    f"database schema v{version} is newer than this DRS Desktop supports (v{target}); "
                    f"upgrade DRS Desktop: {path}"
                )
            if 0 < version < target:
                db.backup_path = backup_database(conn, path, backups, version)
            mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
            if mode != "wal":
                logger.warning("SQLite refused WAL mode for %s (journal mode %s)", path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            try:
                migrate(conn, steps)
            except StorageError as exc:
                raise StorageError(f"{exc}: {path}") from exc
            # Take the write lock once, so that a locked or read-only file is reported now, at start,
            # rather than at the operator's first save.
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            if migrations is None:  # the packaged schema: the desktop ID goes with where the file lives
                from drs_desktop.storage.sync_identity import bind_desktop_id

                bind_desktop_id(db)
        except sqlite3.Error as exc:
            db.close()
            if created:
                _remove_new_file(path)
            raise storage_error(exc, path) from exc
        except BaseException:
            db.close()
            if created:
                _remove_new_file(path)
            raise
        logger.info("database open: %s (schema v%d)", path, target)
        return db

    @property
    def path(self) -> Path:
        return self._path

    @property
    def closed(self) -> bool:
        return self._conn is None

    @property
    def schema_version(self) -> int:
        with self.reader() as conn:
            return user_version(conn)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on the shared connection; commits at the end, rolls back on any error.

        SQLite errors leave as ``StorageError`` with one clear line.
        """
        with self._lock:
            conn = self._require_open()
            if self._reading:
                raise RuntimeError("cannot write inside Database.reader(); use transaction() instead")
            if self._depth:
                yield from self._savepoint(conn)
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise storage_error(exc, self._path) from exc
            self._depth = 1
            try:
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                rollback_quietly(conn)
                raise storage_error(exc, self._path) from exc
            except BaseException:
                rollback_quietly(conn)
                raise
            finally:
                self._depth = 0

    def _savepoint(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        name = f"drs_sp{self._depth}"
        conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield conn
        except BaseException:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            raise
        else:
            conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot on the shared connection (inside a transaction: that one)."""
        with self._lock:
            conn = self._require_open()
            if self._depth or self._reading:
                yield conn
                return
            try:
                conn.execute("BEGIN")
            except sqlite3.Error as exc:
                raise storage_error(exc, self._path) from exc
            self._reading = True
            try:
                yield conn
            except sqlite3.Error as exc:
                raise storage_error(exc, self._path) from exc
            finally:
                self._reading = False
                rollback_quietly(conn)

    def read_connection(self) -> sqlite3.Connection:
        """A new read-only connection to the same file, for a worker thread's own reads.

        Call it in the thread that will use the connection (sqlite3 ties a connection to its thread).
        """
        self._require_open()
        return _connect_read_only(self._path, self._busy_timeout_ms)

    def open_reader(self) -> ReadOnlyDatabase:
        """``read_connection`` wrapped so the storage read functions accept it."""
        return ReadOnlyDatabase(self.read_connection(), self._path)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({str(self._path)!r}{', closed' if self.closed else ''})"

    def _require_open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"database is closed: {self._path}")
        return self._conn


class ReadOnlyDatabase:
    """A read-only connection for one thread (a worker's own reader); same ``reader()`` as Database."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._path = path

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        if self._conn is None:
            raise StorageError(f"database is closed: {self._path}")
        conn = self._conn
        if conn.in_transaction:
            yield conn
            return
        try:
            conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise storage_error(exc, self._path) from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            raise storage_error(exc, self._path) from exc
        finally:
            rollback_quietly(conn)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class LazyReader:
    """A service's own read connection: opened by the first call, on the thread that calls (a task
    thread or a loop thread owns the service), and closed by ``close()`` on that thread. A plain
    attribute of the service, never a thread-local (DESIGN §3.5). Calling it again after ``close()``
    opens a new one."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._reader: ReadOnlyDatabase | None = None

    def __call__(self) -> ReadOnlyDatabase:
        if self._reader is None:
            self._reader = self._db.open_reader()
        return self._reader

    @property
    def current(self) -> ReadOnlyDatabase | None:
        """The connection open now, if any (tests check where it was opened and that it was closed)."""
        return self._reader

    def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()


# --------------------------------------------------------------------------------------- open steps


def _prepare_folder(path: Path) -> None:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StorageError(f"cannot create folder {folder}: a file has that name") from None
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise StorageError(f"cannot write to {path}: read-only folder") from exc
        raise StorageError(f"cannot create folder {folder}: {exc.strerror or exc}") from exc
    if not _folder_writable(folder):
        raise StorageError(f"cannot write to {path}: read-only folder")


def _check_file(path: Path) -> None:
    """Refuse, by looking at its first bytes only, a file that SQLite should never be pointed at."""
    try:
        if not path.exists():
            return
        if path.is_dir():
            raise StorageError(f"not a DRS Desktop database (it is a folder): {path}")
        with path.open("rb") as handle:
            head = handle.read(_SQLITE_HEADER_SIZE)
    except PermissionError as exc:
        raise StorageError(f"cannot read {path}: permission denied") from exc
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head:
        # SQLite would take a 0-byte file for an empty database and write a new schema into it. But an
        # empty file where the database should be is a sign of damage (a failed copy, a disk that lost
        # the data, a sync tool's placeholder): refuse it like any damaged file, so the operator looks.
        raise StorageError(f"database is corrupt: {path} (empty file, 0 bytes)")
    if not head.startswith(_SQLITE_MAGIC):
        if _SQLITE_MAGIC.startswith(head):
            raise StorageError(f"database is corrupt: {path} (truncated header)")
        raise StorageError(f"not a DRS Desktop database (file is not SQLite): {path}")
    if len(head) < _SQLITE_HEADER_SIZE:
        raise StorageError(f"database is corrupt: {path} (truncated header)")
    if not os.access(path, os.R_OK | os.W_OK):
        raise StorageError(f"cannot write to {path}: read-only file")


def _remove_new_file(path: Path) -> None:
    """Remove the database file this open created (and its WAL files) after the open failed: left
    behind, a 0-byte or half-built file would be refused as damaged at the next start."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            leftover.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("cannot remove the unfinished new database %s: %s", leftover, exc.strerror or exc)


def _inspect(conn: sqlite3.Connection, path: Path) -> int:
    """Check integrity and ownership without writing anything; return the schema version."""
    rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    if [tuple(row) for row in rows] != [("ok",)]:
        detail = " ".join(str(rows[0][0]).split()) if rows else "no answer from quick_check"
        raise StorageError(f"database is corrupt: {path} ({detail})")
    version = user_version(conn)
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id == APPLICATION_ID:
        return version
    tables = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()[0]
    if app_id != 0 or version != 0 or tables:
        raise StorageError(f"not a DRS Desktop database (SQLite database of another application): {path}")
    return 0


def _connect_read_only(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(
            f"{path.as_uri()}?mode=ro", uri=True, timeout=busy_timeout_ms / 1000, isolation_level=None
        )
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    return conn
