"""How much of the table's capacity a sync used: every call asks DynamoDB for it and the answers are summed.

DynamoDB reports the capacity a call consumed only when asked (``ReturnConsumedCapacity=TOTAL``). Rather
than thread that parameter and the answer through every function of the change sequence
(aws/sync_feed.py, aws/sync_pull.py), a ``CapacityMeter`` hooks the client's own event system: it adds the
parameter to each call that accepts it and adds up what the answers carry. An endpoint that reports
nothing (some emulators for some calls) simply adds nothing: the totals are what DynamoDB said, never an
estimate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Operations (botocore's names) whose consumed capacity is counted, and whether they read or write.
_READS = frozenset({"GetItem", "BatchGetItem", "Query"})
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


@dataclass(frozen=True)
class Capacity:
    """Read and write capacity units DynamoDB reported, and how many calls reported any."""

    read_units: float = 0.0
    write_units: float = 0.0
    calls: int = 0

    def __add__(self, other: Capacity) -> Capacity:
        return Capacity(
            self.read_units + other.read_units, self.write_units + other.write_units, self.calls + other.calls
        )


class CapacityMeter:
    """Counts the capacity consumed by the calls of one client, from now on (``attach``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read = 0.0
        self._write = 0.0
        self._calls = 0

    def attach(self, client: Any) -> CapacityMeter:
        """Hook ``client``; attaching the same meter twice counts once (botocore's ``unique_id``)."""
        events = client.meta.events
        tag = f"drs-capacity-{id(self)}"
        events.register("provide-client-params.dynamodb", self._ask, unique_id=f"{tag}-ask")
        events.register("after-call.dynamodb", self._count, unique_id=f"{tag}-count")
        return self

    @property
    def total(self) -> Capacity:
        with self._lock:
            return Capacity(self._read, self._write, self._calls)

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in _READS or model.name in _WRITES:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        if model.name not in _READS and model.name not in _WRITES:
            return
        units = _units(parsed.get("ConsumedCapacity"))
        if units is None:
            return
        with self._lock:
            self._calls += 1
            if model.name in _READS:
                self._read += units
            else:
                self._write += units


def _units(consumed: Any) -> float | None:
    """The units an answer reports: one map (single-item calls) or a list of maps (batch, transact)."""
    if consumed is None:
        return None
    entries: Iterable[Any] = consumed if isinstance(consumed, list) else [consumed]
    total = 0.0
    seen = False
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        value = entry.get("CapacityUnits")
        if value is None:
            value = float(entry.get("ReadCapacityUnits") or 0) + float(entry.get("WriteCapacityUnits") or 0)
        total += float(value)
        seen = True
    return total if seen else None
