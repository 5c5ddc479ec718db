"""DRS's per-account maximum of 4,000 servers, and 500 servers in flight (timings live in the benchmark)."""

from __future__ import annotations

import pytest

from drs_desktop.simulator.backend import DrsBackend

from .helpers import job, start_500


@pytest.fixture(scope="module")
def scale() -> DrsBackend:
    return DrsBackend("scale")


def test_full_listing_of_4000_servers(scale: DrsBackend) -> None:
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        answer = scale.handle(
            "DescribeSourceServers", {"maxResults": 1000, **({"nextToken": token} if token else {})}
        )
        seen.extend(s["sourceServerID"] for s in answer["items"])
        pages += 1
        token = answer.get("nextToken")
        if not token:
            break
    assert len(seen) == 4000 and len(set(seen)) == 4000 and pages == 4
    capped = scale.handle("DescribeSourceServers", {"maxResults": 5000})
    assert len(capped["items"]) == 1000 and capped["nextToken"]
    extended = scale.handle("DescribeSourceServers", {"filters": {"stagingAccountIDs": ["210000000001"]}})[
        "items"
    ]
    assert len(extended) in (284, 285)  # 3,700 extended servers spread over 13 staging accounts
    assert {s["stagingArea"]["status"] for s in extended} == {"EXTENDED"}


def test_500_servers_in_active_jobs_run_to_completion() -> None:
    backend = DrsBackend("scale")
    jobs = start_500(backend)
    assert backend.world.pending_events() == 5
    backend.clock.advance(2 * 3600)
    for job_id in jobs:
        done = job(backend, job_id)
        assert done["status"] == "COMPLETED"
        assert {p["launchStatus"] for p in done["participatingServers"]} == {"LAUNCHED"}
    assert len(backend.handle("DescribeRecoveryInstances", {"maxResults": 1000})["items"]) == 500
    assert len(backend.launch_records()) == 500
