"""The inventory cache through team sync (docs/sync.md, kind ``INVENTORY``): two desktop homes on the moto
server, each with its real SQLite file; caches written with storage/inventory.py as a refresh does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database
from drs_desktop.storage.inventory import inventory_body, load_inventory, save_inventory
from drs_desktop.storage.settings import set_setting
from drs_desktop.storage.sync_apply import apply_inventory
from tests.sync.desktops import TABLE, Desktop, desktop, init_table, table_items
from tests.sync.dynamodb_emulator import DynamoDbEmulator

ACCOUNT, REGION_ = "111111111111", "eu-west-1"
KEY = f"{ACCOUNT}#{REGION_}"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def two(tmp_path: Path, dynamodb: DynamoDbEmulator) -> Iterator[tuple[Desktop, Desktop]]:
    init_table(dynamodb)
    a, b = desktop(tmp_path, "a", dynamodb), desktop(tmp_path, "b", dynamodb)
    yield a, b
    a.db.close()
    b.db.close()


def servers(count: int, *, tag: str = "web") -> tuple[SourceServer, ...]:
    return tuple(
        SourceServer(
            source_server_id=f"s-{n:017x}",
            hostname=f"{tag}-{n:05d}.corp.example.com",
            tags={"App": tag, "Tier": str(n % 3), "Owner": "platform-team", "CostCenter": f"cc-{n % 17}"},
            replication_state="CONTINUOUS",
            lag_seconds=n % 90 if n % 5 else None,
            os="Ubuntu 22.04 LTS",
            last_launch_status="LAUNCHED" if n % 2 else "",
            last_launched_at=T0 - timedelta(days=n % 30) if n % 2 else None,
            arn=f"arn:aws:drs:{REGION_}:{ACCOUNT}:source-server/s-{n:017x}",
            staging_account_id="222222222222" if n % 7 == 0 else "",
            staging_source_server_arn=(
                f"arn:aws:drs:{REGION_}:222222222222:source-server/s-{n:017x}" if n % 7 == 0 else ""
            ),
            extension_status="EXTENDED" if n % 7 == 0 else "",
        )
        for n in range(count)
    )


def refresh(db: Database, found: tuple[SourceServer, ...], at: datetime) -> Inventory:
    return save_inventory(db, Inventory(servers=found, fetched_at=at, account_id=ACCOUNT, region=REGION_))


def part_keys(emulator: DynamoDbEmulator) -> int:
    """How many parts the table holds for the inventory (every Query page: parts fill 1 MB fast)."""
    client, count, start = emulator.client(), 0, None
    while True:
        extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        answer = client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": f"INVENTORY#{KEY}"}, ":s": {"S": "PART#"}},
            ProjectionExpression="sk",
            ConsistentRead=True,
            **extra,
        )
        count += len(answer["Items"])
        start = answer.get("LastEvaluatedKey")
        if not start:
            return count


def queued_inventories(db: Database) -> list[str]:
    return [e.key for e in outbox.pending(db) if e.kind == "INVENTORY"]


def test_a_refresh_on_a_reaches_b_with_its_target_and_fetched_at(two, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    set_setting(a.db, "sync.inventory", True)
    stored = refresh(a.db, servers(5), T0)
    assert queued_inventories(a.db) == [KEY]

    report = a.service.sync_now()
    assert report.pushed.get("inventories", 0) == 1 and report.pushed["settings"] == 1
    assert queued_inventories(a.db) == []
    head = table_items(dynamodb, f"INVENTORY#{KEY}")[0]
    body = json.loads(head["body"]["S"])
    assert (body["account_id"], body["region"], len(body["servers"])) == (ACCOUNT, REGION_, 5)

    pulled = b.service.sync_now()  # the shared setting arrives first, then the inventory
    assert pulled.pulled.get("inventories", 0) == 1
    got = load_inventory(b.db, ACCOUNT, REGION_)
    assert got is not None
    assert (got.account_id, got.region, got.fetched_at) == (ACCOUNT, REGION_, T0)
    assert got.servers == stored.servers
    assert got.servers[0].is_extended and got.servers[1].last_launched_at == T0 - timedelta(days=1)
    assert queued_inventories(b.db) == []  # applied, never queued back
    assert outbox.entity_version(b.db, "INVENTORY", KEY) is not None


def test_the_newer_fetched_at_wins_both_ways(two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    set_setting(a.db, "sync.inventory", True)
    a.service.sync_now()
    b.service.sync_now()  # B shares inventories now too (the team's setting)

    # B's own refresh is newer than the one A pushes: B keeps its own and pushes it over A's.
    refresh(b.db, servers(2, tag="mine"), T0 + timedelta(hours=2))
    refresh(a.db, servers(3, tag="old"), T0 + timedelta(hours=1))
    a.service.sync_now()
    report = b.service.sync_now()
    assert report.pulled.get("inventories", 0) == 0 and report.pushed.get("inventories", 0) == 1
    mine = load_inventory(b.db, ACCOUNT, REGION_)
    assert mine is not None and mine.fetched_at == T0 + timedelta(hours=2)
    assert [s.hostname.split("-")[0] for s in mine.servers] == ["mine", "mine"]
    assert report.open_conflicts == 0
    a.service.sync_now()
    theirs = load_inventory(a.db, ACCOUNT, REGION_)
    assert theirs is not None and theirs.servers == mine.servers and theirs.fetched_at == mine.fetched_at

    # Now B's queued refresh is older than A's newer one: B takes A's and drops its own.
    refresh(b.db, servers(4, tag="stale"), T0 + timedelta(hours=3))
    refresh(a.db, servers(1, tag="fresh"), T0 + timedelta(hours=4))
    a.service.sync_now()
    report = b.service.sync_now()
    assert report.pulled.get("inventories", 0) == 1 and report.pushed.get("inventories", 0) == 0
    now_b = load_inventory(b.db, ACCOUNT, REGION_)
    assert now_b is not None and now_b.fetched_at == T0 + timedelta(hours=4)
    assert [s.hostname.split("-")[0] for s in now_b.servers] == ["fresh"]
    assert queued_inventories(b.db) == [] and report.open_conflicts == 0


def test_a_refused_push_of_an_older_inventory_takes_the_tables_newer_one(two) -> None:  # type: ignore[no-untyped-def]
    """Both refresh without pulling in between; the later pusher's older list loses, without a conflict."""
    a, b = two
    set_setting(a.db, "sync.inventory", True)
    a.service.sync_now()
    b.service.sync_now()
    refresh(a.db, servers(2, tag="new"), T0 + timedelta(hours=5))
    a.service.sync_now()
    refresh(b.db, servers(3, tag="old"), T0 + timedelta(hours=1))
    report = b.service.push()  # no pull first: the table refuses B's version, A's newer head wins
    assert report.pushed.get("inventories", 0) == 0 and report.open_conflicts == 0
    got = load_inventory(b.db, ACCOUNT, REGION_)
    assert got is not None and got.fetched_at == T0 + timedelta(hours=5)
    assert queued_inventories(b.db) == []


