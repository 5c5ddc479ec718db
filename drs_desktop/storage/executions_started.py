"""Executions by start time, for the period roll-up (issue 18).

The roll-up reads every run of the chosen plans that started before the period's end: the runs in the
period, and the earlier ones for the last good test and the findings still open. The ``executions_started``
index (migration 0002) serves the range; the history's listing (``executions.list_executions``) caps its
rows for a screen and has no date bound, which a report over years must not silently cut.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.storage.db import Readable, to_db_time
from drs_desktop.storage.executions import _COLUMNS, _record

__all__ = ["executions_started_before"]


def executions_started_before(
    db: Readable, end: datetime, *, plan_ids: Collection[str] | None = None
) -> list[ExecutionRecord]:
    """Executions that started before ``end`` (excluded), oldest first, optionally of ``plan_ids`` only
    (an empty collection: none)."""
    params: list[object] = [to_db_time(end)]
    where = "started_at < ?"
    if plan_ids is not None:
        if not plan_ids:
            return []
        where += f" AND plan_id IN ({', '.join('?' * len(plan_ids))})"
        params.extend(sorted(plan_ids))
    with db.reader() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE {where} ORDER BY started_at, id", params
        ).fetchall()
    return [_record(row) for row in rows]
