"""The ``accounts:`` shape of a scenario: what it accepts, and errors that name the key."""

from __future__ import annotations

from typing import Any

import pytest

from drs_desktop.simulator.scenario import ScenarioError
from drs_desktop.simulator.scenario_schema import load_scenario
from tests.simulator.accounts_scenario import TWO_ACCOUNTS


def _with(**changes: Any) -> dict[str, Any]:
    data = {**TWO_ACCOUNTS, "accounts": [dict(a) for a in TWO_ACCOUNTS["accounts"]]}
    for key, value in changes.items():
        if key.startswith("a0_"):
            data["accounts"][0][key[3:]] = value
        elif key.startswith("a1_"):
            data["accounts"][1][key[3:]] = value
        else:
            data[key] = value
    return data


def test_the_two_account_shape_loads() -> None:
    scenario = load_scenario(TWO_ACCOUNTS)
    recovery, staging = scenario.accounts
    assert scenario.account_id == recovery.account_id == "111111111111"
    assert list(recovery.regions) == ["us-east-1", "us-west-2"]
    assert recovery.regions["us-west-2"].generated.count == 2
    assert recovery.quotas.max_concurrent_jobs == 1 and staging.quotas.max_concurrent_jobs == 20
    assert [r.name for r in recovery.roles] == ["Operator", "BreakGlass"]
    assert recovery.roles[1].mfa_code == "654321" and recovery.roles[0].mfa_code == "123456"
    assert staging.regions["us-east-1"].generated.count == 4


@pytest.mark.parametrize(
    ("changes", "key", "problem"),
    [
        ({"fleet": {"generated": {"count": 1}}}, "fleet", "belongs in each of accounts[]"),
        ({"account_id": "999999999999"}, "account_id", "is not one of accounts[]"),
        ({"region": "eu-west-1"}, "region", "has no region eu-west-1"),
        ({"a0_staging_accounts": ["333333333333"]}, "accounts[0].staging_accounts", "another account"),
        ({"a1_access_keys": ["AKIARECOVERY*"]}, "accounts[1].access_keys", "also a key of account"),
        ({"a1_access_keys": ["akia-lower"]}, "accounts[1].access_keys[0]", "not an access key ID"),
        ({"a0_roles": [{"name": "R", "mfa_code": "12"}]}, "accounts[0].roles[0].mfa_code", "does not match"),
        (
            {"a0_extended": [{"staging_account": "444444444444"}]},
            "accounts[0].extended[0].staging_account",
            "",
        ),
        ({"a1_colour": "blue"}, "accounts[1].colour", "unknown key"),
        ({"a1_regions": {"mars-1": {}}}, "accounts[1].regions.mars-1", "not a region name"),
    ],
)
def test_errors_name_the_key(changes: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario(_with(**changes))
    assert error.value.key == key
    assert problem in error.value.problem
