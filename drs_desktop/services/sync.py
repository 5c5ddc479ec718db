"""Team sync, the use case: push this desktop's queued changes, pull the team's, record conflicts, and
resolve them as the operator chooses (docs/sync.md; issue 14). Qt-free: ``drs-desktop sync now`` calls
it, and the GUI's background task will call the same.

``SyncService`` is built on one thread with the table's DynamoDB client and this desktop's database; it
keeps the puller's ``GapTracker`` in memory across rounds, so a gap's grace runs from the first pull that
saw it, timed on the injected monotonic clock. ``sync_now`` is pull, push, pull: the first pull finds
conflicts before anything is pushed over them, the last one brings back what others pushed meanwhile.

A table that is not the one this desktop synced with (deleted and created again: another creation time,
or a counter below this desktop's cursor) makes the sync start over, and say so: the old table's numbers
mean nothing in the new one, so this desktop forgets them and queues its whole history again
(storage/sync_conflicts.start_over). Refusing would leave the team without a table until someone edits
SQLite; pulling from the old cursor would skip the new table's first changes forever.

A round reports its steps to an optional ``progress`` callback (``SyncProgress``: checking the table,
pulling, pushing n of N queued changes), for the GUI's status bar. The count is read after each call
the client makes (botocore's own ``after-call`` event, as the capacity meter counts), so the push and
the pull need no hook of their own; a callback that fails is logged and never fails the sync.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from drs_desktop.aws.dynamodb_errors import map_dynamodb_error
from drs_desktop.aws.sync_capacity import CapacityMeter
from drs_desktop.aws.sync_feed import GapTracker, read_counter
from drs_desktop.aws.sync_retry import DEFAULT_BACKOFF, Backoff
from drs_desktop.aws.sync_table import SyncTableTarget, check_table
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.settings.shared import SHARED_SETTINGS
from drs_desktop.domain.sync_errors import SyncError
from drs_desktop.domain.views.sync_status import SyncProgress
from drs_desktop.services.sync_context import SyncContext, SyncReport, Tally
from drs_desktop.services.sync_pull_apply import pull_and_apply
from drs_desktop.services.sync_push import push
from drs_desktop.services.sync_resolve import CHOICES, resolve
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database
from drs_desktop.storage.sync_conflicts import open_conflicts, remember_table, start_over, table_created_at

logger = logging.getLogger(__name__)

__all__ = ["CHOICES", "GAP_GRACE", "SyncReport", "SyncService"]

#: Seconds a gap in the change feed may stay open before this desktop fences it (docs/sync.md).
GAP_GRACE = 30.0

Progress = Callable[[SyncProgress], None]


class SyncService:
    """Push, pull and resolve against one table, for one desktop."""

    def __init__(
        self,
        db: Database,
        client: Any,
        table: SyncTableTarget,
        desktop_id: str,
        app_version: str,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        grace: float = GAP_GRACE,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self._ctx = SyncContext(db, client, table.table, desktop_id, app_version, backoff)
        self._target = table
        self._monotonic = monotonic
        self._grace = grace
        self._gaps = GapTracker()
        self._meter = CapacityMeter().attach(client)
        self._checked = False
        self._progress: Progress | None = None
        self._step = SyncProgress("checking")
        self._tally: Tally | None = None
        client.meta.events.register(
            "after-call.dynamodb", self._after_call, unique_id=f"drs-sync-progress-{id(self)}"
        )

    def push(self, progress: Progress | None = None) -> SyncReport:
        return self._round(pull_first=False, push_too=True, pull_after=False, progress=progress)

    def pull(self, progress: Progress | None = None) -> SyncReport:
        return self._round(pull_first=True, push_too=False, pull_after=False, progress=progress)

    def sync_now(self, progress: Progress | None = None) -> SyncReport:
        """Pull, push, pull; the last sync time (or the error, one line) recorded either way.
        ``progress`` (optional) is told each step, on this thread."""
        return self._round(pull_first=True, push_too=True, pull_after=True, progress=progress)

    def resolve(self, kind: str, key: str, choice: str) -> str:
        """Resolve the open conflict on ``kind``/``key`` (``keep_mine``, ``take_theirs``,
        ``save_as_copy``); what was done, in words. Nothing is sent: the next sync carries it out."""
        try:
            return resolve(self._ctx, kind, key, choice)
        except DrsDesktopError:
            raise
        except Exception as exc:  # botocore's, from the table reads a resolution needs
            raise map_dynamodb_error(exc, "Resolve", table=self._ctx.table) from exc

    # -- one round -------------------------------------------------------------------------------------

    def _round(
        self, *, pull_first: bool, push_too: bool, pull_after: bool, progress: Progress | None = None
    ) -> SyncReport:
        self._progress, self._tally, self._step = progress, Tally(), SyncProgress("")
        try:
            return self._round_steps(pull_first=pull_first, push_too=push_too, pull_after=pull_after)
        finally:
            self._progress = self._tally = None

    def _round_steps(self, *, pull_first: bool, push_too: bool, pull_after: bool) -> SyncReport:
        db = self._ctx.db
        tally = self._tally or Tally()
        before = self._meter.total
        cursor = outbox.get_state(db).cursor
        waiting: tuple[int, ...] = ()
        started_over = False
        try:
            self._report(SyncProgress("checking"))
            started_over = self._check(tally)
            if pull_first:
                self._report(SyncProgress("pulling"))
                cursor, waiting = self._pull(tally)
            if push_too:
                self._report(SyncProgress("pushing", 0, outbox.pending_count(db)))
                push(self._ctx, tally)
                self._after_call()  # the last entry's count (taken off the queue after its call)
            if pull_after:
                self._report(SyncProgress("pulling"))
                cursor, waiting = self._pull(tally)
        except Exception as exc:
            error = (
                exc
                if isinstance(exc, DrsDesktopError)
                else map_dynamodb_error(exc, "Sync", table=self._ctx.table)
            )
            outbox.record_sync(db, error=str(error))
            logger.warning("sync failed: %s", error)
            if error is exc:
                raise
            raise error from exc
        outbox.record_sync(db)
        return SyncReport(
            pushed={what: n for what, n in tally.pushed.items() if n},
            pulled={what: n for what, n in tally.pulled.items() if n},
            conflicts=tuple(tally.conflicts),
            open_conflicts=len(open_conflicts(db)),
            cursor=cursor,
            queued=outbox.pending_count(db),
            waiting=tuple(waiting),
            capacity=_minus(self._meter.total, before),
            notes=tuple(tally.notes),
            started_over=started_over,
        )

    # -- progress ------------------------------------------------------------------------------------

    def _report(self, step: SyncProgress) -> None:
        if self._progress is None or step == self._step:
            return
        self._step = step
        try:
            self._progress(step)
        except Exception:
            logger.exception("the sync progress callback failed (the sync goes on)")

    def _after_call(self, **_: Any) -> None:
        """After each DynamoDB call of a round: how far the push (or the pull) has come."""
        step, tally = self._step, self._tally
        if self._progress is None or tally is None:
            return
        if step.phase == "pushing" and step.total:
            left = outbox.pending_count(self._ctx.db)
            self._report(SyncProgress("pushing", max(0, min(step.total, step.total - left)), step.total))
        elif step.phase == "pulling":
            self._report(SyncProgress("pulling", sum(tally.pulled.values())))

    def _pull(self, tally: Tally) -> tuple[int, tuple[int, ...]]:
        return pull_and_apply(self._ctx, tally, gaps=self._gaps, monotonic=self._monotonic, grace=self._grace)

    def _check(self, tally: Tally) -> bool:
        """The table is a sync table this version may write to, and the one this desktop synced with.
        True when it was not (recreated) and this desktop started over."""
        ctx = self._ctx
        info = check_table(self._target, client=ctx.client, app_version=ctx.app_version)
        identity = f"{info.created}|{info.header.created_at}"
        recorded = table_created_at(ctx.db)
        cursor = outbox.get_state(ctx.db).cursor
        counter = read_counter(ctx.client, ctx.table, backoff=ctx.backoff)
        if (recorded and recorded != identity) or cursor > counter:
            queued = start_over(ctx.db, identity, tuple(SHARED_SETTINGS))
            self._gaps = GapTracker()
            message = (
                f"the table {ctx.table} is not the one this desktop synced with "
                f"(created {info.created or '?'}; "
                f"its change counter is at {counter}, this desktop had read up to {cursor}): starting over, "
                f"{queued} changes of this desktop's history queued again"
            )
            logger.warning("sync: %s", message)
            tally.notes.append(message)
            return True
        if not recorded:
            remember_table(ctx.db, identity)
        return False


def _minus(after: Any, before: Any) -> Any:
    from drs_desktop.aws.sync_capacity import Capacity

    return Capacity(
        after.read_units - before.read_units,
        after.write_units - before.write_units,
        after.calls - before.calls,
    )


def describe_counts(values: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(Counter(values).items()) if n) or "nothing"


__all__ += ["SyncError"]
