"""A run in DRS through team sync, taken over by another desktop (issue 15 item 3: "attach again later, from
any desktop"): two desktop homes syncing through moto's DynamoDB server, one DRS simulator with the shop
plan published as a native plan, real boto3 clients over loopback HTTP. Desktop A starts the run in DRS,
drives it a while, and goes silent; desktop B pulls it, watches the lease expire on its own (injected)
clock, takes it over and follows the same native execution to its end. DRS runs the execution by itself
meanwhile: nothing B does may start a second one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_runs import NativeRunsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.controls import ControlAction, ControlRequest, RunChoice
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.state import (
    ExecutionState,
    ExecutionStatus,
    JobStatus,
    Mode,
    ServerStatus,
    WavePhase,
    spec_from_json,
)
from drs_desktop.domain.engine.takeover import settling_anywhere
from drs_desktop.domain.lease import LEASE_EXPIRY, Lease, LeaseWatch
from drs_desktop.domain.views.lease_view import feed
from drs_desktop.services.execution_lease import ExecutionLeases
from drs_desktop.services.execution_session import ExecutionServices, ExecutionSession
from drs_desktop.services.execution_takeover import LeaseLook
from drs_desktop.services.executions import RUN_IN_KEY
from drs_desktop.services.journal_replay import replayed_state
from drs_desktop.services.native_publish import publish
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.plans import save_plan
from drs_desktop.storage.sync_apply import foreign_writer
from tests.native_runs.conftest import PLAN, shop_plan
from tests.sync.desktops import Desktop, desktop, init_table, target
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.sync.feed_helpers import FakeClock
from tests.sync.lease_helpers import lease_item
from tests.ui.execution_helpers import step_until

START = "StartRecoveryPlanExecution"
DRILL = RunChoice(PLAN, Mode.DRILL)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@dataclass
class Team:
    a: Desktop
    b: Desktop
    services_a: ExecutionServices
    services_b: ExecutionServices
    look_b: LeaseLook
    clock_b: FakeClock  # desktop B's monotonic clock, the observer's
    drs: DrsGateway  # the test's own look at DRS

    @property
    def runs(self) -> NativeRunsGateway:
        return NativeRunsGateway(self.drs)


def _gateway(sim: EmbeddedSimulator) -> DrsGateway:
    return DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))


def _services(home: Desktop, sim: EmbeddedSimulator, leases: ExecutionLeases) -> ExecutionServices:
    return ExecutionServices(
        home.db,
        _gateway(sim),
        clock=sim.clock.now,
        operator=home.name,
        poll_interval_seconds=30,
        leases=leases,
    )


@pytest.fixture
def team(tmp_path: Path, dynamodb: DynamoDbEmulator, sim: EmbeddedSimulator) -> Iterator[Team]:
    """Desktops A and B on one table; the shop plan saved on A and published to DRS from there."""
    init_table(dynamodb)
    a, b = desktop(tmp_path, "a", dynamodb), desktop(tmp_path, "b", dynamodb)
    drs = _gateway(sim)
    save_plan(a.db, shop_plan(sim))
    published = publish(a.db, NativeRunsGateway(drs), PLAN, sleep=lambda _: None, clock=sim.clock.now)
    assert published.outcome == "published", published
    leases_a = ExecutionLeases(target(dynamodb), a.desktop_id)
    leases_b = ExecutionLeases(target(dynamodb), b.desktop_id)
    clock_b = FakeClock()
    look = LeaseLook(b.db, lambda: leases_b, monotonic=clock_b)
    services_a, services_b = _services(a, sim, leases_a), _services(b, sim, leases_b)
    try:
        yield Team(a, b, services_a, services_b, look, clock_b, drs)
    finally:
        look.close()
        for closing in (services_a, services_b, drs):
            closing.close()
        a.db.close()
        b.db.close()


def start_in_drs(team: Team) -> ExecutionSession:
    """A starts the shop drill as a run in DRS, the way the run dialog does."""
    preparation = team.services_a.prepare_native(DRILL)
    assert preparation.report.ok, [c.message for c in preparation.report.failures]
    assert preparation.active == ()
    return team.services_a.start(preparation.prepared, DRILL)


def drive_until(
    session: ExecutionSession, sim: EmbeddedSimulator, done: Callable[[ExecutionState], bool]
) -> None:
    """Drive the session on the test's thread, DRS's clock moved by each sleep, until ``done`` holds
    (a bounded number of steps: a run that never gets there fails, it does not hang)."""
    step_until(session, sim, lambda _snapshot: done(session.state))


def drive_to_the_end(session: ExecutionSession, sim: EmbeddedSimulator) -> ExecutionState:
    drive_until(session, sim, lambda s: s.finished is not None)
    return session.state


def go_silent(session: ExecutionSession) -> None:
    """A's keeper stops beating without giving the lease back (a crash, a lost network); its loop ends."""
    keeper = session.lease
    assert keeper is not None
    keeper.stop(release=False)
    assert keeper.join(10)
    session.close()


