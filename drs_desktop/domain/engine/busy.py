"""A server busy in another job: wait for it, look again on a timer, never spend start attempts on it.

Real DRS jobs last 12 to 31 minutes, and a server can sit all that time in a job someone else started
(the console, another tool, a colleague's drill still converting); StartRecovery answers
ConflictException meanwhile (reference §12.10, §12.13). Retrying in seconds only fails the server. So:

- A ConflictException is a definite refusal (nothing launched) that says "a server is busy"
  (``StartFailed.busy``, set by the runner): the chunk goes back to the queue without spending a start
  attempt (``on_conflict``) and is not started again before a look at the account's jobs
  (``ExternalLoad``) says which job holds which server.
- A look that names a holder keeps the chunk queued (``chunking.admit`` skips busy servers) and records
  the holder on each waiting server (``ServerState.held_by``: job, since when, initiatedBy, tags). A look
  after a Conflict that names no holder spends one attempt (``conflicts_unexplained``; the reducer
  queues the chunk again with a backoff, or fails it at the limit): the attempt limit stays for real
  refusals, so a Conflict that keeps coming with nothing holding the servers still ends.
- A holder tagged as this execution's job for the very chunk is a launch reconcile did not find: the
  chunk becomes UNCERTAIN and reconcile, which comes before every start, adopts the job
  (``missed_launches``). Any other job of this execution that DRS lists as active is a holder like any
  other (``drs.observations.external_load`` counts it): a chunk never starts while one of its servers is
  in one of this execution's own active jobs.
- While any chunk waits for busy servers or for quota (``waiting_chunks``), the account's jobs are read
  again on a timer, ``LOAD_LOOK_INITIAL`` doubling to ``LOAD_LOOK_MAX`` and jittered from the
  execution's seed (a replay rebuilds the same times), whether or not the run has jobs of its own to
  poll (``load_look_due``). The chunk starts at the first look that finds its servers free.
- The wave's timeout does not count the time its waiting servers were held by other jobs
  (``WaveState.held_intervals``, read by ``queries.wave_deadline``). Why: the timeout says "DRS did not
  launch this wave's servers in time"; an operator who gave a wave 30 minutes does not expect a
  colleague's 25-minute drill to use them up, nor a wave to time out without DRS ever having been free
  to start it. The holder is shown all the while (progress view, ``executions show``, the report), and
  the operator can skip the wave or cancel; a holder that never ends is the operator's call, not a
  timeout's.

Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from drs_desktop.domain.engine.chunking import Candidate, admit
from drs_desktop.domain.engine.commands import TAG_CHUNK, TAG_EXECUTION
from drs_desktop.domain.engine.events import ExternalLoad, HoldingJob
from drs_desktop.domain.engine.polling import jitter
from drs_desktop.domain.engine.queries import is_held, may_launch, own_load, wave_deadline
from drs_desktop.domain.engine.state import (
    ChunkState,
    ChunkStatus,
    ExecutionState,
    ServerState,
    ServerStatus,
    WavePhase,
)
from drs_desktop.domain.engine.takeover import is_unchecked

#: The first look again at the account's jobs after one that left a chunk waiting; each next one waits
#: twice as long, up to ``LOAD_LOOK_MAX`` (so a freed server waits at most that long for its start).
LOAD_LOOK_INITIAL = timedelta(seconds=30)
LOAD_LOOK_MAX = timedelta(minutes=5)
#: The look timer is jittered down by at most this fraction of its step (never past the maximum).
LOAD_LOOK_JITTER = 0.2
CONFLICT = "ConflictException"
#: What a waiting server shows before a look named the job DRS's Conflict was about.
UNKNOWN_HOLDER = HoldingJob(job_id="")


# -- which chunks wait, and when to look again


def may_wait(state: ExecutionState, chunk: ChunkState) -> bool:
    """Whether a refused chunk may wait in the queue (its wave goes on, the run too)."""
    wave = state.waves[chunk.wave_index]
    return wave.phase is not WavePhase.SKIPPED and state.stop is None and state.finished is None


def startable(state: ExecutionState, now: datetime) -> list[ChunkState]:
    """QUEUED chunks that may start now as far as their own pacing goes, oldest wave first: not past
    their wave's timeout, past their ``not_before``, no Conflict waiting for a look, the run not paused,
    stopping or held (but for a retry)."""
    held = is_held(state)
    chunks = []
    for chunk in state.chunks.values():
        if chunk.status is not ChunkStatus.QUEUED or chunk.conflict_at is not None:
            continue
        if is_unchecked(state, chunk.chunk_id):
            continue  # a takeover's: DRS's records first (``engine.takeover``)
        wave = state.waves[chunk.wave_index]
        if wave.phase is WavePhase.SKIPPED or not may_launch(state, chunk, held):
            continue
        deadline = wave_deadline(state, wave, now)
        if deadline is not None and now >= deadline:
            continue  # verify first; the queued servers will be failed as timed out
        if chunk.not_before is not None and now < chunk.not_before:
            continue
        chunks.append(chunk)
    return sorted(chunks, key=lambda c: (c.wave_index, c.seq))


def admitted(state: ExecutionState, chunks: Iterable[ChunkState]) -> tuple[str, ...]:
    """The chunks (IDs) that fit beside everything active in the account now."""
    candidates = [Candidate(c.chunk_id, c.server_ids) for c in chunks]
    return admit(candidates, own_load(state), state.spec.limits)


def waiting_chunks(state: ExecutionState, now: datetime) -> tuple[ChunkState, ...]:
    """Queued chunks held back by the account's load: a Conflict not looked into yet, or servers busy
    in another job, or no quota left. (Pacing, a pause or a hold are not the account's load.)"""
    if state.finished is not None or state.stop is not None:
        return ()
    conflicts = [
        c
        for c in state.chunks.values()
        if c.status is ChunkStatus.QUEUED and c.conflict_at is not None and may_wait(state, c)
    ]
    ready = startable(state, now)
    fits = set(admitted(state, ready))
    return (*conflicts, *(c for c in ready if c.chunk_id not in fits))


def look_delay(state: ExecutionState) -> timedelta:
    """The gap after the last look, from how many looks in a row left a chunk waiting."""
    looks = max(1, state.load_looks)
    step = min(LOAD_LOOK_MAX, LOAD_LOOK_INITIAL * 2 ** min(looks - 1, 20))
    return step * (1.0 - LOAD_LOOK_JITTER * jitter(f"{state.spec.jitter_seed}:load", looks))


def load_look_due(state: ExecutionState, now: datetime) -> datetime | None:
    """When the account's jobs must be read again (None: nothing waits for them). A Conflict is
    looked into at once; otherwise the timer runs from the last look."""
    waiting = waiting_chunks(state, now)
    if not waiting:
        return None
    conflicts = [c.conflict_at for c in waiting if c.conflict_at is not None]
    if conflicts or state.load_looked_at is None:
        return min(conflicts, default=now)
    return state.load_looked_at + look_delay(state)


# -- a Conflict


def on_conflict(
    state: ExecutionState, chunk: ChunkState, at: datetime, retry_after: float | None
) -> ExecutionState:
    """DRS refused the start because a server is busy: back to the queue, no attempt spent, and no new
    start before a look at the account's jobs (``load_look_due``)."""
    not_before = at + timedelta(seconds=retry_after) if retry_after else None
    queued = replace(chunk, status=ChunkStatus.QUEUED, reason=CONFLICT, not_before=not_before, conflict_at=at)
    servers = [
        replace(
            state.servers[s],
            status=ServerStatus.PENDING,
            held_by=state.servers[s].held_by if state.servers[s].held_until is None else None,
            held_until=None,
        )
        for s in chunk.server_ids
    ]
    servers = [s if s.held_by is not None else replace(s, held_by=UNKNOWN_HOLDER) for s in servers]
    state = state.with_chunks(queued).with_servers(*servers)
    wave = state.waves[chunk.wave_index]
    return state if wave.held_since is not None else state.with_wave(replace(wave, held_since=at))


# -- a look at the account's jobs


def holders_of(state: ExecutionState, event: ExternalLoad) -> Mapping[str, HoldingJob]:
    """Which job holds which of this execution's servers, by the look. A journal written before holders
    were kept names none, and replays as it ran (no wave's timeout paused for a holder)."""
    return {s: holder for holder in event.holders for s in holder.server_ids if s in state.servers}


def missed_launches(state: ExecutionState, holders: Iterable[HoldingJob]) -> ExecutionState:
    """Queued chunks that a job tagged for them holds: a launch reconcile did not find. They become
    UNCERTAIN, so reconcile adopts the job before anything starts."""
    mine = {
        holder.tags.get(TAG_CHUNK): holder
        for holder in holders
        if holder.tags.get(TAG_EXECUTION) == state.spec.execution_id and holder.job_id not in state.jobs
    }
    for chunk_id, holder in mine.items():
        chunk = state.chunks.get(chunk_id or "")
        if chunk is None or chunk.status is not ChunkStatus.QUEUED or chunk.attempt == 0:
            continue
        reason = f"its own job {holder.job_id} holds its servers: reconciling"
        uncertain = replace(
            chunk, status=ChunkStatus.UNCERTAIN, reason=reason, looks=0, looked_at=None, conflict_at=None
        )
        starting = [replace(state.servers[s], status=ServerStatus.STARTING) for s in chunk.server_ids]
        state = state.with_chunks(uncertain).with_servers(*starting)
    return state


def mark_holders(state: ExecutionState, holders: Mapping[str, HoldingJob], at: datetime) -> ExecutionState:
    """Each waiting server shows the job holding it, or when it was let go."""
    changed: list[ServerState] = []
    for server in state.servers.values():
        holder = holders.get(server.server_id)
        waiting = server.status is ServerStatus.PENDING and _queued(state, server)
        if holder is not None and waiting:
            if server.held_by != holder or server.held_until is not None:
                changed.append(replace(server, held_by=holder, held_until=None))
        elif server.held_by is not None and not server.held_by.job_id and holder is None:
            changed.append(replace(server, held_by=None, held_until=None))  # a Conflict's guess, wrong
        elif server.held_by is not None and server.held_until is None and holder is None:
            changed.append(replace(server, held_until=at))
    return state.with_servers(*changed) if changed else state


def conflicts_unexplained(
    state: ExecutionState, holders: Mapping[str, HoldingJob]
) -> tuple[ExecutionState, list[ChunkState]]:
    """Chunks refused with a Conflict are looked into: explained by a holder, they wait for free; with
    no holder, the caller spends an attempt on them (returned, their Conflict cleared)."""
    unexplained: list[ChunkState] = []
    explained: list[ChunkState] = []
    for chunk in state.chunks.values():
        if chunk.conflict_at is None:
            continue
        cleared = replace(chunk, conflict_at=None)
        busy = chunk.status is ChunkStatus.QUEUED and any(s in holders for s in chunk.server_ids)
        (explained if busy or chunk.status is not ChunkStatus.QUEUED else unexplained).append(cleared)
    return state.with_chunks(*explained, *unexplained), unexplained


def after_look(state: ExecutionState, at: datetime) -> ExecutionState:
    """Bookkeeping of a look: which waves have servers held (their timeout pauses), and the timer's
    backoff (looks in a row that left a chunk waiting)."""
    state = track_held_waves(state, at)
    looks = state.load_looks + 1 if waiting_chunks(state, at) else 0
    return replace(state, load_looked_at=at, load_looks=looks)


def track_held_waves(state: ExecutionState, at: datetime) -> ExecutionState:
    """Open or close each launching wave's held interval from its waiting servers' holders. In a run
    across targets the reducer asks again on the whole state after an event of one target: a look in
    one account must not end the interval of a wave whose servers another account's job holds."""
    for wave in state.waves:
        held = wave.phase is WavePhase.LAUNCHING and any(
            s.held_by is not None and s.held_until is None and s.status is ServerStatus.PENDING
            for s in state.wave_servers(wave.index)
        )
        if held and wave.held_since is None:
            state = state.with_wave(replace(wave, held_since=at))
        elif not held and wave.held_since is not None:
            span = (wave.held_since, max(wave.held_since, at))
            state = state.with_wave(
                replace(wave, held_since=None, held_intervals=(*wave.held_intervals, span))
            )
    return state


def _queued(state: ExecutionState, server: ServerState) -> bool:
    chunk = state.chunks.get(server.chunk_id or "")
    return chunk is not None and chunk.status is ChunkStatus.QUEUED
