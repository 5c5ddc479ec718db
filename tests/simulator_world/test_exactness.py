"""Exact answers over HTTP with boto3: DescribeJobs' date filters compare exact instants, both bounds
inclusive, and DisconnectSourceServer is refused while the server has a recovery instance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import Range
from drs_desktop.simulator.scenario_schema import load_scenario


@pytest.fixture(params=["offset", "zulu"])
def sim(request: pytest.FixtureRequest) -> Iterator[EmbeddedSimulator]:
    scenario = replace(load_scenario("small"), timestamp_format=request.param)
    with EmbeddedSimulator(scenario, seed=9) as simulator:
        yield simulator


def client(sim: EmbeddedSimulator) -> Any:
    return boto3.client("drs", **sim.client_kwargs())


def zulu(moment: datetime, digits: int = 6) -> str:
    """The filter's form (the model's pattern wants ``Z``), with 3 or 6 fractional digits."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[: len(text) - (6 - digits)] + "Z"


def listed(drs: Any, **filters: str) -> list[str]:
    return [j["jobID"] for j in drs.describe_jobs(filters=filters)["items"]]


def test_date_filters_compare_exact_instants_inclusive(sim: EmbeddedSimulator) -> None:
    drs = client(sim)
    servers = sim.backend.source_server_ids()
    sim.clock.advance(0.123456)  # a creation time inside a second, and inside a millisecond
    first = drs.start_recovery(sourceServers=[{"sourceServerID": servers[0]}], isDrill=True)["job"]
    sim.clock.advance(0.000750)  # the second job: less than a millisecond later
    second = drs.start_recovery(sourceServers=[{"sourceServerID": servers[1]}], isDrill=True)["job"]
    a = datetime.fromisoformat(first["creationDateTime"].replace("Z", "+00:00"))
    b = datetime.fromisoformat(second["creationDateTime"].replace("Z", "+00:00"))
    digits = 3 if first["creationDateTime"].endswith("Z") else 6
    one = timedelta(milliseconds=1) if digits == 3 else timedelta(microseconds=1)
    ids = first["jobID"], second["jobID"]
    # A job's own creationDateTime is inside both bounds (inclusive), to its last digit.
    assert listed(drs, fromDate=zulu(a, digits), toDate=zulu(a, digits)) == (
        [ids[0]] if a != b else [ids[1], ids[0]]
    )
    assert listed(drs, fromDate=zulu(b, digits), toDate=zulu(b, digits))[0] == ids[1]
    # One unit past it, either way, and it is out: no truncation to seconds.
    assert ids[0] not in listed(drs, fromDate=zulu(a + one, digits))
    assert ids[0] not in listed(drs, toDate=zulu(a - one, digits))
    assert listed(drs, fromDate=zulu(a - one, digits), toDate=zulu(a + one, digits))[-1] == ids[0]
    if digits == 6:  # the offset form shows microseconds: the two jobs are told apart
        assert listed(drs, fromDate=zulu(b, 6)) == [ids[1]]
        assert listed(drs, toDate=zulu(b - one, 6)) == [ids[0]]
        assert listed(drs, fromDate=zulu(a, 6), toDate=zulu(b, 6)) == [ids[1], ids[0]]
    # The same second, the whole second: both jobs (the old seconds-wide comparison would say the same,
    # but the exclusive cases above would not).
    second_start = a.replace(microsecond=0)
    assert set(
        listed(drs, fromDate=zulu(second_start, 3), toDate=zulu(second_start + timedelta(seconds=1), 3))
    ) == set(ids)


def test_disconnect_is_refused_while_a_recovery_instance_exists() -> None:
    scenario = load_scenario("small")
    scenario = replace(scenario, timings=replace(scenario.timings, instance_listed=Range(3600, 3600)))
    with EmbeddedSimulator(scenario, seed=9) as sim:
        drs = client(sim)
        server = sim.backend.server_id_of("shop-web-01")
        job = drs.start_recovery(sourceServers=[{"sourceServerID": server}], isDrill=True)["job"]
        with pytest.raises(drs.exceptions.ConflictException):  # in an active job
            drs.disconnect_source_server(sourceServerID=server)
        sim.clock.advance(40 * 60)
        done = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]
        assert done["status"] == "COMPLETED"
        # The job has ended, the instance is not listed yet (lag): DRS still knows it and refuses.
        assert drs.describe_recovery_instances(filters={"sourceServerIDs": [server]})["items"] == []
        with pytest.raises(drs.exceptions.ConflictException) as refused:
            drs.disconnect_source_server(sourceServerID=server)
        assert "recovery instance" in refused.value.response["Error"]["Message"]
        sim.clock.advance(3600)
        (instance,) = drs.describe_recovery_instances(filters={"sourceServerIDs": [server]})["items"]
        with pytest.raises(drs.exceptions.ConflictException):
            drs.disconnect_source_server(sourceServerID=server)
        drs.terminate_recovery_instances(recoveryInstanceIDs=[instance["recoveryInstanceID"]])
        with pytest.raises(drs.exceptions.ConflictException):  # the TERMINATE job holds it
            drs.disconnect_source_server(sourceServerID=server)
        sim.clock.advance(10 * 60)
        assert drs.describe_recovery_instances(filters={"sourceServerIDs": [server]})["items"] == []
        answer = drs.disconnect_source_server(sourceServerID=server)
        assert answer["dataReplicationInfo"]["dataReplicationState"] == "DISCONNECTED"
