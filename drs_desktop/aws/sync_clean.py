"""Deleting body parts that nothing names (docs/sync.md, "Sizes" and "Cleaning up parts").

A body, or a revision's document, over ``PART_BYTES`` travels as ``PART#`` items written before the item
that names them. A lost race, a fenced number or an older version leaves parts that no head and no
revision names: nothing reads them, they only cost storage. ``clean_parts`` finds and deletes them:

1. the entities, from the change feed (a consistent Query of ``FEED``; never a Scan), and the counter;
2. per entity, the ``PART#`` items of its partition (a Query, keys only), and what names parts there: its
   head (``GetItem``), and for a plan its ``REV#`` items (a Query, asked only when revision parts exist);
3. ``BatchWriteItem`` ``DeleteRequest``s for the parts nobody names that are certainly dead.

What is never deleted:

- a part its head or a revision names;
- a head part (``PART#<version>#<seq>#<n>``) whose change number has no feed entry yet: a push in flight
  allocates its number, writes its parts, then commits (head and feed entry together). A number that
  never commits ends up fenced (by its writer at once on a conflict, by a puller after the grace), so a
  dead part's number always has an entry in the end, and a live one's has none until it commits;
- a head part whose number, or the number of the head that replaced it, is above the counter minus
  ``margin`` (default ``CLEAN_MARGIN``): a puller that read the older head just before may still be
  fetching its parts;
- a revision part (``PART#REV#<number>#<revision id>#<n>``) whose number is above the plan's highest
  ``REV#`` (a revision being put: its parts go first), or whose ``REV#`` item is not there;
- anything whose key is not a part key this design writes (reported as not understood, left alone).

Deleting needs ``dynamodb:BatchWriteItem`` and ``dynamodb:DeleteItem``, which only the maintenance
statement (``DrsDesktopSyncInit``) grants; an operator's refusal is a ``SyncAccessDenied`` that says so.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drs_desktop.aws.dynamodb_errors import map_dynamodb_error
from drs_desktop.aws.sync_items import FEED_PK, HEAD_SK, Item, get_item, head_pk, optional_s, seq_of
from drs_desktop.aws.sync_pull import read_counter
from drs_desktop.aws.sync_retry import DEFAULT_BACKOFF, Backoff, retrying
from drs_desktop.aws.sync_schema import INIT_SID
from drs_desktop.domain.sync_errors import SyncAccessDenied, SyncError

__all__ = ["CLEAN_MARGIN", "CleanReport", "clean_parts"]

logger = logging.getLogger(__name__)

#: Change numbers below the counter a superseded head part must be before it is deleted.
CLEAN_MARGIN = 100
#: What a BatchWriteItem takes at most.
_BATCH = 25
_HEAD_PART = re.compile(r"PART#(\d+)#(\d{20})#(\d{4})")
_REV_PART = re.compile(r"PART#REV#(\d{6})#([^#]+)#(\d{4})")
_REV_SK = re.compile(r"REV#(\d{6})")


@dataclass
class CleanReport:
    """What ``clean_parts`` read, deleted and kept. ``deleted`` lists ``pk/sk`` (those it would delete,
    for a dry run); ``kept`` counts the parts left by reason."""

    counter: int = 0
    feed_entries: int = 0
    entities: int = 0
    parts: int = 0
    deleted: list[str] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    def keep(self, reason: str) -> None:
        self.kept[reason] = self.kept.get(reason, 0) + 1

    def describe(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        kept = ", ".join(f"{n} {why}" for why, n in sorted(self.kept.items())) or "none"
        return (
            f"read {self.feed_entries} feed entries ({self.entities} entities, counter at {self.counter}) "
            f"and {self.parts} parts; {verb} {len(self.deleted)}; kept: {kept}"
        )


def clean_parts(
    client: Any,
    table: str,
    *,
    dry_run: bool = False,
    margin: int = CLEAN_MARGIN,
    backoff: Backoff = DEFAULT_BACKOFF,
    progress: Callable[[str], None] | None = None,
) -> CleanReport:
    """Find the parts nothing names and delete the dead ones (none with ``dry_run``). Raises only
    ``SyncError``s; ``SyncAccessDenied`` naming what the maintenance statement grants when refused."""
    if margin < 0:
        raise ValueError(f"a margin of change numbers is >= 0, not {margin}")
    report = CleanReport(dry_run=dry_run)
    operation = "Query"
    try:
        report.counter = read_counter(client, table, backoff=backoff)
        decided, entities = _feed(client, table, backoff)
        report.feed_entries, report.entities = len(decided), len(entities)
        doomed: list[tuple[str, str]] = []
        for kind, key in sorted(entities):
            doomed += _dead_parts(client, table, kind, key, decided, report, margin, backoff)
        report.deleted = [f"{pk}/{sk}" for pk, sk in doomed]
        if not dry_run and doomed:
            operation = "BatchWriteItem"
            _delete(client, table, doomed, backoff, progress)
    except SyncError:
        raise
    except Exception as exc:
        error = map_dynamodb_error(exc, operation, table=table)
        if isinstance(error, SyncAccessDenied) and operation == "BatchWriteItem":
            raise SyncAccessDenied(
                f"{error.message}. Deleting parts needs dynamodb:BatchWriteItem and dynamodb:DeleteItem, "
                f"which only the maintenance statement {INIT_SID} grants (sync init prints it); nothing "
                "else was changed",
                code=error.code,
                operation=operation,
                table=table,
            ) from exc
        raise error from exc
    logger.info("sync clean on %s: %s", table, report.describe())
    return report


def _feed(client: Any, table: str, backoff: Backoff) -> tuple[set[int], set[tuple[str, str]]]:
    """Every number with a feed entry (a change or a fence), and every entity a change names."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :feed",
        "ExpressionAttributeValues": {":feed": {"S": FEED_PK}},
        "ProjectionExpression": "sk, #k, #key",
        "ExpressionAttributeNames": {"#k": "kind", "#key": "key"},
        "ConsistentRead": True,
    }
    decided: set[int] = set()
    entities: set[tuple[str, str]] = set()
    for item in _pages(client, request, backoff, "querying the change feed"):
        decided.add(seq_of(str(item["sk"]["S"])))
        kind, key = optional_s(item, "kind"), optional_s(item, "key")
        if kind and key:
            entities.add((kind, key))
    return decided, entities


