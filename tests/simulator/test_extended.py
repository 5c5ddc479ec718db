"""Staging accounts and extended source servers across two accounts of one simulator (real boto3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.simulator.accounts_scenario import (
    RECOVERY,
    STAGING,
    STAGING_KEY,
    TWO_ACCOUNTS,
    all_servers,
    client,
)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(TWO_ACCOUNTS, seed=3) as running:
        yield running


def _extensible(drs: Any, account: str = STAGING) -> list[dict[str, Any]]:
    pages = drs.get_paginator("list_extensible_source_servers").paginate(stagingAccountID=account)
    return [item for page in pages for item in page["items"]]


def test_staging_accounts_and_their_extensible_servers(sim: EmbeddedSimulator) -> None:
    recovery, staging = client(sim), client(sim, key=STAGING_KEY)
    staging_servers = all_servers(staging)

    assert recovery.list_staging_accounts()["accounts"] == [{"accountID": STAGING}]
    assert staging.list_staging_accounts()["accounts"] == []
    listed = _extensible(recovery)
    assert sorted(i["arn"] for i in listed) == sorted(s["arn"] for s in staging_servers)
    assert {i["hostname"] for i in listed} == {"stg-00001", "stg-00002", "stg-00003", "stg-00004"}
    assert _extensible(client(sim, region="us-west-2")) == []  # the staging account replicates in us-east-1
    with pytest.raises(ClientError) as denied:
        _extensible(recovery, "333333333333")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


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
