"""The sync outbox: every change that syncs is queued, in order, with heads coalesced and revisions not;
what the table answered is recorded; this desktop's sync state."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.settings import SETTINGS, looks_like_secret_key
from drs_desktop.domain.settings.shared import LOCAL_SETTINGS, SHARED_SETTINGS
from drs_desktop.storage import executions as journal
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import delete_plan, rename_plan, save_plan
from drs_desktop.storage.settings import set_setting

from .conftest import sample_plan
from .test_executions import T0, new_execution

EVENT = {"type": "StartRequested", "at": T0.isoformat()}


def queue(db: Database) -> list[tuple[str, str, str, int | None]]:
    """The queue as (kind, key, what, version), in order."""
    return [(e.kind, e.key, e.what, e.version) for e in outbox.pending(db)]


def edited(n: int, name: str = "Payroll") -> RecoveryPlan:
    return dataclasses.replace(sample_plan(name), description=f"edit {n}")


# ---------------------------------------------------------------------------------------- plans


def test_a_new_plan_queues_its_revision_then_its_head(db: Database) -> None:
    saved = save_plan(db, sample_plan())
    entries = outbox.pending(db)
    assert [(e.what, e.version, e.ref) for e in entries] == [
        ("revision", 1, saved.revision_id),
        ("head", 1, saved.revision_id),
    ]
    assert {(e.kind, e.key) for e in entries} == {("PLAN", saved.plan_id)}
    assert entries[0].entry_id < entries[1].entry_id


def test_edits_keep_every_revision_and_one_head_at_the_end(db: Database) -> None:
    first = save_plan(db, sample_plan())
    second = save_plan(db, edited(2))
    third = save_plan(db, edited(3))
    save_plan(db, edited(3))  # the same content again: nothing saved, nothing queued
    plan = first.plan_id
    assert queue(db) == [
        ("PLAN", plan, "revision", 1),
        ("PLAN", plan, "revision", 2),
        ("PLAN", plan, "revision", 3),
        ("PLAN", plan, "head", 3),
    ]
    refs = [e.ref for e in outbox.pending(db)]
    assert refs == [first.revision_id, second.revision_id, third.revision_id, third.revision_id]


def test_two_plans_interleave_in_the_order_of_their_edits(db: Database) -> None:
    a = save_plan(db, sample_plan("A")).plan_id
    b = save_plan(db, sample_plan("B")).plan_id
    save_plan(db, edited(2, "A"))
    assert queue(db) == [
        ("PLAN", a, "revision", 1),
        ("PLAN", b, "revision", 1),
        ("PLAN", b, "head", 1),
        ("PLAN", a, "revision", 2),
        ("PLAN", a, "head", 2),
    ]


def test_a_deletion_queues_the_tombstone_head(db: Database) -> None:
    plan = save_plan(db, sample_plan()).plan_id
    delete_plan(db, "Payroll")
    assert queue(db) == [("PLAN", plan, "revision", 1), ("PLAN", plan, "head", 2)]
    with db.reader() as conn:
        assert conn.execute("SELECT deleted_at IS NOT NULL FROM plans WHERE id = ?", (plan,)).fetchone()[0]


def test_a_rename_queues_its_new_revision_and_the_head(db: Database) -> None:
    plan = save_plan(db, sample_plan()).plan_id
    renamed = rename_plan(db, "Payroll", "Payroll EU")
    assert renamed.revision == 2
    assert queue(db) == [
        ("PLAN", plan, "revision", 1),
        ("PLAN", plan, "revision", 2),
        ("PLAN", plan, "head", 2),
    ]


def test_a_plan_head_never_moves_behind_an_execution_of_that_plan(db: Database) -> None:
    record = new_execution(db)  # saves Payroll revision 1, then creates the execution
    plan, run = record.plan_id, record.execution_id
    other = save_plan(db, sample_plan("Other")).plan_id
    save_plan(db, edited(2, "Other"))  # no execution of Other: its head moves to the end
    save_plan(db, edited(2))  # Payroll's first head must stay before the execution that pins revision 1
    assert queue(db) == [
        ("PLAN", plan, "revision", 1),
        ("PLAN", plan, "head", 1),
        ("EXEC", run, "head", 1),
        ("PLAN", other, "revision", 1),
        ("PLAN", other, "revision", 2),
        ("PLAN", other, "head", 2),
        ("PLAN", plan, "revision", 2),
        ("PLAN", plan, "head", 2),
    ]
    save_plan(db, edited(3))  # the newest head has no execution behind it: coalesced again
    heads = [e for e in outbox.pending(db) if e.key == plan and e.what == "head"]
    assert [h.version for h in heads] == [1, 3]


# ------------------------------------------------------------------------------------ executions


def test_an_execution_queues_its_head_its_journal_and_its_end(db: Database) -> None:
    record = new_execution(db)
    run = record.execution_id
    assert queue(db)[-1] == ("EXEC", run, "head", 1)
    journal.append_events(db, run, [EVENT])
    journal.append_events(db, run, [EVENT, EVENT])
    journal.append_events(db, run, [])  # nothing appended: nothing queued
    tail = queue(db)[2:]
    assert tail == [("EXEC", run, "journal", 3), ("EXEC", run, "head", 3)]
    journal.set_execution_status(db, run, "SUCCEEDED", outcome="SUCCEEDED", finished_at=T0)
    assert queue(db)[2:] == [("EXEC", run, "journal", 3), ("EXEC", run, "head", 4)]
    with db.reader() as conn:
        assert conn.execute("SELECT version FROM executions WHERE id = ?", (run,)).fetchone()[0] == 4


def test_a_refused_append_queues_nothing(db: Database) -> None:
    run = new_execution(db).execution_id
    journal.append_events(db, run, [EVENT])
    before = outbox.pending(db)
    with pytest.raises(journal.JournalConflictError):
        journal.append_events(db, run, [EVENT], expected_last=0)
    with pytest.raises(ValueError):
        journal.append_events(db, run, [EVENT, {"at": "no type"}])
    with pytest.raises(journal.ExecutionNotFoundError):
        journal.set_execution_status(db, "missing", "RUNNING")
    assert outbox.pending(db) == before


def test_two_running_executions_each_keep_one_journal_and_one_head(db: Database) -> None:
    a = new_execution(db, "aaaaaaaa-0000-4000-8000-000000000001").execution_id
    b = new_execution(db, "bbbbbbbb-0000-4000-8000-000000000002").execution_id
    for _ in range(5):
        journal.append_events(db, a, [EVENT])
        journal.append_events(db, b, [EVENT, EVENT])
    exec_entries = [q for q in queue(db) if q[0] == "EXEC"]
    assert exec_entries == [
        ("EXEC", a, "journal", 5),
        ("EXEC", a, "head", 6),
        ("EXEC", b, "journal", 10),
        ("EXEC", b, "head", 6),
    ]


# -------------------------------------------------------------------------------------- settings


def test_every_setting_is_shared_or_kept_local_with_a_reason() -> None:
    assert set(SHARED_SETTINGS).isdisjoint(LOCAL_SETTINGS)
    assert set(SHARED_SETTINGS) | set(LOCAL_SETTINGS) == set(SETTINGS)
    assert all(reason.strip() for reason in (*SHARED_SETTINGS.values(), *LOCAL_SETTINGS.values()))
    assert not any(looks_like_secret_key(key) for key in SHARED_SETTINGS)
    for key in ("aws.profile", "aws.region", "ui.demo_mode", "aws.targets"):
        assert key in LOCAL_SETTINGS  # the connected profile, this desktop's own choices


def test_a_shared_setting_is_queued_once_and_a_local_one_never(db: Database) -> None:
    set_setting(db, "aws.profile", "prod")
    set_setting(db, "ui.demo_mode", True)
    assert queue(db) == []
    set_setting(db, "engine.poll_interval_seconds", 30)
    save_plan(db, sample_plan())
    set_setting(db, "engine.poll_interval_seconds", 45)
    assert [q for q in queue(db) if q[0] == "SETTING"] == [
        ("SETTING", "engine.poll_interval_seconds", "head", None)
    ]
    assert queue(db)[-1][0] == "SETTING"  # moved behind the plan: the latest value goes last
    set_setting(db, "engine.poll_interval_seconds", SETTINGS["engine.poll_interval_seconds"].default)
    with db.reader() as conn:  # back to the default: no override row, and the reset is queued
        assert conn.execute("SELECT count(*) FROM settings WHERE key LIKE 'engine.%'").fetchone()[0] == 0
    assert queue(db)[-1] == ("SETTING", "engine.poll_interval_seconds", "head", None)


def test_changes_are_queued_before_sync_is_configured(db: Database) -> None:
    """The decision: queue always, so a desktop that turns sync on later pushes its history."""
    assert not outbox.get_state(db).configured
    save_plan(db, sample_plan())
    assert outbox.pending_count(db) == 2
    outbox.configure(db, "drs-team", region="eu-west-1")
    assert outbox.get_state(db).configured
    assert outbox.pending_count(db) == 2  # nothing lost, nothing doubled by turning sync on


# ----------------------------------------------------------------------------------- mark_pushed


def test_mark_pushed_records_numbers_and_versions_and_empties_the_queue(db: Database) -> None:
    record = new_execution(db)  # Payroll revision 1, its head, the execution's head
    run = record.execution_id
    second = save_plan(db, edited(2))
    journal.append_events(db, run, [EVENT, EVENT])
    first_id = record.plan_revision_id
    assert outbox.revision_numbers(db, record.plan_id) == {first_id: None, second.revision_id: None}
    entries = outbox.pending(db, limit=4)
    assert [(e.kind, e.what, e.version) for e in entries] == [
        ("PLAN", "revision", 1),
        ("PLAN", "head", 1),
        ("PLAN", "revision", 2),
        ("PLAN", "head", 2),
    ]
    outbox.mark_pushed(
        db,
        [
            outbox.Pushed(entries[0], number=1),
            outbox.Pushed(entries[1], version=1, seq=41),
            outbox.Pushed(entries[2], number=2),
            outbox.Pushed(entries[3], version=2, seq=43),
        ],
    )
    assert outbox.revision_numbers(db, record.plan_id) == {first_id: 1, second.revision_id: 2}
    assert outbox.revision_number(db, second.revision_id) == 2
    head = outbox.entity_version(db, "PLAN", record.plan_id)
    assert head is not None and (head.version, head.seq) == (2, 43)
    rest = outbox.pending(db)
    assert [(e.kind, e.what) for e in rest] == [("EXEC", "journal"), ("EXEC", "head")]
    outbox.mark_pushed(db, [outbox.Pushed(rest[0])])
    seen = outbox.entity_version(db, "EXEC", run)
    assert seen is not None and (seen.version, seen.seq, seen.journal_last) == (None, None, 2)
    outbox.mark_pushed(db, [outbox.Pushed(rest[1], version=1, seq=44)])
    seen = outbox.entity_version(db, "EXEC", run)
    assert seen is not None and (seen.version, seen.seq, seen.journal_last) == (1, 44, 2)
    journal.append_events(db, run, [EVENT, EVENT])
    outbox.mark_pushed(db, [outbox.Pushed(outbox.pending(db)[0], version=3)])  # pushed 3 of the 4
    seen = outbox.entity_version(db, "EXEC", run)
    assert seen is not None and (seen.version, seen.journal_last) == (1, 3)
    outbox.mark_pushed(db, [outbox.Pushed(outbox.pending(db)[0], version=6, seq=45)])
    assert outbox.pending(db) == []
    assert outbox.pending_count(db) == 0
    assert outbox.entity_version(db, "EXEC", "never-synced") is None


def test_an_edit_during_a_push_stays_queued(db: Database) -> None:
    save_plan(db, sample_plan())
    pushing = outbox.pending(db)
    save_plan(db, edited(2))  # while the sync was pushing revision 1 and head 1
    outbox.mark_pushed(db, [outbox.Pushed(pushing[0], number=1), outbox.Pushed(pushing[1], version=1, seq=7)])
    assert [(e.what, e.version) for e in outbox.pending(db)] == [("revision", 2), ("head", 2)]
    seen = outbox.entity_version(db, "PLAN", pushing[1].key)
    assert seen is not None and seen.version == 1


def test_a_replaced_newest_entry_never_reuses_the_pushed_ones_id(db: Database) -> None:
    set_setting(db, "engine.wave_timeout_minutes", 90)
    (pushing,) = outbox.pending(db)
    set_setting(db, "engine.wave_timeout_minutes", 100)  # replaces the newest entry while it is pushed
    outbox.mark_pushed(db, [outbox.Pushed(pushing, version=1, seq=3)])
    (left,) = outbox.pending(db)  # the newer value still goes out
    assert left.key == "engine.wave_timeout_minutes" and left.entry_id > pushing.entry_id


def test_a_contradicting_answer_records_nothing(db: Database) -> None:
    first = save_plan(db, sample_plan())
    second = save_plan(db, edited(2))
    entries = outbox.pending(db)
    outbox.mark_pushed(db, [outbox.Pushed(entries[0], number=1)])
    with pytest.raises(StorageError, match="already revision"):
        outbox.mark_pushed(
            db, [outbox.Pushed(entries[2], version=2, seq=9), outbox.Pushed(entries[1], number=1)]
        )
    with pytest.raises(StorageError, match="needs the table's version"):
        outbox.mark_pushed(db, [outbox.Pushed(entries[2])])
    with db.transaction() as conn, pytest.raises(StorageError, match="already has team number 1"):
        outbox.note_revision_number(conn, first.revision_id, 5)
    assert outbox.revision_numbers(db, first.plan_id) == {first.revision_id: 1, second.revision_id: None}
    assert outbox.entity_version(db, "PLAN", first.plan_id) is None  # the head's answer was rolled back
    assert [e.entry_id for e in outbox.pending(db)] == [entries[1].entry_id, entries[2].entry_id]


def test_a_recorded_version_never_moves_back(db: Database) -> None:
    with db.transaction() as conn:
        outbox.note_entity(conn, "PLAN", "p1", 5, 50)
        outbox.note_entity(conn, "PLAN", "p1", 3, 30)  # an older answer arriving late
    seen = outbox.entity_version(db, "PLAN", "p1")
    assert seen is not None and (seen.version, seen.seq) == (5, 50)


# ---------------------------------------------------------------------------------------- state


def test_the_desktop_id_is_a_uuid_made_once(db_path: Path) -> None:
    with Database.open(db_path) as db:
        first = outbox.get_state(db).desktop_id
    with Database.open(db_path) as db:
        assert outbox.get_state(db).desktop_id == first
    with Database.open(db_path.with_name("other.sqlite3")) as other:
        assert outbox.get_state(other).desktop_id != first
    assert uuid.UUID(first).version == 4 and str(uuid.UUID(first)) == first


def test_sync_state_cursor_and_last_sync(db: Database) -> None:
    state = outbox.get_state(db)
    assert (state.table_name, state.cursor, state.last_sync_at, state.last_error) == ("", 0, None, None)
    outbox.configure(db, "drs-team", region="eu-west-1", endpoint="http://127.0.0.1:8000", profile="sync")
    outbox.set_cursor(db, 12)
    with pytest.raises(StorageError, match="only moves forward"):
        outbox.set_cursor(db, 11)
    failed_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    outbox.record_sync(db, error="table not reachable:\n timeout", now=failed_at)
    state = outbox.get_state(db)
    assert (state.region, state.endpoint, state.profile, state.cursor) == (
        "eu-west-1",
        "http://127.0.0.1:8000",
        "sync",
        12,
    )
    assert state.last_error == "table not reachable: timeout" and state.last_error_at == failed_at
    assert state.last_sync_at is None
    outbox.record_sync(db, now=failed_at.replace(minute=5))
    state = outbox.get_state(db)
    assert state.last_error is None and state.last_sync_at == failed_at.replace(minute=5)
    with pytest.raises(StorageError, match="switching to 'other' is not supported"):
        outbox.configure(db, "other")
    assert outbox.get_state(db).table_name == "drs-team"
    outbox.configure(db, "drs-team", region="eu-west-2")  # the same table, moved settings: fine
    with pytest.raises(StorageError, match="needs a name"):
        outbox.configure(db, "  ")


def test_clear_foreign_unmarks_an_execution_this_desktop_took_over(db: Database) -> None:
    from drs_desktop.storage.sync_apply import clear_foreign, foreign_writer

    record = new_execution(db)
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO sync_foreign_executions (execution_id, writer, pulled_at) VALUES (?, 'other', 'x')",
            (record.execution_id,),
        )
    assert foreign_writer(db, record.execution_id) == "other"
    assert clear_foreign(db, record.execution_id) is True
    assert foreign_writer(db, record.execution_id) is None
    assert clear_foreign(db, record.execution_id) is False
