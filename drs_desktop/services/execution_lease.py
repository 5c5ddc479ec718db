"""Team sync's lease on an execution this desktop drives (docs/sync.md, "Leases"; issue 14 item 5).

With sync on, starting or resuming an execution takes its lease in the team's table as well as the local
driver lock (``services.driver_lock``): the lock keeps two processes of this machine apart, the lease two
desktops. ``ExecutionServices`` asks ``ExecutionLeases.take`` right after the lock; a lease another
desktop holds refuses the start or resume (``LeaseHeld``: its message names the desktop), and the lock
is given back. The taken lease is kept by a ``LeaseKeeper`` (a heartbeat on its own thread) that the
``ExecutionSession`` owns: the session starts no step while the keeper cannot confirm the lease
(``LeaseKeeper.may_drive``), stops driving for good when it is lost, and gives it back when it closes.
Without sync (``leases_for`` answers None: no table, or "Enable sync" off) nothing here runs and nothing
changes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from drs_desktop.aws import sync_lease
from drs_desktop.aws.sync_pull import read_heads
from drs_desktop.aws.sync_schema import SyncTableTarget
from drs_desktop.domain import sync_lineage
from drs_desktop.domain.lease import Lease
from drs_desktop.domain.sync_errors import DrivenElsewhere, LeaseHeld, SyncError
from drs_desktop.domain.sync_lineage import Lineage, LineageError
from drs_desktop.services.close_push import push_execution
from drs_desktop.services.lease_keeper import KeeperReport, LeaseKeeper, awake_clock
from drs_desktop.services.team_sync import load_sync_settings, table_target
from drs_desktop.storage.db import Database, Readable
from drs_desktop.storage.sync_apply import journal_last
from drs_desktop.storage.sync_identity import former_ids
from drs_desktop.storage.sync_journal import local_lineage

__all__ = [
    "LEASE_POLL_SECONDS",
    "LEASE_RELEASE_SECONDS",
    "ExecutionLeases",
    "give_back",
    "leases_for",
    "wait_for_lease",
]

logger = logging.getLogger(__name__)

#: Real seconds between looks at a lease that cannot be confirmed (the loop waits; nothing runs).
LEASE_POLL_SECONDS = 1.0
#: Real seconds a closing session waits for its lease to be given back: a beat in flight then the release,
#: each bounded by the lease client's 5 s connect and 5 s read timeouts.
LEASE_RELEASE_SECONDS = 25.0


class ExecutionLeases:
    """Takes execution leases for desktop ``desktop_id`` in the sync table ``target``. With ``db``, a
    clean stop pushes the execution before the lease goes back (``services.close_push``), and the
    release records how many journal events the table then holds."""

    def __init__(
        self,
        target: SyncTableTarget,
        desktop_id: str,
        *,
        client_factory: Callable[[], Any] | None = None,
        keeper_options: dict[str, Any] | None = None,
        db: Database | None = None,
    ) -> None:
        self.target = target
        self.desktop_id = desktop_id
        self._db = db
        self._client_factory = client_factory or (lambda: sync_lease.lease_client(target))
        self._keeper_options = dict(keeper_options or {})

    def take(
        self,
        execution_id: str,
        on_report: Callable[[KeeperReport], None] | None = None,
        *,
        check_journal: bool = True,
    ) -> LeaseKeeper:
        """Take the lease (this desktop's own already: taken again) and start keeping it. ``LeaseHeld``
        when another desktop holds it; a ``SyncError`` when the table cannot be reached: a run that must
        not be driven twice is not started blind. ``check_journal`` (with a database): then the table's
        head of the execution must agree that this desktop's journal is the run's (``DrivenElsewhere``
        when it does not, the lease given back): a free lease says nobody drives the run *now*, not that
        nobody drove it further since this desktop's last event (a teammate took it over and finished,
        or the database this one was copied from drove it on)."""

        def write(client: Any) -> Lease:
            check = check_journal and self._db is not None
            before = sync_lease.read_state(client, self.target.table, execution_id) if check else None
            lease = sync_lease.take(client, self.target.table, execution_id, self.desktop_id)
            if check and self._db is not None:
                problem = _driven_elsewhere(
                    client, self.target.table, self._db, execution_id, self.desktop_id
                )
                if problem is not None:
                    # Nothing driven: no push first. A lease this desktop held already stays held (it
                    # may have been kept because a push failed: freeing it would let a stale journal be
                    # resumed); a free one is given back, with what a clean stop's release recorded when
                    # nobody wrote to the lease between that reading and this take.
                    if before is None or before.lease is None:
                        pushed = None
                        if before is not None and before.heartbeat is not None:
                            if lease.heartbeat == before.heartbeat + 1:
                                pushed = before.released_events
                        sync_lease.release(client, self.target.table, lease, pushed_events=pushed)
                    raise DrivenElsewhere(
                        f"Execution {execution_id}: {problem}; this desktop no longer drives it from its "
                        "own journal (sync to see it as the team's table has it, then take it over if its "
                        "driver is silent)",
                        operation="GetItem",
                        table=self.target.table,
                    )
            return lease

        return self._keep(execution_id, write, on_report)

    def take_over(
        self,
        execution_id: str,
        seen: Lease | None,
        on_report: Callable[[KeeperReport], None] | None = None,
    ) -> LeaseKeeper:
        """Take the lease from the desktop that held it as ``seen`` (the pair the operator's
        ``LeaseWatch`` saw unchanged until it expired), conditioned on that pair, and start keeping it;
        ``seen`` None: the watch found it free, so a plain ``take``. ``LeaseHeld`` naming whoever holds
        it now when the holder beat again or another desktop was faster: nothing changed."""
        if seen is None:  # the journal is the table's by now: the takeover pulls it, then checks DRS
            return self.take(execution_id, on_report, check_journal=False)
        if seen.execution_id != execution_id:
            raise ValueError(f"the lease seen is {seen.execution_id}'s, not {execution_id}'s")
        return self._keep(
            execution_id,
            lambda client: sync_lease.take_over(
                client, self.target.table, execution_id, self.desktop_id, seen.heartbeat, seen.holder
            ),
            on_report,
        )

    def client(self) -> Any:
        """A client of the lease's own kind (one attempt per call, short timeouts), this thread's."""
        return self._client_factory()

    def read_state(self, execution_id: str) -> sync_lease.LeaseState:
        """The lease as the table has it now, with what a clean stop's release recorded."""
        return sync_lease.read_state(self._client_factory(), self.target.table, execution_id)

    def _keep(
        self,
        execution_id: str,
        write: Callable[[Any], Lease],
        on_report: Callable[[KeeperReport], None] | None,
    ) -> LeaseKeeper:
        client = self._client_factory()
        clock = self._keeper_options.get("clock", awake_clock)
        sent_at = clock()  # the lease counts as confirmed from when the take was sent, not answered
        try:
            lease = write(client)
        except LeaseHeld as exc:
            raise self._held_by_former_id(exc) from None
        except DrivenElsewhere:
            raise
        except SyncError as exc:
            raise SyncError(
                f"{exc.message}. Team sync is on, and without its table this desktop cannot make sure "
                "that no other desktop drives this run; to run without that check, turn team sync off "
                "(Settings, Team sync)",
                code=exc.code,
                operation=exc.operation,
                table=exc.table,
            ) from exc
        keeper = LeaseKeeper(
            lease,
            table=self.target.table,
            client_factory=self._client_factory,
            on_report=on_report,
            confirmed_at=sent_at,
            before_release=self._pusher(execution_id),
            **self._keeper_options,
        )
        keeper.start()
        logger.info("execution %s: lease taken by desktop %s", execution_id, self.desktop_id)
        return keeper

    def _held_by_former_id(self, exc: LeaseHeld) -> LeaseHeld:
        """``exc``, saying so when its holder is a former ID of this database: the database it was copied
        from may be driving the execution, so it is not taken as ours (``storage.sync_identity``)."""
        if self._db is None or exc.holder not in {f.desktop_id for f in former_ids(self._db)}:
            return exc
        return LeaseHeld(
            f"{exc.message}: that was this database's desktop ID before it was copied or moved, and the "
            "copy it came from may still drive it; take it over once its lease has expired",
            execution_id=exc.execution_id,
            holder=exc.holder,
            heartbeat=exc.heartbeat,
            operation=exc.operation,
            table=exc.table,
        )

    def _pusher(self, execution_id: str) -> Callable[[], int | None] | None:
        db = self._db
        if db is None:
            return None
        return lambda: push_execution(db, self.target, self.desktop_id, execution_id)


