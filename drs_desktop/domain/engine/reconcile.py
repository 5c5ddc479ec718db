"""Never launch twice: what DRS's own records mean for a start whose outcome is unknown, and for cleanup.

A StartRecovery whose answer never came (a read timeout, a dropped connection, a 5xx, a crash) may still
be carried out by DRS after the client gave up. So after any unknown outcome the chunk is started again
only once DRS's records prove that no job took its servers:

- the jobs tagged with this execution (``drs-desktop:execution``/``chunk``), and each server's
  ``lifeCycle.lastLaunch.initiated`` (job ID and time), looked at again at growing intervals;
- a job tagged for this chunk, or a last launch whose job carries this chunk's tags, is adopted;
- a last launch newer than the intent from a job without our tags means someone else launched the
  server: it is failed with that job named, never launched again, and a critical one holds the run;
- nothing found: started again only once a look's DRS time is past the intent's DRS time plus
  ``ExecutionSpec.start_settle`` (the client's read timeout plus 5 minutes).

Times are DRS's: the runner's clock follows DRS's ``Date`` header (``aws.drs_clock``), so a desktop clock
hours off, or a laptop that slept, changes none of these decisions.

Cleanup (``InstancesSurveyed``): an instance is terminated only when its job is one of this execution's
(journaled, or tagged with it) and it is a drill instance; every other instance of the same servers is
listed as not ours and left running.

Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from drs_desktop.domain.engine.instances import INSTANCE_LOOKS_MAX, look_gap
from drs_desktop.domain.engine.observe import abandon, adopt_job, fail, not_launched, record_instance
from drs_desktop.domain.engine.polling import after_read_ok
from drs_desktop.domain.engine.queries import unresolved_chunks
from drs_desktop.domain.engine.reconcile_events import (
    InstancesSurveyed,
    LastLaunch,
    StartsReconciled,
    TaggedJob,
)
from drs_desktop.domain.engine.state import (
    UNRESOLVED,
    ChunkState,
    ChunkStatus,
    ExecutionState,
    ForeignInstance,
    ServerStatus,
    WavePhase,
)
from drs_desktop.domain.engine.takeover import (
    awaiting_first_look,
    checked,
    is_unchecked,
    note_stray_jobs,
    note_unknown_jobs,
    on_takeover_look,
    settle_from,
    unchecked_chunks,
)

#: Looks after the first come at doubling intervals, within these bounds.
LOOK_INTERVAL_MIN = timedelta(seconds=5)
LOOK_INTERVAL_MAX = timedelta(minutes=2)
#: Reconcile and cleanup list jobs from this long before the execution started (both in DRS time).
LISTING_MARGIN = timedelta(minutes=5)
#: EC2 states of an instance that is gone or going: nothing to terminate.
_GONE_EC2_STATES = frozenset({"terminated", "shutting-down"})


# -- when to look


def next_look_at(state: ExecutionState, chunk: ChunkState) -> datetime:
    """When the next look at DRS's records for an unresolved or unchecked chunk is due (DRS time). An
    unchecked chunk's first look is due at once: the calls it may have missed were made before the
    takeover (``engine.takeover``), and the takeover's own time may be this desktop's clock."""
    spec = state.spec
    requested = _looks_from(state, chunk)
    if chunk.looks == 0 or chunk.looked_at is None:
        if is_unchecked(state, chunk.chunk_id):
            return spec.started_at if awaiting_first_look(state) else requested
        return requested + spec.reconcile_delay
    doubling = spec.reconcile_delay * (2 ** min(chunk.looks, 16))  # capped: a long outage never overflows
    interval = min(max(doubling, LOOK_INTERVAL_MIN), LOOK_INTERVAL_MAX)
    due = chunk.looked_at + interval
    settle_at = requested + spec.start_settle
    if chunk.looked_at < settle_at:
        # No need to wait past the moment a look can settle it.
        due = min(due, max(settle_at, chunk.looked_at + LOOK_INTERVAL_MIN))
    return due


def _looks_from(state: ExecutionState, chunk: ChunkState) -> datetime:
    """The DRS time a chunk's looks are timed from: its intent's, or for an unchecked chunk the takeover's."""
    if is_unchecked(state, chunk.chunk_id):
        return settle_from(state)
    return chunk.requested_at or state.spec.started_at


def to_look_at(state: ExecutionState) -> tuple[ChunkState, ...]:
    """Chunks DRS's records must settle before they may start: unresolved starts, and the chunks a takeover
    left unchecked (``engine.takeover``)."""
    return (*unresolved_chunks(state), *unchecked_chunks(state))


