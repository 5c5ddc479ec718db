"""The change sequence of the sync table: allocate a number, commit a change under it, pull in order.

docs/sync.md ("The change sequence") is the design; this module is its code, on a boto3 DynamoDB client
and a table name that the caller brings (aws/sync_table.py makes both). Why each step is safe:

1. **Allocate** (``allocate``): ``UpdateItem META/SEQ ADD n 1``. DynamoDB applies an ADD atomically, so
   the number it returns belongs to this change alone. An ADD is not idempotent: when a call is retried
   after an unclear failure (botocore does that on a 5xx or a dropped connection, and so does this module
   on throttling), the counter may move twice and one number is never used. That is harmless by design: a
   skipped number is a gap, and every gap is fenced after the grace, so a puller never waits for it forever.
   A number is never handed out twice, which is what matters.
2. **Commit** (``commit``): one ``TransactWriteItems`` puts the entity's head (condition: no head yet, or
   ``version = expected``) and the feed entry ``FEED/SEQ#s`` (condition: no entry yet). Both land or
   neither. The head's condition is the no-lost-update rule; the entry's condition is what makes a fence
   binding (step 3). A body too large for the head is written first as parts (aws/sync_parts.py); parts
   are invisible until a head names them, and their keys carry the number, so two writers never overwrite
   each other's. A cancelled transaction is told apart by its ``CancellationReasons`` (index 0 is the
   head, 1 the entry):

   - head condition failed: ``Conflict``, with the head the table holds now (its version, writer, deleted
     flag), taken from the same refusal (``ReturnValuesOnConditionCheckFailure``). Nothing was written.
     The writer fences its unused number itself at once (a conditional put, so it cannot hide a change):
     docs/sync.md leaves it to the pullers' grace, which would stall every cursor after each conflict.
   - entry condition failed, head fine: a puller fenced the number. ``commit`` itself allocates a new one
     and tries again, ``NUMBER_ATTEMPTS`` numbers in all, then answers ``FencedOut`` (nothing written;
     push again later). It retries inside ``commit`` because only a number changed: the change, its
     expected version and the operator's intent are the same, and every caller would write the same loop.
   - ``TransactionConflict`` / throttling reasons: nothing was written; the same transaction is sent
     again after a backoff.

   A retry can meet its own earlier success (botocore resent a transaction whose first answer was lost):
   then the entry at ``s`` is this change's, or the head is this writer's change at ``expected + 1`` with
   the same content. ``commit`` recognises that and answers ``Committed(recovered=True)``, never a
   conflict with itself, and never a second entry. (Inside one call botocore resends a transaction with
   the same ``ClientRequestToken``, which it fills in, so DynamoDB already treats that as one; the
   recognition covers a push repeated later, after an error whose outcome was unknown.) ``seq`` lets a
   caller commit under a number it allocated earlier; a number that turns out to be taken is simply
   replaced, as for a fence.
3. **Pull** (``pull``): a consistent ``Query`` of the feed after the cursor, every page. The cursor moves
   only over contiguous numbers, each a change or a fence, so a change committed late under a lower number
   is never skipped. The counter is read first: a number up to ``n`` with no entry is allocated but not
   committed (an open gap, at the end too). A gap open for ``grace`` seconds of the puller's own monotonic
   clock (``now``; first seen kept in ``GapTracker``, in memory, across pulls) is fenced with a conditional
   put of ``{fenced: true}``. Either the fence lands, and the late writer's transaction fails on its entry
   condition and retries under a new number (which the puller then reads), or the fence fails because the
   entry has just been committed, and the puller reads that entry. Each number ends up exactly one of a
   change or a fence, so nothing is lost and nothing is read twice. Clocks are never compared across
   desktops. A puller that restarts forgets its gaps and times them again: slower, never wrong. Only the
   changes up to the new cursor are returned: those beyond a waiting gap come again in a later pull, so
   none is returned twice. A feed entry that is not what the design says raises ``MalformedItem`` naming
   it, and the caller's cursor stays where it was.
4. **Read heads** (``read_heads``): consistent ``BatchGetItem``; unprocessed keys are retried with
   backoff; parts are joined and their SHA-256 checked. A missing or corrupt part refuses the whole call
   (``CorruptEntity`` naming the entity) so that nothing is half-applied.

Throttling (``ProvisionedThroughputExceededException``, ``ThrottlingException``,
``RequestLimitExceeded``, ``TransactionConflictException``) is retried with capped, jittered backoff
(aws/sync_retry.py). Every write here is conditional or harmless to repeat (parts: the same bytes under
the same key; the counter: a skipped number, see 1), so a retry never loses or doubles a change.

Pulling and reading heads live in aws/sync_pull.py, item keys and typed attribute reads in
aws/sync_items.py; this module re-exports them, so callers import the protocol from here. The functions
keep no state; a ``GapTracker`` belongs to one puller (one thread).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_desktop.aws.sync_items import (
    FEED_PK,
    HEAD_SK,
    KINDS,
    META_PK,
    SEQ_SK,
    Item,
    MalformedItem,
    SyncFeedError,
    get_bool,
    get_item,
    get_n,
    get_s,
    head_pk,
    key_of,
    optional_s,
    seq_sk,
)
from drs_desktop.aws.sync_parts import needs_parts, part_items, sha256_hex
from drs_desktop.aws.sync_pull import (
    CorruptEntity,
    FeedChange,
    GapTracker,
    Head,
    PullResult,
    fence,
    pull,
    read_counter,
    read_heads,
)
from drs_desktop.aws.sync_retry import (
    DEFAULT_BACKOFF,
    RETRYABLE_CANCEL_CODES,
    Backoff,
    error_code,
    is_throttled,
    retrying,
)

logger = logging.getLogger(__name__)

#: How many numbers one ``commit`` may go through when pullers fence them before it answers ``FencedOut``.
#: A fence needs the writer to stall for the whole grace between allocating and committing, so a second
#: fence in a row is already rare.
NUMBER_ATTEMPTS = 5
_CHECK_FAILED = "ConditionalCheckFailed"


@dataclass(frozen=True)
class Change:
    """One change to push: the new state of an entity, on top of the version this desktop last pulled.

    ``expected_version`` is ``None`` for an entity the table has never had. A tombstone (``deleted``) has
    no body. ``body`` is the entity's JSON text, as the caller serialised it.
    """

    kind: str
    key: str
    expected_version: int | None
    body: str | None
    writer: str
    app_version: str
    deleted: bool = False
    core: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}: one of {', '.join(sorted(KINDS))}")
        if not self.key:
            raise ValueError(f"a {self.kind} change needs a key")
        if self.deleted != (self.body is None):
            raise ValueError(f"{self.entity}: a tombstone has no body, any other change has one")
        if self.expected_version is not None and self.expected_version < 1:
            raise ValueError(f"{self.entity}: expected version {self.expected_version} (versions start at 1)")

    @property
    def entity(self) -> str:
        return head_pk(self.kind, self.key)

    @property
    def new_version(self) -> int:
        return (self.expected_version or 0) + 1


@dataclass(frozen=True)
class HeadSummary:
    """What a conflict shows of the head the table holds now (the other side)."""

    version: int
    seq: int
    writer: str
    deleted: bool


@dataclass(frozen=True)
class Committed:
    seq: int
    version: int
    #: Numbers this change was refused under because a puller had fenced them (each is a fence now).
    fenced_numbers: tuple[int, ...] = ()
    #: True when the table already held this very change (an earlier attempt whose answer was lost).
    recovered: bool = False


@dataclass(frozen=True)
class Conflict:
    """Someone else changed the entity since this desktop pulled it; nothing was written."""

    unused_seq: int
    #: The table's head now; ``None`` only when the table has no head for an entity expected to exist.
    theirs: HeadSummary | None


@dataclass(frozen=True)
class FencedOut:
    """Every number tried was fenced before the change committed; nothing written, push again later."""

    numbers: tuple[int, ...]


CommitResult = Committed | Conflict | FencedOut


class _Fenced:
    """The entry's condition failed and the head's did not: the number is taken, try another."""


_FENCED = _Fenced()


def allocate(client: Any, table: str, *, backoff: Backoff = DEFAULT_BACKOFF) -> int:
    """The next change number: ``META/SEQ ADD n 1``.

    Retried on throttling: a throttled ADD was refused and moved nothing. If a retry ever follows an ADD
    that did apply (an answer lost after botocore's own resend), one number is skipped: a gap that pullers
    fence after their grace, harmless. The number returned is never handed to anyone else.
    """

    def add() -> Any:
        return client.update_item(
            TableName=table,
            Key=key_of(META_PK, SEQ_SK),
            UpdateExpression="ADD n :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )

    try:
        answer = retrying(backoff, "allocating a change number", add)
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            raise SyncFeedError(
                f"table {table} has no change counter META/SEQ: it was not made by `sync init`"
            ) from None
        raise
    return get_n(answer["Attributes"], "n")


def commit(
    client: Any,
    table: str,
    change: Change,
    *,
    seq: int | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> CommitResult:
    """Push ``change`` under a number of its own (``seq`` if the caller allocated it, else a new one)."""
    number = seq if seq is not None else allocate(client, table, backoff=backoff)
    fenced: list[int] = []
    for attempt in range(NUMBER_ATTEMPTS):
        outcome = _commit_once(client, table, change, number, backoff)
        if isinstance(outcome, Committed):
            if outcome.seq != number:  # recognised as an earlier commit: this number is not needed
                _release(client, table, number, backoff)
            return Committed(outcome.seq, outcome.version, tuple(fenced), outcome.recovered)
        if isinstance(outcome, Conflict):
            _release(client, table, number, backoff)
            return outcome
        fenced.append(number)
        logger.info("sync: number %d for %s was fenced by a puller", number, change.entity)
        if attempt < NUMBER_ATTEMPTS - 1:
            number = allocate(client, table, backoff=backoff)
    return FencedOut(tuple(fenced))


def _release(client: Any, table: str, seq: int, backoff: Backoff) -> None:
    """Fence a number this writer holds and will not use, so that pullers need not wait out the grace.

    docs/sync.md leaves an unused number (a conflict) to the pullers' grace, which stalls every desktop's
    cursor for GAP_GRACE after each conflict. The writer that owns the number knows at once that it will
    not use it; the fence is conditional, so it can never hide a change. If it fails (the table out of
    reach), the pullers fence the number after their grace, as designed.
    """
    try:
        fence(client, table, seq, backoff=backoff)
    except (ClientError, BotoCoreError) as error:
        logger.info("sync: could not release unused number %d (%s); pullers will fence it", seq, error)


def _commit_once(
    client: Any, table: str, change: Change, seq: int, backoff: Backoff
) -> Committed | Conflict | _Fenced:
    pk = change.entity
    head: dict[str, Any] = {
        **key_of(pk, HEAD_SK),
        "kind": {"S": change.kind},
        "key": {"S": change.key},
        "version": {"N": str(change.new_version)},
        "seq": {"N": str(seq)},
        "deleted": {"BOOL": change.deleted},
        "writer": {"S": change.writer},
        "app_version": {"S": change.app_version},
    }
    if change.core is not None:
        head["core"] = {"BOOL": change.core}
    if change.body is not None and needs_parts(change.body):
        parts = part_items(pk, change.new_version, seq, change.body)
        for part in parts:
            # Unconditional and safe to repeat: the key is this change's alone (it carries ``seq``).
            retrying(backoff, f"writing a body part of {pk}", functools.partial(_put, client, table, part))
        head["parts"] = {"N": str(len(parts))}
        head["sha256"] = {"S": sha256_hex(change.body)}
    elif change.body is not None:
        head["body"] = {"S": change.body}
    head_put: dict[str, Any] = {
        "TableName": table,
        "Item": head,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if change.expected_version is None:
        head_put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        head_put["ConditionExpression"] = "version = :expected"
        head_put["ExpressionAttributeValues"] = {":expected": {"N": str(change.expected_version)}}
    entry = {
        **key_of(FEED_PK, seq_sk(seq)),
        "kind": {"S": change.kind},
        "key": {"S": change.key},
        "version": {"N": str(change.new_version)},
        "deleted": {"BOOL": change.deleted},
        "writer": {"S": change.writer},
    }
    entry_put = {
        "TableName": table,
        "Item": entry,
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    for attempt in range(backoff.attempts):
        try:
            client.transact_write_items(TransactItems=[{"Put": head_put}, {"Put": entry_put}])
            return Committed(seq, change.new_version)
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                reasons = list(error.response.get("CancellationReasons") or [])
                reasons += [{}] * (2 - len(reasons))
                codes = [str(reason.get("Code", "")) for reason in reasons[:2]]
                if _CHECK_FAILED in codes:
                    return _refused(client, table, change, seq, reasons[0], reasons[1])
                if not RETRYABLE_CANCEL_CODES.intersection(codes):
                    raise
            elif not is_throttled(error):
                raise
            if attempt == backoff.attempts - 1:
                raise
            logger.info("sync: committing %s refused for load (%s), retrying", pk, error_code(error))
        backoff.pause(attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _put(client: Any, table: str, item: dict[str, Any]) -> Any:
    return client.put_item(TableName=table, Item=item)


def _refused(
    client: Any,
    table: str,
    change: Change,
    seq: int,
    head_reason: dict[str, Any],
    entry_reason: dict[str, Any],
) -> Committed | Conflict | _Fenced:
    """Read a cancelled commit's reasons: our own earlier success, a conflict, or a fenced number."""
    entry_failed = head_failed = False
    if entry_reason.get("Code") == _CHECK_FAILED:
        entry_failed = True
        entry = entry_reason.get("Item") or get_item(client, table, FEED_PK, seq_sk(seq))
        if entry is not None and _is_own_entry(entry, change):
            return Committed(seq, change.new_version, recovered=True)
    if head_reason.get("Code") == _CHECK_FAILED:
        head_failed = True
        current = head_reason.get("Item") or get_item(client, table, change.entity, HEAD_SK)
        if current is None:
            return Conflict(seq, None)
        theirs = HeadSummary(
            version=get_n(current, "version"),
            seq=get_n(current, "seq"),
            writer=get_s(current, "writer"),
            deleted=get_bool(current, "deleted"),
        )
        if _is_own_head(current, theirs, change):
            return Committed(theirs.seq, theirs.version, recovered=True)
        return Conflict(seq, theirs)
    if entry_failed and not head_failed:
        return _FENCED
    raise SyncFeedError(f"{change.entity}: commit cancelled for an unexpected reason")


def _is_own_entry(entry: Item, change: Change) -> bool:
    if get_bool(entry, "fenced", default=False):
        return False
    return (
        get_s(entry, "kind") == change.kind
        and get_s(entry, "key") == change.key
        and get_n(entry, "version") == change.new_version
        and get_s(entry, "writer") == change.writer
    )


def _is_own_head(current: Item, theirs: HeadSummary, change: Change) -> bool:
    """The head is this very change, committed by an earlier attempt (same writer, version, content)."""
    if theirs.writer != change.writer or theirs.version != change.new_version:
        return False
    if theirs.deleted or change.body is None:
        return theirs.deleted == change.deleted
    if "parts" in current:
        return get_s(current, "sha256") == sha256_hex(change.body)
    return optional_s(current, "body") == change.body


__all__ = [
    "NUMBER_ATTEMPTS",
    "Change",
    "CommitResult",
    "Committed",
    "Conflict",
    "CorruptEntity",
    "FeedChange",
    "FencedOut",
    "GapTracker",
    "Head",
    "HeadSummary",
    "MalformedItem",
    "PullResult",
    "SyncFeedError",
    "allocate",
    "commit",
    "fence",
    "pull",
    "read_counter",
    "read_heads",
]
