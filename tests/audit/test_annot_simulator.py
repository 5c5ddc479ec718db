"""What the simulator serves for the annotations: an IAM user's own keys answer as that user (two people
of one account), and a launch on the latest data reports the time DRS took its snapshot as the instance's
``pointInTimeSnapshotDateTime``, its data behind that by the replication lag."""

from __future__ import annotations

from datetime import datetime

import pytest

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.identities import Credential
from drs_desktop.simulator.scenario import ScenarioError
from drs_desktop.simulator.scenario_schema import load_scenario
from tests.simulator_world.helpers import log_events, run_until_complete, start

from .annot_world import ACCOUNT, AUDITOR_ARN, OPERATOR_ARN, two_people_scenario


def test_a_users_keys_answer_as_that_user_and_a_key_belongs_to_one_principal() -> None:
    scenario = load_scenario(two_people_scenario())
    (account,) = scenario.accounts
    assert [(u.name, u.access_keys) for u in account.users] == [("auditor", ("AKIAAUDITOR*",))]
    doubled = two_people_scenario()
    doubled["accounts"][0]["users"].append({"name": "other", "access_keys": ["AKIAAUDITOR*"]})
    with pytest.raises(ScenarioError, match="AKIAAUDITOR\\* is also a key of account"):
        load_scenario(doubled)


def test_the_simulators_sts_tells_the_two_people_apart() -> None:
    identities = EmbeddedSimulator(two_people_scenario(), seed=7).estate.identities  # not started: no server
    auditor = identities.principal(Credential("AKIAAUDITOR0001"))
    operator = identities.principal(Credential("AKIAOPERATOR0001"))
    assert (auditor.arn, auditor.account_id) == (AUDITOR_ARN, ACCOUNT)
    assert operator.arn == OPERATOR_ARN and operator.user_id != auditor.user_id
    assert identities.principal(Credential("drs-desktop-simulator")).arn == OPERATOR_ARN  # the default key


def test_the_launch_snapshots_time_is_the_instances_point_in_time() -> None:
    backend = DrsBackend(load_scenario("small"))
    server_id = backend.server_id_of("shop-db-01")
    lag = backend.world.servers[server_id].lag_seconds
    assert lag > 0
    created = start(backend, [server_id])
    done = run_until_complete(backend, created["jobID"])
    assert done["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    events = log_events(backend, created["jobID"])
    snapshot_start = next(e for e in events if e["event"] == "SNAPSHOT_START")
    conversion = next(e for e in events if e["event"] == "CONVERSION_END")
    (instance,) = backend.handle("DescribeRecoveryInstances", {"filters": {"sourceServerIDs": [server_id]}})[
        "items"
    ]
    point = datetime.fromisoformat(instance["pointInTimeSnapshotDateTime"])
    assert point == datetime.fromisoformat(snapshot_start["logDateTime"])  # when DRS took it
    data = datetime.fromisoformat(conversion["eventData"]["conversionProperties"]["dataTimestamp"])
    assert (point - data).total_seconds() == pytest.approx(lag, abs=0.01)  # its data: the lag behind
