"""The database file: pragmas, migrations with backup, and refusals that never destroy data."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from drs_desktop.domain.errors import SchemaTooNewError, StorageError
from drs_desktop.storage.db import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    Database,
    Migration,
    load_migrations,
    migrate,
    normalize_migrations,
)
from drs_desktop.storage.plans import get_plan, list_plans, save_plan
from tests.storage.conftest import sample_plan

V1 = (1, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);")
V2 = (
    2,
    "ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT 'unknown';\n"
    "CREATE INDEX notes_author ON notes (author);",
)
BROKEN_V2 = (2, "CREATE TABLE extra (x);\nINSERT INTO no_such_table VALUES (1);")
BACKUP_NAME = re.compile(r"^drs-desktop\.v1\.\d{8}T\d{6}Z(-\d+)?\.sqlite3$")


def _pragma(db: Database, name: str) -> object:
    with db.reader() as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` (recursively) with its bytes: to prove that nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _make_v1(path: Path) -> None:
    with Database.open(path, migrations=[V1]) as db, db.transaction() as conn:
        conn.executemany("INSERT INTO notes (body) VALUES (?)", [("first",), ("second",)])


# ------------------------------------------------------------------------------------ fresh database


def test_fresh_database_is_wal_with_foreign_keys_and_current_schema(db: Database, db_path: Path) -> None:
    assert db_path.is_file()
    assert _pragma(db, "journal_mode") == "wal"
    assert _pragma(db, "foreign_keys") == 1
    assert _pragma(db, "synchronous") == 1  # NORMAL
    assert _pragma(db, "busy_timeout") == 5000
    assert _pragma(db, "application_id") == APPLICATION_ID
    assert db.schema_version == SCHEMA_VERSION
    with db.reader() as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"plans", "plan_revisions", "inventory", "inventory_snapshots", "settings"} <= tables
    assert db.backup_path is None
    assert not (db_path.parent / "backups").exists()


def test_schema_version_is_the_last_packaged_migration() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, SCHEMA_VERSION + 1))
    assert migrations[0].name == "initial"
    assert "CREATE TABLE plans" in migrations[0].sql


def test_migrations_must_be_numbered_without_gaps() -> None:
    with pytest.raises(ValueError, match="without gaps"):
        normalize_migrations([(1, "SELECT 1"), (3, "SELECT 1")])
    assert normalize_migrations([(2, "b"), Migration(1, "a", "first")]) == (
        Migration(1, "a", "first"),
        Migration(2, "b"),
    )


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(StorageError, match="FOREIGN KEY"), db.transaction() as conn:
        conn.execute(
            "INSERT INTO plan_revisions (id, plan_id, revision, document, content_hash, created_at, "
            "updated_at) VALUES ('r', 'no-such-plan', 1, '{}', 'h', 't', 't')"
        )


def test_data_survives_reopen_without_a_backup(db_path: Path) -> None:
    with Database.open(db_path) as db:
        save_plan(db, sample_plan())
    with Database.open(db_path) as db:
        assert get_plan(db, "Payroll") == sample_plan()
        assert db.backup_path is None
    assert not (db_path.parent / "backups").exists()


# ---------------------------------------------------------------------------------------- migrations


def test_old_schema_is_migrated_after_a_verified_backup(db_path: Path) -> None:
    _make_v1(db_path)
    with Database.open(db_path, migrations=[V1, V2]) as db:
        assert db.schema_version == 2
        with db.reader() as conn:
            rows = conn.execute("SELECT body, author FROM notes ORDER BY id").fetchall()
        assert rows == [("first", "unknown"), ("second", "unknown")]
        backup = db.backup_path
    assert backup is not None
    assert backup.parent == db_path.parent / "backups"
    assert BACKUP_NAME.match(backup.name), backup.name
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 1
        assert copy.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT body FROM notes ORDER BY id").fetchall() == [("first",), ("second",)]
        assert [r[1] for r in copy.execute("PRAGMA table_info(notes)")] == ["id", "body"]
    finally:
        copy.close()


def test_packaged_schema_migrates_to_a_newer_one_keeping_plans(db_path: Path) -> None:
    with Database.open(db_path) as db:
        save_plan(db, sample_plan())
    step = (SCHEMA_VERSION + 1, "ALTER TABLE plans ADD COLUMN colour TEXT NOT NULL DEFAULT '';")
    with Database.open(db_path, migrations=[*load_migrations(), step]) as db:
        assert db.schema_version == SCHEMA_VERSION + 1
        assert get_plan(db, "payroll") == sample_plan()
        assert db.backup_path is not None and db.backup_path.exists()


def test_two_migrations_on_the_same_second_get_distinct_backups(db_path: Path) -> None:
    _make_v1(db_path)
    with Database.open(db_path, migrations=[V1, V2]) as db:
        first = db.backup_path
    with Database.open(db_path, migrations=[V1, V2, (3, "SELECT 1;")]) as db:
        second = db.backup_path
    assert first is not None and second is not None
    assert first != second and first.exists() and second.exists()


def test_backup_folder_can_be_chosen(db_path: Path, tmp_path: Path) -> None:
    _make_v1(db_path)
    with Database.open(db_path, migrations=[V1, V2], backup_dir=tmp_path / "elsewhere") as db:
        assert db.backup_path is not None
        assert db.backup_path.parent == tmp_path / "elsewhere"


def test_failed_migration_leaves_the_previous_schema(db_path: Path) -> None:
    _make_v1(db_path)
    with pytest.raises(StorageError) as caught:
        Database.open(db_path, migrations=[V1, BROKEN_V2])
    message = str(caught.value)
    assert "migration 0002 failed" in message and "stays at schema v1" in message
    assert "\n" not in message and str(db_path) in message
    with Database.open(db_path, migrations=[V1]) as db:
        assert db.schema_version == 1
        with db.reader() as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 2
        assert "extra" not in tables
    assert len(list((db_path.parent / "backups").iterdir())) == 1


def test_migrate_applies_only_pending_steps(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "plain.sqlite3", isolation_level=None)
    try:
        assert migrate(conn, [V1]) == 1
        assert migrate(conn, [V1]) == 1  # nothing pending: V1 is not run twice
        assert migrate(conn, [V1, V2]) == 2
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        conn.close()


def test_newer_schema_is_refused_and_the_file_untouched(db_path: Path) -> None:
    with Database.open(db_path, migrations=[V1, V2]):
        pass
    before = _snapshot(db_path.parent)
    with pytest.raises(SchemaTooNewError) as caught:
        Database.open(db_path, migrations=[V1])
    assert str(caught.value).startswith(
        "database schema v2 is newer than this DRS Desktop supports (v1); upgrade DRS Desktop"
    )
    assert _snapshot(db_path.parent) == before


def test_newer_schema_than_the_packaged_one_is_refused(db_path: Path) -> None:
    with Database.open(db_path):
        pass
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    before = _snapshot(db_path.parent)
    with pytest.raises(SchemaTooNewError, match=f"v{SCHEMA_VERSION + 5} is newer"):
        Database.open(db_path)
    assert _snapshot(db_path.parent) == before


# ---------------------------------------------------------------------------- files we must not open


def _real_database_bytes(path: Path) -> bytes:
    with Database.open(path) as db:
        for index in range(40):
            save_plan(db, sample_plan(f"Plan {index}"))
    return path.read_bytes()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name: Payroll\nwaves: []\n", "not a DRS Desktop database (file is not SQLite): "),
        (os.urandom(8192), "not a DRS Desktop database (file is not SQLite): "),
        (b"SQLite format", "database is corrupt: "),
    ],
    ids=["text", "random-bytes", "truncated-header"],
)
def test_non_database_files_are_refused_untouched(db_path: Path, content: bytes, expected: str) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(StorageError) as caught:
        Database.open(db_path)
    assert str(caught.value).startswith(expected)
    assert str(db_path) in str(caught.value)
    assert _snapshot(db_path.parent) == {db_path.name: content}


def test_truncated_database_is_reported_corrupt_and_kept(db_path: Path, tmp_path: Path) -> None:
    data = _real_database_bytes(tmp_path / "real.sqlite3")
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError, match=r"^database is corrupt: .*\(.+\)$"):
        Database.open(db_path)
    assert _snapshot(db_path.parent) == {db_path.name: data[: len(data) // 2]}


def test_damaged_page_is_reported_corrupt_and_kept(db_path: Path, tmp_path: Path) -> None:
    data = bytearray(_real_database_bytes(tmp_path / "real.sqlite3"))
    page = 4096
    data[2 * page : 2 * page + 512] = os.urandom(512)
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match=r"^database is corrupt: "):
        Database.open(db_path)
    assert db_path.read_bytes() == bytes(data)


def test_another_applications_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.commit()
    conn.close()
    before = _snapshot(db_path.parent)
    with pytest.raises(StorageError, match=r"^not a DRS Desktop database \(SQLite database of another"):
        Database.open(db_path)
    assert _snapshot(db_path.parent) == before


def test_empty_file_is_refused_as_damaged_and_kept(db_path: Path) -> None:
    # SQLite would happily open a 0-byte file as an empty database and write a schema into it.
    db_path.parent.mkdir(parents=True)
    db_path.touch()
    with pytest.raises(StorageError) as caught:
        Database.open(db_path)
    assert str(caught.value) == f"database is corrupt: {db_path} (empty file, 0 bytes)"
    assert _snapshot(db_path.parent) == {db_path.name: b""}


def test_a_new_database_is_created_only_where_no_file_exists(db_path: Path) -> None:
    assert not db_path.exists()
    with Database.open(db_path) as db:
        assert db.schema_version == SCHEMA_VERSION
    assert db_path.stat().st_size > 0
    with Database.open(db_path) as db:  # and it opens again: a fresh file is never left empty
        assert db.schema_version == SCHEMA_VERSION


def test_a_new_database_whose_creation_failed_leaves_no_file_behind(db_path: Path) -> None:
    with pytest.raises(StorageError, match="migration 0002 failed"):
        Database.open(db_path, migrations=[V1, BROKEN_V2])
    assert list(db_path.parent.iterdir()) == []  # nothing that the next start would refuse as damaged
    with Database.open(db_path, migrations=[V1]) as db:
        assert db.schema_version == 1


def test_a_folder_in_place_of_the_file_is_refused(db_path: Path) -> None:
    db_path.mkdir(parents=True)
    with pytest.raises(StorageError, match="it is a folder"):
        Database.open(db_path)


def test_a_file_in_place_of_the_home_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("not a folder")
    with pytest.raises(StorageError, match="cannot create folder"):
        Database.open(tmp_path / "home" / "drs-desktop.sqlite3")
    assert (tmp_path / "home").read_text() == "not a folder"


# ------------------------------------------------------------------------------- locks and read-only


def test_locked_database_is_reported_within_the_busy_timeout(db_path: Path) -> None:
    with Database.open(db_path) as db:
        save_plan(db, sample_plan())
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageError) as caught:
            Database.open(db_path, busy_timeout_ms=50)
        assert str(caught.value) == f"database is locked by another process: {db_path}"
        other.execute("ROLLBACK")
    finally:
        other.close()
    with Database.open(db_path) as db:
        assert get_plan(db, "Payroll") == sample_plan()


def test_lock_taken_after_open_fails_a_write_with_a_clear_error(db_path: Path) -> None:
    with Database.open(db_path, busy_timeout_ms=50) as db:
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StorageError, match=r"^database is locked by another process: "):
                save_plan(db, sample_plan())
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert list_plans(db) == []
        save_plan(db, sample_plan())  # the connection is usable again once the lock is gone
        assert [p.name for p in list_plans(db)] == ["Payroll"]


def test_read_only_home_refuses_a_new_database(
    tmp_path: Path, make_read_only: Callable[[Path], None]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    make_read_only(home)
    path = home / "drs-desktop.sqlite3"
    with pytest.raises(StorageError) as caught:
        Database.open(path)
    assert str(caught.value) == f"cannot write to {path}: read-only folder"
    assert list(home.iterdir()) == []


def test_read_only_home_refuses_an_existing_database_untouched(
    db_path: Path, make_read_only: Callable[[Path], None]
) -> None:
    with Database.open(db_path) as db:
        save_plan(db, sample_plan())
    before = _snapshot(db_path.parent)
    make_read_only(db_path.parent)
    with pytest.raises(StorageError, match="read-only folder"):
        Database.open(db_path)
    assert _snapshot(db_path.parent) == before


# --------------------------------------------------------------------------- transactions and threads


def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(KeyError), db.transaction() as conn:
        conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 't')")
        raise KeyError("boom")
    with db.reader() as conn:
        assert conn.execute("SELECT count(*) FROM settings").fetchone()[0] == 0


def test_nested_transaction_is_a_savepoint(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('outer', '1', 't')")
        with pytest.raises(ValueError), db.transaction() as inner:
            inner.execute("INSERT INTO settings (key, value, updated_at) VALUES ('inner', '1', 't')")
            raise ValueError("undo the inner block only")
    with db.reader() as conn:
        assert [r[0] for r in conn.execute("SELECT key FROM settings")] == ["outer"]


def test_writing_inside_a_reader_is_a_programming_error(db: Database) -> None:
    with pytest.raises(RuntimeError, match=r"inside Database\.reader"), db.reader(), db.transaction():
        pass


def test_closed_database_says_so(db_path: Path) -> None:
    db = Database.open(db_path)
    db.close()
    db.close()  # closing twice is harmless
    assert db.closed
    with pytest.raises(StorageError, match="database is closed"), db.reader():
        pass


def test_read_connection_sees_commits_and_cannot_write(db: Database) -> None:
    save_plan(db, sample_plan())
    reader = db.read_connection()
    try:
        assert reader.execute("SELECT name FROM plans").fetchall() == [("Payroll",)]
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only"):
            reader.execute("DELETE FROM plans")
    finally:
        reader.close()
    with db.open_reader() as worker_db:
        assert get_plan(worker_db, "Payroll") == sample_plan()


def test_concurrent_writers_through_one_database_lose_nothing(db: Database) -> None:
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1, timeout=30)

    def write(worker: int) -> None:
        try:
            start.wait()
            for index in range(per_thread):
                if index % 5 == 0:
                    save_plan(db, sample_plan(f"plan {worker}-{index}"))
                with db.transaction() as conn:
                    conn.execute(
                        "INSERT INTO settings (key, value, updated_at) VALUES (?, '0', 't')",
                        (f"k.{worker}.{index}",),
                    )
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        # A reader thread with its own connection, running while the writers write.
        try:
            with db.open_reader() as own:
                start.wait()
                for _ in range(50):
                    with own.reader() as conn:
                        conn.execute("SELECT count(*) FROM settings").fetchone()
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    reader = threading.Thread(target=read)
    for thread in [*workers, reader]:
        thread.start()
    for thread in [*workers, reader]:
        thread.join(timeout=60)
    assert errors == []
    with db.reader() as conn:
        assert conn.execute("SELECT count(*) FROM settings").fetchone()[0] == threads * per_thread
    assert len(list_plans(db)) == threads * (per_thread // 5)
