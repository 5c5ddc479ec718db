"""Where a launching server is (job, snapshot, conversion, launch), how long each stage took, and an ETA.

DRS reports a recovery as job-log events per server (SNAPSHOT_START, CONVERSION_END, LAUNCH_START, ...);
the execution state keeps the first time of each (``ServerState.phase_times``). From those, a server's
*milestones* mark where each stage began. The durations of stages other servers of the same execution
have finished are the best guess at how long the remaining ones take: same account, same Region, same
moment, so a median of them is a better estimate than any constant. Pure.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from drs_desktop.domain.engine.state import PostLaunch, ServerState, ServerStatus
from drs_desktop.domain.views.end_states import final_phase

#: The stages of a launching server, in the order DRS runs them.
STAGES = ("job", "snapshot", "conversion", "launch")
STAGE_LABELS = ("waiting for DRS", "snapshot", "conversion", "launching")

#: Seconds of each stage where observed, None where not (yet).
Durations = tuple[float | None, ...]


def milestones(server: ServerState) -> tuple[datetime | None, ...]:
    """When each stage began, then when the server launched: ``len(STAGES) + 1`` times (None: not yet).

    A point-in-time recovery logs USING_PREVIOUS_SNAPSHOT instead of a snapshot; a missing
    CONVERSION_START or LAUNCH_START is stood in for by the end of the stage before it.
    """
    p = server.phase_times
    return (
        server.job_started_at,
        p.get("SNAPSHOT_START") or p.get("USING_PREVIOUS_SNAPSHOT"),
        p.get("CONVERSION_START") or p.get("SNAPSHOT_END"),
        p.get("LAUNCH_START") or p.get("CONVERSION_END"),
        server.launched_at,
    )


def current_stage(times: Sequence[datetime | None]) -> tuple[int, datetime] | None:
    """The stage a launching server is in (index into STAGES) and when it began; None before its job."""
    for index in range(len(STAGES) - 1, -1, -1):
        began = times[index]
        if began is not None:
            return index, began
    return None


def stage_durations(times: Sequence[datetime | None]) -> Durations:
    """Seconds each finished stage took (both ends known), else None."""
    out: list[float | None] = []
    for index in range(len(STAGES)):
        start, end = times[index], times[index + 1]
        out.append(max(0.0, (end - start).total_seconds()) if start is not None and end is not None else None)
    return tuple(out)


def stage_medians(durations: Iterable[Durations]) -> Durations:
    """The median duration of each stage over the servers that finished it (None: none has yet)."""
    columns: list[list[float]] = [[] for _ in STAGES]
    for row in durations:
        for index, value in enumerate(row):
            if value is not None:
                columns[index].append(value)
    return tuple(statistics.median(column) if column else None for column in columns)


def server_phase(server: ServerState, times: Sequence[datetime | None]) -> str:
    """What the operator reads in the server's Phase column."""
    status = server.status
    if status is ServerStatus.PENDING:
        return "queued" if server.queued_at is not None else "waiting for its wave"
    if status is ServerStatus.STARTING:
        return "starting job"
    if status is ServerStatus.LAUNCHING:
        found = current_stage(times)
        return STAGE_LABELS[found[0]] if found else "waiting for DRS"
    if status is ServerStatus.LAUNCHED:
        if server.post_launch is PostLaunch.PENDING:
            return "post-launch actions"
        if server.post_launch is PostLaunch.FAILED:
            return "post-launch actions failed"
        return "launched"
    return final_phase(server) or status.value.lower()


def server_progress(server: ServerState, times: Sequence[datetime | None]) -> int:
    """Percent done, by stage: what a per-server progress bar shows (a settled server is 100)."""
    status = server.status
    if status is ServerStatus.PENDING:
        return 0
    if status is ServerStatus.STARTING:
        return 5
    if status is ServerStatus.LAUNCHING:
        found = current_stage(times)
        return 10 + 20 * found[0] if found else 10
    if status is ServerStatus.LAUNCHED and server.post_launch is PostLaunch.PENDING:
        return 90
    return 100


def remaining(
    status: ServerStatus,
    stage: int | None,
    stage_started_at: datetime | None,
    medians: Durations,
    now: datetime,
) -> float | None:
    """Seconds a server still needs by the medians, 0 when it needs nothing more, None when unknown."""
    if status in (ServerStatus.PENDING, ServerStatus.STARTING):
        first = 0
        elapsed = 0.0
    elif status is ServerStatus.LAUNCHING:
        first = stage or 0
        elapsed = (now - stage_started_at).total_seconds() if stage_started_at is not None else 0.0
    else:
        return 0.0
    needed = medians[first:]
    if any(value is None for value in needed):
        return None
    values = [float(value) for value in needed if value is not None]
    return max(0.0, values[0] - elapsed) + sum(values[1:])


def wave_eta(
    rows: Iterable[tuple[ServerStatus, int | None, datetime | None]], medians: Durations, now: datetime
) -> timedelta | None:
    """How long until the wave's last server launches: servers run side by side, so the slowest one.
    None while some server's estimate is unknown (no server has finished a stage it still needs)."""
    worst = 0.0
    for status, stage, began in rows:
        left = remaining(status, stage, began, medians, now)
        if left is None:
            return None
        worst = max(worst, left)
    return timedelta(seconds=round(worst))
