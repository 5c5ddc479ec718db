"""An execution with more than one driver in the table (docs/sync.md, "More than one driver").

A drives and pushes part of a journal, journals more without pushing; B takes the run over from its
pulled copy (TakenOver, written here with the storage journal API as the takeover service will) and
pushes; A's stale tail reaches the table before or after B's. Both desktops end with B's journal, A's tail
kept aside, foreign marks right; a third desktop pulling fresh gets B's journal; a table created again
keeps the marks; a malformed page blocks only its execution.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.services.driver_lock import take_driver_lock
from drs_desktop.storage import executions as journal
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.plans import save_plan
from drs_desktop.storage.sync_apply import clear_foreign, foreign_writer, is_foreign
from drs_desktop.storage.sync_conflicts import open_conflicts
from drs_desktop.storage.sync_journal import blocked_executions, superseded_events
from tests.sync.desktops import TABLE, Desktop, desktop, init_table, plan, table_items
from tests.sync.dynamodb_emulator import DynamoDbEmulator

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RUN = "7a1c0d2e-1111-4222-8333-944455556666"
OTHER = "7a1c0d2e-2222-4222-8333-944455556666"


@pytest.fixture
def three(tmp_path: Path, dynamodb: DynamoDbEmulator):  # type: ignore[no-untyped-def]
    init_table(dynamodb)
    desktops = [desktop(tmp_path, name, dynamodb) for name in ("a", "b", "c")]
    yield desktops
    for d in desktops:
        d.db.close()


def _events(first: int, count: int, who: str) -> list[dict[str, Any]]:
    return [
        {"type": "ServerPolled", "at": (T0 + timedelta(seconds=n)).isoformat(), "n": n, "by": who}
        for n in range(first, first + count)
    ]


def _start(db, execution_id: str = RUN) -> None:  # type: ignore[no-untyped-def]
    revision = save_plan(db, plan("Payroll", "s-1"))
    journal.create_execution(
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
        ),
    )


def _take_over(b: Desktop, a: Desktop, extra: int) -> None:
    """What the takeover service does: TakenOver first, then B's own events, and the foreign mark cleared."""
    held = journal.load_journal(b.db, RUN)[-1].seq
    taken = {
        "type": "TakenOver",
        "by": b.desktop_id,
        "previous": a.desktop_id,
        "operator": "bob",
        "journal_complete": False,
        "at": (T0 + timedelta(minutes=5)).isoformat(),
    }
    journal.append_events(b.db, RUN, [taken], expected_last=held)
    journal.append_events(b.db, RUN, _events(held + 2, extra, "b"))
    assert clear_foreign(b.db, RUN) is True
    assert clear_foreign(b.db, RUN) is False  # no longer marked


def _payloads(d: Desktop) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in journal.load_journal(d.db, RUN)]


def _scene(a: Desktop, b: Desktop) -> None:
    """A drives 10 events and pushes them; B pulls; A journals 10 more unpushed; B takes over (11-15)."""
    _start(a.db)
    journal.append_events(a.db, RUN, _events(1, 10, "a"))
    a.service.sync_now()
    b.service.sync_now()
    assert len(_payloads(b)) == 10 and foreign_writer(b.db, RUN) == a.desktop_id
    journal.append_events(a.db, RUN, _events(11, 10, "a"))  # never pushed before the takeover
    _take_over(b, a, extra=4)
    assert not is_foreign(b.db, RUN)


@pytest.mark.parametrize("stale_first", [True, False], ids=["stale-push-first", "stale-push-after"])
def test_the_driver_wins_and_the_old_drivers_tail_is_kept_aside(three, dynamodb, stale_first: bool) -> None:  # type: ignore[no-untyped-def]
    a, b, c = three
    _scene(a, b)
    if stale_first:
        stale = a.service.push()
        assert stale.pushed == {"journal pages": 1, "executions": 1}
        driver = b.service.push()  # refused on its version (A's stale head), committed on top
        assert driver.pushed == {"journal pages": 1, "executions": 1} and not driver.conflicts
    else:
        assert b.service.push().pushed == {"journal pages": 1, "executions": 1}
        stale = a.service.push()  # its pages land beside B's; its head is refused: taken over, no conflict
        assert stale.pushed == {"journal pages": 1} and not stale.conflicts
        assert any("took it over" in note for note in stale.notes)
    assert not open_conflicts(a.db) and not open_conflicts(b.db)

    head = next(i for i in table_items(dynamodb, f"EXEC#{RUN}") if i["sk"]["S"] == "HEAD")
    assert f'"drivers":[[1,"{a.desktop_id}"],[11,"{b.desktop_id}"]]' in head["body"]["S"]
    keys = sorted(p["sk"]["S"] for p in table_items(dynamodb, f"EXEC#{RUN}", "EVENTS#"))
    assert keys == sorted(
        [
            f"EVENTS#0000000001#{a.desktop_id}#0000000001",
            f"EVENTS#0000000001#{a.desktop_id}#0000000011",  # A's stale tail: in the table, read by nobody
            f"EVENTS#0000000011#{b.desktop_id}#0000000011",
        ]
    )

    pulled = a.service.sync_now()
    b.service.sync_now()
    assert _payloads(a) == _payloads(b)
    assert [e["n"] for e in _payloads(b) if "n" in e] == list(range(1, 11)) + list(range(12, 16))
    assert _payloads(b)[10]["type"] == "TakenOver"
    kept = superseded_events(a.db, RUN)
    assert [(e.seq, e.payload["by"], e.superseded_by) for e in kept] == [
        (n, "a", b.desktop_id) for n in range(11, 21)
    ]
    assert any(
        f"10 events this desktop journaled from event 11 on were superseded by desktop {b.desktop_id[:8]}"
        in note
        for note in pulled.notes
    )
    assert not [e for e in outbox.pending(a.db) if e.kind == "EXEC"]  # A's push of it dropped
    assert outbox.entity_version(a.db, "EXEC", RUN).journal_last == 15  # type: ignore[union-attr]
    assert foreign_writer(a.db, RUN) == b.desktop_id and not is_foreign(b.db, RUN)

    c.service.sync_now()
    assert _payloads(c) == _payloads(b) and foreign_writer(c.db, RUN) == b.desktop_id
    assert superseded_events(c.db, RUN) == []

    # B drives on: only its new events travel, read from B's segment from where A and C stand.
    journal.append_events(b.db, RUN, _events(16, 3, "b"))
    b.service.sync_now()
    for other in (a, c):
        assert other.service.sync_now().pulled == {"executions": 1, "journal pages": 1}
        assert _payloads(other) == _payloads(b)
    assert not any(blocked_executions(d.db) for d in (a, b, c))


