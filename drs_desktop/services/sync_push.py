"""Pushing this desktop's queued changes to the team table, in the order they were made (docs/sync.md).

The queue (storage/sync_outbox.py) holds, oldest first, revisions, plan heads, execution journals and
heads, shared settings, and targets' inventory caches (with ``sync.inventory`` on). Each entry is
pushed and taken off the queue in its own SQLite transaction (``mark_pushed``), so a push cut short
(the network gone, a crash) loses nothing and repeats nothing:

* a revision becomes ``PLAN#<id>/REV#<next number>`` by a conditional put; the next number is one past
  the highest the table holds (a consistent Query); a collision reads the numbers again and takes the
  next; a revision the table already holds under this ID (a push whose answer was lost) is recognised,
  not written twice;
* a journal becomes pages, each a conditional put, before the head that counts them, keyed by the segment
  of the execution's lineage its events belong to (domain/sync_lineage.py); a page already there must be
  the same events (else two desktops drove the execution: reported, not overwritten);
* an execution head carries the lineage (``drivers``). Refused on its version because the old driver
  committed its stale tail first, it is committed on top when this desktop's lineage extends the
  table's (it took the run over after every event the table's driver journaled up to then); refused
  because the table's lineage extends this desktop's (another desktop took the run over), it is no
  conflict: it waits for the pull, which keeps this desktop's events aside and drops the push;
* a head is committed through the change sequence (``aws.sync_feed.commit``) on the version this desktop
  last saw. ``Conflict``: recorded for the operator (unless the table already holds the same content),
  the entry stays queued, and later entries of that entity wait; ``FencedOut``: stays queued;
* an execution deleted here (retention: ``storage.retention``) leaves its head entry queued with no
  execution behind it: that is its tombstone, a head with ``deleted = true`` and no body committed on the
  version this desktop last saw, as a plan's deletion goes. Refused because a teammate changed the run
  meanwhile, it is a conflict like any other (keep mine sends the tombstone again on top);
* an inventory is never a conflict: on a refused version, the table's head wins if its ``fetched_at`` is
  as new or newer (applied here), else this desktop's is committed on top of it.

An entity with an open conflict is not pushed until the operator resolves it. Its revisions still go:
they are append-only history, never a conflict.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from drs_desktop.aws.sync_feed import Change, Committed, FencedOut, commit, read_heads
from drs_desktop.aws.sync_history import RevisionItem, cut_pages, put_page, put_revision, revision_numbers
from drs_desktop.aws.sync_pull import Head
from drs_desktop.domain import sync_lineage
from drs_desktop.domain.sync_lineage import Lineage, LineageError
from drs_desktop.services.sync_context import SyncContext, Tally, canonical, numbered_prefix, same_body
from drs_desktop.storage import sync_apply
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database, from_db_time
from drs_desktop.storage.executions import load_journal
from drs_desktop.storage.inventory import inventory_body
from drs_desktop.storage.retention import execution_exists
from drs_desktop.storage.sync_conflicts import (
    drop_queued,
    execution_body,
    open_conflicts,
    plan_head_state,
    record_conflict,
    revision_row,
    setting_value,
)
from drs_desktop.storage.sync_journal import local_lineage

logger = logging.getLogger(__name__)

#: How many taken numbers one revision tries before it waits for the next round.
REVISION_ATTEMPTS = 20
#: How many refused versions one inventory meets (teammates refreshing the same target) before it waits.
INVENTORY_ATTEMPTS = 3
_BATCH = 500


def push(ctx: SyncContext, tally: Tally, only: Callable[[outbox.OutboxEntry], bool] | None = None) -> None:
    """Push every queued entry that can go now, oldest first; only those ``only`` accepts when given (a
    clean stop pushes its execution alone: ``services.close_push``)."""
    pusher = _Pusher(ctx, tally)
    done: set[int] = set()
    while True:
        entries = [e for e in outbox.pending(ctx.db, limit=_BATCH + len(done)) if e.entry_id not in done]
        if not entries:
            return
        for entry in entries:
            done.add(entry.entry_id)
            if only is None or only(entry):
                pusher.push(entry)


class _Pusher:
    def __init__(self, ctx: SyncContext, tally: Tally) -> None:
        self.ctx = ctx
        self.tally = tally
        self.blocked = {(c.kind, c.key) for c in open_conflicts(ctx.db)}
        self.numbers: dict[str, dict[str, int]] = {}  # plan id -> revision id -> the table's number

    def push(self, entry: outbox.OutboxEntry) -> None:
        if entry.what == "revision":
            self._revision(entry)
            return
        if (entry.kind, entry.key) in self.blocked:
            return
        if entry.what == "journal":
            self._journal(entry)
        elif entry.kind == "PLAN":
            self._plan_head(entry)
        elif entry.kind == "EXEC":
            self._execution_head(entry)
        elif entry.kind == "INVENTORY":
            self._inventory(entry)
        else:
            self._setting(entry)

    # -- revisions ---------------------------------------------------------------------------------

    def _revision(self, entry: outbox.OutboxEntry) -> None:
        ctx = self.ctx
        assert entry.ref is not None
        known = outbox.revision_number(ctx.db, entry.ref)
        if known is not None:
            outbox.mark_pushed(ctx.db, [outbox.Pushed(entry, number=known)])
            return
        row = revision_row(ctx.db, entry.ref)
        if row is None:  # the revision is gone (its entry went with it): nothing to push
            return
        plan_id = str(row["plan_id"])
        numbers = self.numbers.get(plan_id)
        if numbers is None:
            numbers = self.numbers[plan_id] = self._table_numbers(plan_id)
        for _ in range(REVISION_ATTEMPTS):
            if entry.ref in numbers:  # pushed before, its answer lost: recognised, not written twice
                break
            number = max(numbers.values(), default=0) + 1
            item = RevisionItem(
                plan_id=plan_id,
                number=number,
                revision_id=entry.ref,
                content_hash=str(row["content_hash"]),
                document=str(row["document"]),
                comment=str(row["comment"]),
                author=str(row["author"]),
                created_at=str(row["created_at"]),
                writer=ctx.desktop_id,
            )
            if put_revision(ctx.client, ctx.table, item, backoff=ctx.backoff):
                numbers[entry.ref] = number
                self.tally.pushed["revisions"] += 1
                break
            logger.info(
                "sync: revision number %d of plan %s was taken; reading the numbers again", number, plan_id
            )
            numbers = self.numbers[plan_id] = self._table_numbers(plan_id)
        else:
            self.tally.notes.append(
                f"revision {entry.ref}: every number tried was taken; it waits for the next sync"
            )
            return
        outbox.mark_pushed(ctx.db, [outbox.Pushed(entry, number=numbers[entry.ref])])

    def _table_numbers(self, plan_id: str) -> dict[str, int]:
        """The plan's revision numbers in the table: those this desktop knows (1 to its
        ``numbered_prefix``) and those above, read; not the whole history again for each push. A
        revision of this desktop's whose answer was lost is above: it took the next free number."""
        ctx = self.ctx
        local = outbox.revision_numbers(ctx.db, plan_id)
        after = numbered_prefix(local.values())
        known = {rid: n for rid, n in local.items() if n is not None and n <= after}
        return {**known, **revision_numbers(ctx.client, ctx.table, plan_id, after=after, backoff=ctx.backoff)}

    # -- heads ---------------------------------------------------------------------------------------

    def _plan_head(self, entry: outbox.OutboxEntry) -> None:
        state = plan_head_state(self.ctx.db, entry.key)
        if state is None:
            return
        mine = plan_side(state)
        if state["deleted"]:
            body = None
        elif state["revision_number"] is None:
            self.tally.notes.append(f"plan {state['name']!r}: its latest revision is not numbered yet; waits")
            return
        else:
            body = plan_head_body(state)
        self._commit(entry, "plans", body, mine, state["version"], deleted=state["deleted"])

    def _execution_head(self, entry: outbox.OutboxEntry) -> None:
        found = execution_head(self.ctx.db, entry.key, self.ctx.desktop_id)
        if found is None:
            if not execution_exists(self.ctx.db, entry.key):  # deleted here: its tombstone
                self._commit(entry, "executions deleted", None, tombstone_side(entry.key), None, deleted=True)
            return
        version, body = found
        mine = sync_lineage.parse(body["drivers"])
        for _ in range(2):  # once more when it goes on top of the old driver's stale head
            seen = outbox.entity_version(self.ctx.db, "EXEC", entry.key)
            body["event_count"] = seen.journal_last if seen else 0
            verdict = self._commit(
                entry,
                "executions",
                body,
                body,
                version,
                deleted=False,
                refused=lambda head: self._lineage_verdict(entry, mine, head),
            )
            if verdict != "on top":
                return

    def _lineage_verdict(self, entry: outbox.OutboxEntry, mine: Lineage, head: Head) -> str | None:
        """What a refused execution head means, from the lineages: "on top" (commit again on the table's
        version), "taken over" (not a conflict: the pull supersedes), None (a conflict)."""
        theirs = head_lineage(head)
        if theirs is None or theirs == mine:
            return None
        if sync_lineage.extends(mine, theirs):
            with self.ctx.db.transaction() as conn:
                outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)
            return "on top"
        if sync_lineage.extends(theirs, mine):
            self.blocked.add((entry.kind, entry.key))
            self.tally.notes.append(
                f"execution {entry.key[:8]}: desktop {sync_lineage.last_driver(theirs)[:8]} took it over; "
                "this desktop's push waits for the pull, which keeps its own events aside"
            )
            return "taken over"
        return None

    def _setting(self, entry: outbox.OutboxEntry) -> None:
        value = setting_value(self.ctx.db, entry.key)
        body = None if value is None else {"value": value}
        self._commit(entry, "settings", body, body or {"default": True}, None, deleted=body is None)

    def _inventory(self, entry: outbox.OutboxEntry) -> None:
        """Push a target's cache; on a refused version the newer ``fetched_at`` wins, never a conflict."""
        ctx = self.ctx
        account_id, _, region = entry.key.rpartition("#")
        body = inventory_body(ctx.db, account_id, region)
        with ctx.db.reader() as conn:
            shared = outbox.inventory_shared(conn)
        if body is None or not shared:  # the cache is gone, or the team stopped sharing: nothing to push
            with ctx.db.transaction() as conn:
                drop_queued(conn, entry.kind, entry.key)
            return
        for _ in range(INVENTORY_ATTEMPTS):
            seen = outbox.entity_version(ctx.db, entry.kind, entry.key)
            change = Change(
                kind=entry.kind,
                key=entry.key,
                expected_version=seen.version if seen is not None else None,
                body=canonical(body),
                writer=ctx.desktop_id,
                app_version=ctx.app_version,
            )
            result = commit(ctx.client, ctx.table, change, backoff=ctx.backoff)
            if isinstance(result, Committed):
                outbox.mark_pushed(ctx.db, [outbox.Pushed(entry, version=result.version, seq=result.seq)])
                self.tally.pushed["inventories"] += 1
                return
            if isinstance(result, FencedOut):
                break
            head = read_heads(ctx.client, ctx.table, [(entry.kind, entry.key)], backoff=ctx.backoff).get(
                (entry.kind, entry.key)
            )
            if head is None:
                break
            theirs = json.loads(head.body) if head.body else None
            fetched = from_db_time(str(body["fetched_at"]))
            if theirs is not None and from_db_time(str(theirs.get("fetched_at"))) >= fetched:
                sync_apply.apply_inventory(
                    ctx.db, head.key, version=head.version, seq=head.seq, deleted=head.deleted, body=theirs
                )
                outbox.mark_pushed(ctx.db, [outbox.Pushed(entry, version=head.version, seq=head.seq)])
                return
            with ctx.db.transaction() as conn:  # ours is newer: commit it on top of theirs
                outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)
        self.tally.notes.append(f"inventory {entry.key}: not pushed this round; it waits for the next sync")

    def _commit(
        self,
        entry: outbox.OutboxEntry,
        what: str,
        body: dict[str, Any] | None,
        mine: dict[str, Any],
        mine_version: int | None,
        *,
        deleted: bool,
        refused: Callable[[Head], str | None] | None = None,
    ) -> str | None:
        """Commit a head; on a refused version, ``refused`` (given the table's head) may say what it
        means instead of a conflict. What happened: "committed", that verdict, or None."""
        ctx = self.ctx
        seen = outbox.entity_version(ctx.db, entry.kind, entry.key)
        expected = seen.version if seen is not None else None
        change = Change(
            kind=entry.kind,
            key=entry.key,
            expected_version=expected,
            body=None if deleted or body is None else canonical(body),
            writer=ctx.desktop_id,
            app_version=ctx.app_version,
            deleted=deleted or body is None,
        )
        result = commit(ctx.client, ctx.table, change, backoff=ctx.backoff)
        if isinstance(result, Committed):
            outbox.mark_pushed(ctx.db, [outbox.Pushed(entry, version=result.version, seq=result.seq)])
            self.tally.pushed[what] += 1
            return "committed"
        if isinstance(result, FencedOut):
            self.tally.notes.append(
                f"{change.entity}: every change number was fenced; it waits for the next sync"
            )
            return None
        return self._conflict(entry, body, mine, mine_version, refused)

    def _conflict(
        self,
        entry: outbox.OutboxEntry,
        body: dict[str, Any] | None,
        mine: dict[str, Any],
        mine_version: int | None,
        refused: Callable[[Head], str | None] | None = None,
    ) -> str | None:
        ctx = self.ctx
        head = read_heads(ctx.client, ctx.table, [(entry.kind, entry.key)], backoff=ctx.backoff).get(
            (entry.kind, entry.key)
        )
        if head is None:
            self.tally.notes.append(f"{entry.kind} {entry.key}: the table refused the push but holds no head")
            return None
        theirs = json.loads(head.body) if head.body else None
        if head.deleted == (body is None) and same_body(entry.kind, body, theirs):
            # The table already says what this desktop would push (a history pushed again): adopt its version.
            outbox.mark_pushed(ctx.db, [outbox.Pushed(entry, version=head.version, seq=head.seq)])
            return "committed"
        verdict = refused(head) if refused is not None else None
        if verdict is not None:
            return verdict
        self.blocked.add((entry.kind, entry.key))
        self.tally.conflicts.append(conflict_with(ctx.db, head, mine_version, mine))
        return None

    # -- journals ------------------------------------------------------------------------------------

    def _journal(self, entry: outbox.OutboxEntry) -> None:
        ctx = self.ctx
        lineage = local_lineage(ctx.db, entry.key, ctx.desktop_id)
        if lineage is None:  # the execution is gone
            return
        seen = outbox.entity_version(ctx.db, "EXEC", entry.key)
        pushed = seen.journal_last if seen else 0
        events = [e.payload for e in load_journal(ctx.db, entry.key) if e.seq > pushed]
        local_last = pushed + len(events)
        offset = pushed
        while pushed < local_last:
            page = cut_pages(entry.key, pushed + 1, events[pushed - offset :], lineage)[0]
            existing = put_page(ctx.client, ctx.table, page, backoff=ctx.backoff)
            if existing is None:
                self.tally.pushed["journal pages"] += 1
                pushed = page.last
                continue
            ours = events[existing.first - 1 - offset : existing.last - offset]
            if [dict(e) for e in existing.events] != [dict(e) for e in ours]:
                self.tally.notes.append(
                    f"execution {entry.key[:8]}: the table's journal differs from this desktop's at event "
                    f"{existing.first}: two desktops drove it; not pushed"
                )
                self.blocked.add(("EXEC", entry.key))
                return
            pushed = existing.last  # pushed before, its answer lost
        outbox.mark_pushed(ctx.db, [outbox.Pushed(entry, version=pushed)])