def unresolved_due(state: ExecutionState, now: datetime) -> tuple[ChunkState, ...]:
    """Unresolved or unchecked chunks whose next look is due at ``now``."""
    return tuple(c for c in to_look_at(state) if next_look_at(state, c) <= now)


def first_look_pending(state: ExecutionState) -> bool:
    """Whether an unresolved or unchecked chunk has not been looked at yet: then nothing else starts (its
    servers' quota and the account's view are unknown until the first look)."""
    return any(c.looks == 0 for c in to_look_at(state))


def listing_since(state: ExecutionState) -> datetime:
    """Where job listings start: before the execution and before every intent it journaled."""
    earliest = min(
        [state.spec.started_at, *(c.requested_at for c in state.chunks.values() if c.requested_at)]
    )
    return earliest - LISTING_MARGIN


# -- what a look means


def on_starts_reconciled(state: ExecutionState, event: StartsReconciled) -> ExecutionState:
    state = replace(state, poll=after_read_ok(state.poll))
    last = {launch.server_id: launch for launch in event.last_launches}
    seen_at = event.drs_time or event.at
    # A takeover's settle is timed from its first look (engine.takeover); the servers of a job this
    # journal does not know are never launched again.
    state = on_takeover_look(state, seen_at, event.at)
    state = note_stray_jobs(note_unknown_jobs(state, event), event)
    for chunk_id in event.chunk_ids:
        chunk = state.chunks.get(chunk_id)
        if chunk is not None and is_unchecked(state, chunk_id):
            state = _look_unchecked(state, chunk, event, last)
            continue
        if chunk is None or chunk.status not in UNRESOLVED:
            continue
        job_id = _own_job(state, chunk, event.tagged_jobs, last)
        if job_id is not None:
            state = adopt_job(state, chunk, job_id, event.at)
            continue
        foreign = _foreign_launches(state, chunk, last)
        if foreign:
            state = _hold_foreign(state, chunk, foreign, event.at)
            continue
        requested = chunk.requested_at or state.spec.started_at
        if seen_at >= requested + state.spec.start_settle:
            reason = "not launched (no job in DRS's records)"
            state = not_launched(state, chunk, reason, event.at, True, None)
        else:
            state = state.with_chunks(replace(chunk, looks=chunk.looks + 1, looked_at=event.at))
    return state


def _look_unchecked(
    state: ExecutionState, chunk: ChunkState, event: StartsReconciled, last: Mapping[str, LastLaunch]
) -> ExecutionState:
    """A look at a chunk this journal shows never started, after a takeover (``engine.takeover``): its
    job is adopted; nothing found once settled, it stays what it was (no failure, no attempt spent)."""
    job_id = _own_job(state, chunk, event.tagged_jobs, last)
    if job_id is not None:
        state = checked(state, chunk)
        state = adopt_job(state, state.chunks[chunk.chunk_id], job_id, event.at)
        return state.noting("adopted after takeover", event.at, "", f"chunk {chunk.chunk_id}: job {job_id}")
    seen_at = event.drs_time or event.at
    if seen_at < settle_from(state) + state.spec.start_settle:
        return state.with_chunks(replace(chunk, looks=chunk.looks + 1, looked_at=event.at))
    state = checked(state, chunk)
    chunk = state.chunks[chunk.chunk_id]
    wave = state.waves[chunk.wave_index]
    if wave.phase is WavePhase.SKIPPED:
        return abandon(state, (chunk,), ServerStatus.SKIPPED, "its wave was skipped")
    if state.stop is not None:
        reason = f"not started: the execution was {state.stop.reason}"
        return abandon(state, (chunk,), ServerStatus.CANCELLED, reason)
    return _refuse_held(state, chunk, event.at)


def _refuse_held(state: ExecutionState, chunk: ChunkState, at: datetime) -> ExecutionState:
    """A chunk to start after a takeover whose servers include one that a job this journal does not know
    holds (``engine.takeover``): not started at all, since starting it would launch that server again;
    its other servers can be retried on their own."""
    held = [state.servers[s] for s in chunk.server_ids if state.servers[s].foreign_job_id is not None]
    if not held:
        return state
    detail = ", ".join(f"{s.server_id} in job {s.foreign_job_id}" for s in held)
    refused = replace(
        chunk, status=ChunkStatus.START_FAILED, reason=f"held by jobs this run does not follow: {detail}"
    )
    servers = []
    for server_id in chunk.server_ids:
        server = state.servers[server_id]
        if server.foreign_job_id is None:
            message = (
                "not launched: another server of its DRS job is in a job the desktop this run was taken "
                "over from started; check DRS, then retry it"
            )
        else:
            message = (
                f"in DRS job {server.foreign_job_id}, which the desktop this run was taken over from "
                "started after its last push: not launched again; check it in DRS, then skip the wave "
                "or cancel"
            )
        servers.append(fail(server, message, at))
    return state.with_chunks(refused).with_servers(*servers).noting("held after takeover", at, "", detail)


