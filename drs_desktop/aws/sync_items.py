"""Keys and typed reads of the sync table's items (docs/sync.md, "Item types").

Every attribute the sync code reads goes through these helpers, so an item that is not what the design
says (written by a broken or foreign tool) is refused with an error that names the item and the
attribute, instead of a ``KeyError`` deep in a pull or, worse, a wrong value applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from drs_desktop.aws.sync_retry import DEFAULT_BACKOFF, Backoff, error_code, retrying
from drs_desktop.aws.sync_schema import COUNTER_SK, META
from drs_desktop.domain.sync_errors import SyncError

META_PK = META  # the table header's and the counter's partition (sync_schema)
SEQ_SK = COUNTER_SK  # the counter's sort key
FEED_PK = "FEED"
HEAD_SK = "HEAD"
#: The kinds of entity that travel through the change feed, and nothing else.
KINDS = frozenset({"PLAN", "EXEC", "SETTING", "INVENTORY"})

Item = Mapping[str, Any]


class SyncFeedError(SyncError):
    """A sync-table operation that cannot go on: the message says what and where."""


class MalformedItem(SyncFeedError):
    """An item in the table that is not what docs/sync.md says it is."""


def seq_sk(seq: int) -> str:
    """The feed entry's sort key: 20 digits, so that the string order is the numeric order."""
    return f"SEQ#{seq:020d}"


def seq_of(sk: str) -> int:
    prefix, _, digits = sk.partition("#")
    if prefix != "SEQ" or len(digits) != 20 or not digits.isdigit():
        raise MalformedItem(f"FEED/{sk}: a feed entry's sort key is SEQ# and 20 digits")
    return int(digits)


def head_pk(kind: str, key: str) -> str:
    return f"{kind}#{key}"


def key_of(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def where(item: Item) -> str:
    """``pk/sk`` of an item, for error messages."""
    pk = item.get("pk", {}).get("S", "?") if isinstance(item.get("pk"), Mapping) else "?"
    sk = item.get("sk", {}).get("S", "?") if isinstance(item.get("sk"), Mapping) else "?"
    return f"{pk}/{sk}"


def _value(item: Item, name: str, tag: str) -> Any:
    attribute = item.get(name)
    if not isinstance(attribute, Mapping) or tag not in attribute:
        raise MalformedItem(f"{where(item)}: attribute {name!r} is missing or not of type {tag}")
    return attribute[tag]


def get_s(item: Item, name: str) -> str:
    value = _value(item, name, "S")
    if not isinstance(value, str):
        raise MalformedItem(f"{where(item)}: attribute {name!r} is not a string")
    return value


def get_n(item: Item, name: str) -> int:
    text = _value(item, name, "N")
    try:
        return int(text)
    except (TypeError, ValueError):
        raise MalformedItem(f"{where(item)}: attribute {name!r} is not an integer: {text!r}") from None


def get_bool(item: Item, name: str, default: bool | None = None) -> bool:
    if name not in item and default is not None:
        return default
    value = _value(item, name, "BOOL")
    if not isinstance(value, bool):
        raise MalformedItem(f"{where(item)}: attribute {name!r} is not a boolean")
    return value


def optional_s(item: Item, name: str) -> str | None:
    return get_s(item, name) if name in item else None


def get_item(client: Any, table: str, pk: str, sk: str, backoff: Backoff = DEFAULT_BACKOFF) -> Item | None:
    """One item, consistent: the reads that decide what a refusal or a gap meant must see the latest write.

    Retried on throttling: a read changes nothing.
    """
    answer = retrying(
        backoff,
        f"reading {pk}/{sk}",
        lambda: client.get_item(TableName=table, Key=key_of(pk, sk), ConsistentRead=True),
    )
    item = answer.get("Item")
    return item if item else None


def put_if_absent(client: Any, table: str, item: dict[str, Any], backoff: Backoff = DEFAULT_BACKOFF) -> bool:
    """Put ``item`` where nothing is yet (``attribute_not_exists(pk)``); whether it landed. Never
    replaces what is there: a fence never hides a change, a page or revision never overwrites one."""
    try:
        retrying(
            backoff,
            f"writing {item['pk']['S']}/{item['sk']['S']}",
            lambda: client.put_item(
                TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            ),
        )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True
