"""Executions and their journals, and shared settings, through the team table (services/sync.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.settings import SETTINGS
from drs_desktop.services.runner import ExecutionRunner, ForeignExecutionError
from drs_desktop.storage import executions as journal
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.plans import save_plan
from drs_desktop.storage.settings import get_setting, set_setting
from drs_desktop.storage.sync_apply import is_foreign
from drs_desktop.storage.sync_conflicts import open_conflicts
from tests.sync.desktops import desktop, init_table, plan, table_items
from tests.sync.dynamodb_emulator import DynamoDbEmulator

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EXECUTION = "0f8b2c1e-1111-4222-8333-944455556666"


@pytest.fixture
def two(tmp_path: Path, dynamodb: DynamoDbEmulator):  # type: ignore[no-untyped-def]
    init_table(dynamodb)
    a, b = desktop(tmp_path, "a", dynamodb), desktop(tmp_path, "b", dynamodb)
    yield a, b
    a.db.close()
    b.db.close()


def _events(start: int, count: int) -> list[dict[str, object]]:
    return [
        {"type": "ServerPolled", "at": (T0 + timedelta(seconds=n)).isoformat(), "n": n, "note": "réplica ✓"}
        for n in range(start, start + count)
    ]


def _run(db, events: int) -> ExecutionRecord:  # type: ignore[no-untyped-def]
    revision = save_plan(db, plan("Payroll", "s-1", "s-2"))
    record = journal.create_execution(
        db,
        ExecutionRecord(
            execution_id=EXECUTION,
            plan_id=revision.plan_id,
            plan_revision_id=revision.revision_id,
            plan_name=revision.name,
            plan_revision=revision.revision,
            mode="DRILL",
            status="RUNNING",
            started_at=T0,
            options={"poll_interval": 5},
            spec={"waves": []},
            identity={"account": "111122223333"},
        ),
    )
    for start in range(1, events + 1, 100):  # as a runner appends: batch after batch
        journal.append_events(db, EXECUTION, _events(start, min(100, events - start + 1)))
    return record


def test_an_execution_and_its_journal_arrive_complete_and_in_order(two, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    _run(a.db, 450)
    report = a.service.sync_now()
    assert report.pushed == {"revisions": 1, "plans": 1, "journal pages": 3, "executions": 1}
    pages = table_items(dynamodb, f"EXEC#{EXECUTION}", "EVENTS#")
    segment = f"EVENTS#0000000001#{a.desktop_id}#"  # A's segment of the lineage, from seq 1
    assert [(p["sk"]["S"], p["last"]["N"]) for p in pages] == [
        (f"{segment}0000000001", "200"),
        (f"{segment}0000000201", "400"),
        (f"{segment}0000000401", "450"),
    ]

    pulled = b.service.sync_now()
    assert pulled.pulled == {"plans": 1, "revisions": 1, "executions": 1, "journal pages": 3}
    record = journal.get_execution(b.db, EXECUTION)
    assert (record.plan_name, record.status, record.event_count) == ("Payroll", "RUNNING", 450)
    assert record.identity == {"account": "111122223333"} and record.started_at == T0
    mine = [e.payload for e in journal.load_journal(a.db, EXECUTION)]
    theirs = [e.payload for e in journal.load_journal(b.db, EXECUTION)]
    assert theirs == mine and [e["n"] for e in theirs] == list(range(1, 451))
    # Someone else's: shown in history, never resumed here, never pushed back.
    assert is_foreign(b.db, EXECUTION) and not is_foreign(a.db, EXECUTION)
    assert [r.execution_id for r in journal.unfinished_executions(a.db)] == [EXECUTION]
    assert journal.unfinished_executions(b.db) == []
    assert outbox.pending_count(b.db) == 0
    # Driving it from B's journal, only as new as B's last pull, could launch again what A launched since.
    nowhere = DrsGateway(AwsTarget(profile=None, region="us-east-1", endpoint_url="http://127.0.0.1:9"))
    with pytest.raises(ForeignExecutionError, match=f"started on desktop {a.desktop_id}"):
        ExecutionRunner.resume(b.db, nowhere, EXECUTION)
    assert journal.load_journal(b.db, EXECUTION)[-1].payload["n"] == 450, "nothing journaled by the refusal"

    # The run goes on on A: only the new events travel, in a new page, and the end reaches B.
    journal.append_events(a.db, EXECUTION, _events(451, 30))
    journal.set_execution_status(a.db, EXECUTION, "SUCCEEDED", outcome="SUCCEEDED", finished_at=T0)
    assert a.service.sync_now().pushed == {"journal pages": 1, "executions": 1}
    again = b.service.sync_now()
    assert again.pulled == {"executions": 1, "journal pages": 1}
    record = journal.get_execution(b.db, EXECUTION)
    assert (record.status, record.outcome, record.event_count) == ("SUCCEEDED", "SUCCEEDED", 480)
    assert [e.payload["n"] for e in journal.load_journal(b.db, EXECUTION)] == list(range(1, 481))


def test_a_journal_push_whose_answer_was_lost_is_recognised_not_doubled(two, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    _run(a.db, 250)
    a.service.sync_now()
    # As if the first push's answers were lost: A forgets what the table has of the execution.
    with a.db.transaction() as conn:
        conn.execute("DELETE FROM sync_entities WHERE kind = 'EXEC'")
        outbox.enqueue_journal(conn, EXECUTION, 250)
    report = a.service.sync_now()
    assert "journal pages" not in report.pushed  # the pages there were recognised, none written again
    assert len(table_items(dynamodb, f"EXEC#{EXECUTION}", "EVENTS#")) == 2
    b.service.sync_now()
    assert journal.get_execution(b.db, EXECUTION).event_count == 250


def test_shared_settings_travel_and_local_ones_do_not(two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    set_setting(a.db, "engine.wave_timeout_minutes", 95)
    set_setting(a.db, "aws.region", "eu-west-1")  # this desktop's own
    assert a.service.sync_now().pushed == {"settings": 1}
    assert b.service.sync_now().pulled == {"settings": 1}
    assert get_setting(b.db, "engine.wave_timeout_minutes") == 95
    assert get_setting(b.db, "aws.region") != "eu-west-1"
    # Back to the default on B: the override is gone, a tombstone travels, A follows the default again.
    default = SETTINGS["engine.wave_timeout_minutes"].default
    assert default != 95
    set_setting(b.db, "engine.wave_timeout_minutes", default)
    assert b.service.sync_now().pushed == {"settings": 1}
    assert a.service.sync_now().pulled == {"settings": 1}
    assert get_setting(a.db, "engine.wave_timeout_minutes") == default
    with a.db.reader() as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM settings WHERE key = 'engine.wave_timeout_minutes'"
            ).fetchone()[0]
            == 0
        )


def test_an_execution_commit_that_landed_before_a_crash_is_not_a_conflict_with_itself(two) -> None:  # type: ignore[no-untyped-def]
    """The process dies after the table took an execution's head and before SQLite noted it: the next
    sync meets its own head and records it, it does not hold the execution back as a conflict."""
    a, _ = two
    _run(a.db, 5)
    a.service.sync_now()
    journal.set_execution_status(a.db, EXECUTION, "SUCCEEDED", outcome="SUCCEEDED", finished_at=T0)
    a.service.sync_now()
    pushed = outbox.entity_version(a.db, "EXEC", EXECUTION)
    assert pushed is not None and pushed.version is not None
    with a.db.transaction() as conn:  # as if mark_pushed never ran: the entity one version behind, queued
        conn.execute(
            "UPDATE sync_entities SET version = version - 1, seq = seq - 1 WHERE kind = 'EXEC' AND key = ?",
            (EXECUTION,),
        )
        conn.execute("UPDATE sync_state SET cursor = cursor - 1")
        outbox.enqueue_execution(conn, EXECUTION)
    report = a.service.sync_now()
    assert not report.conflicts and not open_conflicts(a.db)
    assert outbox.entity_version(a.db, "EXEC", EXECUTION).version == pushed.version  # type: ignore[union-attr]
    assert outbox.pending_count(a.db) == 0
