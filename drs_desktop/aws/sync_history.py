"""The items that carry history beside the change feed: plan revisions and journal pages (docs/sync.md).

Both are append-only and written before the head that names them, so a reader never meets a head whose
history is missing; both are conditional puts (``attribute_not_exists(pk)``), so nothing already in the
table is ever replaced:

* A revision is ``PLAN#<plan id>/REV#<6-digit number>``: the number is the table's, the next free one,
  taken by the put's condition (``put_revision`` answers False when another desktop took it first; the
  caller reads the numbers again and tries the next). A document too large for one item goes as parts
  keyed ``PART#REV#<number>#<revision id>#<n>``: the revision ID in the key keeps two desktops racing for
  one number from overwriting each other's parts (the flaw aws/sync_parts.py explains for heads).
* A journal page is ``EXEC#<execution id>/EVENTS#<10-digit segment start>#<desktop id>#<10-digit first
  seq>`` with the events in order and ``last``, the seq of the last one; at most ``PAGE_EVENTS`` events
  and ``PART_BYTES`` of JSON. The segment is the part of the execution's lineage (domain/sync_lineage.py)
  the events belong to: the desktop that journaled them and the seq its driving began at. Two drivers'
  events under one seq (an old driver's tail never pushed before a takeover) thus never collide, and a
  reader asks each seq range of its driver only, by key condition. The segment start, not the desktop
  alone: a desktop superseded at seq 11 that later takes the run back at seq 25 journals into a new key
  range, never into its old tail's.

Reads are consistent ``Query``s on one partition, never a scan.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drs_desktop.aws.sync_items import (
    Item,
    MalformedItem,
    get_item,
    get_n,
    get_s,
    head_pk,
    key_of,
    optional_s,
    put_if_absent,
)
from drs_desktop.aws.sync_parts import (
    PART_BYTES,
    CorruptBody,
    join_parts,
    needs_parts,
    sha256_hex,
    split_body,
)
from drs_desktop.aws.sync_retry import DEFAULT_BACKOFF, Backoff, retrying
from drs_desktop.domain.sync_lineage import TAKEN_OVER, Lineage, segments

logger = logging.getLogger(__name__)

#: At most this many events per journal page (docs/sync.md, "Sizes").
PAGE_EVENTS = 200
REV_PREFIX = "REV#"
EVENTS_PREFIX = "EVENTS#"


@dataclass(frozen=True)
class RevisionItem:
    """One plan revision as the table holds it (``document`` is the canonical JSON of the plan)."""

    plan_id: str
    number: int
    revision_id: str
    content_hash: str
    document: str
    comment: str
    author: str
    created_at: str
    writer: str


class JournalPagesError(MalformedItem):
    """An execution's pages that cannot be read as its lineage says: missing, overlapping or malformed."""


@dataclass(frozen=True)
class JournalPage:
    """A page of an execution's journal: the events from ``first`` to ``last`` (seqs), in order, journaled
    by ``driver`` in its segment of the lineage that starts at ``segment``."""

    execution_id: str
    first: int
    events: tuple[Mapping[str, Any], ...]
    segment: int = 1
    driver: str = ""

    @property
    def last(self) -> int:
        return self.first + len(self.events) - 1


def rev_sk(number: int) -> str:
    return f"{REV_PREFIX}{number:06d}"


def events_sk(segment: int, driver: str, first: int) -> str:
    return f"{_segment_prefix(segment, driver)}{first:010d}"


def _segment_prefix(segment: int, driver: str) -> str:
    if not driver or "#" in driver:
        raise ValueError(f"a journal page's desktop ID {driver!r} is empty or holds '#'")
    return f"{EVENTS_PREFIX}{segment:010d}#{driver}#"


def _rev_part_sk(number: int, revision_id: str, n: int) -> str:
    return f"PART#REV#{number:06d}#{revision_id}#{n:04d}"


# -- revisions ----------------------------------------------------------------------------------------


