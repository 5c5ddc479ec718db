"""The execution reducer: ``apply(state, event) -> state``, the operator's controls, and replay.

Event sourcing. ``initial_state(spec)`` builds the state of a fresh execution; every journaled event goes
through ``apply``; replaying the journal from the start rebuilds exactly the state the runner had when it
crashed. ``apply`` is total: an event that no longer fits (a duplicate, a stale answer, a control that
arrived after the run stopped) changes nothing, so a replay never fails on a journal the live run wrote.
Operator controls should be checked with ``control_error`` before they are journaled.

Decisions documented here:
- Pause stops every new StartRecovery (new waves and queued chunks alike); running jobs are still polled,
  a running wait still counts down, and paused time does not count toward wave timeouts.
- A critical failure holds the whole run (no new wave, step or chunk) until the operator retries the
  failed servers, skips the wave, or cancels. Optional failures are warnings.
- Skipping a wave counts as satisfying it: the waves that depend on it go on.
- Rejecting an approval ends the execution as FAILED once running jobs settle (it is a "no" from the
  person responsible, not a question to hold on); drill instances stay until cleanup is requested.
- Cancel stops new launches and lets running jobs settle (DRS cannot cancel a job); after a critical
  failure it ends FAILED, otherwise CANCELLED. For a drill it may also terminate the drill's instances.
- A retry only takes servers whose previous DRS job has ended (one job per server). Its chunks start
  even while other failures still hold the run: the operator is working through them.
- A server failed by a wave timeout whose job then launches it after all counts as launched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import assert_never

from drs_desktop.domain.engine import automation_apply, drill_net, native
from drs_desktop.domain.engine.abandon import on_abandoned
from drs_desktop.domain.engine.accounts import account_of, apply_in_target, credentials_wanted, target_names
from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingUpdated,
    RecoveryPointsRecorded,
    ReviewSignedOff,
    TestRecorded,
)
from drs_desktop.domain.engine.automation_events import (
    AutomationAnswered,
    AutomationLost,
    AutomationRequested,
    AutomationSent,
    HealthProbed,
    HealthRoundSent,
    SsmLooked,
    SsmPolled,
    SsmWaiting,
)
from drs_desktop.domain.engine.busy import (
    CONFLICT,
    after_look,
    conflicts_unexplained,
    holders_of,
    mark_holders,
    missed_launches,
    track_held_waves,
)
from drs_desktop.domain.engine.drill_net_events import (
    TemplateDefaultChanged,
    TemplatePointFailed,
    TemplatePointUnknown,
    TemplateRestoreFailed,
    TemplatesPointed,
    TemplatesPointRequested,
    TemplatesRestored,
    TemplatesRestoreRequested,
)
from drs_desktop.domain.engine.end_events import ExecutionAbandoned
from drs_desktop.domain.engine.events import (
    ANNOTATION_TYPES,
    ApprovalGranted,
    ApprovalRejected,
    Cancel,
    CleanupRequested,
    CredentialsNeeded,
    CredentialsRenewed,
    Event,
    ExecutionFinished,
    ExternalLoad,
    InstancesTerminated,
    JobLogObserved,
    JobsLeftRunning,
    JobsObserved,
    JobStarted,
    JobsVerified,
    Outcome,
    Pause,
    PollFailed,
    PostLaunchCompleted,
    PostLaunchFailed,
    Reconciled,
    RecoveryInstancesObserved,
    Resume,
    RetryFailed,
    RunnerRestarted,
    SkipWave,
    StartFailed,
    StartRequested,
    StepDecided,
    TakenOver,
    TerminateFailed,
    TerminateRequested,
    Throttled,
    Tick,
    event_from_json,
    event_to_json,
    is_core,
)
from drs_desktop.domain.engine.grace import on_jobs_left_running
from drs_desktop.domain.engine.instance_events import InstancesNotFound, TerminationsReconciled
from drs_desktop.domain.engine.instances import instances_not_found, on_instances_not_found
from drs_desktop.domain.engine.native_events import (
    NativeControlFailed,
    NativeControlSent,
    NativeLooked,
    NativeObserved,
    NativeStarted,
    NativeStartFailed,
    NativeStartRequested,
)
from drs_desktop.domain.engine.observe import (
    abandon,
    adopt_job,
    not_launched,
    on_instances_observed,
    on_job_log,
    on_jobs_observed,
    on_jobs_verified,
    on_post_launch_completed,
    on_post_launch_failed,
    on_reconciled,
    on_start_failed,
    on_start_requested,
    reset_for_retry,
)
from drs_desktop.domain.engine.polling import after_failure, after_read_ok, after_throttle
from drs_desktop.domain.engine.queries import (
    drill_instances_running,
    failed_waves,
    is_held,
    job_active,
    launch_blocked,
    pending_approval,
)
from drs_desktop.domain.engine.reconcile import on_instances_surveyed, on_starts_reconciled
from drs_desktop.domain.engine.reconcile_events import InstancesSurveyed, StartsReconciled
from drs_desktop.domain.engine.state import (
    ApprovalRecord,
    ChunkState,
    ChunkStatus,
    ExecutionSpec,
    ExecutionState,
    ServerState,
    ServerStatus,
    StopRequest,
    WavePhase,
    WaveState,
    build_state,
    chunk_id_for,
    split_by_target,
)
from drs_desktop.domain.engine.takeover import on_taken_over, settling_anywhere, without_unchecked
from drs_desktop.domain.engine.terminations import (
    fold_terminate_jobs,
    on_terminate_failed,
    on_terminate_job_log,
    on_terminate_requested,
    on_terminated,
    on_terminations_reconciled,
)
from drs_desktop.domain.engine.waves import settle

__all__ = [
    "Event",
    "ExecutionSpec",
    "ExecutionState",
    "apply",
    "control_error",
    "event_from_json",
    "event_to_json",
    "initial_state",
    "replay",
    "retryable_servers",
]

logger = logging.getLogger(__name__)


def initial_state(spec: ExecutionSpec) -> ExecutionState:
    """A fresh execution at ``spec.started_at``: the waves with no dependencies have already started.

    Raises ValueError when the spec cannot run (see ``engine.state.spec_problems``).
    """
    return _track_blocked(settle(build_state(spec), spec.started_at), spec.started_at)


def apply(state: ExecutionState, event: Event) -> ExecutionState:
    """The state after ``event``. Pure; never mutates ``state``. An event from one target of a run across
    targets is folded in that target's view (``engine.accounts``). An annotation changes nothing."""
    if not is_core(event):
        return state
    new = apply_in_target(state, event, _fold, is_held)
    if new.spec.targets and new is not state:
        new = track_held_waves(new, event.at)  # a wave's held servers may be in any of its targets
    return _track_blocked(settle(new, event.at), event.at)


