"""A team's history at scale, built with the storage functions on a real SQLite file, and a meter of the
DynamoDB calls a sync makes: shared by the scale benchmark (tests/benchmarks/bench_sync.py) and its small
case in the suite (tests/sync/test_sync_scale.py).

``build_history`` saves plans revision after revision (``storage.plans.save_plan``) and runs executions
pinned to them (``storage.executions``), journals written batch after batch as a runner appends them:
every write queues its sync entries as in the application. ``CallMeter`` hooks a boto3 client's events
and counts, per operation, the calls, the items read and written, and the capacity units DynamoDB would
charge for them by its published rules (on demand: a write 1 unit per KB of item, twice in a
transaction; a consistent read 1 unit per 4 KB, a Query's items summed). moto reports a flat figure per
call (or none, for transactions), so its numbers, summed in ``SyncReport.capacity``, say how many calls
reported capacity more than how much a real table would charge; the estimate is printed beside them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services.sync import SyncReport
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import PlanRevision, list_plans, list_revisions, save_plan
from tests.sync.desktops import Desktop, desktop, init_table
from tests.sync.dynamodb_emulator import DynamoDbEmulator

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def server_id(plan: int, n: int) -> str:
    return f"s-{plan:05d}{n:012d}"


def scale_plan(index: int, revision: int, *, waves: int = 4, per_wave: int = 12) -> RecoveryPlan:
    """Plan ``index`` as saved the ``revision``-th time: a few waves of servers, one more each time."""
    servers = [server_id(index, n) for n in range(waves * per_wave + revision)]
    return RecoveryPlan(
        name=f"Plan {index:04d}",
        description=f"Recovery of application {index:04d}, edited {revision} times",
        waves=tuple(Wave(name=f"Wave {w + 1}", servers=tuple(servers[w::waves])) for w in range(waves)),
    )


def journal_events(execution: int, start: int, count: int) -> list[dict[str, Any]]:
    """Journal events of realistic size (a few hundred bytes: a job's servers and their states)."""
    events = []
    for seq in range(start, start + count):
        at = (T0 + timedelta(hours=execution, seconds=15 * seq)).isoformat()
        job = f"drsjob-{execution:08x}{seq // 50:09x}"
        servers = [
            {
                "source_server_id": server_id(execution, seq % 40 + k),
                "launch_status": ("PENDING", "IN_PROGRESS", "LAUNCHED")[(seq + k) % 3],
                "recovery_instance_id": f"i-{execution:05x}{seq:06x}{k:06x}",
            }
            for k in range(3)
        ]
        events.append(
            {
                "type": "JobsObserved",
                "at": at,
                "jobs": [{"job_id": job, "status": "STARTED", "servers": servers}],
            }
        )
    return events


def build_history(
    db: Database, *, plans: int, revisions: int, executions: int, events: int
) -> list[PlanRevision]:
    """``plans`` plans of ``revisions`` revisions each and ``executions`` finished executions of
    ``events`` journal events each (pinned to the latest revisions, round robin); the latest revisions."""
    latest: list[PlanRevision] = []
    for index in range(plans):
        for revision in range(1, revisions + 1):
            saved = save_plan(db, scale_plan(index, revision), comment=f"edit {revision}", author="bench")
        latest.append(saved)
    for n in range(executions):
        pinned = latest[n % len(latest)]
        execution_id = f"{n:08x}-0000-4000-8000-{n:012x}"
        journal.create_execution(
            db,
            ExecutionRecord(
                execution_id=execution_id,
                plan_id=pinned.plan_id,
                plan_revision_id=pinned.revision_id,
                plan_name=pinned.name,
                plan_revision=pinned.revision,
                mode="DRILL",
                status="RUNNING",
                started_at=T0 + timedelta(hours=n),
                options={"poll_interval": 15},
                identity={"account": "111122223333"},
            ),
        )
        for start in range(1, events + 1, 100):  # as a runner appends them: batch after batch
            journal.append_events(db, execution_id, journal_events(n, start, min(100, events - start + 1)))
        journal.set_execution_status(
            db,
            execution_id,
            "SUCCEEDED",
            outcome="SUCCEEDED",
            finished_at=T0 + timedelta(hours=n, minutes=50),
        )
    return latest


# -- metering ----------------------------------------------------------------------------------------

_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


@dataclass
class Calls:
    """What one client's calls did, per operation."""

    calls: Counter[str] = field(default_factory=Counter)
    items_read: Counter[str] = field(default_factory=Counter)
    items_written: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0

    def minus(self, before: Calls) -> Calls:
        return Calls(
            self.calls - before.calls,
            self.items_read - before.items_read,
            self.items_written - before.items_written,
            self.read_units - before.read_units,
            self.write_units - before.write_units,
        )

    def copy(self) -> Calls:
        return self.minus(Calls())

    @property
    def total_items_read(self) -> int:
        return sum(self.items_read.values())


class CallMeter:
    """Counts the calls of one client (``attach``), and estimates their units by DynamoDB's rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = Calls()

    def attach(self, client: Any) -> CallMeter:
        client.meta.events.register("provide-client-params.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)
        return self

    def snapshot(self) -> Calls:
        with self._lock:
            return self.now.copy()

    def _before(self, model: Any, params: Mapping[str, Any], **_: Any) -> None:
        name = model.name
        if name not in _WRITES:
            return
        if name == "TransactWriteItems":
            items = [next(iter(part.values())).get("Item", {}) for part in params.get("TransactItems", [])]
            units = sum(2 * _write_units(item) for item in items)
        elif name == "BatchWriteItem":
            items = [
                request["PutRequest"]["Item"]
                for requests in params.get("RequestItems", {}).values()
                for request in requests
                if "PutRequest" in request
            ]
            units = sum(_write_units(item) for item in items)
        else:  # PutItem's item; an UpdateItem here is the counter or a lease: one small item
            items = [params.get("Item", {})]
            units = _write_units(items[0])
        with self._lock:
            self.now.items_written[name] += len(items)
            self.now.write_units += units

    def _after(self, model: Any, parsed: Mapping[str, Any], **_: Any) -> None:
        name = model.name
        with self._lock:
            self.now.calls[name] += 1
            if name == "GetItem":
                item = parsed.get("Item")
                self.now.items_read[name] += 1 if item else 0
                self.now.read_units += _read_units(item_size(item) if item else 0)
            elif name == "Query":
                items = parsed.get("Items", [])
                self.now.items_read[name] += len(items)
                self.now.read_units += _read_units(sum(item_size(i) for i in items))
            elif name == "BatchGetItem":
                items = [i for got in parsed.get("Responses", {}).values() for i in got]
                self.now.items_read[name] += len(items)
                self.now.read_units += sum(_read_units(item_size(i)) for i in items)


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB counts it: names and values in UTF-8 (numbers about a byte per two
    digits). What a projection left out is not counted: such a Query's estimate is a lower bound."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return (len(str(inner).lstrip("-").replace(".", "")) + 1) // 2 + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + 1 + _value_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    return sum(len(str(v).encode("utf-8")) for v in inner)  # SS, NS, BS


def _write_units(item: Mapping[str, Any]) -> float:
    return float(max(1, math.ceil(item_size(item) / 1024)))


def _read_units(size: int) -> float:
    return float(max(1, math.ceil(size / 4096)))


# -- the phases of a team's first and next syncs -----------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """One sync measured: its wall time, what it did (``SyncReport``) and its calls."""

    name: str
    seconds: float
    report: SyncReport
    calls: Calls


def measure(name: str, desktop: Desktop, meter: CallMeter) -> Phase:
    before = meter.snapshot()
    started = time.perf_counter()
    report = desktop.service.sync_now()
    seconds = time.perf_counter() - started
    return Phase(name, seconds, report, meter.snapshot().minus(before))


def run_scale(
    workdir: Path,
    emulator: DynamoDbEmulator,
    *,
    plans: int,
    revisions: int,
    executions: int,
    events: int,
    say: Callable[[str], None] = lambda _line: None,
) -> tuple[float, list[Phase]]:
    """Desktop A builds the history and pushes it; B's first sync pulls it all; then one plan is saved
    again on A and both sync (A pushes the one change, B pulls it). The build's seconds and the phases."""
    init_table(emulator)
    a, b = desktop(workdir, "a", emulator), desktop(workdir, "b", emulator)
    meters = {a.name: CallMeter().attach(a.client), b.name: CallMeter().attach(b.client)}
    try:
        started = time.perf_counter()
        latest = build_history(a.db, plans=plans, revisions=revisions, executions=executions, events=events)
        built = time.perf_counter() - started
        say(f"built {plans} plans x {revisions} revisions and {executions} executions in {built:.1f} s")
        phases = [measure("A: first push", a, meters["a"])]
        say(f"{phases[-1].name}: {phases[-1].seconds:.1f} s")
        phases.append(measure("B: first sync (pull all)", b, meters["b"]))
        say(f"{phases[-1].name}: {phases[-1].seconds:.1f} s")
        save_plan(a.db, scale_plan(0, revisions + 1), comment="one more", author="bench")
        phases.append(measure("A: incremental (push 1 change)", a, meters["a"]))
        phases.append(measure("B: incremental (pull 1 change)", b, meters["b"]))
        phases.append(measure("B: nothing changed", b, meters["b"]))
        # The pull is complete: B holds what A holds.
        assert [p.name for p in list_plans(b.db)] == [p.name for p in list_plans(a.db)]
        assert len(list_revisions(b.db, latest[0].name)) == revisions + 1
        assert len(journal.list_executions(b.db, limit=executions + 1)) == executions
        return built, phases
    finally:
        a.db.close()
        b.db.close()
