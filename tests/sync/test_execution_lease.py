"""One driver per execution across desktops: a session driven with team sync on takes the execution's
lease, starts no step while it cannot confirm it, stops for good when another desktop took it over, and
gives it back when it closes (services.execution_lease; issue 14 item 5). The DRS simulator and moto's
DynamoDB server, both over loopback HTTP with the real boto3 clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from drs_desktop.aws import sync_lease
from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.sync_schema import SyncTableTarget
from drs_desktop.aws.sync_table import create_table
from drs_desktop.domain.engine.state import ExecutionStatus
from drs_desktop.domain.lease import DRIVE_LIMIT
from drs_desktop.domain.sync_errors import LeaseHeld
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.services.execution_lease import ExecutionLeases
from drs_desktop.services.execution_session import ExecutionServices, ExecutionSession
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.lease_helpers import TABLE, lease_item, make_table
from tests.sync.refusing_proxy import RefusingProxy
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, instant_pace, step_until

# The shared fixtures (see execution_helpers), registered in this module.
sim = helpers.sim
db = helpers.db
gateway = helpers.gateway

WAIT = 30.0  # real seconds a test waits for a thread's news before it fails


class Monotonic:
    """The keeper's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def leased(
    db: Database,
    gateway: DrsGateway,
    sim: EmbeddedSimulator,
    target: SyncTableTarget,
    desktop: str,
    **keeper: object,
) -> ExecutionServices:
    return ExecutionServices(
        db,
        gateway,
        clock=sim.clock.now,
        operator="alice",
        poll_interval_seconds=30,
        leases=ExecutionLeases(target, desktop, keeper_options=dict(keeper)),
    )


class Driven:
    """``session`` driven on a thread of its own (as the desk does), its snapshots watched: ``lines``
    has every log line published, and ``journal_at[text]`` how many journal entries there were when the
    first line containing ``text`` was published (read on the loop's thread, at that very moment)."""

    def __init__(
        self, session: ExecutionSession, sim: EmbeddedSimulator, db: Database, watch: tuple[str, ...]
    ):
        self.session = session
        self.lines: list[str] = []
        self.journal_at: dict[str, int] = {}
        self._seen = {text: threading.Event() for text in watch}
        self._db = db

        def publish(snapshot: ProgressSnapshot) -> None:
            for line in snapshot.log:
                self.lines.append(line.text)
                for text, event in self._seen.items():
                    if text in line.text and not event.is_set():
                        self.journal_at[text] = len(journal.load_journal(db, session.execution_id))
                        event.set()

        self.thread = threading.Thread(
            target=lambda: session.drive(publish, pace=instant_pace(sim, most=5.0)), daemon=True
        )
        self.thread.start()

    def wait_for(self, text: str) -> None:
        assert self._seen[text].wait(WAIT), f"never said {text!r}: {self.lines[-5:]}"

    def end(self) -> None:
        self.session.stop()
        self.thread.join(WAIT)
        assert not self.thread.is_alive()
        self.session.close()


@pytest.fixture
def table(dynamodb: DynamoDbEmulator) -> SyncTableTarget:
    return make_table(dynamodb)


def test_a_drill_driven_with_sync_holds_its_lease_and_gives_it_back(
    dynamodb: DynamoDbEmulator,
    table: SyncTableTarget,
    sim: EmbeddedSimulator,
    db: Database,
    gateway: DrsGateway,
) -> None:
    services = leased(db, gateway, sim, table, "desk-a")
    session = drill_session(services)
    client = dynamodb.client()
    assert lease_item(client, session.execution_id)["holder"] == {"S": "desk-a"}  # type: ignore[index]
    step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
    session.close()
    item = lease_item(client, session.execution_id)
    assert item is not None and "holder" not in item, "given back: another desktop may take it at once"


def test_a_lease_another_desktop_holds_refuses_the_resume_and_gives_the_lock_back(
    dynamodb: DynamoDbEmulator,
    table: SyncTableTarget,
    sim: EmbeddedSimulator,
    db: Database,
    gateway: DrsGateway,
) -> None:
    services = leased(db, gateway, sim, table, "desk-a")
    first = drill_session(services)
    first.close()
    sync_lease.take(dynamodb.client(), TABLE, first.execution_id, "desk-b")
    with pytest.raises(LeaseHeld, match="desk-b"):
        services.resume(first.execution_id)
    plain = ExecutionServices(db, gateway, clock=sim.clock.now, operator="alice", poll_interval_seconds=30)
    again = plain.resume(first.execution_id)  # the local driver lock was given back with the refusal
    again.close()
    assert lease_item(dynamodb.client(), first.execution_id)["holder"] == {"S": "desk-b"}  # type: ignore[index]