def _fold(state: ExecutionState, event: Event) -> ExecutionState:
    """The event's own change, before time moves waves on (``settle``). Exhaustive over ``Event``."""
    match event:
        case StartRequested():
            return on_start_requested(state, event)
        case JobStarted():
            return _on_job_started(state, event)
        case StartFailed():
            return on_start_failed(state, event)
        case Reconciled():
            return on_reconciled(state, event)
        case StartsReconciled():
            return on_starts_reconciled(state, event)
        case InstancesSurveyed():
            return on_instances_surveyed(state, event)
        case JobsObserved():
            state = fold_terminate_jobs(state, event.jobs, event.missing_job_ids, event.at)
            return on_jobs_observed(state, event)
        case JobsVerified():
            return on_jobs_verified(state, event)
        case JobLogObserved():
            if event.job_id in state.terminate_jobs:
                return on_terminate_job_log(state, event)
            return on_job_log(state, event)
        case RecoveryInstancesObserved():
            return on_instances_observed(state, event)
        case PostLaunchCompleted():
            return on_post_launch_completed(state, event)
        case PostLaunchFailed():
            return on_post_launch_failed(state, event)
        case Throttled():
            return _on_throttled(state, event)
        case PollFailed():
            return _on_poll_failed(state, event)
        case ExternalLoad():
            return _on_external_load(state, event)
        case TerminateRequested():
            return on_terminate_requested(state, event)
        case InstancesTerminated():
            return on_terminated(state, event)
        case TerminateFailed():
            return on_terminate_failed(state, event)
        case TerminationsReconciled():
            return on_terminations_reconciled(state, event)
        case InstancesNotFound():
            return on_instances_not_found(state, event)
        case Pause():
            return _on_pause(state, event)
        case Resume():
            return _on_resume(state, event)
        case Cancel():
            return _on_cancel(state, event)
        case RetryFailed():
            return _on_retry(state, event)
        case SkipWave():
            return _on_skip(state, event)
        case ApprovalGranted() | ApprovalRejected():
            return _on_approval(state, event)
        case CleanupRequested():
            return _on_cleanup(state, event)
        case RunnerRestarted():
            return _on_restarted(state, event)
        case TakenOver():
            return on_taken_over(state, event)
        case CredentialsNeeded():
            return credentials_wanted(state, event.reason, event.at)
        case CredentialsRenewed():
            return _on_credentials_renewed(state, event)
        case Tick():
            return state  # settle() does the work: a wait may have elapsed
        case ExecutionFinished():
            return _on_finished(state, event)
        case JobsLeftRunning():
            return on_jobs_left_running(state, event)
        case ExecutionAbandoned():
            return on_abandoned(state, event)
        case NativeStartRequested():
            return native.on_start_requested(state, event) if state.native else state
        case NativeStarted():
            return native.on_started(state, event) if state.native else state
        case NativeStartFailed():
            return native.on_start_failed(state, event) if state.native else state
        case NativeLooked():
            return native.on_looked(state, event) if state.native else state
        case NativeObserved():
            return native.on_observed(state, event) if state.native else state
        case NativeControlSent():
            return native.on_control_sent(state, event) if state.native else state
        case NativeControlFailed():
            return native.on_control_failed(state, event) if state.native else state
        case TemplatesPointRequested():
            return drill_net.on_point_requested(state, event)
        case TemplatesPointed():
            return drill_net.on_pointed(state, event)
        case TemplatePointFailed():
            return drill_net.on_point_failed(state, event)
        case TemplatesRestoreRequested():
            return drill_net.on_restore_requested(state, event)
        case TemplatesRestored():
            return drill_net.on_restored(state, event)
        case TemplateRestoreFailed():
            return drill_net.on_restore_failed(state, event)
        case TemplatePointUnknown():
            return drill_net.on_point_unknown(state, event)
        case TemplateDefaultChanged():
            return drill_net.on_default_changed(state, event)
        case AutomationRequested():
            return automation_apply.on_requested(state, event)
        case AutomationSent():
            return automation_apply.on_sent(state, event)
        case HealthRoundSent():
            return automation_apply.on_round_sent(state, event)
        case HealthProbed():
            return automation_apply.on_probed(state, event)
        case SsmPolled():
            return automation_apply.on_ssm_polled(state, event)
        case SsmLooked():
            return automation_apply.on_ssm_looked(state, event)
        case SsmWaiting():
            return automation_apply.on_ssm_waiting(state, event)
        case AutomationAnswered():
            return automation_apply.on_answered(state, event)
        case AutomationLost():
            return automation_apply.on_lost(state, event)
        case StepDecided():
            return automation_apply.on_decided(state, event)
        case (
            TestRecorded() | FindingAdded() | FindingUpdated() | ReviewSignedOff() | RecoveryPointsRecorded()
        ):
            return state  # annotations (``apply`` never brings them here)
        case _:
            assert_never(event)


