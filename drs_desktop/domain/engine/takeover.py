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
from datetime import datetime, timedelta

from drs_desktop.domain.engine.events import TakenOver
from drs_desktop.domain.engine.reconcile_events import StartsReconciled, TaggedJob
from drs_desktop.domain.engine.state import (
    UNRESOLVED,
    ChunkState,
    ChunkStatus,
    ExecutionState,
    TakeoverRecord,
)

__all__ = [
    "CHECKING_PHASE",
    "TakeoverFacts",
    "awaiting_first_look",
    "checked",
    "checking_text",
    "is_unchecked",
    "note_stray_jobs",
    "note_unknown_jobs",
    "on_taken_over",
    "on_takeover_look",
    "settle_from",
    "settling",
    "settling_anywhere",
    "takeover_event",
    "takeover_look_due",
    "unchecked_chunks",
    "unknown_job_text",
    "without_unchecked",
]

_NEVER_STARTED = (ChunkStatus.PLANNED, ChunkStatus.QUEUED)
#: The least time between two looks made for the takeover's settle alone.
LOOK_AGAIN_AFTER = timedelta(seconds=5)


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


def settling(state: ExecutionState) -> bool:
    """Whether the last takeover's check of DRS's records is not done yet in this view's target: until a
    look's DRS time is past ``settle_from`` plus ``start_settle``, nothing starts there and no retry is
    taken (a retry the silent desktop made after its last push may be running under a job of this
    execution that no chunk here names: only a look finds it, and its servers are kept clear of). A run in
    DRS has nothing to settle: DRS's readings show every job of it, whoever drove it."""
    if not state.takeovers or state.native is not None:
        return False
    record = state.takeovers[-1]
    return not record.journal_complete and state.focus not in record.settled


def settling_anywhere(state: ExecutionState) -> bool:
    """``settling`` in any target of the run (an operator's control is the whole run's)."""
    if not state.takeovers or state.takeovers[-1].journal_complete or state.native is not None:
        return False
    targets = state.spec.targets or (state.focus,)
    return any(t not in state.takeovers[-1].settled for t in targets)


def settle_from(state: ExecutionState) -> datetime:
    """The DRS time this view's target's settle is timed from: its first look's, once there was one
    (a look always comes after the takeover, and its time is DRS's, while the takeover's own time is this
    desktop's clock when DRS's could not be read then); before it, the takeover's."""
    record = state.takeovers[-1]
    first = dict(record.first_looks).get(state.focus)
    return first if first is not None else record.at


def awaiting_first_look(state: ExecutionState) -> bool:
    """This view's target has not had its first look since the takeover (it is due at once)."""
    return settling(state) and state.focus not in dict(state.takeovers[-1].first_looks)


def takeover_look_due(state: ExecutionState) -> datetime | None:
    """When this view's target needs a look for the takeover's own sake (None: no need): at once (the
    run's start: never in the future, whatever this desktop's clock said at the takeover), then once the
    settle has passed, whether or not any chunk is left to check."""
    if not settling(state):
        return None
    record = state.takeovers[-1]
    if state.focus not in dict(record.first_looks):
        return state.spec.started_at
    # A look that just missed the settle (DRS's Date is whole seconds) is not repeated at once.
    last = dict(record.last_looks).get(state.focus, record.at)
    return max(settle_from(state) + state.spec.start_settle, last + LOOK_AGAIN_AFTER)


