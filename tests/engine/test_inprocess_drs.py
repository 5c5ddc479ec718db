"""The in-process DRS of the engine's tests answers with the very views ``DrsGateway`` parses from the
simulator over HTTP, for the same world: what the property tests prove holds for the shipped gateway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import DrsConflict, DrsOutcomeUnknown, DrsThrottled
from drs_desktop.services.drs_calls import DrsCalls
from drs_desktop.simulator.embedded import EmbeddedSimulator

from ..inprocess_drs import InProcessDrs


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def both(sim: EmbeddedSimulator) -> tuple[DrsCalls, DrsCalls]:
    http = DrsGateway(
        AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url), read_max_attempts=1
    )
    return http, InProcessDrs(sim.backend)


def test_every_read_gives_the_same_views_as_the_gateway_over_http(sim: EmbeddedSimulator) -> None:
    http, local = both(sim)
    servers = tuple(sim.backend.source_server_ids()[:3])
    since = sim.clock.now() - timedelta(minutes=5)
    started = local.start_recovery(servers[:2], is_drill=True, tags={"drs-desktop:chunk": "1.1"})
    sim.clock.advance(120)
    assert http.describe_jobs([started.job_id]) == local.describe_jobs([started.job_id])
    sim.clock.advance(3600)  # launched, post-launch actions seen, instances up
    jobs = local.describe_jobs([started.job_id])
    assert jobs[0].servers[0].recovery_instance_id is not None
    assert http.describe_jobs([started.job_id]) == jobs
    assert http.jobs_since(since) == local.jobs_since(since) != []
    assert http.job_log(started.job_id) == local.job_log(started.job_id) != []
    assert http.last_launches(servers) == local.last_launches(servers)
    assert http.describe_recovery_instances(source_server_ids=servers) == local.describe_recovery_instances(
        source_server_ids=servers
    )
    assert local.last_answer_time() == http.last_answer_time() == sim.clock.now().replace(microsecond=0)


def test_errors_and_faults_map_to_the_same_drs_errors(sim: EmbeddedSimulator) -> None:
    http, local = both(sim)
    server = sim.backend.source_server_ids()[0]
    local.start_recovery([server], is_drill=True, tags={})
    errors = []
    for gateway in (http, local):
        with pytest.raises(DrsConflict) as refused:
            gateway.start_recovery([server], is_drill=True, tags={})
        errors.append((refused.value.code, refused.value.definite, refused.value.status))
    assert errors[0] == errors[1]

    throttled = []
    for gateway in (http, local):
        sim.faults.throttle("DescribeJobs", retry_after=7, count=1)
        with pytest.raises(DrsThrottled) as hold:
            gateway.describe_jobs(["drsjob-00000000000000001"])
        throttled.append(hold.value.retry_after)
    assert throttled == [7.0, 7.0]

    other = sim.backend.source_server_ids()[1]
    sim.faults.lose_answer("StartRecovery", count=1)
    with pytest.raises(DrsOutcomeUnknown):
        local.start_recovery([other], is_drill=True, tags={})
    assert [r.source_server_id for r in sim.backend.launch_records()].count(other) == 1  # it launched