@pytest.fixture
def proxied(dynamodb: DynamoDbEmulator) -> Iterator[tuple[RefusingProxy, SyncTableTarget]]:
    with RefusingProxy(
        dynamodb.endpoint_url, refuse=set(), code="ProvisionedThroughputExceededException"
    ) as proxy:
        target = SyncTableTarget(table=TABLE, region=REGION, endpoint_url=proxy.endpoint_url)
        create_table(target, identity=lambda: "")
        yield proxy, target


PAUSED = "no step starts until the sync table answers again"
AGAIN = "the lease is confirmed again; driving on"


def test_no_step_starts_while_the_lease_is_unconfirmed_and_the_run_goes_on_once_it_is(
    proxied: tuple[RefusingProxy, SyncTableTarget], sim: EmbeddedSimulator, db: Database, gateway: DrsGateway
) -> None:
    """Past ``DRIVE_LIMIT`` without a confirmed beat, another desktop may soon call the lease expired:
    the session starts no step (no DRS call, no journal entry) until a beat lands again."""
    proxy, target = proxied
    clock = Monotonic()
    session = drill_session(leased(db, gateway, sim, target, "desk-a", clock=clock))
    proxy.refuse = {"UpdateItem"}  # every beat refused from now on
    clock.now += DRIVE_LIMIT + 1
    driven = Driven(session, sim, db, (PAUSED, AGAIN))
    try:
        driven.wait_for(PAUSED)
        proxy.refuse = set()  # the table answers again: the next beat lands
        driven.wait_for(AGAIN)
        assert driven.journal_at[AGAIN] == driven.journal_at[PAUSED], "nothing journaled while it waited"
    finally:
        driven.end()


def test_a_desktop_that_took_the_execution_over_stops_this_one_for_good(
    dynamodb: DynamoDbEmulator,
    table: SyncTableTarget,
    sim: EmbeddedSimulator,
    db: Database,
    gateway: DrsGateway,
) -> None:
    services = leased(db, gateway, sim, table, "desk-a")
    session = drill_session(services)
    taken = "desk-b took this execution over"
    driven = Driven(session, sim, db, (taken,))
    client = dynamodb.client()
    for _ in range(10):  # desk-a beats every 5 s: a beat between the read and the takeover defeats it
        seen = sync_lease.read(client, TABLE, session.execution_id)
        assert seen is not None
        try:
            sync_lease.take_over(client, TABLE, session.execution_id, "desk-b", seen.heartbeat, seen.holder)
            break
        except LeaseHeld:
            continue
    # desk-a's next beat finds desk-b holding the lease (as if desk-b's watch saw it expire: the table's
    # condition is what decides, whatever desk-b's clock said).
    driven.wait_for(taken)
    driven.thread.join(WAIT)
    assert not driven.thread.is_alive(), "the loop ended: this desktop drives it no more"
    count = driven.journal_at[taken]
    session.close()
    assert lease_item(dynamodb.client(), session.execution_id)["holder"] == {"S": "desk-b"}  # type: ignore[index]
    assert len(journal.load_journal(db, session.execution_id)) == count, "nothing journaled after it"


def test_the_act_guard_stops_a_launch_inside_a_step_before_its_intent_is_journaled(
    sim: EmbeddedSimulator, db: Database, gateway: DrsGateway
) -> None:
    """A step that began while the lease was confirmed may reach its StartRecovery after the limit (a
    clock read, credentials renewed on the way): the runner asks again right before the intent."""
    services = ExecutionServices(db, gateway, clock=sim.clock.now, operator="alice", poll_interval_seconds=30)
    session = drill_session(services)
    runner = session.runner
    allowed = [False]
    runner.set_act_guard(lambda: allowed[0])
    pace = instant_pace(sim)

    def virtual(seconds: float) -> None:  # a wait moves the simulator's clock, never real time
        pace(seconds)

    result = runner.run(max_steps=20, sleep=virtual)
    types = [entry.type for entry in journal.load_journal(db, session.execution_id)]
    assert "StartRequested" not in types and result.outcome is None
    assert sim.backend.launch_records() == []
    allowed[0] = True
    runner.run(max_steps=5, sleep=virtual)
    assert "StartRequested" in [entry.type for entry in journal.load_journal(db, session.execution_id)]
    session.close()