def past_expiry(team: Team, execution_id: str) -> tuple[LeaseWatch, Lease | None]:
    """B watches the lease, its clock moves past the expiry, and B reads it again."""
    watch = LeaseWatch()
    feed(watch, team.look_b.read(execution_id))
    team.clock_b.advance(LEASE_EXPIRY)
    reading = team.look_b.read(execution_id)
    feed(watch, reading)
    return watch, reading.lease


def executions_of_plan(team: Team, state: ExecutionState) -> list[str]:
    assert state.spec.native is not None
    return [e.arn for e in team.runs.list_executions(state.spec.native.plan_arn)]


def state_on(home: Desktop, execution_id: str) -> ExecutionState:
    return replayed_state(home.db, journal.get_execution(home.db, execution_id))


def journal_types(home: Desktop, execution_id: str) -> list[str]:
    return [entry.type for entry in journal.load_journal(home.db, execution_id)]


def wait_in_drs_for(team: Team, sim: EmbeddedSimulator, arn: str, step_name: str) -> str:
    """Nobody watches: DRS's clock goes on until the native step ``step_name`` shows its job; its ID."""
    for _ in range(120):
        sim.clock.advance(30)
        step = next(s for s in team.runs.list_execution_steps(arn) if s.name == step_name)
        jobs = {s.job_id for s in step.servers if s.job_id}
        if jobs:
            (job_id,) = jobs
            return job_id
    raise AssertionError(f"DRS never started a job for step {step_name!r}")


def jobs_in_drs(team: Team, arn: str) -> set[str]:
    """Every job the native execution's steps name, as DRS lists them."""
    return {s.job_id for step in team.runs.list_execution_steps(arn) for s in step.servers if s.job_id}


def silent_run_in_drs(
    team: Team, sim: EmbeddedSimulator, *, push_when: Callable[[ExecutionState], bool]
) -> tuple[str, ExecutionState]:
    """A starts the run in DRS and drives it until its first wave is launching; it pushes once
    ``push_when`` held on its way (at the end at the latest), then goes silent. B pulls. The id, and
    the state A last knew."""
    session = start_in_drs(team)
    drive_until(session, sim, lambda s: push_when(s) or s.waves[0].phase is WavePhase.LAUNCHING)
    team.a.service.push()
    drive_until(session, sim, lambda s: s.waves[0].phase is WavePhase.LAUNCHING)
    state_a = session.state
    go_silent(session)
    team.b.service.pull()
    assert foreign_writer(team.b.db, session.execution_id) == team.a.desktop_id
    return session.execution_id, state_a


def follow_to_the_end(team: Team, sim: EmbeddedSimulator, execution_id: str) -> ExecutionState:
    """B watches the lease past its expiry, takes the run over and drives it until it has ended."""
    watch, seen = past_expiry(team, execution_id)
    assert watch.expired and seen is not None and seen.holder == team.a.desktop_id
    session = team.services_b.take_over(execution_id, seen, expired=watch.expired)
    try:
        assert foreign_writer(team.b.db, execution_id) is None, "B's own run now"
        assert lease_item(team.b.client, execution_id)["holder"] == {"S": team.b.desktop_id}  # type: ignore[index]
        return drive_to_the_end(session, sim)
    finally:
        session.close()


def assert_followed_to_the_end(team: Team, state: ExecutionState, arn: str) -> None:
    """SUCCEEDED on the one native execution, every job DRS started for it followed to its end."""
    assert state.finished is Outcome.SUCCEEDED
    assert (
        state.native is not None and state.native.execution_arn == arn and state.native.status == "COMPLETED"
    )
    assert executions_of_plan(team, state) == [arn], "one execution of the native plan in DRS"
    assert [w.phase for w in state.waves] == [WavePhase.COMPLETED] * 3
    assert set(state.jobs) == jobs_in_drs(team, arn) and len(state.jobs) == 3
    assert all(j.status is JobStatus.COMPLETED and j.log_version == j.version for j in state.jobs.values())
    assert len(drill_instances_running(state)) == 5


