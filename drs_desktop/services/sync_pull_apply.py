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
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from drs_desktop.aws.sync_feed import GapTracker, Head, pull, read_heads
from drs_desktop.aws.sync_history import RevisionItem, read_pages, read_revisions
from drs_desktop.services.sync_context import SyncContext, Tally, numbered_prefix, same_body
from drs_desktop.services.sync_push import conflict_with, plan_head_body, plan_side
from drs_desktop.storage import sync_apply as apply
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.sync_conflicts import (
    drop_queued,
    execution_body,
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
    cursor = result.cursor
    for entity, seq in first_seq.items():
        head = heads.get(entity)
        if head is None:
            tally.notes.append(f"{entity[0]} {entity[1]}: a change with no head in the table; skipped")
            continue
        try:
            applier.apply(head)
        except _Waits as waits:
            tally.notes.append(str(waits))
            cursor = min(cursor, seq - 1)
    if cursor > state.cursor:
        outbox.set_cursor(ctx.db, cursor)
    return max(cursor, state.cursor), result.waiting


class _Applier:
    def __init__(self, ctx: SyncContext, tally: Tally) -> None:
        self.ctx = ctx
        self.tally = tally
        self.queued = queued_entities(ctx.db)
        self.conflicted = {(c.kind, c.key) for c in open_conflicts(ctx.db)}

    def apply(self, head: Head, *, force: bool = False) -> None:
        entity = (head.kind, head.key)
        seen = outbox.entity_version(self.ctx.db, head.kind, head.key)
        if not force and seen is not None and seen.version is not None and seen.version >= head.version:
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
            self._execution(head)
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
            found = execution_body(db, key)
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

    def _execution(self, head: Head) -> None:
        ctx = self.ctx
        body = _body(head)
        if head.deleted or body is None:
            with ctx.db.transaction() as conn:
                outbox.note_entity(conn, head.kind, head.key, head.version, head.seq)
            return
        revision_id, plan_id = str(body.get("plan_revision_id")), str(body.get("plan_id"))
        if not apply.has_revision(ctx.db, revision_id):
            self._fetch_pinned(plan_id, revision_id, body)
        # A former ID of this database (a copy got a new one: storage/sync_identity.py) is still its own.
        foreign = head.writer != ctx.desktop_id and not is_own_writer(ctx.db, head.writer, head.key)
        apply.apply_execution(ctx.db, body, writer=head.writer, foreign=foreign)
        self.tally.pulled["executions"] += 1
        self._journal(head)

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
        counted = (_body(head) or {}).get("event_count")
        # The head counts the events its pages hold: a desktop that has them all (its own execution, or
        # one pulled before) asks for no page, rather than a Query per execution in every pull.
        pages = (
            []
            if isinstance(counted, int) and have >= counted
            else read_pages(ctx.client, ctx.table, head.key, have, backoff=ctx.backoff)
        )
        for page in pages:
            apply.apply_journal_page(ctx.db, head.key, page.first, page.events)
            self.tally.pulled["journal pages"] += 1
        apply.note_execution(ctx.db, head.key, head.version, head.seq)


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
