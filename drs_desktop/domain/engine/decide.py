"""The orchestration engine: ``decide(state, now) -> commands``. Pure; every rule about *what to do next*.

The runner contract (services.ExecutionRunner):
1. ``state = initial_state(spec)`` for a new run. To reopen an unfinished one (after a crash or an app
   restart): ``state = reducer.replay(spec, journal)``, then journal and apply ``RunnerRestarted``.
2. Loop: ``commands = decide(state, now)``. Execute the commands in order; for each, journal the events
   its docstring names (an intent such as ``StartRequested`` *before* the call, the result right after)
   and ``apply`` each event before the next command. ``Record(event)``: journal and apply ``event``.
   What an answer means beyond its facts (the account's load, post-launch results, which log items are
   new) is derived by ``domain.drs.observations`` from the typed answer; the runner journals what it returns.
3. A decision holds for the state it was made on: once an executed command's events changed the state,
   the runner executes none of the decision's remaining commands and decides again at once. So a call
   that was throttled or failed (``poll.not_before`` in the future) holds every later call, and a start
   whose outcome became unknown holds every later start, by the engine's own rules, not the runner's.
   If any command was executed (anything but ``WakeAt`` and ``AwaitApproval``), decide again at once.
   Otherwise wait until ``WakeAt.at`` or an operator control (checked with ``reducer.control_error``,
   journaled, applied), then decide again. ``AwaitApproval`` is shown to the operator, not executed.
4. The runner is serial and never calls ``decide`` while a call is in flight. Hence a chunk still
   START_REQUESTED when ``decide`` runs has an unknown outcome (a crash between intent and result) and is
   treated exactly like UNCERTAIN, even if ``RunnerRestarted`` was not journaled: reconcile it first.

Safety rules, each enforced here and nowhere else:
- While any chunk is unresolved (START_REQUESTED / UNCERTAIN), emit ``Reconcile`` (first no earlier than
  ``reconcile_delay`` after the call, so DRS's listing has caught up, then at doubling intervals) and no
  ``StartJob`` before its first look; an unresolved chunk itself is started again only once a look's DRS
  time is past the intent's plus ``start_settle`` with no job found (``domain.engine.reconcile``).
- After a takeover from a silent desktop (``TakenOver``, ``domain.engine.takeover``), every chunk the
  synced journal shows never started is unchecked: looked at like an unresolved one (the first look at
  once, no ``StartJob`` at all before it), never started while unchecked, adopted when a job tagged with
  it is found, and free to start, with no failure counted, only once a look's DRS time is past the
  takeover's plus ``start_settle`` with nothing found.
- After such a takeover nothing starts in a target, and no retry is taken, until a look at its DRS
  records has a DRS time past the takeover's (or its first look's, when later) plus ``start_settle``,
  whether or not a chunk was left unchecked: a job of this execution that no chunk here follows (a retry
  the silent desktop made) is found only so, and its servers are then never launched again from here.
- ``StartJob`` only for QUEUED chunks admitted by ``engine.chunking.admit`` against this run's active jobs,
  the unresolved chunks and the external load: quota errors are avoided, not handled. Never while paused,
  stopping, throttled, or once the wave's timeout passed; while held, only the retries the operator
  asked for.
- A wave past its timeout gets ``VerifyJobs`` first; only the answer may fail its servers.
- ``TerminateInstances`` only for a drill, only for instances recorded from this run's own jobs (journaled,
  or found tagged with it by the cleanup's ``SurveyInstances``, which comes first), and only once no
  launch is in flight and no instance lookup is pending (``engine.instances``: bounded looks for the
  instances DRS did not name). Its TERMINATE job is followed to its end (``engine.terminations``); a
  termination a crash cut off is looked up (``ReconcileTerminations``) before it is asked again.
- ``Finish`` once nothing is in flight (every DRS job of the run has ended, or was left running after the
  grace of ``engine.grace``, and every instance lookup is done, so the evidence and the list of drill
  instances are complete) and the outcome is known, until ``ExecutionFinished`` is recorded. After that,
  ``decide`` only cleans up when asked.

Where the other rules live: DRS quotas and splitting waves into jobs in ``engine.chunking``; how waves move
(dependencies, approvals, waits, completion) in ``engine.waves``; what a DRS answer means for a chunk
or a server in ``engine.observe``; operator controls in ``engine.reducer``; shared questions (held?
settled? deadline?) in ``engine.queries``; poll pacing and backoff in ``engine.polling``; the snapshot for
a point in time in ``engine.recovery_point``; the evidence report in ``views.evidence``; a drill into
the drill network (templates pointed before a chunk starts, restored before the run finishes) in
``engine.drill_net``; a wave's automation steps (health checks, SSM, Lambda, scripts) in
``engine.automation``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from drs_desktop.domain.engine import automation, drill_net, native
from drs_desktop.domain.engine.accounts import in_target, views
from drs_desktop.domain.engine.busy import admitted, load_look_due, startable
from drs_desktop.domain.engine.commands import (
    Command,
    FetchJobLog,
    FindRecoveryInstances,
    Finish,
    PollJobs,
    Reconcile,
    ReconcileTerminations,
    Record,
    SizeExternalLoad,
    StartJob,
    SurveyInstances,
    TerminateInstances,
    VerifyJobs,
    WakeAt,
    job_tags,
)
from drs_desktop.domain.engine.events import JobsLeftRunning, JobsVerified, Outcome, Tick
from drs_desktop.domain.engine.grace import grace_expired, jobs_in_flight, next_grace_end
from drs_desktop.domain.engine.instance_events import InstancesNotFound
from drs_desktop.domain.engine.instances import (
    lookups_due,
    lookups_exhausted,
    lookups_pending,
    next_lookup_at,
)
from drs_desktop.domain.engine.polling import poll_due_at
from drs_desktop.domain.engine.queries import (
    SATISFIED_PHASES,
    is_held,
    jobs_to_poll,
    launch_blocked,
    may_launch,
    may_progress,
    pending_approvals,
    server_settled,
    unresolved_chunks,
    unsettled_servers,
    wave_deadline,
)
from drs_desktop.domain.engine.reconcile import (
    LISTING_MARGIN,
    first_look_pending,
    listing_since,
    next_look_at,
    to_look_at,
    unresolved_due,
)
from drs_desktop.domain.engine.state import (
    UNRESOLVED,
    ChunkState,
    ChunkStatus,
    ExecutionState,
    InstanceRecord,
    ServerState,
    ServerStatus,
    WavePhase,
)
from drs_desktop.domain.engine.takeover import (
    is_unchecked,
    settling,
    takeover_look_due,
    unchecked_chunks,
)
from drs_desktop.domain.engine.terminations import (
    awaiting_termination,
    terminate_jobs_to_poll,
    terminate_logs_due,
    terminations_in_flight,
    unresolved_terminations,
)
from drs_desktop.domain.engine.waves import settle, wait_until

logger = logging.getLogger(__name__)

#: TerminateRecoveryInstances takes at most this many IDs.
MAX_TERMINATE_IDS = 200
#: How far back to look for jobs of other tools when sizing the account's load.
EXTERNAL_LOAD_WINDOW = timedelta(days=2)


def decide(state: ExecutionState, now: datetime) -> tuple[Command, ...]:
    """What the runner must do now, then at most one trailing ``WakeAt`` (see the module docstring)."""
    if state.finished is not None:
        return _after_finish(state, now)
    if settle(state, now) is not state:
        return (Record(event=Tick(at=now)),)  # time moved a wave on: record that first
    if state.native is not None:
        return _decide_native(state, now)
    # Each DRS target's calls are decided from its own view (``engine.accounts``); a run of one target
    # has one view, the state itself.
    parts = views(state, is_held(state))
    commands: list[Command] = [
        *_each(parts, now, _reconcile, _verify, _poll, _size_load, _fetch_logs, _find_instances),
        *_approvals(state),
        *automation.decide_automation(state, now, may_progress(state)),
        *_left_running(state, now),
        *_each(parts, now, _starts, drill_net.restore_commands),
        *_each(parts, now, _survey, _reconcile_terminations, _terminations),
    ]
    outcome = finish_outcome(state)
    if outcome is not None:
        commands.append(Finish(outcome=outcome))
    wakes = [wake for _, part in parts if (wake := _wake_at(part, now)) is not None]
    if wakes:
        commands.append(WakeAt(at=min(wakes)))
    return tuple(commands)


def _decide_native(state: ExecutionState, now: datetime) -> tuple[Command, ...]:
    """A run in DRS (``engine.native``): DRS starts the jobs; the desktop starts the execution, sends the
    operator's controls, reads it, and follows its jobs, their instances and a drill's cleanup as for a
    local run."""
    parts = views(state, is_held(state))
    commands: list[Command] = [
        *native.decide_native(state, now),
        *_each(parts, now, _poll, _fetch_logs, _find_instances),
        *_left_running(state, now),
        *_each(parts, now, _survey, _reconcile_terminations, _terminations),
    ]
    outcome = native.finish_outcome(state)
    if outcome is not None and not (state.stop is not None and any(_cleanup_pending(p) for _, p in parts)):
        commands.append(Finish(outcome=outcome))
    wakes = [wake for _, part in parts if (wake := _wake_at(part, now)) is not None]
    wake = native.native_wake_at(state, now)
    if wake is not None:
        wakes.append(wake)
    if wakes:
        commands.append(WakeAt(at=min(wakes)))
    return tuple(commands)


def _each(
    parts: list[tuple[str, ExecutionState]],
    now: datetime,
    *deciders: Callable[[ExecutionState, datetime], list[Command]],
) -> list[Command]:
    """What each target's view asks for, target by target, each command marked with its target."""
    return [
        in_target(command, target)
        for target, part in parts
        for decider in deciders
        for command in decider(part, now)
    ]


