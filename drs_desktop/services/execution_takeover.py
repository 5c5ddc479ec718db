"""Watching another desktop's run, and taking it over once its lease has expired in the operator's eyes
(docs/sync.md, "Leases" and "Taking a run over"; issue 14 item 5). Qt-free: the GUI's driver strip and
``drs-desktop sync takeover`` both use it.

``LeaseLook`` reads an execution's lease for an observer, one thread's (its DynamoDB client built there,
once): the GUI and the CLI feed its readings to their own ``LeaseWatch`` (expiry is timed on the
observer's monotonic clock, never compared with the holder's) and ask for a takeover only when the watch
says expired, or found the lease free.

``take_over_execution`` then does, in this order, and undoes what it did when a later step fails:

1. refuses a finished execution, one this desktop holds already, and a lease the caller's watch has not
   seen expire (the watch's verdict is an input: nothing here counts time);
2. takes the lease over on the pair the watch saw (``LeaseHeld`` names whoever was faster);
3. pulls the team's table, so the journal here is as new as the old driver's last push (before the
   local driver lock: with it held, the pull could not set aside a tail of this desktop's own journal
   that another desktop's takeover superseded);
4. takes the local driver lock (``DriverBusyError`` when a process of this machine drives it), and
   refuses unless the journal here is now exactly the table's (lineage and event count);
5. resumes the execution with ``TakeoverFacts``: the runner journals ``TakenOver`` and checks every
   chunk the journal does not show started against DRS's tags before it launches anything;
6. clears the mark that made the execution another desktop's (``sync_apply.clear_foreign``): from now
   on it is this desktop's, pushed from here and picked up here after a restart.

A failure gives the lease and the lock back. The foreign mark is cleared only once the resume journaled
something (step 5 done, or it failed after writing): with nothing journaled, it stays as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drs_desktop import __version__
from drs_desktop.aws import sync_lease
from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.sync_schema import dynamodb_client
from drs_desktop.domain.engine.takeover import TakeoverFacts
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.lease import Lease
from drs_desktop.domain.views.lease_view import LeaseReading
from drs_desktop.services.close_push import push_execution
from drs_desktop.services.driver_lock import DriverLock, take_driver_lock
from drs_desktop.services.execution_lease import (
    ExecutionLeases,
    give_back,
    journal_level_with_table,
    leases_for,
)
from drs_desktop.services.lease_keeper import LeaseKeeper
from drs_desktop.services.runner import Clock, ExecutionRunner, TargetGateways
from drs_desktop.services.sync import SyncService
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database, LazyReader
from drs_desktop.storage.sync_apply import clear_foreign, foreign_writer, journal_last

__all__ = ["LeaseLook", "TakenOver", "TakeoverRefused", "pull_team_table", "take_over_execution"]

logger = logging.getLogger(__name__)

#: Real seconds the push right after a takeover may start entries for (each call has its own timeout).
TAKEOVER_PUSH_SECONDS = 5.0


class TakeoverRefused(DrsDesktopError):
    """A takeover that must not be tried: nothing was taken, nothing changed."""


@dataclass(frozen=True)
class TakenOver:
    """An execution this desktop drives from now on: its runner (``TakenOver`` journaled), the local
    driver lock and the kept lease, both the caller's to give back when it stops driving."""

    runner: ExecutionRunner
    lock: DriverLock
    lease: LeaseKeeper
    previous: str


