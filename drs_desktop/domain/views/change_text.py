"""One readable line per thing an operator cares about, from the execution's event stream.

The CLI prints these on stderr while a run goes on; the GUI's live and history logs and the report's
event log show the same text through ``views.event_log`` (moved here from services so that the domain's
one source of the log lines can use it; pure, stdlib only). Only events that change what a person
would do or want to know produce a line: a job started or refused, a server launched or failed, a wave
done, a gate waiting, an automation step's attempts and decisions (``step_changes``), the end.
"""

from __future__ import annotations

from datetime import datetime

from drs_desktop.domain.engine.end_events import ExecutionAbandoned
from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    ApprovalRejected,
    Cancel,
    CleanupRequested,
    Event,
    ExecutionFinished,
    InstancesTerminated,
    JobsLeftRunning,
    JobStarted,
    Pause,
    Reconciled,
    Resume,
    RetryFailed,
    RunnerRestarted,
    SkipWave,
    StartFailed,
    TakenOver,
    TerminateFailed,
    Throttled,
)
from drs_desktop.domain.engine.instance_events import InstancesNotFound, TerminationsReconciled
from drs_desktop.domain.engine.instances import not_found_text
from drs_desktop.domain.engine.queries import pending_approval
from drs_desktop.domain.engine.reconcile_events import InstancesSurveyed, StartsReconciled
from drs_desktop.domain.engine.state import (
    UNRESOLVED,
    ChunkStatus,
    ExecutionState,
    ServerStatus,
    WavePhase,
)
from drs_desktop.domain.engine.takeover import checking_text, is_unchecked, settle_from, unknown_job_text
from drs_desktop.domain.views.holders import is_waiting, waiting_text
from drs_desktop.domain.views.step_changes import skipped_lines, step_lines


def describe_change(before: ExecutionState, after: ExecutionState, event: Event) -> list[str]:
    """Lines for what ``event`` changed between two states (the event alone says too little)."""
    lines = _describe_event(before, event)
    if isinstance(event, StartsReconciled):
        lines.extend(_looks(before, after, event))
    if isinstance(event, TakenOver):
        lines.extend(_taken_over(after, event))
    lines.extend(step_lines(before, after, event))
    lines.extend(skipped_lines(before, after))
    lines.extend(_server_changes(before, after))
    lines.extend(_holder_changes(before, after))
    lines.extend(_wave_changes(before, after))
    return lines


def _holder_changes(before: ExecutionState, after: ExecutionState) -> list[str]:
    """A waiting server found held by another DRS job, or let go by it (``engine.busy``)."""
    lines = []
    for server_id, server in after.servers.items():
        old = before.servers.get(server_id)
        if old is None or (old.held_by, old.held_until) == (server.held_by, server.held_until):
            continue
        waiting = waiting_text(server)
        if waiting and (waiting_text(old) != waiting):
            lines.append(f"  {server_id} {waiting}")
        elif is_waiting(old) and not is_waiting(server) and old.held_by and old.held_by.job_id:
            if server.status is ServerStatus.PENDING:
                lines.append(f"  {server_id} free: job {old.held_by.job_id} no longer holds it")
    return lines


