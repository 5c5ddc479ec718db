"""An open sync conflict made readable for the conflicts dialog: both sides in full and what differs.

A plan's two sides are plan documents: this desktop's latest revision (kept in the conflict) and the
revision their head names, read from this desktop's database when it has it, else from the table's
history of the plan (``aws.sync_history.read_revisions``, a consistent Query). Each is shown as its
plan file (``storage.planfile.dump_plan``), and the diff is the plan history's own
(``domain.plan.diff.diff_plans``, the one the plan editor's "Compare" shows), from mine to theirs: what
taking theirs would change here. A setting or an execution is shown as its value or record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from drs_desktop.aws.sync_history import read_revisions
from drs_desktop.domain.errors import DrsDesktopError, PlanDocumentError
from drs_desktop.domain.plan.diff import diff_plans
from drs_desktop.domain.plan.document import plan_from_document
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.views.sync_conflicts import ConflictView
from drs_desktop.storage.db import Readable, from_db_time
from drs_desktop.storage.planfile import dump_plan
from drs_desktop.storage.plans import list_plans
from drs_desktop.storage.sync_conflicts import SyncConflict, revision_row

logger = logging.getLogger(__name__)

__all__ = ["conflict_view"]

TableClient = Callable[[], tuple[Any, str]]


def conflict_view(db: Readable, conflict: SyncConflict, desktop_id: str, table: TableClient) -> ConflictView:
    """``conflict`` with both sides, the diff and the copy's name (``table()``: the sync thread's
    client and table name, for a revision this desktop lacks)."""
    if conflict.kind == "PLAN":
        return _plan_view(db, conflict, desktop_id, table)
    return _value_view(conflict)


def _plan_view(db: Readable, conflict: SyncConflict, desktop_id: str, table: TableClient) -> ConflictView:
    mine, theirs = conflict.mine, conflict.theirs
    name = str(mine.get("name") or theirs.get("name") or conflict.key)
    writer = conflict.theirs_writer
    mine_plan, mine_problem = _plan(mine.get("document"))
    theirs_revision: dict[str, Any] | None = None
    theirs_problem = ""
    if conflict.theirs_deleted:
        theirs_problem = "they deleted the plan"
    elif theirs.get("revision_id"):
        try:
            theirs_revision = _their_revision(db, conflict.key, str(theirs["revision_id"]), table)
        except DrsDesktopError as exc:
            theirs_problem = f"their version could not be read from the table: {exc}"
        if theirs_revision is None and not theirs_problem:
            theirs_problem = "their revision is not in the table"
    theirs_plan, problem = _plan(theirs_revision.get("document") if theirs_revision else None)
    theirs_problem = theirs_problem or problem
    author = str(theirs_revision.get("author") or "") if theirs_revision else ""
    who = f"{author} on desktop {writer[:8]}" if author else f"desktop {writer[:8]}"
    changed_at = _time(theirs_revision.get("created_at")) if theirs_revision else None
    number = theirs.get("revision_number")

    if mine.get("deleted"):
        mine_text, mine_title = "This desktop deleted the plan.", "This desktop: deleted"
    elif mine_plan is not None:
        mine_text, mine_title = dump_plan(mine_plan, "yaml"), "This desktop's version (not sent)"
    else:
        mine_text, mine_title = f"This desktop's version cannot be read: {mine_problem}", "This desktop"
    if conflict.theirs_deleted:
        theirs_text, theirs_title = f"{who} deleted the plan.", f"{who}: deleted"
    elif theirs_plan is not None:
        theirs_text = dump_plan(theirs_plan, "yaml")
        theirs_title = f"{who}'s version" + (f" (team revision {number})" if number else "")
    else:
        theirs_text, theirs_title = f"Their version cannot be shown: {theirs_problem}", f"{who}'s version"

    diff: tuple[str, ...] = ()
    note = ""
    if mine_plan is not None and theirs_plan is not None:
        diff = tuple(diff_plans(mine_plan, theirs_plan))
        note = "" if diff else "The two versions say the same."
    elif mine.get("deleted"):
        note = "This desktop deleted the plan; theirs is shown in full."
    else:
        note = f"No diff: {theirs_problem or mine_problem}"
    summary = (
        f"{who} deleted it" if conflict.theirs_deleted else f"{who} saved it as {theirs.get('name', name)!r}"
    ) + ("; this desktop deleted it" if mine.get("deleted") else "; this desktop changed it too")
    return ConflictView(
        kind="PLAN",
        key=conflict.key,
        name=name,
        who=who,
        writer=writer,
        changed_at=changed_at,
        detected_at=conflict.detected_at,
        summary=summary,
        mine_title=mine_title,
        mine_text=mine_text,
        theirs_title=theirs_title,
        theirs_text=theirs_text,
        diff=diff,
        diff_note=note,
        copy_name=_copy_name(db, mine_plan.name if mine_plan else name, desktop_id),
        mine_deleted=bool(mine.get("deleted")),
        theirs_deleted=conflict.theirs_deleted,
    )


def _value_view(conflict: SyncConflict) -> ConflictView:
    """A setting (its value) or an execution (its record): each side as JSON, the keys that differ."""
    writer = conflict.theirs_writer
    who = f"desktop {writer[:8]}"
    mine = conflict.mine
    theirs = conflict.theirs
    diff = tuple(
        f"{key}: {_short(mine.get(key))} -> {_short(theirs.get(key))}"
        for key in sorted(set(mine) | set(theirs))
        if mine.get(key) != theirs.get(key)
    )
    return ConflictView(
        kind=conflict.kind,
        key=conflict.key,
        name=conflict.key if conflict.kind == "SETTING" else conflict.key[:8],
        who=who,
        writer=writer,
        changed_at=None,
        detected_at=conflict.detected_at,
        summary=f"{who} {'deleted' if conflict.theirs_deleted else 'changed'} it; "
        "this desktop changed it too",
        mine_title="This desktop's (not sent)",
        mine_text=json.dumps(mine, indent=2, sort_keys=True, ensure_ascii=False),
        theirs_title=f"{who}'s",
        theirs_text="deleted" if conflict.theirs_deleted else json.dumps(theirs, indent=2, sort_keys=True),
        diff=diff,
        diff_note="" if diff else "The two sides say the same.",
        copy_name="",
        mine_deleted=bool(mine.get("deleted")),
        theirs_deleted=conflict.theirs_deleted,
    )


def _their_revision(
    db: Readable, plan_id: str, revision_id: str, table: TableClient
) -> dict[str, Any] | None:
    row = revision_row(db, revision_id)
    if row is not None:
        return row
    client, name = table()
    try:
        revisions = read_revisions(client, name, plan_id)
    except DrsDesktopError:
        raise
    except Exception as exc:  # botocore's: out of reach, refused
        from drs_desktop.aws.dynamodb_errors import map_dynamodb_error

        raise map_dynamodb_error(exc, "Query", table=name) from exc
    for revision in revisions:
        if revision.revision_id == revision_id:
            return {
                "document": revision.document,
                "author": revision.author,
                "created_at": revision.created_at,
                "comment": revision.comment,
            }
    return None


def _plan(document: object) -> tuple[RecoveryPlan | None, str]:
    if not isinstance(document, str):
        return None, "no document"
    try:
        return plan_from_document(json.loads(document)), ""
    except (ValueError, PlanDocumentError) as exc:
        return None, str(exc)


def _copy_name(db: Readable, name: str, desktop_id: str) -> str:
    """The name ``save_as_copy`` will give (services.sync_resolve: the first free one)."""
    base = f"{name} (copy from {desktop_id[:8]})"
    taken = {summary.name for summary in list_plans(db)}
    copy, n = base, 1
    while copy in taken:
        n += 1
        copy = f"{base} {n}"
    return copy


def _time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return from_db_time(text)
    except ValueError:
        return None


def _short(value: object) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False) if value is not None else "(none)"
    return text if len(text) <= 60 else text[:57] + "..."