def _after_finish(state: ExecutionState, now: datetime) -> tuple[Command, ...]:
    """A finished execution only cleans up (when asked), following its TERMINATE jobs to their end; no
    Finish again."""
    parts = views(state, False)
    commands = _each(parts, now, _reconcile_terminations, _poll, _fetch_logs, _survey, _terminations)
    if not commands:
        times = [
            t
            for _, part in parts
            if _cleanup_pending(part)
            for t in (next_poll_at(part, now), part.poll.not_before, _survey_again_at(part))
            if t is not None and t > now
        ]
        if times:
            commands.append(WakeAt(at=min(times)))
    return tuple(commands)


def _watched_jobs(state: ExecutionState) -> tuple[str, ...]:
    """Every job one DescribeJobs follows: the launch jobs, and this execution's TERMINATE jobs."""
    return (*jobs_to_poll(state), *terminate_jobs_to_poll(state))


def next_poll_at(state: ExecutionState, now: datetime) -> datetime | None:
    """When the next DescribeJobs is due (adaptive, or fixed with ``--poll-interval``); None: no job to
    watch."""
    if not _watched_jobs(state):
        return None
    return poll_due_at(state.spec.polling, state.poll, now)


def _reads_allowed(state: ExecutionState, now: datetime) -> bool:
    """Throttling or a failed read holds every call until ``not_before``; refused credentials hold
    every call to the account until they are renewed (``engine.accounts``)."""
    if state.auth_problem:
        return False
    return state.poll.not_before is None or now >= state.poll.not_before


