"""One drill across several DRS targets (accounts and Regions), end to end on the simulator.

Each target is its own world in the simulator (the access key picks the account, the signature the
Region); the run reaches each through its own gateway, made from the plan's target declaration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.accounts import account_of, credential_holds
from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.events import (
    CleanupRequested,
    CredentialsRenewed,
    Outcome,
    StartFailed,
    StartRequested,
    event_from_json,
)
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.state import ExecutionStatus, Mode, ServerStatus
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan, Wave
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.services.target_runs import TargetSessions
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.services.target_profiles import write_profiles
from tests.simulator.accounts_scenario import (
    MFA_CODE,
    MFA_SERIAL,
    RECOVERY,
    RECOVERY_KEY,
    STAGING,
    STAGING_KEY,
    TWO_ACCOUNTS,
    all_servers,
    client,
)

from .conftest import virtual_clock

EAST = PlanTarget("recovery-east", RECOVERY, "us-east-1", profile="recovery")
#: A role that needs an MFA code at each AssumeRole (the scenario's BreakGlass role).
GLASS = PlanTarget(
    "break-glass",
    RECOVERY,
    "us-west-2",
    role_arn=f"arn:aws:iam::{RECOVERY}:role/BreakGlass",
    source_profile="staging",
    mfa_serial=MFA_SERIAL,
)
WEST = PlanTarget("recovery-west", RECOVERY, "us-west-2", profile="recovery")
STAGE = PlanTarget("staging", STAGING, "us-east-1", profile="staging")


@pytest.fixture
def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedSimulator]:
    """The two-account simulator, and AWS profiles whose keys pick each account."""
    write_profiles(tmp_path, monkeypatch, {"recovery": RECOVERY_KEY, "staging": STAGING_KEY})
    with EmbeddedSimulator(TWO_ACCOUNTS, seed=3) as running:
        yield running


@pytest.fixture
def gateway(sim: EmbeddedSimulator) -> DrsGateway:
    """The connected target: the recovery account in us-east-1."""
    return DrsGateway(AwsTarget(profile="recovery", region="us-east-1", endpoint_url=sim.endpoint_url))


def server_ids(sim: EmbeddedSimulator, key: str, region: str) -> list[str]:
    return [s["sourceServerID"] for s in all_servers(client(sim, key=key, region=region))]


def backend(sim: EmbeddedSimulator, target: PlanTarget) -> Any:
    return sim.estate.backend(target.account, target.region)


def launched(sim: EmbeddedSimulator, target: PlanTarget) -> Counter[str]:
    return Counter(r.source_server_id for r in backend(sim, target).launch_records())


def spread_plan(sim: EmbeddedSimulator) -> tuple[RecoveryPlan, dict[str, list[str]]]:
    """Wave 1: two staging servers and one in recovery-east; wave 2 (after it): recovery-west's two."""
    found = {
        "staging": server_ids(sim, STAGING_KEY, "us-east-1")[:2],
        "east": server_ids(sim, RECOVERY_KEY, "us-east-1")[:1],
        "west": server_ids(sim, RECOVERY_KEY, "us-west-2")[:2],
    }
    plan = RecoveryPlan(
        "Spread",
        targets=(EAST, WEST, STAGE),
        waves=(
            Wave(
                "Data",
                target="staging",
                servers=(*found["staging"], *found["east"]),
                server_targets={found["east"][0]: "recovery-east"},
            ),
            Wave("Apps", target="recovery-west", servers=tuple(found["west"])),
        ),
    )
    return plan, found


def two_waves(name: str, target: PlanTarget, first: str, second: str) -> RecoveryPlan:
    """Wave One then wave Two, one server each, both in ``target``: two StartRecovery calls in a row."""
    return RecoveryPlan(
        name,
        targets=(target,),
        waves=(
            Wave("One", target=target.name, servers=(first,)),
            Wave("Two", target=target.name, servers=(second,)),
        ),
    )


def start(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, plan: RecoveryPlan) -> ExecutionRunner:
    save_plan(db, plan)
    clock, _ = virtual_clock(sim)
    request = RunRequest(plan_name=plan.name, mode=Mode.DRILL, poll_interval_seconds=30)
    prepared = prepare_execution(db, gateway, request)
    return create_execution(db, gateway, prepared, request, clock=clock)


