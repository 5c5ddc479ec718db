"""Several accounts and regions in one simulator: the access key picks the account, the SigV4 scope the
region; IDs, ARNs and quotas belong to each (account, region). Real boto3 over loopback HTTP."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.simulator import accounts_scenario
from tests.simulator.accounts_scenario import (
    RECOVERY,
    RECOVERY_KEY,
    STAGING,
    STAGING_KEY,
    all_servers,
    client,
)

sim = accounts_scenario.two_accounts_sim


def test_the_access_key_decides_which_account_answers(sim: EmbeddedSimulator) -> None:
    recovery = all_servers(client(sim, key=RECOVERY_KEY))
    staging = all_servers(client(sim, key=STAGING_KEY))
    anyone = all_servers(client(sim, key="AKIAUNMAPPED0001"))  # no mapping: the default account

    assert sorted(s["sourceProperties"]["identificationHints"]["hostname"] for s in recovery) == [
        "rec-00001",
        "rec-00002",
        "rec-00003",
    ]
    assert len(staging) == 4
    assert all(s["arn"].startswith(f"arn:aws:drs:us-east-1:{RECOVERY}:source-server/") for s in recovery)
    assert all(s["arn"].startswith(f"arn:aws:drs:us-east-1:{STAGING}:source-server/") for s in staging)
    assert {s["sourceServerID"] for s in anyone} == {s["sourceServerID"] for s in recovery}
    assert not {s["sourceServerID"] for s in recovery} & {s["sourceServerID"] for s in staging}
    identities = {
        key: client(sim, "sts", key=key).get_caller_identity()
        for key in (RECOVERY_KEY, STAGING_KEY, "AKIAUNMAPPED0001")
    }
    assert identities[RECOVERY_KEY]["Account"] == RECOVERY
    assert identities[STAGING_KEY]["Account"] == STAGING
    assert identities[STAGING_KEY]["Arn"] == f"arn:aws:iam::{STAGING}:user/drs-desktop-simulator"
    assert identities["AKIAUNMAPPED0001"]["Account"] == RECOVERY


def test_regions_are_separate_worlds(sim: EmbeddedSimulator) -> None:
    east = all_servers(client(sim, region="us-east-1"))
    west = all_servers(client(sim, region="us-west-2"))

    assert len(east) == 3 and len(west) == 2
    assert all(":drs:us-west-2:111111111111:" in s["arn"] for s in west)
    assert all(s["dataReplicationInfo"]["stagingAvailabilityZone"].startswith("us-west-2") for s in west)
    # The staging account has not set DRS up in us-west-2: DRS says so, as in a region nobody initialized.
    with pytest.raises(ClientError) as refused:
        client(sim, key=STAGING_KEY, region="us-west-2").describe_source_servers()
    assert refused.value.response["Error"]["Code"] == "UninitializedAccountException"
    # A server of one region is unknown in the other.
    with pytest.raises(ClientError) as unknown:
        client(sim, region="us-west-2").start_recovery(
            sourceServers=[{"sourceServerID": east[0]["sourceServerID"]}], isDrill=True
        )
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_jobs_and_quotas_are_counted_per_account(sim: EmbeddedSimulator) -> None:
    """The recovery account allows one concurrent job: its second is refused while the staging account,
    with the default 20, still starts two."""
    recovery, staging = client(sim, key=RECOVERY_KEY), client(sim, key=STAGING_KEY)
    rec_ids = [s["sourceServerID"] for s in all_servers(recovery)]
    stg_ids = [s["sourceServerID"] for s in all_servers(staging)]

    first = recovery.start_recovery(sourceServers=[{"sourceServerID": rec_ids[0]}], isDrill=True)["job"]
    with pytest.raises(ClientError) as refused:
        recovery.start_recovery(sourceServers=[{"sourceServerID": rec_ids[1]}], isDrill=True)
    jobs = [
        staging.start_recovery(sourceServers=[{"sourceServerID": sid}], isDrill=True)["job"]
        for sid in stg_ids[:2]
    ]

    assert refused.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
    assert refused.value.response["quotaCode"] == "L-D88FAC3A"
    assert first["arn"] == f"arn:aws:drs:us-east-1:{RECOVERY}:job/{first['jobID']}"
    assert all(j["arn"] == f"arn:aws:drs:us-east-1:{STAGING}:job/{j['jobID']}" for j in jobs)
    assert [j["jobID"] for j in recovery.describe_jobs()["items"]] == [first["jobID"]]
    assert {j["jobID"] for j in staging.describe_jobs()["items"]} == {j["jobID"] for j in jobs}
    # A server of another account is not found, whatever its ID.
    with pytest.raises(ClientError) as foreign:
        recovery.start_recovery(sourceServers=[{"sourceServerID": stg_ids[3]}], isDrill=True)
    assert foreign.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_control_api_lists_accounts_and_faults_another_world(sim: EmbeddedSimulator) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{sim.endpoint_url}/_sim/accounts") as answer:
        document = json.loads(answer.read())
    accounts = {a["account_id"]: a for a in document["accounts"]}
    assert accounts[RECOVERY]["regions"] == {"us-east-1": 3, "us-west-2": 2}
    assert accounts[RECOVERY]["default"] and not accounts[STAGING]["default"]
    assert accounts[STAGING]["regions"] == {"us-east-1": 4}
    body = json.dumps({"kind": "throttle", "operation": "DescribeJobs", "count": 1, "account": STAGING})
    request = urllib.request.Request(f"{sim.endpoint_url}/_sim/faults", data=body.encode(), method="POST")
    with urllib.request.urlopen(request):
        pass
    client(sim, key=RECOVERY_KEY).describe_jobs()  # the default world is not throttled
    with pytest.raises(ClientError) as throttled:
        client(sim, key=STAGING_KEY).describe_jobs()
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"


def test_a_single_account_scenario_answers_every_key_and_region_as_before() -> None:
    with EmbeddedSimulator("small", seed=1) as sim:
        east = all_servers(client(sim, key="anything", region="us-east-1"))
        west = all_servers(client(sim, key="AKIAOTHER", region="eu-west-1"))
        identity = client(sim, "sts", key="whatever").get_caller_identity()
    assert len(east) == 10
    assert [s["sourceServerID"] for s in west] == [s["sourceServerID"] for s in east]
    assert identity["Account"] == sim.account_id


def test_initialize_service_in_a_region_the_scenario_does_not_list(sim: EmbeddedSimulator) -> None:
    """Real DRS initializes in any region: the staging account's us-west-2 (not in the scenario) refuses
    until InitializeService, then answers with no servers; its us-east-1 is untouched."""
    west = client(sim, key=STAGING_KEY, region="us-west-2")
    with pytest.raises(ClientError) as refused:
        west.describe_jobs()
    west.initialize_service()

    assert refused.value.response["Error"]["Code"] == "UninitializedAccountException"
    assert all_servers(west) == [] and west.describe_jobs()["items"] == []
    assert len(all_servers(client(sim, key=STAGING_KEY))) == 4
    assert sim.estate.describe()[1]["regions"] == {"us-east-1": 4, "us-west-2": 0}