# -- crash safety


def _reconcile_due(state: ExecutionState) -> datetime | None:
    chunks = to_look_at(state)
    times = [next_look_at(state, c) for c in chunks]
    takeover = takeover_look_due(state)
    if takeover is not None:
        times.append(takeover)
    if not times:
        return None
    due = min(times)
    if state.poll.not_before is not None:
        due = max(due, state.poll.not_before)
    return due


def _reconcile(state: ExecutionState, now: datetime) -> list[Command]:
    """Look at DRS's records for unresolved starts and for the chunks a takeover left unchecked
    (``domain.engine.reconcile`` says what a look decides)."""
    due = _reconcile_due(state)
    if due is None or now < due or state.auth_problem:
        return []
    chunks = unresolved_due(state, now) or to_look_at(state)
    return [
        Reconcile(
            chunk_ids=tuple(c.chunk_id for c in chunks),
            since=listing_since(state),
            server_ids=tuple(s for c in chunks for s in c.server_ids),
        )
    ]


# -- watching


def _verify(state: ExecutionState, now: datetime) -> list[Command]:
    commands: list[Command] = []
    for wave in state.waves:
        deadline = wave_deadline(state, wave, now)
        if deadline is None or now < deadline:
            continue
        waiting = [s for s in unsettled_servers(state, wave.index) if not _starting(state, s)]
        if not waiting:
            continue
        job_ids = tuple(sorted({s.job_id for s in waiting if s.job_id and not state.jobs[s.job_id].gone}))
        if not job_ids:
            commands.append(Record(event=JobsVerified(wave_index=wave.index, jobs=(), at=now)))
        elif _reads_allowed(state, now):
            commands.append(VerifyJobs(wave_index=wave.index, job_ids=job_ids))
    return commands


