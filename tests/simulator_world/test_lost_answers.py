"""Lost answers over real HTTP with boto3: the action happens, the client never hears of it.

These are the faults behind "never launch twice": a StartRecovery whose answer is dropped or replaced
by a 5xx after the job was created, and one held past the client's read timeout, then carried out once
the virtual clock has moved on. Also: every answer's ``Date`` header is the simulator's virtual time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from drs_desktop.simulator.embedded import EmbeddedSimulator

START = datetime(2031, 1, 1, tzinfo=UTC)
TAGS = {"drs-desktop:execution": "ex-1", "drs-desktop:wave": "1", "drs-desktop:chunk": "0"}


def client(sim: EmbeddedSimulator, *, read_timeout: float = 1.0) -> Any:
    """A drs client with retries off (one attempt) and a short read timeout, as the engine sends launches."""
    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=read_timeout
    )
    return boto3.client("drs", **sim.client_kwargs(), config=config)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", start=START) as simulator:
        yield simulator


def server_ids(drs: Any) -> list[str]:
    return [s["sourceServerID"] for s in drs.describe_source_servers()["items"]]


def launch(drs: Any, server_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = drs.start_recovery(
        sourceServers=[{"sourceServerID": server_id}], isDrill=True, tags=TAGS
    )
    return answer


def jobs(drs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = drs.describe_jobs()["items"]
    return items


def test_dropped_answer_after_start_recovery_still_launches(sim: EmbeddedSimulator) -> None:
    drs = client(sim)
    ids = server_ids(drs)
    sim.faults.lose_answer("StartRecovery", count=1)
    with pytest.raises(ConnectionClosedError):
        launch(drs, ids[0])
    listed = jobs(drs)
    assert len(listed) == 1
    assert listed[0]["participatingServers"][0]["sourceServerID"] == ids[0]
    assert TAGS.items() <= listed[0]["tags"].items()
    assert [r.source_server_id for r in sim.backend.launch_records()] == [ids[0]]
    assert launch(drs, ids[1])["job"]["status"] == "PENDING"  # count 1: the rule is spent
    assert sim.faults.injected() == {"drop_after": 1}


def test_5xx_after_start_recovery_still_launches(sim: EmbeddedSimulator) -> None:
    drs = client(sim)
    ids = server_ids(drs)
    sim.faults.lose_answer("StartRecovery", how="5xx", status=503, count=1)
    with pytest.raises(ClientError) as info:
        launch(drs, ids[0])
    assert info.value.response["Error"]["Code"] == "InternalServerException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    listed = jobs(drs)
    assert len(listed) == 1 and TAGS.items() <= listed[0]["tags"].items()
    # A retry of the same launch is refused: the server is already in the job the client did not see.
    with pytest.raises(drs.exceptions.ConflictException):
        launch(drs, ids[0])


def test_lost_answer_of_terminate_recovery_instances_still_terminates(sim: EmbeddedSimulator) -> None:
    drs = client(sim)
    launch(drs, server_ids(drs)[0])
    sim.clock.advance(3600)
    instance_id = drs.describe_recovery_instances()["items"][0]["recoveryInstanceID"]
    sim.faults.lose_answer("TerminateRecoveryInstances", how="5xx", count=1)
    with pytest.raises(ClientError):
        drs.terminate_recovery_instances(recoveryInstanceIDs=[instance_id])
    terminate = [j for j in jobs(drs) if j["type"] == "TERMINATE"]
    assert len(terminate) == 1
    assert terminate[0]["participatingServers"][0]["recoveryInstanceID"] == instance_id
    # A second try is refused by the world (the instance is being terminated); losing that answer too
    # changes nothing: the client still sees only a dropped connection, and no second job exists.
    sim.faults.lose_answer("TerminateRecoveryInstances", count=1)
    with pytest.raises(ConnectionClosedError):
        drs.terminate_recovery_instances(recoveryInstanceIDs=[instance_id])
    assert len([j for j in jobs(drs) if j["type"] == "TERMINATE"]) == 1
    sim.clock.advance(3600)
    assert drs.describe_recovery_instances()["items"] == []


def test_held_start_recovery_times_out_then_launches_when_the_clock_passes_the_hold(
    sim: EmbeddedSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="drs_desktop.simulator")
    drs = client(sim, read_timeout=1)
    ids = server_ids(drs)
    sim.faults.hold("StartRecovery", seconds=90, count=1)
    with pytest.raises(ReadTimeoutError):
        launch(drs, ids[0])
    assert sim.holds.wait_holding(1, timeout=5)
    assert jobs(drs) == []  # held: nothing happened yet, and other calls are served meanwhile
    sim.clock.advance(89)
    assert jobs(drs) == [] and sim.holds.holding == 1 and sim.holds.total_carried_out == 0
    sim.clock.advance(2)
    assert sim.holds.wait_carried_out(1, timeout=5)
    listed = jobs(drs)
    assert len(listed) == 1 and TAGS.items() <= listed[0]["tags"].items()
    created = datetime.fromisoformat(listed[0]["creationDateTime"])
    assert created == START + timedelta(seconds=91)  # carried out when released, in virtual time
    assert sim.holds.holding == 0
    # The answer went to a connection the client had closed: handled quietly, never as an error.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_held_request_answers_a_client_that_still_waits_and_blocks_nobody(sim: EmbeddedSimulator) -> None:
    patient, other = client(sim, read_timeout=10), client(sim)
    ids = server_ids(other)
    sim.faults.hold("StartRecovery", seconds=30)
    answers: list[dict[str, Any]] = []
    thread = threading.Thread(target=lambda: answers.append(launch(patient, ids[0])))
    thread.start()
    assert sim.holds.wait_holding(1, timeout=5)
    assert len(server_ids(other)) == 10 and jobs(other) == []  # served while the launch is held
    sim.clock.advance(30)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert answers[0]["job"]["jobID"] == jobs(other)[0]["jobID"]


def test_hold_on_a_running_clock_is_a_real_wait() -> None:
    with EmbeddedSimulator("small", time_scale=36000) as running:  # 36 virtual seconds: 1 real ms
        drs = client(running, read_timeout=5)
        running.faults.hold("StartRecovery", seconds=36, count=1)
        before = running.clock.now()
        job = launch(drs, server_ids(drs)[0])["job"]
        assert datetime.fromisoformat(job["creationDateTime"]) >= before + timedelta(seconds=36)
        assert running.holds.total_carried_out == 1


def test_stopping_the_simulator_releases_held_requests_without_carrying_them_out() -> None:
    threads_before = set(threading.enumerate())
    sim = EmbeddedSimulator("small", start=START).start()
    drs = client(sim, read_timeout=10)
    ids = server_ids(drs)
    sim.faults.hold("StartRecovery", seconds=3600)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            launch(drs, ids[0])
        except Exception as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    holds = sim.holds
    assert holds.wait_holding(1, timeout=5)
    sim.stop()  # joins the server's threads; a hold the clock never ends would keep one alive
    caller.join(timeout=5)
    assert not caller.is_alive() and len(errors) == 1
    assert holds.holding == 0 and holds.cancelled == 1 and holds.total_carried_out == 0
    assert sim.backend.handle("DescribeJobs", {})["items"] == []  # the held launch never happened
    assert {t for t in threading.enumerate() if t.is_alive()} <= threads_before


def test_date_header_is_the_virtual_clock(sim: EmbeddedSimulator) -> None:
    drs = client(sim)

    def date_of(metadata: dict[str, Any]) -> datetime:
        return parsedate_to_datetime(metadata["HTTPHeaders"]["date"])

    answer = drs.describe_jobs()
    assert answer["ResponseMetadata"]["HTTPHeaders"]["date"] == "Wed, 01 Jan 2031 00:00:00 GMT"
    sim.clock.advance(90)
    assert date_of(drs.describe_source_servers()["ResponseMetadata"]) == START + timedelta(seconds=90)
    sim.faults.throttle("DescribeJobs", count=1)
    with pytest.raises(ClientError) as info:
        drs.describe_jobs()
    assert date_of(info.value.response["ResponseMetadata"]) == START + timedelta(seconds=90)
    with pytest.raises(ClientError) as missing:
        drs.delete_job(jobID="drsjob-00000000000000000")
    assert date_of(missing.value.response["ResponseMetadata"]) == sim.clock.now()
