"""``aws.sync_lease``: one driver per execution across desktops (docs/sync.md, "Leases"), against moto's
DynamoDB server over loopback HTTP with the real boto3 client. Each desktop has a client of its own; what
a test checks is read back from the table with the test's own client."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from drs_desktop.aws import sync_lease
from drs_desktop.domain.lease import LEASE_EXPIRY, Lease, LeaseWatch
from drs_desktop.domain.sync_errors import LeaseHeld, LeaseLost, SyncError
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.sync.lease_helpers import TABLE, lease_item, make_table

EXECUTION = "0b6f3a52-5d7e-4c38-9a57-3f1d2c9e8a01"
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def table(dynamodb: DynamoDbEmulator) -> str:
    make_table(dynamodb)
    return TABLE


def test_take_beat_release_round_trip(dynamodb: DynamoDbEmulator, table: str) -> None:
    desk_a, own = dynamodb.client(), dynamodb.client()
    assert sync_lease.read(desk_a, table, EXECUTION) is None

    lease = sync_lease.take(desk_a, table, EXECUTION, "desk-a", now=lambda: NOW)
    assert lease == Lease(EXECUTION, "desk-a", 1, "2026-03-01T12:30:00+00:00")
    assert lease_item(own, EXECUTION) == {
        "pk": {"S": f"LEASE#{EXECUTION}"},
        "sk": {"S": "LEASE"},
        "holder": {"S": "desk-a"},
        "heartbeat": {"N": "1"},
        "taken_at": {"S": "2026-03-01T12:30:00+00:00"},
    }

    lease = sync_lease.beat(desk_a, table, lease)
    lease = sync_lease.beat(desk_a, table, lease)
    assert lease.heartbeat == 3 and lease.holder == "desk-a"
    assert sync_lease.read(own, table, EXECUTION) == lease

    assert sync_lease.release(desk_a, table, lease) is True
    # Released, not deleted (the operator's policy has no DeleteItem): no holder, the counter goes on.
    assert lease_item(own, EXECUTION) == {
        "pk": {"S": f"LEASE#{EXECUTION}"},
        "sk": {"S": "LEASE"},
        "heartbeat": {"N": "4"},
    }
    assert sync_lease.read(own, table, EXECUTION) is None
    assert sync_lease.release(desk_a, table, lease) is False  # already free: nothing to give back
    with pytest.raises(LeaseLost) as lost:
        sync_lease.beat(desk_a, table, lease)
    assert lost.value.holder is None and "free" in str(lost.value)

    # Taken again, by anyone: the counter still only grows.
    assert sync_lease.take(dynamodb.client(), table, EXECUTION, "desk-b").heartbeat == 5


def test_a_second_desktop_cannot_take_a_held_lease(dynamodb: DynamoDbEmulator, table: str) -> None:
    desk_a, desk_b, own = dynamodb.client(), dynamodb.client(), dynamodb.client()
    lease = sync_lease.beat(desk_a, table, sync_lease.take(desk_a, table, EXECUTION, "desk-a"))
    before = lease_item(own, EXECUTION)

    with pytest.raises(LeaseHeld) as refused:
        sync_lease.take(desk_b, table, EXECUTION, "desk-b")
    assert refused.value.holder == "desk-a" and refused.value.heartbeat == 2
    assert "desk-a" in str(refused.value) and EXECUTION in str(refused.value)
    assert lease_item(own, EXECUTION) == before  # untouched

    # desk-b cannot beat or release it either: the condition holder = :me decides.
    with pytest.raises(LeaseLost) as lost:
        sync_lease.beat(desk_b, table, Lease(EXECUTION, "desk-b", 2))
    assert lost.value.holder == "desk-a"
    with pytest.raises(LeaseLost):
        sync_lease.release(desk_b, table, Lease(EXECUTION, "desk-b", 2))
    assert lease_item(own, EXECUTION) == before

    # Its holder takes it again (a restart): the counter goes on, never back to a value already seen.
    again = sync_lease.take(desk_a, table, EXECUTION, "desk-a")
    assert again.heartbeat == lease.heartbeat + 1 and again.holder == "desk-a"


def test_the_watch_expires_only_after_the_heartbeat_stops(dynamodb: DynamoDbEmulator, table: str) -> None:
    desk_a, desk_b = dynamodb.client(), dynamodb.client()
    lease = sync_lease.take(desk_a, table, EXECUTION, "desk-a")
    watch, observer_clock = LeaseWatch(), 5000.0  # desk-b's monotonic clock, injected

    for _ in range(30):  # 150 s on desk-b's clock, desk-a beating every 5 s
        lease = sync_lease.beat(desk_a, table, lease)
        observer_clock += 5.0
        assert watch.observe_lease(observer_clock, sync_lease.read(desk_b, table, EXECUTION)) is False

    # desk-a stops beating. The lease expires in desk-b's eyes LEASE_EXPIRY after desk-b first read the
    # last heartbeat, not before.
    first_seen = observer_clock
    while observer_clock + 5.0 < first_seen + LEASE_EXPIRY:
        observer_clock += 5.0
        assert watch.observe_lease(observer_clock, sync_lease.read(desk_b, table, EXECUTION)) is False
    assert watch.observe_lease(first_seen + LEASE_EXPIRY, sync_lease.read(desk_b, table, EXECUTION))
    assert (watch.heartbeat, watch.holder) == (lease.heartbeat, "desk-a")


def _race(
    dynamodb: DynamoDbEmulator, table: str, execution: str, desktops: tuple[str, ...]
) -> dict[str, Any]:
    """Each desktop, on its own thread with its own client, reads the lease and takes it over at the same
    moment; what each got (a Lease, LeaseHeld, or any other exception)."""
    start = threading.Barrier(len(desktops))
    outcomes: dict[str, Any] = {}

    def race(me: str) -> None:
        try:
            client = dynamodb.client()  # built in the desktop's thread
            seen = sync_lease.read(client, table, execution)
            assert seen is not None
            start.wait(10)
            outcomes[me] = sync_lease.take_over(client, table, execution, me, seen.heartbeat, seen.holder)
        except Exception as exc:
            outcomes[me] = exc

    threads = [threading.Thread(target=race, args=(me,)) for me in desktops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_exactly_one_of_two_racing_desktops_takes_over(dynamodb: DynamoDbEmulator, table: str) -> None:
    own = dynamodb.client()
    for round_ in range(6):
        execution = f"{EXECUTION[:-2]}{round_:02d}"
        old = sync_lease.take(dynamodb.client(), table, execution, "desk-a")
        outcomes = _race(dynamodb, table, execution, ("desk-b", "desk-c"))

        winners = [me for me, outcome in outcomes.items() if isinstance(outcome, Lease)]
        assert len(outcomes) == 2 and len(winners) == 1, outcomes
        winner = winners[0]
        loser = next(me for me in outcomes if me != winner)
        refusal = outcomes[loser]
        assert isinstance(refusal, LeaseHeld) and refusal.holder == winner
        assert sync_lease.read(own, table, execution) == outcomes[winner]
        assert outcomes[winner] == Lease(execution, winner, old.heartbeat + 1, outcomes[winner].taken_at)

        # The old holder's next beat: lost, and told to whom.
        with pytest.raises(LeaseLost) as lost:
            sync_lease.beat(dynamodb.client(), table, old)
        assert lost.value.holder == winner and winner in str(lost.value)
        assert sync_lease.read(own, table, execution) == outcomes[winner]  # the failed beat wrote nothing


def test_a_beat_after_the_reading_defeats_the_takeover(dynamodb: DynamoDbEmulator, table: str) -> None:
    desk_a, desk_b = dynamodb.client(), dynamodb.client()
    lease = sync_lease.take(desk_a, table, EXECUTION, "desk-a")
    seen = sync_lease.read(desk_b, table, EXECUTION)
    assert seen is not None
    lease = sync_lease.beat(desk_a, table, lease)  # desk-a was alive after all

    with pytest.raises(LeaseHeld) as refused:
        sync_lease.take_over(desk_b, table, EXECUTION, "desk-b", seen.heartbeat, seen.holder)
    assert refused.value.holder == "desk-a" and "beating again" in str(refused.value)
    assert sync_lease.read(desk_b, table, EXECUTION) == lease
    assert sync_lease.beat(desk_a, table, lease).heartbeat == lease.heartbeat + 1


def test_a_resent_takeover_that_had_landed_is_ours(dynamodb: DynamoDbEmulator, table: str) -> None:
    """botocore resends a request whose answer was lost; the resent takeover meets its own write."""
    desk_a, desk_b = dynamodb.client(), dynamodb.client()
    old = sync_lease.take(desk_a, table, EXECUTION, "desk-a")
    first = sync_lease.take_over(desk_b, table, EXECUTION, "desk-b", old.heartbeat, old.holder)
    again = sync_lease.take_over(desk_b, table, EXECUTION, "desk-b", old.heartbeat, old.holder)
    assert again == first and again.holder == "desk-b"
    with pytest.raises(ValueError, match="already holds"):
        sync_lease.take_over(desk_b, table, EXECUTION, "desk-b", again.heartbeat, "desk-b")


def test_a_takeover_of_a_released_lease_says_take_it(dynamodb: DynamoDbEmulator, table: str) -> None:
    desk_a, desk_b = dynamodb.client(), dynamodb.client()
    old = sync_lease.take(desk_a, table, EXECUTION, "desk-a")
    assert sync_lease.release(desk_a, table, old)
    with pytest.raises(LeaseHeld) as refused:
        sync_lease.take_over(desk_b, table, EXECUTION, "desk-b", old.heartbeat, old.holder)
    assert refused.value.holder is None and "take it" in str(refused.value)
    assert sync_lease.read(desk_b, table, EXECUTION) is None  # the takeover took nothing
    assert sync_lease.take(desk_b, table, EXECUTION, "desk-b").holder == "desk-b"


def test_an_item_that_is_not_a_lease_is_refused_and_kept(dynamodb: DynamoDbEmulator, table: str) -> None:
    own = dynamodb.client()
    foreign: dict[str, Any] = {
        "pk": {"S": f"LEASE#{EXECUTION}"},
        "sk": {"S": "LEASE"},
        "owner": {"S": "someone"},
        "heartbeat": {"S": "many"},
    }
    own.put_item(TableName=table, Item=foreign)
    with pytest.raises(SyncError) as bad:
        sync_lease.read(own, table, EXECUTION)
    assert bad.value.code == "MalformedItem" and f"LEASE#{EXECUTION}/LEASE" in str(bad.value)
    with pytest.raises(SyncError) as refused:  # its condition fails; the refusal is explained, not applied
        sync_lease.take(own, table, EXECUTION, "desk-a")
    assert refused.value.code == "MalformedItem"
    assert lease_item(own, EXECUTION) == foreign


def test_ids_are_checked_before_anything_is_sent(dynamodb: DynamoDbEmulator, table: str) -> None:
    client = dynamodb.client()
    for execution, me in (("", "desk-a"), (EXECUTION, " desk-a"), (EXECUTION, "")):
        with pytest.raises(ValueError):
            sync_lease.take(client, table, execution, me)
    assert sync_lease.read(client, table, EXECUTION) is None


def test_a_late_release_of_an_ended_keeper_never_frees_the_lease_taken_again(
    dynamodb: DynamoDbEmulator, table: str
) -> None:
    """A session closes (its keeper's release still on its way) and the execution is resumed at once on
    the same desktop: the old release, conditional on the heartbeat it knew, changes nothing."""
    client = dynamodb.client()
    old = sync_lease.take(client, table, "exec-1", "desk-a")
    new = sync_lease.take(client, table, "exec-1", "desk-a")  # the resume: its own lease, taken again
    assert new.heartbeat > old.heartbeat
    assert sync_lease.release(client, table, old) is False
    assert lease_item(client, "exec-1")["holder"] == {"S": "desk-a"}  # type: ignore[index]
    assert sync_lease.release(client, table, new) is True
    assert sync_lease.read(client, table, "exec-1") is None