def _starting(state: ExecutionState, server: ServerState) -> bool:
    """Its chunk's start is unresolved, or a takeover left it unchecked: DRS's records come first."""
    if server.chunk_id is None:
        return False
    return state.chunks[server.chunk_id].status in UNRESOLVED or is_unchecked(state, server.chunk_id)


def _poll(state: ExecutionState, now: datetime) -> list[Command]:
    due = next_poll_at(state, now)
    if due is None or now < due or state.auth_problem:
        return []
    return [PollJobs(job_ids=_watched_jobs(state))]


def _load_look_due(state: ExecutionState, now: datetime) -> datetime | None:
    """While chunks wait for busy servers or quota, the look timer of ``engine.busy`` (after the first
    look at every unknown start: reconcile comes first)."""
    return None if first_look_pending(state) else load_look_due(state, now)


def _size_load(state: ExecutionState, now: datetime) -> list[Command]:
    """Jobs of other tools count against the account's quotas and hold their servers: size them after a
    poll that saw queued chunks, and on a backing-off timer while chunks wait for them (``engine.busy``),
    whether or not this run has jobs of its own to poll."""
    if not _reads_allowed(state, now):
        return []
    due = _load_look_due(state, now)
    if not state.load_due and (due is None or now < due):
        return []
    return [SizeExternalLoad(since=now - EXTERNAL_LOAD_WINDOW)]


def _fetch_logs(state: ExecutionState, now: datetime) -> list[Command]:
    """A job's log only when its status or a server's launch status changed since the last fetch."""
    if not _reads_allowed(state, now):
        return []
    launches = [FetchJobLog(job_id=j.job_id) for j in state.jobs.values() if j.version > j.log_version]
    return [*launches, *(FetchJobLog(job_id=job_id) for job_id in terminate_logs_due(state))]


def _lookups_pending(state: ExecutionState) -> tuple[str, ...]:
    """Servers whose recovery instance is still looked for (``engine.instances``, reference §12.5)."""
    return lookups_pending(state)


def _find_instances(state: ExecutionState, now: datetime) -> list[Command]:
    """Look again for the instances DRS did not name, at backing-off intervals; once the looks for a
    launched server's instance are spent, record that it was not found and go on."""
    commands: list[Command] = []
    exhausted = lookups_exhausted(state)
    if exhausted:
        commands.append(Record(event=InstancesNotFound(server_ids=exhausted, at=now)))
    due = lookups_due(state, now)
    if due and _reads_allowed(state, now):
        commands.append(FindRecoveryInstances(server_ids=due))
    return commands


