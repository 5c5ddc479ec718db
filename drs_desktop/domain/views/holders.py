"""How the views say which job holds a server that waits to start (``engine.busy``), in one place so the
progress view, ``executions show`` and the report say it alike:
"waiting: held by job drsjob-... (START_DRILL, since 10:02 UTC)". Pure; times in UTC, as DRS gives them.
"""

from __future__ import annotations

from collections.abc import Iterable

from drs_desktop.domain.engine.events import HoldingJob
from drs_desktop.domain.engine.state import ServerState, ServerStatus


def holder_text(holder: HoldingJob, *, tags: bool = False) -> str:
    """The holder in words, "held by job X (who started it, since when)"; ``tags``: its tags too."""
    if not holder.job_id:
        return "held by another job (DRS answered ConflictException; looking for it)"
    details = [holder.initiated_by] if holder.initiated_by else []
    if holder.created_at is not None:
        details.append(f"since {holder.created_at:%H:%M} UTC")
    if tags and holder.tags:
        details.append("tags " + ", ".join(f"{key}={value}" for key, value in holder.tags.items()))
    return f"held by job {holder.job_id}" + (f" ({', '.join(details)})" if details else "")


def is_waiting(server: ServerState) -> bool:
    """The server waits to start and the last look saw it held by another job."""
    return server.status is ServerStatus.PENDING and server.held_by is not None and server.held_until is None


def waiting_text(server: ServerState, *, tags: bool = False) -> str:
    """What a waiting server waits for, or "" when it waits for nothing outside the run."""
    if not is_waiting(server) or server.held_by is None:
        return ""
    return "waiting: " + holder_text(server.held_by, tags=tags)


def held_text(server: ServerState) -> str:
    """For the evidence: the job that held the server while it waited, and until when ("" if none)."""
    holder = server.held_by
    if holder is None:
        return ""
    if is_waiting(server):
        return waiting_text(server, tags=True)
    until = f" until {server.held_until:%H:%M} UTC" if server.held_until is not None else ""
    return f"waited: {holder_text(holder, tags=True)}{until}"


def wave_waiting_text(servers: Iterable[ServerState]) -> str:
    """ "waiting: 2 servers held by job X" for a wave's waiting servers ("" when none waits)."""
    held = [s.held_by for s in servers if is_waiting(s) and s.held_by is not None]
    if not held:
        return ""
    jobs = sorted({h.job_id for h in held if h.job_id})
    count = f"{len(held)} server{'s' if len(held) > 1 else ''}"
    if not jobs:
        return f"waiting: {count} held by another job (looking for it)"
    return f"waiting: {count} held by job{'s' if len(jobs) > 1 else ''} {', '.join(jobs)}"
