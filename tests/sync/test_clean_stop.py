"""A clean stop pushes its journal before it gives the lease back, and says so on the lease: a released
lease's ``released_events`` is how many journal events the table holds (services.close_push; issue 14
item 1). The DRS simulator and moto's DynamoDB server over loopback HTTP, with the real boto3 clients."""

from __future__ import annotations

import pytest

from drs_desktop.aws import sync_lease
from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.sync_history import read_pages
from drs_desktop.aws.sync_schema import SyncTableTarget
from drs_desktop.aws.sync_table import create_table
from drs_desktop.domain.engine.state import ExecutionStatus
from drs_desktop.services.execution_lease import ExecutionLeases
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.lease_helpers import TABLE, lease_item, make_table
from tests.sync.refusing_proxy import RefusingProxy
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, step_until

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway


def services_for(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, target: SyncTableTarget, desktop: str
) -> ExecutionServices:
    leases = ExecutionLeases(target, desktop, db=db)
    return ExecutionServices(
        db, gateway, clock=sim.clock.now, operator="alice", poll_interval_seconds=30, leases=leases
    )


def ran_and_closed(services: ExecutionServices, sim: EmbeddedSimulator) -> str:
    session = drill_session(services)
    step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
    session.close()
    return session.execution_id


def test_a_clean_stop_pushes_the_journal_then_releases_with_its_count(
    dynamodb: DynamoDbEmulator, sim: EmbeddedSimulator, db: Database, gateway: DrsGateway
) -> None:
    target = make_table(dynamodb)
    execution_id = ran_and_closed(services_for(db, gateway, sim, target, "desk-a"), sim)
    client = dynamodb.client()
    state = sync_lease.read_state(client, TABLE, execution_id)
    local = [entry.payload for entry in journal.load_journal(db, execution_id)]
    assert len(local) > 5, "the drill journaled its steps"
    assert state.lease is None and state.heartbeat is not None
    assert state.released_events == len(local)
    pages = read_pages(client, TABLE, execution_id, ((1, "desk-a"),), 1, len(local))
    assert [dict(e) for page in pages for e in page.events] == [dict(e) for e in local]
    assert outbox.queued_for(db, "EXEC", execution_id) == 0
    head = client.get_item(
        TableName=TABLE, Key={"pk": {"S": f"EXEC#{execution_id}"}, "sk": {"S": "HEAD"}}, ConsistentRead=True
    )
    assert "Item" in head, "the head went too, after its pages"

    # Any take removes the count: it is true only of the release that wrote it.
    sync_lease.take(client, TABLE, execution_id, "desk-b")
    taken = sync_lease.read_state(client, TABLE, execution_id)
    assert taken.lease is not None and taken.lease.holder == "desk-b"
    assert taken.released_events is None and "released_events" not in (lease_item(client, execution_id) or {})


def test_a_push_that_fails_keeps_the_lease_to_expire(
    dynamodb: DynamoDbEmulator, sim: EmbeddedSimulator, db: Database, gateway: DrsGateway
) -> None:
    with RefusingProxy(dynamodb.endpoint_url, refuse=set(), code="AccessDeniedException") as proxy:
        target = SyncTableTarget(table=TABLE, region=REGION, endpoint_url=proxy.endpoint_url)
        create_table(target, identity=lambda: "")
        services = services_for(db, gateway, sim, target, "desk-a")
        session = drill_session(services)
        step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
        proxy.refuse = {"TransactWriteItems", "PutItem"}  # no page, no head: the lease's UpdateItem goes
        session.close()
        execution_id = session.execution_id
    client = dynamodb.client()
    state = sync_lease.read_state(client, TABLE, execution_id)
    assert proxy.refused.get("PutItem"), "the push was tried"
    # Not given back: a free lease would let this run's old journal be resumed against a head that does
    # not show it (services.execution_lease._driven_elsewhere); it expires, and a takeover checks DRS.
    assert state.lease is not None and state.lease.holder == "desk-a"
    assert state.released_events is None
    assert outbox.queued_for(db, "EXEC", execution_id) > 0, "what was not pushed stays queued"


def test_a_release_without_a_count_removes_an_earlier_one(dynamodb: DynamoDbEmulator) -> None:
    make_table(dynamodb)
    client = dynamodb.client()
    lease = sync_lease.take(client, TABLE, "run-1", "desk-a")
    assert sync_lease.release(client, TABLE, lease, pushed_events=7)
    assert sync_lease.read_state(client, TABLE, "run-1").released_events == 7
    again = sync_lease.take(client, TABLE, "run-1", "desk-a")
    assert sync_lease.read_state(client, TABLE, "run-1").released_events is None
    assert sync_lease.release(client, TABLE, again)
    state = sync_lease.read_state(client, TABLE, "run-1")
    assert state.lease is None and state.released_events is None
    assert state.heartbeat == again.heartbeat + 1
    assert sync_lease.read_state(client, TABLE, "never-taken") == sync_lease.LeaseState(None, None, None)
    with pytest.raises(ValueError):
        sync_lease.release(client, TABLE, sync_lease.take(client, TABLE, "run-2", "d"), pushed_events=-1)
