"""Helpers shared by the simulator-world tests (plain functions, no fixtures)."""

from __future__ import annotations

from typing import Any

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.contract import SimulatorError


def host_ids(backend: DrsBackend) -> dict[str, str]:
    """hostname -> source server ID."""
    items = backend.handle("DescribeSourceServers", {})["items"]
    return {s["sourceProperties"]["identificationHints"]["hostname"]: s["sourceServerID"] for s in items}


def start(backend: DrsBackend, server_ids: list[str], *, drill: bool = True, **tags: str) -> dict[str, Any]:
    params: dict[str, Any] = {"sourceServers": [{"sourceServerID": s} for s in server_ids], "isDrill": drill}
    if tags:
        params["tags"] = dict(tags)
    return backend.handle("StartRecovery", params)["job"]


def start_500(backend: DrsBackend) -> list[str]:
    """Five drill jobs of 100 healthy servers each: the 500-servers-in-active-jobs quota, full."""
    healthy = [s.server_id for s in backend.world.servers.values() if s.replication_state == "CONTINUOUS"]
    return [start(backend, healthy[n * 100 : (n + 1) * 100])["jobID"] for n in range(5)]


def job(backend: DrsBackend, job_id: str) -> dict[str, Any]:
    items = backend.handle("DescribeJobs", {"filters": {"jobIDs": [job_id]}})["items"]
    assert len(items) == 1, f"job {job_id} not listed"
    return items[0]


def log_events(backend: DrsBackend, job_id: str) -> list[dict[str, Any]]:
    return backend.handle("DescribeJobLogItems", {"jobID": job_id})["items"]


def run_until_complete(
    backend: DrsBackend, job_id: str, *, step: float = 60, limit: float = 4 * 3600
) -> dict[str, Any]:
    """Advance the clock in steps until the job is COMPLETED (fails after ``limit`` virtual seconds)."""
    waited = 0.0
    while waited <= limit:
        current = job(backend, job_id)
        if current["status"] == "COMPLETED":
            return current
        backend.clock.advance(step)
        waited += step
    raise AssertionError(f"job {job_id} still {current['status']} after {limit} s")


def error_of(backend: DrsBackend, operation: str, params: dict[str, Any]) -> SimulatorError:
    try:
        backend.handle(operation, params)
    except SimulatorError as exc:
        return exc
    raise AssertionError(f"{operation} did not fail")
