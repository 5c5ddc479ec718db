"""The events of an execution: what the runner observed, what the operator did, what the engine noted.

Event sourcing: the runner journals each event (``event_to_json``) before acting on it and rebuilds the
execution after a crash by replaying the journal through ``engine.reducer.apply``. So events are facts with a
time, frozen, JSON-serializable, and never change meaning: add fields with defaults, never repurpose one.

Three kinds:
- observations and call results (``StartRequested`` is the intent the runner journals *before* it calls
  StartRecovery; ``JobStarted``/``StartFailed`` its outcome; ``JobsObserved`` a DescribeJobs poll, ...);
- operator controls (``Pause``, ``Cancel``, ``RetryFailed``, ``ApprovalGranted``, ...), each with who;
- bookkeeping the engine asks the runner to record (``Tick``: time passed; ``ExecutionFinished``).

All events are keyword-only; ``at`` is an aware datetime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeAlias, get_args

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
from drs_desktop.domain.engine.codec import decode_tagged, to_json
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
from drs_desktop.domain.engine.instance_events import InstancesNotFound, TerminationsReconciled
from drs_desktop.domain.engine.native_events import (
    NativeControlFailed,
    NativeControlSent,
    NativeLooked,
    NativeObserved,
    NativeStarted,
    NativeStartFailed,
    NativeStartRequested,
)
from drs_desktop.domain.engine.reconcile_events import InstancesSurveyed, StartsReconciled


class JobStatus(StrEnum):
    """DRS Job.status. There is no FAILED: success is per server (reference §9.3)."""

    PENDING = "PENDING"
    STARTED = "STARTED"
    COMPLETED = "COMPLETED"


class LaunchStatus(StrEnum):
    """DRS participatingServers[].launchStatus."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    LAUNCHED = "LAUNCHED"
    FAILED = "FAILED"
    TERMINATED = "TERMINATED"


class StepPhase(StrEnum):
    """Whether a step runs before a wave's launch or after it completed."""

    BEFORE = "BEFORE"
    AFTER = "AFTER"


class Outcome(StrEnum):
    """How an execution ended."""

    SUCCEEDED = "SUCCEEDED"  # every wave completed or was skipped
    FAILED = "FAILED"  # cancelled while holding after a critical failure, or an approval was rejected
    CANCELLED = "CANCELLED"  # the operator cancelled


# -- value types carried by observations


@dataclass(frozen=True, kw_only=True)
class JobServerView:
    """One participating server of a DRS job, as DescribeJobs reported it."""

    server_id: str
    launch_status: LaunchStatus
    recovery_instance_id: str | None = None
    ec2_instance_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class JobView:
    """A DRS job as DescribeJobs reported it."""

    job_id: str
    status: JobStatus
    servers: tuple[JobServerView, ...] = ()


@dataclass(frozen=True, kw_only=True)
class JobLogItem:
    """One DescribeJobLogItems entry: ``event`` is DRS's JobLogEvent name (SNAPSHOT_START, ...)."""

    at: datetime
    event: str
    server_id: str | None = None
    detail: str = ""  # eventData.rawError for *_FAIL events


@dataclass(frozen=True, kw_only=True)
class InstanceView:
    """A recovery instance found with DescribeRecoveryInstances (when a job did not name it, §12.5)."""

    recovery_instance_id: str
    server_id: str
    job_id: str
    ec2_instance_id: str | None = None


# -- starting jobs


