"""Launching, watching and terminating through ``DrsGateway``, against the simulator over HTTP.

The double-launch tests use the simulator's own launch ledger (``backend.launch_records()``) as the
proof: a StartRecovery that botocore re-sent would show up there as a second launch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.drs.errors import (
    DrsConflict,
    DrsNotFound,
    DrsOutcomeUnknown,
    DrsQuotaExceeded,
    DrsRejected,
    DrsThrottled,
)
from drs_desktop.domain.engine.commands import chunk_of_tags, job_tags
from drs_desktop.domain.engine.events import JobStatus, LaunchStatus
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import Timings

from .conftest import HEALTHY, ids_of, run_to_completion, small_scenario, target_of

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)  # the small scenario's start time


def test_drill_runs_to_completion(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    server_ids = ids_of(sim, "shop-web-01", "shop-app-01")
    tags = job_tags("exec-1", 0, "chunk-1", 1)
    job = gateway.start_recovery(server_ids, is_drill=True, tags=tags)

    # The 202 answer (reference §12.2): PENDING, every server PENDING, no instance yet, DRS's own tag.
    assert job.status is JobStatus.PENDING and job.type == "LAUNCH" and job.is_drill is True
    assert set(job.server_ids) == set(server_ids)
    assert all(
        s.launch_status is LaunchStatus.PENDING and s.recovery_instance_id is None for s in job.servers
    )
    assert job.tags["resourceArn"] == job.arn and chunk_of_tags(job.tags, "exec-1") == "chunk-1"
    assert job.created_at == T0

    final, seen = run_to_completion(sim, gateway, job.job_id)
    assert seen == [JobStatus.PENDING, JobStatus.STARTED, JobStatus.COMPLETED]
    assert final.ended_at is not None and final.ended_at > final.created_at  # type: ignore[operator]
    assert all(s.launch_status is LaunchStatus.LAUNCHED for s in final.servers)
    # DescribeJobs names the instance of some launched servers only (drs_api.md §12.5), and
    # DescribeRecoveryInstances lists each one a little after its launch (§12.14).
    named = {s.source_server_id: s.recovery_instance_id for s in final.servers if s.recovery_instance_id}
    sim.clock.advance(Timings().instance_listed.high)
    listed = {
        i.source_server_id: i.recovery_instance_id for i in gateway.describe_recovery_instances(server_ids)
    }
    assert set(listed) == set(server_ids) and all(i.startswith("i-") for i in listed.values())
    assert all(listed[sid] == iid for sid, iid in named.items())
    engine_view = final.to_engine()
    assert engine_view.job_id == job.job_id and engine_view.status is JobStatus.COMPLETED

    # The job log: JOB_START first, JOB_END last, per-server phases in order, times never going back.
    log = gateway.job_log(job.job_id)
    events = [entry.event for entry in log]
    assert events[0] == "JOB_START" and events[-1] == "JOB_END"
    assert "LAUNCH_END" not in events
    times = [entry.at for entry in log]
    assert all(t is not None for t in times) and times == sorted(times)  # type: ignore[type-var]
    for server_id in server_ids:
        mine = [e.event for e in log if e.source_server_id == server_id]
        assert mine == [
            "SNAPSHOT_START",
            "SNAPSHOT_END",
            "CONVERSION_START",
            "CONVERSION_END",
            "LAUNCH_START",
        ]
        conversion = next(e for e in log if e.source_server_id == server_id and e.event == "CONVERSION_START")
        assert conversion.conversion_server_id and conversion.conversion_server_id.startswith("i-")
        launch = next(e for e in log if e.source_server_id == server_id and e.event == "LAUNCH_START")
        assert launch.target_instance_id == listed[server_id]

    # The recovery instances it created.
    instances = gateway.describe_recovery_instances(source_server_ids=server_ids)
    assert sorted(i.source_server_id for i in instances) == sorted(server_ids)
    for instance in instances:
        assert instance.job_id == job.job_id and instance.is_drill is True
        assert instance.ec2_instance_id == instance.recovery_instance_id
        assert instance.ec2_state in ("PENDING", "RUNNING")
        assert instance.point_in_time is not None and instance.point_in_time <= final.ended_at
    by_id = gateway.describe_recovery_instances(instance_ids=[instances[0].recovery_instance_id])
    assert [i.recovery_instance_id for i in by_id] == [instances[0].recovery_instance_id]
    assert gateway.describe_recovery_instances(source_server_ids=[]) == []

    # The inventory sees the launch.
    (server,) = gateway.describe_source_servers(server_ids[:1])
    assert server.last_launch_status == "SUCCEEDED" and server.last_launched_at == T0

    # Terminate them: a TERMINATE job, then the instances are gone.
    terminate = gateway.terminate_recovery_instances([i.recovery_instance_id for i in instances])
    assert terminate.type == "TERMINATE" and terminate.initiated_by == "TERMINATE_RECOVERY_INSTANCES"
    assert terminate.is_drill is None
    done, _ = run_to_completion(sim, gateway, terminate.job_id)
    assert all(s.launch_status is LaunchStatus.TERMINATED for s in done.servers)
    assert gateway.describe_recovery_instances(source_server_ids=server_ids) == []
    assert len(sim.backend.launch_records()) == 2


def test_a_recovery_sends_is_drill_false(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    job = gateway.start_recovery(ids_of(sim, "shop-web-01"), is_drill=False, tags={"k": "v"})
    assert job.initiated_by == "START_RECOVERY" and job.is_drill is False
    assert [r.is_drill for r in sim.backend.launch_records()] == [False]


def test_launch_from_a_point_in_time_snapshot(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    (server_id,) = ids_of(sim, "shop-web-02")
    sim.clock.advance(2 * 3600)
    point = T0 + timedelta(minutes=90)
    snapshot = next(s for s in gateway.recovery_snapshots(server_id, before=point) if s.timestamp is not None)
    job = gateway.start_recovery(
        [server_id], is_drill=True, tags={}, snapshot_ids={server_id: snapshot.snapshot_id}
    )
    final, _ = run_to_completion(sim, gateway, job.job_id)
    events = [e.event for e in gateway.job_log(job.job_id) if e.source_server_id == server_id]
    assert events[0] == "USING_PREVIOUS_SNAPSHOT" and "SNAPSHOT_START" not in events
    sim.clock.advance(Timings().instance_listed.high)  # listed a little after the launch
    (instance,) = gateway.describe_recovery_instances(source_server_ids=[server_id])
    assert instance.point_in_time is not None and instance.point_in_time <= point
    assert final.servers[0].launch_status is LaunchStatus.LAUNCHED


def test_jobs_since_finds_the_job_by_its_tags(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    first = gateway.start_recovery(ids_of(sim, "shop-web-01"), is_drill=True, tags=job_tags("e", 0, "c1", 1))
    sim.clock.advance(60)
    second = gateway.start_recovery(ids_of(sim, "shop-web-02"), is_drill=True, tags=job_tags("e", 0, "c2", 1))
    listed = gateway.jobs_since(T0)
    assert [j.job_id for j in listed] == [second.job_id, first.job_id]  # newest first
    assert [chunk_of_tags(j.tags, "e") for j in listed] == ["c2", "c1"]
    assert [j.job_id for j in gateway.jobs_since(T0 + timedelta(seconds=30))] == [second.job_id]
    assert [j.job_id for j in gateway.jobs_since(T0, T0 + timedelta(seconds=30))] == [first.job_id]


def test_describe_jobs_batches_a_thousand_ids_per_call(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    job = gateway.start_recovery(ids_of(sim, "shop-web-01"), is_drill=True, tags={})
    unknown = [f"drsjob-{n:017x}" for n in range(1, 1501)]
    found = gateway.describe_jobs([*unknown, job.job_id])  # 1,501 IDs: more than one call may carry
    assert [j.job_id for j in found] == [job.job_id]
    assert gateway.describe_jobs([]) == []  # never an empty filter (= every job)


def test_both_timestamp_forms_from_the_wire() -> None:
    with EmbeddedSimulator(small_scenario(timestamp_format="zulu")) as sim:
        gateway = DrsGateway(target_of(sim))
        job = gateway.start_recovery(ids_of(sim, "shop-web-01"), is_drill=True, tags={})
        assert job.created_at == T0
        final, _ = run_to_completion(sim, gateway, job.job_id, step=300)
        assert final.ended_at is not None and final.ended_at > T0
        assert all(e.at is not None for e in gateway.job_log(job.job_id))


def test_a_server_already_in_an_active_job_is_a_definite_conflict(
    sim: EmbeddedSimulator, gateway: DrsGateway
) -> None:
    (server_id,) = ids_of(sim, "shop-web-01")
    gateway.start_recovery([server_id], is_drill=True, tags={})
    with pytest.raises(DrsConflict) as caught:
        gateway.start_recovery([server_id, *ids_of(sim, "shop-web-02")], is_drill=True, tags={})
    assert caught.value.definite and not caught.value.transient
    assert caught.value.code == "ConflictException" and caught.value.status == 409
    assert len(sim.backend.launch_records()) == 1  # nothing of the refused job launched


def test_quota_exceeded_is_definite() -> None:
    with EmbeddedSimulator(small_scenario(quotas={"max_servers_per_job": 2})) as sim:
        gateway = DrsGateway(target_of(sim))
        with pytest.raises(DrsQuotaExceeded) as caught:
            gateway.start_recovery(ids_of(sim, *HEALTHY[:3]), is_drill=True, tags={})
        assert caught.value.definite and caught.value.status == 402
        assert caught.value.quota_code == "L-B827C881"
        assert sim.backend.launch_records() == []


def test_throttled_start_is_definite_with_retry_after(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    sim.faults.throttle("StartRecovery", retry_after=5, count=1)
    with pytest.raises(DrsThrottled) as caught:
        gateway.start_recovery(ids_of(sim, "shop-web-01"), is_drill=True, tags={})
    assert caught.value.definite and caught.value.retry_after == 5.0
    assert sim.backend.launch_records() == []
    gateway.start_recovery(ids_of(sim, "shop-web-01"), is_drill=True, tags={})  # later it goes through
    assert len(sim.backend.launch_records()) == 1


@pytest.mark.parametrize("fault", ["server_error", "drop"])
def test_unclear_start_failure_is_unknown_and_never_resent(
    sim: EmbeddedSimulator, gateway: DrsGateway, fault: str
) -> None:
    if fault == "server_error":
        sim.faults.server_errors("StartRecovery", status=503, count=1)
    else:
        sim.faults.drop_connections("StartRecovery", count=1)
    with pytest.raises(DrsOutcomeUnknown) as caught:
        gateway.start_recovery(ids_of(sim, "shop-web-01"), is_drill=True, tags={})
    assert not caught.value.definite
    assert sim.faults.injected() == {fault: 1}
    # The fault was good for one call only: a retry by botocore would have launched. None did.
    assert sim.backend.launch_records() == []
    assert gateway.jobs_since(T0) == []


def test_read_timeout_on_start_is_unknown_and_reconciles_to_the_one_job(sim: EmbeddedSimulator) -> None:
    gateway = DrsGateway(target_of(sim), read_timeout=0.3)
    sim.faults.latency("StartRecovery", seconds=30)
    (server_id,) = ids_of(sim, "shop-web-01")
    with pytest.raises(DrsOutcomeUnknown) as caught:
        gateway.start_recovery([server_id], is_drill=True, tags=job_tags("exec-9", 0, "chunk-9", 1))
    assert not caught.value.definite and caught.value.code == "ReadTimeoutError"
    sim.stop()  # ends the latency wait: the one request the simulator got now completes
    records = sim.backend.launch_records()
    assert [r.source_server_id for r in records] == [server_id]  # it DID launch, exactly once
    sim.faults.clear()
    sim.start()
    listed = DrsGateway(target_of(sim)).jobs_since(T0)
    matches = [j.job_id for j in listed if chunk_of_tags(j.tags, "exec-9") == "chunk-9"]
    assert matches == [records[0].job_id]


def test_client_side_refusals_send_nothing(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    (server_id,) = ids_of(sim, "shop-web-01")
    for ids, drill, snapshots in (
        ([], True, None),
        ([server_id, server_id], True, None),
        ([server_id], None, None),
        ([server_id], True, {"s-0000000000000beef": "pit-00000000000000001"}),
        ([f"s-{n:017x}" for n in range(201)], True, None),
    ):
        with pytest.raises(DrsRejected) as caught:
            gateway.start_recovery(ids, is_drill=drill, tags={}, snapshot_ids=snapshots)  # type: ignore[arg-type]
        assert caught.value.definite
    with pytest.raises(DrsRejected):
        gateway.start_recovery(["not-a-server-id"], is_drill=True, tags={})  # DRS's own validation
    assert sim.backend.launch_records() == []


def test_terminate_takes_two_hundred_ids_and_maps_errors(sim: EmbeddedSimulator, gateway: DrsGateway) -> None:
    unknown = [f"i-{n:017x}" for n in range(1, 202)]
    with pytest.raises(DrsNotFound) as missing:
        gateway.terminate_recovery_instances([*unknown[:200], unknown[0]])  # 200 once deduplicated
    assert missing.value.definite
    sim.faults.throttle("TerminateRecoveryInstances", retry_after=3, count=1)
    with pytest.raises(DrsThrottled) as throttled:
        gateway.terminate_recovery_instances(unknown[:200])
    assert throttled.value.retry_after == 3.0
    with pytest.raises(DrsRejected):
        gateway.terminate_recovery_instances(unknown)  # the single call takes at most 200
