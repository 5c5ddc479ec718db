"""The evidence an execution leaves: per-server timings, approvals, retries, skips, cleanup proof, RTO.

Auditors and post-mortems ask "how long did recovery take, who approved what, and is anything of the
drill still running?". Everything here is read from the execution state (itself rebuilt from the
journal), so a report written after a crash says the same as one written live. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.instances import instances_not_found, not_found_text, survey_not_found
from drs_desktop.domain.engine.native_events import NativeServerSeen, NativeStarted
from drs_desktop.domain.engine.queries import drill_instances_running, execution_status, server_ready
from drs_desktop.domain.engine.state import (
    ApprovalRecord,
    AttemptRecord,
    AuditEntry,
    ExecutionState,
    ExecutionStatus,
    ServerStatus,
    TakeoverRecord,
    WavePhase,
)
from drs_desktop.domain.engine.terminations import terminate_problems
from drs_desktop.domain.views.drill_net_evidence import DrillNetEvidence, drill_net_evidence
from drs_desktop.domain.views.evidence_steps import StepEvidence, automation_evidence


def rto_achieved(state: ExecutionState) -> timedelta | None:
    """From the execution's start to the moment its last critical server was ready (launched, plus its
    post-launch actions for a recovery), over the waves not skipped. None until every one is ready."""
    critical = [
        s
        for s in state.servers.values()
        if s.critical and state.waves[s.wave_index].phase is not WavePhase.SKIPPED
    ]
    if not critical or any(not server_ready(s) or s.ready_at is None for s in critical):
        return None
    return max(s.ready_at for s in critical if s.ready_at is not None) - state.spec.started_at


@dataclass(frozen=True)
class RtoReport:
    achieved: timedelta | None
    target: timedelta | None

    @property
    def met(self) -> bool | None:
        """None when there is nothing to compare yet."""
        if self.achieved is None or self.target is None:
            return None
        return self.achieved <= self.target


def rto_report(state: ExecutionState) -> RtoReport:
    return RtoReport(rto_achieved(state), state.spec.rto_target)


@dataclass(frozen=True)
class ServerTimeline:
    """One server's story. ``phases``: the first time of each job-log event (SNAPSHOT_START, ...)."""

    server_id: str
    wave_name: str
    critical: bool
    status: ServerStatus
    reason: str
    retries: int
    job_ids: tuple[str, ...]
    queued_at: datetime | None
    job_started_at: datetime | None
    launched_at: datetime | None
    ready_at: datetime | None
    failed_at: datetime | None
    phases: dict[str, datetime] = field(default_factory=dict)
    recovery_instance_id: str | None = None
    ec2_instance_id: str | None = None
    earlier_attempts: tuple[AttemptRecord, ...] = ()

    @property
    def time_to_launch(self) -> timedelta | None:
        """From joining the queue to launched: what the operator waited for this server."""
        if self.queued_at is None or self.launched_at is None:
            return None
        return self.launched_at - self.queued_at


def server_timelines(state: ExecutionState) -> tuple[ServerTimeline, ...]:
    """Every server in plan order."""
    rows = []
    for wave in state.spec.waves:
        for server_id in wave.server_ids:
            s = state.servers[server_id]
            rows.append(
                ServerTimeline(
                    server_id=s.server_id,
                    wave_name=wave.name,
                    critical=s.critical,
                    status=s.status,
                    reason=s.reason,
                    retries=s.retries,
                    job_ids=s.job_ids,
                    queued_at=s.queued_at,
                    job_started_at=s.job_started_at,
                    launched_at=s.launched_at,
                    ready_at=s.ready_at,
                    failed_at=s.failed_at,
                    phases=dict(sorted(s.phase_times.items(), key=lambda item: item[1])),
                    recovery_instance_id=s.recovery_instance_id,
                    ec2_instance_id=s.ec2_instance_id,
                    earlier_attempts=s.attempts,
                )
            )
    return tuple(rows)


@dataclass(frozen=True)
class CleanupProof:
    """A drill instance, the job that launched it and, once terminated, when and by which DRS job."""

    recovery_instance_id: str
    server_id: str
    launched_by_job: str
    terminated_at: datetime | None
    terminate_job_id: str | None
    error: str = ""


def cleanup_proof(state: ExecutionState) -> tuple[CleanupProof, ...]:
    return tuple(
        CleanupProof(
            recovery_instance_id=i.recovery_instance_id,
            server_id=i.server_id,
            launched_by_job=i.job_id,
            terminated_at=i.terminated_at,
            terminate_job_id=i.terminate_job_id,
            error=i.terminate_error,
        )
        for i in state.instances.values()
        if i.is_drill
    )


