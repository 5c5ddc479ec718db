"""The engine's tests talk to DRS through the shipped ``DrsGateway`` with an in-process transport
(``tests.inprocess_drs``). These tests hold the two transports to each other on one world: the same
requests (how many, of which operation), the same views, the same errors and faults, the same ``Date``:
what the property tests prove in process holds for the gateway over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import (
    DrsConflict,
    DrsError,
    DrsOutcomeUnknown,
    DrsRejected,
    DrsThrottled,
    DrsUnavailable,
)
from drs_desktop.domain.engine.events import LaunchStatus
from drs_desktop.simulator.embedded import EmbeddedSimulator

from ..inprocess_drs import InProcessDrs

#: A shape too big for one page, so every listing below follows ``nextToken``.
PAGE_SIZE = 1


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def both(sim: EmbeddedSimulator) -> tuple[DrsGateway, InProcessDrs]:
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    http = DrsGateway(target, read_max_attempts=1, page_size=PAGE_SIZE)
    return http, InProcessDrs(sim.backend, page_size=PAGE_SIZE)


def requests_of(sim: EmbeddedSimulator, call: Callable[[], Any]) -> tuple[Any, dict[str, int]]:
    """``call()``'s answer (or the ``DrsError`` it raised) and the requests it made, per operation."""
    before = sim.backend.request_counts()
    try:
        answer = call()
    except DrsError as error:
        answer = (type(error), error.code, error.definite, error.status, error.retry_after)
    after = sim.backend.request_counts()
    return answer, {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def same_over_both(
    sim: EmbeddedSimulator, pair: tuple[DrsGateway, InProcessDrs], read: Callable[[DrsGateway], Any]
) -> tuple[Any, dict[str, int]]:
    """``read`` over HTTP and in process: the same answer after the same requests (which it returns)."""
    http, local = pair
    over_http = requests_of(sim, lambda: read(http))
    assert requests_of(sim, lambda: read(local)) == over_http
    return over_http


def test_every_read_sends_the_same_requests_and_gives_the_same_views(sim: EmbeddedSimulator) -> None:
    pair = both(sim)
    local = pair[1]
    servers = tuple(sim.backend.source_server_ids()[:3])
    since = sim.clock.now() - timedelta(minutes=5)
    first = local.start_recovery(servers[:2], is_drill=True, tags={"drs-desktop:chunk": "1.1"})
    second = local.start_recovery(servers[2:], is_drill=True, tags={"drs-desktop:chunk": "1.2"})
    sim.clock.advance(120)
    jobs, requests = same_over_both(
        sim, pair, lambda g: g.describe_jobs([first.job_id, second.job_id, first.job_id])
    )
    assert sorted(j.job_id for j in jobs) == sorted([first.job_id, second.job_id])
    assert requests == {"DescribeJobs": 2}  # the duplicate ID asked once; a page per job
    sim.clock.advance(3600)  # launched, post-launch actions seen, instances up
    jobs, _ = same_over_both(sim, pair, lambda g: g.describe_jobs([first.job_id]))
    assert {s.launch_status for s in jobs[0].servers} == {LaunchStatus.LAUNCHED}
    listed, requests = same_over_both(sim, pair, lambda g: g.jobs_since(since))
    assert len(listed) == 2 and requests == {"DescribeJobs": 2}  # a page per job
    log, requests = same_over_both(sim, pair, lambda g: g.job_log(first.job_id))
    assert log != [] and requests["DescribeJobLogItems"] > 1
    launches, _ = same_over_both(sim, pair, lambda g: g.last_launches(servers))
    assert {launch.source_server_id for launch in launches} == set(servers)
    instances, _ = same_over_both(
        sim, pair, lambda g: g.describe_recovery_instances(source_server_ids=servers)
    )
    assert len(instances) == 3
    assert same_over_both(sim, pair, lambda g: g.describe_recovery_instances(instance_ids=[])) == ([], {})


def test_both_anchor_drs_time_on_the_answers_date(sim: EmbeddedSimulator) -> None:
    sim.clock.advance(0.7)  # the Date header has whole seconds
    http, local = both(sim)
    assert not local.drs_clock.anchored
    assert local.sync_clock() == http.sync_clock() == sim.clock.now().replace(microsecond=0)
    assert local.last_answer_time() == http.last_answer_time()
    sim.clock.advance(30)
    assert local.drs_clock.anchored and local.drs_clock.now() == sim.clock.now().replace(microsecond=0)


def test_errors_and_faults_map_to_the_same_drs_errors(sim: EmbeddedSimulator) -> None:
    pair = both(sim)
    local = pair[1]
    server = sim.backend.source_server_ids()[0]
    local.start_recovery([server], is_drill=True, tags={})
    conflict, requests = same_over_both(
        sim, pair, lambda g: g.start_recovery([server], is_drill=True, tags={})
    )
    assert conflict[:3] == (DrsConflict, "ConflictException", True) and requests == {"StartRecovery": 1}
    assert local.refused == [("StartRecovery", "ConflictException")]

    def throttled(gateway: DrsGateway) -> Any:
        sim.faults.throttle("DescribeJobs", retry_after=7, count=1)
        return gateway.describe_jobs(["drsjob-00000000000000001"])

    assert same_over_both(sim, pair, throttled)[0] == (DrsThrottled, "ThrottlingException", True, 429, 7.0)

    def dropped(gateway: DrsGateway) -> Any:
        sim.faults.drop_connections("DescribeJobs", count=1)
        return gateway.describe_jobs(["drsjob-00000000000000001"])

    assert same_over_both(sim, pair, dropped)[0][0] is DrsUnavailable

    # The server's validation (a job ID of the wrong pattern) and botocore's (a list too short to send).
    invalid, requests = same_over_both(sim, pair, lambda g: g.job_log("notjob-00000000000000001"))
    assert invalid[:2] == (DrsRejected, "ValidationException") and requests == {"DescribeJobLogItems": 1}
    unsent, requests = same_over_both(sim, pair, lambda g: g.describe_jobs([""]))
    assert unsent[:2] == (DrsRejected, "ClientValidation") and requests == {}

    other = sim.backend.source_server_ids()[1]
    sim.faults.lose_answer("StartRecovery", count=1)
    with pytest.raises(DrsOutcomeUnknown):
        local.start_recovery([other], is_drill=True, tags={})
    assert [r.source_server_id for r in sim.backend.launch_records()].count(other) == 1  # it launched