def replay(spec: ExecutionSpec, events: Iterable[Event]) -> ExecutionState:
    """Rebuild an execution from its journal."""
    state = initial_state(spec)
    for event in events:
        state = apply(state, event)
    return state


def _track_blocked(state: ExecutionState, at: datetime) -> ExecutionState:
    """Open or close the interval during which the run is paused or held (timeouts do not run then)."""
    blocked = launch_blocked(state)
    if blocked and state.blocked_since is None:
        return replace(state, blocked_since=at)
    if not blocked and state.blocked_since is not None:
        interval = (state.blocked_since, max(state.blocked_since, at))
        return replace(state, blocked_since=None, blocked_intervals=(*state.blocked_intervals, interval))
    return state


# -- operator controls


def _on_pause(state: ExecutionState, event: Pause) -> ExecutionState:
    if state.native is not None:
        return state  # DRS's executions have no pause (``control_error`` says so)
    if state.finished is not None or state.stop is not None or state.paused:
        return state
    return replace(state, paused=True).noting("pause", event.at, event.by)


def _on_resume(state: ExecutionState, event: Resume) -> ExecutionState:
    if not state.paused or state.finished is not None:
        return state
    return replace(state, paused=False).noting("resume", event.at, event.by)


def _on_cancel(state: ExecutionState, event: Cancel) -> ExecutionState:
    if state.finished is not None:
        return state
    terminate = event.terminate_drill_instances and state.is_drill
    detail = "and terminate the drill's instances" if terminate else ""
    if state.stop is not None:
        if terminate and not state.cleanup_requested:
            return replace(state, cleanup_requested=True).noting("cancel", event.at, event.by, detail)
        return state
    # FAILED after a critical failure (in a run in DRS: a step DRS failed); a hold for credentials or a
    # pause is no failure of the run.
    failed = bool(failed_waves(state)) or native.native_held(state)
    outcome = Outcome.FAILED if failed else Outcome.CANCELLED
    state = _stop(state, StopRequest(at=event.at, by=event.by, outcome=outcome, reason="cancelled"))
    if terminate:
        state = replace(state, cleanup_requested=True)
    if state.native is not None:
        state = native.on_cancel(state, event)
    return state.noting("cancel", event.at, event.by, detail)