def _approvals(state: ExecutionState) -> list[Command]:
    return list(pending_approvals(state))


# -- launching


def _starts(state: ExecutionState, now: datetime) -> list[Command]:
    # Until every unknown start has had its first look, nothing starts; after that, other chunks may
    # (their servers are others, and the unresolved ones count against the quotas in ``own_load``).
    # A chunk DRS refused with a Conflict waits for a look at the account's jobs (``engine.busy``).
    if first_look_pending(state) or settling(state) or not _reads_allowed(state, now):
        return []
    # A drill into the drill network starts a chunk only once its servers' templates point there.
    chunks, pointing = drill_net.gate_starts(state, startable(state, now), now)
    starts = [_start_job(state, state.chunks[chunk_id]) for chunk_id in admitted(state, chunks)]
    return [*pointing, *starts]


def _start_job(state: ExecutionState, chunk: ChunkState) -> StartJob:
    spec = state.spec
    attempt = chunk.attempt + 1
    snapshots = {s: spec.snapshot_ids[s] for s in chunk.server_ids if s in spec.snapshot_ids}
    return StartJob(
        chunk_id=chunk.chunk_id,
        wave_index=chunk.wave_index,
        attempt=attempt,
        server_ids=chunk.server_ids,
        snapshot_ids=snapshots,
        is_drill=state.is_drill,
        tags=job_tags(spec.execution_id, chunk.wave_index, chunk.chunk_id, attempt),
        drill_versions=drill_net.start_checks(state, chunk.server_ids),
    )


# -- cleanup and the end


def _left_running(state: ExecutionState, now: datetime) -> list[Command]:
    """Jobs the run no longer needs whose grace ran out still active in DRS (``engine.grace``)."""
    expired = grace_expired(state, now)
    return [Record(event=JobsLeftRunning(job_ids=expired, at=now))] if expired else []


def _launches_in_flight(state: ExecutionState) -> bool:
    """Anything that could still launch an instance: an unresolved start, a server being launched, or
    any DRS job of this run not yet ended (a server failed by a timeout may still launch in it). The
    run finishes, and cleanup starts, only after this; DRS ends every job, even a failed one (§12.4),
    except a job it never ends: the run stops waiting for it after a grace (``engine.grace``)."""
    if unresolved_chunks(state) or unchecked_chunks(state) or jobs_in_flight(state):
        return True
    return any(s.status in (ServerStatus.STARTING, ServerStatus.LAUNCHING) for s in state.servers.values())


def _to_terminate(state: ExecutionState) -> list[InstanceRecord]:
    if not state.is_drill or not state.cleanup_requested:
        return []
    limit = state.spec.max_terminate_attempts
    # DRS takes a server in one job at a time: a second TERMINATE for a server whose instance is being
    # terminated is refused (ConflictException), so its other instance waits for that job to end.
    busy = {i.server_id for i in state.instances.values() if awaiting_termination(state, i)}
    # An instance the last look did not find listed may be gone (DRS refuses the whole call for one
    # unknown ID): it waits for the next look, which lists it or finds it replaced.
    unlisted = set(state.survey_unfound) if not state.cleanup_surveyed else set()
    return [
        i
        for i in state.instances.values()
        if i.is_drill
        and i.terminated_at is None
        and i.gone_at is None
        and i.terminate_attempts < limit
        and not i.terminate_unresolved
        and not awaiting_termination(state, i)
        and i.server_id not in busy
        and (i.server_id, i.job_id) not in unlisted
    ]


def _survey_due(state: ExecutionState) -> bool:
    return state.is_drill and state.cleanup_requested and not state.cleanup_surveyed


def _survey_again_at(state: ExecutionState) -> datetime | None:
    """When cleanup looks at DRS's records again: a job of ours showed a server LAUNCHED whose instance
    DRS did not list yet (``engine.reconcile``)."""
    return state.survey_again_at if _survey_due(state) else None