def revision_numbers(
    client: Any, table: str, plan_id: str, *, after: int = 0, backoff: Backoff = DEFAULT_BACKOFF
) -> dict[str, int]:
    """The plan's revisions the table holds numbered above ``after`` (0: all), ``{revision id: number}``
    (documents not read)."""
    found: dict[str, int] = {}
    pk = head_pk("PLAN", plan_id)
    for item in _query(client, table, pk, REV_PREFIX, backoff, "sk, revision_id", _rev_range(after)):
        found[get_s(item, "revision_id")] = _number(item)
    return found


def read_revisions(
    client: Any, table: str, plan_id: str, *, after: int = 0, backoff: Backoff = DEFAULT_BACKOFF
) -> list[RevisionItem]:
    """The plan's revisions numbered above ``after`` (0: all), by number, documents joined from their
    parts and checked. A desktop that holds the first ``after`` already reads only what is new: one
    change costs one revision, not the plan's whole history."""
    revisions = []
    for item in _query(client, table, head_pk("PLAN", plan_id), REV_PREFIX, backoff, None, _rev_range(after)):
        number = _number(item)
        revision_id = get_s(item, "revision_id")
        document = optional_s(item, "document")
        if document is None:
            count = get_n(item, "parts")
            pk = head_pk("PLAN", plan_id)
            parts = [
                get_item(client, table, pk, _rev_part_sk(number, revision_id, n), backoff)
                for n in range(count)
            ]
            try:
                document = join_parts(f"{pk}/{rev_sk(number)}", parts, get_s(item, "sha256"))
            except CorruptBody as error:
                raise MalformedItem(str(error)) from None
        revisions.append(
            RevisionItem(
                plan_id=plan_id,
                number=number,
                revision_id=revision_id,
                content_hash=get_s(item, "content_hash"),
                document=document,
                comment=optional_s(item, "comment") or "",
                author=optional_s(item, "author") or "",
                created_at=get_s(item, "created_at"),
                writer=optional_s(item, "writer") or "",
            )
        )
    return sorted(revisions, key=lambda r: r.number)


def put_revision(
    client: Any, table: str, revision: RevisionItem, *, backoff: Backoff = DEFAULT_BACKOFF
) -> bool:
    """Put the revision under its number if that number is free; False when another revision has it.

    Parts (a large document) are written first, unconditionally: their keys carry the revision ID, so a
    retry rewrites the same bytes and a rival for the number never touches them.
    """
    pk = head_pk("PLAN", revision.plan_id)
    item: dict[str, Any] = {
        **key_of(pk, rev_sk(revision.number)),
        "revision_id": {"S": revision.revision_id},
        "content_hash": {"S": revision.content_hash},
        "comment": {"S": revision.comment},
        "author": {"S": revision.author},
        "created_at": {"S": revision.created_at},
        "writer": {"S": revision.writer},
    }
    if needs_parts(revision.document):
        slices = split_body(revision.document)
        for n, data in enumerate(slices):
            part = {**key_of(pk, _rev_part_sk(revision.number, revision.revision_id, n)), "data": {"S": data}}
            retrying(
                backoff,
                f"writing a part of {pk}",
                functools.partial(client.put_item, TableName=table, Item=part),
            )
        item["parts"] = {"N": str(len(slices))}
        item["sha256"] = {"S": sha256_hex(revision.document)}
    else:
        item["document"] = {"S": revision.document}
    return put_if_absent(client, table, item, backoff)


# -- journal pages --------------------------------------------------------------------------------------


