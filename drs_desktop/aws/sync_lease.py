"""The lease on an execution in the sync table: one driver per execution across desktops (docs/sync.md,
"Leases").

``LEASE#<execution id>/LEASE`` holds ``holder`` (a desktop ID), ``heartbeat`` (a counter) and
``taken_at`` (informative). Every write is conditional, and the condition is what decides:

- ``take``: on no item, a released lease (a numeric heartbeat and no holder), or ``holder = :me``. It
  is an ``UpdateItem`` that sets the holder and *adds 1* to the heartbeat, not a ``Put`` that would
  write 0: a desktop that takes its own lease again (a restart) must not show an observer a (heartbeat,
  holder) pair it has already seen, or a takeover conditioned on that old pair would win against a live
  holder. The counter never goes back.
- ``beat``: ``ADD heartbeat 1`` on ``holder = :me``. A refused condition is ``LeaseLost`` naming the new
  holder; a throttle or a dropped connection is a ``SyncUnavailable`` that says nothing about the lease.
- ``take_over``: on ``holder = :seen_holder AND heartbeat = :seen_heartbeat``, the pair the observer saw
  unchanged for ``LEASE_EXPIRY`` (``domain.lease.LeaseWatch``). Of two desktops racing, the first write
  changes both, so exactly one wins; the other gets ``LeaseHeld`` naming the winner.
- ``release``: ``REMOVE holder, taken_at ADD heartbeat 1`` on ``holder = :me``: the item stays, free.
  A clean stop that pushed the execution first also sets ``released_events`` (how many journal events
  the table holds for it), so a desktop taking it on knows there is no unpushed tail to guess; any take,
  beat or takeover removes it (``read_state`` reads it).
  Not a ``DeleteItem``: the operator's policy (docs/sync.md, "Permissions") grants none, on purpose
  (nothing in the table is ever deleted), and a kept counter means no (heartbeat, holder) pair ever
  repeats, even across a release and a new take.

A refused condition is explained from the item DynamoDB returns with the refusal
(``ReturnValuesOnConditionCheckFailure``), or a consistent read where an endpoint omits it. A request
resent after its first attempt landed (botocore retries a dropped connection) meets its own write: a
resent ``take_over`` finds itself the holder and returns the lease, a resent ``release`` finds the
lease free.

Each function takes a DynamoDB client (``sync_schema.dynamodb_client``) and raises only ``SyncError``s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from drs_desktop.aws.dynamodb_errors import error_code, map_dynamodb_error
from drs_desktop.aws.sync_schema import (
    LEASE_PK_PREFIX,
    LEASE_SK,
    PK,
    SK,
    SyncTableTarget,
    dynamodb_client,
)
from drs_desktop.domain.lease import HEARTBEAT_INTERVAL, Lease
from drs_desktop.domain.sync_errors import LeaseHeld, LeaseLost, SyncError

__all__ = [
    "LeaseState",
    "beat",
    "lease_client",
    "lease_key",
    "read",
    "read_state",
    "release",
    "take",
    "take_over",
]

logger = logging.getLogger(__name__)

_REFUSED = "ConditionalCheckFailedException"
#: ``take``'s condition: no item, a released lease (a numeric counter and no holder), or this desktop's.
_FREE_OR_MINE = (
    "attribute_not_exists(pk) OR (attribute_not_exists(holder) AND attribute_type(heartbeat, :n)) "
    "OR holder = :me"
)
#: Times ``take`` tries when the holder it was refused by has meanwhile released the lease.
_TAKE_TRIES = 3

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class LeaseState:
    """The lease item as it stands. ``lease``: None when free. ``heartbeat``: the counter, kept while free
    too (None: no item yet). ``released_events``: set by a clean stop that pushed first (``release`` with
    ``pushed_events``): how many journal events the table holds for the execution; None otherwise, and
    whenever someone holds it."""

    lease: Lease | None
    heartbeat: int | None
    released_events: int | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def lease_key(execution_id: str) -> dict[str, dict[str, str]]:
    """The lease item's key."""
    return {PK: {"S": f"{LEASE_PK_PREFIX}{execution_id}"}, SK: {"S": LEASE_SK}}


