"""The finished drills of every plan in one lean read, for the drill cadence (issue 18).

Why not ``executions.list_executions``: that decodes each row's spec, options and identity and counts
its journal, which the cadence needs for one drill per plan (the last good one), not for a hundred.
Listing 200 plans' histories a plan at a time walked the ``started_at`` index once per plan; this is
one pass over it, with the columns the cadence counts on: outcome, end, revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drs_desktop.storage.db import Readable, from_db_time

__all__ = ["DrillOutcome", "finished_drills"]


@dataclass(frozen=True)
class DrillOutcome:
    """One finished drill's row: enough to count it; ``executions.get_execution`` has the rest."""

    execution_id: str
    plan_id: str
    plan_name: str
    plan_revision: int
    outcome: str
    finished_at: datetime


def finished_drills(db: Readable) -> dict[str, list[DrillOutcome]]:
    """Every finished drill with an outcome, by plan ID (a renamed plan keeps its drills; a new plan
    that reuses a deleted one's name does not inherit them), newest first by start."""
    with db.reader() as conn:
        rows = conn.execute(
            "SELECT id, plan_id, plan_name, plan_revision, outcome, finished_at FROM executions "
            "WHERE mode = 'DRILL' AND finished_at IS NOT NULL AND outcome IS NOT NULL "
            "ORDER BY started_at DESC"
        ).fetchall()
    found: dict[str, list[DrillOutcome]] = {}
    for row in rows:
        drill = DrillOutcome(
            str(row[0]), str(row[1]), str(row[2]), int(row[3]), str(row[4]), from_db_time(str(row[5]))
        )
        found.setdefault(drill.plan_id, []).append(drill)
    return found
