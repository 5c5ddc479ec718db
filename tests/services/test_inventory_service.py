"""services.inventory against the embedded simulator over loopback: refresh, cache and server usage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.plan.server_usage import ServerUsage
from drs_desktop.secrets import SecretStore
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.inventory import (
    InventoryService,
    cached_inventory,
    refresh_inventory,
    server_usage,
)
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database
from tests.secrets.memory_keyring import MemoryKeyring
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture  # noqa: F401


@pytest.fixture(scope="module")
def simulator() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as sim:
        yield sim


def by_hostname(inventory: Inventory) -> dict[str, str]:
    return {server.hostname: server.source_server_id for server in inventory.servers}


def test_refresh_saves_and_the_cache_gives_it_back(db: Database, simulator: EmbeddedSimulator) -> None:
    assert cached_inventory(db) is None
    gateway = DrsGateway(AwsTarget(None, simulator.region, simulator.endpoint_url))
    steps: list[str] = []
    inventory = refresh_inventory(db, gateway, progress=steps.append)
    gateway.close()
    assert len(inventory.servers) == 10 and inventory.account_id == simulator.account_id
    assert steps == ["Saving 10 servers of account 123456789012 to the cache…"]
    cached = cached_inventory(db, region=simulator.region)
    assert cached == inventory
    assert cached_inventory(db, region="eu-west-1") is None


def test_service_refresh_follows_the_resolver(
    db: Database, simulator: EmbeddedSimulator, memory_keyring: MemoryKeyring
) -> None:
    resolver = ConnectionResolver(
        db, SecretStore(), demo_endpoint=simulator.endpoint_url, demo_region="us-east-1"
    )
    service = InventoryService(db, resolver)
    try:
        assert service.cached() is None
        steps: list[str] = []
        inventory = service.refresh(steps.append)
        assert steps[0] == "Checking the connection settings…"
        assert steps[1].startswith(
            "Asking DRS for the source servers (us-east-1 (simulator keys) at http://127.0.0.1"
        )
        assert steps[2].startswith("Saving 10 servers")
        assert service.cached() == inventory
        assert service.usage() == {}
    finally:
        service.close()


def test_server_usage_from_the_latest_plan_revisions(db: Database, simulator: EmbeddedSimulator) -> None:
    gateway = DrsGateway(AwsTarget(None, simulator.region, simulator.endpoint_url))
    inventory = refresh_inventory(db, gateway)
    gateway.close()
    ids = by_hostname(inventory)
    web = ProtectionGroup("shop-web", tags={"Application": "shop", "Tier": "web"})
    unused = ProtectionGroup("shop-db", tags={"Application": "shop", "Tier": "db"})
    first = RecoveryPlan(
        "Shop",
        protection_groups=(web, unused),
        waves=(Wave("Web", groups=("shop-web",), servers=(ids["legacy-fax"],)),),
    )
    plan_store.save_plan(db, RecoveryPlan("Shop", waves=(Wave("Old", servers=(ids["new-build"],)),)))
    plan_store.save_plan(db, first)  # the latest revision counts, not the first
    plan_store.save_plan(db, RecoveryPlan("CRM", waves=(Wave("All", servers=(ids["legacy-fax"],)),)))
    usage = server_usage(db)
    assert usage[ids["shop-web-01"]] == ServerUsage(groups=("shop-web",), plans=("Shop",))
    assert usage[ids["shop-web-02"]] == ServerUsage(groups=("shop-web",), plans=("Shop",))
    assert usage[ids["legacy-fax"]] == ServerUsage(groups=(), plans=("CRM", "Shop"))
    groups, plans = usage[ids["legacy-fax"]]  # a (groups, plans) pair
    assert plans == ("CRM", "Shop") and groups == ()
    assert ids["new-build"] not in usage and ids["shop-db-01"] not in usage  # unused group: no launch
    assert usage[ids["shop-web-01"]].describe() == "Shop (groups: shop-web)"
    # Without an inventory a tag selector resolves to nothing, explicit IDs still count.
    without = server_usage(db, Inventory())
    assert ids["shop-web-01"] not in without and without[ids["legacy-fax"]].plans == ("CRM", "Shop")