def execution_head(db: Database, execution_id: str, me: str) -> tuple[int, dict[str, Any]] | None:
    """The execution's local version and head body: its record and its lineage (``drivers``)."""
    found = execution_body(db, execution_id)
    lineage = local_lineage(db, execution_id, me)
    if found is None or lineage is None:
        return None
    found[1]["drivers"] = sync_lineage.dump(lineage)
    return found


def tombstone_side(execution_id: str) -> dict[str, Any]:
    """This desktop's side of a conflict on an execution it deleted (retention): nothing but that."""
    return {"execution_id": execution_id, "deleted": True}


def head_lineage(head: Head) -> Lineage | None:
    """The lineage an execution head carries; None for a head without a readable one."""
    try:
        body = json.loads(head.body) if head.body else None
        return sync_lineage.parse(body.get("drivers") if isinstance(body, dict) else None)
    except (ValueError, LineageError):
        return None


def plan_head_body(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": state["name"],
        "revision_id": state["revision_id"],
        "revision_number": state["revision_number"],
        "content_hash": state["content_hash"],
    }


def plan_side(state: dict[str, Any]) -> dict[str, Any]:
    """This desktop's side of a plan conflict: its head and the plan document it names."""
    return {
        "name": state["name"],
        "deleted": state["deleted"],
        "revision_id": state["revision_id"],
        "content_hash": state["content_hash"],
        "document": state["document"],
    }


