"""The scale benchmark's small case (tests/benchmarks/bench_sync.py runs the large one): a first sync
carries a history complete, and an incremental sync reads what changed, not the table (issue 14 item 8)."""

from __future__ import annotations

from pathlib import Path

from drs_desktop.services.sync_context import numbered_prefix
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.sync.scale import run_scale

#: Items an incremental sync of one plan change may read, whatever the table holds: the table header
#: and counter (twice: a pull before and after the push), the feed entry, the head, the new revision.
INCREMENTAL_ITEMS = 10


def test_an_incremental_sync_reads_the_change_not_the_table(
    tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    _built, phases = run_scale(tmp_path, dynamodb, plans=10, revisions=6, executions=3, events=250)
    first_push, first_pull, push_one, pull_one, idle = phases
    assert first_push.report.pushed == {"revisions": 60, "plans": 10, "executions": 3, "journal pages": 6}
    assert first_pull.report.pulled == {"revisions": 60, "plans": 10, "executions": 3, "journal pages": 6}
    # Pushing asks for each plan's revision numbers once; pulling its own changes back reads no page
    # (the heads count the events this desktop has): the feed's two Queries besides.
    assert first_push.calls.calls["Query"] == 10 + 2, first_push.calls.calls
    assert first_push.calls.items_read["Query"] == 10 + 3  # its 13 feed entries: no revision, no page
    # The first pull reads every revision and page once: about the table, not more.
    assert first_pull.calls.items_read["Query"] <= 60 + 6 + 13 + 2
    assert push_one.report.pushed == {"revisions": 1, "plans": 1}
    assert pull_one.report.pulled == {"revisions": 1, "plans": 1}
    for phase in (push_one, pull_one, idle):
        # Bounded by a constant: not the plan's six revisions, not the feed's 23 changes.
        assert phase.calls.total_items_read <= INCREMENTAL_ITEMS, (phase.name, phase.calls.items_read)
        assert sum(phase.calls.calls.values()) <= 14, (phase.name, phase.calls.calls)
    assert pull_one.calls.items_read["Query"] <= 2  # the feed entry and the one new revision
    assert idle.calls.items_written == {} and idle.report.pulled == {}


def test_the_numbered_prefix_is_what_a_desktop_holds_without_a_hole() -> None:
    assert numbered_prefix([]) == 0
    assert numbered_prefix([None, None]) == 0  # pending revisions: numbered by no table yet
    assert numbered_prefix([1, 2, 3, None]) == 3
    # Its own revision numbered 10 while a teammate's 6-9 waited in a conflict: 6-9 must still be read.
    assert numbered_prefix([1, 2, 3, 4, 5, 10]) == 5
    assert numbered_prefix([2, 3]) == 0
