"""The control API (``/_sim/...``) over loopback HTTP: the clock, faults and outside jobs of a running
simulator, driven from outside as tests drive them in-process; boto3 sees the effects."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.server import SimulatorServer
from tests.simulator.fake_world import FakeWorld


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=3) as simulator:
        yield simulator


def control(
    url: str, method: str, name: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}/_sim/{name}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def drs(sim: EmbeddedSimulator) -> Any:
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.client("drs", config=config, **sim.client_kwargs())


def test_clock_advance_scale_pause_resume(sim: EmbeddedSimulator) -> None:
    url = sim.endpoint_url
    status, clock = control(url, "GET", "clock")
    assert status == 200 and clock["simulator"] == "drs-desktop" and clock["scale"] is None
    start = clock["now_ts"]
    status, clock = control(url, "POST", "clock", {"advance": 600})
    assert status == 200 and clock["now_ts"] == pytest.approx(start + 600)
    assert sim.clock.now_ts() == pytest.approx(start + 600)
    status, clock = control(url, "POST", "clock", {"advance_to": "2026-01-05T10:00:00Z"})
    assert clock["now"] == "2026-01-05T10:00:00+00:00"
    assert control(url, "POST", "clock", {"advance_to": "2026-01-05T09:00:00Z"})[0] == 409
    status, clock = control(url, "POST", "clock", {"scale": 0})
    assert status == 200 and clock["scale"] == 0
    status, clock = control(url, "POST", "clock", {"scale": 1000000})
    assert clock["scale"] == 1000000
    status, clock = control(url, "POST", "clock", {"pause": True})
    assert clock["paused"] is True and clock["scale"] == 0
    frozen = clock["now_ts"]
    assert control(url, "GET", "clock")[1]["now_ts"] == frozen  # paused: time stands
    status, clock = control(url, "POST", "clock", {"resume": True})
    assert clock["paused"] is False and clock["scale"] == 1000000
    status, clock = control(url, "POST", "clock", {"scale": None})
    assert clock["scale"] is None and sim.clock.manual
    # The Date header of DRS answers carries the same virtual time.
    answer = drs(sim).describe_jobs()
    assert answer["ResponseMetadata"]["HTTPHeaders"]["date"].endswith("GMT")
    for bad in ({}, {"advance": -1}, {"advance": 1, "pause": True}, {"tick": 1}, {"scale": "fast"}):
        assert control(url, "POST", "clock", bad)[0] == 400, bad


def test_faults_set_through_the_api_reach_boto3(sim: EmbeddedSimulator) -> None:
    url = sim.endpoint_url
    status, answer = control(
        url, "POST", "faults", {"kind": "throttle", "operation": "DescribeJobs", "count": 1}
    )
    assert status == 200 and answer["faults"]["transport"]["DescribeJobs"]["throttle_rate"] == 1.0
    client = drs(sim)
    with pytest.raises(client.exceptions.ThrottlingException):
        client.describe_jobs()
    client.describe_jobs()  # count=1: spent
    status, answer = control(url, "POST", "faults", {"kind": "fail-launch", "servers": ["shop-web-01"]})
    assert status == 200 and answer["faults"]["world"]["launch"]["servers"] == ["shop-web-01"]
    server = sim.backend.server_id_of("shop-web-01")
    job = client.start_recovery(sourceServers=[{"sourceServerID": server}], isDrill=True)["job"]
    control(url, "POST", "clock", {"advance": 3600})
    done = client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]
    assert done["participatingServers"][0]["launchStatus"] == "FAILED"
    assert control(url, "POST", "faults", {"kind": "clear"})[1]["faults"]["world"] == {}
    assert control(url, "POST", "faults", {"kind": "explode"})[0] == 400
    assert control(url, "POST", "faults", {"kind": "throttle", "rate": 2})[0] == 400
    assert control(url, "POST", "faults", {"kind": "fail_launch", "operation": "StartRecovery"})[0] == 400


def test_outside_jobs_through_the_api(sim: EmbeddedSimulator) -> None:
    url = sim.endpoint_url
    status, answer = control(url, "POST", "outside-jobs", {"servers": ["shop-db-01"], "mode": "recovery"})
    assert status == 200 and answer["job_id"].startswith("drsjob-")
    client = drs(sim)
    (job,) = client.describe_jobs()["items"]
    assert job["initiatedBy"] == "START_RECOVERY" and set(job["tags"]) == {"resourceArn"}
    status, answer = control(url, "POST", "outside-jobs", {"servers": ["shop-db-01"]})
    assert status == 409 and "ConflictException" in answer["error"]
    status, answer = control(url, "POST", "outside-jobs", {"servers": ["shop-app-01"], "in": 300})
    assert status == 200 and answer["scheduled_at"] == "2026-01-05T08:05:00+00:00"
    assert len(client.describe_jobs()["items"]) == 1
    control(url, "POST", "clock", {"advance": 300})
    assert [j["initiatedBy"] for j in client.describe_jobs()["items"]] == ["START_DRILL", "START_RECOVERY"]
    status, state = control(url, "GET", "status")
    assert status == 200 and len(state["active_jobs"]) == 2 and state["clock"]["scale"] is None
    assert state["outside_jobs"]["scheduled"] == 1 and len(state["outside_jobs"]["started"]) == 2
    assert control(url, "POST", "outside-jobs", {"servers": ["nope"]})[0] == 404
    assert control(url, "POST", "outside-jobs", {"servers": []})[0] == 400
    assert control(url, "POST", "outside-jobs", {"servers": ["shop-web-01"], "mode": "console"})[0] == 400


def test_unknown_controls_and_a_server_without_a_world() -> None:
    with EmbeddedSimulator("small", seed=3) as sim:
        assert control(sim.endpoint_url, "GET", "nothing")[0] == 404
        assert control(sim.endpoint_url, "DELETE", "clock")[0] == 405
    # A protocol-only server (no simulated world behind it) has no control API: DRS's own 404.
    with SimulatorServer(FakeWorld.with_servers(1)) as server:
        request = urllib.request.Request(f"{server.endpoint_url}/_sim/clock")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 404
        assert caught.value.headers["x-amzn-ErrorType"]
