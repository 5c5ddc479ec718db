"""Pulling the team's changes and applying them here (docs/sync.md, "Pulling without missing a change").

``aws.sync_feed.pull`` gives the changes after this desktop's cursor that can be taken in order (gaps wait
out their grace on this desktop's monotonic clock, then are fenced); ``read_heads`` gives each entity's
current head. Each entity is then applied in its own SQLite transaction (storage/sync_apply.py), and the
cursor moves only once every change up to it is applied, so a pull cut short is simply pulled again
(applying is idempotent: a head not newer than what this desktop recorded is skipped).

A head for an entity this desktop has queued, unpushed changes to is a conflict: recorded, not applied,
unless both sides say the same thing. An execution whose pinned revision belongs to a plan in conflict
waits (the cursor stops before it) until the operator resolves the plan: applying the revision would
change which revision is the plan's latest here while the operator is choosing.

An execution is applied as its head's lineage says (docs/sync.md, "More than one driver"): its journal
pages are read segment by segment, each from its driver's pages only; when the table's lineage says
another desktop took the run over from seq k, this desktop's own events from k are moved aside
(``sync_superseded_events``) in the transaction that applies the table's, and its queued push of that
execution is dropped; never while a process here drives it (its driver lock is held): then it waits.
The foreign mark follows the lineage's last driver. An execution's tombstone (a teammate's retention) deletes
it here too, unless it is unfinished here or driven here: then it is a conflict to show. An execution whose
journal cannot be read as its lineage says is recorded (``sync_blocked_executions``), the rest of the feed is
applied and the cursor moves on: the row is durable and every pull reads those heads again first, until one
applies, so no change is skipped for good (a newer change of that execution, meanwhile, is simply the head
read then).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from drs_desktop.aws.sync_feed import GapTracker, Head, pull, read_heads
from drs_desktop.aws.sync_history import RevisionItem, read_pages, read_revisions
from drs_desktop.aws.sync_items import MalformedItem
from drs_desktop.domain import sync_lineage
from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.sync_lineage import Lineage, LineageError
from drs_desktop.services.driver_lock import DriverLock, lock_path
from drs_desktop.services.sync_context import SyncContext, Tally, numbered_prefix, same_body
from drs_desktop.services.sync_push import conflict_with, execution_head, plan_head_body, plan_side
from drs_desktop.storage import sync_apply as apply
from drs_desktop.storage import sync_journal as journals
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.retention import delete_execution_rows
from drs_desktop.storage.sync_conflicts import (
    drop_queued,
    only_requeued,
    open_conflicts,
    plan_head_state,
    queued_entities,
    setting_value,
)
from drs_desktop.storage.sync_identity import is_own_writer

logger = logging.getLogger(__name__)


class _Waits(Exception):
    """This change cannot be applied before a conflict is resolved: the cursor stops before it."""


#: What makes an execution's journal unreadable as its lineage says: recorded, the pull goes on.
_UNREADABLE = (MalformedItem, StorageError, LineageError)


def pull_and_apply(
    ctx: SyncContext, tally: Tally, *, gaps: GapTracker, monotonic: Callable[[], float], grace: float
) -> tuple[int, tuple[int, ...]]:
    """Pull after the cursor and apply; the new cursor and the numbers still waiting for their grace."""
    state = outbox.get_state(ctx.db)
    result = pull(
        ctx.client, ctx.table, state.cursor, now=monotonic, gaps=gaps, grace=grace, backoff=ctx.backoff
    )
    first_seq: dict[tuple[str, str], int] = {}
    for change in result.changes:
        first_seq.setdefault((change.kind, change.key), change.seq)
    heads = read_heads(ctx.client, ctx.table, list(first_seq), backoff=ctx.backoff) if first_seq else {}
    applier = _Applier(ctx, tally)
    _retry_blocked(ctx, applier, {key for kind, key in first_seq if kind == "EXEC"})
    cursor = result.cursor
    for entity, seq in first_seq.items():
        head = heads.get(entity)
        if head is None:
            tally.notes.append(f"{entity[0]} {entity[1]}: a change with no head in the table; skipped")
            continue
        try:
            _apply_one(ctx, applier, head)
        except _Waits as waits:
            tally.notes.append(str(waits))
            cursor = min(cursor, seq - 1)
    if cursor > state.cursor:
        outbox.set_cursor(ctx.db, cursor)
    return max(cursor, state.cursor), result.waiting


def _apply_one(ctx: SyncContext, applier: _Applier, head: Head) -> None:
    """Apply a head; an execution whose journal cannot be read as its lineage says is recorded as blocked
    (not applied, tried again every pull) rather than stopping the pull."""
    if head.kind != "EXEC":
        applier.apply(head)
        return
    try:
        applier.apply(head)
    except _UNREADABLE as error:
        problem = f"execution {head.key[:8]}: {' '.join(str(error).split())}"
        journals.record_blocked(ctx.db, head.key, problem)
        applier.tally.notes.append(f"{problem}; the rest is applied, it is tried again next sync")
        logger.warning("sync: %s", problem)
        return
    journals.clear_blocked(ctx.db, head.key)


def _retry_blocked(ctx: SyncContext, applier: _Applier, in_feed: set[str]) -> None:
    """Read the heads of the executions blocked in earlier pulls again (not those this pull brings) and
    apply them; a row goes once its execution applies."""
    blocked = [b.execution_id for b in journals.blocked_executions(ctx.db) if b.execution_id not in in_feed]
    if not blocked:
        return
    heads = read_heads(ctx.client, ctx.table, [("EXEC", key) for key in blocked], backoff=ctx.backoff)
    for key in blocked:
        head = heads.get(("EXEC", key))
        if head is None:
            journals.record_blocked(ctx.db, key, f"execution {key[:8]}: its head is not in the table")
            continue
        try:
            _apply_one(ctx, applier, head)
        except _Waits as waits:
            applier.tally.notes.append(str(waits))


class _Applier:
    def __init__(self, ctx: SyncContext, tally: Tally) -> None:
        self.ctx = ctx
        self.tally = tally
        self.queued = queued_entities(ctx.db)
        self.conflicted = {(c.kind, c.key) for c in open_conflicts(ctx.db)}

    def apply(self, head: Head, *, force: bool = False) -> None:
        entity = (head.kind, head.key)
        seen = outbox.entity_version(self.ctx.db, head.kind, head.key)
        newer = force or seen is None or seen.version is None or seen.version < head.version
        if head.kind == "EXEC" and not head.deleted:
            if self._lineage_decides(head, newer=newer):
                return
        if not newer:
            if head.kind == "EXEC" and not head.deleted:
                self._journal(head)  # an earlier pull may have been cut short before the last page
            return
        if head.kind == "INVENTORY":  # never a conflict: the newer fetched_at wins (storage decides)
            if apply.apply_inventory(
                self.ctx.db,
                head.key,
                version=head.version,
                seq=head.seq,
                deleted=head.deleted,
                body=_body(head),
            ):
                self.tally.pulled["inventories"] += 1
            return
        if entity in self.queued or entity in self.conflicted:
            if self._same_as_mine(head):
                with self.ctx.db.transaction() as conn:
                    outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)
                    drop_queued(conn, head.kind, head.key)
                return
            if entity in self.conflicted or not only_requeued(self.ctx.db, head.kind, head.key):
                self._conflict(head)
                return
            with self.ctx.db.transaction() as conn:  # a start over's repeat: the new table's head wins
                drop_queued(conn, head.kind, head.key)
            self.queued.discard(entity)
        if head.kind == "PLAN":
            self._plan(head)
        elif head.kind == "EXEC":
            self._execution(head, force=force)
        elif head.kind == "SETTING":
            body = _body(head)
            apply.apply_setting(
                self.ctx.db, head.key, version=head.version, seq=head.seq, deleted=head.deleted, body=body
            )
            self.tally.pulled["settings"] += 1
        else:  # a kind this version does not know: only noted, so that it is not read again
            with self.ctx.db.transaction() as conn:
                outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)

    # -- conflicts -----------------------------------------------------------------------------------

    def _mine(self, kind: str, key: str) -> tuple[dict[str, Any] | None, dict[str, Any], int | None]:
        """(the head body this desktop would push, its side of a conflict, its local version)."""
        db = self.ctx.db
        if kind == "PLAN":
            state = plan_head_state(db, key)
            if state is None:
                return None, {}, None
            body = None if state["deleted"] else plan_head_body(state)
            return body, plan_side(state), int(state["version"])
        if kind == "EXEC":
            found = execution_head(db, key, self.ctx.desktop_id)
            if found is None:
                return None, {}, None
            return found[1], found[1], found[0]
        value = setting_value(db, key)
        body = None if value is None else {"value": value}
        return body, body or {"default": True}, None

    def _same_as_mine(self, head: Head) -> bool:
        body, _, _ = self._mine(head.kind, head.key)
        theirs = _body(head)
        return (body is None) == head.deleted and same_body(head.kind, body, theirs)

    def _conflict(self, head: Head) -> None:
        _, mine, version = self._mine(head.kind, head.key)
        self.conflicted.add((head.kind, head.key))
        self.tally.conflicts.append(conflict_with(self.ctx.db, head, version, mine))

    # -- plans ---------------------------------------------------------------------------------------

    def _plan(self, head: Head) -> None:
        apply_plan(self.ctx, head, self.tally)

    # -- executions ----------------------------------------------------------------------------------

    def _lineage_decides(self, head: Head, *, newer: bool) -> bool:
        """Apply an execution head whose lineage is not this desktop's; False when they agree (or the
        execution is new here) and the ordinary path applies it."""
        ctx = self.ctx
        theirs = table_lineage(head)
        mine = journals.local_lineage(ctx.db, head.key, ctx.desktop_id)
        if mine is None or mine == theirs:
            return False
        if sync_lineage.extends(mine, theirs):
            # This desktop took the run over and has not pushed yet: its journal stays, it is the driver;
            # the head is noted so that its push goes on top of it.
            with ctx.db.transaction() as conn:
                if newer:
                    outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)
                driver = sync_lineage.last_driver(mine)
                journals.mark_foreign(
                    conn, head.key, driver, ctx.desktop_id, own=self._is_me(driver, head.key)
                )
            return True
        entity = (head.kind, head.key)
        if not sync_lineage.extends(theirs, mine) and (entity in self.queued or entity in self.conflicted):
            return False  # two lineages forked with changes queued here: the operator decides
        self._supersede(head, theirs, mine)
        return True

    def _supersede(self, head: Head, theirs: Lineage, mine: Lineage) -> None:
        """Make this desktop's journal the table's: its own events from where the lineages part are moved
        aside, in the transaction that applies the table's; its queued push of the execution dropped."""
        ctx = self.ctx
        body = _body(head) or {}
        first = sync_lineage.diverges_at(mine, theirs) or 1
        by = next(d for start, d in reversed(theirs) if start <= first)
        lock = DriverLock(lock_path(ctx.db.path, head.key), execution_id=head.key)
        if not lock.acquire():
            raise _Waits(
                f"execution {head.key[:8]}: desktop {by[:8]} took it over from event {first}; it is driven "
                "here right now, so this desktop's events wait until that run stops"
            )
        try:
            self._fetch_if_missing(body)
            have = apply.journal_last(ctx.db, head.key)
            count = _event_count(head)
            low = min(have, first - 1) + 1
            pages = read_pages(ctx.client, ctx.table, head.key, theirs, low, count, backoff=ctx.backoff)
            last = theirs[-1][1]
            with ctx.db.transaction() as conn:
                moved = journals.supersede_from(conn, head.key, first, by)
                journals.drop_queued_execution(conn, head.key)
                apply.apply_execution(ctx.db, body, writer=last, foreign=not self._is_me(last, head.key))
                journals.set_first_driver(conn, head.key, theirs[0][1], ctx.desktop_id)
                for page in pages:
                    apply.apply_journal_page(ctx.db, head.key, page.first, page.events)
                outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)
                journals.set_journal_last(conn, head.key, max(low - 1, count))
        finally:
            lock.release()
        self.queued.discard((head.kind, head.key))
        self.tally.pulled["executions"] += 1
        self.tally.pulled["journal pages"] += len(pages)
        if moved:
            self.tally.notes.append(
                f"execution {head.key[:8]}: {moved} events this desktop journaled from event {first} on "
                f"were superseded by desktop {by[:8]}'s takeover; kept aside"
            )

    def _is_me(self, driver: str, execution_id: str) -> bool:
        """Whether ``driver`` is this desktop: its ID, or a former ID of this database for an execution
        that was its own already (a copy got a new ID: ``storage.sync_identity``)."""
        return driver == self.ctx.desktop_id or is_own_writer(self.ctx.db, driver, execution_id)

    def _execution(self, head: Head, *, force: bool = False) -> None:
        ctx = self.ctx
        body = _body(head)
        if head.deleted:
            self._execution_deleted(head, force=force)
            return
        if body is None:
            with ctx.db.transaction() as conn:
                outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)
            return
        theirs = table_lineage(head)
        self._fetch_if_missing(body)
        last = theirs[-1][1]
        apply.apply_execution(ctx.db, body, writer=last, foreign=not self._is_me(last, head.key))
        with ctx.db.transaction() as conn:
            journals.set_first_driver(conn, head.key, theirs[0][1], ctx.desktop_id)
        self.tally.pulled["executions"] += 1
        self._journal(head)

    def _execution_deleted(self, head: Head, *, force: bool) -> None:
        """A teammate deleted the execution (retention): it goes here too, in one transaction with the
        head noted, unless it is unfinished here (a conflict to show: the operator decides, and taking
        theirs deletes it) or a process here drives it (a conflict even when taken: stop it first)."""
        ctx = self.ctx
        with ctx.db.reader() as conn:
            row = conn.execute("SELECT finished_at FROM executions WHERE id = ?", (head.key,)).fetchone()
        if row is None:
            with ctx.db.transaction() as conn:
                outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)
            return
        lock = DriverLock(lock_path(ctx.db.path, head.key), execution_id=head.key)
        if not lock.acquire():
            if force:
                raise StorageError(
                    f"execution {head.key[:8]} is driven here right now; stop it before taking the deletion"
                )
            self._conflict(head)
            return
        try:
            if row[0] is None and not force:
                self._conflict(head)
                return
            with ctx.db.transaction() as conn:
                gone = delete_execution_rows(conn, head.key, tombstone=False, only_finished=False)
                outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)
        finally:
            lock.release()
        self.tally.pulled["executions deleted"] += 1
        self.tally.notes.append(
            f"execution {head.key[:8]} of {gone.plan_name!r}: deleted by desktop {head.writer[:8]} "
            "(retention); deleted here too"
        )

    def _fetch_if_missing(self, body: dict[str, Any]) -> None:
        revision_id, plan_id = str(body.get("plan_revision_id")), str(body.get("plan_id"))
        if not apply.has_revision(self.ctx.db, revision_id):
            self._fetch_pinned(plan_id, revision_id, body)

    def _fetch_pinned(self, plan_id: str, revision_id: str, body: dict[str, Any]) -> None:
        ctx = self.ctx
        if (("PLAN", plan_id) in self.queued or ("PLAN", plan_id) in self.conflicted) and plan_head_state(
            ctx.db, plan_id
        ) is not None:
            raise _Waits(
                f"execution {str(body.get('execution_id'))[:8]} of plan {body.get('plan_name')!r} waits "
                "until the conflict on that plan is resolved"
            )
        state = plan_head_state(ctx.db, plan_id)
        if state is None:
            plan_head = read_heads(ctx.client, ctx.table, [("PLAN", plan_id)], backoff=ctx.backoff).get(
                ("PLAN", plan_id)
            )
            if plan_head is not None and not plan_head.deleted:
                apply_plan(ctx, plan_head, self.tally)
            if apply.has_revision(ctx.db, revision_id):
                return
            if plan_head_state(ctx.db, plan_id) is None:
                raise _Waits(
                    f"execution {str(body.get('execution_id'))[:8]}: its plan is not in the table yet"
                )
        revisions = [
            apply.PulledRevision(
                r.revision_id, r.number, r.document, r.content_hash, r.comment, r.author, r.created_at
            )
            for r in read_new_revisions(ctx, plan_id, revision_id)
            if r.revision_id == revision_id
        ]
        if not revisions:
            raise _Waits(
                f"execution {str(body.get('execution_id'))[:8]}: its plan revision is not in the table yet"
            )
        self.tally.pulled["revisions"] += apply.apply_revisions(ctx.db, plan_id, revisions)

    def _journal(self, head: Head) -> None:
        ctx = self.ctx
        have = apply.journal_last(ctx.db, head.key)
        count = _event_count(head)
        # The head counts the events its pages hold: a desktop that has them all (its own execution, or
        # one pulled before) asks for no page, rather than a Query per execution in every pull.
        if have < count:
            lineage = table_lineage(head)
            for page in read_pages(
                ctx.client, ctx.table, head.key, lineage, have + 1, count, backoff=ctx.backoff
            ):
                apply.apply_journal_page(ctx.db, head.key, page.first, page.events)
                self.tally.pulled["journal pages"] += 1
        apply.note_execution(ctx.db, head.key, head.version, head.seq)