def test_a_silent_desktops_run_in_drs_is_taken_over_and_followed_to_its_end_and_cleaned_up(
    team: Team, sim: EmbeddedSimulator
) -> None:
    """Issue 15 item 3 end to end: A starts the drill in DRS and goes silent while the first wave
    launches; DRS goes on alone (the app wave's job starts while nobody watches); B sees the run as a
    run in DRS, takes it over once the lease expired, follows the same execution to its end, and its
    cleanup terminates exactly the drill's instances."""
    execution_id, state_a = silent_run_in_drs(team, sim, push_when=lambda _s: False)
    arn = state_a.native.execution_arn if state_a.native else ""
    assert arn and len(state_a.jobs) == 1  # the database wave's job

    # B shows it as a run in DRS: its record and spec say so, its journal names the execution.
    record = journal.get_execution(team.b.db, execution_id)
    assert record.options[RUN_IN_KEY] == "DRS"
    spec = spec_from_json(record.spec)
    assert spec.native is not None and spec.native.plan_arn == state_a.spec.native.plan_arn  # type: ignore[union-attr]
    on_b = state_on(team.b, execution_id)
    assert on_b.native is not None and on_b.native.execution_arn == arn

    unwatched = wait_in_drs_for(team, sim, arn, "App")
    assert unwatched not in state_a.jobs and unwatched not in on_b.jobs
    starts = sim.backend.request_counts().get(START, 0)

    state = follow_to_the_end(team, sim, execution_id)
    assert_followed_to_the_end(team, state, arn)
    assert unwatched in state.jobs, "the job DRS started while nobody watched is followed"
    assert sim.backend.request_counts().get(START, 0) == starts == 1, "B started nothing in DRS"
    assert sim.backend.request_counts().get("StartRecovery", 0) == 0
    assert "TakenOver" in journal_types(team.b, execution_id)

    # Another drill, not this run's, whose instance the cleanup must leave alone.
    other = team.drs.start_recovery([sim.backend.server_id_of("crm-web-01")], is_drill=True, tags={})
    sim.clock.advance(3600)
    sim.backend.settle()
    before = {i.instance_id: i.job_id for i in sim.backend.world.instances.values()}
    ours = {instance for instance, job in before.items() if job in state.jobs}
    assert ours == set(drill_instances_running(state)) and len(ours) == 5
    assert other.job_id in before.values()

    cleanup = team.services_b.resume(execution_id)  # a finished drill, picked up again for its cleanup
    try:
        cleanup.submit(ControlRequest(ControlAction.CLEANUP))
        drive_until(cleanup, sim, lambda s: not drill_instances_running(s))
    finally:
        cleanup.close()
    sim.clock.advance(3600)
    sim.backend.settle()
    after = set(sim.backend.world.instances)
    assert after == set(before) - ours, "exactly the drill's instances were terminated"
    assert executions_of_plan(team, state) == [arn]


def test_a_takeover_from_an_incomplete_journal_checks_nothing_and_starts_no_second_execution(
    team: Team, sim: EmbeddedSimulator
) -> None:
    """A pushed right after DRS answered its start, then read the execution on and adopted the first
    wave's job, none of which reached the table. B's journal lacks that tail: its takeover is not
    complete, yet no chunk waits on DRS's records (a run in DRS starts no job itself), and B follows the
    execution A started, never a second one."""
    execution_id, state_a = silent_run_in_drs(
        team, sim, push_when=lambda s: s.native is not None and bool(s.native.execution_arn)
    )
    arn = state_a.native.execution_arn if state_a.native else ""
    held_by_a = journal_types(team.a, execution_id)
    on_b = state_on(team.b, execution_id)
    assert len(journal_types(team.b, execution_id)) < len(held_by_a), "A journaled after its last push"
    assert on_b.native is not None and on_b.native.execution_arn == arn and not on_b.jobs
    assert state_a.jobs, "A had adopted the first wave's job, unpushed"
    wait_in_drs_for(team, sim, arn, "App")

    watch, seen = past_expiry(team, execution_id)
    session = team.services_b.take_over(execution_id, seen, expired=watch.expired)
    try:
        (taken,) = [e for e in journal.load_journal(team.b.db, execution_id) if e.type == "TakenOver"]
        assert taken.payload["journal_complete"] is False
        assert session.state.unchecked == () and session.state.takeovers[-1].unchecked == ()
        assert not settling_anywhere(session.state), "a run in DRS has no check of DRS's records to wait for"
        state = drive_to_the_end(session, sim)
    finally:
        session.close()
    assert_followed_to_the_end(team, state, arn)
    assert set(state_a.jobs) < set(state.jobs)
    counts = sim.backend.request_counts()
    assert counts.get(START, 0) == 1, "B sent no StartRecoveryPlanExecution"
    assert counts.get("StartRecovery", 0) == 0