def _table_journal(client: Any, table: str, execution_id: str) -> tuple[Lineage, int] | str | None:
    """The execution's journal as the table's head describes it: its lineage and event count; None
    without a head (never pushed); a string saying why the head cannot be read. One consistent read."""
    head = read_heads(client, table, [("EXEC", execution_id)]).get(("EXEC", execution_id))
    if head is None or head.deleted or head.body is None:
        return None
    try:
        body = json.loads(head.body)
        lineage = sync_lineage.parse(body.get("drivers") if isinstance(body, dict) else None)
    except (ValueError, LineageError) as exc:
        return f"the team table's record of it cannot be read ({exc})"
    counted = body.get("event_count")
    if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
        return "the team table's record of it has no event count"
    return lineage, counted


def _driven_elsewhere(client: Any, table: str, db: Database, execution_id: str, me: str) -> str | None:
    """Why the table's head of ``execution_id`` says this journal is not the run's any more, or None
    (no head: never pushed; or it agrees). It agrees when this desktop's lineage is the table's or
    extends it (this desktop took the run over and has not pushed that yet) and the table holds no
    event this desktop lacks; it does not when the table's lineage goes further (another desktop took
    it over since) or parts from this one's."""
    found = _table_journal(client, table, execution_id)
    if found is None or isinstance(found, str):
        return found
    lineage, counted = found
    mine = local_lineage(db, execution_id, me)
    if mine is None:
        return None
    if mine != lineage and not sync_lineage.extends(mine, lineage):
        driver = lineage[-1][1]
        if sync_lineage.extends(lineage, mine):
            return f"desktop {driver} took it over and drives it now, as the team's table says"
        return f"its line of drivers in the team's table (last: desktop {driver}) is not this desktop's"
    held = journal_last(db, execution_id)
    if counted > held:
        return (
            f"the team's table holds {counted} events of its journal and this desktop {held}: it was "
            "driven further elsewhere"
        )
    return None


