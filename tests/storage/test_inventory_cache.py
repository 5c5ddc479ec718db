"""The inventory cache: last-known servers per account and region, for offline plan editing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.storage.db import Database
from drs_desktop.storage.inventory import load_inventory, save_inventory

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"


def _server(suffix: str, **fields: object) -> SourceServer:
    return SourceServer(source_server_id=f"s-{suffix:0>17}", **fields)  # type: ignore[arg-type]


WEB = _server(
    "web",
    hostname="web01.corp",
    tags={"app": "payroll", "tier": "web", "Name": "web01 (é)"},
    replication_state="CONTINUOUS",
    lag_seconds=12,
    os="Linux",
    last_launch_status="LAUNCHED",
    last_launched_at=datetime(2025, 2, 1, 8, 30, 15, 123456, tzinfo=UTC),
    arn="arn:aws:drs:us-east-1:111122223333:source-server/s-00000000000000web",
    ips=("10.0.1.15", "192.168.7.4"),
)
DB = _server("db", hostname="db01", replication_state="INITIAL_SYNC")


def test_round_trip_keeps_every_field_and_the_order(db: Database) -> None:
    stored = save_inventory(db, Inventory((WEB, DB), account_id=ACCOUNT, region="us-east-1"), now=T0)
    loaded = load_inventory(db, ACCOUNT, "us-east-1")
    assert loaded == stored == Inventory((WEB, DB), fetched_at=T0, account_id=ACCOUNT, region="us-east-1")


def test_fetched_at_of_the_inventory_wins_and_is_kept_in_utc(db: Database) -> None:
    paris = timezone(timedelta(hours=1))
    inventory = Inventory((DB,), fetched_at=datetime(2025, 3, 1, 13, 0, tzinfo=paris), account_id=ACCOUNT)
    save_inventory(db, inventory, now=T0 + timedelta(days=1))
    loaded = load_inventory(db, ACCOUNT)
    assert loaded is not None and loaded.fetched_at == T0 and loaded.fetched_at.tzinfo == UTC


def test_without_a_time_the_cache_is_stamped_now(db: Database) -> None:
    before = datetime.now(UTC)
    stored = save_inventory(db, Inventory((DB,), account_id=ACCOUNT, region="us-east-1"))
    assert stored.fetched_at is not None and before <= stored.fetched_at <= datetime.now(UTC)


def test_a_refresh_replaces_the_servers_of_its_scope_only(db: Database) -> None:
    save_inventory(db, Inventory((WEB, DB), account_id=ACCOUNT, region="us-east-1"), now=T0)
    save_inventory(db, Inventory((WEB,), account_id=ACCOUNT, region="us-west-2"), now=T0)
    moved = _server("db", hostname="db01", replication_state="CONTINUOUS", lag_seconds=0)
    save_inventory(
        db, Inventory((moved,), account_id=ACCOUNT, region="us-east-1"), now=T0 + timedelta(hours=1)
    )
    east = load_inventory(db, ACCOUNT, "us-east-1")
    west = load_inventory(db, ACCOUNT, "us-west-2")
    assert east is not None and east.servers == (moved,)
    assert west is not None and west.servers == (WEB,) and west.fetched_at == T0


def test_latest_inventory_when_scope_is_not_given(db: Database) -> None:
    assert load_inventory(db) is None
    save_inventory(db, Inventory((WEB,), account_id=ACCOUNT, region="us-east-1"), now=T0)
    save_inventory(db, Inventory((DB,), account_id=OTHER_ACCOUNT, region="eu-west-1"), now=T0 + timedelta(1))
    save_inventory(db, Inventory((), account_id=ACCOUNT, region="eu-west-1"), now=T0 - timedelta(1))
    latest = load_inventory(db)
    assert latest is not None and (latest.account_id, latest.region) == (OTHER_ACCOUNT, "eu-west-1")
    mine = load_inventory(db, account_id=ACCOUNT)
    assert mine is not None and (mine.region, mine.servers) == ("us-east-1", (WEB,))
    ireland = load_inventory(db, region="eu-west-1")
    assert ireland is not None and ireland.account_id == OTHER_ACCOUNT
    empty = load_inventory(db, ACCOUNT, "eu-west-1")
    assert empty is not None and empty.servers == ()
    assert load_inventory(db, "999999999999") is None


def test_cache_survives_a_restart_for_offline_editing(db_path: Path) -> None:
    with Database.open(db_path) as db:
        save_inventory(db, Inventory((WEB, DB), account_id=ACCOUNT, region="us-east-1"), now=T0)
    with Database.open(db_path) as db:
        loaded = load_inventory(db)
    assert loaded is not None and loaded.by_id() == {WEB.source_server_id: WEB, DB.source_server_id: DB}
    assert loaded.matching({"app": "payroll"}) == (WEB.source_server_id,)


def test_a_server_listed_twice_keeps_its_first_entry(db: Database) -> None:
    again = _server("web", hostname="duplicate")
    stored = save_inventory(db, Inventory((WEB, DB, again), account_id=ACCOUNT), now=T0)
    assert stored.servers == (WEB, DB)
    assert load_inventory(db, ACCOUNT) == stored


def test_naive_times_are_taken_as_utc(db: Database) -> None:
    naive = _server("n", last_launched_at=datetime(2025, 1, 1, 0, 0))
    save_inventory(db, Inventory((naive,), fetched_at=datetime(2025, 3, 1, 12, 0), account_id=ACCOUNT))
    loaded = load_inventory(db, ACCOUNT)
    assert loaded is not None and loaded.fetched_at == T0
    assert loaded.servers[0].last_launched_at == datetime(2025, 1, 1, tzinfo=UTC)


def test_damaged_cache_row_is_a_clear_error(db: Database) -> None:
    save_inventory(db, Inventory((WEB,), account_id=ACCOUNT, region="us-east-1"), now=T0)
    with db.transaction() as conn:
        conn.execute("UPDATE inventory SET tags = '[1, 2]'")
    with pytest.raises(
        StorageError, match=r"^cached inventory of 111122223333/us-east-1 is damaged .*refresh it$"
    ):
        load_inventory(db)


_text = st.text(st.characters(codec="utf-8"), max_size=20)
_servers = st.builds(
    SourceServer,
    source_server_id=st.from_regex(r"\As-[0-9a-zA-Z]{17}\Z"),
    hostname=_text,
    tags=st.dictionaries(_text, _text, max_size=4),
    replication_state=st.sampled_from(["", "CONTINUOUS", "STALLED", "DISCONNECTED"]),
    lag_seconds=st.none() | st.integers(min_value=0, max_value=10**9),
    os=_text,
    last_launch_status=_text,
    last_launched_at=st.none()
    | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    arn=_text,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(servers=st.lists(_servers, max_size=6, unique_by=lambda s: s.source_server_id), account=_text)
def test_any_inventory_survives_the_round_trip(
    db: Database, servers: list[SourceServer], account: str
) -> None:
    inventory = Inventory(tuple(servers), fetched_at=T0, account_id=account, region="ap-south-1")
    save_inventory(db, inventory)
    assert load_inventory(db, account, "ap-south-1") == inventory


EXTENDED = _server(
    "ext",
    hostname="stg-00001",
    replication_state="CONTINUOUS",
    arn=f"arn:aws:drs:us-east-1:{ACCOUNT}:source-server/s-00000000000000ext",
    staging_account_id=OTHER_ACCOUNT,
    staging_source_server_arn=f"arn:aws:drs:us-east-1:{OTHER_ACCOUNT}:source-server/s-0000000000000a1b2",
    extension_status="EXTENDED",
)


def test_an_extended_server_keeps_its_staging_account(db: Database) -> None:
    save_inventory(db, Inventory((WEB, EXTENDED), account_id=ACCOUNT, region="us-east-1"), now=T0)
    loaded = load_inventory(db, ACCOUNT, "us-east-1")
    assert loaded is not None and loaded.servers == (WEB, EXTENDED)
    assert not loaded.servers[0].is_extended and loaded.servers[0].extended_from() == ""
    assert loaded.servers[1].extended_from() == (
        f"extended from staging account {OTHER_ACCOUNT} (server s-0000000000000a1b2)"
    )


def test_a_version_3_cache_is_migrated_and_its_servers_kept(tmp_path: Path) -> None:
    from drs_desktop.storage.schema import load_migrations

    path = tmp_path / "v3.db"
    v3 = [m for m in load_migrations() if m.version <= 3]
    with Database.open(path, migrations=v3) as old:
        with old.transaction() as conn:
            conn.execute(
                "INSERT INTO inventory_snapshots (account_id, region, fetched_at, server_count) "
                "VALUES (?, 'us-east-1', '2025-03-01T12:00:00.000000+00:00', 1)",
                (ACCOUNT,),
            )
            conn.execute(
                "INSERT INTO inventory (account_id, region, source_server_id, position, hostname) "
                "VALUES (?, 'us-east-1', 's-00000000000000old', 0, 'old01')",
                (ACCOUNT,),
            )
    with Database.open(path) as db:
        loaded = load_inventory(db, ACCOUNT, "us-east-1")
    assert loaded is not None and [s.hostname for s in loaded.servers] == ["old01"]
    assert loaded.servers[0].staging_account_id == "" and not loaded.servers[0].is_extended
    assert list((tmp_path / "backups").iterdir())  # copied before the migration


def test_a_synced_server_of_an_older_desktop_without_ips_reads_with_none(db: Database) -> None:
    from drs_desktop.storage.inventory import SERVER_COLUMNS, inventory_body, servers_from_body

    save_inventory(db, Inventory(servers=(WEB,), fetched_at=T0, account_id=ACCOUNT, region="us-east-1"))
    body = inventory_body(db, ACCOUNT, "us-east-1")
    assert body is not None and body["servers"][0]["ips"] == '["10.0.1.15", "192.168.7.4"]'
    del body["servers"][0]["ips"]  # schema 11 sent no IPs
    del body["servers"][0]["aws_instance_id"]  # nor an instance (schema 14)
    _, rows = servers_from_body(body)
    columns = [name.strip() for name in SERVER_COLUMNS.split(",")]
    assert rows[0][columns.index("ips")] == "[]"
    assert rows[0][columns.index("aws_instance_id")] == ""
    body["servers"][0]["ips"] = '{"not": "a list"}'
    with pytest.raises(ValueError, match="IPs are not a JSON list"):
        servers_from_body(body)
