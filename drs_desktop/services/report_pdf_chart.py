"""The PDF report's timeline as data: each wave and each server on the execution's own time axis.

Built from the report document (``services.report_document``), not from the live progress snapshot, so
the picture shows what the tables below it show: every attempt of a retried server (the failed try stays
on the picture, faded, before the one that launched), each DRS stage (snapshot, conversion, launch) in
its own colour with the failed one marked, the wait in the queue, and a recovery's post-launch actions.
The ui layer paints it (``ui.executions.report_timeline``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from drs_desktop.domain.views.report_chart import ChartRow, ChartSegment, TimelineChart

logger = logging.getLogger(__name__)

__all__ = ["timeline_chart"]

#: The axis spans at least this much, so a run of a few seconds does not fill the width with one bar.
MIN_SPAN_SECONDS = 60.0
_STAGES = ("snapshot", "conversion", "launch")


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def timeline_chart(doc: dict[str, Any]) -> TimelineChart:
    """The chart of a report document: a row per wave, then a row per server of that wave."""
    execution = doc["execution"]
    start = _moment(execution["started_at"])
    if start is None:
        return TimelineChart("", MIN_SPAN_SECONDS, ())

    def at(value: str | None) -> float | None:
        moment = _moment(value)
        return None if moment is None else max(0.0, (moment - start).total_seconds())

    end = at(execution["finished_at"]) or _latest(doc, at)
    by_wave: dict[int, list[dict[str, Any]]] = {}
    for server in doc["servers"]:
        by_wave.setdefault(server["wave_index"], []).append(server)
    rows: list[ChartRow] = []
    for wave in doc["waves"]:
        began = at(wave["started_at"])
        stop = at(wave["completed_at"] or wave["skipped_at"] or wave["timed_out_at"]) or end
        segments = (ChartSegment("wave", began, max(began, stop)),) if began is not None else ()
        rows.append(ChartRow(f"{wave['index'] + 1}. {wave['name']}", "", wave["phase"], segments))
        for server in by_wave.get(wave["index"], []):
            parts: list[ChartSegment] = []
            for attempt in server["attempts"]:
                parts.extend(_attempt_segments(attempt, at, end))
            label = server["hostname"] or server["server_id"]
            rows.append(ChartRow(label, server["server_id"], server["status"], tuple(parts)))
    rto = doc["rto"]
    return TimelineChart(
        started_at=execution["started_at"],
        span=max(MIN_SPAN_SECONDS, end, float(rto["target_seconds"] or 0) * 1.05),
        rows=tuple(rows),
        rto_target=rto["target_seconds"],
        rto_achieved=rto["achieved_seconds"],
    )


def _latest(doc: dict[str, Any], at: Any) -> float:
    """The last moment a running execution's document knows of (its end for the axis)."""
    seen = [0.0]
    for server in doc["servers"]:
        for attempt in server["attempts"]:
            for key in ("queued_at", "job_started_at", "launched_at", "ready_at", "failed_at"):
                value = at(attempt[key])
                if value is not None:
                    seen.append(value)
    return max(seen)


def _attempt_segments(attempt: dict[str, Any], at: Any, end: float) -> list[ChartSegment]:
    earlier = not attempt["final"]
    finished = at(attempt["failed_at"]) or at(attempt["ready_at"]) or at(attempt["launched_at"])
    stop = finished if finished is not None else end
    out: list[ChartSegment] = []
    queued = at(attempt["queued_at"])
    started = at(attempt["job_started_at"]) or at(attempt["start_requested_at"])
    if queued is not None:
        waited = started if started is not None else stop
        out.append(ChartSegment("queued", queued, max(queued, waited), False, earlier))
    stages = attempt["stages"]
    starts = [at(stages[name]["started_at"]) for name in _STAGES]
    failed_shown = False
    for number, name in enumerate(_STAGES):
        stage, began = stages[name], starts[number]
        if began is None:
            continue
        later = next((s for s in starts[number + 1 :] if s is not None), None)
        ended = at(stage["ended_at"])
        if ended is None:
            ended = later if later is not None else stop
        failed_shown = failed_shown or bool(stage["failed"])
        out.append(ChartSegment(name, began, max(began, ended), bool(stage["failed"]), earlier))
    launched, ready = at(attempt["launched_at"]), at(attempt["ready_at"])
    if launched is not None and ready is not None and ready > launched:
        out.append(ChartSegment("post_launch", launched, ready, False, earlier))
    failed_at = at(attempt["failed_at"])
    if failed_at is not None and not failed_shown:  # DRS failed it outside a logged stage: say where
        began = max((s.end for s in out), default=started if started is not None else failed_at)
        out.append(ChartSegment("launch", min(began, failed_at), failed_at, True, earlier))
    return out
