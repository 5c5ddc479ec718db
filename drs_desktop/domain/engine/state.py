"""The execution model: what an execution is (its spec) and where it stands (its state).

An ``ExecutionSpec`` is the plan resolved to concrete servers plus the run's settings; the runner stores it
with the execution, and ``execution.initial_state(spec)`` plus the journaled events rebuild the state.
The state is a tree of frozen dataclasses: execution -> waves -> chunks (one DRS job each) -> servers,
plus the DRS jobs and recovery instances this execution owns. Mappings inside are never mutated; the
reducer builds new ones. Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from drs_desktop.domain.engine.automation_state import StepRun
from drs_desktop.domain.engine.chunking import Limits, split_servers
from drs_desktop.domain.engine.codec import from_json, to_json
from drs_desktop.domain.engine.drill_net_state import DrillNetSpec, NetState, initial_net
from drs_desktop.domain.engine.events import HoldingJob, JobStatus, LaunchStatus, Outcome, StepPhase
from drs_desktop.domain.engine.native_state import NativeRunSpec, NativeRunState
from drs_desktop.domain.engine.polling import PollSettings, PollState
from drs_desktop.domain.engine.reconcile_events import TaggedJob
from drs_desktop.domain.plan.model import RecoveryPlan, Step


class Mode(StrEnum):
    DRILL = "DRILL"
    RECOVERY = "RECOVERY"


class WavePhase(StrEnum):
    """A wave's position. FAILED is not a phase: a LAUNCHING wave with a failed critical server holds."""

    BLOCKED = "BLOCKED"  # waiting for the waves it depends on
    BEFORE = "BEFORE"  # running its before-steps (approvals, waits)
    LAUNCHING = "LAUNCHING"  # chunks queued or running; ends when every critical server is ready
    AFTER = "AFTER"  # running its after-steps
    COMPLETED = "COMPLETED"
    SKIPPED = "SKIPPED"


class ChunkStatus(StrEnum):
    """One StartRecovery job's life. START_REQUESTED and UNCERTAIN are "unresolved": reconcile first."""

    PLANNED = "PLANNED"  # its wave has not started launching
    QUEUED = "QUEUED"  # waiting for quota, for its not_before, or for the operator (pause, hold)
    START_REQUESTED = "START_REQUESTED"  # intent journaled; the call's outcome is not recorded
    STARTED = "STARTED"  # DRS job known
    START_FAILED = "START_FAILED"  # refused for good; nothing launched
    UNCERTAIN = "UNCERTAIN"  # the call failed ambiguously; the job may exist
    ABANDONED = "ABANDONED"  # never started: its wave was skipped or timed out, or the run stopped


UNRESOLVED = frozenset({ChunkStatus.START_REQUESTED, ChunkStatus.UNCERTAIN})


class ServerStatus(StrEnum):
    PENDING = "PENDING"  # its chunk is planned or queued
    STARTING = "STARTING"  # its chunk's StartRecovery is requested or uncertain
    LAUNCHING = "LAUNCHING"  # in a DRS job, launchStatus PENDING or IN_PROGRESS
    LAUNCHED = "LAUNCHED"  # the recovery instance launched (post-launch actions may still run)
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # its wave was skipped before it started
    CANCELLED = "CANCELLED"  # the execution stopped before it started


