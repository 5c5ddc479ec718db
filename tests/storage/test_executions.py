"""The execution journal: append-only, ordered, committed per append, pinned to a plan revision."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.domain.engine.journal_integrity import JournalUnreadableError
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import SCHEMA_VERSION, Database
from drs_desktop.storage.plans import save_plan

from .conftest import sample_plan

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def new_execution(
    db: Database, execution_id: str = "0f8b2c1e-1111-4222-8333-944455556666"
) -> ExecutionRecord:
    revision = save_plan(db, sample_plan())
    return journal.create_execution(
        db,
        ExecutionRecord(
            execution_id=execution_id,
            plan_id=revision.plan_id,
            plan_revision_id=revision.revision_id,
            plan_name=revision.name,
            plan_revision=revision.revision,
            mode="DRILL",
            status="RUNNING",
            started_at=T0,
            options={"point_in_time": None, "poll_interval": 5},
            spec={"waves": []},
        ),
    )


def test_create_and_get(db: Database) -> None:
    record = new_execution(db)
    assert record.plan_name == "Payroll"
    assert record.plan_revision == 1
    assert record.options == {"point_in_time": None, "poll_interval": 5}
    assert record.spec == {"waves": []}
    assert record.started_at == T0
    assert not record.finished
    assert journal.get_execution(db, record.execution_id[:8]) == record  # unique prefix
    with pytest.raises(journal.ExecutionNotFoundError):
        journal.get_execution(db, "nope")


def test_events_append_in_order_and_replay(db: Database) -> None:
    record = new_execution(db)
    first = [{"type": "ExecutionStarted", "at": T0.isoformat()}]
    assert journal.append_events(db, record.execution_id, first) == 1
    more = [{"type": "StartRequested", "at": T0.isoformat(), "chunk": f"1.{i}"} for i in range(3)]
    assert journal.append_events(db, record.execution_id, more) == 4
    entries = journal.load_journal(db, record.execution_id)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert [e.payload.get("chunk") for e in entries] == [None, "1.0", "1.1", "1.2"]
    assert entries[1].type == "StartRequested"
    assert journal.get_execution(db, record.execution_id).event_count == 4


def test_event_without_type_is_refused_and_nothing_written(db: Database) -> None:
    record = new_execution(db)
    with pytest.raises(ValueError):
        journal.append_events(db, record.execution_id, [{"type": "A", "at": T0.isoformat()}, {"at": "x"}])
    assert journal.load_journal(db, record.execution_id) == []


def test_append_to_unknown_execution(db: Database) -> None:
    with pytest.raises(journal.ExecutionNotFoundError):
        journal.append_events(db, "missing", [{"type": "A"}])


def test_journal_survives_reopen(db_path: Path) -> None:
    with Database.open(db_path) as db:
        record = new_execution(db)
        journal.append_events(db, record.execution_id, [{"type": "A", "at": T0.isoformat()}])
    with Database.open(db_path) as db:
        assert [e.type for e in journal.load_journal(db, record.execution_id)] == ["A"]
        assert [r.execution_id for r in journal.unfinished_executions(db)] == [record.execution_id]


def test_status_outcome_and_listing(db: Database) -> None:
    a = new_execution(db, "aaaaaaaa-0000-4000-8000-000000000001")
    b = new_execution(db, "bbbbbbbb-0000-4000-8000-000000000002")
    journal.set_execution_status(db, a.execution_id, "SUCCEEDED", outcome="SUCCEEDED", finished_at=T0)
    assert journal.get_execution(db, a.execution_id).outcome == "SUCCEEDED"
    assert [r.execution_id for r in journal.unfinished_executions(db)] == [b.execution_id]
    assert {r.execution_id for r in journal.list_executions(db, plan_name="payroll")} == {
        a.execution_id,
        b.execution_id,
    }
    assert journal.list_executions(db, mode="RECOVERY") == []
    with pytest.raises(journal.ExecutionNotFoundError):
        journal.set_execution_status(db, "missing", "RUNNING")


def test_concurrent_appends_keep_a_gapless_sequence(db: Database) -> None:
    record = new_execution(db)

    def writer(n: int) -> None:
        for i in range(25):
            journal.append_events(db, record.execution_id, [{"type": f"W{n}", "at": T0.isoformat(), "i": i}])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = journal.load_journal(db, record.execution_id)
    assert [e.seq for e in entries] == list(range(1, 101))
    for n in range(4):  # each writer's events stay in its own order
        assert [e.payload["i"] for e in entries if e.type == f"W{n}"] == list(range(25))


def test_corrupt_payload_is_one_line_naming_the_entry(db: Database) -> None:
    record = new_execution(db)
    journal.append_events(db, record.execution_id, [{"type": "A", "at": T0.isoformat()}])
    with db.transaction() as conn:
        conn.execute(
            "UPDATE execution_events SET payload = '{broken' WHERE execution_id = ?", (record.execution_id,)
        )
    with pytest.raises(JournalUnreadableError) as caught:
        journal.load_journal(db, record.execution_id)
    assert str(caught.value) == (
        f"execution {record.execution_id}: journal entry 1 is not valid JSON: "
        "written by a newer DRS Desktop, or damaged"
    )


def test_a_v1_database_migrates_to_the_journal_schema_with_a_backup(db_path: Path) -> None:
    from drs_desktop.storage.db import load_migrations
    from drs_desktop.storage.plans import get_plan

    from .old_rows import insert_plan

    with Database.open(db_path, migrations=load_migrations()[:1]) as old:
        assert old.schema_version == 1
        with old.transaction() as conn:  # a plan as a v1 desktop wrote it
            insert_plan(conn, [sample_plan()])
    with Database.open(db_path) as db:
        assert db.schema_version == SCHEMA_VERSION
        assert db.backup_path is not None and db.backup_path.exists()
        assert ".v1." in db.backup_path.name
        assert get_plan(db, "Payroll") == sample_plan()
        new_execution(db, "cccccccc-0000-4000-8000-000000000003")
        assert journal.list_executions(db)[0].plan_name == "Payroll"