class _Crash(BaseException):
    """The desktop dies: nothing after it is journaled (not an ``Exception``: nothing catches it)."""


def _crash_after_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """StartRecoveryPlanExecution reaches DRS (it starts the execution), then A dies before the answer
    is journaled."""
    send = NativeRunsGateway.start_execution

    def start_then_die(self: NativeRunsGateway, *args: object, **kwargs: object) -> object:
        send(self, *args, **kwargs)  # type: ignore[arg-type]
        raise _Crash

    monkeypatch.setattr(NativeRunsGateway, "start_execution", start_then_die)


@pytest.mark.parametrize("cut_off", ["answer lost", "desktop died"])
def test_a_start_cut_off_on_the_silent_desktop_is_found_by_the_new_driver_before_any_resend(
    team: Team, sim: EmbeddedSimulator, monkeypatch: pytest.MonkeyPatch, cut_off: str
) -> None:
    """A journaled ``NativeStartRequested`` and never learnt what DRS did (the answer lost, or A died
    with the call out), pushed, and stopped. DRS did start the execution. B takes over, looks for the
    execution tagged with the run before sending anything (a client token may have lapsed by then), finds
    it, and follows that one execution to its end."""
    if cut_off == "answer lost":
        sim.faults.lose_answer(START, count=1)
    else:
        _crash_after_the_call(monkeypatch)
    session = start_in_drs(team)
    try:
        drive_until(session, sim, lambda s: s.native is not None and s.native.start_attempts == 1)
    except _Crash:
        monkeypatch.undo()
    execution_id = session.execution_id
    state_a = state_on(team.a, execution_id)
    assert state_a.native is not None and state_a.native.start_attempts == 1
    assert not state_a.native.execution_arn, "A never learnt which execution DRS started"
    kinds = journal_types(team.a, execution_id)
    assert kinds[-1] == ("NativeStartFailed" if cut_off == "answer lost" else "NativeStartRequested")
    plan_arn = state_a.spec.native.plan_arn if state_a.spec.native else ""
    (started,) = team.runs.list_executions(plan_arn)  # DRS did start it
    go_silent(session)
    team.a.service.push()
    team.b.service.pull()
    assert journal_types(team.b, execution_id) == kinds

    state = follow_to_the_end(team, sim, execution_id)
    assert_followed_to_the_end(team, state, started.arn)
    assert sim.backend.request_counts().get(START, 0) == 1, "found, never sent again"
    assert "NativeLooked" in journal_types(team.b, execution_id)
    assert state.native is not None and state.native.start_attempts == 1
    assert sim.backend.request_counts().get("StartRecovery", 0) == 0


def test_a_run_in_drs_that_failed_while_nobody_watched_is_held_on_the_new_driver_and_retried_at_once(
    team: Team, sim: EmbeddedSimulator
) -> None:
    """DRS fails the app step after A went silent. B takes the run over from a journal that is not
    complete; the takeover's check of DRS's records (which refuses a local run's retry until it settles)
    has nothing to check for a run in DRS, so B's operator retries the failed step through DRS at once,
    and DRS launches again only the server that failed."""
    sim.faults.fail_launch(servers=["shop-app-02"])
    execution_id, state_a = silent_run_in_drs(team, sim, push_when=lambda _s: False)
    arn = state_a.native.execution_arn if state_a.native else ""
    assert state_a.native is not None and state_a.native.status == "IN_PROGRESS"
    for _ in range(240):  # nobody watches while DRS works, and fails
        sim.clock.advance(30)
        if team.runs.get_execution(arn).status == "FAILED":
            break
    assert team.runs.get_execution(arn).status == "FAILED"
    sim.faults.clear()

    watch, seen = past_expiry(team, execution_id)
    session = team.services_b.take_over(execution_id, seen, expired=watch.expired)
    try:
        step_until(session, sim, lambda s: s.status is ExecutionStatus.HELD)
        assert session.state.takeovers[-1].journal_complete is False
        assert session.submit(ControlRequest(ControlAction.RETRY, wave_index=1))
        state = drive_to_the_end(session, sim)
    finally:
        session.close()
    assert state.finished is Outcome.SUCCEEDED
    assert executions_of_plan(team, state) == [arn]
    app1, app2 = (sim.backend.server_id_of(h) for h in ("shop-app-01", "shop-app-02"))
    assert state.servers[app2].status is ServerStatus.LAUNCHED and state.servers[app2].retries == 1
    assert state.servers[app1].retries == 0
    launched = Counter(r.source_server_id for r in sim.backend.launch_records() if r.launched_at)
    assert set(launched.values()) == {1} and len(launched) == 5, launched
    assert "retry sent" in [a.action for a in state.audit]