def on_takeover_look(state: ExecutionState, seen_at: datetime, at: datetime) -> ExecutionState:
    """A look at DRS's records in this view's target while the takeover settles: its first look's time
    is kept (the settle is timed from it); a look past the settle ends the settling there."""
    if not settling(state):
        return state
    record = state.takeovers[-1]
    looks = dict(record.first_looks)
    if state.focus not in looks:
        record = replace(record, first_looks=(*record.first_looks, (state.focus, seen_at)))
    elif seen_at >= settle_from(state) + state.spec.start_settle:
        record = replace(record, settled=(*record.settled, state.focus))
    last = {**dict(record.last_looks), state.focus: at}
    record = replace(record, last_looks=tuple(last.items()))
    return replace(state, takeovers=(*state.takeovers[:-1], record))


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
    # A run in DRS starts no job of its own: DRS's readings show every job it started, whoever drove it.
    if not event.journal_complete and state.native is None:
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
    """After a takeover: jobs tagged with this execution for a chunk this journal does not hold are noted
    once each, and kept clear of (never adopted blindly: their chunk is not this journal's)."""
    if not state.takeovers:
        return state
    noted = {job.job_id for record in state.takeovers for job in record.unknown_jobs}
    fresh = {
        job.job_id: job
        for job in event.tagged_jobs
        if job.job_id not in state.jobs and job.chunk_id not in state.chunks
    }
    unknown = [job for job_id, job in fresh.items() if job_id not in noted]
    if not unknown:
        return state
    last = state.takeovers[-1]
    record = replace(last, unknown_jobs=(*last.unknown_jobs, *unknown))
    state = replace(state, takeovers=(*state.takeovers[:-1], record))
    for job in unknown:
        state = _keep_clear_of(state, job)
        state = state.noting("unknown job", event.at, "", unknown_job_text(job))
    return state


def note_stray_jobs(state: ExecutionState, event: StartsReconciled) -> ExecutionState:
    """After a look: a job of this execution that names a chunk this journal has, but that the look did
    not adopt and this journal does not follow (an attempt of that chunk the silent desktop made after
    its last push), is kept clear of like an unknown one: its servers are never launched again here."""
    if not state.takeovers:
        return state
    noted = {job.job_id for record in state.takeovers for job in record.unknown_jobs}
    stray = [
        job
        for job in event.tagged_jobs
        if job.job_id not in state.jobs
        and job.job_id not in noted
        and job.chunk_id in state.chunks
        and not _to_be_looked_at(state, state.chunks[job.chunk_id])  # its own look may adopt it
    ]
    stray = list({job.job_id: job for job in stray}.values())
    if not stray:
        return state
    last = state.takeovers[-1]
    state = replace(
        state, takeovers=(*state.takeovers[:-1], replace(last, unknown_jobs=(*last.unknown_jobs, *stray)))
    )
    for job in stray:
        state = _keep_clear_of(state, job)
        state = state.noting("unknown job", event.at, "", unknown_job_text(job))
    return state


def _to_be_looked_at(state: ExecutionState, chunk: ChunkState) -> bool:
    """An unresolved or unchecked chunk: a job tagged with it is its own, adopted by its look."""
    return chunk.status in UNRESOLVED or chunk.chunk_id in state.unchecked


def _keep_clear_of(state: ExecutionState, job: TaggedJob) -> ExecutionState:
    """Never launch again what an unknown job of this execution holds: its servers here are marked with it
    (``foreign_job_id``: a retry refuses them, whatever this journal says of them now), and its wave's
    next chunk number passes the job's, so that a chunk this desktop makes never carries the tag of a job
    it did not start (a later look would adopt that job as its own)."""
    wave_index, seq = _chunk_number(job.chunk_id)
    if wave_index is not None and 0 <= wave_index < len(state.waves):
        wave = state.waves[wave_index]
        if wave.next_chunk_seq <= seq:
            state = state.with_wave(replace(wave, next_chunk_seq=seq + 1))
    held = [
        replace(state.servers[s], foreign_job_id=job.job_id)
        for s in job.server_ids
        if s in state.servers and state.servers[s].foreign_job_id is None
    ]
    return state.with_servers(*held) if held else state


def _chunk_number(chunk_id: str) -> tuple[int | None, int]:
    """``"2.3"`` (``state.chunk_id_for``) as (wave index 1, seq 3); (None, 0) for any other tag."""
    wave, _, seq = chunk_id.partition(".")
    if not (wave.isdigit() and seq.isdigit()) or int(wave) < 1:
        return None, 0
    return int(wave) - 1, int(seq)


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
        "driver after its last push; not adopted, and its servers are not launched again from here: "
        "check it in DRS"
    )