def table_lineage(head: Head) -> Lineage:
    """The lineage an execution head carries, checked; LineageError (by name) for one that is not."""
    body = _body(head)
    if body is None or "drivers" not in body:
        raise LineageError(f"its head (version {head.version}) carries no 'drivers' lineage")
    return sync_lineage.parse(body["drivers"])


def _event_count(head: Head) -> int:
    counted = (_body(head) or {}).get("event_count")
    if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
        raise LineageError(f"its head (version {head.version}) has no valid 'event_count'")
    return counted


def apply_head(ctx: SyncContext, head: Head, tally: Tally) -> None:
    """Apply one head as if pulled, conflicts aside (a resolution that takes theirs)."""
    applier = _Applier(ctx, tally)
    applier.queued.discard((head.kind, head.key))
    applier.conflicted.discard((head.kind, head.key))
    applier.apply(head, force=True)


def read_new_revisions(
    ctx: SyncContext, plan_id: str, wanted: str, local: dict[str, int | None] | None = None
) -> list[RevisionItem]:
    """The plan's revisions in the table above those this desktop holds (``numbered_prefix``), and all
    of them when ``wanted`` is not among those: a revision numbered lower that this desktop never took
    (a teammate's, kept after a conflict) is still found."""
    local = outbox.revision_numbers(ctx.db, plan_id) if local is None else local
    after = numbered_prefix(local.values())
    found = read_revisions(ctx.client, ctx.table, plan_id, after=after, backoff=ctx.backoff)
    if after and not any(r.revision_id == wanted for r in found):
        found = read_revisions(ctx.client, ctx.table, plan_id, backoff=ctx.backoff)
    return found


