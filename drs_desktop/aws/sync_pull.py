"""Pulling the change feed in order, fencing gaps, and reading the heads it names (docs/sync.md).

Why this is safe is told once, with the rest of the protocol, in aws/sync_feed.py's docstring (steps 3
and 4), which re-exports what this module defines.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from drs_desktop.aws.sync_items import (
    FEED_PK,
    HEAD_SK,
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
    put_if_absent,
    seq_of,
    seq_sk,
)
from drs_desktop.aws.sync_parts import CorruptBody, join_parts, part_sk
from drs_desktop.aws.sync_retry import DEFAULT_BACKOFF, Backoff, retrying

logger = logging.getLogger(__name__)

#: Keys per BatchGetItem (DynamoDB's limit is 100).
HEADS_PER_BATCH = 100
#: Parts per BatchGetItem: 40 x 350 KB stays under the 16 MB a BatchGetItem answer may carry.
PARTS_PER_BATCH = 40


class CorruptEntity(SyncFeedError):
    """Heads whose body cannot be rebuilt (a part missing or not hashing right): nothing was returned."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass
class GapTracker:
    """When each open gap was first seen, on the puller's own monotonic clock.

    One per puller, kept in memory across its pulls (a gap's grace runs from the first pull that saw it).
    Losing it (a restart) only makes the next fences later.
    """

    _first_seen: dict[int, float] = field(default_factory=dict)

    def first_seen(self, seq: int, now: float) -> float:
        return self._first_seen.setdefault(seq, now)

    def retain(self, still_open: Iterable[int]) -> None:
        keep = set(still_open)
        self._first_seen = {seq: t for seq, t in self._first_seen.items() if seq in keep}

    @property
    def open_gaps(self) -> dict[int, float]:
        return dict(self._first_seen)


@dataclass(frozen=True)
class FeedChange:
    """One change entry of the feed: which entity changed, to what version, under which number."""

    seq: int
    kind: str
    key: str
    version: int
    deleted: bool
    writer: str


@dataclass(frozen=True)
class PullResult:
    #: The changes from the old cursor up to the new one, in number order, fences left out.
    changes: tuple[FeedChange, ...]
    #: Every number up to here is a change returned (now or before) or a fence.
    cursor: int
    #: Numbers this pull found fenced when it fenced them (its own fences, or another puller's it met).
    fenced: tuple[int, ...]
    #: Gaps still within their grace; the first of them holds the cursor.
    waiting: tuple[int, ...]


@dataclass(frozen=True)
class Head:
    """An entity's head as the table holds it, body joined and checked (``None`` for a tombstone)."""

    kind: str
    key: str
    version: int
    seq: int
    deleted: bool
    body: str | None
    writer: str
    app_version: str
    core: bool | None


def read_counter(client: Any, table: str, *, backoff: Backoff = DEFAULT_BACKOFF) -> int:
    """``n`` of ``META/SEQ``: the last number handed out."""
    item = get_item(client, table, META_PK, SEQ_SK, backoff)
    if item is None:
        raise MalformedItem(f"table {table} has no change counter META/SEQ: it was not made by `sync init`")
    return get_n(item, "n")


def pull(
    client: Any,
    table: str,
    cursor: int,
    *,
    now: Callable[[], float],
    gaps: GapTracker,
    grace: float,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> PullResult:
    """The changes after ``cursor`` that can be taken in order, and the cursor after them."""
    # The counter first: every number up to it was handed out, so one missing from the query below is an
    # open gap (at the end of the feed too). Entries above it (allocated meanwhile) are simply taken.
    counter = read_counter(client, table, backoff=backoff)
    resolved = _query_feed(client, table, cursor, backoff)
    t = now()
    fenced: list[int] = []
    waiting: list[int] = []
    for seq in range(cursor + 1, max(counter, cursor, *resolved) + 1):
        if seq in resolved:
            continue
        if t - gaps.first_seen(seq, t) < grace:
            waiting.append(seq)
            continue
        item, landed = fence(client, table, seq, backoff=backoff)
        resolved[seq] = item
        if landed:
            fenced.append(seq)
    gaps.retain(waiting)
    changes: list[FeedChange] = []
    while cursor + 1 in resolved:
        cursor += 1
        item = resolved[cursor]
        if not get_bool(item, "fenced", default=False):
            changes.append(_feed_change(cursor, item))
    return PullResult(tuple(changes), cursor, tuple(fenced), tuple(waiting))


def _query_feed(client: Any, table: str, cursor: int, backoff: Backoff) -> dict[int, Item]:
    """Every feed entry after ``cursor``, consistent, all pages."""
    entries: dict[int, Item] = {}
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :feed AND sk > :after",
        "ExpressionAttributeValues": {":feed": {"S": FEED_PK}, ":after": {"S": seq_sk(cursor)}},
        "ConsistentRead": True,
    }
    while True:
        page = retrying(backoff, "querying the change feed", lambda: client.query(**request))
        for item in page.get("Items", []):
            entries[seq_of(get_s(item, "sk"))] = item
        last = page.get("LastEvaluatedKey")
        if not last:
            return entries
        request["ExclusiveStartKey"] = last


