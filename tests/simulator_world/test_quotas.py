"""Limits: each is refused with the right typed error before anything starts (drs_api.md §7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from drs_desktop.simulator.backend import DrsBackend

from .helpers import error_of, host_ids, run_until_complete, start

BIG = {
    "name": "big",
    "fleet": {
        "generated": {"count": 620, "os": "linux"},
        "replication": {"states": {"CONTINUOUS": 1.0}},
        "staging_accounts": ["210000000001", "210000000002", "210000000003"],
    },
}


@pytest.fixture(scope="module")
def big_ids() -> list[str]:
    return DrsBackend(BIG).source_server_ids()


def _nothing_started(backend: DrsBackend) -> None:
    assert backend.handle("DescribeJobs", {})["items"] == []
    assert backend.launch_records() == []


def test_more_than_100_servers_in_one_job(big_ids: list[str]) -> None:
    backend = DrsBackend(BIG)
    err = error_of(
        backend, "StartRecovery", {"sourceServers": [{"sourceServerID": s} for s in big_ids[:101]]}
    )
    assert err.code == "ServiceQuotaExceededException"
    assert err.members["quotaCode"] == "L-B827C881" and err.members["serviceCode"] == "drs"
    _nothing_started(backend)
    assert start(backend, big_ids[:100])["status"] == "PENDING"


def test_500_servers_across_active_jobs(big_ids: list[str]) -> None:
    backend = DrsBackend(BIG)
    for n in range(5):
        start(backend, big_ids[n * 100 : (n + 1) * 100])
    err = error_of(backend, "StartRecovery", {"sourceServers": [{"sourceServerID": big_ids[500]}]})
    assert err.code == "ServiceQuotaExceededException" and err.members["quotaCode"] == "L-05AFA8C6"
    assert len(backend.launch_records()) == 500
    backend.clock.advance(6 * 3600)
    assert start(backend, [big_ids[500]])["status"] == "PENDING"


def test_20_concurrent_jobs(big_ids: list[str]) -> None:
    backend = DrsBackend(BIG)
    for sid in big_ids[:20]:
        start(backend, [sid])
    err = error_of(backend, "StartRecovery", {"sourceServers": [{"sourceServerID": big_ids[20]}]})
    assert err.code == "ServiceQuotaExceededException" and err.members["quotaCode"] == "L-D88FAC3A"
    assert len(backend.handle("DescribeJobs", {})["items"]) == 20


def test_a_server_in_an_active_job_conflicts(small: DrsBackend) -> None:
    ids = host_ids(small)
    first = start(small, [ids["shop-web-01"]])["jobID"]
    err = error_of(
        small,
        "StartRecovery",
        {"sourceServers": [{"sourceServerID": ids["shop-web-02"]}, {"sourceServerID": ids["shop-web-01"]}]},
    )
    assert err.code == "ConflictException"
    assert err.members == {"resourceId": ids["shop-web-01"], "resourceType": "SOURCE_SERVER"}
    assert "currently being processed by a Job" in err.message
    assert len(small.launch_records()) == 1  # shop-web-02 was not started either
    run_until_complete(small, first)
    assert start(small, [ids["shop-web-01"]])["status"] == "PENDING"


def test_terminating_a_busy_servers_instance_conflicts(small: DrsBackend) -> None:
    sid = host_ids(small)["shop-web-01"]
    run_until_complete(small, start(small, [sid])["jobID"])
    instance = small.handle("DescribeRecoveryInstances", {})["items"][0]["recoveryInstanceID"]
    start(small, [sid])  # a new launch holds the server
    err = error_of(small, "TerminateRecoveryInstances", {"recoveryInstanceIDs": [instance]})
    assert err.code == "ConflictException"


def test_300_replicating_servers() -> None:
    servers: list[dict[str, Any]] = [
        {"hostname": f"h{i}", "replication_state": "CONTINUOUS"} for i in range(300)
    ]
    servers.append({"hostname": "spare", "replication_state": "STOPPED"})
    backend = DrsBackend({"fleet": {"servers": servers}})
    spare = backend.server_id_of("spare")
    err = error_of(backend, "StartReplication", {"sourceServerID": spare})
    assert err.code == "ServiceQuotaExceededException"
    assert err.members["quotaCode"] == "L-C1D14A2B"
    backend.handle("StopReplication", {"sourceServerID": backend.server_id_of("h0")})
    answer = backend.handle("StartReplication", {"sourceServerID": spare})
    assert answer["sourceServer"]["dataReplicationInfo"]["dataReplicationState"] == "RESCAN"
    backend.clock.advance(3600)
    server = backend.handle("DescribeSourceServers", {"filters": {"sourceServerIDs": [spare]}})["items"][0]
    assert server["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    disconnected = backend.handle("DisconnectSourceServer", {"sourceServerID": backend.server_id_of("h1")})
    assert disconnected["dataReplicationInfo"]["dataReplicationState"] == "DISCONNECTED"
    assert error_of(backend, "StartReplication", {"sourceServerID": spare}).code == "ConflictException"


def test_quotas_are_configurable(make_backend: Callable[..., DrsBackend]) -> None:
    backend = make_backend(
        {
            "quotas": {"max_servers_per_job": 2, "max_concurrent_jobs": 1},
            "fleet": {"generated": {"count": 5}, "replication": {"states": {"CONTINUOUS": 1}}},
        }
    )
    ids = backend.source_server_ids()
    assert error_of(
        backend, "StartRecovery", {"sourceServers": [{"sourceServerID": s} for s in ids[:3]]}
    ).code == ("ServiceQuotaExceededException")
    start(backend, ids[:2])
    err = error_of(backend, "StartRecovery", {"sourceServers": [{"sourceServerID": ids[3]}]})
    assert err.members["quotaCode"] == "L-D88FAC3A"


def test_unknown_and_duplicate_servers_are_refused(small: DrsBackend) -> None:
    sid = host_ids(small)["shop-web-01"]
    assert error_of(
        small, "StartRecovery", {"sourceServers": [{"sourceServerID": "s-00000000000000000"}]}
    ).code == ("ResourceNotFoundException")
    dup = error_of(
        small, "StartRecovery", {"sourceServers": [{"sourceServerID": sid}, {"sourceServerID": sid}]}
    )
    assert dup.code == "ValidationException"
    assert small.launch_records() == []
