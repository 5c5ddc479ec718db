"""Two desktops syncing through throttled writes and dropped connections (issue 14, item 7).

Emulators never throttle, so a loopback fault proxy (tests/sync/refusing_proxy.py) stands between both
desktops' real boto3 clients and moto: every third-and-fourth call of each write operation (PutItem,
UpdateItem, TransactWriteItems) is refused for load, with the HTTP 400 bodies DynamoDB sends, and a few
calls lose their connection, before the request reaches the table (nothing done) or after (done, the
answer lost). botocore retries once, with its legacy DynamoDB delay (50 ms, deterministic); what it
cannot absorb reaches the sync module, whose backoff sleeps are recorded here, never slept. Whatever
happens, every change must arrive exactly once and in order: a counter ADD resent after its answer was
lost skips a number (a gap, fenced after the grace on the injected clock), a transaction resent finds
itself already committed, a page or revision put resent finds itself already there.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.config import Config

from drs_desktop.aws.sync_retry import Backoff
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.sync_errors import SyncError
from drs_desktop.services.sync import GAP_GRACE
from drs_desktop.storage import executions as journal
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.plans import get_plan, list_plans, list_revisions, save_plan
from drs_desktop.storage.settings import get_setting, set_setting
from drs_desktop.storage.sync_conflicts import open_conflicts
from tests.sync.desktops import Desktop, desktop, init_table, plan, table_items
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.sync.refusing_proxy import (
    CANCELLED_THROTTLED,
    DROP,
    LOSE,
    PROVISIONED_THROUGHPUT,
    THROTTLING,
    RefusingProxy,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EXECUTION = "6d1f0a2e-7777-4888-9999-0000aaaabbbb"
#: botocore: two attempts per call, legacy mode (DynamoDB's fixed 50 ms first delay, no jitter).
TWO_ATTEMPTS = Config(retries={"mode": "legacy", "total_max_attempts": 2}, connect_timeout=2, read_timeout=10)
#: Connections lost (the answer, after the table did the write) and dropped (before it), by operation
#: and that operation's call number. Chosen where botocore's retry is not itself faulted (n + 1 is not
#: a throttled number): the retry then meets its own earlier success.
#: Three calls lose their answer and then botocore's retry too: the round fails for the operator, and
#: the next round meets the writes already done (a committed head, a page, a revision, a number used).
LOST = {
    ("UpdateItem", 2),
    ("TransactWriteItems", 2),
    ("PutItem", 7),
    ("UpdateItem", 8),
    ("TransactWriteItems", 12),
    ("PutItem", 24),
    ("UpdateItem", 13),
}
DROPPED = {
    ("PutItem", 2),
    ("TransactWriteItems", 6),
    ("UpdateItem", 12),
    ("TransactWriteItems", 13),
    ("PutItem", 25),
    ("UpdateItem", 14),
}
_THROTTLES = (PROVISIONED_THROUGHPUT, THROTTLING, CANCELLED_THROTTLED)


def faults(operation: str, n: int) -> str | None:
    """A third of each write operation's calls throttled, in pairs (n = 3, 4 mod 6), so that botocore's
    one retry meets the second and the sync module's backoff must take over; a few connections lost."""
    if (operation, n) in LOST:
        return LOSE
    if (operation, n) in DROPPED:
        return DROP
    if n % 6 in (3, 4):
        return _THROTTLES[(n // 6) % len(_THROTTLES)]
    return None


def _events(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {"type": "ServerPolled", "at": (T0 + timedelta(seconds=n)).isoformat(), "n": n}
        for n in range(start, start + count)
    ]


def _settle(desktops: list[Desktop], errors: list[str], rounds: int = 12) -> None:
    """Sync each desktop in turn until a whole round changes nothing and nothing waits. A call the
    faults made fail (botocore's two attempts both lost) is an error of that round, as for an operator:
    the next round takes it up. A gap (a number a lost answer skipped) waits out the grace on the
    desktops' own clocks, moved by hand."""
    for _ in range(rounds):
        quiet = True
        for d in desktops:
            try:
                report = d.service.sync_now()
            except SyncError as error:
                errors.append(f"{d.name}: {error}")
                quiet = False
                continue
            if report.pushed or report.pulled or report.queued or report.waiting:
                quiet = False
            if report.waiting:
                for other in desktops:
                    other.clock.advance(GAP_GRACE + 1)
        if quiet:
            return
    raise AssertionError(f"the desktops did not settle in {rounds} rounds; errors: {errors}")


def test_throttled_writes_and_dropped_connections_lose_and_double_nothing(
    tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    init_table(dynamodb)
    sleeps: list[float] = []
    backoff = Backoff(attempts=6, base=0.05, cap=1.0, sleep=sleeps.append)
    with RefusingProxy(dynamodb.endpoint_url, set(), faults=faults) as proxy:
        a, b = (
            desktop(
                tmp_path,
                name,
                dynamodb,
                endpoint_url=proxy.endpoint_url,
                config=TWO_ATTEMPTS,
                backoff=backoff,
            )
            for name in ("a", "b")
        )
        # A: three plans of three revisions, an execution with 450 events (3 pages), a shared setting.
        for name in ("Payroll", "Ledger", "Portal"):
            for n in range(1, 4):
                save_plan(a.db, plan(name, *(f"s-{name}-{i}" for i in range(n))))
        revision = list_revisions(a.db, "Payroll")[-1]
        journal.create_execution(
            a.db,
            ExecutionRecord(
                execution_id=EXECUTION,
                plan_id=revision.plan_id,
                plan_revision_id=revision.revision_id,
                plan_name="Payroll",
                plan_revision=revision.revision,
                mode="DRILL",
                status="RUNNING",
                started_at=T0,
            ),
        )
        for start in (1, 201, 401):
            journal.append_events(a.db, EXECUTION, _events(start, 200 if start < 401 else 50))
        set_setting(a.db, "engine.wave_timeout_minutes", 95)
        # B: two plans of its own, two revisions each.
        for name in ("Billing", "Search"):
            save_plan(b.db, plan(name, "s-1"))
            save_plan(b.db, plan(name, "s-1", "s-2"))

        errors: list[str] = []
        _settle([a, b], errors)
        # Then more on both sides, through the same faults.
        save_plan(b.db, plan("Payroll", "s-Payroll-0", "s-b"))
        journal.append_events(a.db, EXECUTION, _events(451, 30))
        journal.set_execution_status(a.db, EXECUTION, "SUCCEEDED", outcome="SUCCEEDED", finished_at=T0)
        _settle([a, b], errors)

        made = proxy.kinds()
    # Every kind of fault was met, and the sync module's own backoff (not only botocore's) waited.
    assert set(made) == {PROVISIONED_THROUGHPUT, THROTTLING, CANCELLED_THROTTLED, DROP, LOSE}, made
    assert sleeps and all(0 <= s <= 1.0 for s in sleeps)
    # Some rounds failed (botocore's two attempts both lost their connection): the next one took them up.
    assert errors and all("connection" in e.lower() or "endpoint" in e.lower() for e in errors), errors

    # The feed: every number up to the counter is one change or one fence; no change is there twice.
    feed = table_items(dynamodb, "FEED")
    counter = int(table_items(dynamodb, "META", "SEQ")[0]["n"]["N"])
    assert [int(e["sk"]["S"][4:]) for e in feed] == list(range(1, counter + 1))
    changes = [(e["kind"]["S"], e["key"]["S"], int(e["version"]["N"])) for e in feed if "fenced" not in e]
    assert len(changes) == len(set(changes)), Counter(changes).most_common(3)
    # A counter ADD resent after its answer was lost skipped a number: fenced, not waited for forever.
    assert any("fenced" in e for e in feed)
    # Each entity's versions in the feed go 1, 2, 3... in the order of the numbers.
    versions: dict[tuple[str, str], list[int]] = {}
    for kind, key, version in changes:
        versions.setdefault((kind, key), []).append(version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values()), versions

    # Revisions: numbered 1..n in the order they were saved, each once.
    for d in (a, b):
        for summary in list_plans(d.db):
            revs = table_items(dynamodb, f"PLAN#{summary.plan_id}", "REV#")
            assert [r["sk"]["S"] for r in revs] == [f"REV#{n:06d}" for n in range(1, len(revs) + 1)]
            assert len({r["revision_id"]["S"] for r in revs}) == len(revs)
    assert len(list_revisions(a.db, "Payroll")) == 4  # three of A's, then B's edit on top

    # Both desktops end equal: plans and their revisions, the journal (complete, in order), the setting.
    for d in (a, b):
        assert open_conflicts(d.db) == [] and outbox.pending_count(d.db) == 0
    names = sorted(p.name for p in list_plans(a.db))
    assert (
        names
        == sorted(p.name for p in list_plans(b.db))
        == ["Billing", "Ledger", "Payroll", "Portal", "Search"]
    )
    for name in names:
        assert get_plan(a.db, name) == get_plan(b.db, name)
        assert [r.revision_id for r in list_revisions(a.db, name)] == [
            r.revision_id for r in list_revisions(b.db, name)
        ]
    assert [e.payload["n"] for e in journal.load_journal(b.db, EXECUTION)] == list(range(1, 481))
    assert journal.get_execution(b.db, EXECUTION).status == "SUCCEEDED"
    pages = table_items(dynamodb, f"EXEC#{EXECUTION}", "EVENTS#")
    firsts = [int(p["sk"]["S"].rpartition("#")[2]) for p in pages]  # EVENTS#<segment>#<desktop>#<first>
    lasts = [int(p["last"]["N"]) for p in pages]
    assert firsts[0] == 1 and all(f == last + 1 for f, last in zip(firsts[1:], lasts, strict=False))
    assert get_setting(b.db, "engine.wave_timeout_minutes") == 95
    a.db.close()
    b.db.close()