@dataclass(frozen=True, kw_only=True)
class StartRequested:
    """Journaled before StartRecovery is sent: from here on the chunk may have launched."""

    chunk_id: str
    at: datetime
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class JobStarted:
    """StartRecovery answered with this job."""

    chunk_id: str
    job_id: str
    at: datetime
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class StartFailed:
    """StartRecovery failed. ``definite``: DRS refused it (4xx, 402, 429), so nothing launched.

    Not definite (timeout, 5xx, connection dropped): the job may exist; the engine reconciles.
    ``reason`` is the error code (ConflictException, ...), ``retry_after`` a Retry-After in seconds.
    ``busy``: the refusal says a server is in another job (ConflictException, reference §12.10): the
    chunk waits for it without spending an attempt (``engine.busy``). Journals written before it was
    kept leave it False and replay as they ran (each Conflict spent an attempt).
    """

    chunk_id: str
    reason: str
    definite: bool
    at: datetime
    retry_after: float | None = None
    busy: bool = False
    #: The refusal is about the credentials (an expired session token, a role that may no longer be
    #: assumed), not the servers: nothing launched, no attempt is spent, and the target waits for new
    #: credentials (``engine.accounts``). False in journals written before it was kept.
    auth: bool = False
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class Reconciled:
    """The runner listed the jobs since the execution started: this chunk's job, or None (never launched)."""

    chunk_id: str
    job_id: str | None
    at: datetime
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


# -- watching jobs


@dataclass(frozen=True, kw_only=True)
class JobsObserved:
    """A poll (DescribeJobs by ID). ``missing_job_ids``: asked for but not returned."""

    jobs: tuple[JobView, ...]
    at: datetime
    missing_job_ids: tuple[str, ...] = ()
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class JobsVerified:
    """The answer to VerifyJobs after a wave timed out: the truth, after which servers may be failed."""

    wave_index: int
    jobs: tuple[JobView, ...]
    at: datetime
    missing_job_ids: tuple[str, ...] = ()
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class JobLogObserved:
    """DescribeJobLogItems of one job: the items new since the last read, and every failure item
    (repeats are harmless; ``drs.observations.job_log_observed`` picks them). ``seen``: how many items the
    whole log had then (None in journals written before it was kept)."""

    job_id: str
    items: tuple[JobLogItem, ...]
    at: datetime
    seen: int | None = None
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class RecoveryInstancesObserved:
    """DescribeRecoveryInstances for ``server_ids``: their instances (only this execution's jobs count)."""

    server_ids: tuple[str, ...]
    instances: tuple[InstanceView, ...]
    at: datetime
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class PostLaunchCompleted:
    """The server's post-launch actions (launchActionsStatus runs) all succeeded."""

    server_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class PostLaunchFailed:
    server_id: str
    reason: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class Throttled:
    """A read call got ThrottlingException; ``retry_after`` is its Retry-After in seconds (0 if none)."""

    at: datetime
    retry_after: float = 0.0
    operation: str = ""
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class PollFailed:
    """A read call failed; ``transient`` for 5xx and network errors, else e.g. AccessDenied."""

    at: datetime
    transient: bool
    reason: str = ""
    #: The account refused the credentials (``StartFailed.auth``): the target waits for new ones.
    auth: bool = False
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class HoldingJob:
    """An active DRS job holding some of this execution's servers (only those are named): who started
    it and since when, as DescribeJobs says (``created_at`` its creationDateTime, ``initiated_by`` e.g.
    START_DRILL, ``tags`` without DRS's own ``resourceArn``). ``job_id`` empty: DRS answered
    ConflictException and no look has named the job yet."""

    job_id: str
    server_ids: tuple[str, ...] = ()
    created_at: datetime | None = None
    initiated_by: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ExternalLoad:
    """Jobs active in the account outside this execution, and the servers in them (replaces the last);
    derived from a listing by ``drs.observations.external_load``. ``holders``: the active jobs holding
    servers of this execution (empty in journals written before it was kept)."""

    active_jobs: int
    busy_server_ids: tuple[str, ...]
    at: datetime
    holders: tuple[HoldingJob, ...] = ()
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


# -- terminating drill instances


@dataclass(frozen=True, kw_only=True)
class TerminateRequested:
    """Journaled before TerminateRecoveryInstances is sent."""

    instance_ids: tuple[str, ...]
    at: datetime
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class InstancesTerminated:
    """TerminateRecoveryInstances accepted these IDs; ``job_id`` is DRS's TERMINATE job (cleanup proof).

    ``awaits_job`` (journaled since TERMINATE jobs are followed): the instances count as terminated only
    once that job has ended with them TERMINATED (``engine.terminations``). False in older journals,
    where acceptance was taken for the termination itself."""

    instance_ids: tuple[str, ...]
    job_id: str | None
    at: datetime
    awaits_job: bool = False
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class TerminateFailed:
    instance_ids: tuple[str, ...]
    reason: str
    definite: bool
    at: datetime
    auth: bool = False  # refused credentials (``StartFailed.auth``): no attempt spent
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