class LeaseLook:
    """Reads executions' leases for an observer on one thread; see the module docstring. ``leases_of``
    says where, asked at each read (team sync may be switched on or off meanwhile; None: off, and the
    reading says so); its client is built on the first read and again when the table changes."""

    def __init__(
        self,
        db: Database,
        leases_of: Callable[[], ExecutionLeases | None] | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = LazyReader(db)
        self._leases_of = leases_of or (lambda: leases_for(self._reader()))
        self._monotonic = monotonic
        self._client: Any = None
        self._client_target: Any = None

    def read(self, execution_id: str) -> LeaseReading:
        """One consistent read of the lease; a failure is a reading with ``error`` (never an
        exception for the table: the strip says it, and no expiry is counted)."""
        reader = self._reader()
        record = journal.get_execution(reader, execution_id)
        writer = foreign_writer(reader, execution_id)
        leases = self._leases_of()
        here = leases.desktop_id if leases is not None else ""
        if record.finished_at is not None:
            return LeaseReading(execution_id, self._monotonic(), here=here, writer=writer, finished=True)
        if leases is None:
            return LeaseReading(
                execution_id, self._monotonic(), error="team sync is off", writer=writer, sync=False
            )
        try:
            if self._client is None or self._client_target != leases.target:
                self._client = sync_lease.lease_client(leases.target)
                self._client_target = leases.target
            state = sync_lease.read_state(self._client, leases.target.table, execution_id)
        except DrsDesktopError as exc:
            return LeaseReading(execution_id, self._monotonic(), error=str(exc), here=here, writer=writer)
        return LeaseReading(
            execution_id,
            self._monotonic(),
            state.lease,
            here=here,
            writer=writer,
            free_heartbeat=state.heartbeat if state.lease is None else None,
            released_events=state.released_events,
        )

    def close(self) -> None:
        self._reader.close()
        self._client = None


def pull_team_table(db: Database, leases: ExecutionLeases) -> None:
    """One pull of the team's table on this thread, with a client of its own (``SyncService``)."""
    target = leases.target
    SyncService(db, dynamodb_client(target), target, leases.desktop_id, __version__).pull()


def take_over_execution(
    db: Database,
    gateway: DrsGateway,
    execution_id: str,
    seen: Lease | None,
    *,
    expired: bool,
    leases: ExecutionLeases,
    operator: str,
    clock: Clock | None = None,
    target_gateways: TargetGateways | None = None,
    pull: Callable[[], object] | None = None,
) -> TakenOver:
    """Take ``execution_id`` over from the desktop that held its lease as ``seen`` (None: the caller's
    watch found it free), ``expired`` being the caller's ``LeaseWatch`` verdict on that very pair; see
    the module docstring for the steps. ``TakeoverRefused`` before anything is taken; ``LeaseHeld``,
    ``DriverBusyError`` or the pull's or the resume's error after, with everything given back."""
    record = journal.get_execution(db, execution_id)
    me = leases.desktop_id
    if record.finished_at is not None:
        raise TakeoverRefused(f"execution {execution_id} has ended ({record.outcome}): nothing to take over")
    if seen is not None and seen.holder == me:
        raise TakeoverRefused(f"execution {execution_id} is driven by this desktop ({me}) already")
    if seen is not None and not expired:
        raise TakeoverRefused(
            f"execution {execution_id}: the lease of desktop {seen.holder} has not expired yet as this "
            "desktop watched it: it may still be driving the run"
        )
    writer = foreign_writer(db, execution_id)
    previous = seen.holder if seen is not None else (writer or "")
    lock: DriverLock | None = None
    keeper: LeaseKeeper | None = None
    # A free lease may say how much of the journal its last holder pushed before it gave it back.
    released = leases.read_state(execution_id) if seen is None else None
    try:
        keeper = leases.take_over(execution_id, seen)
        taken = keeper.lease.heartbeat  # read before the keeper's first beat (5 s away) could move it
        # The pull comes before the local driver lock: a journal of this desktop's own that another
        # desktop's takeover superseded is set aside by it only while no local process holds the lock.
        (pull or (lambda: pull_team_table(db, leases)))()
        lock = take_driver_lock(db.path, execution_id)
        behind = journal_level_with_table(leases, db, execution_id)
        if behind is not None:
            raise TakeoverRefused(
                f"execution {execution_id}: {behind}; sync with the team's table (Sync now), then take it "
                "over again"
            )
        before = journal_last(db, execution_id)
        complete = _journal_complete(released, taken, before)
        facts = TakeoverFacts(by=me, previous=previous, operator=operator, journal_complete=complete)
        try:
            runner = ExecutionRunner.resume(
                db, gateway, execution_id, clock=clock, target_gateways=target_gateways, takeover=facts
            )
        except BaseException:
            if journal_last(db, execution_id) != before:
                clear_foreign(db, execution_id)  # its journal has this desktop's entries now: ours
            raise
        clear_foreign(db, execution_id)
    except BaseException:
        give_back(keeper, push=False)  # nothing driven here: nothing of this desktop's to push
        if lock is not None:
            lock.release()
        raise
    # The team learns at once that this desktop drives the run now (its lineage in the table's head), not
    # at the next sync round; best effort: a failure is logged, and the round and the clean stop push it.
    push_execution(db, leases.target, me, execution_id, seconds=TAKEOVER_PUSH_SECONDS)
    logger.info("execution %s taken over from %s by %s", execution_id, previous or "nobody", me)
    return TakenOver(runner, lock, keeper, previous)


def _journal_complete(released: sync_lease.LeaseState | None, taken: int, held: int) -> bool:
    """Whether this journal is the whole run's: its last holder released the lease after a clean stop's
    push (``released_events``), nobody wrote to the lease between that reading and this desktop's take
    (the take added exactly one to the heartbeat read), and the pull brought every one of those events.
    Anything less: False, and the takeover checks DRS's records (always safe)."""
    if released is None or released.lease is not None or released.released_events is None:
        return False
    if released.heartbeat is None or taken != released.heartbeat + 1:
        return False
    return held == released.released_events