def cut_pages(
    execution_id: str, first: int, events: Sequence[Mapping[str, Any]], lineage: Lineage
) -> list[JournalPage]:
    """``events`` (seqs ``first``, ``first + 1``, ...) in pages of at most ``PAGE_EVENTS`` events and
    ``PART_BYTES`` of JSON, never across two segments of ``lineage`` (each page is keyed by its driver).
    ValueError for one event larger than a page may be."""
    pages: list[JournalPage] = []
    for segment, driver, low, high in segments(lineage, first, first + len(events) - 1):
        current: list[Mapping[str, Any]] = []
        size = 2
        start = low
        for event in events[low - first : high - first + 1]:
            length = len(_dump(event).encode("utf-8")) + 1
            if length + 2 > PART_BYTES:
                raise ValueError(f"journal event {start + len(current)} of {execution_id} is {length} bytes")
            if current and (len(current) == PAGE_EVENTS or size + length > PART_BYTES):
                pages.append(JournalPage(execution_id, start, tuple(current), segment, driver))
                start += len(current)
                current, size = [], 2
            current.append(event)
            size += length
        if current:
            pages.append(JournalPage(execution_id, start, tuple(current), segment, driver))
    return pages


def put_page(
    client: Any, table: str, page: JournalPage, *, backoff: Backoff = DEFAULT_BACKOFF
) -> JournalPage | None:
    """Put a page; None when it landed, else the page the table already holds under that key."""
    pk = head_pk("EXEC", page.execution_id)
    sk = events_sk(page.segment, page.driver, page.first)
    item = {**key_of(pk, sk), "events": {"S": _dump_list(page.events)}, "last": {"N": str(page.last)}}
    if put_if_absent(client, table, item, backoff):
        return None
    existing = get_item(client, table, pk, sk, backoff)
    if existing is None:
        raise MalformedItem(f"{pk}/{sk}: the put was refused, yet no page is there")
    return _page(page.execution_id, existing)


