"""Shared by the change-sequence tests (tests/sync/test_sync_feed*.py): the table, a hand-moved clock."""

from __future__ import annotations

import json
from typing import Any

from drs_desktop.aws.sync_parts import PART_BYTES

TABLE = "drs-sync-test"


def make_table(client: Any) -> None:
    """What aws/sync_table.py creates, as far as the feed needs it: pk/sk strings and the counter at 0."""
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=TABLE, Item={"pk": {"S": "META"}, "sk": {"S": "SEQ"}, "n": {"N": "0"}})


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def feed_items(client: Any) -> list[dict[str, Any]]:
    answer = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "FEED"}},
        ConsistentRead=True,
    )
    return list(answer["Items"])


def big_body() -> str:
    """JSON of about 2.5 x PART_BYTES, full of multi-byte characters so that slices must respect them."""
    rows = [{"server": f"s-{n:05d}", "note": "réplica ✓ 🚀 " * 8} for n in range(4_500)]
    body = json.dumps({"rows": rows}, ensure_ascii=False)
    assert 2 * PART_BYTES < len(body.encode("utf-8")) < 3 * PART_BYTES
    return body
