"""Faults: transport faults per operation stream, world faults per server; all reproducible by seed."""

from __future__ import annotations

import pytest

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.faults import TransportRule

from .helpers import error_of, host_ids, job, log_events, run_until_complete, start


def _kinds(backend: DrsBackend, operation: str, n: int) -> list[str | None]:
    out: list[str | None] = []
    for _ in range(n):
        fault = backend.transport_fault(operation)
        out.append(None if fault is None else fault.kind)
    return out


def test_throttle_rate_is_deterministic_under_the_seed() -> None:
    a, b, c = DrsBackend("small", seed=5), DrsBackend("small", seed=5), DrsBackend("small", seed=6)
    for backend in (a, b, c):
        backend.faults.throttle("DescribeJobs", rate=0.3, retry_after=4)
    seq_a = _kinds(a, "DescribeJobs", 300)
    assert seq_a == _kinds(b, "DescribeJobs", 300)
    assert seq_a != _kinds(c, "DescribeJobs", 300)
    assert 60 <= seq_a.count("throttle") <= 120
    fault = next(f for f in (a.transport_fault("DescribeJobs") for _ in range(50)) if f is not None)
    assert fault.kind == "throttle" and fault.status == 429 and fault.retry_after == 4
    assert _kinds(a, "DescribeSourceServers", 20) == [None] * 20  # the rule is for DescribeJobs only


def test_each_operation_draws_from_its_own_stream() -> None:
    a, b = DrsBackend("small", seed=9), DrsBackend("small", seed=9)
    for backend in (a, b):
        backend.faults.throttle("*", rate=0.5)
    plain = _kinds(a, "DescribeJobs", 50)
    mixed = []
    for _ in range(50):
        b.transport_fault("DescribeSourceServers")  # interleaved calls of another operation
        fault = b.transport_fault("DescribeJobs")
        mixed.append(None if fault is None else fault.kind)
    assert plain == mixed


def test_count_limited_faults_and_other_kinds(small: DrsBackend) -> None:
    small.faults.throttle("StartRecovery", count=2)
    assert _kinds(small, "StartRecovery", 4) == ["throttle", "throttle", None, None]
    small.faults.server_errors("DeleteJob", status=503)
    fault = small.transport_fault("DeleteJob")
    assert fault is not None and fault.kind == "server_error" and fault.status == 503
    small.faults.drop_connections("DescribeJobs", rate=1.0)
    assert _kinds(small, "DescribeJobs", 3) == ["drop"] * 3
    small.faults.latency("GetLaunchConfiguration", seconds=0.25)
    fault = small.transport_fault("GetLaunchConfiguration")
    assert fault is not None and fault.kind == "latency" and fault.delay_seconds == 0.25
    assert small.faults.injected()["throttle"] == 2
    small.faults.clear()
    assert small.transport_fault("DescribeJobs") is None


def test_lose_answer_and_hold_are_after_action_faults_with_count(small: DrsBackend) -> None:
    small.faults.lose_answer("StartRecovery", count=1)
    assert _kinds(small, "StartRecovery", 2) == ["drop_after", None]
    small.faults.lose_answer("TerminateRecoveryInstances", how="5xx", status=503, count=2)
    faults = [small.transport_fault("TerminateRecoveryInstances") for _ in range(3)]
    assert [f.kind if f else None for f in faults] == ["server_error_after", "server_error_after", None]
    assert faults[0] is not None and faults[0].status == 503
    small.faults.hold("StartRecovery", seconds=90, count=1)
    held = small.transport_fault("StartRecovery")
    assert held is not None and held.kind == "hold" and held.hold_seconds == 90
    assert small.transport_fault("StartRecovery") is None
    assert small.faults.injected() == {"drop_after": 1, "server_error_after": 2, "hold": 1}
    # A spent rule keeps nothing but latency.
    assert small.faults.transport_rules()["StartRecovery"] == TransportRule(hold_seconds=90)


def test_after_action_rates_are_drawn_like_the_others() -> None:
    a, b = DrsBackend("small", seed=4), DrsBackend("small", seed=4)
    for backend in (a, b):
        backend.faults.lose_answer("StartRecovery", rate=0.2)
        backend.faults.hold("StartRecovery", seconds=5, rate=0.2)
        backend.faults.throttle("StartRecovery", rate=0.2)
    kinds = _kinds(a, "StartRecovery", 400)
    assert kinds == _kinds(b, "StartRecovery", 400)
    for kind in ("drop_after", "hold", "throttle"):
        assert 40 <= kinds.count(kind) <= 120, kind


def test_bad_after_action_rules_are_refused(small: DrsBackend) -> None:
    with pytest.raises(ValueError, match="how must be 'drop' or '5xx'"):
        small.faults.lose_answer("StartRecovery", how="timeout")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hold_rate needs hold_seconds > 0"):
        small.faults.hold("StartRecovery", seconds=0)
    with pytest.raises(ValueError, match=r"must not exceed 1, got 1\.5"):
        TransportRule(drop_after_rate=1.0, error_after_rate=0.5)
    with pytest.raises(ValueError, match="hold_rate must be between 0 and 1"):
        TransportRule(hold_rate=2.0, hold_seconds=1)
    with pytest.raises(ValueError, match="hold_seconds must be >= 0"):
        TransportRule(hold_seconds=-1)


def test_transport_faults_from_the_scenario() -> None:
    backend = DrsBackend(
        {
            "fleet": {"generated": {"count": 2}},
            "faults": {"transport": {"*": {"error_rate": 1.0, "error_status": 502}}},
        }
    )
    fault = backend.transport_fault("DescribeSourceServers")
    assert fault is not None and fault.kind == "server_error" and fault.status == 502


