"""The simulator's defaults against real DRS (drs_api.md §12), measured in virtual time over HTTP with
boto3: job lengths by size and OS, servers PENDING for minutes, recoveryInstanceID mostly missing from
DescribeJobs, DescribeRecoveryInstances lagging, late launch failures, jobs other tools start.

Every figure is seeded, so a run is the same run every time; the clock jumps, nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import pytest

from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import Timings
from drs_desktop.simulator.scenario_schema import load_scenario

SEEDS = range(1, 11)


def fleet(count: int, os: str) -> dict[str, Any]:
    return {"fleet": {"servers": [{"hostname": f"{os}-{i:02d}", "os": os} for i in range(count)]}}


def client(sim: EmbeddedSimulator) -> Any:
    return boto3.client("drs", **sim.client_kwargs())


def start_all(drs: Any, sim: EmbeddedSimulator, *, drill: bool = True) -> dict[str, Any]:
    servers = [{"sourceServerID": sid} for sid in sim.backend.source_server_ids()]
    job: dict[str, Any] = drs.start_recovery(sourceServers=servers, isDrill=drill)["job"]
    return job


def describe(drs: Any, job_id: str) -> dict[str, Any]:
    item: dict[str, Any] = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
    return item


def minutes_to_complete(scenario: dict[str, Any], seed: int) -> float:
    """StartRecovery of every server of the scenario, then the clock in 10-second jumps until COMPLETED:
    the job's own creationDateTime to endDateTime, in minutes."""
    with EmbeddedSimulator(scenario, seed=seed) as sim:
        drs = client(sim)
        job = start_all(drs, sim)
        for _ in range(6 * 60 * 2):
            sim.clock.advance(10)
            current = describe(drs, job["jobID"])
            if current["status"] == "COMPLETED":
                created = datetime.fromisoformat(current["creationDateTime"])
                ended = datetime.fromisoformat(current["endDateTime"])
                return (ended - created).total_seconds() / 60
    raise AssertionError("the job never completed")


@pytest.mark.parametrize(
    ("count", "os", "low", "high"),
    [(1, "linux", 12, 14), (2, "windows", 24, 31), (25, "linux", 27, 31)],
    ids=["one-linux-12-14-min", "two-windows-24-31-min", "25-linux-about-29-min"],
)
def test_job_length_matches_real_drs(count: int, os: str, low: float, high: float) -> None:
    lengths = [minutes_to_complete(fleet(count, os), seed) for seed in SEEDS[:4]]
    assert all(low <= m <= high for m in lengths), lengths


def test_a_big_job_ends_later_than_a_small_one() -> None:
    one = minutes_to_complete(fleet(1, "linux"), 3)
    many = minutes_to_complete(fleet(25, "linux"), 3)
    assert many - one > 10  # the per-server stagger: 24 servers x about 40 s


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(fleet(10, "linux"), seed=4) as simulator:
        yield simulator


def test_servers_stay_pending_for_minutes_after_the_job_started(sim: EmbeddedSimulator) -> None:
    drs = client(sim)
    job = start_all(drs, sim)
    sim.clock.advance(60)
    started = describe(drs, job["jobID"])
    assert started["status"] == "STARTED"
    assert {p["launchStatus"] for p in started["participatingServers"]} == {"PENDING"}
    sim.clock.advance(3 * 60)  # 4 minutes in: still PENDING (the pending time is 4-4.7 minutes)
    assert {p["launchStatus"] for p in describe(drs, job["jobID"])["participatingServers"]} == {"PENDING"}
    sim.clock.advance(60)
    statuses = [p["launchStatus"] for p in describe(drs, job["jobID"])["participatingServers"]]
    assert "IN_PROGRESS" in statuses and "PENDING" in statuses  # the first have started, the last wait


def test_most_launched_servers_lack_their_instance_id_and_instances_are_listed_late(
    sim: EmbeddedSimulator,
) -> None:
    drs = client(sim)
    job = start_all(drs, sim)
    # Advance to the first LAUNCHED server, in 5-second steps.
    launched: list[str] = []
    for _ in range(40 * 12):
        sim.clock.advance(5)
        current = describe(drs, job["jobID"])
        launched = [
            p["sourceServerID"] for p in current["participatingServers"] if p["launchStatus"] == "LAUNCHED"
        ]
        if launched:
            break
    assert launched
    # Just launched: DescribeRecoveryInstances does not list it yet (the lag is 30-120 s).
    listed = drs.describe_recovery_instances(filters={"sourceServerIDs": launched})["items"]
    assert listed == []
    sim.clock.advance(Timings().instance_listed.high)
    listed = drs.describe_recovery_instances(filters={"sourceServerIDs": launched})["items"]
    assert {i["sourceServerID"] for i in listed} == set(launched)
    sim.clock.advance(40 * 60)
    done = describe(drs, job["jobID"])
    assert done["status"] == "COMPLETED"
    servers = done["participatingServers"]
    assert all(p["launchStatus"] == "LAUNCHED" for p in servers)  # no random failures by default
    without_id = [p for p in servers if "recoveryInstanceID" not in p]
    assert 5 <= len(without_id) < len(servers)  # about 80% of them (0.8, hashed per job and server)
    instances = drs.describe_recovery_instances(
        filters={"sourceServerIDs": [p["sourceServerID"] for p in servers]}
    )
    assert {i["jobID"] for i in instances["items"]} == {job["jobID"]}
    assert len(instances["items"]) == len(servers)