def _own_job(
    state: ExecutionState,
    chunk: ChunkState,
    tagged: tuple[TaggedJob, ...],
    last: Mapping[str, LastLaunch],
) -> str | None:
    """A job not yet known that carries this chunk's tags: from the listing (newest first), else from a
    server's last launch."""
    for job in tagged:
        if job.chunk_id == chunk.chunk_id and job.job_id not in state.jobs:
            return job.job_id
    execution_id = state.spec.execution_id
    for server_id in chunk.server_ids:
        launch = last.get(server_id)
        if (
            launch is not None
            and launch.job_id not in state.jobs
            and launch.execution_id == execution_id
            and launch.chunk_id == chunk.chunk_id
        ):
            return launch.job_id
    return None


def _foreign_launches(
    state: ExecutionState, chunk: ChunkState, last: Mapping[str, LastLaunch]
) -> list[LastLaunch]:
    """Last launches of the chunk's servers, newer than the intent, by a job that is not this chunk's.

    A launch with no time, or at the intent's very time, is counted as newer: holding is safe, launching
    again is not (the intent's time is never later than DRS's, see ``aws.drs_clock``).
    """
    requested = chunk.requested_at or state.spec.started_at
    found = []
    for server_id in chunk.server_ids:
        launch = last.get(server_id)
        if launch is None or launch.job_id in state.jobs:
            continue
        if launch.initiated_at is not None and launch.initiated_at < requested:
            continue
        found.append(launch)
    return found


def _hold_foreign(
    state: ExecutionState, chunk: ChunkState, foreign: list[LastLaunch], at: datetime
) -> ExecutionState:
    """Someone else launched these servers after this run asked DRS to: never launch them again."""
    by_server = {launch.server_id: launch for launch in foreign}
    detail = ", ".join(f"{launch.server_id} by job {launch.job_id}" for launch in foreign)
    refused = replace(chunk, status=ChunkStatus.START_FAILED, reason=f"launched outside this run: {detail}")
    servers = []
    for server_id in chunk.server_ids:
        server = state.servers[server_id]
        launch = by_server.get(server_id)
        if launch is None:
            message = (
                "not launched: another server of its DRS job was launched outside this run; "
                "check DRS, then retry it"
            )
            servers.append(fail(server, message, at))
            continue
        when = launch.initiated_at.isoformat() if launch.initiated_at else "an unknown time"
        message = (
            f"launched by DRS job {launch.job_id} at {when}, which this run did not start, after this run "
            "asked DRS to start it: not launched again; check it in DRS, then skip the wave or cancel"
        )
        servers.append(replace(fail(server, message, at), foreign_job_id=launch.job_id))
    return (
        state.with_chunks(refused).with_servers(*servers).noting("launched outside this run", at, "", detail)
    )


# -- cleanup


def on_instances_surveyed(state: ExecutionState, event: InstancesSurveyed) -> ExecutionState:
    """One look of a cleanup at DRS's records. DescribeRecoveryInstances lists a new instance late
    (reference §12.14), so an instance of ours it does not list is not yet taken as gone: while a job of
    this execution shows a server LAUNCHED whose instance DRS does not list (and no newer launch of the
    server replaced it), cleanup looks again, backing off, up to ``INSTANCE_LOOKS_MAX`` looks; at the
    last one, what is still not listed is gone (or, never seen, said not found)."""
    looks = state.survey_looks + 1
    final = looks >= INSTANCE_LOOKS_MAX
    listing = _Listing.of(event)
    state = replace(state, poll=after_read_ok(state.poll), cleanup_surveyed=True)
    state = _mark_gone(state, listing, event.at, final)
    own_jobs = set(state.jobs) | {job.job_id for job in event.tagged_jobs}
    foreign: dict[str, ForeignInstance] = dict(state.foreign_instances)
    for found in event.instances:
        if found.server_id not in state.servers or found.ec2_state.lower() in _GONE_EC2_STATES:
            continue
        reason = _not_ours(state, found.job_id, found.is_drill, own_jobs)
        if reason is None and found.job_id is not None:
            state = record_instance(
                state,
                found.server_id,
                found.job_id,
                found.recovery_instance_id,
                found.ec2_instance_id,
                event.at,
                own_jobs=own_jobs,
            )
        elif reason is not None and found.recovery_instance_id not in state.instances:
            foreign[found.recovery_instance_id] = ForeignInstance(
                recovery_instance_id=found.recovery_instance_id,
                server_id=found.server_id,
                job_id=found.job_id,
                reason=reason,
                ec2_instance_id=found.ec2_instance_id,
            )
    state = replace(state, foreign_instances=foreign)
    unlisted = _unlisted(state, event, listing)
    if unlisted and not final:
        again = event.at + look_gap(state.spec.jitter_seed, "survey", looks)
        return replace(
            state, cleanup_surveyed=False, survey_looks=looks, survey_again_at=again, survey_unfound=unlisted
        )
    return replace(state, survey_looks=looks, survey_again_at=None, survey_unfound=unlisted)