def lease_client(target: SyncTableTarget) -> Any:
    """A client for beats: one attempt per call, and connecting or reading bounded by the heartbeat
    interval, because the keeper retries on its own schedule (``services.lease_keeper``) and must know
    of a failure before its observers' clocks run out. Build it in the thread that uses it."""
    return dynamodb_client(target, max_attempts=1, timeout=HEARTBEAT_INTERVAL)


def read(client: Any, table: str, execution_id: str) -> Lease | None:
    """The lease as the table has it now (consistent), None when nobody holds it (no item, or released)."""
    _check_id(execution_id, "execution ID")
    try:
        item = client.get_item(TableName=table, Key=lease_key(execution_id), ConsistentRead=True).get("Item")
    except Exception as exc:
        raise map_dynamodb_error(exc, "GetItem", table=table) from exc
    return _lease_or_free(item, execution_id, table)


def read_state(client: Any, table: str, execution_id: str) -> LeaseState:
    """The lease item as the table has it now (consistent): holder, counter and ``released_events``. A
    takeover uses it: a free lease whose ``released_events`` equals the events this desktop holds means
    the last driver stopped cleanly and pushed everything; nothing to guess from DRS."""
    _check_id(execution_id, "execution ID")
    try:
        item = client.get_item(TableName=table, Key=lease_key(execution_id), ConsistentRead=True).get("Item")
    except Exception as exc:
        raise map_dynamodb_error(exc, "GetItem", table=table) from exc
    lease = _lease_or_free(item, execution_id, table)
    if not item:
        return LeaseState(None, None, None)
    released = _attribute(item, "released_events", "N")
    try:
        count = int(released) if lease is None and isinstance(released, str) else None
    except ValueError:
        count = None
    return LeaseState(lease, _counter(item), count if count is None or count >= 0 else None)


def take(client: Any, table: str, execution_id: str, me: str, *, now: Clock = _utc_now) -> Lease:
    """Take the lease for desktop ``me``: when nobody holds it (no item, or released), or ``me`` already
    does (a restart).
    ``LeaseHeld`` naming the holder when another desktop does; the item is then left as it was."""
    _check_id(execution_id, "execution ID")
    _check_id(me, "desktop ID")
    for _ in range(_TAKE_TRIES):
        try:
            return _write_holder(client, table, execution_id, me, now, _FREE_OR_MINE, {":n": {"S": "N"}})
        except ClientError as exc:
            if error_code(exc) != _REFUSED:
                raise map_dynamodb_error(exc, "UpdateItem", table=table) from exc
            current = _refused_item(client, table, execution_id, exc)
        except Exception as exc:
            raise map_dynamodb_error(exc, "UpdateItem", table=table) from exc
        if current is not None:
            raise LeaseHeld(
                f"Execution {execution_id} is driven by desktop {current.holder} (lease heartbeat "
                f"{current.heartbeat}, taken {current.taken_at or 'at an unknown time'})",
                execution_id=execution_id,
                holder=current.holder,
                heartbeat=current.heartbeat,
                operation="UpdateItem",
                table=table,
            )
        # Refused, then gone when read: its holder released it in between. Try again.
    raise LeaseHeld(
        f"Execution {execution_id}: the lease changed hands {_TAKE_TRIES} times while taking it",
        execution_id=execution_id,
        holder=None,
        heartbeat=None,
        operation="UpdateItem",
        table=table,
    )


