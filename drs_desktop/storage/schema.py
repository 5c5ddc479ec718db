"""The database schema: numbered migrations, applied in one transaction each, after a verified backup.

Migrations are ``NNNN_name.sql`` files in ``storage/migrations``, read through ``importlib.resources`` so
they are found in a source checkout, an installed wheel and a PyInstaller bundle alike. ``PRAGMA
user_version`` holds the number of the last one applied; ``PRAGMA application_id`` marks the file as
DRS Desktop's. Tests pass their own list of ``(version, sql)`` steps to build old schemas.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from drs_desktop.domain.errors import StorageError

logger = logging.getLogger(__name__)

#: The schema this code writes: the number of the last file in ``storage/migrations``.
SCHEMA_VERSION = 17
#: Written to the SQLite header (``PRAGMA application_id``) so that our files can be told apart from
#: any other program's SQLite database. "DRSD" in ASCII.
APPLICATION_ID = 0x44525344

_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_MIGRATIONS_PACKAGE = "drs_desktop.storage"
_MIGRATIONS_FOLDER = "migrations"


@dataclass(frozen=True)
class Migration:
    """One schema step: the SQL that takes the database from ``version - 1`` to ``version``.

    The SQL must not contain its own BEGIN/COMMIT: the migrator wraps it in a transaction together with
    the ``user_version`` bump.
    """

    version: int
    sql: str
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}" if self.name else f"{self.version:04d}"


def load_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in the package, in order.

    Read through ``importlib.resources`` so that they are found in a source checkout, an installed wheel
    and a PyInstaller bundle alike.
    """
    folder = resources.files(_MIGRATIONS_PACKAGE).joinpath(_MIGRATIONS_FOLDER)
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.read_text(encoding="utf-8"), match.group(2)))
    return normalize_migrations(found)


def normalize_migrations(migrations: Sequence[Migration | tuple[int, str]]) -> tuple[Migration, ...]:
    """Sorted migrations numbered 1, 2, ... without gaps; plain ``(version, sql)`` pairs are accepted."""
    steps = sorted(
        (m if isinstance(m, Migration) else Migration(int(m[0]), str(m[1])) for m in migrations),
        key=lambda m: m.version,
    )
    for expected, step in enumerate(steps, start=1):
        if step.version != expected:
            raise ValueError(f"migrations must be numbered 1, 2, 3... without gaps; found {step.label}")
    return tuple(steps)


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration | tuple[int, str]]) -> int:
    """Apply every migration above the database's ``user_version``; return the new version.

    Each migration runs in its own ``BEGIN IMMEDIATE`` transaction with its ``user_version`` bump, so a
    failure rolls back to the last good version. Foreign keys are off while a migration runs (SQLite's
    table-rebuild procedure needs that) and ``foreign_key_check`` must pass before it commits.
    ``conn`` must be in autocommit mode (``isolation_level=None``) and outside a transaction.
    """
    steps = normalize_migrations(migrations)
    current = user_version(conn)
    pending = [step for step in steps if step.version > current]
    if not pending:
        return current
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for step in pending:
            _apply_migration(conn, step, current)
            current = step.version
            logger.info("database migrated to schema v%d (%s)", step.version, step.label)
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return current


def _apply_migration(conn: sqlite3.Connection, step: Migration, current: int) -> None:
    # executescript() commits any open transaction before it runs, so the BEGIN must be part of the
    # script itself; the COMMIT is ours, after the foreign-key check.
    script = (
        f"BEGIN IMMEDIATE;\n{step.sql}\n;\n"
        f"PRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = {step.version};\n"
    )
    try:
        conn.executescript(script)
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise StorageError(
                f"migration {step.label} failed (foreign key violations in table {violations[0][0]!r}); "
                f"the database stays at schema v{current}"
            )
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        rollback_quietly(conn)
        if is_environmental(exc):
            raise
        raise StorageError(
            f"migration {step.label} failed ({one_line(exc)}); the database stays at schema v{current}"
        ) from exc
    except BaseException:
        rollback_quietly(conn)
        raise


def backup_database(conn: sqlite3.Connection, path: Path, folder: Path, version: int) -> Path:
    """Copy the database (SQLite backup API) to ``folder`` and verify the copy; return its path.

    The copy is named ``<stem>.v<version>.<UTC stamp>.sqlite3`` and is a single self-contained file.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot back up {path} before migrating: cannot create {folder} ({exc.strerror or exc})"
        ) from exc
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{path.stem}.v{version}.{stamp}.sqlite3"
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{path.stem}.v{version}.{stamp}-{counter}.sqlite3"
    try:
        copy = sqlite3.connect(target, isolation_level=None)
        try:
            conn.backup(copy)
            # A self-contained single file, whatever the journal mode of the original.
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
        check = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)
        try:
            ok = check.execute("PRAGMA quick_check(1)").fetchall() == [("ok",)]
            copied = user_version(check)
        finally:
            check.close()
    except sqlite3.Error as exc:
        raise StorageError(
            f"cannot back up {path} before migrating ({one_line(exc)}); nothing was changed"
        ) from exc
    if not ok or copied != version:
        raise StorageError(f"backup copy {target} failed verification; {path} was not migrated")
    logger.info("database backed up to %s before migrating from schema v%d", target, version)
    return target


def is_environmental(exc: sqlite3.Error) -> bool:
    """Locks, read-only files and I/O errors say nothing about the migration's SQL itself."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(
        ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN")
    )


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def rollback_quietly(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            logger.debug("rollback failed", exc_info=True)
