"""The plan revision an execution pinned, looked up by its row ID.

Evidence must show the exact plan that ran. ``plans.load_plan`` finds revisions through the *live* plan
name, which fails once the plan is renamed or deleted, and could even find a different plan that reused
the name. The execution pins ``plan_revisions.id``; this reads that row whatever happened to the plan
since, deleted (tombstoned) plans included. The stored document text is returned as stored, so that
its SHA-256 can be checked against the recorded content hash.
"""

from __future__ import annotations

import logging

from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.storage.db import Readable, from_db_time

logger = logging.getLogger(__name__)

__all__ = ["load_revision_by_id"]


def load_revision_by_id(db: Readable, revision_id: str) -> tuple[PlanRevision, str] | None:
    """The revision row ``revision_id`` and its stored document text (canonical JSON); None if absent.

    ``PlanRevision.name`` is the plan's current name (a renamed plan shows its new name); the name the
    execution ran under stays in the execution record.
    """
    with db.reader() as conn:
        row = conn.execute(
            "SELECT r.id, r.plan_id, p.name, r.revision, r.created_at, r.content_hash, r.comment, r.author, "
            "r.document FROM plan_revisions r JOIN plans p ON p.id = r.plan_id WHERE r.id = ?",
            (revision_id,),
        ).fetchone()
    if row is None:
        return None
    revision = PlanRevision(
        plan_id=str(row[1]),
        name=str(row[2]),
        revision=int(row[3]),
        saved_at=from_db_time(str(row[4])),
        content_hash=str(row[5]),
        comment=str(row[6]),
        author=str(row[7]),
        revision_id=str(row[0]),
    )
    return revision, str(row[8])
