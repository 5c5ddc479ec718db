"""The change-sequence protocol (aws/sync_feed.py) against moto's DynamoDB server with the real boto3 client.

Grace periods run on an injected monotonic clock (``FakeClock``) and backoffs on an injected sleep, so
nothing here waits on the wall clock.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from drs_desktop.aws.sync_feed import (
    Change,
    Committed,
    Conflict,
    CorruptEntity,
    FeedChange,
    GapTracker,
    HeadSummary,
    SyncFeedError,
    allocate,
    commit,
    pull,
    read_counter,
    read_heads,
)
from drs_desktop.aws.sync_parts import PART_BYTES
from drs_desktop.aws.sync_retry import Backoff
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.sync.feed_helpers import TABLE, FakeClock, big_body, feed_items, make_table

GRACE = 30.0
NO_WAIT = Backoff(sleep=lambda _seconds: None)


def plan(
    key: str,
    body: dict[str, Any] | None,
    *,
    expected: int | None = None,
    writer: str = "desk-a",
) -> Change:
    return Change(
        kind="PLAN",
        key=key,
        expected_version=expected,
        body=None if body is None else json.dumps(body),
        writer=writer,
        app_version="1.4.0",
        deleted=body is None,
    )


@pytest.fixture
def client(dynamodb: DynamoDbEmulator) -> Any:
    made = dynamodb.client()
    make_table(made)
    return made


def test_allocate_hands_out_consecutive_numbers_and_a_table_without_counter_is_refused(
    client: Any,
) -> None:
    assert [allocate(client, TABLE) for _ in range(3)] == [1, 2, 3]
    assert read_counter(client, TABLE) == 3
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "META"}, "sk": {"S": "SEQ"}})
    with pytest.raises(SyncFeedError, match="no change counter META/SEQ"):
        allocate(client, TABLE)
    # The refused ADD created nothing: it did not make a counter of its own.
    assert "Item" not in client.get_item(TableName=TABLE, Key={"pk": {"S": "META"}, "sk": {"S": "SEQ"}})


def test_two_writers_on_one_entity_the_second_gets_a_conflict_with_the_firsts_side(client: Any) -> None:
    first = commit(client, TABLE, plan("p1", {"name": "A's"}, writer="desk-a"))
    assert first == Committed(seq=1, version=1)

    # desk-b never pulled p1 and creates it too: refused, told what the table holds.
    second = commit(client, TABLE, plan("p1", {"name": "B's"}, writer="desk-b"))
    assert second == Conflict(
        unused_seq=2, theirs=HeadSummary(version=1, seq=1, writer="desk-a", deleted=False)
    )

    # Both pulled version 1; desk-a pushes version 2 first, desk-b's push on version 1 is refused.
    assert commit(client, TABLE, plan("p1", {"name": "A2"}, expected=1)) == Committed(seq=3, version=2)
    late = commit(client, TABLE, plan("p1", {"name": "B2"}, expected=1, writer="desk-b"))
    assert isinstance(late, Conflict)
    assert late.theirs == HeadSummary(version=2, seq=3, writer="desk-a", deleted=False)

    # Nothing of desk-b's was written: the head is desk-a's; desk-b fenced its unused numbers 2 and 4.
    heads = read_heads(client, TABLE, [("PLAN", "p1")])
    assert heads[("PLAN", "p1")].body == json.dumps({"name": "A2"})
    assert heads[("PLAN", "p1")].writer == "desk-a"
    feed = {int(item["sk"]["S"][4:]): item for item in feed_items(client)}
    assert sorted(feed) == [1, 2, 3, 4]
    assert feed[2]["fenced"] == feed[4]["fenced"] == {"BOOL": True} and "kind" not in feed[2]
    # So a puller's cursor is not held by them for the grace: no clock moved here.
    result = pull(client, TABLE, 0, now=FakeClock(), gaps=GapTracker(), grace=GRACE)
    assert [(c.seq, c.writer) for c in result.changes] == [(1, "desk-a"), (3, "desk-a")]
    assert (result.cursor, result.waiting, result.fenced) == (4, (), ())


def test_a_tombstone_travels_and_a_stale_writer_cannot_bring_the_entity_back(client: Any) -> None:
    commit(client, TABLE, plan("p1", {"name": "doomed"}))
    assert commit(client, TABLE, plan("p1", None, expected=1)) == Committed(seq=2, version=2)

    result = pull(client, TABLE, 0, now=FakeClock(), gaps=GapTracker(), grace=GRACE)
    assert [(c.seq, c.version, c.deleted) for c in result.changes] == [(1, 1, False), (2, 2, True)]
    head = read_heads(client, TABLE, [("PLAN", "p1")])[("PLAN", "p1")]
    assert head.deleted and head.body is None and head.version == 2

    # A desktop that still has version 1 edits it: a conflict against the tombstone, not a resurrection.
    stale = commit(client, TABLE, plan("p1", {"name": "edited"}, expected=1, writer="desk-b"))
    assert isinstance(stale, Conflict) and stale.theirs is not None and stale.theirs.deleted
    with pytest.raises(ValueError, match="tombstone has no body"):
        Change("PLAN", "p1", 2, "{}", "desk-a", "1.4.0", deleted=True)


def part_items_of(client: Any, pk: str) -> list[dict[str, Any]]:
    answer = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p AND begins_with(sk, :part)",
        ExpressionAttributeValues={":p": {"S": pk}, ":part": {"S": "PART#"}},
        ConsistentRead=True,
    )
    return list(answer["Items"])


def test_a_body_over_part_bytes_is_split_joined_and_checked(client: Any) -> None:
    body = big_body()
    change = Change("EXEC", "e1", None, body, "desk-a", "1.4.0", core=True)
    assert commit(client, TABLE, change) == Committed(seq=1, version=1)

    parts = part_items_of(client, "EXEC#e1")
    assert len(parts) == 3
    assert all(len(p["data"]["S"].encode("utf-8")) <= PART_BYTES for p in parts)
    raw_head = client.get_item(TableName=TABLE, Key={"pk": {"S": "EXEC#e1"}, "sk": {"S": "HEAD"}})["Item"]
    assert "body" not in raw_head and raw_head["parts"] == {"N": "3"}

    head = read_heads(client, TABLE, [("EXEC", "e1")])[("EXEC", "e1")]
    assert head.body == body and head.core is True and head.seq == 1


def test_a_corrupt_or_missing_part_is_refused_naming_the_entity_and_nothing_is_returned(client: Any) -> None:
    commit(client, TABLE, Change("EXEC", "e1", None, big_body(), "desk-a", "1.4.0"))
    commit(client, TABLE, plan("p-fine", {"name": "fine"}))
    parts = sorted(part_items_of(client, "EXEC#e1"), key=lambda p: p["sk"]["S"])

    damaged = dict(parts[1])
    damaged["data"] = {"S": damaged["data"]["S"].replace("s-0", "s-9", 1)}
    client.put_item(TableName=TABLE, Item=damaged)
    with pytest.raises(CorruptEntity, match=r"EXEC#e1: the body joined from 3 parts has SHA-256"):
        read_heads(client, TABLE, [("PLAN", "p-fine"), ("EXEC", "e1")])

    client.delete_item(TableName=TABLE, Key={"pk": parts[2]["pk"], "sk": parts[2]["sk"]})
    with pytest.raises(CorruptEntity, match=r"EXEC#e1: body part 2 of 3 is missing"):
        read_heads(client, TABLE, [("EXEC", "e1"), ("PLAN", "p-fine")])
    # The intact entity alone still reads.
    assert read_heads(client, TABLE, [("PLAN", "p-fine")])[("PLAN", "p-fine")].version == 1


def test_two_writers_of_the_same_version_never_overwrite_each_others_parts(client: Any) -> None:
    """docs/sync.md's PART#<version>#<n> would let the loser's parts replace the winner's (see sync_parts)."""
    mine, theirs = big_body(), big_body().replace("s-", "t-")
    seq_a, seq_b = allocate(client, TABLE), allocate(client, TABLE)
    assert isinstance(commit(client, TABLE, Change("EXEC", "e1", None, mine, "a", "1"), seq=seq_a), Committed)
    # desk-b wrote its parts for version 1 too, then lost on the head's condition.
    assert isinstance(
        commit(client, TABLE, Change("EXEC", "e1", None, theirs, "b", "1"), seq=seq_b), Conflict
    )
    assert read_heads(client, TABLE, [("EXEC", "e1")])[("EXEC", "e1")].body == mine


