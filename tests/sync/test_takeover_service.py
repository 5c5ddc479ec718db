"""Watching another desktop's run and taking it over (services.execution_takeover; issue 14 item 5):
two desktop homes syncing through moto's DynamoDB server, one DRS simulator, real boto3 clients over
loopback HTTP. Desktop A drives a drill, pushes, and goes silent (its keeper stopped without a release);
desktop B watches the lease on an injected monotonic clock (no sleeps) and may take over only after
``LEASE_EXPIRY`` of unchanged readings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drs_desktop.aws import sync_lease
from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import ExecutionStatus
from drs_desktop.domain.lease import LEASE_EXPIRY, Lease, LeaseWatch
from drs_desktop.domain.sync_errors import DrivenElsewhere, LeaseHeld
from drs_desktop.domain.views.lease_view import LeaseReading, feed, lease_line
from drs_desktop.services.execution_lease import ExecutionLeases
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.services.execution_takeover import LeaseLook, TakeoverRefused
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.plans import save_plan
from drs_desktop.storage.sync_apply import foreign_writer
from tests.sync.desktops import TABLE, Desktop, desktop, init_table, target
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.sync.feed_helpers import FakeClock
from tests.sync.lease_helpers import lease_item
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, instant_pace, shop_plan, step_until

sim = helpers.sim


@dataclass
class Team:
    a: Desktop
    b: Desktop
    services_a: ExecutionServices
    services_b: ExecutionServices
    look_b: LeaseLook
    clock_b: FakeClock  # desktop B's monotonic clock, the observer's


def _services(home: Desktop, sim: EmbeddedSimulator, leases: ExecutionLeases) -> ExecutionServices:
    gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
    return ExecutionServices(
        home.db, gateway, clock=sim.clock.now, operator=home.name, poll_interval_seconds=30, leases=leases
    )


@pytest.fixture
def team(tmp_path: Path, dynamodb: DynamoDbEmulator, sim: EmbeddedSimulator) -> Iterator[Team]:
    init_table(dynamodb)
    a, b = desktop(tmp_path, "a", dynamodb), desktop(tmp_path, "b", dynamodb)
    save_plan(a.db, shop_plan(sim))
    leases_a = ExecutionLeases(target(dynamodb), a.desktop_id)
    leases_b = ExecutionLeases(target(dynamodb), b.desktop_id)
    clock_b = FakeClock()
    look = LeaseLook(b.db, lambda: leases_b, monotonic=clock_b)
    try:
        yield Team(a, b, _services(a, sim, leases_a), _services(b, sim, leases_b), look, clock_b)
    finally:
        look.close()
        a.db.close()
        b.db.close()


def silent_drill(team: Team, sim: EmbeddedSimulator) -> str:
    """A drives a drill to its approval gate (the database wave recovered), pushes, and goes silent:
    its keeper stops beating without giving the lease back (a crash, a lost network). B pulls it."""
    session = drill_session(team.services_a)
    step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
    keeper = session.lease
    assert keeper is not None
    keeper.stop(release=False)
    assert keeper.join(10)
    session.close()
    team.a.service.push()
    team.b.service.pull()
    assert foreign_writer(team.b.db, session.execution_id) == team.a.desktop_id
    return session.execution_id


def watched(team: Team, watch: LeaseWatch, execution_id: str) -> LeaseReading:
    reading = team.look_b.read(execution_id)
    feed(watch, reading)
    return reading


def past_expiry(team: Team, execution_id: str) -> tuple[LeaseWatch, Lease | None]:
    """B watches the lease, its clock moves past the expiry, and B reads it again: the watch and the
    lease it saw (the pair a takeover is conditioned on)."""
    watch = LeaseWatch()
    watched(team, watch, execution_id)
    team.clock_b.advance(LEASE_EXPIRY)
    return watch, watched(team, watch, execution_id).lease


def test_the_watch_counts_on_the_observers_clock_and_a_takeover_waits_for_expiry(
    team: Team, sim: EmbeddedSimulator
) -> None:
    execution_id = silent_drill(team, sim)
    watch = LeaseWatch()
    first = watched(team, watch, execution_id)
    assert first.lease is not None and first.lease.holder == team.a.desktop_id
    line = lease_line(watch, first)
    assert line.text == f"Driven by desktop {team.a.desktop_id} · heartbeat seen 0 s ago"
    assert not line.can_take_over
    with pytest.raises(TakeoverRefused, match="has not expired"):
        team.services_b.take_over(execution_id, first.lease, expired=watch.expired)
    assert lease_item(team.a.client, execution_id)["holder"] == {"S": team.a.desktop_id}  # type: ignore[index]

    team.clock_b.advance(160)
    line = lease_line(watch, watched(team, watch, execution_id))
    assert (
        line.text
        == f"No heartbeat from desktop {team.a.desktop_id} for 2 min 40 s · can be taken over in 20 s"
    )
    assert not line.can_take_over

    team.clock_b.advance(LEASE_EXPIRY - 160)
    reading = watched(team, watch, execution_id)
    line = lease_line(watch, reading)
    assert watch.expired and line.can_take_over and line.seen == reading.lease
    assert line.text == f"Desktop {team.a.desktop_id} silent for 3 min"


def test_a_takeover_someone_else_won_is_refused_and_changes_nothing_here(
    team: Team, sim: EmbeddedSimulator, dynamodb: DynamoDbEmulator
) -> None:
    execution_id = silent_drill(team, sim)
    watch = LeaseWatch()
    seen = watched(team, watch, execution_id).lease
    team.clock_b.advance(LEASE_EXPIRY)
    assert watched(team, watch, execution_id).lease == seen and watch.expired
    assert seen is not None
    events_before = len(journal.load_journal(team.b.db, execution_id))
    sync_lease.take_over(dynamodb.client(), TABLE, execution_id, "desk-c", seen.heartbeat, seen.holder)
    with pytest.raises(LeaseHeld, match="desk-c took the lease over first"):
        team.services_b.take_over(execution_id, seen, expired=True)
    assert foreign_writer(team.b.db, execution_id) == team.a.desktop_id, "still A's: nothing journaled"
    assert len(journal.load_journal(team.b.db, execution_id)) == events_before
    assert lease_item(team.a.client, execution_id)["holder"] == {"S": "desk-c"}  # type: ignore[index]
    # The local driver lock was given back with the refusal: B's watch now sees desk-c driving.
    line = lease_line(watch, watched(team, watch, execution_id))
    assert line.text == "Driven by desktop desk-c · heartbeat seen 0 s ago"


def test_a_run_this_desktop_holds_is_refused(team: Team, sim: EmbeddedSimulator) -> None:
    execution_id = silent_drill(team, sim)
    own = Lease(execution_id, team.b.desktop_id, 7)
    with pytest.raises(TakeoverRefused, match="driven by this desktop"):
        team.services_b.take_over(execution_id, own, expired=True)
    assert foreign_writer(team.b.db, execution_id) == team.a.desktop_id


def test_a_silent_desktops_drill_is_taken_over_and_finishes_with_every_server_launched_once(
    team: Team, sim: EmbeddedSimulator
) -> None:
    """End to end: A drove the drill's first wave and went silent; B watches past the expiry, takes
    over, and the drill finishes on B, every server launched once in the simulator."""
    execution_id = silent_drill(team, sim)
    launched_by_a = Counter(r.source_server_id for r in sim.backend.launch_records())
    assert sum(launched_by_a.values()) == 1  # the database wave
    watch, seen = past_expiry(team, execution_id)
    assert watch.expired and seen is not None

    session = team.services_b.take_over(execution_id, seen, expired=watch.expired)
    try:
        assert foreign_writer(team.b.db, execution_id) is None, "B's own run now"
        item = lease_item(team.a.client, execution_id)
        assert item is not None and item["holder"] == {"S": team.b.desktop_id}
        kinds = [entry.type for entry in journal.load_journal(team.b.db, execution_id)]
        assert "TakenOver" in kinds
        step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
        session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
        session.drive(lambda _snapshot: None, pace=instant_pace(sim))
        assert session.state.finished is Outcome.SUCCEEDED
    finally:
        session.close()
    launches = Counter(r.source_server_id for r in sim.backend.launch_records())
    assert len(launches) == 5 and set(launches.values()) == {1}, launches
    assert team.look_b.read(execution_id).finished
    with pytest.raises(TakeoverRefused, match="has ended"):
        team.services_b.take_over(execution_id, None, expired=False)


def test_the_old_driver_coming_back_does_not_drive_from_its_stale_journal(
    team: Team, sim: EmbeddedSimulator, dynamodb: DynamoDbEmulator
) -> None:
    """After B took the drill over, finished it and gave the lease back, A restarts and resumes the run
    it still holds as unfinished: the lease is free, but the team's table says B drove it on, so A's
    resume is refused before anything is journaled or launched, and the lease is free again."""
    execution_id = silent_drill(team, sim)
    watch, seen = past_expiry(team, execution_id)
    session = team.services_b.take_over(execution_id, seen, expired=watch.expired)
    try:
        step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
        session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
        session.drive(lambda _snapshot: None, pace=instant_pace(sim))
    finally:
        session.close()
    team.b.service.push()
    assert lease_item(team.a.client, execution_id).get("holder") is None  # type: ignore[union-attr]

    before = [entry.seq for entry in journal.load_journal(team.a.db, execution_id)]
    launches = len(sim.backend.launch_records())
    services_a = _services(team.a, sim, ExecutionLeases(target(dynamodb), team.a.desktop_id, db=team.a.db))
    with pytest.raises(DrivenElsewhere, match=f"desktop {team.b.desktop_id} took it over"):
        services_a.resume(execution_id)
    assert [entry.seq for entry in journal.load_journal(team.a.db, execution_id)] == before
    assert len(sim.backend.launch_records()) == launches
    assert lease_item(team.a.client, execution_id).get("holder") is None  # type: ignore[union-attr]


def test_a_cleanly_stopped_run_is_taken_over_with_nothing_to_guess(
    team: Team, sim: EmbeddedSimulator, dynamodb: DynamoDbEmulator
) -> None:
    """A drives to the gate and closes cleanly: its session pushes the journal, then gives the lease back
    saying how many events the table holds. B takes the free lease over; its pull brings exactly those
    events, so its TakenOver says the journal is complete and no chunk waits on DRS's records."""
    services_a = _services(team.a, sim, ExecutionLeases(target(dynamodb), team.a.desktop_id, db=team.a.db))
    first = drill_session(services_a)
    step_until(first, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
    first.close()
    execution_id = first.execution_id
    held_by_a = len(journal.load_journal(team.a.db, execution_id))
    assert sync_lease.read_state(team.a.client, TABLE, execution_id).released_events == held_by_a
    team.b.service.pull()
    watch = LeaseWatch()
    reading = watched(team, watch, execution_id)
    assert reading.lease is None and lease_line(watch, reading).can_take_over

    session = team.services_b.take_over(execution_id, None, expired=False)
    try:
        (taken,) = [e for e in journal.load_journal(team.b.db, execution_id) if e.type == "TakenOver"]
        assert taken.payload["journal_complete"] is True and taken.seq > held_by_a
        assert session.state.unchecked == ()
        session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
        session.drive(lambda _snapshot: None, pace=instant_pace(sim))
        assert session.state.finished is Outcome.SUCCEEDED
    finally:
        session.close()
    launches = Counter(r.source_server_id for r in sim.backend.launch_records())
    assert len(launches) == 5 and set(launches.values()) == {1}, launches


def test_a_takeover_refuses_to_drive_from_a_journal_the_table_does_not_hold(
    team: Team, sim: EmbeddedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pull could not bring this desktop's copy level with the team's table (here: its last events
    lost, and no pull): the takeover refuses before anything is journaled or launched, and gives the
    lease back with no count (this desktop drove nothing under it)."""
    execution_id = silent_drill(team, sim)
    with team.b.db.transaction() as conn:
        conn.execute(
            "DELETE FROM execution_events WHERE execution_id = ? AND seq > "
            "(SELECT MAX(seq) - 3 FROM execution_events WHERE execution_id = ?)",
            (execution_id, execution_id),
        )
    held = [entry.seq for entry in journal.load_journal(team.b.db, execution_id)]
    monkeypatch.setattr("drs_desktop.services.execution_takeover.pull_team_table", lambda *_: None)
    watch, seen = past_expiry(team, execution_id)
    launches = len(sim.backend.launch_records())
    with pytest.raises(TakeoverRefused, match="not the team table's"):
        team.services_b.take_over(execution_id, seen, expired=watch.expired)
    assert [entry.seq for entry in journal.load_journal(team.b.db, execution_id)] == held
    assert len(sim.backend.launch_records()) == launches
    state = sync_lease.read_state(team.a.client, TABLE, execution_id)
    assert state.lease is None and state.released_events is None
    assert foreign_writer(team.b.db, execution_id) == team.a.desktop_id


def test_the_team_learns_of_a_takeover_at_once(team: Team, sim: EmbeddedSimulator) -> None:
    """Right after the takeover, before any sync round, the table's head names B as the run's driver:
    A's next pull sets its own unpushed tail aside and shows the run as B's."""
    execution_id = silent_drill(team, sim)
    watch, seen = past_expiry(team, execution_id)
    session = team.services_b.take_over(execution_id, seen, expired=watch.expired)
    try:
        team.a.service.pull()
        assert foreign_writer(team.a.db, execution_id) == team.b.desktop_id
        kinds = [entry.type for entry in journal.load_journal(team.a.db, execution_id)]
        assert "TakenOver" in kinds
    finally:
        session.close()


def test_a_desktop_whose_takeover_never_reached_the_table_resumes_it_and_keeps_its_lease(
    team: Team, sim: EmbeddedSimulator, dynamodb: DynamoDbEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B took the run over but none of its pushes reached the table (its head still names A alone). B's
    lineage extends the table's, so B may resume it; and since its close could not push, B kept the
    lease (A, back meanwhile, meets LeaseHeld rather than a free lease over a head that names it)."""
    monkeypatch.setattr("drs_desktop.services.execution_takeover.push_execution", lambda *_a, **_k: None)
    monkeypatch.setattr("drs_desktop.services.execution_lease.push_execution", lambda *_a, **_k: None)
    execution_id = silent_drill(team, sim)
    leases_b = ExecutionLeases(target(dynamodb), team.b.desktop_id, db=team.b.db)
    services_b = _services(team.b, sim, leases_b)
    watch, seen = past_expiry(team, execution_id)
    services_b.take_over(execution_id, seen, expired=watch.expired).close()
    assert lease_item(team.a.client, execution_id)["holder"] == {"S": team.b.desktop_id}  # type: ignore[index]

    again = services_b.resume(execution_id)  # B's restart: its own lease, its own (unpushed) lineage
    try:
        assert again.execution_id == execution_id
    finally:
        again.close()
    services_a = _services(team.a, sim, ExecutionLeases(target(dynamodb), team.a.desktop_id, db=team.a.db))
    with pytest.raises(LeaseHeld):
        services_a.resume(execution_id)