def conflict_with(db: Database, head: Head, mine_version: int | None, mine: dict[str, Any]) -> str:
    """Record that this desktop's ``mine`` (at ``mine_version``) and the table's ``head`` both changed
    one entity; the line that says so."""
    record_conflict(
        db,
        head.kind,
        head.key,
        mine_version=mine_version,
        mine=mine,
        theirs_version=head.version,
        theirs_seq=head.seq,
        theirs_writer=head.writer,
        theirs_deleted=head.deleted,
        theirs_body=head.body,
    )
    theirs = json.loads(head.body) if head.body else None
    return describe_conflict(head.kind, head.key, mine, head.writer, head.deleted, theirs)


def describe_conflict(
    kind: str, key: str, mine: dict[str, Any], writer: str, deleted: bool, theirs: dict[str, Any] | None
) -> str:
    """One line, in words: which entity, what each side did."""
    if kind == "PLAN":
        what = f"plan {mine.get('name') or key!r}"
    elif kind == "EXEC":
        what = f"execution {key[:8]}"
    else:
        what = f"setting {key}"
    if deleted:
        theirs_text = f"desktop {writer[:8]} deleted it"
    elif kind == "PLAN" and theirs:
        number = theirs.get("revision_number")
        theirs_text = f"desktop {writer[:8]} saved it as {theirs.get('name')!r} (team revision {number})"
    else:
        theirs_text = f"desktop {writer[:8]} changed it"
    mine_text = "this desktop deleted it" if mine.get("deleted") else "this desktop changed it too"
    return f"{what}: {theirs_text}; {mine_text}"