# -- operator controls


@dataclass(frozen=True, kw_only=True)
class Pause:
    """No new StartRecovery (neither new waves nor queued chunks); running jobs go on being polled."""

    at: datetime
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class Resume:
    at: datetime
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class Cancel:
    """Stop launching; let running jobs settle; for a drill, optionally terminate its instances."""

    at: datetime
    by: str = ""
    terminate_drill_instances: bool = False


@dataclass(frozen=True, kw_only=True)
class RetryFailed:
    """Start the failed servers of a wave again (``server_ids`` None: all of them)."""

    wave_index: int
    at: datetime
    by: str = ""
    server_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class SkipWave:
    """Give a wave up: it counts as satisfied for the waves that depend on it."""

    wave_index: int
    at: datetime
    by: str = ""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ApprovalGranted:
    wave_index: int
    phase: StepPhase
    step_index: int
    by: str
    at: datetime
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class ApprovalRejected:
    """Ends the execution as FAILED once running jobs settle (see ``engine.reducer`` for why)."""

    wave_index: int
    phase: StepPhase
    step_index: int
    by: str
    at: datetime
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class StepDecided:
    """The operator's decision on a held automation step (``engine.automation``): ``retry`` (one more
    attempt), ``done`` (the step counts as passed), or ``fail`` (the step fails, and its wave with it)."""

    wave_index: int
    phase: StepPhase
    step_index: int
    action: str
    at: datetime
    by: str = ""
    comment: str = ""


STEP_ACTIONS = ("retry", "done", "fail")


@dataclass(frozen=True, kw_only=True)
class CleanupRequested:
    """Terminate this drill's recovery instances (after it finished, or while it is being cancelled)."""

    at: datetime
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class RunnerRestarted:
    """Journaled when a runner opens an unfinished execution (after a crash or a restart of the app).

    A chunk whose last word is still ``StartRequested`` had its call cut off: it becomes UNCERTAIN.
    """

    at: datetime


@dataclass(frozen=True, kw_only=True)
class TakenOver:
    """Journaled right after ``RunnerRestarted`` when this desktop took the run over from a silent one
    (team sync's lease expired and ``operator`` confirmed; docs/sync.md, "Leases"). ``by``: this desktop's
    ID; ``previous``: the desktop that drove it ("" unknown). Unless ``journal_complete`` (the previous
    driver released its lease after pushing this whole journal), every chunk this journal shows never
    started is checked against DRS's records before anything starts (``engine.takeover``)."""

    at: datetime
    by: str
    previous: str = ""
    operator: str = ""
    journal_complete: bool = False


@dataclass(frozen=True, kw_only=True)
class CredentialsRenewed:
    """The operator renewed the credentials of ``target`` (an MFA code, a sign-in, new keys): its calls
    may go out again (``engine.accounts``). "" is the connected target of a run of one target."""

    target: str
    at: datetime
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class CredentialsNeeded:
    """The runner saw that ``target``'s credentials expire at ``expires_at`` and that only a person can
    renew them (an MFA code, an IAM Identity Center sign-in): its calls stop before they would fail, and
    the run is held for that person (``engine.accounts``)."""

    target: str
    reason: str
    at: datetime
    expires_at: datetime | None = None


# -- bookkeeping the engine asks for


