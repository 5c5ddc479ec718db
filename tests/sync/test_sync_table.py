"""``aws.sync_table``: creating, adopting and checking the team's sync table (docs/sync.md), against moto's
DynamoDB server over loopback HTTP with the real boto3 client. What each test checks is read back from the
emulator with a client of its own, not from what ``create_table`` says it did.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from drs_desktop import __version__
from drs_desktop.aws.sync_schema import RUNTIME_ACTIONS
from drs_desktop.aws.sync_table import (
    SyncTableTarget,
    check_table,
    create_table,
    least_privilege_policy,
)
from drs_desktop.domain.sync_errors import (
    SyncTableMismatch,
    SyncTableMissing,
    SyncTableTooNew,
    SyncTargetError,
)
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.refusing_proxy import RefusingProxy

TABLE = "team-sync"
HEADER_KEY = {"pk": {"S": "META"}, "sk": {"S": "TABLE"}}
COUNTER_KEY = {"pk": {"S": "META"}, "sk": {"S": "SEQ"}}
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def _target(endpoint_url: str, table: str = TABLE) -> SyncTableTarget:
    return SyncTableTarget(table=table, region=REGION, endpoint_url=endpoint_url)


def _item(client: Any, key: dict[str, Any], table: str = TABLE) -> dict[str, Any] | None:
    item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    return dict(item) if item is not None else None


def _all_items(client: Any, table: str) -> list[dict[str, Any]]:
    return list(client.scan(TableName=table)["Items"])  # the test's own look, never the app's


def _create_raw(client: Any, table: str, keys: list[tuple[str, str, str]]) -> None:
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t, _ in keys],
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, _, k in keys],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def client(dynamodb: DynamoDbEmulator) -> Iterator[Any]:
    yield dynamodb.client()


def test_init_creates_the_table_the_design_describes(dynamodb: DynamoDbEmulator, client: Any) -> None:
    result = create_table(_target(dynamodb.endpoint_url), now=lambda: NOW)

    table = client.describe_table(TableName=TABLE)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "pk": "S",
        "sk": "S",
    }
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert not table.get("GlobalSecondaryIndexes") and not table.get("LocalSecondaryIndexes")
    backups = client.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = client.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert {"Key": "application", "Value": "drs-desktop"} in tags

    sts = boto3.session.Session().client(  # moto's own answer, asked directly
        "sts",
        endpoint_url=dynamodb.endpoint_url,
        region_name=REGION,
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    header = _item(client, HEADER_KEY)
    assert header == {
        **HEADER_KEY,
        "schema": {"N": "1"},
        "min_app_version": {"S": __version__},
        "created_at": {"S": "2026-03-01T12:30:00+00:00"},
        "created_by": {"S": sts.get_caller_identity()["Arn"]},
    }
    assert _item(client, COUNTER_KEY) == {**COUNTER_KEY, "n": {"N": "0"}}
    assert len(_all_items(client, TABLE)) == 2

    assert result.created and not result.already_set_up
    assert result.header_written and result.counter_written
    assert result.pitr.enabled is True and result.pitr.changed
    assert result.arn == table["TableArn"]
    assert result.billing_mode == "PAY_PER_REQUEST"
    assert result.header.created_by == header["created_by"]["S"]


def test_init_twice_says_already_set_up_and_overwrites_nothing(
    dynamodb: DynamoDbEmulator, client: Any
) -> None:
    target = _target(dynamodb.endpoint_url)
    create_table(target, now=lambda: NOW)
    client.update_item(  # the team has pushed 41 changes since
        TableName=TABLE,
        Key=COUNTER_KEY,
        UpdateExpression="ADD n :k",
        ExpressionAttributeValues={":k": {"N": "41"}},
    )
    header_before = _item(client, HEADER_KEY)

    again = create_table(
        target,
        min_app_version="0.0.1",
        now=lambda: datetime(2030, 1, 1, tzinfo=UTC),
        identity=lambda: "someone",
    )

    assert again.already_set_up
    assert not (again.created or again.header_written or again.counter_written)
    assert again.pitr.enabled is True and not again.pitr.changed
    assert _item(client, COUNTER_KEY) == {**COUNTER_KEY, "n": {"N": "41"}}
    assert _item(client, HEADER_KEY) == header_before
    assert again.header.min_app_version == __version__  # the table's, not the one asked for this time


@pytest.mark.parametrize(
    "keys, shown",
    [
        ([("id", "S", "HASH")], "id (S, HASH)"),
        ([("pk", "S", "HASH"), ("sk", "N", "RANGE")], "sk (N, RANGE)"),
        ([("PK", "S", "HASH"), ("SK", "S", "RANGE")], "PK (S, HASH), SK (S, RANGE)"),
    ],
)
def test_a_table_with_other_keys_is_refused_untouched(
    dynamodb: DynamoDbEmulator, client: Any, keys: list[tuple[str, str, str]], shown: str
) -> None:
    _create_raw(client, "theirs", keys)
    theirs = {name: ({"S": "x"} if kind == "S" else {"N": "1"}) for name, kind, _ in keys}
    client.put_item(TableName="theirs", Item=theirs)

    with pytest.raises(SyncTableMismatch) as caught:
        create_table(_target(dynamodb.endpoint_url, "theirs"))

    assert shown in str(caught.value) and "Nothing was changed" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert _all_items(client, "theirs") == [theirs]
    backups = client.describe_continuous_backups(TableName="theirs")["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"


def test_an_empty_table_with_the_right_keys_is_adopted(dynamodb: DynamoDbEmulator, client: Any) -> None:
    """What the CloudFormation template leaves: the table, no header; init writes the header and counter."""
    _create_raw(client, TABLE, [("pk", "S", "HASH"), ("sk", "S", "RANGE")])

    result = create_table(_target(dynamodb.endpoint_url), identity=lambda: "arn:aws:iam::1:user/ops")

    assert not result.created and not result.already_set_up
    assert result.header_written and result.counter_written and result.pitr.changed
    assert _item(client, HEADER_KEY)["created_by"] == {"S": "arn:aws:iam::1:user/ops"}  # type: ignore[index]
    assert check_table(_target(dynamodb.endpoint_url)).header.schema == 1


def test_a_table_whose_header_is_not_ours_is_refused_and_gets_no_counter(
    dynamodb: DynamoDbEmulator, client: Any
) -> None:
    _create_raw(client, TABLE, [("pk", "S", "HASH"), ("sk", "S", "RANGE")])
    client.put_item(
        TableName=TABLE, Item={**HEADER_KEY, "schema": {"S": "v2"}, "owner": {"S": "another app"}}
    )

    with pytest.raises(SyncTableMismatch, match="not a DRS Desktop sync table"):
        create_table(_target(dynamodb.endpoint_url))
    with pytest.raises(SyncTableMismatch, match="not a DRS Desktop sync table"):
        check_table(_target(dynamodb.endpoint_url))

    assert _item(client, COUNTER_KEY) is None
    assert len(_all_items(client, TABLE)) == 1


def test_check_table_names_what_is_wrong(dynamodb: DynamoDbEmulator, client: Any) -> None:
    target = _target(dynamodb.endpoint_url)
    with pytest.raises(SyncTableMissing, match=f"no DynamoDB table {TABLE}"):
        check_table(target)

    _create_raw(client, TABLE, [("pk", "S", "HASH"), ("sk", "S", "RANGE")])
    with pytest.raises(SyncTableMismatch, match=f"drs-desktop sync init --table {TABLE}"):
        check_table(target)

    create_table(target)
    info = check_table(target)
    assert (info.header.schema, info.header.min_app_version, info.status) == (1, __version__, "ACTIVE")

    client.update_item(
        TableName=TABLE,
        Key=HEADER_KEY,
        UpdateExpression="SET min_app_version = :v",
        ExpressionAttributeValues={":v": {"S": "99.1.0"}},
    )
    with pytest.raises(SyncTableTooNew) as caught:
        check_table(target, app_version="99.0.5")
    assert "99.1.0" in str(caught.value) and "99.0.5" in str(caught.value)
    assert check_table(target, app_version="99.10.0").header.min_app_version == "99.1.0"

    client.update_item(
        TableName=TABLE, Key=HEADER_KEY, UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "schema"}, ExpressionAttributeValues={":s": {"N": "2"}},
    )  # fmt: skip
    with pytest.raises(SyncTableTooNew, match="schema 2"):
        create_table(target)


def test_an_endpoint_that_refuses_pitr_is_reported_not_hidden(
    dynamodb: DynamoDbEmulator, client: Any
) -> None:
    with RefusingProxy(dynamodb.endpoint_url, {"UpdateContinuousBackups"}) as proxy:
        result = create_table(_target(proxy.endpoint_url))

    assert proxy.refused == {"UpdateContinuousBackups": 1}
    assert result.pitr.enabled is False
    assert "refused" in result.pitr.reason and "UnknownOperationException" in result.pitr.reason
    assert result.pitr.describe().startswith("point-in-time recovery: off: ")
    backups = client.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    assert result.header_written and _item(client, COUNTER_KEY) is not None  # the table works without it


def test_pitr_unknown_when_neither_read_nor_switch_is_allowed(dynamodb: DynamoDbEmulator) -> None:
    refuse = {"UpdateContinuousBackups", "DescribeContinuousBackups"}
    with RefusingProxy(dynamodb.endpoint_url, refuse, code="AccessDeniedException") as proxy:
        result = create_table(_target(proxy.endpoint_url))

    assert result.pitr.enabled is None
    assert "dynamodb:DescribeContinuousBackups" in result.pitr.reason
    assert "dynamodb:UpdateContinuousBackups" in result.pitr.reason


def test_pitr_not_yet_available_on_a_new_table_is_retried_with_backoff(
    dynamodb: DynamoDbEmulator, client: Any
) -> None:
    slept: list[float] = []
    with RefusingProxy(
        dynamodb.endpoint_url,
        {"UpdateContinuousBackups"},
        code="ContinuousBackupsUnavailableException",
        times=2,
    ) as proxy:
        result = create_table(_target(proxy.endpoint_url), sleep=slept.append)

    assert proxy.refused == {"UpdateContinuousBackups": 2}
    assert slept == [2.0, 4.0]
    assert result.pitr.enabled is True and result.pitr.changed
    backups = client.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_init_waits_for_a_creating_table_to_become_active(dynamodb: DynamoDbEmulator, client: Any) -> None:
    slept: list[float] = []
    with RefusingProxy(dynamodb.endpoint_url, set(), creating=3) as proxy:
        result = create_table(_target(proxy.endpoint_url), sleep=slept.append)

    assert proxy.creating == 0  # every CREATING answer was read
    assert slept == [2.0, 2.0, 2.0]  # CREATING after CreateTable and at two polls; ACTIVE at the third
    assert result.created and result.header_written
    assert _item(client, HEADER_KEY) is not None


@pytest.mark.parametrize(
    "table, endpoint, words",
    [
        ("ab", None, "not a DynamoDB table name"),
        ("team sync", None, "not a DynamoDB table name"),
        (TABLE, "http://10.0.0.5:8000", "plain http to another machine"),
        (TABLE, "https://ops:hunter2@dynamodb.example.com", "must not carry a user name or password"),
        (TABLE, "ftp://127.0.0.1", "not an http:// or https:// URL"),
    ],
)
def test_a_target_that_cannot_be_used_is_refused_before_any_call(
    table: str, endpoint: str | None, words: str
) -> None:
    with pytest.raises(SyncTargetError) as caught:
        SyncTableTarget(table=table, region=REGION, endpoint_url=endpoint)
    assert words in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_loopback_http_and_remote_https_endpoints_are_accepted() -> None:
    for url in ("http://127.0.0.1:8000", "http://localhost:8000", "https://dynamodb.example.com"):
        assert SyncTableTarget(table=TABLE, region=REGION, endpoint_url=url).endpoint_url == url


def test_the_policy_lists_the_design_actions_on_the_table() -> None:
    arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/team-sync"
    policy = least_privilege_policy(arn)

    assert policy["Version"] == "2012-10-17"
    runtime, init = policy["Statement"]
    assert runtime["Sid"] == "DrsDesktopSync" and init["Sid"] == "DrsDesktopSyncInit"
    assert {runtime["Resource"], init["Resource"]} == {arn}
    assert set(runtime["Action"]) == {
        f"dynamodb:{a}"
        for a in (
            "GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "ConditionCheckItem",
            "DescribeTable",
        )
    }  # fmt: skip
    assert set(init["Action"]) == {
        "dynamodb:CreateTable",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:TagResource",
        "dynamodb:BatchWriteItem",  # sync clean; IAM authorizes its DeleteRequests by this action alone
        "dynamodb:DeleteItem",
    }
    assert not any("Scan" in a for a in runtime["Action"] + init["Action"])
    # Nothing an operator's desktop may call deletes an item: no DeleteItem, no BatchWriteItem.
    assert not any("Delete" in a or "BatchWrite" in a for a in runtime["Action"])
    assert [s["Sid"] for s in least_privilege_policy(arn, include_init=False)["Statement"]] == [
        "DrsDesktopSync"
    ]
    assert tuple(runtime["Action"]) == RUNTIME_ACTIONS
    with pytest.raises(ValueError):
        least_privilege_policy("team-sync")
