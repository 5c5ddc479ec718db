"""A two-account scenario for the multi-account tests, and boto3 clients signed with a chosen key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from drs_desktop.simulator.embedded import EmbeddedSimulator

RECOVERY = "111111111111"
STAGING = "222222222222"
RECOVERY_KEY = "AKIARECOVERY0001"
STAGING_KEY = "AKIASTAGING00001"
EXTERNAL_ID = "ext-5a1d"
MFA_SERIAL = f"arn:aws:iam::{RECOVERY}:mfa/operator"
MFA_CODE = "654321"
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=10)

TWO_ACCOUNTS: dict[str, Any] = {
    "name": "two-accounts",
    "account_id": RECOVERY,
    "region": "us-east-1",
    "timings": {"server_pending": [0, 0], "server_stagger": [0, 0], "instance_listed": [0, 0]},
    "behaviour": {"missing_instance_id_fraction": 0},
    "accounts": [
        {
            "id": RECOVERY,
            "name": "recovery",
            "access_keys": ["AKIARECOVERY*"],
            "regions": {
                "us-east-1": {"fleet": {"generated": {"count": 3, "hostname_prefix": "rec"}}},
                "us-west-2": {"fleet": {"generated": {"count": 2, "hostname_prefix": "west"}}},
            },
            "quotas": {"max_concurrent_jobs": 1},
            "staging_accounts": [STAGING],
            "roles": [
                {"name": "Operator", "external_id": EXTERNAL_ID},
                {"name": "BreakGlass", "mfa_serial": MFA_SERIAL, "mfa_code": MFA_CODE},
            ],
        },
        {
            "id": STAGING,
            "name": "staging",
            "access_keys": ["AKIASTAGING*"],
            "regions": ["us-east-1"],
            "fleet": {"generated": {"count": 4, "hostname_prefix": "stg"}},
            "roles": [{"name": "ReadOnly"}],
        },
    ],
}


def client(
    sim: EmbeddedSimulator,
    service: str = "drs",
    *,
    key: str = RECOVERY_KEY,
    region: str = "us-east-1",
    secret: str = "secret",
    token: str | None = None,
) -> Any:
    """A real boto3 client signing with ``key`` in ``region`` against the simulator."""
    return boto3.client(
        service,
        endpoint_url=sim.endpoint_url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=NO_RETRY,
    )


def all_servers(drs: Any, **filters: Any) -> list[dict[str, Any]]:
    pages = drs.get_paginator("describe_source_servers").paginate(filters=filters)
    return [item for page in pages for item in page["items"]]


@pytest.fixture
def two_accounts_sim() -> Iterator[EmbeddedSimulator]:
    """The two-account simulator the multi-account tests share (``sim = two_accounts_sim`` in a module)."""
    with EmbeddedSimulator(TWO_ACCOUNTS, seed=3) as running:
        yield running