def take_over(
    client: Any,
    table: str,
    execution_id: str,
    me: str,
    seen_heartbeat: int,
    seen_holder: str,
    *,
    now: Clock = _utc_now,
) -> Lease:
    """Take the lease from ``seen_holder`` for ``me``, on condition that it still shows the heartbeat
    and holder this desktop saw unchanged (``LeaseWatch.expired``; the operator confirmed). ``LeaseHeld``
    naming whoever holds it now when the holder beat meanwhile or another desktop took it first (holder
    None: it was released; ``take`` it)."""
    _check_id(execution_id, "execution ID")
    _check_id(me, "desktop ID")
    _check_id(seen_holder, "holder")
    if seen_holder == me:
        raise ValueError(f"desktop {me} already holds the lease on {execution_id}: take it, not over")
    condition = "holder = :seen AND heartbeat = :hb"
    values = {":seen": {"S": seen_holder}, ":hb": {"N": str(int(seen_heartbeat))}}
    try:
        lease = _write_holder(client, table, execution_id, me, now, condition, values)
    except ClientError as exc:
        if error_code(exc) != _REFUSED:
            raise map_dynamodb_error(exc, "UpdateItem", table=table) from exc
        current = _refused_item(client, table, execution_id, exc)
    except Exception as exc:
        raise map_dynamodb_error(exc, "UpdateItem", table=table) from exc
    else:
        logger.info(
            "execution %s: lease taken over from %s (heartbeat %s)", execution_id, seen_holder, seen_heartbeat
        )
        return lease
    if current is not None and current.holder == me:
        return current  # a resent request whose first attempt had landed: ours
    if current is None:
        message = f"Execution {execution_id}: its lease was released meanwhile; take it instead"
    elif current.holder == seen_holder:
        message = (
            f"Execution {execution_id}: desktop {seen_holder} is beating again (heartbeat "
            f"{current.heartbeat}, {seen_heartbeat} seen): not taken over"
        )
    else:
        message = f"Execution {execution_id}: desktop {current.holder} took the lease over first"
    raise LeaseHeld(
        message,
        execution_id=execution_id,
        holder=None if current is None else current.holder,
        heartbeat=None if current is None else current.heartbeat,
        operation="UpdateItem",
        table=table,
    )


