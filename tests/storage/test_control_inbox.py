"""The control inbox table: queued controls, decided once, journaled together with their row's mark."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.storage import control_inbox as inbox
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database, load_migrations

from .conftest import sample_plan
from .old_rows import insert_execution, insert_plan
from .test_executions import T0, new_execution

PAUSE = {"type": "Pause", "at": T0.isoformat(), "by": "bob"}


def test_a_control_is_queued_then_journaled_with_its_seq(db: Database) -> None:
    record = new_execution(db)
    journal.append_events(db, record.execution_id, [{"type": "ExecutionStarted", "at": T0.isoformat()}])
    row_id = inbox.submit(db, record.execution_id, PAUSE, submitted_by="bob (pid 7 on host)")
    (queued,) = inbox.queued_controls(db, record.execution_id)
    assert (queued.id, queued.state, queued.kind, queued.submitted_by) == (
        row_id,
        "queued",
        "Pause",
        "bob (pid 7 on host)",
    )
    assert inbox.has_queued(db, record.execution_id)

    seq = inbox.journal_control(db, row_id, record.execution_id, PAUSE, expected_last=1)

    assert seq == 2
    row = inbox.get_control(db, row_id)
    assert (row.state, row.seq, row.reason) == ("journaled", 2, None)
    assert row.decided_at is not None
    assert [e.type for e in journal.load_journal(db, record.execution_id)] == ["ExecutionStarted", "Pause"]
    assert not inbox.has_queued(db, record.execution_id)
    assert inbox.queued_controls(db, record.execution_id) == []


def test_a_decided_row_is_never_journaled_again(db: Database) -> None:
    record = new_execution(db)
    row_id = inbox.submit(db, record.execution_id, PAUSE)
    inbox.journal_control(db, row_id, record.execution_id, PAUSE, expected_last=0)
    with pytest.raises(inbox.InboxConflictError):
        inbox.journal_control(db, row_id, record.execution_id, PAUSE, expected_last=1)
    # The append and the mark are one transaction: the failed mark took the append back with it.
    assert len(journal.load_journal(db, record.execution_id)) == 1
    assert not inbox.refuse(db, row_id, "too late")
    assert inbox.get_control(db, row_id).state == "journaled"


def test_a_journal_conflict_leaves_the_row_queued(db: Database) -> None:
    record = new_execution(db)
    row_id = inbox.submit(db, record.execution_id, PAUSE)
    journal.append_events(db, record.execution_id, [{"type": "ExecutionStarted", "at": T0.isoformat()}])
    with pytest.raises(journal.JournalConflictError):
        inbox.journal_control(db, row_id, record.execution_id, PAUSE, expected_last=0)
    assert inbox.get_control(db, row_id).state == "queued"
    assert len(journal.load_journal(db, record.execution_id)) == 1


def test_a_refusal_keeps_the_reason_and_is_final(db: Database) -> None:
    record = new_execution(db)
    row_id = inbox.submit(db, record.execution_id, PAUSE)
    assert inbox.refuse(db, row_id, "already paused")
    assert not inbox.refuse(db, row_id, "another reason")
    row = inbox.get_control(db, row_id)
    assert (row.state, row.reason, row.seq) == ("refused", "already paused", None)
    with pytest.raises(inbox.InboxConflictError):
        inbox.journal_control(db, row_id, record.execution_id, PAUSE, expected_last=0)
    assert journal.load_journal(db, record.execution_id) == []


def test_rows_belong_to_their_execution(db: Database) -> None:
    one = new_execution(db)
    other = new_execution(db, "0f8b2c1e-2222-4222-8333-944455556666")
    inbox.submit(db, one.execution_id, PAUSE)
    assert inbox.queued_controls(db, other.execution_id) == []
    assert not inbox.has_queued(db, other.execution_id)
    with pytest.raises(journal.ExecutionNotFoundError):
        inbox.submit(db, "no-such-execution", PAUSE)


def test_a_v2_database_migrates_to_the_inbox_schema_keeping_its_journal(db_path: Path) -> None:
    with Database.open(db_path, migrations=load_migrations()[:2]) as old:
        assert old.schema_version == 2
        with old.transaction() as conn:  # rows as a v2 desktop wrote them
            plan_id, (revision_id,) = insert_plan(conn, [sample_plan()])
            execution_id = insert_execution(conn, plan_id, revision_id, [PAUSE])
    with Database.open(db_path) as db:
        assert db.schema_version >= 3
        assert db.backup_path is not None and ".v2." in db.backup_path.name
        assert [e.type for e in journal.load_journal(db, execution_id)] == ["Pause"]
        row_id = inbox.submit(db, execution_id, PAUSE)
        assert inbox.get_control(db, row_id).state == "queued"