@dataclass(frozen=True)
class WaveSummary:
    name: str
    phase: WavePhase
    started_at: datetime | None
    launch_started_at: datetime | None
    launch_completed_at: datetime | None
    completed_at: datetime | None
    skipped_at: datetime | None
    timed_out_at: datetime | None
    approvals: tuple[ApprovalRecord, ...]
    warnings: tuple[str, ...]  # optional servers that failed
    #: Its automation steps (health checks, SSM, Lambda, scripts), each with its attempts.
    steps: tuple[StepEvidence, ...] = ()


@dataclass(frozen=True)
class ExecutionEvidence:
    execution_id: str
    plan_name: str
    mode: str
    point_in_time: datetime | None
    started_at: datetime
    finished_at: datetime | None
    status: ExecutionStatus
    outcome: Outcome | None
    rto: RtoReport
    waves: tuple[WaveSummary, ...]
    servers: tuple[ServerTimeline, ...]
    audit: tuple[AuditEntry, ...]
    cleanup: tuple[CleanupProof, ...]
    drill_instances_running: tuple[str, ...]
    #: What cleanup could not account for: instances never found, terminations DRS failed.
    instance_problems: tuple[str, ...] = ()
    #: Takeovers from a silent desktop: who, from whom, when, the journal complete or not, and the jobs
    #: of this execution its journal did not know (``engine.takeover``).
    takeovers: tuple[TakeoverRecord, ...] = ()
    #: A run in DRS: the native plan and execution, and DRS's last reading of its steps (None: a run here).
    native: NativeEvidence | None = None
    #: A drill into the drill network: each server's template, pointed and restored (None: no drill net).
    drill_network: DrillNetEvidence | None = None


@dataclass(frozen=True)
class NativeStepEvidence:
    """One step of a run in DRS as DRS last reported it (``status`` "" when DRS never listed it), where it
    stands in the local plan, and every DRS job of it the run followed (a retry's new job too), in the
    order they started."""

    index: int
    name: str
    kind: str  # SERVER | WAIT
    wave_index: int
    wave_name: str
    phase: str  # WAIT: BEFORE | AFTER; "" for a SERVER step
    status: str
    error: str
    error_code: str
    wait_minutes: int | None
    updated_at: datetime | None
    servers: tuple[NativeServerSeen, ...]
    job_ids: tuple[str, ...]


@dataclass(frozen=True)
class NativeEvidence:
    """What makes an execution a run in DRS: the native plan, the execution, how this desktop came to
    follow it, DRS's last reading (its status, error and times) and its steps.

    ``how``: "started" (this desktop started it), "attached" (it followed one started elsewhere),
    "refused" (DRS refused the start: nothing ran), "unconfirmed" (a start was sent, its answer never
    came) or "not started"."""

    plan_arn: str
    plan_name: str
    account_id: str
    region: str
    execution_arn: str
    how: str
    how_at: datetime | None
    start_refused: str
    status: str  # DRS's execution status as last read ("" never read)
    error: str
    drs_started_at: datetime | None
    drs_completed_at: datetime | None
    observed_at: datetime | None
    steps: tuple[NativeStepEvidence, ...]
    #: Controls still on their way to DRS when the state was read: (kind, step index, asked at, by).
    pending: tuple[tuple[str, int, datetime, str], ...] = ()


