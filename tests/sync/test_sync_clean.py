"""``sync clean``: body parts no head and no revision names are deleted, nothing else (aws.sync_clean;
issue 14). Races made for real on moto's server over loopback HTTP with the real boto3 client: two
desktops commit the same version of a large body; the loser's parts are left behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.aws.sync_clean import clean_parts
from drs_desktop.aws.sync_feed import Change, Committed, Conflict, allocate, commit
from drs_desktop.aws.sync_history import RevisionItem, put_revision
from drs_desktop.aws.sync_parts import PART_BYTES, part_items
from drs_desktop.aws.sync_pull import read_heads
from drs_desktop.aws.sync_schema import INIT_ACTIONS, RUNTIME_ACTIONS, SyncTableTarget, dynamodb_client
from drs_desktop.aws.sync_table import create_table
from drs_desktop.cli import main
from drs_desktop.domain.sync_errors import SyncAccessDenied
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.iam_emulator import SETUP_REQUESTS, user_allowed
from tests.sync.lease_helpers import TABLE, make_table

BIG = "x" * (PART_BYTES * 2 + 10)  # three parts


def _big(tag: str) -> str:
    return json.dumps({"who": tag, "pad": BIG})


def _parts(client: Any, pk: str) -> list[str]:
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": "PART#"}},
        "ProjectionExpression": "sk",
        "ConsistentRead": True,
    }
    found: list[str] = []
    while True:  # a page holds at most 1 MB: three parts
        answer = client.query(**request)
        found += [item["sk"]["S"] for item in answer["Items"]]
        if not answer.get("LastEvaluatedKey"):
            return sorted(found)
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def lost_race(client: Any, key: str = "team.notes") -> tuple[list[str], list[str]]:
    """Two desktops commit version 1 of one large setting: the winner's parts and the loser's."""
    pk = f"SETTING#{key}"
    won = commit(client, TABLE, Change("SETTING", key, None, _big("a"), "desk-a", "1.0"))
    assert isinstance(won, Committed)
    winners = _parts(client, pk)
    lost = commit(client, TABLE, Change("SETTING", key, None, _big("b"), "desk-b", "1.0"))
    assert isinstance(lost, Conflict)  # its parts were written before its transaction failed
    losers = sorted(set(_parts(client, pk)) - set(winners))
    assert len(winners) == len(losers) == 3
    return winners, losers


def test_clean_deletes_exactly_what_a_lost_race_left_and_a_dry_run_nothing(
    dynamodb: DynamoDbEmulator,
) -> None:
    make_table(dynamodb)
    client = dynamodb.client()
    winners, losers = lost_race(client)
    pk = "SETTING#team.notes"
    # A push in flight: its number allocated, its parts written, its commit not yet made.
    flying = allocate(client, TABLE)
    for part in part_items(pk, 2, flying, _big("c")):
        client.put_item(TableName=TABLE, Item=part)
    # A revision lost its number to another: its parts stay behind too; the winner's are named.
    plan_pk = "PLAN#p-1"
    won = RevisionItem("p-1", 1, "rev-a", "h", _big("ra"), "", "alice", "2026-01-01T00:00:00Z", "desk-a")
    assert put_revision(client, TABLE, won)
    assert not put_revision(client, TABLE, RevisionItem(**{**won.__dict__, "revision_id": "rev-b"}))
    assert commit(client, TABLE, Change("PLAN", "p-1", None, '{"name": "p"}', "desk-a", "1.0"))
    revision_losers = [sk for sk in _parts(client, plan_pk) if "#rev-b#" in sk]
    assert len(revision_losers) == 3

    dry = clean_parts(client, TABLE, dry_run=True, margin=0)
    assert sorted(dry.deleted) == sorted(
        [f"{pk}/{sk}" for sk in losers] + [f"{plan_pk}/{sk}" for sk in revision_losers]
    )
    assert len(_parts(client, pk)) == 9 and len(_parts(client, plan_pk)) == 6, "a dry run deletes nothing"

    within = clean_parts(client, TABLE, margin=100, dry_run=True)  # the default grace: too recent
    assert [d for d in within.deleted if d.startswith(pk)] == [] and within.kept["within the grace"] == 3

    report = clean_parts(client, TABLE, margin=0)
    assert sorted(report.deleted) == sorted(dry.deleted)
    assert report.kept == {
        "named by the head": 3,
        "of a change not committed yet": 3,
        "named by a revision": 3,
    }
    left = _parts(client, pk)
    assert set(left) == set(winners) | {sk for sk in left if f"#{flying:020d}#" in sk} and len(left) == 6
    assert [sk for sk in _parts(client, plan_pk) if "#rev-b#" in sk] == []
    head = read_heads(client, TABLE, [("SETTING", "team.notes")])[("SETTING", "team.notes")]
    assert head.body == _big("a"), "the live head's body still joins and hashes right"
    assert clean_parts(client, TABLE, margin=0).deleted == [], "nothing left to clean"


@pytest.fixture
def iam_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SyncTableTarget, SyncTableTarget]]:
    """Targets for an operator (the everyday statement) and a maintainer (both statements), on moto's
    server enforcing IAM once both users are made."""
    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", str(2 * SETUP_REQUESTS))
    emulator = DynamoDbEmulator()
    emulator.start()
    try:
        operator = user_allowed(emulator, "operator", RUNTIME_ACTIONS)
        # moto checks TransactWriteItems as an action of its own (AWS checks the actions underneath).
        admin = user_allowed(
            emulator, "admin", (*RUNTIME_ACTIONS, *INIT_ACTIONS, "dynamodb:TransactWriteItems")
        )
        url = emulator.endpoint_url
        yield (
            SyncTableTarget(table=TABLE, region=REGION, endpoint_url=url, credentials=operator),
            SyncTableTarget(table=TABLE, region=REGION, endpoint_url=url, credentials=admin),
        )
    finally:
        emulator.stop()


def test_an_operator_is_refused_in_one_line_naming_the_statement(
    iam_table: tuple[SyncTableTarget, SyncTableTarget],
) -> None:
    operator, admin = iam_table
    create_table(admin)
    lost_race(dynamodb_client(admin))
    with pytest.raises(SyncAccessDenied) as caught:
        clean_parts(dynamodb_client(operator), TABLE, margin=0)
    message = str(caught.value)
    assert "dynamodb:BatchWriteItem" in message and "DeleteItem" in message
    assert "DrsDesktopSyncInit" in message and "\n" not in message
    assert clean_parts(dynamodb_client(operator), TABLE, margin=0, dry_run=True).deleted, "reading is allowed"
    assert len(clean_parts(dynamodb_client(admin), TABLE, margin=0).deleted) == 3


def test_the_cli_reports_what_it_read_deleted_and_kept(
    tmp_path: Path, dynamodb: DynamoDbEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(dynamodb)
    where = ["--table", TABLE, "--region", REGION, "--endpoint-url", dynamodb.endpoint_url]
    home = ["--home", str(tmp_path / "a")]
    assert main(["sync", "clean", "--dry-run", "--json", *where, *home]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True and report["deleted"] == [] and report["parts"] == 0
    lost_race(dynamodb.client())
    assert main(["sync", "clean", *home]) == 0  # the table remembered
    out = capsys.readouterr().out
    assert "and 6 parts; deleted 0; kept: 3 named by the head, 3 within the grace" in out
