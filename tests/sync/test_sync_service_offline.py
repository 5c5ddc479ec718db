"""Offline and a table that came back new: nothing lost, the queue goes out in order (services/sync.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.domain.sync_errors import SyncUnavailable
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.plans import delete_plan, get_plan, list_plans, list_revisions, save_plan
from drs_desktop.storage.sync_conflicts import open_conflicts
from tests.sync.desktops import desktop, init_table, plan, table_items
from tests.sync.dynamodb_emulator import DynamoDbEmulator


def _feed(emulator: DynamoDbEmulator) -> list[tuple[str, str]]:
    return [(i["kind"]["S"], i["key"]["S"]) for i in table_items(emulator, "FEED") if "kind" in i]


def test_offline_edits_wait_then_go_out_in_order_to_a_table_created_again(
    tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    init_table(dynamodb)
    a, b = desktop(tmp_path, "a", dynamodb), desktop(tmp_path, "b", dynamodb)
    payroll = save_plan(a.db, plan("Payroll", "s-1"))
    a.service.sync_now()
    b.service.sync_now()
    cursor_before = outbox.get_state(b.db).cursor
    assert cursor_before > 0

    dynamodb.stop()
    shop = save_plan(a.db, plan("Shop", "s-2"))
    save_plan(a.db, plan("Payroll", "s-1", "s-3"))
    save_plan(a.db, plan("Zoo", "s-4"))
    delete_plan(a.db, "Zoo")
    queued = outbox.pending(a.db)
    with pytest.raises(SyncUnavailable) as failed:
        a.service.sync_now()
    assert "could not be reached" in str(failed.value) and "\n" not in str(failed.value)
    assert outbox.pending(a.db) == queued  # nothing lost, nothing half-done
    assert "could not be reached" in (outbox.get_state(a.db).last_error or "")

    # The emulator comes back new and empty; `sync init` creates the table again.
    dynamodb.start()
    init_table(dynamodb)
    report = a.service.sync_now()
    assert report.started_over
    assert any("not the one this desktop synced with" in note for note in report.notes)
    assert report.queued == 0 and report.open_conflicts == 0
    # The whole history, in the order it was made: revisions by save, then heads by plan creation.
    assert _feed(dynamodb) == [
        ("PLAN", payroll.plan_id),
        ("PLAN", shop.plan_id),
        ("PLAN", get_plan_id(a, "Zoo")),
    ]
    revs = table_items(dynamodb, f"PLAN#{payroll.plan_id}", "REV#")
    assert [r["revision_id"]["S"] for r in revs] == [r.revision_id for r in list_revisions(a.db, "Payroll")]

    # B had read up to a number the new table never reached: it starts over too, and meets A's history
    # as identical to what it holds (no conflict), then gets the offline edits.
    report_b = b.service.sync_now()
    assert report_b.started_over and report_b.open_conflicts == 0 and open_conflicts(b.db) == []
    assert [p.name for p in list_plans(b.db)] == ["Payroll", "Shop"]
    assert get_plan(b.db, "Payroll") == plan("Payroll", "s-1", "s-3")
    assert outbox.pending_count(b.db) == 0
    # And the two go on syncing normally.
    save_plan(b.db, plan("Shop", "s-2", "s-5"))
    b.service.sync_now()
    a.service.sync_now()
    assert get_plan(a.db, "Shop") == plan("Shop", "s-2", "s-5")


def get_plan_id(d, name: str) -> str:  # type: ignore[no-untyped-def]
    with d.db.reader() as conn:
        return str(conn.execute("SELECT id FROM plans WHERE name = ?", (name,)).fetchone()[0])


def test_a_gap_is_waited_for_then_fenced_on_the_injected_clock(
    tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    init_table(dynamodb)
    a = desktop(tmp_path, "a", dynamodb)
    # A number handed out and never committed (a writer that crashed between allocate and commit).
    dynamodb.client().update_item(
        TableName="team-sync",
        Key={"pk": {"S": "META"}, "sk": {"S": "SEQ"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    save_plan(a.db, plan("Payroll", "s-1"))
    report = a.service.sync_now()
    assert report.waiting == (1,) and report.cursor == 0  # its own change (2) waits behind the gap
    a.clock.advance(29)
    assert a.service.pull().cursor == 0
    a.clock.advance(2)
    report = a.service.pull()
    assert report.cursor == 2 and report.waiting == ()
