"""Read calls of ``DrsGateway`` against the simulator over loopback HTTP with the real boto3 client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.drs.errors import DrsNotFound, DrsThrottled, DrsUnavailable, DrsUninitialized
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import Timings

from .conftest import HEALTHY, ids_of, small_scenario, target_of


def test_caller_identity_comes_from_sts_on_the_simulator(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    identity = gateway.caller_identity()
    assert identity.account == sim.account_id == "123456789012"
    assert identity.arn.startswith("arn:aws:iam::123456789012:")
    assert identity.user_id


def test_inventory_reads_every_page(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    inventory = gateway.inventory()
    assert len(inventory.servers) == 10  # 4 pages of 3
    assert {s.source_server_id for s in inventory.servers} == set(sim.backend.source_server_ids())
    assert inventory.account_id == "123456789012" and inventory.region == "us-east-1"
    assert inventory.fetched_at is not None and inventory.fetched_at.tzinfo is not None
    hostnames = [s.hostname for s in inventory.servers]
    assert hostnames == sorted(hostnames, key=str.lower)
    web = inventory.by_id()[sim.backend.server_id_of("shop-web-01")]
    assert web.replication_state == "CONTINUOUS"
    assert web.lag_seconds is not None and 2 <= web.lag_seconds <= 20
    assert web.tags["Application"] == "shop" and web.tags["Tier"] == "web"
    assert web.os and web.arn.endswith(web.source_server_id)
    assert web.last_launch_status == "NOT_STARTED"
    stalled = inventory.by_id()[sim.backend.server_id_of("legacy-fax")]
    assert stalled.replication_state == "STALLED" and stalled.lag_seconds is not None
    assert stalled.lag_seconds >= 7200
    assert inventory.matching({"Application": "shop", "Tier": "web"}) == tuple(
        ids_of(sim, "shop-web-01", "shop-web-02")
    )


def test_source_servers_by_id(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    wanted = ids_of(sim, "shop-web-01", "crm-web-01")
    found = gateway.describe_source_servers([*wanted, "s-0000000000000dead", wanted[0]])
    assert sorted(s.source_server_id for s in found) == sorted(wanted)  # unknown absent, duplicate once
    assert gateway.describe_source_servers([]) == []  # never an empty filter (= everything)


def test_launch_configuration_and_not_found(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    (server_id,) = ids_of(sim, "shop-web-01")
    config = gateway.launch_configuration(server_id)
    assert config.source_server_id == server_id
    assert config.launch_disposition in ("STARTED", "STOPPED")
    with pytest.raises(DrsNotFound) as caught:
        gateway.launch_configuration("s-0000000000000dead")
    assert caught.value.definite and caught.value.code == "ResourceNotFoundException"


def test_launch_actions_configured_by_the_scenario(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    (server_id,) = ids_of(sim, "shop-web-01")
    actions = gateway.launch_actions(server_id)
    assert [a.name for a in actions] == ["Verify services"]
    assert actions[0].action_code == "AWS-RunShellScript" and actions[0].order == 2 and actions[0].active


def test_point_in_time_snapshots(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    (server_id,) = ids_of(sim, "shop-web-01")
    sim.clock.advance(3 * 3600)
    snapshots = gateway.recovery_snapshots(server_id)
    assert len(snapshots) > 6  # every 10 minutes for an hour, hourly before: several pages of 3
    assert all(s.server_id == server_id and s.snapshot_id.startswith("pit-") for s in snapshots)
    expected = [s.expected_timestamp for s in snapshots if s.expected_timestamp is not None]
    assert len(expected) == len(snapshots) and expected == sorted(expected, reverse=True)  # newest first
    assert all(s.timestamp is None or s.timestamp.tzinfo is not None for s in snapshots)

    now = datetime(2026, 1, 5, 8, tzinfo=UTC) + timedelta(hours=3)
    point = now - timedelta(minutes=45)
    earlier = gateway.recovery_snapshots(server_id, before=point)
    assert earlier and all(
        s.expected_timestamp is not None and s.expected_timestamp <= point for s in earlier
    )
    assert len(earlier) < len(snapshots)


def test_a_snapshot_being_taken_has_no_timestamp() -> None:
    with EmbeddedSimulator(small_scenario(timings={"snapshot": [30, 30]})) as sim:
        _snapshot_in_progress(sim, DrsGateway(target_of(sim)))


def _snapshot_in_progress(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    (server_id,) = ids_of(sim, HEALTHY[0])
    job = gateway.start_recovery([server_id], is_drill=True, tags={})
    # The server stays PENDING for minutes; then step through seconds until its on-demand snapshot is
    # being taken.
    sim.clock.advance(Timings().server_pending.low)
    for _ in range(90):
        sim.clock.advance(1)
        events = [entry.event for entry in gateway.job_log(job.job_id)]
        if "SNAPSHOT_START" in events:
            break
    assert "SNAPSHOT_START" in events and "SNAPSHOT_END" not in events
    in_progress = [s for s in gateway.recovery_snapshots(server_id) if s.timestamp is None]
    assert len(in_progress) == 1 and in_progress[0].expected_timestamp is not None


def test_reads_survive_one_transient_5xx(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    sim.faults.server_errors("DescribeSourceServers", status=503, count=1)
    servers = gateway.describe_source_servers()
    assert len(servers) == 10
    assert sim.faults.injected().get("server_error") == 1  # it really failed once, botocore retried


def test_reads_survive_one_dropped_connection(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    sim.faults.drop_connections("DescribeJobs", count=1)
    assert gateway.jobs_since(datetime(2026, 1, 1, tzinfo=UTC)) == []
    assert sim.faults.injected().get("drop") == 1


def test_read_throttling_surfaces_with_retry_after(sim: EmbeddedSimulator) -> None:
    gateway = DrsGateway(target_of(sim), read_max_attempts=1)
    sim.faults.throttle("DescribeJobs", retry_after=7, count=1)
    with pytest.raises(DrsThrottled) as caught:
        gateway.describe_jobs(["drsjob-00000000000000001"])
    assert caught.value.retry_after == 7.0 and caught.value.transient and caught.value.definite
    assert gateway.describe_jobs(["drsjob-00000000000000001"]) == []  # the next poll goes through


def test_persistent_5xx_on_a_read_is_unavailable(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    sim.faults.server_errors("DescribeRecoveryInstances", status=500, count=3)
    with pytest.raises(DrsUnavailable) as caught:
        gateway.describe_recovery_instances()
    assert caught.value.transient and caught.value.definite and caught.value.status == 500
    assert sim.faults.injected().get("server_error") == 3  # three attempts, then the engine's backoff


def test_uninitialized_account(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    sim.backend.set_initialized(False)
    with pytest.raises(DrsUninitialized):
        gateway.describe_source_servers()


def test_a_gateway_keeps_its_clients_as_plain_attributes(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    """One gateway per thread (DESIGN §3.5): its client is built once and reused by every later call, on
    whichever thread owns it; another gateway of the same DRS has its own."""
    assert len(gateway.describe_source_servers()) == 10
    first = gateway._clients.read
    assert first is not None
    assert len(gateway.describe_jobs(["drsjob-00000000000000001"])) == 0
    assert gateway._clients.read is first, "no client is rebuilt between calls"
    other = DrsGateway(gateway.target)
    assert len(other.describe_source_servers()) == 10
    assert other._clients.read is not None and other._clients.read is not first
    other.close()


def test_close_drops_the_clients(gateway: DrsGateway) -> None:
    assert len(gateway.describe_source_servers()) == 10
    first = gateway._clients.read
    gateway.close()
    assert gateway._clients.read is None
    assert len(gateway.describe_source_servers()) == 10  # a new client on the next call
    assert gateway._clients.read is not first
