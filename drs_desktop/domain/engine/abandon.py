"""Ending a run that cannot be picked up again (``ExecutionAbandoned``). Pure.

A run resumes from its journal by talking to the DRS it ran against. When that is gone for good (a demo
run after a restart: the embedded simulator's world ended with the application) or cannot be reached, the
run would stay RUNNING in the history forever. The operator may end it, with a reason. Nothing is known
about DRS after the last thing the journal saw, so the end says so: servers that had not settled fail with
"abandoned: <reason>" and, where they were in a DRS job, that the job was not seen to end; servers that had
not started are cancelled like a cancel would. The outcome is the one a cancel would have had (FAILED while
a critical failure held the run, else CANCELLED), and the reason is in the audit trail ("abandoned").
"""

from __future__ import annotations

import logging
from dataclasses import replace

from drs_desktop.domain.engine.end_events import ExecutionAbandoned
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.observe import abandon as abandon_chunks
from drs_desktop.domain.engine.queries import is_held, server_settled
from drs_desktop.domain.engine.state import (
    ChunkStatus,
    ExecutionState,
    ServerState,
    ServerStatus,
    StopRequest,
)

logger = logging.getLogger(__name__)

#: The audit action of an abandoned run (``views.end_states`` reads it back).
ABANDONED = "abandoned"


def abandoned_reason(reason: str) -> str:
    return f"abandoned: {reason}" if reason else "abandoned"


def on_abandoned(state: ExecutionState, event: ExecutionAbandoned) -> ExecutionState:
    if state.finished is not None:
        return state
    stop = state.stop or StopRequest(
        at=event.at,
        by=event.by,
        outcome=Outcome.FAILED if is_held(state) else Outcome.CANCELLED,
        reason="abandoned",
    )
    state = replace(state, stop=stop, paused=False)
    waiting = [c for c in state.chunks.values() if c.status in (ChunkStatus.PLANNED, ChunkStatus.QUEUED)]
    state = abandon_chunks(state, waiting, ServerStatus.CANCELLED, "not started: the execution was abandoned")
    note = abandoned_reason(event.reason)
    ended: list[ServerState] = []
    for server in state.servers.values():
        if server_settled(state, server):  # the stop settles a launched server's post-launch actions
            continue
        unseen = f"; its job {server.job_id} was not seen to end in DRS" if server.job_id else ""
        if server.status is ServerStatus.STARTING:
            unseen = "; DRS may have started a job for it"
        ended.append(
            replace(server, status=ServerStatus.FAILED, reason=f"{note}{unseen}", failed_at=event.at)
        )
    state = state.with_servers(*ended).noting(ABANDONED, event.at, event.by, event.reason)
    logger.warning("execution %s abandoned by %s: %s", state.spec.execution_id, event.by, event.reason)
    return replace(state, finished=stop.outcome, finished_at=event.at)
