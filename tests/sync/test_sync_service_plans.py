"""Plans through the team table: two desktop homes (two SQLite files), one moto server, the real boto3
client (services/sync.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.domain.errors import PlanNotFoundError
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.plans import delete_plan, get_plan, list_plans, list_revisions, save_plan
from drs_desktop.storage.sync_conflicts import open_conflicts
from tests.sync.desktops import desktop, init_table, plan, table_items
from tests.sync.dynamodb_emulator import DynamoDbEmulator


@pytest.fixture
def two(tmp_path: Path, dynamodb: DynamoDbEmulator):  # type: ignore[no-untyped-def]
    init_table(dynamodb)
    a, b = desktop(tmp_path, "a", dynamodb), desktop(tmp_path, "b", dynamodb)
    yield a, b
    a.db.close()
    b.db.close()


def test_a_plan_saved_on_a_appears_on_b_with_the_tables_revision_numbers(two, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    first = save_plan(a.db, plan("Payroll", "s-1"))
    second = save_plan(a.db, plan("Payroll", "s-1", "s-2"))

    report = a.service.sync_now()
    assert report.pushed == {"revisions": 2, "plans": 1}
    assert report.queued == 0 and report.open_conflicts == 0
    assert report.capacity.write_units > 0 and report.capacity.read_units > 0
    revs = table_items(dynamodb, f"PLAN#{first.plan_id}", "REV#")
    assert [(r["sk"]["S"], r["revision_id"]["S"]) for r in revs] == [
        ("REV#000001", first.revision_id),
        ("REV#000002", second.revision_id),
    ]
    assert outbox.revision_numbers(a.db, first.plan_id) == {first.revision_id: 1, second.revision_id: 2}

    pulled = b.service.sync_now()
    assert pulled.pulled == {"plans": 1, "revisions": 2}
    assert pulled.pushed == {}  # nothing pulled is pushed back
    assert outbox.pending_count(b.db) == 0
    assert get_plan(b.db, "Payroll") == plan("Payroll", "s-1", "s-2")
    assert [r.revision_id for r in list_revisions(b.db, "Payroll")] == [first.revision_id, second.revision_id]
    assert outbox.revision_numbers(b.db, first.plan_id) == {first.revision_id: 1, second.revision_id: 2}
    assert pulled.cursor == outbox.get_state(b.db).cursor == report.cursor


def test_edits_of_different_plans_on_both_sides_both_arrive(two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    save_plan(a.db, plan("Alpha", "s-1"))
    a.service.sync_now()
    b.service.sync_now()
    save_plan(a.db, plan("Alpha", "s-1", "s-9"))  # A edits Alpha
    save_plan(b.db, plan("Bravo", "s-2"))  # B makes Bravo
    a.service.sync_now()
    report = b.service.sync_now()
    assert report.conflicts == ()
    a.service.sync_now()
    for d in (a, b):
        assert [p.name for p in list_plans(d.db)] == ["Alpha", "Bravo"]
        assert get_plan(d.db, "Alpha") == plan("Alpha", "s-1", "s-9")
        assert get_plan(d.db, "Bravo") == plan("Bravo", "s-2")
        assert outbox.pending_count(d.db) == 0


def _conflict(a, b):  # type: ignore[no-untyped-def]
    """Payroll synced on both, then edited on both; A pushes first: B meets the conflict."""
    base = save_plan(a.db, plan("Payroll", "s-1"))
    a.service.sync_now()
    b.service.sync_now()
    save_plan(a.db, plan("Payroll", "s-1", "s-a"))
    save_plan(b.db, plan("Payroll", "s-1", "s-b"))
    assert a.service.sync_now().conflicts == ()
    report = b.service.sync_now()
    return base.plan_id, report


def test_the_same_plan_edited_on_both_is_a_conflict_for_the_second(two, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    plan_id, report = _conflict(a, b)
    assert len(report.conflicts) == 1
    assert "plan 'Payroll'" in report.conflicts[0] and a.desktop_id[:8] in report.conflicts[0]
    assert report.open_conflicts == 1
    (conflict,) = open_conflicts(b.db)
    assert (conflict.kind, conflict.key, conflict.theirs_writer) == ("PLAN", plan_id, a.desktop_id)
    # Neither side overwrote the other: B keeps its own, the table keeps A's.
    assert get_plan(b.db, "Payroll") == plan("Payroll", "s-1", "s-b")
    (head,) = table_items(dynamodb, f"PLAN#{plan_id}", "HEAD")
    assert head["writer"]["S"] == a.desktop_id
    assert outbox.pending_count(b.db) == 1  # B's head stays queued; its revision went (append-only)
    # B's revision is in the table's history under the next number, named by no head.
    assert len(table_items(dynamodb, f"PLAN#{plan_id}", "REV#")) == 3
    # Syncing again changes nothing until it is resolved.
    again = b.service.sync_now()
    assert again.open_conflicts == 1 and again.pushed == {}


def test_keep_mine_pushes_mine_over_theirs(two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    plan_id, _ = _conflict(a, b)
    said = b.service.resolve("PLAN", plan_id, "keep_mine")
    assert "keeping this desktop's" in said
    report = b.service.sync_now()
    assert report.pushed == {"plans": 1} and report.open_conflicts == 0
    a.service.sync_now()
    assert get_plan(a.db, "Payroll") == plan("Payroll", "s-1", "s-b")
    assert get_plan(b.db, "Payroll") == plan("Payroll", "s-1", "s-b")


def test_take_theirs_applies_theirs_and_drops_mine(two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    plan_id, _ = _conflict(a, b)
    depths: list[int] = []  # the write transactions open while each DynamoDB request goes out

    def record(**_: object) -> None:
        depths.append(b.db._depth)  # what the test is about: no write lock held over the network

    b.client.meta.events.register("before-send.dynamodb", record)
    b.service.resolve("PLAN", plan_id, "take_theirs")
    b.client.meta.events.unregister("before-send.dynamodb", record)
    assert depths and set(depths) == {0}, "no DynamoDB call inside a write transaction (runs journal there)"
    assert get_plan(b.db, "Payroll") == plan("Payroll", "s-1", "s-a")
    assert outbox.pending_count(b.db) == 0 and open_conflicts(b.db) == []
    report = b.service.sync_now()
    assert report.pushed == {} and report.open_conflicts == 0
    a.service.sync_now()
    assert get_plan(a.db, "Payroll") == plan("Payroll", "s-1", "s-a")
    # B's own revision is still in its history (and the table's), just not the current one.
    assert len(list_revisions(b.db, "Payroll")) == 3


def test_save_as_copy_keeps_mine_as_a_new_plan(two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    plan_id, _ = _conflict(a, b)
    said = b.service.resolve("PLAN", plan_id, "save_as_copy")
    copy_name = f"Payroll (copy from {b.desktop_id[:8]})"
    assert copy_name in said
    assert get_plan(b.db, "Payroll") == plan("Payroll", "s-1", "s-a")
    assert get_plan(b.db, copy_name).waves == plan("x", "s-1", "s-b").waves
    b.service.sync_now()
    a.service.sync_now()
    assert sorted(p.name for p in list_plans(a.db)) == ["Payroll", copy_name]
    assert get_plan(a.db, copy_name).waves[0].servers == ("s-1", "s-b")


def test_a_deletion_reaches_b_and_a_later_pull_never_brings_it_back(two, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    saved = save_plan(a.db, plan("Payroll", "s-1"))
    a.service.sync_now()
    b.service.sync_now()
    assert [p.name for p in list_plans(b.db)] == ["Payroll"]
    delete_plan(a.db, "Payroll")
    a.service.sync_now()
    report = b.service.sync_now()
    assert report.pulled == {"plans": 1}
    assert list_plans(b.db) == []
    with pytest.raises(PlanNotFoundError):
        get_plan(b.db, "Payroll")
    (head,) = table_items(dynamodb, f"PLAN#{saved.plan_id}", "HEAD")
    assert head["deleted"]["BOOL"] is True and "body" not in head
    # Later rounds, and B reading the whole feed again from the start, do not bring it back.
    save_plan(a.db, plan("Other", "s-2"))
    a.service.sync_now()
    b.service.sync_now()
    with b.db.transaction() as conn:
        conn.execute("UPDATE sync_state SET cursor = 0")
        conn.execute("DELETE FROM sync_entities")
    b.service.sync_now()
    assert [p.name for p in list_plans(b.db)] == ["Other"]
