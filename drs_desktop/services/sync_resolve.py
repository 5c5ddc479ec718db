"""Resolving a sync conflict as the operator chose (docs/sync.md, "Conflicts").

* ``keep_mine``: this desktop's side wins. Its head is queued again on top of theirs (the version it is
  based on becomes theirs), so the next push replaces their head, never silently: the operator chose.
* ``take_theirs``: the table's side wins. It is applied here (the revisions it names fetched), and this
  desktop's queued heads for it are dropped. Its queued revisions stay queued: revisions are append-only
  history, pushed under the next team numbers, never named by a head unless someone keeps them.
* ``save_as_copy`` (plans): this desktop's plan is saved as a new plan named ``<name> (copy from
  <desktop>)`` (queued like any new plan), and theirs is applied as with ``take_theirs``.

Each resolution is one SQLite transaction: the conflict is closed together with what it did.
"""

from __future__ import annotations

import dataclasses
import json

from drs_desktop.aws.sync_feed import Head
from drs_desktop.domain.errors import PlanDocumentError
from drs_desktop.domain.plan.document import plan_from_document
from drs_desktop.domain.sync_errors import SyncResolutionError
from drs_desktop.services.sync_context import SyncContext, Tally
from drs_desktop.storage import sync_apply as apply
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.plans import plan_name_taken, save_plan
from drs_desktop.storage.retention import queue_tombstone_again
from drs_desktop.storage.sync_conflicts import SyncConflict, drop_queued, open_conflicts, resolve_conflict

CHOICES = ("keep_mine", "take_theirs", "save_as_copy")


def find_conflict(ctx: SyncContext, kind: str, key: str) -> SyncConflict:
    for conflict in open_conflicts(ctx.db):
        if conflict.kind == kind and conflict.key == key:
            return conflict
    raise SyncResolutionError(f"there is no open sync conflict on {kind} {key}", table=ctx.table)


def resolve(ctx: SyncContext, kind: str, key: str, choice: str) -> str:
    if choice not in CHOICES:
        raise SyncResolutionError(f"unknown resolution {choice!r}: one of {', '.join(CHOICES)}")
    conflict = find_conflict(ctx, kind, key)
    name = conflict.mine.get("name") or key
    who = f"desktop {conflict.theirs_writer[:8]}"
    if choice == "keep_mine":
        with ctx.db.transaction() as conn:
            outbox.note_entity(conn, kind, key, conflict.theirs_version, conflict.theirs_seq)
            if kind == "PLAN":
                outbox.enqueue_plan_head(conn, key)
            elif kind == "EXEC" and conflict.mine.get("deleted"):  # deleted here (retention)
                queue_tombstone_again(conn, key)
            elif kind == "EXEC":
                outbox.enqueue_execution(conn, key)
            else:
                outbox.enqueue_setting(conn, key)
            resolve_conflict(conn, conflict.conflict_id, choice)
        return f"{kind.lower()} {name!r}: keeping this desktop's; the next sync pushes it over {who}'s"
    # Three steps, no DynamoDB call inside a write transaction: the database's write lock is the running
    # executions' too (their journals), and applying theirs may read the table (revisions this desktop
    # lacks). Cut short, the conflict stays open and choosing again finishes it: this desktop's queued
    # change is dropped first (it was refused: the operator chose theirs), so applying theirs does not
    # meet it as a new conflict.
    copy_name = _save_copy(ctx, conflict) if choice == "save_as_copy" else ""
    with ctx.db.transaction() as conn:
        drop_queued(conn, kind, key)
    _apply_theirs(ctx, conflict)
    with ctx.db.transaction() as conn:
        resolve_conflict(conn, conflict.conflict_id, choice)
    if choice == "save_as_copy":
        return f"plan {name!r}: {who}'s version applied; this desktop's saved as the new plan {copy_name!r}"
    return f"{kind.lower()} {name!r}: {who}'s version applied; this desktop's queued change dropped"


def _save_copy(ctx: SyncContext, conflict: SyncConflict) -> str:
    if conflict.kind != "PLAN":
        raise SyncResolutionError(f"only a plan can be saved as a copy, not a {conflict.kind.lower()}")
    document = conflict.mine.get("document")
    if conflict.mine.get("deleted") or not isinstance(document, str):
        raise SyncResolutionError(
            f"plan {conflict.mine.get('name')!r}: this desktop deleted it, there is nothing to save as a copy"
        )
    try:
        plan = plan_from_document(json.loads(document))
    except (ValueError, PlanDocumentError) as exc:
        raise SyncResolutionError(f"this desktop's side of the conflict cannot be read: {exc}") from None
    base = f"{plan.name} (copy from {ctx.desktop_id[:8]})"
    copy_name, n = base, 1
    while plan_name_taken(ctx.db, copy_name):
        n += 1
        copy_name = f"{base} {n}"
    save_plan(
        ctx.db,
        dataclasses.replace(plan, name=copy_name),
        comment=f"copy of this desktop's side of a sync conflict with desktop {conflict.theirs_writer[:8]}",
    )
    return copy_name


def _apply_theirs(ctx: SyncContext, conflict: SyncConflict) -> None:
    from drs_desktop.services.sync_pull_apply import apply_head

    head = Head(
        kind=conflict.kind,
        key=conflict.key,
        version=conflict.theirs_version,
        seq=conflict.theirs_seq,
        deleted=conflict.theirs_deleted,
        body=conflict.theirs_body,
        writer=conflict.theirs_writer,
        app_version="",
        core=None,
    )
    apply_head(ctx, head, Tally())
    if conflict.kind == "PLAN" and not conflict.theirs_deleted:
        revision_id = str(conflict.theirs.get("revision_id") or "")
        if revision_id and not apply.has_revision(ctx.db, revision_id):
            raise SyncResolutionError(
                f"plan {conflict.key}: their revision {revision_id} is not in the table"
            )
