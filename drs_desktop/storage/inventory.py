"""The inventory cache: the last-known source servers of each account and region.

It lets an operator open and edit plans with no network, and tells them how old that knowledge is
(``fetched_at``) and where it came from (account and region). A refresh replaces the whole cached set
of its account and region in one transaction, so a reader never sees half of an old list and half of a
new one, and a server that DRS no longer lists disappears from the cache.

With the shared setting ``sync.inventory`` on, a refresh also queues the target's cache for the team
table in the same transaction (``sync_outbox.enqueue_inventory``); ``inventory_body`` is what the push
sends and ``servers_from_body`` what a pull reads back (docs/sync.md, kind ``INVENTORY``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now
from drs_desktop.storage.sync_outbox import enqueue_inventory

logger = logging.getLogger(__name__)

__all__ = [
    "SERVER_COLUMNS",
    "inventory_body",
    "load_inventory",
    "save_inventory",
    "server_values",
    "servers_from_body",
]

SERVER_COLUMNS = (
    "source_server_id, hostname, tags, replication_state, lag_seconds, os, last_launch_status, "
    "last_launched_at, arn, staging_account_id, staging_source_server_arn, extension_status, "
    "extension_error, ips, aws_instance_id, origin_account_id, origin_region"
)
SERVER_COLUMN_COUNT = SERVER_COLUMNS.count(",") + 1
_COLUMN_NAMES = tuple(name.strip() for name in SERVER_COLUMNS.split(","))
#: What a pulled body from an older desktop leaves out, read as this (columns added later).
_ABSENT: dict[str, object] = {
    "ips": "[]",
    "aws_instance_id": "",
    "origin_account_id": "",
    "origin_region": "",
}


def save_inventory(db: Database, inventory: Inventory, *, now: datetime | None = None) -> Inventory:
    """Replace the cached servers of ``inventory``'s account and region; return what was stored.

    ``fetched_at`` is the inventory's own, or ``now`` (the current time) when it has none. A server
    listed twice keeps its first entry.
    """
    fetched_at = inventory.fetched_at or now or utc_now()
    stamp = to_db_time(fetched_at)
    first: dict[str, SourceServer] = {}
    for server in inventory.servers:
        first.setdefault(server.source_server_id, server)
    servers = tuple(first.values())
    scope = (inventory.account_id, inventory.region)
    with db.transaction() as conn:
        conn.execute("DELETE FROM inventory WHERE account_id = ? AND region = ?", scope)
        conn.execute(
            "INSERT INTO inventory_snapshots (account_id, region, fetched_at, server_count) "
            "VALUES (?, ?, ?, ?) "
            "ON CONFLICT (account_id, region) DO UPDATE SET fetched_at = excluded.fetched_at, "
            "server_count = excluded.server_count",
            (*scope, stamp, len(servers)),
        )
        conn.executemany(
            f"INSERT INTO inventory (account_id, region, position, {SERVER_COLUMNS}) "
            f"VALUES (?, ?, ?, {', '.join('?' * SERVER_COLUMN_COUNT)})",
            [(*scope, position, *server_values(server)) for position, server in enumerate(servers)],
        )
        enqueue_inventory(conn, *scope)  # only while the team shares inventories (sync.inventory)
    logger.info("inventory cached: %d servers of %s/%s", len(servers), *scope)
    return Inventory(
        servers=servers,
        fetched_at=from_db_time(stamp),
        account_id=inventory.account_id,
        region=inventory.region,
    )


def load_inventory(
    db: Readable,
    account_id: str | None = None,
    region: str | None = None,
    *,
    exclude_accounts: Collection[str] = (),
) -> Inventory | None:
    """The cached inventory of ``account_id`` and ``region``; the most recently fetched one matching
    whichever of the two is given (or of all, when neither is), leaving out ``exclude_accounts`` (the
    accounts of other targets in the same Region). None when nothing is cached."""
    conditions: list[str] = []
    params: list[str] = []
    if exclude_accounts:
        conditions.append(f"account_id NOT IN ({', '.join('?' * len(exclude_accounts))})")
        params.extend(exclude_accounts)
    if account_id is not None:
        conditions.append("account_id = ?")
        params.append(account_id)
    if region is not None:
        conditions.append("region = ?")
        params.append(region)
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    with db.reader() as conn:
        snapshot = conn.execute(
            f"SELECT account_id, region, fetched_at FROM inventory_snapshots {where}"
            "ORDER BY fetched_at DESC, account_id, region LIMIT 1",
            params,
        ).fetchone()
        if snapshot is None:
            return None
        rows = conn.execute(
            f"SELECT {SERVER_COLUMNS} FROM inventory WHERE account_id = ? AND region = ? ORDER BY position",
            (snapshot[0], snapshot[1]),
        ).fetchall()
    return Inventory(
        servers=tuple(_server(row, snapshot[0], snapshot[1]) for row in rows),
        fetched_at=from_db_time(snapshot[2]),
        account_id=str(snapshot[0]),
        region=str(snapshot[1]),
    )


def server_values(server: SourceServer) -> tuple[object, ...]:
    return (
        server.source_server_id,
        server.hostname,
        json.dumps(dict(server.tags), sort_keys=True, ensure_ascii=False),
        server.replication_state,
        server.lag_seconds,
        server.os,
        server.last_launch_status,
        None if server.last_launched_at is None else to_db_time(server.last_launched_at),
        server.arn,
        server.staging_account_id,
        server.staging_source_server_arn,
        server.extension_status,
        server.extension_error,
        json.dumps(list(server.ips)),
        server.aws_instance_id,
        server.origin_account_id,
        server.origin_region,
    )


def _server(row: sqlite3.Row | tuple[object, ...], account_id: str, region: str) -> SourceServer:
    try:
        tags = json.loads(str(row[2]))
        if not isinstance(tags, dict):
            raise ValueError("tags are not a JSON object")
        ips = json.loads(str(row[13]))
        if not isinstance(ips, list) or not all(isinstance(ip, str) for ip in ips):
            raise ValueError("its IPs are not a JSON list of strings")
        return SourceServer(
            source_server_id=str(row[0]),
            hostname=str(row[1]),
            tags={str(key): str(value) for key, value in tags.items()},
            replication_state=str(row[3]),
            lag_seconds=None if row[4] is None else int(str(row[4])),
            os=str(row[5]),
            last_launch_status=str(row[6]),
            last_launched_at=None if row[7] is None else from_db_time(str(row[7])),
            arn=str(row[8]),
            staging_account_id=str(row[9]),
            staging_source_server_arn=str(row[10]),
            extension_status=str(row[11]),
            extension_error=str(row[12]),
            ips=tuple(ips),
            aws_instance_id=str(row[14]),
            origin_account_id=str(row[15]),
            origin_region=str(row[16]),
        )
    except ValueError as exc:
        raise StorageError(
            f"cached inventory of {account_id}/{region} is damaged (server {row[0]}): {exc}; refresh it"
        ) from exc


def inventory_body(db: Readable, account_id: str, region: str) -> dict[str, Any] | None:
    """The body a push sends for one target's cache: its account, Region, ``fetched_at`` and servers
    (each by its column names, in cache order); None when nothing is cached for it."""
    with db.reader() as conn:
        snapshot = conn.execute(
            "SELECT fetched_at FROM inventory_snapshots WHERE account_id = ? AND region = ?",
            (account_id, region),
        ).fetchone()
        if snapshot is None:
            return None
        rows = conn.execute(
            f"SELECT {SERVER_COLUMNS} FROM inventory WHERE account_id = ? AND region = ? ORDER BY position",
            (account_id, region),
        ).fetchall()
    names = _COLUMN_NAMES
    return {
        "account_id": account_id,
        "region": region,
        "fetched_at": str(snapshot[0]),
        "servers": [dict(zip(names, tuple(row), strict=True)) for row in rows],
    }


def servers_from_body(body: Mapping[str, Any]) -> tuple[datetime, list[tuple[object, ...]]]:
    """A pulled body's ``fetched_at`` and its servers as column values (``SERVER_COLUMNS`` order), each
    checked by reading it as a server. ValueError, naming what is wrong, for a body that is not one."""
    fetched_at = from_db_time(str(body.get("fetched_at")))
    servers = body.get("servers")
    if not isinstance(servers, list):
        raise ValueError("its servers are not a list")
    rows: list[tuple[object, ...]] = []
    for n, item in enumerate(servers):
        if not isinstance(item, dict) or not isinstance(item.get("source_server_id"), str):
            raise ValueError(f"server {n} is not a server")
        # A desktop older than schema 12 sends no IPs, older than 14 no instance, older than 16 no origin:
        # none until a refresh.
        row = tuple(item.get(name, _ABSENT.get(name)) for name in _COLUMN_NAMES)
        wrong = [name for name, value in zip(_COLUMN_NAMES, row, strict=True) if not _fits(name, value)]
        if wrong:
            raise ValueError(f"server {n} has no valid {', '.join(wrong)}")
        try:
            _server(row, "", "")
        except StorageError as exc:
            raise ValueError(str(exc)) from None
        rows.append(row)
    return fetched_at, rows


def _fits(name: str, value: object) -> bool:
    if name == "lag_seconds":
        return value is None or (isinstance(value, int) and not isinstance(value, bool))
    if name == "last_launched_at":
        return value is None or isinstance(value, str)
    return isinstance(value, str)