def _stop(state: ExecutionState, request: StopRequest) -> ExecutionState:
    """No more launches: chunks not yet requested are abandoned; unresolved ones are still reconciled."""
    state = replace(state, stop=request, paused=False)
    waiting = [c for c in state.chunks.values() if c.status in (ChunkStatus.PLANNED, ChunkStatus.QUEUED)]
    waiting = without_unchecked(state, waiting)  # a takeover's: abandoned once DRS shows it never started
    return abandon(state, waiting, ServerStatus.CANCELLED, f"not started: the execution was {request.reason}")


def _on_approval(state: ExecutionState, event: ApprovalGranted | ApprovalRejected) -> ExecutionState:
    wave = _wave(state, event.wave_index)
    if state.native is not None or wave is None or state.stop is not None or state.finished is not None:
        return state
    step = pending_approval(state, wave)
    if step is None or wave.step_phase() is not event.phase or wave.step_index != event.step_index:
        return state
    granted = isinstance(event, ApprovalGranted)
    assert wave.step_started_at is not None  # pending_approval checked it
    record = ApprovalRecord(
        phase=event.phase,
        step_index=event.step_index,
        message=step.message,
        requested_at=wave.step_started_at,
        decided_at=event.at,
        by=event.by,
        granted=granted,
        comment=event.comment,
    )
    state = state.with_wave(replace(wave, approvals=(*wave.approvals, record)))
    detail = f"wave {wave.name!r} {event.phase.value.lower()} step {event.step_index + 1}"
    if granted:
        return state.noting("approve", event.at, event.by, detail)
    stop = StopRequest(at=event.at, by=event.by, outcome=Outcome.FAILED, reason="stopped: approval rejected")
    return _stop(state, stop).noting("reject", event.at, event.by, detail)