def beat(client: Any, table: str, lease: Lease) -> Lease:
    """Add 1 to the heartbeat of a lease this desktop holds; the lease with its new heartbeat.
    ``LeaseLost`` (naming the new holder) when the table says it is no longer ours; any other
    ``SyncError`` (``SyncUnavailable`` for a throttle or the network) leaves the lease as it was."""
    try:
        answer = client.update_item(
            TableName=table,
            Key=lease_key(lease.execution_id),
            UpdateExpression="REMOVE released_events ADD heartbeat :one",
            ConditionExpression="holder = :me",
            ExpressionAttributeValues={":one": {"N": "1"}, ":me": {"S": lease.holder}},
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if error_code(exc) != _REFUSED:
            raise map_dynamodb_error(exc, "UpdateItem", table=table) from exc
        raise _lost(client, table, lease, exc, "UpdateItem") from None
    except Exception as exc:
        raise map_dynamodb_error(exc, "UpdateItem", table=table) from exc
    return _lease_of(answer.get("Attributes") or {}, lease.execution_id, table)


def release(client: Any, table: str, lease: Lease, *, pushed_events: int | None = None) -> bool:
    """Give the lease back while this desktop holds it as ``lease`` last left it (the item stays, without
    a holder, its counter one higher). Conditional on the heartbeat too: a release sent late by a keeper
    that is ending must not free the lease this desktop has taken again since (a resume right after a
    stop: the new take moved the counter). False when it was already free, or this desktop holds it
    under another heartbeat (nothing changed); ``LeaseLost`` when another desktop holds it.
    ``pushed_events``: the execution was pushed right before (a clean stop), and the table holds that many
    of its journal events: recorded as ``released_events``; None (the push failed or was not tried)
    records nothing, and removes what an earlier release recorded."""
    values = {":one": {"N": "1"}, ":me": {"S": lease.holder}, ":seen": {"N": str(lease.heartbeat)}}
    if pushed_events is None:
        update = "REMOVE holder, taken_at, released_events ADD heartbeat :one"
    else:
        if pushed_events < 0:
            raise ValueError(f"pushed_events must be >= 0, not {pushed_events}")
        update = "SET released_events = :events REMOVE holder, taken_at ADD heartbeat :one"
        values[":events"] = {"N": str(int(pushed_events))}
    try:
        client.update_item(
            TableName=table,
            Key=lease_key(lease.execution_id),
            UpdateExpression=update,
            ConditionExpression="holder = :me AND heartbeat = :seen",
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if error_code(exc) != _REFUSED:
            raise map_dynamodb_error(exc, "UpdateItem", table=table) from exc
        current = _refused_item(client, table, lease.execution_id, exc)
        if current is None or current.holder == lease.holder:
            return False
        raise _lost(client, table, lease, exc, "UpdateItem", current) from None
    except Exception as exc:
        raise map_dynamodb_error(exc, "UpdateItem", table=table) from exc
    logger.info(
        "execution %s: lease released by %s (%s)",
        lease.execution_id,
        lease.holder,
        "nothing recorded" if pushed_events is None else f"{pushed_events} journal events pushed",
    )
    return True


# -- helpers -----------------------------------------------------------------------------------------------


def _write_holder(
    client: Any,
    table: str,
    execution_id: str,
    me: str,
    now: Clock,
    condition: str,
    values: Mapping[str, Any],
) -> Lease:
    """SET holder = me, taken_at = now, ADD heartbeat 1, on ``condition``; the lease written."""
    answer = client.update_item(
        TableName=table,
        Key=lease_key(execution_id),
        UpdateExpression="SET holder = :me, taken_at = :at REMOVE released_events ADD heartbeat :one",
        ConditionExpression=condition,
        ExpressionAttributeValues={
            ":me": {"S": me},
            ":at": {"S": now().astimezone(UTC).isoformat(timespec="seconds")},
            ":one": {"N": "1"},
            **values,
        },
        ReturnValues="ALL_NEW",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    return _lease_of(answer.get("Attributes") or {}, execution_id, table)


def _refused_item(client: Any, table: str, execution_id: str, exc: ClientError) -> Lease | None:
    """The lease as it stood when a condition refused a write: the item returned with the refusal, or
    (an endpoint that omits it) a consistent read. None when nobody holds it."""
    item = (exc.response or {}).get("Item")
    if item:
        return _lease_or_free(item, execution_id, table)
    return read(client, table, execution_id)


def _lost(
    client: Any, table: str, lease: Lease, exc: ClientError, operation: str, current: Lease | None = None
) -> LeaseLost:
    if current is None:
        current = _refused_item(client, table, lease.execution_id, exc)
    if current is None:
        what = "its lease is free (released by another desktop, or its item deleted)"
    else:
        what = f"desktop {current.holder} holds its lease now (heartbeat {current.heartbeat})"
    return LeaseLost(
        f"Execution {lease.execution_id} is no longer driven by this desktop ({lease.holder}): {what}",
        execution_id=lease.execution_id,
        holder=None if current is None else current.holder,
        operation=operation,
        table=table,
    )


def _lease_or_free(item: Mapping[str, Any] | None, execution_id: str, table: str) -> Lease | None:
    """The lease in ``item``, None for no item or a released lease (a counter and no holder)."""
    if not item:
        return None
    if "holder" not in item and _counter(item) is not None:
        return None
    return _lease_of(item, execution_id, table)


def _lease_of(item: Mapping[str, Any], execution_id: str, table: str) -> Lease:
    """The lease in ``item``; a ``SyncError`` naming the item and the attribute when it is not one."""
    holder = _attribute(item, "holder", "S")
    count = _counter(item)
    taken_at = _attribute(item, "taken_at", "S") if "taken_at" in item else ""
    if not isinstance(holder, str) or not holder or count is None:
        raise SyncError(
            f"The lease item {LEASE_PK_PREFIX}{execution_id}/{LEASE_SK} in the sync table {table} is not a "
            f"lease: it needs a text 'holder' and a counter 'heartbeat' (found {_shown(item)}). Nothing "
            "was changed",
            code="MalformedItem",
            table=table,
        )
    return Lease(execution_id, holder, count, taken_at if isinstance(taken_at, str) else "")


def _counter(item: Mapping[str, Any]) -> int | None:
    """The item's heartbeat, None when it is not a whole number >= 0."""
    text = _attribute(item, "heartbeat", "N")
    try:
        count = int(text) if isinstance(text, str) else -1
    except ValueError:
        return None
    return count if count >= 0 else None


def _attribute(item: Mapping[str, Any], name: str, tag: str) -> Any:
    value = item.get(name)
    return value.get(tag) if isinstance(value, Mapping) else None


def _shown(item: Mapping[str, Any]) -> str:
    names = sorted(str(name) for name in item if name not in (PK, SK))
    return ", ".join(names) if names else "no attributes"


def _check_id(value: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise ValueError(f"a lease needs a {what}, not {value!r}")