def journal_level_with_table(leases: ExecutionLeases, db: Database, execution_id: str) -> str | None:
    """Before a takeover drives: why this desktop's journal is not the table's (its lineage and event
    count), or None when it is. A pull that could not set this desktop's own old tail aside, or that
    missed pages, would otherwise leave a journal the takeover would drive from."""
    found = _table_journal(leases.client(), leases.target.table, execution_id)
    if found is None:  # nothing there to compare with (a table created again): DRS's records decide
        return None
    if isinstance(found, str):
        return found
    lineage, counted = found
    mine = local_lineage(db, execution_id, leases.desktop_id)
    held = journal_last(db, execution_id)
    if mine != lineage or held != counted:
        return (
            f"this desktop's copy of its journal ({held} events) is not the team table's ({counted} "
            "events, or another line of drivers)"
        )
    return None


def leases_for(db: Readable) -> ExecutionLeases | None:
    """The leases of this desktop when team sync is on (a table configured and Settings' "Enable sync",
    ``sync.enabled``), else None. Turning sync off is also the operator's way to run when the team's
    table cannot be reached (its Region is the one that failed): the run then holds no lease."""
    settings = load_sync_settings(db)
    if not settings.enabled or not settings.table.strip():
        return None
    try:
        target = table_target(settings)
    except SyncError as exc:  # a setting that cannot be used: sync itself says so in the status bar
        logger.warning("team sync is on but its table cannot be used (%s): runs hold no lease", exc)
        return None
    # A reader (the lease watch's) only reads leases; a clean stop's push needs the database itself.
    return ExecutionLeases(target, settings.desktop_id, db=db if isinstance(db, Database) else None)


def wait_for_lease(
    keeper: LeaseKeeper,
    say: Callable[[str], None],
    stopping: Callable[[], bool],
    wait: Callable[[float], object],
) -> bool:
    """Called by a session when ``keeper`` cannot confirm its lease: True once it is confirmed again (the
    session drives on), False when it is lost or ``stopping()`` (the session ends). Until then no step
    starts: no DRS call, no journal entry. ``say`` puts a line in the execution's log; ``wait(seconds)``
    waits, returning early when the session is asked to stop."""
    if keeper.lost:
        holder = keeper.report.new_holder or "another desktop"
        say(f"team sync: desktop {holder} took this execution over; this desktop stopped driving it")
        return False
    say(
        f"team sync: the lease is unconfirmed for {keeper.unconfirmed_for():.0f} s "
        f"({keeper.report.error or 'no answer'}); no step starts until the sync table answers again"
    )
    while not stopping():
        if keeper.lost:
            return wait_for_lease(keeper, say, stopping, wait)
        if keeper.may_drive():
            say("team sync: the lease is confirmed again; driving on")
            return True
        wait(LEASE_POLL_SECONDS)
    return False


def give_back(keeper: LeaseKeeper | None, *, push: bool = True) -> None:
    """Stop keeping the lease and give it back (a lost one is not ours to give back); waits a bounded
    time for the one DynamoDB call. A lease still held first pushes its execution (bounded in time,
    ``services.close_push``) while the keeper goes on beating, then is released recording how many
    journal events the table holds; when that push failed, it is not released but left to expire."""
    if keeper is None:
        return
    if keeper.lost:
        keeper.stop(release=False)
    elif not push or not keeper.pushes_before_release:
        # ``push=False``: this desktop drove nothing under it (a takeover that failed before its resume):
        # released with no count, so nobody reads its journal here as the whole run's.
        keeper.stop(release=True)
    else:
        pushed = keeper.push_before_release()
        # A lease is given back only once the table holds the whole journal: the head it then shows is
        # what the next desktop to resume the run (this one's old driver, say) checks its journal against
        # (``_driven_elsewhere``). Not pushed: kept, to expire; whoever drives next takes it over and
        # checks DRS's records first, and this desktop may take it again at once.
        keeper.stop(release=pushed is not None, pushed_events=pushed)
    keeper.join(LEASE_RELEASE_SECONDS)
