"""The shipped ``enterprise`` scenario: 3,000 servers in 10 staging accounts (300 each), one recovery
account, two regions, half of the servers already extended. How fast it starts and lists is measured by
tests/benchmarks/bench_enterprise.py, not here (no timed assertion in the suite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import SHIPPED
from tests.simulator.accounts_scenario import all_servers, client

RECOVERY = "111111111111"
STAGING = [f"2000000000{n:02d}" for n in range(1, 11)]


@pytest.fixture(scope="module")
def enterprise() -> Iterator[tuple[EmbeddedSimulator, float]]:
    sim = EmbeddedSimulator("enterprise").start()
    try:
        yield sim, 0.0
    finally:
        sim.stop()


def test_enterprise_is_shipped(enterprise: tuple[EmbeddedSimulator, float]) -> None:
    sim, _ = enterprise
    assert "enterprise" in SHIPPED
    assert sim.account_id == RECOVERY and sim.region == "us-east-1"


def test_every_staging_account_holds_300_servers_in_its_region(
    enterprise: tuple[EmbeddedSimulator, float],
) -> None:
    sim, _ = enterprise
    total = 0
    for n, account in enumerate(STAGING, 1):
        region = "us-east-1" if n <= 5 else "us-west-2"
        servers = all_servers(client(sim, key=f"AKIASTAGING{n:02d}X", region=region))
        assert len(servers) == 300
        assert all(f":drs:{region}:{account}:" in s["arn"] for s in servers)
        total += len(servers)
    assert total == 3000


def test_the_recovery_account_has_half_extended_and_half_extensible(
    enterprise: tuple[EmbeddedSimulator, float],
) -> None:
    sim, _ = enterprise
    east, west = client(sim, region="us-east-1"), client(sim, region="us-west-2")
    # Staging accounts "for existing extended source servers" (the model), region by region.
    assert [a["accountID"] for a in east.list_staging_accounts()["accounts"]] == STAGING[:5]
    assert [a["accountID"] for a in west.list_staging_accounts()["accounts"]] == STAGING[5:]
    extended = all_servers(east) + all_servers(west)
    assert len(extended) == 1500
    assert all(s["stagingArea"]["status"] == "EXTENDED" for s in extended)
    assert len(all_servers(east, stagingAccountIDs=[STAGING[0]])) == 150
    assert len(all_servers(west, stagingAccountIDs=[STAGING[9]])) == 150
    extensible = 0
    for n, account in enumerate(STAGING, 1):
        drs = east if n <= 5 else west
        pages = drs.get_paginator("list_extensible_source_servers").paginate(stagingAccountID=account)
        extensible += sum(len(page["items"]) for page in pages)
    assert extensible == 1500


def test_the_recovery_roles(enterprise: tuple[EmbeddedSimulator, float]) -> None:
    sim, _ = enterprise
    sts = client(sim, "sts", key="AKIASTAGING01X")
    operator = sts.assume_role(
        RoleArn=f"arn:aws:iam::{RECOVERY}:role/DrsRecoveryOperator",
        RoleSessionName="enterprise",
        ExternalId="drs-desktop-7f3a9c",
    )
    break_glass = sts.assume_role(
        RoleArn=f"arn:aws:iam::{RECOVERY}:role/DrsRecoveryBreakGlass",
        RoleSessionName="enterprise",
        SerialNumber=f"arn:aws:iam::{RECOVERY}:mfa/dr-operator",
        TokenCode="123456",
        DurationSeconds=43200,
    )
    staging_role = client(sim, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{STAGING[3]}:role/DrsStagingReadOnly", RoleSessionName="read"
    )
    assert operator["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{RECOVERY}:assumed-role/")
    assert break_glass["AssumedRoleUser"]["Arn"].endswith("DrsRecoveryBreakGlass/enterprise")
    assert staging_role["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{STAGING[3]}:")