def test_named_launch_failure(small: DrsBackend) -> None:
    ids = host_ids(small)
    small.faults.fail_launch(servers=["shop-web-02"])
    job_id = start(small, [ids["shop-web-01"], ids["shop-web-02"]])["jobID"]
    done = run_until_complete(small, job_id)
    statuses = {p["sourceServerID"]: p["launchStatus"] for p in done["participatingServers"]}
    assert statuses == {ids["shop-web-01"]: "LAUNCHED", ids["shop-web-02"]: "FAILED"}
    failed = [e for e in log_events(small, job_id) if e["event"] == "LAUNCH_FAILED"]
    assert len(failed) == 1 and failed[0]["eventData"]["sourceServerID"] == ids["shop-web-02"]
    assert "InsufficientInstanceCapacity" in failed[0]["eventData"]["rawError"]
    server = small.handle("DescribeSourceServers", {"filters": {"sourceServerIDs": [ids["shop-web-02"]]}})[
        "items"
    ][0]
    assert server["lastLaunchResult"] == "FAILED"
    assert len(small.handle("DescribeRecoveryInstances", {})["items"]) == 1


def _fraction_run(seed: int) -> dict[str, str]:
    backend = DrsBackend({"fleet": {"generated": {"count": 40, "os": "linux"}}}, seed=seed)
    backend.faults.fail_launch(fraction=0.5)
    done = run_until_complete(backend, start(backend, backend.source_server_ids())["jobID"])
    return {p["sourceServerID"]: p["launchStatus"] for p in done["participatingServers"]}


def test_launch_failure_fraction_is_deterministic() -> None:
    first, second = _fraction_run(3), _fraction_run(3)
    assert first == second
    failed = sum(1 for s in first.values() if s == "FAILED")
    assert 10 <= failed <= 30


def test_a_job_that_never_finishes(small: DrsBackend) -> None:
    ids = host_ids(small)
    small.faults.hang_jobs(servers=[ids["shop-app-01"]])
    job_id = start(small, [ids["shop-app-01"], ids["shop-app-02"]])["jobID"]
    small.clock.advance(48 * 3600)
    stuck = job(small, job_id)
    assert stuck["status"] == "STARTED" and "endDateTime" not in stuck
    assert {p["launchStatus"] for p in stuck["participatingServers"]} == {"IN_PROGRESS"}
    assert log_events(small, job_id)[-1]["event"] == "CONVERSION_START"
    # The servers stay held by the stuck job.
    err = error_of(small, "StartRecovery", {"sourceServers": [{"sourceServerID": ids["shop-app-02"]}]})
    assert err.code == "ConflictException"


def test_conversion_failure(small: DrsBackend) -> None:
    ids = host_ids(small)
    small.faults.fail_conversion(servers=[ids["shop-db-01"]])
    job_id = start(small, [ids["shop-db-01"]])["jobID"]
    done = run_until_complete(small, job_id)
    assert done["participatingServers"][0]["launchStatus"] == "FAILED"
    names = [e["event"] for e in log_events(small, job_id)]
    assert "CONVERSION_FAIL" in names and "LAUNCH_START" not in names and "CONVERSION_END" not in names
    fail = next(e for e in log_events(small, job_id) if e["event"] == "CONVERSION_FAIL")
    assert fail["eventData"]["rawError"] and fail["eventData"]["conversionServerID"].startswith("i-")


def test_missing_ec2_permissions_stop_the_log(small: DrsBackend) -> None:
    sid = host_ids(small)["shop-web-01"]
    small.faults.fail_permissions(servers=["shop-web-01"])
    job_id = start(small, [sid])["jobID"]
    done = run_until_complete(small, job_id, step=30)
    assert done["participatingServers"][0]["launchStatus"] == "FAILED"
    names = [e["event"] for e in log_events(small, job_id)]
    assert names == ["JOB_START", "SNAPSHOT_START", "SNAPSHOT_END", "JOB_END"]


def test_launched_server_without_instance_id_in_the_job(small: DrsBackend) -> None:
    sid = host_ids(small)["shop-web-01"]
    small.faults.omit_instance_ids(servers=[sid])
    done = run_until_complete(small, start(small, [sid])["jobID"])
    p = done["participatingServers"][0]
    assert p["launchStatus"] == "LAUNCHED" and "recoveryInstanceID" not in p
    found = small.handle("DescribeRecoveryInstances", {"filters": {"sourceServerIDs": [sid]}})["items"]
    assert len(found) == 1


def test_post_launch_action_failure(small: DrsBackend) -> None:
    sid = host_ids(small)["shop-web-01"]
    small.faults.fail_post_launch(servers=["shop-web-01"])
    job_id = start(small, [sid], drill=False)["jobID"]
    run_until_complete(small, job_id)
    small.clock.advance(3600)
    run = job(small, job_id)["participatingServers"][0]["launchActionsStatus"]["runs"][0]
    assert run["status"] == "FAILED" and run["failureReason"]


def test_world_faults_from_the_scenario() -> None:
    backend = DrsBackend(
        {
            "fleet": {"servers": [{"hostname": "a", "os": "linux"}, {"hostname": "b", "os": "linux"}]},
            "faults": {"launch_failures": {"servers": ["b"]}, "stuck_jobs": {"fraction": 0.0}},
        }
    )
    done = run_until_complete(backend, start(backend, backend.source_server_ids())["jobID"])
    assert [p["launchStatus"] for p in done["participatingServers"]] == ["LAUNCHED", "FAILED"]