def _on_retry(state: ExecutionState, event: RetryFailed) -> ExecutionState:
    if state.native is not None:
        return native.on_retry(state, event)
    wave = _wave(state, event.wave_index)
    if wave is None or state.stop is not None or state.finished is not None:
        return state
    if wave.phase is WavePhase.SKIPPED:
        return state
    servers = retryable_servers(state, wave.index, event.server_ids)
    if not servers:
        return state
    seq = wave.next_chunk_seq
    chunks: list[ChunkState] = []
    reset: list[ServerState] = []
    for target, members in split_by_target(state.spec, [s.server_id for s in servers]):
        chunk_id = chunk_id_for(wave.index, seq)
        chunks.append(
            ChunkState(
                chunk_id=chunk_id,
                wave_index=wave.index,
                seq=seq,
                server_ids=members,
                target=target,
                status=ChunkStatus.QUEUED,
                is_retry=True,
                queued_at=event.at,
            )
        )
        reset.extend(reset_for_retry(state.servers[s], chunk_id, event.at) for s in members)
        seq += 1
    retried = replace(wave, next_chunk_seq=seq, deadline_from=event.at, timed_out_at=None)
    state = state.with_wave(retried).with_chunks(*chunks).with_servers(*reset)
    ids = ", ".join(s.server_id for s in servers)
    return state.noting("retry", event.at, event.by, f"wave {wave.name!r}: {ids}")


def retryable_servers(
    state: ExecutionState, index: int, server_ids: tuple[str, ...] | None
) -> tuple[ServerState, ...]:
    """Failed servers of the wave (all, or those named) whose last DRS job has ended."""
    wanted = None if server_ids is None else set(server_ids)
    return tuple(
        s
        for s in state.wave_servers(index)
        if s.status is ServerStatus.FAILED
        and s.foreign_job_id is None
        and (wanted is None or s.server_id in wanted)
        and (s.job_id is None or not job_active(state.jobs[s.job_id]))
    )


def _on_skip(state: ExecutionState, event: SkipWave) -> ExecutionState:
    if state.native is not None:
        return native.on_skip(state, event)
    wave = _wave(state, event.wave_index)
    if wave is None or state.stop is not None or state.finished is not None:
        return state
    if wave.phase in (WavePhase.COMPLETED, WavePhase.SKIPPED):
        return state
    state = state.with_wave(replace(wave, phase=WavePhase.SKIPPED, skipped_at=event.at, step_started_at=None))
    waiting = [
        c for c in state.wave_chunks(wave.index) if c.status in (ChunkStatus.PLANNED, ChunkStatus.QUEUED)
    ]
    state = abandon(state, without_unchecked(state, waiting), ServerStatus.SKIPPED, "its wave was skipped")
    detail = f"wave {wave.name!r}" + (f": {event.reason}" if event.reason else "")
    return state.noting("skip", event.at, event.by, detail)


def _on_cleanup(state: ExecutionState, event: CleanupRequested) -> ExecutionState:
    if not state.is_drill or (state.finished is None and state.stop is None):
        return state
    # Each request looks at DRS afresh for every instance of this execution before terminating.
    accounts = {
        name: replace(acct, cleanup_surveyed=False, survey_looks=0, survey_again_at=None, survey_unfound=())
        for name, acct in state.accounts.items()
    }
    requested = replace(
        state,
        cleanup_requested=True,
        cleanup_surveyed=False,
        survey_looks=0,
        survey_again_at=None,
        survey_unfound=(),
        accounts=accounts,
    )
    return requested.noting("cleanup", event.at, event.by)


def _wave(state: ExecutionState, index: int) -> WaveState | None:
    return state.waves[index] if 0 <= index < len(state.waves) else None


# -- termination, pacing, bookkeeping