def apply_plan(ctx: SyncContext, head: Head, tally: Tally) -> None:
    """Apply a plan head, fetching the revisions this desktop lacks (one consistent Query)."""
    body = _body(head)
    revisions: list[apply.PulledRevision] = []
    name = revision_id = None
    if not head.deleted and body is not None:
        name, revision_id = str(body.get("name") or ""), str(body.get("revision_id") or "")
        if revision_id and not apply.has_revision(ctx.db, revision_id):
            local = outbox.revision_numbers(ctx.db, head.key)
            revisions = [
                apply.PulledRevision(
                    r.revision_id, r.number, r.document, r.content_hash, r.comment, r.author, r.created_at
                )
                for r in read_new_revisions(ctx, head.key, revision_id, local)
                if local.get(r.revision_id) is None
            ]
    said = apply.apply_plan_head(
        ctx.db,
        head.key,
        version=head.version,
        seq=head.seq,
        writer=head.writer,
        deleted=head.deleted,
        name=name,
        revision_id=revision_id,
        revisions=revisions,
    )
    new = sum(1 for r in revisions)
    tally.pulled["plans"] += 1
    tally.pulled["revisions"] += new
    logger.info("sync: %s", said)
    if "as " in said and "name is taken" in said:
        tally.notes.append(said)


def _body(head: Head) -> dict[str, Any] | None:
    if head.body is None:
        return None
    value = json.loads(head.body)
    return value if isinstance(value, dict) else None
