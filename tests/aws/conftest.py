"""Fixtures for the aws layer: the project's simulator on loopback, the real boto3 client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.views import DrsJobView
from drs_desktop.domain.engine.events import JobStatus
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import shipped_path

#: Servers of the ``small`` scenario that replicate normally (CONTINUOUS) and launch fine.
HEALTHY = ("shop-web-01", "shop-web-02", "shop-app-01", "shop-app-02")


def small_scenario(**overrides: Any) -> dict[str, Any]:
    """The shipped ``small`` scenario as a dict, with top-level keys replaced by ``overrides``."""
    data = yaml.safe_load(shipped_path("small").read_text(encoding="utf-8"))
    data.update(overrides)
    return dict(data)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    """The small estate (10 servers) on a manual virtual clock."""
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def target_of(simulator: EmbeddedSimulator) -> AwsTarget:
    return AwsTarget(profile=None, region=simulator.region, endpoint_url=simulator.endpoint_url)


@pytest.fixture
def gateway(sim: EmbeddedSimulator) -> DrsGateway:
    """A gateway with small pages (3 items), so every listing of the 10 servers takes several pages."""
    return DrsGateway(target_of(sim), page_size=3)


def ids_of(sim: EmbeddedSimulator, *hostnames: str) -> list[str]:
    return [sim.backend.server_id_of(name) for name in hostnames]


def run_to_completion(
    sim: EmbeddedSimulator, gateway: DrsGateway, job_id: str, *, step: float = 60, limit: float = 4 * 3600
) -> tuple[DrsJobView, list[JobStatus]]:
    """Advance the virtual clock ``step`` seconds at a time, polling the job, until it is COMPLETED.

    Returns the final view and every distinct status seen, in order.
    """
    seen: list[JobStatus] = []
    elapsed = 0.0
    while True:
        (job,) = gateway.describe_jobs([job_id])
        if not seen or seen[-1] is not job.status:
            seen.append(job.status)
        if job.status is JobStatus.COMPLETED:
            return job, seen
        if elapsed >= limit:
            raise AssertionError(f"job {job_id} still {job.status} after {limit} virtual seconds")
        sim.clock.advance(step)
        elapsed += step