@dataclass(frozen=True)
class _Listing:
    """What one survey saw: each listed instance's ID, the jobs of each server's listed instances, and
    when each of this execution's tagged jobs was created."""

    instance_ids: frozenset[str]
    jobs_by_server: Mapping[str, tuple[str | None, ...]]
    created: Mapping[str, datetime | None]

    @staticmethod
    def of(event: InstancesSurveyed) -> _Listing:
        alive = [i for i in event.instances if i.ec2_state.lower() not in _GONE_EC2_STATES]
        jobs: dict[str, tuple[str | None, ...]] = {}
        for found in alive:
            jobs[found.server_id] = (*jobs.get(found.server_id, ()), found.job_id)
        return _Listing(
            instance_ids=frozenset(i.recovery_instance_id for i in alive),
            jobs_by_server=jobs,
            created={job.job_id: job.created_at for job in event.tagged_jobs},
        )

    def replaced(self, server_id: str, job_id: str) -> bool:
        """DRS lists an instance of the server from a newer launch (one whose age is not known, such as
        another tool's, is taken as newer), which replaced the one ``job_id`` launched."""
        ours = self.created.get(job_id)
        for other in self.jobs_by_server.get(server_id, ()):
            if other == job_id:
                continue
            when = self.created.get(other) if other is not None else None
            if ours is None or when is None or when > ours:
                return True
        return False

    def lists(self, server_id: str, job_id: str) -> bool:
        return job_id in self.jobs_by_server.get(server_id, ())


def _mark_gone(state: ExecutionState, listing: _Listing, at: datetime, final: bool) -> ExecutionState:
    """Instances of this execution DRS no longer lists, or lists as terminated: nothing to terminate.
    Not listed is gone only once a newer launch replaced it, or at the last look (DRS lists late)."""
    gone = [
        replace(
            i,
            gone_at=at,
            terminate_error="no longer in DRS: replaced by a later launch of its server, or terminated "
            "outside this app",
        )
        for i in state.instances.values()
        if i.terminated_at is None
        and i.gone_at is None
        and i.recovery_instance_id not in listing.instance_ids
        and (final or listing.replaced(i.server_id, i.job_id))
    ]
    return state.with_instances(*gone) if gone else state


def _unlisted(
    state: ExecutionState, event: InstancesSurveyed, listing: _Listing
) -> tuple[tuple[str, str], ...]:
    """(server, job) of instances of ours DRS has not listed yet: a known one it does not list, or one a
    job of this execution shows LAUNCHED that the run never recorded; neither replaced since."""
    recorded = {(i.server_id, i.job_id) for i in state.instances.values()}
    known = {
        (i.server_id, i.job_id)
        for i in state.instances.values()
        if i.terminated_at is None
        and i.gone_at is None
        and i.recovery_instance_id not in listing.instance_ids
    }
    launched = {
        (server_id, job.job_id)
        for job in event.tagged_jobs
        for server_id in job.launched_server_ids
        if server_id in state.servers
        and (server_id, job.job_id) not in recorded
        and not listing.lists(server_id, job.job_id)
        and not listing.replaced(server_id, job.job_id)
    }
    return tuple(sorted(known | launched))


def _not_ours(
    state: ExecutionState, job_id: str | None, is_drill: bool | None, own_jobs: set[str]
) -> str | None:
    """Why an instance of one of the execution's servers is not this drill's to terminate (None: it is)."""
    if job_id is None:
        return "DRS names no job for it"
    if job_id not in own_jobs:
        return f"launched by job {job_id}, not by this execution"
    if is_drill is False or not state.is_drill:
        return "a recovery instance, not a drill's"
    return None