def native_evidence(state: ExecutionState, started: NativeStarted | None = None) -> NativeEvidence | None:
    """The run in DRS of ``state`` (None for a run here). ``started``: the journal's ``NativeStarted``,
    which says whether this desktop started the execution or attached to it; without it (a state read
    without its journal) the spec says so, as the engine journals ``attached`` exactly when the spec names
    the execution to follow."""
    spec, native = state.spec.native, state.native
    if spec is None or native is None:
        return None
    arn = native.execution_arn or spec.execution_arn
    if started is not None:
        how, how_at = ("attached" if started.attached else "started"), started.at
    elif native.execution_arn:
        how, how_at = ("attached" if spec.execution_arn else "started"), None
    elif native.start_refused:
        how, how_at = "refused", native.start_requested_at
    elif native.start_requested_at is not None:
        how, how_at = "unconfirmed", native.start_requested_at
    else:
        how, how_at = "not started", None
    waves = state.spec.waves
    jobs_of_wave: dict[int, list[tuple[datetime, str]]] = {}
    for job in state.jobs.values():
        chunk = state.chunks.get(job.chunk_id)
        if chunk is not None:
            when = job.started_at or chunk.queued_at or state.spec.started_at
            jobs_of_wave.setdefault(chunk.wave_index, []).append((when, job.job_id))
    steps = []
    mapped = {m.index: m for m in spec.steps}
    for index in sorted({*mapped, *(s.index for s in native.steps)}):
        where, seen = mapped.get(index), native.step(index)
        kind = where.kind if where is not None else seen.kind if seen is not None else ""
        wave_index = where.wave_index if where is not None else -1
        jobs = sorted(jobs_of_wave.get(wave_index, ())) if kind == "SERVER" else []
        named = [job for _, job in jobs]
        named += [s.job_id for s in seen.servers if s.job_id and s.job_id not in named] if seen else []
        steps.append(
            NativeStepEvidence(
                index=index,
                name=(seen.name if seen is not None and seen.name else where.name if where else ""),
                kind=kind,
                wave_index=wave_index,
                wave_name=waves[wave_index].name if 0 <= wave_index < len(waves) else "",
                phase=where.phase if where is not None else "",
                status=seen.status if seen is not None else "",
                error=seen.error if seen is not None else "",
                error_code=seen.error_code if seen is not None else "",
                wait_minutes=(seen.wait_minutes if seen is not None else None)
                or (where.wait_minutes if where is not None else None),
                updated_at=seen.updated_at if seen is not None else None,
                servers=seen.servers if seen is not None else (),
                job_ids=tuple(named),
            )
        )
    return NativeEvidence(
        plan_arn=spec.plan_arn,
        plan_name=spec.native_name,
        account_id=spec.account_id,
        region=spec.region,
        execution_arn=arn,
        how=how,
        how_at=how_at,
        start_refused=native.start_refused,
        status=native.status,
        error=native.error,
        drs_started_at=native.started_at,
        drs_completed_at=native.completed_at,
        observed_at=native.observed_at,
        steps=tuple(steps),
        pending=tuple((c.kind, c.step_index, c.requested_at, c.by) for c in native.pending),
    )


def wave_summaries(state: ExecutionState) -> tuple[WaveSummary, ...]:
    summaries = []
    for wave in state.waves:
        warnings = tuple(
            f"optional server {s.server_id} failed: {s.reason}"
            for s in state.wave_servers(wave.index)
            if not s.critical and s.status is ServerStatus.FAILED
        )
        summaries.append(
            WaveSummary(
                name=wave.name,
                phase=wave.phase,
                started_at=wave.started_at,
                launch_started_at=wave.launch_started_at,
                launch_completed_at=wave.launch_completed_at,
                completed_at=wave.completed_at,
                skipped_at=wave.skipped_at,
                timed_out_at=wave.timed_out_at,
                approvals=wave.approvals,
                warnings=warnings,
                steps=automation_evidence(state, wave),
            )
        )
    return tuple(summaries)


def collect_evidence(state: ExecutionState, native_started: NativeStarted | None = None) -> ExecutionEvidence:
    """Everything a report needs, in one value. ``native_started``: the journal's ``NativeStarted`` of a
    run in DRS (``native_evidence``)."""
    spec = state.spec
    return ExecutionEvidence(
        execution_id=spec.execution_id,
        plan_name=spec.plan_name,
        mode=spec.mode.value,
        point_in_time=spec.point_in_time,
        started_at=spec.started_at,
        finished_at=state.finished_at,
        status=execution_status(state),
        outcome=state.finished,
        rto=rto_report(state),
        waves=wave_summaries(state),
        servers=server_timelines(state),
        audit=state.audit,
        cleanup=cleanup_proof(state),
        drill_instances_running=drill_instances_running(state),
        instance_problems=instance_problems(state),
        takeovers=state.takeovers,
        native=native_evidence(state, native_started),
        drill_network=drill_net_evidence(state),
    )


def instance_problems(state: ExecutionState) -> tuple[str, ...]:
    """One line per recovery instance the run cannot vouch for: a launched server's instance DRS never
    listed ("instance of s-... not found in DRS after N looks": cleanup cannot terminate it, so "nothing
    running" would be a lie), and each termination DRS failed, with its reason. The progress view,
    ``executions show``, the report and the cleanup summary all say these."""
    lines = [not_found_text(server_id, looks) for server_id, looks in instances_not_found(state)]
    lines += survey_not_found(state)
    lines += [
        f"termination of {instance} ({server}) failed: {reason}"
        for instance, server, reason in terminate_problems(state)
    ]
    return tuple(lines)