@dataclass(frozen=True, kw_only=True)
class Tick:
    """Time passed: lets time-driven transitions (a wait elapsing) happen through the journal."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class ExecutionFinished:
    outcome: Outcome
    at: datetime


@dataclass(frozen=True, kw_only=True)
class JobsLeftRunning:
    """The run stops waiting for these DRS jobs: the grace (``ExecutionSpec.cancel_grace``) since it
    stopped needing them ran out with each still active in DRS (``engine.grace``)."""

    job_ids: tuple[str, ...]
    at: datetime


#: Every event, a closed union: ``engine.reducer.apply`` matches it exhaustively (``assert_never``).
Event: TypeAlias = (
    StartRequested
    | JobStarted
    | StartFailed
    | Reconciled
    | StartsReconciled
    | InstancesSurveyed
    | JobsObserved
    | JobsVerified
    | JobLogObserved
    | RecoveryInstancesObserved
    | PostLaunchCompleted
    | PostLaunchFailed
    | Throttled
    | PollFailed
    | ExternalLoad
    | TerminateRequested
    | InstancesTerminated
    | TerminateFailed
    | TerminationsReconciled
    | InstancesNotFound
    | Pause
    | Resume
    | Cancel
    | RetryFailed
    | SkipWave
    | ApprovalGranted
    | ApprovalRejected
    | CleanupRequested
    | RunnerRestarted
    | TakenOver
    | CredentialsRenewed
    | CredentialsNeeded
    | Tick
    | ExecutionFinished
    | JobsLeftRunning
    | ExecutionAbandoned
    | NativeStartRequested
    | NativeStarted
    | NativeStartFailed
    | NativeLooked
    | NativeObserved
    | NativeControlSent
    | NativeControlFailed
    | TemplatesPointRequested
    | TemplatesPointed
    | TemplatePointFailed
    | TemplatesRestoreRequested
    | TemplatesRestored
    | TemplateRestoreFailed
    | TemplatePointUnknown
    | TemplateDefaultChanged
    | AutomationRequested
    | AutomationSent
    | HealthRoundSent
    | HealthProbed
    | SsmPolled
    | SsmLooked
    | SsmWaiting
    | AutomationAnswered
    | AutomationLost
    | StepDecided
    | TestRecorded
    | FindingAdded
    | FindingUpdated
    | ReviewSignedOff
    | RecoveryPointsRecorded
)

EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in get_args(Event)}

#: Events an operator sends; ``engine.reducer.control_error`` checks them before the runner journals one.
CONTROL_EVENTS = (
    Pause,
    Resume,
    Cancel,
    RetryFailed,
    SkipWave,
    ApprovalGranted,
    ApprovalRejected,
    CleanupRequested,
    CredentialsRenewed,
    StepDecided,
    # Annotations an operator hands to the run's driver (issue 18): findings added or updated while the
    # run goes on, a sign-off while a finished drill's cleanup is driven. Journaled like any control;
    # they change nothing, so ``engine.reducer.control_error`` never refuses them.
    FindingAdded,
    FindingUpdated,
    ReviewSignedOff,
)


#: Event types that only annotate a run (findings, notes, sign-offs: issue 18) and never change what the
#: engine decides. They are journaled with ``"core": false`` (``event_to_json``), so that an older DRS
#: Desktop that does not know one (a teammate's, reading a synced journal: docs/sync.md) skips it and
#: reads the rest; an unknown event without that mark could change what the engine decides, and the
#: journal is refused (``journal_integrity``). ``engine.reducer.apply`` returns the state as it was.
ANNOTATION_TYPES: frozenset[type] = frozenset(
    {TestRecorded, FindingAdded, FindingUpdated, ReviewSignedOff, RecoveryPointsRecorded}
)
#: The journal key that marks an annotation (absent: core).
CORE_KEY = "core"


def is_core(event: Event) -> bool:
    """Whether ``event`` changes what the engine decides (every type but ``ANNOTATION_TYPES``)."""
    return type(event) not in ANNOTATION_TYPES


def event_to_json(event: Event) -> dict[str, Any]:
    """The journal form of ``event``: a JSON object whose ``"type"`` is the event's class name, and
    ``"core": false`` for an annotation."""
    data = to_json(event)
    assert isinstance(data, dict)
    if not is_core(event):
        data[CORE_KEY] = False
    return data


def event_from_json(data: Mapping[str, Any]) -> Event:
    """The event ``event_to_json`` produced; ValueError for an unknown type or a malformed field."""
    if CORE_KEY in data:
        data = {key: value for key, value in data.items() if key != CORE_KEY}
    event: Event = decode_tagged(data, EVENT_TYPES)
    return event