def _dead_parts(
    client: Any,
    table: str,
    kind: str,
    key: str,
    decided: set[int],
    report: CleanReport,
    margin: int,
    backoff: Backoff,
) -> list[tuple[str, str]]:
    pk = head_pk(kind, key)
    parts = [str(i["sk"]["S"]) for i in _query_prefix(client, table, pk, "PART#", "sk", backoff)]
    if not parts:
        return []
    report.parts += len(parts)
    head = get_item(client, table, pk, HEAD_SK, backoff)
    head_version, head_seq, head_parts = _numbers(head)
    revisions: dict[int, tuple[str, int]] = {}
    if kind == "PLAN" and any(sk.startswith("PART#REV#") for sk in parts):
        for item in _query_prefix(client, table, pk, "REV#", "sk, revision_id, parts", backoff):
            match = _REV_SK.fullmatch(str(item["sk"]["S"]))
            if match:
                revisions[int(match[1])] = (optional_s(item, "revision_id") or "", _n(item, "parts"))
    top_revision = max(revisions, default=0)
    settled = report.counter - margin
    dead: list[tuple[str, str]] = []
    for sk in parts:
        rev = _REV_PART.fullmatch(sk)
        part = _HEAD_PART.fullmatch(sk)
        if rev:
            number, revision_id, n = int(rev[1]), rev[2], int(rev[3])
            named = revisions.get(number)
            if named is not None and named[0] == revision_id and n < named[1]:
                report.keep("named by a revision")
            elif number > top_revision:
                report.keep("of a revision being put")
            elif named is None:
                report.keep("of a revision number not in the table")
            else:
                dead.append((pk, sk))
        elif part:
            version, seq, n = int(part[1]), int(part[2]), int(part[3])
            if (version, seq) == (head_version, head_seq) and n < head_parts:
                report.keep("named by the head")
            elif seq not in decided:
                report.keep("of a change not committed yet")
            elif max(seq, head_seq) > settled:
                report.keep("within the grace")
            else:
                dead.append((pk, sk))
        else:
            report.keep("not understood")
    return dead


def _delete(
    client: Any,
    table: str,
    doomed: list[tuple[str, str]],
    backoff: Backoff,
    progress: Callable[[str], None] | None,
) -> None:
    """BatchWriteItem DeleteRequests, 25 at a time; what DynamoDB leaves unprocessed is sent again."""
    for start in range(0, len(doomed), _BATCH):
        requests = [
            {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}}
            for pk, sk in doomed[start : start + _BATCH]
        ]
        for attempt in range(backoff.attempts):
            call = functools.partial(client.batch_write_item, RequestItems={table: requests})
            answer = retrying(backoff, "deleting parts", call)
            requests = list((answer.get("UnprocessedItems") or {}).get(table) or [])
            if not requests:
                break
            backoff.pause(attempt)
        else:
            raise SyncError(
                f"DynamoDB left {len(requests)} part deletions unprocessed on {table} after "
                f"{backoff.attempts} tries; run sync clean again later",
                code="Unprocessed",
                operation="BatchWriteItem",
                table=table,
            )
        if progress is not None:
            progress(f"deleted {min(start + _BATCH, len(doomed))} of {len(doomed)} parts")


def _query_prefix(
    client: Any, table: str, pk: str, prefix: str, projection: str, backoff: Backoff
) -> list[Item]:
    names = [name.strip() for name in projection.split(",")]
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
        "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(names))),
        "ExpressionAttributeNames": {f"#p{i}": name for i, name in enumerate(names)},
        "ConsistentRead": True,
    }
    return _pages(client, request, backoff, f"querying {pk}")


def _pages(client: Any, request: dict[str, Any], backoff: Backoff, what: str) -> list[Item]:
    items: list[Item] = []
    while True:
        page = retrying(backoff, what, functools.partial(client.query, **request))
        items.extend(page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        if not last:
            return items
        request["ExclusiveStartKey"] = last


def _numbers(head: Item | None) -> tuple[int, int, int]:
    """The head's version, change number and part count (0s when there is no head)."""
    if head is None:
        return 0, 0, 0
    return _n(head, "version"), _n(head, "seq"), _n(head, "parts")


def _n(item: Item, name: str) -> int:
    value = item.get(name)
    try:
        return int(value["N"]) if isinstance(value, dict) and "N" in value else 0
    except (TypeError, ValueError):
        return 0