class PostLaunch(StrEnum):
    NOT_EXPECTED = "NOT_EXPECTED"
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ExecutionStatus(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    WAITING_APPROVAL = "WAITING_APPROVAL"
    HELD = "HELD"  # a critical failure waits for the operator: retry, skip the wave, or cancel
    CANCELLING = "CANCELLING"  # stopped launching; waiting for running jobs (and cleanup) to settle
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


# -- the spec


@dataclass(frozen=True, kw_only=True)
class WaveSpec:
    """A wave resolved to servers. ``post_launch``: servers with post-launch actions configured."""

    name: str
    server_ids: tuple[str, ...]
    optional: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    before: tuple[Step, ...] = ()
    after: tuple[Step, ...] = ()
    post_launch: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ExecutionSpec:
    """Everything fixed when an execution starts. ``snapshot_ids``: the point-in-time choice per server
    (empty for "latest"). ``seed`` drives the backoff jitter; empty means the execution ID."""

    execution_id: str
    mode: Mode
    started_at: datetime
    waves: tuple[WaveSpec, ...]
    plan_name: str = ""
    point_in_time: datetime | None = None
    snapshot_ids: Mapping[str, str] = field(default_factory=dict)
    rto_target: timedelta | None = None
    limits: Limits = field(default_factory=Limits)
    polling: PollSettings = field(default_factory=PollSettings)
    wave_timeout: timedelta = timedelta(hours=2)
    reconcile_delay: timedelta = timedelta(seconds=15)
    #: After a start with an unknown outcome, DRS may still act on the request: it is started again only
    #: once DRS's time is past the intent's by this much (the client's read timeout plus 5 minutes) with
    #: no job found. Set from the gateway's read timeout when the execution is prepared.
    start_settle: timedelta = timedelta(seconds=60 + 300)
    max_start_attempts: int = 4
    max_terminate_attempts: int = 5
    seed: str = ""
    #: How long a run waits for a DRS job it no longer needs (stopped, or every server of it settled)
    #: before it finishes without it (``engine.grace``): DRS cannot cancel a job, and one may never end.
    cancel_grace: timedelta = timedelta(minutes=45)
    #: A run across several DRS targets (``engine.accounts``): their names, the first one the run's home
    #: (its clock), and the target of every server. Empty: one target, the connected one.
    targets: tuple[str, ...] = ()
    server_targets: Mapping[str, str] = field(default_factory=dict)
    #: A run in DRS (``engine.native``): the native plan DRS runs; the desktop starts no job itself.
    native: NativeRunSpec | None = None
    #: A drill into the plan's drill network (``engine.drill_net``); never set for a RECOVERY.
    drill_net: DrillNetSpec | None = None

    @property
    def jitter_seed(self) -> str:
        return self.seed or self.execution_id

    def wave_index(self, name: str) -> int | None:
        for index, wave in enumerate(self.waves):
            if wave.name == name:
                return index
        return None


def spec_to_json(spec: ExecutionSpec) -> dict[str, Any]:
    data = to_json(spec)
    assert isinstance(data, dict)
    return data


def spec_from_json(data: Mapping[str, Any]) -> ExecutionSpec:
    spec: ExecutionSpec = from_json(ExecutionSpec, dict(data))
    return spec


def spec_problems(spec: ExecutionSpec) -> list[str]:
    """Why ``spec`` cannot run (empty: it can). Checked by ``initial_state``, which refuses to guess."""
    problems: list[str] = []
    if spec.started_at.tzinfo is None:
        problems.append("started_at must be timezone-aware")
    if spec.wave_timeout <= timedelta(0):
        problems.append("wave_timeout must be positive")
    if spec.cancel_grace <= timedelta(0):
        problems.append("cancel_grace must be positive")
    if spec.max_start_attempts < 1 or spec.max_terminate_attempts < 1:
        problems.append("attempt limits must be at least 1")
    names = [wave.name for wave in spec.waves]
    if len(set(names)) != len(names):
        problems.append("wave names must be unique")
    seen: dict[str, str] = {}
    for wave in spec.waves:
        for server_id in wave.server_ids:
            if server_id in seen:
                problems.append(f"{server_id} is in wave {seen[server_id]!r} and in wave {wave.name!r}")
            seen.setdefault(server_id, wave.name)
        for name in wave.depends_on:
            if name not in names:
                problems.append(f"wave {wave.name!r} depends on unknown wave {name!r}")
    if not problems and _has_cycle(spec):
        problems.append("the wave dependencies form a cycle, so some wave could never start")
    if spec.targets:
        if len(set(spec.targets)) != len(spec.targets) or "" in spec.targets:
            problems.append("target names must be unique and not empty")
        lost = [server_id for server_id in seen if spec.server_targets.get(server_id) not in spec.targets]
        if lost:
            problems.append(f"no known target for {len(lost)} server(s): {', '.join(lost[:5])}")
    elif spec.server_targets:
        problems.append("server targets are given but no targets")
    if spec.native is not None:
        problems.extend(_native_problems(spec))
    if spec.drill_net is not None:
        if spec.mode is not Mode.DRILL:
            problems.append("only a drill launches into the drill network")
        if not spec.drill_net.subnet_ids:
            problems.append("the drill network names no subnet")
        if spec.native is not None:
            problems.append("a run in DRS cannot point launch templates at the drill network")
    if spec.point_in_time is not None:
        missing = [server_id for server_id in seen if server_id not in spec.snapshot_ids]
        if missing:
            problems.append(
                f"no recovery snapshot chosen for {len(missing)} server(s): {', '.join(missing[:5])}"
            )
    return problems


def _native_problems(spec: ExecutionSpec) -> list[str]:
    """A run in DRS runs in one target, and each wave is exactly one SERVER step of the native plan."""
    native = spec.native
    assert native is not None
    problems: list[str] = []
    if not native.plan_arn:
        problems.append("a run in DRS needs the native plan's ARN")
    if spec.targets:
        problems.append("a run in DRS runs in the connected target only")
    for index in range(len(spec.waves)):
        if sum(1 for s in native.steps if s.kind == "SERVER" and s.wave_index == index) != 1:
            name = spec.waves[index].name
            problems.append(f"wave {name!r} is not exactly one server step of the native plan")
    if any(not 0 <= s.wave_index < len(spec.waves) for s in native.steps):
        problems.append("a native step stands at a wave the plan does not have")
    return problems


def _has_cycle(spec: ExecutionSpec) -> bool:
    done: set[int] = set()
    remaining = set(range(len(spec.waves)))
    while remaining:
        ready = {
            i for i in remaining if all(spec.wave_index(name) in done for name in spec.waves[i].depends_on)
        }
        if not ready:
            return True
        done |= ready
        remaining -= ready
    return False


# -- the state


@dataclass(frozen=True, kw_only=True)
class AttemptRecord:
    """A previous try of a server, kept when the operator retries it (evidence)."""

    chunk_id: str | None
    job_id: str | None
    status: ServerStatus
    reason: str
    phase_times: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ServerState:
    server_id: str
    wave_index: int
    critical: bool
    post_launch_expected: bool  # honoured in RECOVERY only
    #: The DRS target (account and Region) the server is in: a name of ``ExecutionSpec.targets``, or ""
    #: in a run of one target (``engine.accounts``).
    target: str = ""
    status: ServerStatus = ServerStatus.PENDING
    reason: str = ""
    chunk_id: str | None = None
    job_id: str | None = None
    launch_status: LaunchStatus | None = None
    post_launch: PostLaunch = PostLaunch.NOT_EXPECTED
    timed_out: bool = False
    retries: int = 0
    job_ids: tuple[str, ...] = ()
    attempts: tuple[AttemptRecord, ...] = ()
    queued_at: datetime | None = None
    start_requested_at: datetime | None = None
    job_started_at: datetime | None = None
    launched_at: datetime | None = None
    ready_at: datetime | None = None  # launched, and post-launch actions done where expected
    failed_at: datetime | None = None
    phase_times: Mapping[str, datetime] = field(default_factory=dict)  # first of each job-log event
    recovery_instance_id: str | None = None
    ec2_instance_id: str | None = None
    instance_lookup_job: str | None = None  # the job whose instance was looked up with Describe...
    #: Looks (DescribeRecoveryInstances) for the instance of ``instance_lookup_job`` and the last one's
    #: time; ``instance_not_found``: the looks reached their bound without finding it (``engine.instances``).
    instance_looks: int = 0
    instance_looked_at: datetime | None = None
    instance_not_found: bool = False
    #: DRS's first reason for failing this launch (the job log's first failure item, or SERVER_SKIPPED),
    #: and its time: kept whatever the log says later (a cleanup error, a repeated item).
    drs_failure: str = ""
    drs_failure_at: datetime | None = None
    #: A job that is not this execution's took the server after this run asked DRS to start it: the run
    #: never launches it again and holds for the operator (skip the wave or cancel).
    foreign_job_id: str | None = None
    #: The last job seen holding the server while it waited to start (``engine.busy``), and when it let go.
    held_by: HoldingJob | None = None
    held_until: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ChunkState:
    """Servers started together by one StartRecovery. ``attempt``: calls made; ``failures``: calls that
    did not start it (refused, or found not launched after reconciling)."""

    chunk_id: str
    wave_index: int
    seq: int
    server_ids: tuple[str, ...]
    target: str = ""  # one job is started in one account: a chunk's servers share their target
    status: ChunkStatus = ChunkStatus.PLANNED
    is_retry: bool = False
    attempt: int = 0
    failures: int = 0
    queued_at: datetime | None = None
    requested_at: datetime | None = None
    not_before: datetime | None = None
    job_id: str | None = None
    reason: str = ""
    looks: int = 0  # looks at DRS's records since the outcome became unknown (reconcile)
    looked_at: datetime | None = None
    conflict_at: datetime | None = None  # DRS answered Conflict; no look at the account's jobs since


@dataclass(frozen=True, kw_only=True)
class JobState:
    """A DRS job of this execution. ``version`` counts observed changes; the log is fetched while
    ``log_version`` lags behind it."""

    job_id: str
    chunk_id: str
    status: JobStatus = JobStatus.PENDING
    started_at: datetime | None = None
    completed_at: datetime | None = None
    version: int = 1
    log_version: int = 0
    log_seen: int = 0  # items of its log journaled so far (``drs.observations.job_log_observed``)
    missing_polls: int = 0
    gone: bool = False  # DRS stopped reporting it; treated as ended
    left_running_at: datetime | None = None  # the run stopped waiting for it (``engine.grace``)


@dataclass(frozen=True, kw_only=True)
class InstanceRecord:
    """A recovery instance launched by one of this execution's jobs: what cleanup may terminate."""

    recovery_instance_id: str
    server_id: str
    job_id: str
    is_drill: bool
    seen_at: datetime
    ec2_instance_id: str | None = None
    terminate_attempts: int = 0
    terminate_requested_at: datetime | None = None
    terminated_at: datetime | None = None
    terminate_job_id: str | None = None
    terminate_error: str = ""
    #: ``TerminateRequested`` is journaled and its answer is not: a crash cut the call off, so DRS may
    #: have started a TERMINATE job for it (``engine.terminations`` finds it before asking again).
    terminate_unresolved: bool = False
    #: DRS no longer lists it (a later launch of the server replaced it, or it was terminated outside
    #: the app): nothing left to terminate.
    gone_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class TerminateJobState:
    """A TERMINATE job this execution started, followed like a launch job (``engine.terminations``):
    its instances count as terminated only once it has ended with them TERMINATED."""

    job_id: str
    instance_ids: tuple[str, ...]
    started_at: datetime
    status: JobStatus = JobStatus.PENDING
    completed_at: datetime | None = None
    version: int = 1
    log_version: int = 0
    log_seen: int = 0
    missing_polls: int = 0
    gone: bool = False

    @property
    def active(self) -> bool:
        return self.status is not JobStatus.COMPLETED and not self.gone


@dataclass(frozen=True, kw_only=True)
class ForeignInstance:
    """A recovery instance of one of this execution's servers that the execution did not launch (a
    colleague's drill, the console, a recovery): cleanup lists it and never terminates it."""

    recovery_instance_id: str
    server_id: str
    job_id: str | None
    reason: str
    ec2_instance_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ApprovalRecord:
    phase: StepPhase
    step_index: int
    message: str
    requested_at: datetime
    decided_at: datetime
    by: str
    granted: bool
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class StepRecord:
    """A finished step: ``kind`` is "approval", "wait" or an automation step's kind (``health-check``,
    ``ssm``, ``lambda``, ``script``), with its name and how it ended (``automation_state.StepOutcome``:
    "" for approvals and waits)."""

    phase: StepPhase
    step_index: int
    kind: str
    started_at: datetime
    ended_at: datetime
    name: str = ""
    outcome: str = ""


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """An operator control, for the evidence trail: what, when, by whom."""

    action: str
    at: datetime
    by: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class TakeoverRecord:
    """This desktop took the run over from a silent one (``engine.takeover``): who, from whom, when, and
    what the checks of DRS's records found that this journal did not know (jobs tagged with this execution
    for a chunk it has not got: a retry the previous driver made after its last push)."""

    at: datetime
    by: str
    previous: str
    operator: str
    journal_complete: bool
    unchecked: tuple[str, ...] = ()  # the chunks to check, as the takeover found them
    unknown_jobs: tuple[TaggedJob, ...] = ()
    #: Per DRS target ("" in a run of one): the DRS time of the first look after the takeover (the settle
    #: is timed from it when it is later than ``at``: ``at`` is this desktop's clock if DRS's was not read),
    #: and the targets whose records were looked at past the settle: until then nothing starts there.
    first_looks: tuple[tuple[str, datetime], ...] = ()
    last_looks: tuple[tuple[str, datetime], ...] = ()  # per target: when the last look was folded in
    settled: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class WaveState:
    index: int
    name: str
    phase: WavePhase = WavePhase.BLOCKED
    step_index: int = 0
    step_started_at: datetime | None = None  # the current step's wait start or approval request
    started_at: datetime | None = None
    launch_started_at: datetime | None = None
    launch_completed_at: datetime | None = None
    completed_at: datetime | None = None
    skipped_at: datetime | None = None
    deadline_from: datetime | None = None  # launch start, or the last retry
    timed_out_at: datetime | None = None
    #: Its waiting servers held by other jobs since, and the spans they were (not counted by its timeout).
    held_since: datetime | None = None
    held_intervals: tuple[tuple[datetime, datetime], ...] = ()
    next_chunk_seq: int = 1
    approvals: tuple[ApprovalRecord, ...] = ()
    steps: tuple[StepRecord, ...] = ()

    def steps_of(self, spec: ExecutionSpec) -> tuple[Step, ...]:
        wave = spec.waves[self.index]
        return wave.after if self.phase is WavePhase.AFTER else wave.before

    def step_phase(self) -> StepPhase:
        return StepPhase.AFTER if self.phase is WavePhase.AFTER else StepPhase.BEFORE


@dataclass(frozen=True, kw_only=True)
class StopRequest:
    """Cancel or rejection: no more launches; finish with ``outcome`` once running jobs settle."""

    at: datetime
    by: str
    outcome: Outcome
    reason: str


@dataclass(frozen=True, kw_only=True)
class AccountFields:
    """What ``ExecutionState`` keeps per DRS account: read pacing, the account's load, cleanup's looks."""

    poll: PollState = field(default_factory=PollState)
    external_jobs: int = 0
    external_busy: tuple[str, ...] = ()
    load_due: bool = False
    load_looked_at: datetime | None = None
    load_looks: int = 0
    cleanup_surveyed: bool = False
    survey_looks: int = 0
    survey_again_at: datetime | None = None
    survey_unfound: tuple[tuple[str, str], ...] = ()
    #: The account refused the credentials (an expired token, a role no longer assumable) or they are
    #: about to expire and only a person can renew them: no call goes to it until the operator renews
    #: them (``CredentialsRenewed``); the run is held meanwhile (``engine.accounts``).
    auth_problem: str = ""
    auth_since: datetime | None = None


ACCOUNT_FIELDS: tuple[str, ...] = tuple(AccountFields.__dataclass_fields__)


@dataclass(frozen=True, kw_only=True)
class ExecutionState:
    spec: ExecutionSpec
    waves: tuple[WaveState, ...]
    servers: Mapping[str, ServerState]
    chunks: Mapping[str, ChunkState]
    jobs: Mapping[str, JobState] = field(default_factory=dict)
    instances: Mapping[str, InstanceRecord] = field(default_factory=dict)
    foreign_instances: Mapping[str, ForeignInstance] = field(default_factory=dict)
    terminate_jobs: Mapping[str, TerminateJobState] = field(default_factory=dict)
    cleanup_surveyed: bool = False  # this cleanup request looked at DRS for every instance of ours
    #: Looks of this cleanup at DRS's records; while a job of ours shows a server LAUNCHED whose
    #: instance DRS does not list yet, it looks again at ``survey_again_at`` (``engine.reconcile``).
    survey_looks: int = 0
    survey_again_at: datetime | None = None
    survey_unfound: tuple[tuple[str, str], ...] = ()  # (server, job): launched for us, not listed
    auth_problem: str = ""  # why the (focused) account's credentials cannot be used (``AccountFields``)
    auth_since: datetime | None = None
    external_jobs: int = 0
    external_busy: tuple[str, ...] = ()
    load_due: bool = False  # a poll saw queued chunks: size the account's load before they start
    load_looked_at: datetime | None = None  # the last look at the account's jobs (``engine.busy``)
    load_looks: int = 0  # looks in a row that left a chunk waiting: the look timer's backoff
    paused: bool = False
    stop: StopRequest | None = None
    cleanup_requested: bool = False
    poll: PollState = field(default_factory=PollState)
    blocked_since: datetime | None = None  # paused or held since (wave timeouts do not run then)
    blocked_intervals: tuple[tuple[datetime, datetime], ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    finished: Outcome | None = None
    finished_at: datetime | None = None
    #: A run across targets (``engine.accounts``): the account fields above (those ``AccountFields``
    #: names: ``poll``, the load, cleanup's looks, ``auth_problem``) are those of the ``focus`` target;
    #: ``accounts`` keeps every other target's.
    focus: str = ""
    accounts: Mapping[str, AccountFields] = field(default_factory=dict)
    #: Set only in one target's view (``engine.accounts.view``): whether the whole run is held (a critical
    #: failure anywhere, or a target's credentials), as the full state says; a view does not hold every
    #: server to tell, and ``queries.is_held`` is asked many times per decision.
    held: bool | None = None
    #: Takeovers from a silent desktop, oldest first, and the chunks this journal shows never started that
    #: are not yet checked against DRS's records (``engine.takeover``): none of them starts until then.
    takeovers: tuple[TakeoverRecord, ...] = ()
    unchecked: tuple[str, ...] = ()
    #: A run in DRS (``engine.native``): the execution as last read, and controls on their way to DRS.
    native: NativeRunState | None = None
    #: A drill into the drill network (``engine.drill_net``): each server's launch template.
    drill_net: Mapping[str, NetState] = field(default_factory=dict)
    #: The waves' automation steps that have started, by ``automation_state.step_key``
    #: (``engine.automation``).
    automation: Mapping[str, StepRun] = field(default_factory=dict)

    # -- copy-on-write helpers for the reducer

    def with_servers(self, *servers: ServerState) -> ExecutionState:
        return replace(self, servers={**self.servers, **{s.server_id: s for s in servers}})

    def with_chunks(self, *chunks: ChunkState) -> ExecutionState:
        return replace(self, chunks={**self.chunks, **{c.chunk_id: c for c in chunks}})

    def with_jobs(self, *jobs: JobState) -> ExecutionState:
        return replace(self, jobs={**self.jobs, **{j.job_id: j for j in jobs}})

    def with_instances(self, *instances: InstanceRecord) -> ExecutionState:
        return replace(self, instances={**self.instances, **{i.recovery_instance_id: i for i in instances}})

    def with_wave(self, wave: WaveState) -> ExecutionState:
        waves = list(self.waves)
        waves[wave.index] = wave
        return replace(self, waves=tuple(waves))

    def noting(self, action: str, at: datetime, by: str, detail: str = "") -> ExecutionState:
        return replace(self, audit=(*self.audit, AuditEntry(action=action, at=at, by=by, detail=detail)))

    @property
    def is_drill(self) -> bool:
        return self.spec.mode is Mode.DRILL

    def wave_servers(self, index: int) -> tuple[ServerState, ...]:
        return tuple(self.servers[s] for s in self.spec.waves[index].server_ids)

    def wave_chunks(self, index: int) -> tuple[ChunkState, ...]:
        return tuple(c for c in self.chunks.values() if c.wave_index == index)


def chunk_id_for(wave_index: int, seq: int) -> str:
    """Chunk IDs read like the progress view: wave 2's first chunk is "2.1" (both 1-based)."""
    return f"{wave_index + 1}.{seq}"


def build_state(spec: ExecutionSpec) -> ExecutionState:
    """The unsettled starting state: every wave BLOCKED, every chunk PLANNED. See ``initial_state``."""
    problems = spec_problems(spec)
    if problems:
        raise ValueError("cannot run this execution: " + "; ".join(problems))
    recovery = spec.mode is Mode.RECOVERY
    servers: dict[str, ServerState] = {}
    chunks: dict[str, ChunkState] = {}
    waves: list[WaveState] = []
    for index, wave in enumerate(spec.waves):
        optional = set(wave.optional)
        post_launch = set(wave.post_launch)
        for server_id in wave.server_ids:
            expected = recovery and server_id in post_launch
            servers[server_id] = ServerState(
                server_id=server_id,
                wave_index=index,
                critical=server_id not in optional,
                post_launch_expected=expected,
                post_launch=PostLaunch.PENDING if expected else PostLaunch.NOT_EXPECTED,
                target=spec.server_targets.get(server_id, ""),
            )
        seq = 1
        for target, members in split_by_target(spec, wave.server_ids):
            chunk = ChunkState(
                chunk_id=chunk_id_for(index, seq),
                wave_index=index,
                seq=seq,
                server_ids=members,
                target=target,
            )
            chunks[chunk.chunk_id] = chunk
            for server_id in members:
                servers[server_id] = replace(servers[server_id], chunk_id=chunk.chunk_id)
            seq += 1
        waves.append(WaveState(index=index, name=wave.name, next_chunk_seq=seq))
    home = spec.targets[0] if spec.targets else ""
    native = None if spec.native is None else NativeRunState()
    return ExecutionState(
        spec=spec,
        waves=tuple(waves),
        servers=servers,
        chunks=chunks,
        focus=home,
        native=native,
        drill_net=initial_net(spec.drill_net, tuple(servers)),
    )


def split_by_target(spec: ExecutionSpec, server_ids: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """(target, servers) of each job to start for ``server_ids`` of one wave: grouped by target in the
    order the targets are declared, each group split by DRS's job limits (``chunking.split_servers``)."""
    by_target: dict[str, list[str]] = {name: [] for name in spec.targets}
    for server_id in server_ids:
        by_target.setdefault(spec.server_targets.get(server_id, ""), []).append(server_id)
    return [
        (target, members)
        for target, ids in by_target.items()
        for members in split_servers(ids, spec.limits.chunk_size)
    ]


def spec_from_plan(
    plan: RecoveryPlan,
    wave_servers: Mapping[str, Sequence[str]],
    *,
    execution_id: str,
    mode: Mode,
    started_at: datetime,
    post_launch: Iterable[str] = (),
    **settings: Any,
) -> ExecutionSpec:
    """The spec of a run of ``plan`` whose waves resolved to ``wave_servers`` (wave name -> server IDs,
    as ``plan.validation.resolve_wave_servers`` gives them). ``post_launch``: servers with post-launch
    actions configured; ``settings``: any other ``ExecutionSpec`` field (limits, wave_timeout, ...)."""
    with_actions = set(post_launch)
    waves = []
    for index, wave in enumerate(plan.waves):
        servers = tuple(dict.fromkeys(wave_servers.get(wave.name, ())))
        waves.append(
            WaveSpec(
                name=wave.name,
                server_ids=servers,
                optional=tuple(s for s in wave.optional if s in servers),
                depends_on=plan.dependencies(index),
                before=wave.before,
                after=wave.after,
                post_launch=tuple(s for s in servers if s in with_actions),
            )
        )
    settings.setdefault("rto_target", timedelta(minutes=plan.rto_minutes) if plan.rto_minutes else None)
    return ExecutionSpec(
        execution_id=execution_id,
        mode=mode,
        started_at=started_at,
        waves=tuple(waves),
        plan_name=plan.name,
        **settings,
    )
