"""services.extended_servers on the two-account simulator, over loopback with the real boto3 client:
list a staging account's extensible servers, extend some, a partial failure, a lost answer, an already
extended server, and the extended servers in the recovery account's cached inventory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.connection import AccessKeyPair
from drs_desktop.domain.drs.extended import ExtendStatus
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import validate_plan
from drs_desktop.services.extended_servers import (
    StagingAccountError,
    extend_servers,
    list_extensible,
    staging_accounts,
)
from drs_desktop.services.inventory import cached_inventory
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture  # noqa: F401
from tests.simulator import accounts_scenario
from tests.simulator.accounts_scenario import RECOVERY, RECOVERY_KEY, STAGING, STAGING_KEY

sim = accounts_scenario.two_accounts_sim


def gateway_of(sim: EmbeddedSimulator, key: str = RECOVERY_KEY) -> DrsGateway:
    target = AwsTarget(None, "us-east-1", sim.endpoint_url, credentials=AccessKeyPair(key, "secret"))
    return DrsGateway(target, read_max_attempts=1)


@pytest.fixture
def recovery(sim: EmbeddedSimulator) -> Iterator[DrsGateway]:
    gateway = gateway_of(sim)
    yield gateway
    gateway.close()


def staging_ids(sim: EmbeddedSimulator) -> dict[str, str]:
    """Hostname -> server ID in the staging account."""
    world = sim.estate.backend(STAGING, "us-east-1").world
    return {server.hostname: server.server_id for server in world.servers.values()}


def test_the_gateway_lists_and_parses_extensible_servers(
    sim: EmbeddedSimulator, recovery: DrsGateway
) -> None:
    servers = recovery.list_extensible_source_servers(STAGING)
    assert sorted(s.hostname for s in servers) == ["stg-00001", "stg-00002", "stg-00003", "stg-00004"]
    ids = staging_ids(sim)
    assert {s.source_server_id for s in servers} == set(ids.values())
    assert all(
        s.staging_account_id == STAGING and s.arn.startswith("arn:aws:drs:us-east-1:") for s in servers
    )
    assert recovery.list_staging_accounts() == []  # none extended yet: DRS lists none

    created = recovery.create_extended_source_server(servers[0].arn, {"Team": "ops"})
    assert created.is_extended and created.staging_account_id == STAGING
    assert created.staging_source_server_arn == servers[0].arn
    assert created.extension_status == "EXTENDED" and created.tags["Team"] == "ops"
    assert created.arn.split(":")[4] == RECOVERY
    assert (
        created.extended_from()
        == f"extended from staging account {STAGING} (server {servers[0].source_server_id})"
    )
    assert recovery.list_staging_accounts() == [STAGING]
    # The staging account sees its own server as not extended: nothing kept of a NOT_EXTENDED stagingArea.
    staging = gateway_of(sim, STAGING_KEY)
    try:
        own = staging.describe_source_servers([servers[0].source_server_id])
    finally:
        staging.close()
    assert own[0].staging_account_id == "" and not own[0].is_extended


def test_extend_two_then_they_are_in_the_cached_inventory(
    db: Database, sim: EmbeddedSimulator, recovery: DrsGateway
) -> None:
    ids = staging_ids(sim)
    steps: list[str] = []
    report = extend_servers(
        db, recovery, STAGING, [ids["stg-00001"], ids["stg-00003"]], progress=steps.append
    )

    assert report.ok and [o.status for o in report.outcomes] == [ExtendStatus.EXTENDED] * 2
    assert [o.hostname for o in report.outcomes] == ["stg-00001", "stg-00003"]
    assert report.summary() == f"2 extended (from staging account {STAGING})"
    assert any(step.startswith("Extending stg-00001 (1 of 2)") for step in steps)
    cached = cached_inventory(db, account_id=RECOVERY, region="us-east-1")
    assert cached is not None and report.inventory == cached
    extended = {s.hostname: s for s in cached.servers if s.is_extended}
    assert sorted(extended) == ["stg-00001", "stg-00003"]
    assert len(cached.servers) == 5  # the recovery account's 3 own servers and the 2 extended
    one = extended["stg-00001"]
    assert one.staging_account_id == STAGING and one.staging_server_id == ids["stg-00001"]
    assert one.source_server_id == report.outcomes[0].extended_server_id != ids["stg-00001"]
    # It mirrors its staging server's replication (the simulator's DRS-like behaviour).
    staging_server = sim.estate.backend(STAGING, "us-east-1").world.servers[ids["stg-00001"]]
    assert one.replication_state == staging_server.replication_state
    # Listed again: the two are extended, two are left to extend; DRS now lists the staging account.
    listing = list_extensible(recovery, STAGING)
    assert [s.hostname for s in listing.extensible] == ["stg-00002", "stg-00004"]
    assert [s.hostname for s in listing.extended] == ["stg-00001", "stg-00003"]
    assert staging_accounts(recovery) == (STAGING,)


def test_a_plan_names_an_extended_server_by_its_recovery_account_id(
    db: Database, sim: EmbeddedSimulator, recovery: DrsGateway
) -> None:
    ids = staging_ids(sim)
    report = extend_servers(db, recovery, STAGING, [ids["stg-00002"]])
    extended_id = report.outcomes[0].extended_server_id
    inventory = cached_inventory(db, account_id=RECOVERY)
    plan = RecoveryPlan(name="Staged", waves=(Wave(name="One", servers=(extended_id,)),))
    assert [str(p) for p in validate_plan(plan, inventory)] == []
    # The staging server's own ID is not a server of this account: the plan is told so.
    wrong = RecoveryPlan(name="Wrong", waves=(Wave(name="One", servers=(ids["stg-00002"],)),))
    assert any(ids["stg-00002"] in str(p) for p in validate_plan(wrong, inventory))


def test_partial_failure_keeps_the_others_and_says_why(
    db: Database, sim: EmbeddedSimulator, recovery: DrsGateway
) -> None:
    ids = staging_ids(sim)
    extend_servers(db, recovery, STAGING, [ids["stg-00004"]])  # extended before this request
    faults = sim.estate.backend(RECOVERY, "us-east-1").faults
    faults.throttle("CreateExtendedSourceServer", retry_after=5, count=1)  # refused: the first call sent
    asked = [ids["stg-00001"], ids["stg-00002"], ids["stg-00004"], "s-00000000000000bad", ids["stg-00002"]]

    report = extend_servers(db, recovery, STAGING, asked)

    by_id = {o.staging_server_id: o for o in report.outcomes}
    assert len(report.outcomes) == 4  # the repeated ID is asked once
    assert by_id[ids["stg-00001"]].status is ExtendStatus.FAILED
    assert "ThrottlingException" in by_id[ids["stg-00001"]].message
    assert by_id[ids["stg-00002"]].status is ExtendStatus.EXTENDED
    already = by_id[ids["stg-00004"]]
    assert already.status is ExtendStatus.ALREADY_EXTENDED and already.extended_server_id
    assert already.describe().endswith(f"already extended as {already.extended_server_id}")
    bad = by_id["s-00000000000000bad"]
    assert bad.status is ExtendStatus.FAILED and "not an extensible server" in bad.message
    assert not report.ok
    assert report.summary() == f"1 extended, 1 already extended, 2 failed (from staging account {STAGING})"
    assert report.inventory is not None
    hostnames = sorted(s.hostname for s in report.inventory.servers if s.is_extended)
    assert hostnames == ["stg-00002", "stg-00004"]


def test_a_lost_answer_is_settled_by_looking_not_by_sending_again(
    db: Database, sim: EmbeddedSimulator, recovery: DrsGateway
) -> None:
    ids = staging_ids(sim)
    faults = sim.estate.backend(RECOVERY, "us-east-1").faults
    faults.lose_answer("CreateExtendedSourceServer", how="5xx", count=1)  # made, answer lost
    report = extend_servers(db, recovery, STAGING, [ids["stg-00003"]])
    assert sum(faults.injected().values()) == 1  # the answer was lost indeed
    assert report.outcomes[0].status is ExtendStatus.EXTENDED and report.outcomes[0].extended_server_id

    faults.server_errors("CreateExtendedSourceServer", count=1)  # a 5xx before anything was made
    failed = extend_servers(db, recovery, STAGING, [ids["stg-00001"]])
    assert sum(faults.injected().values()) == 2
    assert failed.outcomes[0].status is ExtendStatus.FAILED
    assert "may or may not" in failed.outcomes[0].message
    assert ids["stg-00001"] in {s.source_server_id for s in list_extensible(recovery, STAGING).extensible}


def test_a_staging_account_that_is_not_one_is_refused(
    db: Database, sim: EmbeddedSimulator, recovery: DrsGateway
) -> None:
    with pytest.raises(StagingAccountError, match="not an AWS account ID"):
        list_extensible(recovery, "2222-2222-2222")
    with pytest.raises(StagingAccountError, match="at least one server"):
        extend_servers(db, recovery, STAGING, [" "])
    # DRS refuses an account that is not linked to this one as a staging account.
    from drs_desktop.domain.drs.errors import DrsAccessDenied

    with pytest.raises(DrsAccessDenied, match="333333333333"):
        list_extensible(recovery, "333333333333")


def test_preflight_of_a_plan_with_an_extended_server_passes(
    db: Database, sim: EmbeddedSimulator, recovery: DrsGateway
) -> None:
    from drs_desktop.domain.engine.state import Mode
    from drs_desktop.domain.preflight.checks import CheckStatus
    from drs_desktop.services.executions import RunRequest, prepare_execution
    from drs_desktop.services.preflight import preflight
    from drs_desktop.storage.plans import save_plan

    ids = staging_ids(sim)
    report = extend_servers(db, recovery, STAGING, [ids["stg-00001"]])
    assert report.inventory is not None
    extended_id = report.outcomes[0].extended_server_id
    own = next(s.source_server_id for s in report.inventory.servers if not s.is_extended)
    plan = RecoveryPlan(name="Mixed", waves=(Wave(name="One", servers=(own, extended_id)),))
    save_plan(db, plan)
    run = RunRequest(plan_name="Mixed", mode=Mode.DRILL)
    prepared = prepare_execution(db, recovery, run)
    checked = preflight(db, recovery, prepared, run, now=sim.clock.now())
    # (The clock check warns: the simulator's virtual time is not the desktop's.)
    failing = [c for c in checked.checks if c.status is not CheckStatus.PASS and c.name != "clock"]
    assert checked.ok and failing == []
    assert extended_id in checked.launch_configs  # read and checked like any server of the account
    requests = [c.request() or {} for c in checked.start_calls]
    assert [r.get("sourceServers") for r in requests] == [
        [{"sourceServerID": own}, {"sourceServerID": extended_id}]
    ]


def test_the_service_extends_only_into_the_target_the_servers_were_listed_for(
    db: Database, sim: EmbeddedSimulator, memory_keyring: object
) -> None:
    """An Extend queued behind a switch of target would create the servers in an account nobody chose:
    the service extends only what it listed in the target in force."""
    from drs_desktop.secrets import SecretStore
    from drs_desktop.services.connection import ConnectionResolver
    from drs_desktop.services.extended_servers import ExtendedServersService, ExtendTargetChanged

    resolver = ConnectionResolver(db, SecretStore(), demo_endpoint=sim.endpoint_url, demo_region="us-east-1")
    service = ExtendedServersService(db, resolver)
    chosen = [staging_ids(sim)["stg-00002"]]
    try:
        with pytest.raises(ExtendTargetChanged, match="list the staging account's servers again"):
            service.extend(STAGING, chosen)
        assert service.extensible(STAGING).extensible
        report = service.extend(STAGING, chosen)
    finally:
        service.close()
    assert [o.status for o in report.outcomes] == [ExtendStatus.EXTENDED]