def test_the_scenario_sets_each_new_behaviour() -> None:
    scenario = {
        **fleet(2, "linux"),
        "behaviour": {"missing_instance_id_fraction": 0.0},
        "timings": {"instance_listed": [0, 0], "server_pending": [0, 0], "server_stagger": [0, 0]},
    }
    with EmbeddedSimulator(scenario, seed=1) as sim:
        drs = client(sim)
        job = start_all(drs, sim)
        sim.clock.advance(30)
        assert {p["launchStatus"] for p in describe(drs, job["jobID"])["participatingServers"]} == {
            "IN_PROGRESS"
        }
        sim.clock.advance(20 * 60)
        done = describe(drs, job["jobID"])
        assert all("recoveryInstanceID" in p for p in done["participatingServers"])
        assert len(drs.describe_recovery_instances()["items"]) == 2


def test_a_failed_launch_arrives_minutes_after_its_siblings_launched() -> None:
    scenario = {**fleet(3, "linux"), "faults": {"launch_failures": {"servers": ["linux-01"]}}}
    with EmbeddedSimulator(scenario, seed=2) as sim:
        drs = client(sim)
        job = start_all(drs, sim)
        sim.clock.advance(60 * 60)
        done = describe(drs, job["jobID"])
        assert done["status"] == "COMPLETED"
        status = {p["sourceServerID"]: p["launchStatus"] for p in done["participatingServers"]}
        failing = sim.backend.server_id_of("linux-01")
        assert status.pop(failing) == "FAILED"
        assert set(status.values()) == {"LAUNCHED"}
        log = drs.describe_job_log_items(jobID=job["jobID"])["items"]
        at = {
            (e["event"], e["eventData"].get("sourceServerID")): datetime.fromisoformat(e["logDateTime"])
            for e in log
        }
        launch_start = at[("LAUNCH_START", failing)]
        failed = at[("LAUNCH_FAILED", failing)]
        assert (failed - launch_start).total_seconds() >= 9 * 60
        siblings_launched = [r.launched_at for r in sim.backend.launch_records() if r.launched_at is not None]
        assert len(siblings_launched) == 2 and all(t is not None and t < failed for t in siblings_launched)
        assert min((failed - t).total_seconds() for t in siblings_launched if t is not None) > 5 * 60


def test_the_default_world_launches_without_failures() -> None:
    with EmbeddedSimulator("small", seed=11) as sim:
        drs = client(sim)
        healthy = [
            s.server_id for s in sim.backend.world.servers.values() if s.replication_state == "CONTINUOUS"
        ]
        job = drs.start_recovery(sourceServers=[{"sourceServerID": s} for s in healthy], isDrill=True)["job"]
        sim.clock.advance(3 * 3600)
        assert {p["launchStatus"] for p in describe(drs, job["jobID"])["participatingServers"]} == {
            "LAUNCHED"
        }


def test_an_outside_job_holds_its_servers_on_schedule() -> None:
    scenario = {**fleet(3, "linux"), "outside_jobs": [{"at": 600, "servers": ["linux-00", "linux-01"]}]}
    with EmbeddedSimulator(scenario, seed=3) as sim:
        drs = client(sim)
        assert drs.describe_jobs()["items"] == []
        sim.clock.advance(599)
        assert drs.describe_jobs()["items"] == []
        sim.clock.advance(1)
        (outside,) = drs.describe_jobs()["items"]
        assert outside["initiatedBy"] == "START_DRILL"
        assert outside["tags"] == {"resourceArn": outside["arn"]}  # no orchestrator's tags
        busy = sim.backend.server_id_of("linux-01")
        with pytest.raises(drs.exceptions.ConflictException):
            drs.start_recovery(sourceServers=[{"sourceServerID": busy}], isDrill=True)
        free = sim.backend.server_id_of("linux-02")
        drs.start_recovery(sourceServers=[{"sourceServerID": free}], isDrill=True)
        sim.clock.advance(3600)
        assert describe(drs, outside["jobID"])["status"] == "COMPLETED"
        drs.start_recovery(sourceServers=[{"sourceServerID": busy}], isDrill=True)  # free again


def test_an_outside_job_started_at_run_time_and_a_refused_one() -> None:
    with EmbeddedSimulator(fleet(2, "windows"), seed=3) as sim:
        first = sim.backend.start_outside_job(["windows-00"], drill=False)
        assert first is not None and first.job_id is not None
        refused = sim.backend.start_outside_job(["windows-00", "windows-01"])
        assert refused is not None and refused.job_id is None and "ConflictException" in (refused.error or "")
        later = sim.backend.start_outside_job(["windows-01"], at=sim.clock.now_ts() + 120)
        assert later is None
        sim.clock.advance(120)
        jobs = client(sim).describe_jobs()["items"]
        assert [j["initiatedBy"] for j in jobs] == ["START_DRILL", "START_RECOVERY"]
        assert sim.backend.status()["outside_jobs"]["refused"][0]["error"].startswith("ConflictException")


@pytest.mark.parametrize(
    "document",
    [
        {"outside_jobs": [{"servers": ["a"]}]},
        {"outside_jobs": [{"at": 5, "servers": []}]},
        {"outside_jobs": [{"at": 5, "servers": ["a"], "mode": "console"}]},
        {"behaviour": {"missing_instance_id_fraction": 1.5}},
        {"behaviour": {"instance_ids": 0.5}},
        {"timings": {"server_stagger": [5, 1]}},
    ],
)
def test_bad_new_keys_name_the_key(document: dict[str, Any]) -> None:
    from drs_desktop.simulator.scenario import ScenarioError

    with pytest.raises(ScenarioError) as caught:
        load_scenario(document)
    assert str(caught.value).startswith("<dict>: ")
    top = next(iter(document))
    assert top in str(caught.value)