def test_a_pull_sees_the_changes_in_order_and_its_cursor_moves_over_them(client: Any) -> None:
    for n in range(5):
        commit(client, TABLE, plan(f"p{n}", {"n": n}))
    clock, gaps = FakeClock(), GapTracker()
    first = pull(client, TABLE, 0, now=clock, gaps=gaps, grace=GRACE)
    assert [(c.seq, c.key) for c in first.changes] == [(n + 1, f"p{n}") for n in range(5)]
    assert first.cursor == 5 and first.waiting == () and first.fenced == ()

    assert pull(client, TABLE, 5, now=clock, gaps=gaps, grace=GRACE).changes == ()
    commit(client, TABLE, plan("p0", {"n": "again"}, expected=1, writer="desk-b"))
    again = pull(client, TABLE, 5, now=clock, gaps=gaps, grace=GRACE)
    assert again.changes == (FeedChange(6, "PLAN", "p0", 2, False, "desk-b"),)
    assert again.cursor == 6


def test_a_gap_holds_the_cursor_until_fenced_after_the_grace_and_the_late_writer_moves(client: Any) -> None:
    clock, gaps = FakeClock(), GapTracker()
    commit(client, TABLE, plan("early", {"n": 1}))
    late_number = allocate(client, TABLE)  # a writer that stalls between allocating and committing
    commit(client, TABLE, plan("after", {"n": 3}))

    seen: list[FeedChange] = []
    result = pull(client, TABLE, 0, now=clock, gaps=gaps, grace=GRACE)
    seen += result.changes
    assert (result.cursor, result.waiting, result.fenced) == (1, (2,), ())

    clock.advance(GRACE - 0.001)
    result = pull(client, TABLE, result.cursor, now=clock, gaps=gaps, grace=GRACE)
    seen += result.changes
    assert (result.cursor, result.waiting, result.fenced) == (1, (2,), ())

    clock.advance(0.001)
    result = pull(client, TABLE, result.cursor, now=clock, gaps=gaps, grace=GRACE)
    seen += result.changes
    assert (result.cursor, result.waiting, result.fenced) == (3, (), (late_number,))
    assert gaps.open_gaps == {}

    # The late writer wakes up: its number is fenced, so it is refused there and commits under a new one.
    outcome = commit(client, TABLE, plan("late", {"n": 2}, writer="desk-late"), seq=late_number)
    assert outcome == Committed(seq=4, version=1, fenced_numbers=(late_number,))
    result = pull(client, TABLE, result.cursor, now=clock, gaps=gaps, grace=GRACE)
    seen += result.changes
    assert result.cursor == 4
    assert [(c.seq, c.key) for c in seen] == [(1, "early"), (3, "after"), (4, "late")]
    assert read_heads(client, TABLE, [("PLAN", "late")])[("PLAN", "late")].seq == 4