def _on_throttled(state: ExecutionState, event: Throttled) -> ExecutionState:
    seed = state.spec.jitter_seed
    poll = after_throttle(state.poll, state.spec.polling, seed, event.at, event.retry_after, "throttled")
    return replace(state, poll=poll, load_due=False)  # a failed look at the load waits for the next poll


def _on_poll_failed(state: ExecutionState, event: PollFailed) -> ExecutionState:
    reason = event.reason or ("transient error" if event.transient else "error")
    poll = after_failure(state.poll, state.spec.polling, state.spec.jitter_seed, event.at, reason)
    state = replace(state, poll=poll, load_due=False)  # a failed look at the load waits for the next poll
    return credentials_wanted(state, reason, event.at) if event.auth else state


def _on_credentials_renewed(state: ExecutionState, event: CredentialsRenewed) -> ExecutionState:
    """The target's calls may go out again, at once (the failed reads' backoff is over too)."""
    if not state.auth_problem:
        return state
    poll = replace(after_read_ok(state.poll), not_before=None)
    renewed = replace(state, auth_problem="", auth_since=None, poll=poll)
    where = f"target {event.target!r}" if event.target else "the connected target"
    return renewed.noting("renew", event.at, event.by, f"credentials of {where}")


def _on_external_load(state: ExecutionState, event: ExternalLoad) -> ExecutionState:
    """The account's load, and what it means for chunks waiting for busy servers (``engine.busy``)."""
    busy = tuple(sorted(set(event.busy_server_ids)))
    state = replace(state, external_jobs=max(0, event.active_jobs), external_busy=busy, load_due=False)
    holders = holders_of(state, event)
    state = mark_holders(missed_launches(state, event.holders), holders, event.at)
    state, unexplained = conflicts_unexplained(state, holders)
    for chunk in unexplained:
        reason = f"{CONFLICT}, and no job held its servers"
        state = not_launched(state, chunk, reason, event.at, True, None)
    return after_look(state, event.at)


def _on_job_started(state: ExecutionState, event: JobStarted) -> ExecutionState:
    chunk = state.chunks.get(event.chunk_id)
    if chunk is None or chunk.status not in (ChunkStatus.START_REQUESTED, ChunkStatus.UNCERTAIN):
        return state
    if event.job_id in state.jobs:
        return state
    return adopt_job(state, chunk, event.job_id, event.at)


def _on_restarted(state: ExecutionState, event: RunnerRestarted) -> ExecutionState:
    """Calls cut off by the crash: their chunks become UNCERTAIN (``decide`` reconciles them first)."""
    cut_off = [
        replace(c, status=ChunkStatus.UNCERTAIN, reason="the runner stopped during the call")
        for c in state.chunks.values()
        if c.status is ChunkStatus.START_REQUESTED
    ]
    state = state.with_chunks(*cut_off)
    if state.native is not None:
        state = native.on_restarted(state, event.at)
    if state.automation:
        state = automation_apply.on_restarted(state, event.at)
    return state.noting("runner restarted", event.at, "", f"{len(cut_off)} call(s) cut off")


def _on_finished(state: ExecutionState, event: ExecutionFinished) -> ExecutionState:
    if state.finished is not None:
        return state
    return replace(state, finished=event.outcome, finished_at=event.at)


