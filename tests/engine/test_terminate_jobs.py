"""TERMINATE jobs followed like launch jobs: an instance is terminated only when its job ended with it
TERMINATED; DRS's reason for a failure is kept and retried within the limit; a crash between the intent
and the answer loses no job. And the first reason DRS gave for a failed launch is the one kept."""

from __future__ import annotations

from typing import Any

from drs_desktop.domain.engine.events import (
    CleanupRequested,
    InstancesTerminated,
    JobLogObserved,
    Outcome,
    TerminateRequested,
)
from drs_desktop.domain.engine.instance_events import TerminationsReconciled
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.state import ServerStatus
from drs_desktop.domain.views.evidence import cleanup_proof, collect_evidence
from drs_desktop.simulator.jobs import TERMINATE_FAILED_REASON

from .conftest import Shipped
from .helpers import chain, sid
from .shipped_run import ShippedRun


def finished_drill(shipped: Shipped, size: int, **settings: Any) -> ShippedRun:
    h = shipped(chain(size, **settings), hold_launches=False)
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    return h


def test_an_instance_counts_as_terminated_only_once_its_terminate_job_has_ended(shipped: Shipped) -> None:
    h = finished_drill(shipped, 1)
    (instance,) = drill_instances_running(h.state)
    h.record(CleanupRequested(at=h.now, by="op"))
    h.act()
    (accepted,) = [e for e in h.events() if isinstance(e, InstancesTerminated)]
    assert accepted.awaits_job and accepted.job_id is not None
    assert h.backend.world.jobs[accepted.job_id].active  # DRS is still terminating it
    assert drill_instances_running(h.state) == (instance,)
    assert h.state.instances[instance].terminated_at is None
    h.run()
    ended = h.backend.world.jobs[accepted.job_id].end_ts
    assert ended is not None
    record = h.state.instances[instance]
    assert record.terminate_job_id == accepted.job_id
    assert record.terminated_at is not None and record.terminated_at.timestamp() >= ended
    assert drill_instances_running(h.state) == ()
    assert any(isinstance(e, JobLogObserved) and e.job_id == accepted.job_id for e in h.events())
    assert instance not in h.backend.world.instances  # DRS shows it gone


def test_a_failed_termination_keeps_drs_reason_is_retried_and_shown(shipped: Shipped) -> None:
    h = finished_drill(shipped, 2, max_terminate_attempts=2)
    h.backend.faults.fail_terminate(servers=[sid(1)])
    stuck = h.state.servers[sid(1)].recovery_instance_id
    other = h.state.servers[sid(2)].recovery_instance_id
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert stuck is not None and other is not None
    assert h.terminated().count(stuck) == 2 and h.terminated().count(other) == 1  # retried, then given up
    assert drill_instances_running(h.state) == (stuck,)
    record = h.state.instances[stuck]
    assert record.terminate_error == f"CLEANUP_FAIL: {TERMINATE_FAILED_REASON}"
    assert record.terminate_attempts == 2 and record.terminated_at is None
    assert h.state.instances[other].terminated_at is not None
    proof = {p.recovery_instance_id: p for p in cleanup_proof(h.state)}
    assert proof[stuck].error == record.terminate_error
    assert collect_evidence(h.state).instance_problems == (
        f"termination of {stuck} ({sid(1)}) failed: CLEANUP_FAIL: {TERMINATE_FAILED_REASON} (attempt 2)",
    )
    assert h.state.servers[sid(1)].reason == ""  # a cleanup error is not the launch's story


def test_a_crash_between_the_terminate_intent_and_its_answer_loses_no_job(shipped: Shipped) -> None:
    h = finished_drill(shipped, 2)
    instances = set(drill_instances_running(h.state))
    h.crash_after_next("TerminateRecoveryInstances")
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert h.crashes == 1
    events = h.events()
    requested = [e for e in events if isinstance(e, TerminateRequested)]
    assert len(requested) == 1 and not any(isinstance(e, InstancesTerminated) for e in events)
    (reconciled,) = [e for e in events if isinstance(e, TerminationsReconciled)]
    (job,) = reconciled.jobs
    assert set(job.instance_ids) == instances
    assert sorted(h.terminated()) == sorted(instances)  # one TERMINATE job, never a second call
    assert drill_instances_running(h.state) == ()
    assert {h.state.instances[i].terminate_job_id for i in instances} == {job.job_id}


def test_the_first_launch_failure_reason_is_kept(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.act()
    job = h.job_of_chunk("1.1")
    h.by_hand.fail(job, sid(1), reason="InsufficientInstanceCapacity: first")
    h.poll()
    h.act()
    first = "LAUNCH_FAILED: InsufficientInstanceCapacity: first"
    assert h.state.servers[sid(1)].reason == first
    world_job = h.backend.world.jobs[job]
    with h.backend._lock:  # later in the same log: a cleanup error, then another failure item
        h.backend.jobs._log(world_job, "CLEANUP_FAIL", sourceServerID=sid(1), rawError="cleanup broke")
        h.backend.jobs._log(world_job, "LAUNCH_FAILED", sourceServerID=sid(1), rawError="later")
    h.by_hand.finish(job)
    h.run()
    assert h.state.servers[sid(1)].status is ServerStatus.FAILED
    assert h.state.servers[sid(1)].reason == first


def test_a_server_drs_skipped_says_so(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.act()
    job = h.job_of_chunk("1.1")
    h.by_hand.fail(job, sid(1), event="SERVER_SKIPPED", reason="")
    h.by_hand.finish(job)
    h.run()
    server = h.state.servers[sid(1)]
    assert server.status is ServerStatus.FAILED
    assert server.reason == "DRS skipped it (SERVER_SKIPPED)"
