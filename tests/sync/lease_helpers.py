"""What the lease tests share: the sync table on the emulator, and desktops' clients for it."""

from __future__ import annotations

from typing import Any

from drs_desktop.aws.sync_table import SyncTableTarget, create_table
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator

TABLE = "team-sync"


def make_table(dynamodb: DynamoDbEmulator) -> SyncTableTarget:
    """The team's sync table on ``dynamodb``, as ``sync init`` creates it."""
    target = SyncTableTarget(table=TABLE, region=REGION, endpoint_url=dynamodb.endpoint_url)
    create_table(target, identity=lambda: "")
    return target


def lease_item(client: Any, execution_id: str) -> dict[str, Any] | None:
    """The lease item as the table holds it, read by the test's own client."""
    key = {"pk": {"S": f"LEASE#{execution_id}"}, "sk": {"S": "LEASE"}}
    item = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")
    return dict(item) if item else None
