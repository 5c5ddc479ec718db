"""Staging accounts and extended source servers across two accounts of one simulator (real boto3)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.simulator import accounts_scenario
from tests.simulator.accounts_scenario import (
    RECOVERY,
    STAGING,
    STAGING_KEY,
    all_servers,
    client,
)

sim = accounts_scenario.two_accounts_sim


def _extensible(drs: Any, account: str = STAGING) -> list[dict[str, Any]]:
    pages = drs.get_paginator("list_extensible_source_servers").paginate(stagingAccountID=account)
    return [item for page in pages for item in page["items"]]


def test_staging_accounts_and_their_extensible_servers(sim: EmbeddedSimulator) -> None:
    recovery, staging = client(sim), client(sim, key=STAGING_KEY)
    staging_servers = all_servers(staging)

    # "staging accounts for existing extended source servers" (the model): none extended yet, none listed,
    # though the staging account's servers are already extensible.
    assert recovery.list_staging_accounts()["accounts"] == []
    assert staging.list_staging_accounts()["accounts"] == []
    listed = _extensible(recovery)
    assert sorted(i["arn"] for i in listed) == sorted(s["arn"] for s in staging_servers)
    assert {i["hostname"] for i in listed} == {"stg-00001", "stg-00002", "stg-00003", "stg-00004"}
    assert _extensible(client(sim, region="us-west-2")) == []  # the staging account replicates in us-east-1
    with pytest.raises(ClientError) as denied:
        _extensible(recovery, "333333333333")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    recovery.create_extended_source_server(sourceServerArn=listed[0]["arn"])
    assert recovery.list_staging_accounts()["accounts"] == [{"accountID": STAGING}]
    assert client(sim, region="us-west-2").list_staging_accounts()["accounts"] == []  # none extended there


def test_extend_once_then_refused_and_filtered_by_staging_account(sim: EmbeddedSimulator) -> None:
    recovery = client(sim)
    source = sorted(_extensible(recovery), key=lambda i: str(i["hostname"]))[0]

    created = recovery.create_extended_source_server(sourceServerArn=source["arn"], tags={"Wave": "1"})[
        "sourceServer"
    ]
    with pytest.raises(ClientError) as again:
        recovery.create_extended_source_server(sourceServerArn=source["arn"])

    assert created["stagingArea"] == {
        "status": "EXTENDED",
        "stagingAccountID": STAGING,
        "stagingSourceServerArn": source["arn"],
    }
    assert created["arn"] == f"arn:aws:drs:us-east-1:{RECOVERY}:source-server/{created['sourceServerID']}"
    assert created["tags"]["Wave"] == "1" and created["tags"]["Name"] == "stg-00001"
    assert again.value.response["Error"]["Code"] == "ValidationException"
    assert "already extended" in again.value.response["Error"]["Message"]
    assert source["arn"] not in {i["arn"] for i in _extensible(recovery)}
    assert len(_extensible(recovery)) == 3
    filtered = all_servers(recovery, stagingAccountIDs=[STAGING])
    assert [s["sourceServerID"] for s in filtered] == [created["sourceServerID"]]
    assert len(all_servers(recovery)) == 4
    # The staging account still has its server, not extended there.
    staging_view = all_servers(client(sim, key=STAGING_KEY), sourceServerIDs=[source["arn"].split("/")[-1]])
    assert staging_view[0]["stagingArea"] == {"status": "NOT_EXTENDED"}


def test_an_extended_server_is_recovered_in_the_recovery_account(sim: EmbeddedSimulator) -> None:
    recovery = client(sim)
    source = _extensible(recovery)[0]
    server_id = recovery.create_extended_source_server(sourceServerArn=source["arn"])["sourceServer"][
        "sourceServerID"
    ]
    job = recovery.start_recovery(sourceServers=[{"sourceServerID": server_id}], isDrill=True)["job"]
    sim.clock.advance(3600)
    done = recovery.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]
    instances = recovery.describe_recovery_instances(filters={"sourceServerIDs": [server_id]})["items"]

    assert done["status"] == "COMPLETED"
    assert done["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    assert [i["sourceServerID"] for i in instances] == [server_id]
    assert client(sim, key=STAGING_KEY).describe_jobs()["items"] == []


def test_extend_refusals(sim: EmbeddedSimulator) -> None:
    recovery = client(sim)
    arn = str(_extensible(recovery)[0]["arn"])
    cases = {
        "other region": (client(sim, region="us-west-2"), arn),
        "unknown server": (recovery, arn[:-4] + "ffff"),
        "not a staging account": (client(sim, key=STAGING_KEY), arn),
    }
    codes = {}
    for name, (drs, target) in cases.items():
        with pytest.raises(ClientError) as refused:
            drs.create_extended_source_server(sourceServerArn=target)
        codes[name] = refused.value.response["Error"]["Code"]
    assert codes == {
        "other region": "ValidationException",
        "unknown server": "ResourceNotFoundException",
        "not a staging account": "AccessDeniedException",
    }


def _stall(sim: EmbeddedSimulator, account: str, servers: list[str], error: str) -> None:
    body = json.dumps({"kind": "stall_replication", "account": account, "servers": servers, "error": error})
    request = urllib.request.Request(f"{sim.endpoint_url}/_sim/faults", data=body.encode(), method="POST")
    with urllib.request.urlopen(request):
        pass


def test_an_extended_server_shares_its_staging_servers_replication(sim: EmbeddedSimulator) -> None:
    """Lag, a replication fault injected in the staging account and its lifeCycle show on the extended
    server when the recovery account describes it; its launches stay the recovery account's own."""
    recovery, staging = client(sim), client(sim, key=STAGING_KEY)
    source = sorted(_extensible(recovery), key=lambda i: str(i["hostname"]))[0]
    staging_id = str(source["arn"]).split("/")[-1]
    extended_id = recovery.create_extended_source_server(sourceServerArn=source["arn"])["sourceServer"][
        "sourceServerID"
    ]

    def both() -> tuple[dict[str, Any], dict[str, Any]]:
        [ext] = all_servers(recovery, sourceServerIDs=[extended_id])
        [stg] = all_servers(staging, sourceServerIDs=[staging_id])
        return ext, stg

    ext, stg = both()
    assert ext["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    assert ext["dataReplicationInfo"]["lagDuration"] == stg["dataReplicationInfo"]["lagDuration"]

    # A drill of the extended server is the recovery account's: lastLaunch there, not in staging.
    job = recovery.start_recovery(sourceServers=[{"sourceServerID": extended_id}], isDrill=True)["job"]
    sim.clock.advance(3600)
    ext, stg = both()
    assert ext["lifeCycle"]["lastLaunch"]["initiated"]["jobID"] == job["jobID"]
    assert ext["lastLaunchResult"] == "SUCCEEDED"
    assert "lastLaunch" not in stg["lifeCycle"] and stg["lastLaunchResult"] == "NOT_STARTED"

    _stall(sim, STAGING, [staging_id], "AGENT_NOT_SEEN")
    sim.clock.advance(600)
    ext, stg = both()
    lag_then = ext["dataReplicationInfo"]["lagDuration"]
    assert ext["dataReplicationInfo"] == stg["dataReplicationInfo"]
    assert ext["dataReplicationInfo"]["dataReplicationState"] == "STALLED"
    assert ext["dataReplicationInfo"]["dataReplicationError"]["error"] == "AGENT_NOT_SEEN"
    for key in ("addedToServiceDateTime", "firstByteDateTime", "lastSeenByServiceDateTime"):
        assert ext["lifeCycle"][key] == stg["lifeCycle"][key]

    sim.clock.advance(1200)
    ext, stg = both()
    assert ext["dataReplicationInfo"]["lagDuration"] == stg["dataReplicationInfo"]["lagDuration"] != lag_then

    # Stopped in the staging account: stopped in the recovery account.
    staging.stop_replication(sourceServerID=staging_id)
    ext, stg = both()
    assert ext["dataReplicationInfo"]["dataReplicationState"] == "STOPPED"
    assert ext["dataReplicationInfo"] == stg["dataReplicationInfo"]