def control_error(state: ExecutionState, event: Event) -> str | None:
    """Why the operator's control ``event`` cannot apply now (None: journal it). ``apply`` would ignore
    a refused control anyway; this gives the operator the reason."""
    if type(event) in ANNOTATION_TYPES:
        return None  # a finding changes nothing the engine decides: welcome in any state (issue 18)
    if isinstance(event, CleanupRequested):
        if not state.is_drill:
            return "only a drill is cleaned up; a recovery's instances are production"
        if state.finished is None and state.stop is None:
            return "cleanup runs once the drill has finished or is being cancelled"
        # An instance DRS never showed may be running: cleanup may look for it again.
        if drill_instances_running(state) or instances_not_found(state):
            return None
        return "no drill instance of this execution is running"
    if isinstance(event, CredentialsRenewed):  # a finished drill's cleanup may wait for them too
        if event.target not in target_names(state):
            return f"this execution has no target {event.target!r}"
        if not account_of(state, event.target).auth_problem:
            where = f"target {event.target!r}" if event.target else "the connected target"
            return f"the credentials of {where} are not waiting to be renewed"
        return None
    if state.finished is not None:
        return "the execution has finished"
    if state.native is not None:
        refused = native.control_error(state, event)
        if refused is not None or isinstance(event, RetryFailed | SkipWave):
            return refused or ("the execution is stopping" if state.stop is not None else None)
    if isinstance(event, Cancel):
        if event.terminate_drill_instances and not state.is_drill:
            return "a recovery's instances are never terminated by the app"
        if state.stop is not None and not (event.terminate_drill_instances and not state.cleanup_requested):
            return "the execution is already stopping"
        return None
    if state.stop is not None:
        return "the execution is stopping"
    if isinstance(event, Pause):
        return "already paused" if state.paused else None
    if isinstance(event, Resume):
        return None if state.paused else "not paused"
    if isinstance(event, StepDecided):
        return automation_apply.decision_error(state, event)
    if isinstance(event, RetryFailed | SkipWave | ApprovalGranted | ApprovalRejected):
        wave = _wave(state, event.wave_index)
        if wave is None:
            return f"there is no wave {event.wave_index + 1}"
        if isinstance(event, RetryFailed):
            if settling_anywhere(state):
                return (
                    "this run was just taken over: DRS's records are being checked for what the "
                    "previous desktop started after its last sync; retry once that is done"
                )
            return _retry_error(state, wave, event)
        if isinstance(event, SkipWave):
            return f"wave {wave.name!r} is {wave.phase.value.lower()}" if wave.phase in _FINAL_WAVES else None
        return _approval_error(state, wave, event)
    return None


_FINAL_WAVES = (WavePhase.COMPLETED, WavePhase.SKIPPED)


def _retry_error(state: ExecutionState, wave: WaveState, event: RetryFailed) -> str | None:
    if wave.phase is WavePhase.SKIPPED:
        return f"wave {wave.name!r} was skipped"
    failed = [s for s in state.wave_servers(wave.index) if s.status is ServerStatus.FAILED]
    if event.server_ids is not None:
        unknown = set(event.server_ids) - {s.server_id for s in failed}
        if unknown:
            return f"not failed in wave {wave.name!r}: {', '.join(sorted(unknown))}"
        failed = [s for s in failed if s.server_id in event.server_ids]
    foreign = [s for s in failed if s.foreign_job_id is not None]
    if event.server_ids is not None and foreign:
        names = ", ".join(f"{s.server_id} (job {s.foreign_job_id})" for s in foreign)
        return (
            f"in a DRS job this run does not follow (launched outside it, or by the desktop it was taken "
            f"over from), never launched again by it: {names}; skip the wave or cancel"
        )
    failed = [s for s in failed if s.foreign_job_id is None]
    if not failed:
        if foreign:
            return (
                f"wave {wave.name!r}: its failed servers are in DRS jobs this run does not follow "
                "(launched outside it, or by the desktop it was taken over from) and are never launched "
                "again by it; skip the wave or cancel"
            )
        return f"wave {wave.name!r} has no failed server"
    busy = [s.server_id for s in failed if s.job_id is not None and job_active(state.jobs[s.job_id])]
    if busy:
        return f"the DRS job of {', '.join(busy)} is still running; retry once it has ended"
    return None


def _approval_error(
    state: ExecutionState, wave: WaveState, event: ApprovalGranted | ApprovalRejected
) -> str | None:
    if not event.by.strip():
        return "an approval decision needs the name of who made it"
    step = pending_approval(state, wave)
    if step is None or wave.step_phase() is not event.phase or wave.step_index != event.step_index:
        return f"wave {wave.name!r} is not waiting for this approval"
    return None
