"""A 300-server plan through the real runner against a 320-server simulated account: DRS's job quotas
hold at every moment, polling stays one DescribeJobs per tick, and no server is launched twice.

The quotas are checked on the simulator's side, from its own jobs (creation to JOB_END), not from what
the engine believes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.drs.views import DrsJobView
from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.events import JobsObserved, Outcome, StartFailed
from drs_desktop.domain.engine.queries import active_jobs
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database

from .harness import Run, engine_gateway, start_run

#: 320 healthy servers (DRS allows 300 replicating per account by default: raised here, as AWS can).
FLEET: dict[str, Any] = {
    "name": "fleet-320",
    "seed": 11,
    "quotas": {"max_replicating_servers": 400},
    "fleet": {
        "generated": {"count": 320, "applications": 4, "os": {"linux": 0.7, "windows": 0.3}},
        "replication": {"states": {"CONTINUOUS": 1.0}},
    },
}


@pytest.fixture
def fleet(request: pytest.FixtureRequest) -> Iterator[EmbeddedSimulator]:
    quotas = getattr(request, "param", {})
    scenario = {**FLEET, "quotas": {**FLEET["quotas"], **quotas}}
    with EmbeddedSimulator(scenario) as simulator:
        yield simulator


def servers(sim: EmbeddedSimulator, count: int = 300) -> tuple[str, ...]:
    return tuple(sorted(sim.backend.source_server_ids())[:count])


def peak_load(sim: EmbeddedSimulator) -> tuple[int, int]:
    """The most LAUNCH jobs, and servers in them, active at once in the simulated account."""
    jobs = [j for j in sim.backend.world.jobs.values() if j.job_type == "LAUNCH"]
    assert all(j.end_ts is not None for j in jobs), "a job never ended"
    moments = sorted({j.created_ts for j in jobs})
    peak_jobs = peak_servers = 0
    for at in moments:
        active = [j for j in jobs if j.created_ts <= at < (j.end_ts or at)]
        peak_jobs = max(peak_jobs, len(active))
        peak_servers = max(peak_servers, sum(len(j.participants) for j in active))
    return peak_jobs, peak_servers


def spy_on_polls(gateway: DrsGateway) -> list[tuple[str, ...]]:
    """The job IDs of every DescribeJobs-by-ID the runner sends through ``gateway`` (the real call is
    made): the journal keeps only the jobs a poll changed, so what was asked is seen here."""
    asked: list[tuple[str, ...]] = []
    describe = gateway.describe_jobs

    def spy(job_ids: Sequence[str]) -> list[DrsJobView]:
        asked.append(tuple(job_ids))
        return describe(job_ids)

    gateway.describe_jobs = spy  # type: ignore[method-assign]
    return asked


def assert_polls_batched(run: Run, asked: list[tuple[str, ...]]) -> None:
    """Every poll asked for all of the run's active jobs in one DescribeJobs."""
    polls = [before for before, _, e in run.recorder.transitions if isinstance(e, JobsObserved)]
    assert polls and len(asked) == len(polls)
    for before, job_ids in zip(polls, asked, strict=True):
        assert {job.job_id for job in active_jobs(before)} <= set(job_ids)
    assert max(len(job_ids) for job_ids in asked) > 1


def test_300_servers_in_two_waves_of_150(db: Database, fleet: EmbeddedSimulator) -> None:
    ids = servers(fleet)
    plan = RecoveryPlan(
        name="Big", waves=(Wave(name="First", servers=ids[:150]), Wave(name="Second", servers=ids[150:]))
    )
    gateway = engine_gateway(fleet)
    asked = spy_on_polls(gateway)
    run = start_run(db, gateway, fleet, plan)
    assert run.run().outcome is Outcome.SUCCEEDED

    launches = run.launches()
    assert set(launches) == set(ids) and set(launches.values()) == {1}
    sizes = [len(j.participants) for j in fleet.backend.world.jobs.values() if j.job_type == "LAUNCH"]
    assert sorted(sizes) == [50, 50, 100, 100]
    first, second = set(ids[:150]), set(ids[150:])
    records = fleet.backend.launch_records()
    last_first = max(r.launched_at or r.requested_at for r in records if r.source_server_id in first)
    assert all(r.requested_at >= last_first for r in records if r.source_server_id in second)

    peak_jobs, peak_servers = peak_load(fleet)
    assert peak_jobs <= 20 and peak_servers <= 500
    assert_polls_batched(run, asked)
    # One DescribeJobs per poll, whatever the number of jobs, plus the account listings that size the
    # load outside the run before queued chunks start.
    polls = len(run.recorder.of(JobsObserved))
    assert polls <= fleet.backend.request_counts()["DescribeJobs"] <= polls + 4
    assert not run.recorder.of(StartFailed)


@pytest.mark.parametrize(
    ("limits", "fleet", "expected_peak"),
    [
        pytest.param(Limits(max_servers_per_job=10), {}, (20, 200), id="20-concurrent-jobs"),
        pytest.param(
            Limits(max_servers_per_job=50, max_servers_in_active_jobs=250),
            {"max_servers_in_active_jobs": 250},
            (5, 250),
            id="servers-in-active-jobs",
        ),
    ],
    indirect=["fleet"],
)
def test_quotas_queue_chunks_instead_of_failing(
    db: Database, fleet: EmbeddedSimulator, limits: Limits, expected_peak: tuple[int, int]
) -> None:
    """Three independent waves of 100 all want to start at once: the engine queues what does not fit,
    so DRS never refuses a start, and the quota is reached but never passed."""
    ids = servers(fleet)
    plan = RecoveryPlan(
        name="Wide",
        waves=tuple(
            Wave(name=f"W{n}", servers=ids[n * 100 : (n + 1) * 100], depends_on=()) for n in range(3)
        ),
    )
    # A slow fixed poll keeps the test quick; the quotas do not depend on it.
    gateway = engine_gateway(fleet)
    asked = spy_on_polls(gateway)
    run = start_run(db, gateway, fleet, plan, limits=limits, poll_interval_seconds=60)
    assert run.run().outcome is Outcome.SUCCEEDED
    assert not run.recorder.of(StartFailed), "DRS refused a start: a quota was not respected"
    assert peak_load(fleet) == expected_peak
    launches = run.launches()
    assert set(launches) == set(ids) and set(launches.values()) == {1}
    assert_polls_batched(run, asked)
