"""The lines of an execution's event log, from its journal: the one source the live log, the history log
and the report's event list all read.

Why one function: three places used to build "the log" three ways (the live view from the runner's
listener plus the tracker's job-log diff, the history view from the final state alone, the report not at
all), so a pause was missing here, a retried server's first job there, and the history stopped at the
last job-log event. Every line now comes from one event of the journal and the states before and after
it (``event_lines``): the live session calls it for each event the runner journals, and
``journal_log`` replays a whole journal through it for history and reports, so the two cannot disagree.
Pure, stdlib only; the time is the event's, or DRS's job-log time for a job-log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.reducer import apply, initial_state
from drs_desktop.domain.engine.state import ExecutionSpec, ExecutionState, ServerState
from drs_desktop.domain.views.change_text import describe_change
from drs_desktop.domain.views.progress import LogLine, ProgressSnapshot, ProgressTracker
from drs_desktop.domain.views.report import ExecutionView

__all__ = ["event_lines", "history_snapshot", "job_log_lines", "journal_log"]

#: ``describe_change`` starts some lines with the event's time; a ``LogLine`` carries its own.
_STAMP = re.compile(r"^\d\d:\d\d:\d\d ")


def job_log_lines(
    server: ServerState, old: ServerState | None, hostnames: Mapping[str, str] | None = None
) -> list[LogLine]:
    """DRS job-log events ``server`` gained since ``old`` (all of them for a new job: a retry's)."""
    seen = old.phase_times if old is not None and old.job_id == server.job_id else {}
    if server.phase_times is seen:
        return []
    label = (hostnames or {}).get(server.server_id)
    who = f"{label} ({server.server_id})" if label else server.server_id
    return [
        LogLine(at=at, text=f"{who}  {event}", server_id=server.server_id, event=event)
        for event, at in server.phase_times.items()
        if event not in seen
    ]


def event_lines(
    before: ExecutionState,
    after: ExecutionState,
    event: Event,
    hostnames: Mapping[str, str] | None = None,
) -> list[LogLine]:
    """The log lines of one journaled event: the DRS job-log events it brought (oldest first), then what
    it changed in words (``change_text.describe_change``: controls, approvals, launches, failures,
    waves, the end)."""
    lines: list[LogLine] = []
    if after.servers is not before.servers:
        found: list[LogLine] = []
        for server_id, server in after.servers.items():
            old = before.servers.get(server_id)
            if old is not server:
                found.extend(job_log_lines(server, old, hostnames))
        lines.extend(sorted(found, key=lambda line: line.at))
    for text in describe_change(before, after, event):
        lines.append(LogLine(at=event.at, text=_STAMP.sub("", text.strip(), count=1)))
    return lines


def journal_log(
    spec: ExecutionSpec, events: Iterable[Event], hostnames: Mapping[str, str] | None = None
) -> tuple[LogLine, ...]:
    """Every line of the log of a journal, in journal order: what the live log showed while it ran."""
    state = initial_state(spec)
    lines: list[LogLine] = []
    for event in events:
        before, state = state, apply(state, event)
        lines.extend(event_lines(before, state, event, hostnames))
    return tuple(lines)


def history_snapshot(view: ExecutionView, at: datetime) -> ProgressSnapshot:
    """The read-only progress snapshot of a past execution (the history pane's progress tab) as of
    ``at``: its log is the report's (``view.log``), never the tracker's own job-log diff of the final
    state (which held only each server's last job and none of the operator's controls)."""
    tracker = ProgressTracker(view.hostnames, read_only=True, job_log=False)
    snapshot = tracker.update(view.state, at, notes=view.log, force=True)
    assert snapshot is not None  # force always builds one
    return snapshot
