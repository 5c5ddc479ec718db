"""An execution deleted by retention reaches a teammate as a tombstone, over moto's DynamoDB server with
the real boto3 client (the tests/sync setup), and is deleted there too; unless it is unfinished or driven
there: then it is a conflict to show, and taking theirs deletes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drs_desktop.aws.sync_clean import clean_parts
from drs_desktop.domain.engine.annotation_events import FindingAdded, FindingStatus, Severity
from drs_desktop.domain.engine.events import ExecutionFinished, Outcome, event_to_json
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.state import ExecutionSpec, Mode, spec_to_json
from drs_desktop.services.driver_lock import DriverLock, lock_path
from drs_desktop.services.retention import RetentionService
from drs_desktop.storage import executions as journal
from drs_desktop.storage.retention import tombstone_queued
from drs_desktop.storage.sync_conflicts import open_conflicts
from tests.retention.test_retention_service import mentions, rows_of
from tests.sync.desktops import TABLE, Desktop, desktop, init_table, plan, table_items
from tests.sync.dynamodb_emulator import DynamoDbEmulator

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=400)
EXECUTION = "7a1c0d2e-1111-4222-8333-944455556666"


@pytest.fixture
def two(tmp_path: Path, dynamodb: DynamoDbEmulator):  # type: ignore[no-untyped-def]
    init_table(dynamodb)
    a, b = desktop(tmp_path, "a", dynamodb), desktop(tmp_path, "b", dynamodb)
    yield a, b
    a.db.close()
    b.db.close()


def _run(a: Desktop, *, finished: bool) -> None:
    from drs_desktop.storage.plans import save_plan

    revision = save_plan(a.db, plan("Payroll", "s-1"))
    journal.create_execution(
        a.db,
        ExecutionRecord(
            execution_id=EXECUTION,
            plan_id=revision.plan_id,
            plan_revision_id=revision.revision_id,
            plan_name=revision.name,
            plan_revision=revision.revision,
            mode="DRILL",
            status="RUNNING",
            started_at=T0,
            spec=spec_to_json(
                ExecutionSpec(execution_id=EXECUTION, mode=Mode.DRILL, started_at=T0, waves=())
            ),
        ),
    )
    # Findings already closed: real events this version reads, none of which holds the run.
    events = [
        event_to_json(
            FindingAdded(
                finding_id=f"f{n}",
                text=f"note {n}",
                severity=Severity.LOW,
                status=FindingStatus.RESOLVED,
                at=T0 + timedelta(seconds=n),
            )
        )
        for n in range(5)
    ]
    journal.append_events(a.db, EXECUTION, events)
    if finished:
        _finish(a)


def _finish(a: Desktop) -> None:
    end = ExecutionFinished(outcome=Outcome.SUCCEEDED, at=T0 + timedelta(hours=1))
    journal.append_events(a.db, EXECUTION, [event_to_json(end)])
    journal.set_execution_status(
        a.db, EXECUTION, "SUCCEEDED", outcome="SUCCEEDED", finished_at=T0 + timedelta(hours=1)
    )


def _retention(d: Desktop) -> RetentionService:
    return RetentionService(d.db, clock=lambda: LATER)


def test_a_deletion_travels_as_a_tombstone_and_deletes_on_the_teammates_desktop(two, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    _run(a, finished=True)
    a.service.sync_now()
    b.service.sync_now()
    assert journal.get_execution(b.db, EXECUTION).status == "SUCCEEDED"

    outcome = _retention(a).delete(EXECUTION)
    assert outcome.tombstones == 1 and tombstone_queued(a.db, EXECUTION)
    assert a.service.sync_now().pushed == {"executions deleted": 1}
    head = table_items(dynamodb, f"EXEC#{EXECUTION}", "HEAD")[0]
    assert head["deleted"]["BOOL"] is True and "body" not in head and "parts" not in head
    assert not tombstone_queued(a.db, EXECUTION)

    report = b.service.sync_now()
    assert report.pulled == {"executions deleted": 1}
    assert any("deleted by desktop" in note for note in report.notes)
    assert rows_of(b.db, EXECUTION) == {}
    # Anywhere in B's schema, only the version the table holds is left (sync_entities: so the head is
    # not applied again); on A the same.
    assert mentions(b.db, EXECUTION) == {"sync_entities.key": 1}
    assert mentions(a.db, EXECUTION) == {"sync_entities.key": 1}
    assert open_conflicts(b.db) == []
    # Nothing comes back on either side in later rounds, and nothing is pushed back.
    assert a.service.sync_now().pulled == {} and b.service.sync_now().pushed == {}
    assert rows_of(a.db, EXECUTION) == {}

    # The journal pages stay in the table: sync clean deletes unnamed PART# items only (docs/sync.md).
    pages_before = table_items(dynamodb, f"EXEC#{EXECUTION}", "EVENTS#")
    assert pages_before
    clean_parts(dynamodb.client(), TABLE, margin=0)
    assert table_items(dynamodb, f"EXEC#{EXECUTION}", "EVENTS#") == pages_before


def test_unfinished_or_driven_there_it_is_a_conflict_and_taking_theirs_deletes_it(two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    _run(a, finished=False)
    a.service.sync_now()
    b.service.sync_now()
    assert journal.get_execution(b.db, EXECUTION).finished_at is None
    _finish(a)  # A finishes it and deletes it before any push: B still holds it unfinished
    _retention(a).delete(EXECUTION)
    assert a.service.sync_now().pushed == {"executions deleted": 1}

    report = b.service.sync_now()
    assert "executions deleted" not in report.pulled
    assert report.conflicts and "deleted it" in report.conflicts[0]
    conflict = open_conflicts(b.db)[0]
    assert (conflict.kind, conflict.key, conflict.theirs_deleted) == ("EXEC", EXECUTION, True)
    assert journal.get_execution(b.db, EXECUTION).execution_id == EXECUTION, "not silently deleted"

    # Driven there (a process holds its driver lock): taking theirs is refused until it stops.
    lock = DriverLock(lock_path(b.db.path, EXECUTION), execution_id=EXECUTION)
    assert lock.acquire()
    try:
        with pytest.raises(Exception, match="driven here right now"):
            b.service.resolve("EXEC", EXECUTION, "take_theirs")
    finally:
        lock.release()
    assert journal.get_execution(b.db, EXECUTION).execution_id == EXECUTION
    said = b.service.resolve("EXEC", EXECUTION, "take_theirs")
    assert "applied" in said
    # Gone, but for the record of the operator's choice (the conflict, closed as "take theirs").
    assert rows_of(b.db, EXECUTION) == {"sync_conflicts": 1}
    with b.db.reader() as conn:
        assert conn.execute("SELECT resolution FROM sync_conflicts").fetchall() == [("take_theirs",)]
    assert open_conflicts(b.db) == []


def test_a_refused_tombstone_is_a_conflict_and_keep_mine_sends_it(
    two: tuple[Desktop, Desktop], dynamodb: DynamoDbEmulator
) -> None:
    a, b = two
    _run(a, finished=True)
    a.service.sync_now()
    b.service.sync_now()
    # B "takes it over" as far as the table goes: a teammate's change to the head A has not pulled.
    with b.db.transaction() as conn:
        from drs_desktop.storage import sync_outbox as outbox

        outbox.enqueue_execution(conn, EXECUTION)
        conn.execute("DELETE FROM sync_foreign_executions WHERE execution_id = ?", (EXECUTION,))
    b.service.push()
    _retention(a).delete(EXECUTION)
    report = a.service.push()
    assert report.conflicts and "this desktop deleted it" in report.conflicts[0]
    assert json.loads(json.dumps(open_conflicts(a.db)[0].mine)) == {
        "execution_id": EXECUTION,
        "deleted": True,
    }
    a.service.resolve("EXEC", EXECUTION, "keep_mine")
    assert a.service.push().pushed == {"executions deleted": 1}
    assert b.service.sync_now().pulled == {"executions deleted": 1}
    assert rows_of(b.db, EXECUTION) == {}


def test_the_gui_sync_round_says_executions_changed_when_it_pulls_a_deletion(
    two: tuple[Desktop, Desktop], dynamodb: DynamoDbEmulator
) -> None:
    """The History pane reloads on the round's "executions" (services/team_sync.py, app.py)."""
    from drs_desktop.domain.views.sync_status import SyncSettings
    from drs_desktop.services.team_sync import TeamSync, save_sync_settings
    from tests.sync.desktops import NO_WAIT
    from tests.sync.dynamodb_emulator import REGION
    from tests.ui.sync_rig import one_attempt

    a, b = two
    _run(a, finished=True)
    a.service.sync_now()
    b.service.sync_now()
    setup = save_sync_settings(
        b.db,
        SyncSettings(table=TABLE, region=REGION, endpoint=dynamodb.endpoint_url, enabled=True),
        client_factory=one_attempt,
    )
    assert setup.saved, setup.message
    _retention(a).delete(EXECUTION)
    a.service.sync_now()
    team = TeamSync(b.db, monotonic=b.clock, backoff=NO_WAIT, client_factory=one_attempt)
    try:
        round_ = team.sync_now()
    finally:
        team.close()
    assert round_.error is None and round_.pulled == frozenset({"executions"})
    assert rows_of(b.db, EXECUTION) == {}