def test_a_gap_at_the_end_of_the_feed_waits_and_is_fenced_too(client: Any) -> None:
    clock, gaps = FakeClock(), GapTracker()
    commit(client, TABLE, plan("p", {"n": 1}))
    allocate(client, TABLE)  # abandoned: a crash after allocating
    result = pull(client, TABLE, 0, now=clock, gaps=gaps, grace=GRACE)
    assert (result.cursor, result.waiting) == (1, (2,))
    clock.advance(GRACE)
    result = pull(client, TABLE, 1, now=clock, gaps=gaps, grace=GRACE)
    assert (result.cursor, result.fenced, result.changes) == (2, (2,), ())
    assert commit(client, TABLE, plan("q", {"n": 3})) == Committed(seq=3, version=1)


def test_a_fence_that_loses_the_race_reads_the_entry_that_just_landed(
    dynamodb: DynamoDbEmulator, client: Any
) -> None:
    clock, gaps = FakeClock(), GapTracker()
    number = allocate(client, TABLE)
    assert pull(client, TABLE, 0, now=clock, gaps=gaps, grace=GRACE).waiting == (number,)
    clock.advance(GRACE)

    # The writer's commit lands between the puller's query and its fence (sent by another desktop).
    writer = dynamodb.client()
    landed: list[Any] = []

    def commit_first(**_kwargs: Any) -> None:
        if not landed:
            landed.append(commit(writer, TABLE, plan("racer", {"n": 1}), seq=number))

    client.meta.events.register("before-call.dynamodb.PutItem", commit_first)
    result = pull(client, TABLE, 0, now=clock, gaps=gaps, grace=GRACE)
    assert landed == [Committed(seq=number, version=1)]
    assert result.fenced == () and result.cursor == number
    assert [(c.seq, c.key) for c in result.changes] == [(number, "racer")]


