"""Taking a run over from a silent desktop: what this journal cannot know, checked in DRS first.

With team sync one desktop drives an execution under a lease (docs/sync.md, "Leases"). When it goes
silent, another may take the run over once the lease expired and its operator confirmed. The journal it
holds is only as new as the silent desktop's last push: a chunk shown PLANNED or QUEUED here may have
been started in DRS since. So, unless the previous driver released its lease after pushing this whole
journal (``TakeoverFacts.journal_complete``), ``TakenOver`` marks every chunk this journal shows never
started "unchecked", and:

- nothing starts before each unchecked chunk had its first look at DRS's records, right away (the lease
  timings guarantee the old driver's last call reached DRS before the takeover), then at growing
  intervals like an unresolved start (``engine.reconcile`` looks and decides, with the same machinery);
- a job tagged with the chunk (the listing, or a server's last launch carrying its tags) is adopted,
  whatever phase this journal shows its wave in: an approval still pending here stays pending for this
  desktop's operator, and the wave's launch never queues a chunk that is already STARTED;
- nothing found once a look's DRS time is past the takeover's plus ``ExecutionSpec.start_settle`` (DRS's
  listing may lag): the chunk is no longer unchecked and stays what it was, PLANNED or QUEUED, with no
  failure counted and no attempt spent (it was never asked for by this journal). Stopped or skipped
  meanwhile, it is abandoned then (not before: a job of it might still have turned up);
- jobs tagged with this execution for a chunk this journal does not know (a retry the old driver made
  after its last push) are never adopted blindly: the run notes each (job, chunk, servers) and the
  evidence shows them.

Starting chunks run through ``engine.reconcile`` and unresolved ones (START_REQUESTED/UNCERTAIN) are
reconciled as after any restart. Pure; imports only the state's leaf modules, so that the modules that
ask "is this chunk unchecked?" (``engine.busy``, ``engine.observe``) may import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from drs_desktop.domain.engine.events import TakenOver
from drs_desktop.domain.engine.reconcile_events import StartsReconciled, TaggedJob
from drs_desktop.domain.engine.state import ChunkState, ChunkStatus, ExecutionState, TakeoverRecord

__all__ = [
    "CHECKING_PHASE",
    "TakeoverFacts",
    "checked",
    "checking_text",
    "is_unchecked",
    "note_unknown_jobs",
    "on_taken_over",
    "taken_over_at",
    "takeover_event",
    "unchecked_chunks",
    "unknown_job_text",
    "without_unchecked",
]

_NEVER_STARTED = (ChunkStatus.PLANNED, ChunkStatus.QUEUED)


@dataclass(frozen=True)
class TakeoverFacts:
    """What the caller that took the lease knows: ``by`` the desktop now driving, ``previous`` the one
    that drove it ("" unknown), ``operator`` who confirmed, and ``journal_complete``: the previous driver
    released its lease after pushing this whole journal, so there is nothing to guess."""

    by: str
    previous: str
    operator: str
    journal_complete: bool


def takeover_event(facts: TakeoverFacts, at: datetime) -> TakenOver:
    """The journal event for ``facts`` at ``at`` (the runner's DRS time)."""
    return TakenOver(
        at=at,
        by=facts.by,
        previous=facts.previous,
        operator=facts.operator,
        journal_complete=facts.journal_complete,
    )


# -- questions


def is_unchecked(state: ExecutionState, chunk_id: str | None) -> bool:
    return chunk_id is not None and chunk_id in state.unchecked


def unchecked_chunks(state: ExecutionState) -> tuple[ChunkState, ...]:
    """The unchecked chunks of this state (a target's view holds only its own)."""
    if not state.unchecked:
        return ()
    return tuple(state.chunks[c] for c in state.unchecked if c in state.chunks)


def taken_over_at(state: ExecutionState) -> datetime:
    """The last takeover's time (DRS's): what an unchecked chunk's looks are timed from."""
    return state.takeovers[-1].at if state.takeovers else state.spec.started_at


def without_unchecked(state: ExecutionState, chunks: Iterable[ChunkState]) -> list[ChunkState]:
    """``chunks`` but the unchecked ones: a stop, a skip or a timeout abandons a chunk only once DRS's
    records showed that it never started (``engine.reconcile`` abandons it then)."""
    return [c for c in chunks if c.chunk_id not in state.unchecked]


# -- what the events do


def on_taken_over(state: ExecutionState, event: TakenOver) -> ExecutionState:
    """Record the takeover; unless the journal is complete, every chunk it shows never started becomes
    unchecked (their looks counted from zero)."""
    if state.finished is not None:
        return state
    fresh: list[ChunkState] = []
    if not event.journal_complete:
        fresh = [
            replace(c, looks=0, looked_at=None)
            for c in state.chunks.values()
            if c.status in _NEVER_STARTED and c.chunk_id not in state.unchecked
        ]
    ids = tuple(c.chunk_id for c in fresh)
    record = TakeoverRecord(
        at=event.at,
        by=event.by,
        previous=event.previous,
        operator=event.operator,
        journal_complete=event.journal_complete,
        unchecked=ids,
    )
    state = replace(state, takeovers=(*state.takeovers, record), unchecked=(*state.unchecked, *ids))
    state = state.with_chunks(*fresh)
    previous = event.previous or "an unknown desktop"
    if event.journal_complete:
        detail = f"from {previous} on {event.by}; its journal was complete"
    else:
        detail = f"from {previous} on {event.by}; {len(ids)} chunk(s) to check in DRS's records"
    return state.noting("take over", event.at, event.operator, detail)


def checked(state: ExecutionState, chunk: ChunkState) -> ExecutionState:
    """DRS's records settled ``chunk``: no longer unchecked (its looks reset; whatever else a look
    decided about it is the caller's)."""
    cleared = replace(chunk, looks=0, looked_at=None)
    return replace(
        state.with_chunks(cleared), unchecked=tuple(c for c in state.unchecked if c != chunk.chunk_id)
    )


def note_unknown_jobs(state: ExecutionState, event: StartsReconciled) -> ExecutionState:
    """After a takeover: jobs tagged with this execution that this journal does not hold, and that the
    look did not adopt, are noted once each (never adopted blindly: their chunk is not this journal's)."""
    if not state.takeovers:
        return state
    noted = {job.job_id for record in state.takeovers for job in record.unknown_jobs}
    fresh = {job.job_id: job for job in event.tagged_jobs if job.job_id not in state.jobs}
    unknown = [job for job_id, job in fresh.items() if job_id not in noted]
    if not unknown:
        return state
    last = state.takeovers[-1]
    record = replace(last, unknown_jobs=(*last.unknown_jobs, *unknown))
    state = replace(state, takeovers=(*state.takeovers[:-1], record))
    for job in unknown:
        state = state.noting("unknown job", event.at, "", unknown_job_text(job))
    return state


#: A server of an unchecked chunk, in the progress view's Phase column.
CHECKING_PHASE = "checking DRS's records after the takeover"


def checking_text(state: ExecutionState, chunks: Iterable[ChunkState] | None = None) -> str:
    """The words for the unchecked chunks (all, or ``chunks`` among them): "" when there are none."""
    count = len(
        [c for c in (unchecked_chunks(state) if chunks is None else chunks) if c.chunk_id in state.unchecked]
    )
    if not count:
        return ""
    previous = state.takeovers[-1].previous if state.takeovers else ""
    source = f"desktop {previous}" if previous else "a silent desktop"
    return f"checking DRS's records after taking over from {source}: {count} chunk(s)"


def unknown_job_text(job: TaggedJob) -> str:
    """One line for a job of this execution that this journal does not know."""
    servers = ", ".join(job.server_ids) or "servers unknown"
    chunk = f"chunk {job.chunk_id}" if job.chunk_id else "no chunk tag"
    return (
        f"DRS job {job.job_id} ({chunk}, not in this journal; {servers}): started by the previous "
        "driver after its last push; not adopted, check it in DRS"
    )