def read_pages(
    client: Any,
    table: str,
    execution_id: str,
    lineage: Lineage,
    low: int,
    high: int,
    *,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> list[JournalPage]:
    """The events of seqs ``low..high`` as ``lineage`` says, each range from its driver's pages only, as
    pages trimmed to the range, in order. JournalPagesError when they cannot be read so (a page missing,
    two overlapping, a segment not opened by its driver's TakenOver, an item not a page).

    Each segment is one Query by key condition from ``low`` on, not the whole journal; when ``low`` falls
    inside a page (a journal held here up to the middle of one), that one page is found by a second
    Query, newest first, limit one.
    """
    pk = head_pk("EXEC", execution_id)
    pages: list[JournalPage] = []
    for segment, driver, lo, hi in segments(lineage, low, high):
        prefix = _segment_prefix(segment, driver)
        found = [
            _page(execution_id, item)
            for item in _query(
                client, table, pk, prefix, backoff, None, (f"{prefix}{lo:010d}", f"{prefix}{hi:010d}")
            )
        ]
        found.sort(key=lambda p: p.first)
        if (not found or found[0].first > lo) and lo > segment:
            before = _query(
                client,
                table,
                pk,
                prefix,
                backoff,
                None,
                (f"{prefix}{segment:010d}", f"{prefix}{lo - 1:010d}"),
                newest_first=True,
            )
            found = [_page(execution_id, item) for item in before] + found
        pages.extend(_trimmed(pk, found, segment, driver, lo, hi))
    return pages


def _trimmed(
    pk: str, found: list[JournalPage], segment: int, driver: str, lo: int, hi: int
) -> list[JournalPage]:
    """The pages' events of seqs ``lo..hi``, checked to follow each other without a hole or an overlap."""
    where = f"{pk}/{_segment_prefix(segment, driver)}"
    kept: list[JournalPage] = []
    at = lo
    for page in found:
        if page.last < at:
            continue
        if page.first > at:
            raise JournalPagesError(f"{where}: journal events {at} to {page.first - 1} are missing")
        if kept and page.first != kept[-1].last + 1:
            raise JournalPagesError(f"{where}: two pages overlap at event {page.first}")
        events = page.events[at - page.first : hi - page.first + 1]
        kept.append(JournalPage(page.execution_id, at, events, segment, driver))
        at = kept[-1].last + 1
        if at > hi:
            break
    if at <= hi:
        raise JournalPagesError(f"{where}: journal events {at} to {hi} are missing")
    opening = kept[0].events[0] if segment > 1 and kept[0].first == segment else None
    if opening is not None and (opening.get("type") != TAKEN_OVER or opening.get("by") != driver):
        raise JournalPagesError(f"{where}: event {segment} is not desktop {driver[:8]}'s TakenOver")
    return kept


# -- helpers --------------------------------------------------------------------------------------------


def _page(execution_id: str, item: Item) -> JournalPage:
    sk = get_s(item, "sk")
    where = f"{head_pk('EXEC', execution_id)}/{sk}"
    fields = sk[len(EVENTS_PREFIX) :].split("#")
    if (
        not sk.startswith(EVENTS_PREFIX)
        or len(fields) != 3
        or not all(len(fields[n]) == 10 and fields[n].isdigit() for n in (0, 2))
        or not fields[1]
    ):
        raise JournalPagesError(
            f"{where}: a journal page's sort key is EVENTS#<10-digit segment>#<desktop>#<10-digit first seq>"
        )
    try:
        events = json.loads(get_s(item, "events"))
    except ValueError:
        raise JournalPagesError(f"{where}: 'events' is not JSON") from None
    except MalformedItem as error:
        raise JournalPagesError(str(error)) from None
    if not isinstance(events, list) or not events or not all(isinstance(e, dict) for e in events):
        raise JournalPagesError(f"{where}: 'events' is not a non-empty list of journal events")
    page = JournalPage(execution_id, int(fields[2]), tuple(events), int(fields[0]), fields[1])
    try:
        last = get_n(item, "last")
    except MalformedItem as error:
        raise JournalPagesError(str(error)) from None
    if last != page.last:
        raise JournalPagesError(f"{where}: 'last' is {last}, its events end at {page.last}")
    return page


def _number(item: Item) -> int:
    sk = get_s(item, "sk")
    digits = sk[len(REV_PREFIX) :]
    if not sk.startswith(REV_PREFIX) or len(digits) != 6 or not digits.isdigit():
        raise MalformedItem(f"{get_s(item, 'pk')}/{sk}: a revision's sort key is REV# and 6 digits")
    return int(digits)


def _rev_range(after: int) -> tuple[str, str] | None:
    return (rev_sk(after + 1), rev_sk(999_999)) if after > 0 else None


def _query(
    client: Any,
    table: str,
    pk: str,
    prefix: str,
    backoff: Backoff,
    projection: str | None,
    between: tuple[str, str] | None = None,
    *,
    newest_first: bool = False,
) -> list[Item]:
    """Every item of ``pk`` whose sort key starts with ``prefix`` (or lies ``between`` two keys that
    both start with it), consistent, all pages."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
        "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
        "ConsistentRead": True,
    }
    if between is not None:
        low, high = between
        assert low.startswith(prefix) and high.startswith(prefix), (low, high, prefix)
        request["KeyConditionExpression"] = "#pk = :pk AND #sk BETWEEN :low AND :high"
        request["ExpressionAttributeValues"] = {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}}
    if newest_first:  # only the last item of the range
        request["ScanIndexForward"] = False
        request["Limit"] = 1
    if projection:
        names = [name.strip() for name in projection.split(",")]
        request["ProjectionExpression"] = ", ".join(f"#p{i}" for i in range(len(names))) + ", #pk, #sk"
        request["ExpressionAttributeNames"].update({f"#p{i}": name for i, name in enumerate(names)})
    items: list[Item] = []
    while True:
        page = retrying(backoff, f"querying {pk}", lambda: client.query(**request))
        items.extend(page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        if not last or newest_first:
            return items
        request["ExclusiveStartKey"] = last


def _dump(event: Mapping[str, Any]) -> str:
    return json.dumps(dict(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _dump_list(events: Sequence[Mapping[str, Any]]) -> str:
    return "[" + ",".join(_dump(e) for e in events) + "]"