def test_a_puller_that_took_the_run_over_stays_the_driver(three) -> None:  # type: ignore[no-untyped-def]
    """B took over and has not pushed; a pull meanwhile brings A's stale head: B keeps its journal, is not
    foreign, and its push later goes on top without a conflict."""
    a, b, _ = three
    _scene(a, b)
    a.service.push()
    mine = _payloads(b)
    b.service.pull()
    assert _payloads(b) == mine and not is_foreign(b.db, RUN)
    report = b.service.sync_now()
    assert report.pushed == {"journal pages": 1, "executions": 1} and not report.conflicts
    a.service.sync_now()
    assert _payloads(a) == mine


def test_a_desktop_driving_the_run_here_waits_before_its_events_are_superseded(three) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = three
    _scene(a, b)
    b.service.sync_now()
    cursor = outbox.get_state(a.db).cursor
    lock = take_driver_lock(a.db.path, RUN)  # A's runner still drives it here
    try:
        waiting = a.service.pull()
        assert any("driven here right now" in note for note in waiting.notes)
        assert [e["n"] for e in _payloads(a)] == list(range(1, 21)) and superseded_events(a.db, RUN) == []
        assert outbox.get_state(a.db).cursor == cursor  # held before B's change: it is not skipped
    finally:
        lock.release()
    a.service.sync_now()
    assert _payloads(a) == _payloads(b) and len(superseded_events(a.db, RUN)) == 10


def test_a_table_created_again_keeps_the_foreign_marks_on_the_last_driver(three, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b, c = three
    _scene(a, b)
    b.service.sync_now()
    a.service.sync_now()
    c.service.sync_now()
    dynamodb.stop()
    dynamodb.start()  # empty: every desktop starts over and pushes its history again
    init_table(dynamodb)
    for d in (c, a, b, c, a, b):  # C, which drove nothing, re-pushes first
        report = d.service.sync_now()
        assert not report.conflicts
    for d in (a, b, c):
        assert _payloads(d) == _payloads(b)
    assert foreign_writer(a.db, RUN) == b.desktop_id
    assert foreign_writer(c.db, RUN) == b.desktop_id
    assert not is_foreign(b.db, RUN)


def test_a_malformed_page_blocks_only_its_execution(three, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = three
    _start(a.db)
    journal.append_events(a.db, RUN, _events(1, 5, "a"))
    _start(a.db, OTHER)
    journal.append_events(a.db, OTHER, _events(1, 5, "a"))
    a.service.sync_now()
    client = dynamodb.client()
    key = {"pk": {"S": f"EXEC#{OTHER}"}, "sk": {"S": f"EVENTS#0000000001#{a.desktop_id}#0000000001"}}
    good = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    client.put_item(TableName=TABLE, Item={**good, "events": {"S": "[not json"}})

    report = b.service.sync_now()
    assert [e["n"] for e in _payloads(b)] == [1, 2, 3, 4, 5]  # the rest of the feed is applied
    assert journal.get_execution(b.db, OTHER).event_count == 0
    [blocked] = blocked_executions(b.db)
    assert blocked.execution_id == OTHER and "'events' is not JSON" in blocked.problem
    assert any("tried again next sync" in note for note in report.notes)
    assert report.cursor == outbox.get_state(a.db).cursor  # moved on: the blocked row keeps the change

    b.service.sync_now()
    assert blocked_executions(b.db)[0].tries >= 2  # tried every round, not forgotten

    client.put_item(TableName=TABLE, Item=good)  # repaired
    b.service.sync_now()
    assert blocked_executions(b.db) == []
    assert [e.payload["n"] for e in journal.load_journal(b.db, OTHER)] == [1, 2, 3, 4, 5]


def test_a_head_without_a_lineage_is_refused_by_name(three, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = three
    _start(a.db)
    journal.append_events(a.db, RUN, _events(1, 3, "a"))
    a.service.sync_now()
    client = dynamodb.client()
    key = {"pk": {"S": f"EXEC#{RUN}"}, "sk": {"S": "HEAD"}}
    head = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    body = head["body"]["S"].replace('"drivers":', '"drivers_old":')
    client.put_item(TableName=TABLE, Item={**head, "body": {"S": body}})
    b.service.sync_now()
    [blocked] = blocked_executions(b.db)
    assert blocked.execution_id == RUN and "carries no 'drivers' lineage" in blocked.problem
