"""A clean stop pushes its execution before it gives the lease back (docs/sync.md, "Driving with a lease").

Without it, a teammate taking over a cleanly stopped run would have to guess what the unpushed tail of
its journal held (reconcile with DRS, wait for DRS's listing to settle). So a closing session that holds
a lease first pushes that execution (its journal pages, then its head: the ordinary push,
``services.sync_push.push``, limited to that entity's queued entries), and the lease is then released
with ``released_events``, how many journal events the table holds for it (``aws.sync_lease.release``).

The entries of the execution's plan queued before it go too: an execution head names its pinned revision,
and a head whose revision is not in the table would hold every puller's cursor until this desktop's next
sync, which may be days away on a desktop that is closing.

Bounded in time: no entry starts after ``CLOSE_PUSH_SECONDS``, and each call is bounded by the client's
timeouts (one retry). A push that fails, times out or leaves anything of the execution queued (a
conflict, a fenced number) answers None: the lease is then released without a count, and the takeover
reconciles with DRS as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from drs_desktop import __version__
from drs_desktop.aws.sync_retry import Backoff
from drs_desktop.aws.sync_schema import SyncTableTarget, dynamodb_client
from drs_desktop.services.sync_context import SyncContext, Tally
from drs_desktop.services.sync_push import push
from drs_desktop.storage import executions as journal
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database
from drs_desktop.storage.sync_apply import journal_last

__all__ = ["CLOSE_PUSH_SECONDS", "push_execution"]

logger = logging.getLogger(__name__)

#: Real seconds after which a closing session's push starts no further entry.
CLOSE_PUSH_SECONDS = 20.0
#: Each call's connect and read timeout (seconds) for the closing push's own client.
CLOSE_CALL_TIMEOUT = 5.0
#: Throttling retries of one call: a few, quickly; a busy table means no count, not a long wait.
_CLOSE_BACKOFF = Backoff(attempts=3, base=0.1, cap=1.0)


def push_execution(
    db: Database,
    target: SyncTableTarget,
    desktop_id: str,
    execution_id: str,
    *,
    seconds: float = CLOSE_PUSH_SECONDS,
    client_factory: Callable[[], Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int | None:
    """Push ``execution_id`` (and its plan's queued entries) now; how many journal events the table holds
    for it once nothing of it is queued any more, None otherwise (the push failed, timed out or left
    something queued). Never raises for the table: a failure is logged and answered None."""
    deadline = clock() + seconds
    try:
        record = journal.get_execution(db, execution_id)
        client = (
            client_factory or (lambda: dynamodb_client(target, max_attempts=2, timeout=CLOSE_CALL_TIMEOUT))
        )()
        ctx = SyncContext(db, client, target.table, desktop_id, __version__, _CLOSE_BACKOFF)
        wanted = {("EXEC", execution_id), ("PLAN", record.plan_id)}

        def only(entry: outbox.OutboxEntry) -> bool:
            return (entry.kind, entry.key) in wanted and clock() < deadline

        push(ctx, Tally(), only=only)
    except Exception as exc:
        logger.warning("execution %s was not pushed before its lease was given back: %s", execution_id, exc)
        return None
    return events_in_table(db, execution_id)


def events_in_table(db: Database, execution_id: str) -> int | None:
    """How many journal events the table holds for the execution when it holds all of this desktop's (and
    its head): nothing of it queued, and the journal pushed up to the last local event. None otherwise."""
    if outbox.queued_for(db, "EXEC", execution_id):
        return None
    seen = outbox.entity_version(db, "EXEC", execution_id)
    local = journal_last(db, execution_id)
    if seen is None or seen.version is None or seen.journal_last != local:
        return None
    return local
