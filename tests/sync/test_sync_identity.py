"""A copied database does not share its desktop ID (storage/sync_identity.py; issue 14): the ID is bound
to the machine and the database's path, a copy elsewhere mints a new one and keeps the old one, and the
executions driven under the old ID stay this database's own when their heads come back from the table."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from drs_desktop.cli import main
from drs_desktop.storage import executions as journal
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database
from drs_desktop.storage.sync_apply import is_foreign
from drs_desktop.storage.sync_identity import bind_desktop_id, former_ids, machine_fingerprint
from tests.sync.desktops import desktop, init_table
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.sync.test_sync_service_executions import EXECUTION, T0, _events, _run


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)  # closed: the WAL was checkpointed into the file
    return target


def _id(path: Path) -> str:
    with Database.open(path) as db:
        return outbox.get_state(db).desktop_id


def test_a_copy_at_another_path_gets_a_new_id_and_the_original_keeps_its_own(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    original = tmp_path / "a" / "drs.sqlite3"
    first = _id(original)
    assert _id(original) == first, "reopened where it lives: the same ID"
    copy = _copy(original, tmp_path / "b" / "drs.sqlite3")
    with caplog.at_level(logging.WARNING):
        second = _id(copy)
    assert second != first
    assert sum("its desktop ID is now" in r.getMessage() for r in caplog.records) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert _id(copy) == second, "said once: the copy is bound where it is now"
    assert not any("desktop ID" in r.getMessage() for r in caplog.records)
    assert _id(original) == first
    with Database.open(copy) as db:
        assert [f.desktop_id for f in former_ids(db)] == [first]
        assert former_ids(db)[0].bound_path.endswith(str(Path("a") / "drs.sqlite3"))
    with Database.open(original) as db:
        assert former_ids(db) == []
        # The same file on another machine (its machine ID differs): a new ID too.
        rebound = bind_desktop_id(db, machine="0" * 64)
        assert rebound is not None and rebound.old_id == first and not rebound.same_machine
        assert bind_desktop_id(db, machine="0" * 64) is None
    assert len(machine_fingerprint()) == 64 and machine_fingerprint() == machine_fingerprint()


def test_sync_status_says_the_id_is_new(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home_a, home_b = tmp_path / "a", tmp_path / "b"
    assert main(["sync", "status", "--home", str(home_a)]) == 0
    old = capsys.readouterr().out
    assert "copied or moved" not in old
    source = next(home_a.rglob("*.sqlite3"))
    _copy(source, home_b / source.relative_to(home_a))
    assert main(["sync", "status", "--home", str(home_b)]) == 0
    out = capsys.readouterr().out
    first = old.split("desktop ID: ")[1].split()[0]
    assert "this database was copied or moved from" in out and f"where it was desktop {first}" in out


def test_executions_driven_under_the_old_id_are_still_this_desktops(
    tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    """The database moves to a new laptop while the old one finishes its run: the run's heads, written
    under the database's former ID, come back to the copy as its own history, not someone else's."""
    init_table(dynamodb)
    a = desktop(tmp_path, "a", dynamodb)
    _run(a.db, 30)
    a.service.sync_now()
    a.db.close()
    _copy(tmp_path / "a" / "drs.sqlite3", tmp_path / "c" / "drs.sqlite3")
    a = desktop(tmp_path, "a", dynamodb)
    c = desktop(tmp_path, "c", dynamodb)
    b = desktop(tmp_path, "b", dynamodb)
    try:
        assert c.desktop_id != a.desktop_id
        assert [f.desktop_id for f in former_ids(c.db)] == [a.desktop_id]
        journal.append_events(a.db, EXECUTION, _events(31, 5))
        journal.set_execution_status(a.db, EXECUTION, "SUCCEEDED", outcome="SUCCEEDED", finished_at=T0)
        assert a.service.sync_now().pushed == {"journal pages": 1, "executions": 1}
        assert c.service.sync_now().pulled == {"executions": 1, "journal pages": 1}
        b.service.sync_now()
        assert is_foreign(b.db, EXECUTION), "a teammate's desktop: someone else's"
        assert not is_foreign(c.db, EXECUTION), "driven under the copy's former ID: its own"
        assert journal.get_execution(c.db, EXECUTION).event_count == 35
    finally:
        for d in (a, b, c):
            d.db.close()


def test_a_lease_held_under_the_former_id_is_not_taken_as_this_desktops(
    tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    from drs_desktop.aws import sync_lease
    from drs_desktop.domain.sync_errors import LeaseHeld
    from drs_desktop.services.execution_lease import ExecutionLeases
    from tests.sync.lease_helpers import TABLE, make_table

    target = make_table(dynamodb)
    original = tmp_path / "a" / "drs.sqlite3"
    first = _id(original)
    sync_lease.take(dynamodb.client(), TABLE, EXECUTION, first)  # the original drives it
    with Database.open(_copy(original, tmp_path / "b" / "drs.sqlite3")) as db:
        leases = ExecutionLeases(target, outbox.get_state(db).desktop_id, db=db)
        with pytest.raises(LeaseHeld, match="before it was copied or moved") as caught:
            leases.take(EXECUTION)
        assert caught.value.holder == first