def fence(client: Any, table: str, seq: int, *, backoff: Backoff = DEFAULT_BACKOFF) -> tuple[Item, bool]:
    """Fence number ``seq``; answer the entry it ends up as and whether that entry is a fence.

    Conditional, so it never replaces a change entry: at worst it loses the race and reads the entry. A
    refusal that reads back a fence is a fence too: another puller's, or this one's own whose answer was
    lost and which botocore sent again (under load a put can land and time out).
    """
    fence = {**key_of(FEED_PK, seq_sk(seq)), "fenced": {"BOOL": True}}
    if not put_if_absent(client, table, fence, backoff):
        # The change entry (or another puller's fence) landed first: read it, consistent, and go on.
        item = get_item(client, table, FEED_PK, seq_sk(seq), backoff)
        if item is None:
            raise SyncFeedError(f"FEED/{seq_sk(seq)}: the fence was refused, yet no entry is there")
        return item, get_bool(item, "fenced", default=False)
    logger.info("sync: fenced change number %d", seq)
    return fence, True


def _feed_change(seq: int, item: Item) -> FeedChange:
    return FeedChange(
        seq=seq,
        kind=get_s(item, "kind"),
        key=get_s(item, "key"),
        version=get_n(item, "version"),
        deleted=get_bool(item, "deleted"),
        writer=get_s(item, "writer"),
    )


def read_heads(
    client: Any,
    table: str,
    keys: Iterable[tuple[str, str]],
    *,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> dict[tuple[str, str], Head]:
    """The heads of ``(kind, key)`` entities, bodies joined; an entity without a head is left out.

    All or nothing: one corrupt body raises ``CorruptEntity`` (naming every damaged entity) and returns
    none of them, so a caller never applies half a pull.
    """
    wanted = list(dict.fromkeys((head_pk(kind, key), HEAD_SK) for kind, key in keys))
    items = _batch_get(client, table, wanted, HEADS_PER_BATCH, backoff)
    heads: dict[tuple[str, str], Head] = {}
    split: list[tuple[Item, int, str]] = []
    for pk, sk in wanted:
        item = items.get((pk, sk))
        if item is None:
            continue
        kind, key = get_s(item, "kind"), get_s(item, "key")
        if head_pk(kind, key) != pk:
            raise MalformedItem(f"{pk}/{sk}: its kind and key say {head_pk(kind, key)}")
        deleted = get_bool(item, "deleted")
        body = None if deleted else optional_s(item, "body")
        if not deleted and body is None:
            if "parts" not in item:
                raise MalformedItem(f"{pk}/{sk}: neither a tombstone nor a body nor parts")
            split.append((item, get_n(item, "parts"), get_s(item, "sha256")))
        heads[(kind, key)] = _head(item, body)
    if split:
        heads.update(_join_split_bodies(client, table, split, backoff))
    return heads


def _head(item: Item, body: str | None) -> Head:
    return Head(
        kind=get_s(item, "kind"),
        key=get_s(item, "key"),
        version=get_n(item, "version"),
        seq=get_n(item, "seq"),
        deleted=get_bool(item, "deleted"),
        body=body,
        writer=get_s(item, "writer"),
        app_version=get_s(item, "app_version"),
        core=get_bool(item, "core") if "core" in item else None,
    )


def _join_split_bodies(
    client: Any, table: str, split: list[tuple[Item, int, str]], backoff: Backoff
) -> dict[tuple[str, str], Head]:
    part_keys = {
        id(item): [
            (get_s(item, "pk"), part_sk(get_n(item, "version"), get_n(item, "seq"), n)) for n in range(count)
        ]
        for item, count, _ in split
    }
    wanted = [key for keys in part_keys.values() for key in keys]
    parts = _batch_get(client, table, wanted, PARTS_PER_BATCH, backoff)
    joined: dict[tuple[str, str], Head] = {}
    problems: list[str] = []
    for item, _, sha in split:
        try:
            body = join_parts(get_s(item, "pk"), [parts.get(key) for key in part_keys[id(item)]], sha)
        except CorruptBody as error:
            problems.append(str(error))
            continue
        head = _head(item, body)
        joined[(head.kind, head.key)] = head
    if problems:
        raise CorruptEntity(problems)
    return joined


def _batch_get(
    client: Any, table: str, keys: list[tuple[str, str]], per_batch: int, backoff: Backoff
) -> dict[tuple[str, str], Item]:
    """Items by ``(pk, sk)``, consistent; unprocessed keys asked again after a pause, until none is left."""
    found: dict[tuple[str, str], Item] = {}
    for start in range(0, len(keys), per_batch):
        pending: list[Any] = [key_of(pk, sk) for pk, sk in keys[start : start + per_batch]]
        stalls = 0
        while pending:
            request = {table: {"Keys": pending, "ConsistentRead": True}}
            answer = retrying(
                backoff, "reading items", functools.partial(client.batch_get_item, RequestItems=request)
            )
            got = answer.get("Responses", {}).get(table, [])
            for item in got:
                found[(get_s(item, "pk"), get_s(item, "sk"))] = item
            pending = list(answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
            if pending:
                # Throttled keys come back unprocessed. Count only rounds that made no progress: a large
                # answer is cut at 16 MB and legitimately needs several rounds.
                stalls = 0 if got else stalls + 1
                if stalls >= backoff.attempts:
                    raise SyncFeedError(f"table {table}: {len(pending)} keys stayed unprocessed, try later")
                backoff.pause(stalls)
    return found
