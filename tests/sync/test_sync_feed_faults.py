"""The change sequence under load refusals: throttling, transaction conflicts, unprocessed keys, lost answers.

moto never throttles, so the refusals are injected at the HTTP layer of the real boto3 client: a
``before-send`` handler answers chosen requests with the status and JSON body DynamoDB sends for them,
and every other request goes to moto's server. botocore's own retries are off on these clients
(``total_max_attempts=1``), so what retries here is the sync module; its backoff sleeps are recorded,
not slept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from drs_desktop.aws.sync_feed import (
    Change,
    Committed,
    Conflict,
    GapTracker,
    HeadSummary,
    MalformedItem,
    allocate,
    commit,
    pull,
    read_counter,
    read_heads,
)
from drs_desktop.aws.sync_retry import Backoff
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.sync.feed_helpers import TABLE, FakeClock, big_body, feed_items, make_table

NO_RETRY = Config(retries={"total_max_attempts": 1})


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_kwargs: Any) -> list[bytes]:
        return [self._data]


def answer(request: AWSPreparedRequest, status: int, body: dict[str, Any]) -> AWSResponse:
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))


def refusal(code: str) -> Callable[[AWSPreparedRequest], AWSResponse]:
    return lambda request: answer(request, 400, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}"})


class Faults:
    """Answers the next requests of the named operations with the given responses, then lets them through."""

    def __init__(self, client: Any) -> None:
        self.planned: dict[str, list[Callable[[AWSPreparedRequest], AWSResponse]]] = {}
        self.sent: list[str] = []
        client.meta.events.register("before-send.dynamodb", self._before_send)

    def plan(self, operation: str, *responses: Callable[[AWSPreparedRequest], AWSResponse]) -> None:
        self.planned.setdefault(operation, []).extend(responses)

    def _before_send(self, request: AWSPreparedRequest, **_kwargs: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else str(target)).rpartition(".")[2]
        self.sent.append(operation)
        queue = self.planned.get(operation)
        return queue.pop(0)(request) if queue else None


@pytest.fixture
def setup(dynamodb: DynamoDbEmulator) -> tuple[Any, Faults, list[float]]:
    client = dynamodb.client(config=NO_RETRY)
    make_table(client)
    return client, Faults(client), []


def change(key: str, body: str = '{"n": 1}') -> Change:
    return Change("PLAN", key, None, body, "desk-a", "1.4.0")


def test_a_throttled_counter_add_is_retried_and_moves_the_counter_once(
    setup: tuple[Any, Faults, list[float]],
) -> None:
    client, faults, slept = setup
    backoff = Backoff(sleep=slept.append)
    faults.plan(
        "UpdateItem",
        refusal("ThrottlingException"),
        refusal("ProvisionedThroughputExceededException"),
        refusal("RequestLimitExceeded"),
    )
    assert allocate(client, TABLE, backoff=backoff) == 1
    assert read_counter(client, TABLE) == 1
    assert len(slept) == 3 and faults.sent.count("UpdateItem") == 4


def test_throttling_that_outlasts_the_backoff_is_raised_and_moved_nothing(
    setup: tuple[Any, Faults, list[float]],
) -> None:
    client, faults, slept = setup
    faults.plan("UpdateItem", *[refusal("ThrottlingException")] * 3)
    with pytest.raises(ClientError, match="ThrottlingException"):
        allocate(client, TABLE, backoff=Backoff(attempts=3, sleep=slept.append))
    assert read_counter(client, TABLE) == 0 and len(slept) == 2


def test_a_transaction_cancelled_for_conflict_or_throttling_is_sent_again_and_commits_once(
    setup: tuple[Any, Faults, list[float]],
) -> None:
    client, faults, slept = setup

    def cancelled(*codes: str) -> Callable[[AWSPreparedRequest], AWSResponse]:
        body = {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled",
            "CancellationReasons": [{"Code": code} for code in codes],
        }
        return lambda request: answer(request, 400, body)

    faults.plan(
        "TransactWriteItems",
        cancelled("None", "TransactionConflict"),
        cancelled("ThrottlingError", "None"),
        refusal("ThrottlingException"),
    )
    result = commit(client, TABLE, change("p1"), backoff=Backoff(sleep=slept.append))
    assert result == Committed(seq=1, version=1)
    assert len(slept) == 3 and faults.sent.count("TransactWriteItems") == 4
    assert len(feed_items(client)) == 1 and read_counter(client, TABLE) == 1


def test_a_cancellation_for_another_reason_is_raised_not_retried(
    setup: tuple[Any, Faults, list[float]],
) -> None:
    client, faults, slept = setup
    body = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "CancellationReasons": [{"Code": "ValidationError"}, {"Code": "None"}],
    }
    faults.plan("TransactWriteItems", lambda request: answer(request, 400, body))
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        commit(client, TABLE, change("p1"), backoff=Backoff(sleep=slept.append))
    assert slept == [] and feed_items(client) == []


def test_throttled_reads_and_unprocessed_keys_are_retried_and_the_results_are_whole(
    setup: tuple[Any, Faults, list[float]],
) -> None:
    client, faults, slept = setup
    backoff = Backoff(sleep=slept.append)
    body = big_body()
    commit(client, TABLE, Change("EXEC", "e1", None, body, "desk-a", "1.4.0"))
    commit(client, TABLE, change("p1"))

    faults.plan("GetItem", refusal("ProvisionedThroughputExceededException"))
    faults.plan("Query", refusal("ThrottlingException"))
    result = pull(client, TABLE, 0, now=FakeClock(), gaps=GapTracker(), grace=30.0, backoff=backoff)
    assert [c.key for c in result.changes] == ["e1", "p1"] and result.cursor == 2

    def all_unprocessed(request: AWSPreparedRequest) -> AWSResponse:
        asked = json.loads(request.body or b"{}")["RequestItems"]
        return answer(request, 200, {"Responses": {TABLE: []}, "UnprocessedKeys": asked})

    # Heads: once all unprocessed; parts: throttled once, then all unprocessed.
    faults.plan("BatchGetItem", all_unprocessed, refusal("ThrottlingException"), all_unprocessed)
    heads = read_heads(client, TABLE, [("EXEC", "e1"), ("PLAN", "p1")], backoff=backoff)
    assert heads[("EXEC", "e1")].body == body and heads[("PLAN", "p1")].body == '{"n": 1}'
    assert len(slept) == 2 + 3


def test_keys_that_stay_unprocessed_end_in_a_clear_error(setup: tuple[Any, Faults, list[float]]) -> None:
    client, faults, slept = setup
    commit(client, TABLE, change("p1"))

    def all_unprocessed(request: AWSPreparedRequest) -> AWSResponse:
        asked = json.loads(request.body or b"{}")["RequestItems"]
        return answer(request, 200, {"Responses": {TABLE: []}, "UnprocessedKeys": asked})

    faults.plan("BatchGetItem", *[all_unprocessed] * 4)
    with pytest.raises(Exception, match="1 keys stayed unprocessed"):
        read_heads(client, TABLE, [("PLAN", "p1")], backoff=Backoff(attempts=4, sleep=slept.append))


def test_an_add_applied_twice_after_a_lost_answer_skips_a_number_that_is_fenced_and_nothing_is_lost(
    dynamodb: DynamoDbEmulator,
) -> None:
    """botocore resends an ADD whose answer was lost (a 500 after it applied): one number is skipped."""
    client = dynamodb.client()  # botocore's own retries on, as the application's clients have them
    make_table(client)
    faults = Faults(client)
    other = dynamodb.client()

    def applied_then_lost(request: AWSPreparedRequest) -> AWSResponse:
        other.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "META"}, "sk": {"S": "SEQ"}},
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        return answer(request, 500, {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"})

    faults.plan("UpdateItem", applied_then_lost)
    result = commit(client, TABLE, change("p1"))
    assert result == Committed(seq=2, version=1)
    assert faults.sent.count("UpdateItem") == 2 and read_counter(client, TABLE) == 2

    clock, gaps = FakeClock(), GapTracker()
    first = pull(client, TABLE, 0, now=clock, gaps=gaps, grace=30.0)
    assert (first.cursor, first.waiting, first.changes) == (0, (1,), ())
    clock.advance(30.0)
    second = pull(client, TABLE, 0, now=clock, gaps=gaps, grace=30.0)
    assert second.fenced == (1,) and second.cursor == 2
    assert [(c.seq, c.key) for c in second.changes] == [(2, "p1")]


def test_a_conflict_is_told_from_the_refusal_itself_or_read_back_when_the_endpoint_omits_the_item(
    setup: tuple[Any, Faults, list[float]],
) -> None:
    client, faults, _slept = setup
    commit(client, TABLE, Change("PLAN", "p1", None, "{}", "desk-a", "1.4.0"))
    faults.sent.clear()
    first = commit(client, TABLE, Change("PLAN", "p1", None, "{}", "desk-b", "1.4.0"))
    assert isinstance(first, Conflict) and first.theirs == HeadSummary(1, 1, "desk-a", False)
    # moto, like DynamoDB, returns the head in CancellationReasons (ALL_OLD): no read after the refusal.
    assert faults.sent == ["UpdateItem", "TransactWriteItems", "PutItem"]

    bare = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "CancellationReasons": [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}],
    }
    faults.plan("TransactWriteItems", lambda request: answer(request, 400, bare))
    faults.sent.clear()
    second = commit(client, TABLE, Change("PLAN", "p1", None, "{}", "desk-b", "1.4.0"))
    assert isinstance(second, Conflict) and second.theirs == first.theirs
    assert faults.sent == ["UpdateItem", "TransactWriteItems", "GetItem", "PutItem"]


def test_a_feed_entry_that_is_not_what_the_design_says_is_refused_by_name_and_holds_the_cursor(
    setup: tuple[Any, Faults, list[float]],
) -> None:
    client, _faults, _slept = setup
    commit(client, TABLE, change("p1"))
    number = allocate(client, TABLE)
    client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "FEED"},
            "sk": {"S": f"SEQ#{number:020d}"},
            "kind": {"S": "PLAN"},
            "key": {"S": "x"},
        },
    )
    with pytest.raises(MalformedItem, match=rf"FEED/SEQ#{number:020d}: attribute 'version' is missing"):
        pull(client, TABLE, 0, now=FakeClock(), gaps=GapTracker(), grace=30.0)
    # The caller's cursor did not move, so once the entry is repaired nothing before or at it is lost.
    client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "FEED"}, "sk": {"S": f"SEQ#{number:020d}"}},
        UpdateExpression="SET version = :v, deleted = :d, writer = :w",
        ExpressionAttributeValues={":v": {"N": "1"}, ":d": {"BOOL": False}, ":w": {"S": "desk-x"}},
    )
    result = pull(client, TABLE, 0, now=FakeClock(), gaps=GapTracker(), grace=30.0)
    assert [(c.seq, c.key) for c in result.changes] == [(1, "p1"), (number, "x")]