def _cleanup_pending(state: ExecutionState) -> bool:
    """A requested cleanup still has to look at DRS, to terminate what it found, or to see DRS end the
    terminations it asked for."""
    if not (state.is_drill and state.cleanup_requested):
        return False
    return _survey_due(state) or bool(_to_terminate(state)) or terminations_in_flight(state)


def _reconcile_terminations(state: ExecutionState, now: datetime) -> list[Command]:
    """A termination a crash cut off: find its TERMINATE job in DRS's listing before asking again."""
    cut_off = unresolved_terminations(state)
    if not cut_off or not _reads_allowed(state, now):
        return []
    requested = [i.terminate_requested_at for i in cut_off if i.terminate_requested_at is not None]
    since = min(requested, default=state.spec.started_at) - LISTING_MARGIN
    return [
        ReconcileTerminations(
            instance_ids=tuple(sorted(i.recovery_instance_id for i in cut_off)), since=since
        )
    ]


def _survey(state: ExecutionState, now: datetime) -> list[Command]:
    """Cleanup first finds every instance of this execution in DRS's records (by job tags and each
    server's last launch), once nothing can launch any more; see ``domain.engine.reconcile``."""
    if not _survey_due(state) or _launches_in_flight(state) or not _reads_allowed(state, now):
        return []
    again = _survey_again_at(state)
    if again is not None and now < again:
        return []
    return [SurveyInstances(since=listing_since(state), server_ids=tuple(state.servers))]


def _terminations(state: ExecutionState, now: datetime) -> list[Command]:
    targets = _to_terminate(state)
    if (
        not targets
        or (_survey_due(state) and state.survey_looks == 0)  # the first look comes first
        or _launches_in_flight(state)
        or _lookups_pending(state)
        or not _reads_allowed(state, now)
    ):
        return []
    ids = sorted(i.recovery_instance_id for i in targets)
    return [
        TerminateInstances(recovery_instance_ids=tuple(ids[i : i + MAX_TERMINATE_IDS]))
        for i in range(0, len(ids), MAX_TERMINATE_IDS)
    ]


def finish_outcome(state: ExecutionState) -> Outcome | None:
    """The outcome to finish with now, or None while anything is still in flight or undecided."""
    if state.finished is not None or _launches_in_flight(state) or _lookups_pending(state):
        return None
    if drill_net.pending(state):  # a template may still be a drill version of this run
        return None
    if automation.in_flight(state):  # an SSM command, a function or a script may still be running
        return None
    if any(not server_settled(state, s) for s in state.servers.values()):
        return None
    if state.stop is not None:
        pending = any(_cleanup_pending(part) for _, part in views(state, False))
        return None if pending else state.stop.outcome
    if all(w.phase in SATISFIED_PHASES for w in state.waves):
        return Outcome.SUCCEEDED
    return None


def _wake_at(state: ExecutionState, now: datetime) -> datetime | None:
    """The earliest future moment at which ``decide`` could say something new without an event."""
    candidates = (
        next_poll_at(state, now),
        _reconcile_due(state),
        next_lookup_at(state),
        state.poll.not_before,
        next_grace_end(state),
        _load_look_due(state, now),
        _survey_again_at(state),
        drill_net.wake_at(state),
        automation.wake_at(state, now),
    )
    times: list[datetime] = [t for t in candidates if t is not None]
    for wave in state.waves:
        steps = wave.steps_of(state.spec)
        if wave.phase in (WavePhase.BEFORE, WavePhase.AFTER) and wave.step_index < len(steps):
            until = wait_until(wave, steps[wave.step_index])
            if until is not None:
                times.append(until)
        deadline = wave_deadline(state, wave, now)
        if deadline is not None and not launch_blocked(state) and unsettled_servers(state, wave.index):
            times.append(deadline)
    held = is_held(state)
    times.extend(
        c.not_before
        for c in state.chunks.values()
        if c.status is ChunkStatus.QUEUED and c.not_before and may_launch(state, c, held)
    )
    future = [t for t in times if t > now]
    return min(future) if future else None
