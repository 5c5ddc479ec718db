"""The emulator the sync tests use answers DynamoDB's API over HTTP, and refuses connections when stopped."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from tests.sync.dynamodb_emulator import DynamoDbEmulator


def test_a_table_round_trip_and_a_stopped_server_refuses(dynamodb: DynamoDbEmulator) -> None:
    client = dynamodb.client()
    client.create_table(
        TableName="t",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    got = client.get_item(TableName="t", Key={"pk": {"S": "a"}}, ConsistentRead=True)
    assert got["Item"]["n"] == {"N": "1"}
    dynamodb.stop()
    with pytest.raises(EndpointConnectionError):
        dynamodb.client().get_item(TableName="t", Key={"pk": {"S": "a"}})