def test_a_commit_that_meets_its_own_earlier_success_is_not_a_conflict_nor_a_second_entry(
    client: Any,
) -> None:
    change = plan("p1", {"name": "once"})
    number = allocate(client, TABLE)
    assert commit(client, TABLE, change, seq=number) == Committed(seq=number, version=1)
    # The same transaction resent (its first answer lost): recognised by its feed entry.
    assert commit(client, TABLE, change, seq=number) == Committed(seq=number, version=1, recovered=True)
    # Pushed again after a restart, under a new number: recognised by the head; the new number stays a gap.
    assert commit(client, TABLE, change) == Committed(seq=number, version=1, recovered=True)
    entries = feed_items(client)
    assert [e["sk"]["S"] for e in entries] == [f"SEQ#{n:020d}" for n in (number, number + 1)]
    assert entries[0]["key"] == {"S": "p1"} and entries[1]["fenced"] == {"BOOL": True}  # released at once
    # Someone else's identical-looking change is still a conflict.
    assert isinstance(commit(client, TABLE, plan("p1", {"name": "once"}, writer="desk-b")), Conflict)


def test_concurrent_writers_and_a_puller_the_puller_sees_every_change_exactly_once(
    dynamodb: DynamoDbEmulator, client: Any
) -> None:
    writers, per_writer = 5, 10
    committed: list[Committed] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def write(w: int) -> None:
        own = dynamodb.client()  # boto3 clients are not shared across threads here
        try:
            for n in range(per_writer):
                outcome = commit(own, TABLE, plan(f"w{w}-{n}", {"n": n}, writer=f"desk-{w}"), backoff=NO_WAIT)
                assert isinstance(outcome, Committed), outcome
                with lock:
                    committed.append(outcome)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    clock, gaps, cursor = FakeClock(), GapTracker(), 0
    seen: list[FeedChange] = []
    pulls = 0
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads) or cursor < read_counter(client, TABLE):
        result = pull(client, TABLE, cursor, now=clock, gaps=gaps, grace=GRACE)
        seen += result.changes
        cursor = result.cursor
        pulls += 1
        assert pulls < 10_000, "the puller never caught up"
    for thread in threads:
        thread.join()
    assert errors == []

    assert len(committed) == writers * per_writer
    assert [c.seq for c in seen] == sorted({c.seq for c in seen}), "out of order or doubled"
    assert {(c.seq, c.version) for c in seen} == {(c.seq, c.version) for c in committed}
    assert len({c.key for c in seen}) == writers * per_writer
    assert pulls > 1


def test_writers_racing_a_puller_that_fences_at_once_lose_nothing_and_double_nothing(
    dynamodb: DynamoDbEmulator, client: Any
) -> None:
    """grace = 0: every number the puller sees uncommitted is fenced, so writers are refused and move on.

    Every other change stalls between allocating its number and committing it until the puller has fenced
    that number (an event, not a sleep), so refusals happen on every run, not only when timing allows.
    """
    writers, per_writer = 4, 8
    committed: list[tuple[int, str]] = []
    refused: list[int] = []
    stalled: dict[int, threading.Event] = {}
    fenced: set[int] = set()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def write(w: int) -> None:
        own = dynamodb.client()
        try:
            for n in range(per_writer):
                change = plan(f"w{w}-{n}", {"n": n}, writer=f"d{w}")
                number: int | None = None
                if n % 2 == 0:
                    number = allocate(own, TABLE)
                    event = threading.Event()
                    with lock:
                        stalled[number] = event
                        if number in fenced:
                            event.set()
                    assert event.wait(60), f"number {number} was never fenced"
                while True:  # FencedOut: nothing written, push again (what the outbox does later)
                    outcome = commit(own, TABLE, change, seq=number, backoff=NO_WAIT)
                    number = None
                    assert not isinstance(outcome, Conflict), outcome
                    with lock:
                        refused.extend(getattr(outcome, "fenced_numbers", getattr(outcome, "numbers", ())))
                        if isinstance(outcome, Committed):
                            committed.append((outcome.seq, change.key))
                    if isinstance(outcome, Committed):
                        break
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    clock, gaps, cursor = FakeClock(), GapTracker(), 0
    seen: list[FeedChange] = []
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads) or cursor < read_counter(client, TABLE):
        result = pull(client, TABLE, cursor, now=clock, gaps=gaps, grace=0.0)
        seen += result.changes
        cursor = result.cursor
        with lock:
            fenced.update(result.fenced)
            for number in result.fenced:
                if number in stalled:
                    stalled[number].set()
    for thread in threads:
        thread.join()
    assert errors == []

    assert len(committed) == writers * per_writer
    assert [c.seq for c in seen] == sorted({c.seq for c in seen}), "out of order or doubled"
    assert {(c.seq, c.key) for c in seen} == set(committed)
    # Every stalled number was refused and is a fence; no committed number was fenced.
    assert set(stalled) <= set(refused) <= fenced
    assert len(stalled) == writers * per_writer // 2
    assert not fenced & {seq for seq, _ in committed}
    assert cursor == read_counter(client, TABLE) == len(seen) + len(fenced)
