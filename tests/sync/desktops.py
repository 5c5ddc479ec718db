"""Two (or more) desktop homes syncing through one table on the moto server: each a real SQLite file and
its own ``SyncService`` with the real boto3 client (tests/sync/test_sync_service*.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.config import Config

from drs_desktop.aws.sync_retry import Backoff
from drs_desktop.aws.sync_table import SyncTableTarget, create_table
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services.sync import SyncService
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.feed_helpers import FakeClock

TABLE = "team-sync"
#: Backoff that never sleeps: the tests wait on nothing but the emulator's answers.
NO_WAIT = Backoff(attempts=3, base=0.0, cap=0.0, sleep=lambda _s: None)


def target(emulator: DynamoDbEmulator) -> SyncTableTarget:
    return SyncTableTarget(table=TABLE, region=REGION, endpoint_url=emulator.endpoint_url)


def init_table(emulator: DynamoDbEmulator) -> None:
    """What `sync init` does (aws/sync_table.create_table), on the emulator."""
    create_table(target(emulator), client=emulator.client(), identity=lambda: "tester", sleep=lambda _s: None)


def plan(name: str, *servers: str, description: str = "") -> RecoveryPlan:
    return RecoveryPlan(name=name, description=description, waves=(Wave(name="w1", servers=servers),))


@dataclass
class Desktop:
    """One desktop home: its database, its clock and its sync service."""

    name: str
    db: Database
    service: SyncService
    clock: FakeClock
    client: Any = None  # the service's boto3 client (a test may hook its events)

    @property
    def desktop_id(self) -> str:
        return outbox.get_state(self.db).desktop_id


def desktop(
    tmp_path: Path,
    name: str,
    emulator: DynamoDbEmulator,
    *,
    app_version: str = "0.1.0",
    endpoint_url: str | None = None,
    config: Config | None = None,
    backoff: Backoff = NO_WAIT,
) -> Desktop:
    """A desktop home syncing with ``emulator`` (or through ``endpoint_url``: a proxy in front of it);
    ``config`` is its boto3 client's (default: one attempt per call), ``backoff`` the sync module's."""
    endpoint = endpoint_url or emulator.endpoint_url
    db = Database.open(tmp_path / name / "drs.sqlite3")
    outbox.configure(db, TABLE, region=REGION, endpoint=endpoint)
    clock = FakeClock()
    client = emulator.client(
        endpoint_url=endpoint,
        config=config or Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2),
    )
    service = SyncService(
        db,
        client,
        SyncTableTarget(table=TABLE, region=REGION, endpoint_url=endpoint),
        outbox.get_state(db).desktop_id,
        app_version,
        monotonic=clock,
        backoff=backoff,
    )
    return Desktop(name, db, service, clock, client)


def table_items(emulator: DynamoDbEmulator, pk: str, prefix: str = "") -> list[dict[str, Any]]:
    """The test's own look at one partition (consistent Query)."""
    condition, values = "pk = :p", {":p": {"S": pk}}
    if prefix:
        condition += " AND begins_with(sk, :s)"
        values[":s"] = {"S": prefix}
    answer = emulator.client().query(
        TableName=TABLE,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        ConsistentRead=True,
    )
    return list(answer["Items"])