def test_a_drill_across_two_accounts_and_two_regions_launches_each_server_once_in_its_own_target(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    plan, found = spread_plan(sim)
    _, sleep = virtual_clock(sim)
    runner = start(db, gateway, sim, plan)
    assert runner.state.spec.targets == ("recovery-east", "recovery-west", "staging")

    result = runner.run(sleep=sleep)

    assert result.outcome is Outcome.SUCCEEDED
    assert launched(sim, STAGE) == Counter({s: 1 for s in found["staging"]})
    assert launched(sim, EAST) == Counter({s: 1 for s in found["east"]})
    assert launched(sim, WEST) == Counter({s: 1 for s in found["west"]})
    # The second wave started only once the first had launched in both of its targets.
    first_done = max(
        r.launched_at for t in (STAGE, EAST) for r in backend(sim, t).launch_records() if r.launched_at
    )
    assert all(r.requested_at >= first_done for r in backend(sim, WEST).launch_records())
    # Every start is journaled with its target, so a resume and a cleanup reach the same account.
    starts = [
        event
        for entry in journal.load_journal(db, runner.execution_id)
        if isinstance(event := event_from_json(entry.payload), StartRequested)
    ]
    chunk_targets = {c.chunk_id: c.target for c in runner.state.chunks.values()}
    assert {e.chunk_id: e.target for e in starts} == chunk_targets
    assert sorted(chunk_targets.values()) == ["recovery-east", "recovery-west", "staging"]
    record = journal.get_execution(db, runner.execution_id)
    assert set(record.options["targets"]) == {"recovery-east", "recovery-west", "staging"}
    assert "secret" not in str(record.options)


def test_cleanup_after_a_drill_across_targets_terminates_its_instances_in_every_target(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    plan, _ = spread_plan(sim)
    _, sleep = virtual_clock(sim)
    runner = start(db, gateway, sim, plan)
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    assert len(drill_instances_running(runner.state)) == 5

    # Picked up again from the journal alone (a later session): the targets come from the record.
    again = ExecutionRunner.resume(db, gateway, runner.execution_id, clock=sim.clock.now)
    again.control(CleanupRequested(at=sim.clock.now(), by="ops"))
    again.run(sleep=sleep)

    assert drill_instances_running(again.state) == ()
    for target in (STAGE, EAST, WEST):
        drs = client(sim, key=STAGING_KEY if target is STAGE else RECOVERY_KEY, region=target.region)
        left = [
            i
            for i in drs.describe_recovery_instances()["items"]
            if i.get("ec2InstanceState") not in ("TERMINATED", "SHUTTING-DOWN")
        ]
        assert left == [], f"{target.name}: {left}"


def test_an_unreachable_target_waits_with_its_reason_while_the_others_launch_then_goes_on(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    plan, found = spread_plan(sim)
    _, sleep = virtual_clock(sim)
    runner = start(db, gateway, sim, plan)
    staging = backend(sim, STAGE).world.faults
    staging.drop_connections()  # every call to the staging account is lost on the way

    east = found["east"][0]
    runner.run(sleep=sleep, should_stop=lambda: runner.state.servers[east].status is ServerStatus.LAUNCHED)
    runner.run(sleep=sleep, max_steps=60)  # long enough for several looks at the lost target

    state = runner.state
    # A lost StartRecovery may have launched: the staging servers wait, reconciled, never failed blind.
    stage_servers = [state.servers[s] for s in found["staging"]]
    assert {s.status for s in stage_servers} == {ServerStatus.STARTING}
    chunk = state.chunks[stage_servers[0].chunk_id or ""]
    assert "ConnectionClosed" in chunk.reason
    assert account_of(state, "staging").poll.failures > 0
    assert account_of(state, "recovery-east").poll.failures == 0, "one target's failures pace only it"
    assert state.servers[east].status is ServerStatus.LAUNCHED
    assert launched(sim, STAGE) == Counter()
    assert launched(sim, WEST) == Counter(), "the next wave waits for the whole first wave"

    staging.clear()  # the network is back
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    assert launched(sim, STAGE) == Counter({s: 1 for s in found["staging"]})
    assert launched(sim, WEST) == Counter({s: 1 for s in found["west"]})


def test_a_role_session_that_expires_mid_run_is_assumed_again_and_is_never_a_failed_launch(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    """The staging account is reached through a role; its session expires between two waves, just
    before a StartRecovery. DRS refuses that call (ExpiredToken): nothing launched, no attempt spent, the
    role is assumed again by itself and the wave goes on; no person is asked."""
    stage_role = PlanTarget(
        "staging",
        STAGING,
        "us-east-1",
        role_arn=f"arn:aws:iam::{STAGING}:role/ReadOnly",
        source_profile="recovery",
    )
    first, second = server_ids(sim, STAGING_KEY, "us-east-1")[:2]
    plan = two_waves("Roles", stage_role, first, second)
    _, sleep = virtual_clock(sim)
    runner = start(db, gateway, sim, plan)
    second_chunk = runner.state.servers[second].chunk_id

    def expire_before_the_second_start(before: Any, after: Any, event: Any) -> None:
        if isinstance(event, StartRequested) and event.chunk_id == second_chunk and event.target:
            sim.estate.identities.expire()  # every STS session, the run's included

    runner.add_listener(expire_before_the_second_start)
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED

    assert launched(sim, stage_role) == Counter({first: 1, second: 1})
    refused = [
        event
        for entry in journal.load_journal(db, runner.execution_id)
        if isinstance(event := event_from_json(entry.payload), StartFailed)
    ]
    assert [(e.chunk_id, e.auth, e.target) for e in refused] == [(second_chunk, True, "staging")]
    assert "ExpiredToken" in refused[0].reason
    assert runner.state.chunks[second_chunk or ""].failures == 0
    assert credential_holds(runner.state) == ()
    assert len(sim.estate.identities.sessions()) >= 2, "the role was assumed again"


def test_an_mfa_role_with_nobody_to_give_a_code_holds_its_target_for_a_person(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    """Nobody can give an MFA code to this runner (no prompter): the first call to the target is refused
    for it; the target is held for a person and its servers stay pending, never failed."""
    mfa_target = GLASS
    west = server_ids(sim, RECOVERY_KEY, "us-west-2")[:1]
    plan = RecoveryPlan(
        "Glass", targets=(mfa_target,), waves=(Wave("Only", target="break-glass", servers=tuple(west)),)
    )
    save_plan(db, plan)
    clock, sleep = virtual_clock(sim)
    request = RunRequest(plan_name=plan.name, mode=Mode.DRILL, poll_interval_seconds=30)
    prepared = prepare_execution(db, gateway, request)
    assert "MFA" in prepared.unreachable["break-glass"]  # its explicit server needs no inventory
    runner = create_execution(db, gateway, prepared, request, clock=clock)

    result = runner.run(sleep=sleep, max_steps=50)

    assert result.status is ExecutionStatus.HELD
    (hold,) = credential_holds(runner.state)
    assert hold.target == "break-glass" and "MfaRequired" in hold.problem
    assert runner.state.servers[west[0]].status is ServerStatus.PENDING
    assert launched(sim, mfa_target) == Counter()


def test_credentials_only_a_person_can_renew_hold_their_target_before_they_expire(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    """An MFA role: the runner holds its target ten minutes before the role's session expires (a call at
    the expiry would be refused mid-wave); renewed, the role is assumed again with a new code."""
    mfa_target = GLASS
    first, second = server_ids(sim, RECOVERY_KEY, "us-west-2")[:2]
    plan = two_waves("Glass", mfa_target, first, second)
    save_plan(db, plan)
    codes: list[str] = []

    def prompter(challenge: Any) -> str:
        codes.append(challenge.mfa_serial)
        return MFA_CODE

    clock, sleep = virtual_clock(sim)
    # The scenario's recovery account runs one job at a time (its quota), as the engine is told here.
    one_job = Limits(max_concurrent_jobs=1)
    request = RunRequest(plan_name=plan.name, mode=Mode.DRILL, poll_interval_seconds=30, limits=one_job)
    sessions = TargetSessions(mfa_prompter=prompter)  # the app keeps one: one code serves it all
    prepared = prepare_execution(db, gateway, request, sessions=sessions)
    runner = create_execution(db, gateway, prepared, request, clock=clock, sessions=sessions)
    runner.run(sleep=sleep, should_stop=lambda: runner.state.servers[first].status is ServerStatus.LAUNCHED)
    asked = len(codes)
    assert asked == 1, "the run dialog's reads and the run itself share the target's credentials"
    glass = runner._by_target["break-glass"]  # the run's own gateway of the target
    expires = glass.credentials_expire_at()  # type: ignore[attr-defined]
    assert expires is not None

    runner.check_credentials(wall_now=expires - timedelta(minutes=5))

    (hold,) = credential_holds(runner.state)
    assert hold.target == "break-glass" and "only a person can renew them" in hold.problem
    assert runner.status is ExecutionStatus.HELD
    runner.submit(CredentialsRenewed(target="break-glass", at=sim.clock.now(), by="ops"))
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    assert len(codes) == asked + 1, "renewed: the role was assumed again with a new code"
    assert launched(sim, mfa_target) == Counter({first: 1, second: 1})
    # Over, with nothing left to call the target for: its expiry holds nobody.
    expires = runner._by_target["break-glass"].credentials_expire_at()  # type: ignore[attr-defined]
    runner.check_credentials(wall_now=expires - timedelta(minutes=5))
    assert credential_holds(runner.state) == ()