def _stamp(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


def _looks(before: ExecutionState, after: ExecutionState, event: StartsReconciled) -> list[str]:
    """What a look at DRS's records decided for each chunk whose StartRecovery outcome was unknown."""
    at = _stamp(event.at)
    lines = []
    for chunk_id in event.chunk_ids:
        old, new = before.chunks.get(chunk_id), after.chunks.get(chunk_id)
        if old is None or new is None:
            continue
        if is_unchecked(before, chunk_id) and not new.job_id:
            lines.extend(_unchecked_look(after, chunk_id, at))
        elif new.job_id and new.job_id != old.job_id:
            lines.append(f"{at} chunk {chunk_id}: DRS did start it, as job {new.job_id}: adopted")
        elif new.status is ChunkStatus.START_FAILED and new.status is not old.status:
            lines.append(f"{at} chunk {chunk_id}: {new.reason}; not launched again by this run")
        elif new.status is ChunkStatus.QUEUED:
            lines.append(f"{at} chunk {chunk_id}: no job in DRS's records; starting it again")
        elif new.status in UNRESOLVED:
            settle_at = (new.requested_at or after.spec.started_at) + after.spec.start_settle
            lines.append(
                f"{at} chunk {chunk_id}: no job in DRS's records yet; looking again until "
                f"{_stamp(settle_at)} (DRS time) before it is started again"
            )
    noted = {job.job_id for record in before.takeovers for job in record.unknown_jobs}
    lines.extend(
        f"{at} {unknown_job_text(job)}"
        for record in after.takeovers
        for job in record.unknown_jobs
        if job.job_id not in noted
    )
    return lines


def _unchecked_look(after: ExecutionState, chunk_id: str, at: str) -> list[str]:
    """A look at a chunk a takeover left unchecked that found no job of it."""
    if is_unchecked(after, chunk_id):
        settle_at = settle_from(after) + after.spec.start_settle
        return [
            f"{at} chunk {chunk_id}: no job in DRS's records yet; looking again until {_stamp(settle_at)} "
            "(DRS time) before it may start"
        ]
    return [f"{at} chunk {chunk_id}: the previous driver never started it (no job in DRS's records)"]


def _taken_over(after: ExecutionState, event: TakenOver) -> list[str]:
    who = f"desktop {event.previous}" if event.previous else "a silent desktop"
    confirmed = f", confirmed by {event.operator}" if event.operator else ""
    lines = [f"{_stamp(event.at)} taken over from {who} by desktop {event.by}{confirmed}"]
    checking = checking_text(after)
    if checking:
        lines.append(f"{_stamp(event.at)} {checking}")
    elif event.journal_complete:
        lines.append(f"{_stamp(event.at)} its journal was complete: nothing to check in DRS")
    return lines


def _describe_event(state: ExecutionState, event: Event) -> list[str]:
    """The event's own line, for the events an operator follows in the log (the rest say nothing here:
    their effect shows as server and wave changes)."""
    at = _stamp(event.at)
    match event:
        case JobStarted():
            chunk = state.chunks.get(event.chunk_id)
            size = len(chunk.server_ids) if chunk else 0
            return [f"{at} job {event.job_id} started for chunk {event.chunk_id} ({size} servers)"]
        case StartFailed():
            kind = "refused" if event.definite else "outcome unknown, will reconcile"
            return [f"{at} StartRecovery for chunk {event.chunk_id} {kind}: {event.reason}"]
        case Reconciled():  # journals of earlier versions
            found = f"found job {event.job_id}" if event.job_id else "no job was created"
            return [f"{at} reconciled chunk {event.chunk_id}: {found}"]
        case InstancesSurveyed():
            return [f"{at} cleanup: looked in DRS for every instance of this execution's servers"]
        case Throttled():
            return [f"{at} DRS throttled {event.operation or 'a call'}; backing off"]
        case InstancesTerminated():
            return [f"{at} terminating {len(event.instance_ids)} drill instances (job {event.job_id})"]
        case TerminateFailed():
            return [f"{at} terminate failed: {event.reason}"]
        case InstancesNotFound():
            return [
                f"{at} {not_found_text(s, state.servers[s].instance_looks)}"
                for s in event.server_ids
                if s in state.servers
            ]
        case TerminationsReconciled():
            jobs = ", ".join(job.job_id for job in event.jobs) or "none"
            return [f"{at} cut-off termination looked up in DRS: TERMINATE job(s) {jobs}"]
        case ApprovalGranted() | ApprovalRejected():
            verb = "approved" if isinstance(event, ApprovalGranted) else "REJECTED"
            waves = state.spec.waves
            wave = waves[event.wave_index].name if event.wave_index < len(waves) else "?"
            return [f"{at} wave {wave!r}: {verb} by {event.by}"]
        case Pause() | Resume() | Cancel():
            return [f"{at} {type(event).__name__.lower()} by {event.by or 'operator'}"]
        case RetryFailed() | SkipWave():
            verb = "retry" if isinstance(event, RetryFailed) else "skip"
            return [f"{at} {verb} of wave {event.wave_index + 1} by {event.by or 'operator'}"]
        case CleanupRequested():
            return [f"{at} cleanup of the drill instances requested by {event.by or 'operator'}"]
        case RunnerRestarted():
            return [f"{at} execution picked up again from its journal"]
        case JobsLeftRunning():
            return [f"{at} no longer waiting for DRS job(s) {', '.join(event.job_ids)}: still running in DRS"]
        case ExecutionFinished():
            return [f"{at} execution finished: {event.outcome.value}"]
        case ExecutionAbandoned():
            return [f"{at} execution abandoned by {event.by or 'operator'}: {event.reason}"]
        case _:
            return []


def _server_changes(before: ExecutionState, after: ExecutionState) -> list[str]:
    lines = []
    for server_id, server in after.servers.items():
        old = before.servers.get(server_id)
        if old is None or old.status is server.status:
            continue
        if server.status is ServerStatus.LAUNCHED:
            instance = f" as {server.recovery_instance_id}" if server.recovery_instance_id else ""
            lines.append(f"  {server_id} launched{instance}")
        elif server.status is ServerStatus.FAILED:
            impact = "critical" if server.critical else "optional"
            lines.append(f"  {server_id} FAILED ({impact}){': ' + server.reason if server.reason else ''}")
    return lines


def _wave_changes(before: ExecutionState, after: ExecutionState) -> list[str]:
    lines = []
    for old, new in zip(before.waves, after.waves, strict=True):
        gate = pending_approval(after, new)
        if gate is not None and pending_approval(before, old) is None:
            lines.append(f"wave {new.index + 1} {new.name!r}: waiting for approval: {gate.message}")
        if old.phase is new.phase:
            continue
        if new.phase is WavePhase.LAUNCHING:
            count = len(after.spec.waves[new.index].server_ids)
            lines.append(f"wave {new.index + 1} {new.name!r}: launching {count} servers")
        elif new.phase is WavePhase.COMPLETED:
            lines.append(f"wave {new.index + 1} {new.name!r}: completed")
        elif new.phase is WavePhase.SKIPPED:
            lines.append(f"wave {new.index + 1} {new.name!r}: skipped")
    return lines
