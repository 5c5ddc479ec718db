"""The lease's calls are all in the operator's least-privilege policy (``RUNTIME_ACTIONS``), checked by
moto's server enforcing IAM: a lease that the policy would refuse to give back would stay until it
expired on every other desktop's clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drs_desktop.aws import sync_lease
from drs_desktop.aws.sync_schema import RUNTIME_ACTIONS, SyncTableTarget, dynamodb_client
from drs_desktop.domain.sync_errors import LeaseHeld
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.iam_emulator import SETUP_REQUESTS, user_allowed
from tests.sync.lease_helpers import TABLE

EXECUTION = "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"


@pytest.fixture
def operator_target(monkeypatch: pytest.MonkeyPatch) -> Iterator[SyncTableTarget]:
    """The table, and an operator allowed RUNTIME_ACTIONS only: moto lets the first requests through
    unchecked (CreateTable, then the user's set-up) and checks every later one."""
    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", str(1 + SETUP_REQUESTS))
    emulator = DynamoDbEmulator()
    emulator.start()
    try:
        emulator.client().create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        keys = user_allowed(emulator, "operator", RUNTIME_ACTIONS)
        yield SyncTableTarget(
            table=TABLE, region=REGION, endpoint_url=emulator.endpoint_url, credentials=keys
        )
    finally:
        emulator.stop()


def test_an_operator_takes_beats_takes_over_and_releases_under_the_policy(
    operator_target: SyncTableTarget,
) -> None:
    desk_a, desk_b = dynamodb_client(operator_target), sync_lease.lease_client(operator_target)
    lease = sync_lease.beat(desk_a, TABLE, sync_lease.take(desk_a, TABLE, EXECUTION, "desk-a"))
    with pytest.raises(LeaseHeld):
        sync_lease.take(desk_b, TABLE, EXECUTION, "desk-b")
    taken = sync_lease.take_over(desk_b, TABLE, EXECUTION, "desk-b", lease.heartbeat, lease.holder)
    assert sync_lease.release(desk_b, TABLE, taken) is True
    assert sync_lease.read(desk_a, TABLE, EXECUTION) is None
    assert sync_lease.take(desk_a, TABLE, EXECUTION, "desk-a").holder == "desk-a"