def test_with_the_setting_off_nothing_is_pushed_or_applied(two, dynamodb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, _ = two
    refresh(a.db, servers(3), T0)
    assert queued_inventories(a.db) == []
    report = a.service.sync_now()
    assert report.pushed.get("inventories", 0) == 0
    assert table_items(dynamodb, f"INVENTORY#{KEY}") == []

    # A desktop with the setting off notes a pulled head (not read again) and leaves its cache alone.
    off = Database.open(tmp_path / "off.sqlite3")
    body = inventory_body(a.db, ACCOUNT, REGION_)
    assert body is not None
    assert apply_inventory(off, KEY, version=1, seq=7, deleted=False, body=body) is False
    assert load_inventory(off, ACCOUNT, REGION_) is None
    seen = outbox.entity_version(off, "INVENTORY", KEY)
    assert seen is not None and seen.version == 1 and seen.seq == 7


def test_a_pulled_inventory_that_is_not_one_is_refused_with_nothing_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database.open(tmp_path / "x.sqlite3")
    set_setting(db, "sync.inventory", True)
    refresh(db, servers(2), T0)
    body = inventory_body(db, ACCOUNT, REGION_)
    assert body is not None
    bad = {**body, "fetched_at": (T0 + timedelta(days=1)).isoformat(), "servers": [{"hostname": "x"}]}
    with pytest.raises(StorageError, match="cannot be read"):
        apply_inventory(db, KEY, version=1, seq=1, deleted=False, body=bad)
    other = {**body, "fetched_at": (T0 + timedelta(days=1)).isoformat(), "region": "us-east-1"}
    with pytest.raises(StorageError, match="another target"):
        apply_inventory(db, KEY, version=1, seq=1, deleted=False, body=other)
    kept = load_inventory(db, ACCOUNT, REGION_)
    assert kept is not None and kept.fetched_at == T0 and len(kept.servers) == 2
    assert outbox.entity_version(db, "INVENTORY", KEY) is None


def test_a_3000_server_inventory_round_trips_in_parts(two, dynamodb) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    set_setting(a.db, "sync.inventory", True)
    stored = refresh(a.db, servers(3000), T0)
    body = inventory_body(a.db, ACCOUNT, REGION_)
    assert len(json.dumps(body).encode()) > 2 * 350_000  # really over PART_BYTES, several times

    assert a.service.sync_now().pushed.get("inventories", 0) == 1
    head = next(i for i in table_items(dynamodb, f"INVENTORY#{KEY}") if i["sk"]["S"] == "HEAD")
    assert int(head["parts"]["N"]) >= 3 and "body" not in head
    assert part_keys(dynamodb) == int(head["parts"]["N"])

    assert b.service.sync_now().pulled.get("inventories", 0) == 1
    got = load_inventory(b.db, ACCOUNT, REGION_)
    assert got is not None and got.fetched_at == T0 and len(got.servers) == 3000
    assert got.servers == stored.servers
