"""What ``engine.decide`` asks the runner to do, and the job tags that find this execution's jobs again.

Commands are data (frozen, JSON-serializable for logs and tests). Each one's docstring says which calls
the runner makes and which events it journals; the runner contract as a whole is in ``engine``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias

from drs_desktop.domain.engine.events import Event, Outcome, StepPhase
from drs_desktop.domain.plan.automation import AutomationStep, HealthCheckStep, SsmStep

TAG_EXECUTION = "drs-desktop:execution"
TAG_WAVE = "drs-desktop:wave"
TAG_CHUNK = "drs-desktop:chunk"
TAG_ATTEMPT = "drs-desktop:attempt"


@dataclass(frozen=True, kw_only=True)
class StartJob:
    """Journal ``StartRequested(chunk_id)``, then call StartRecovery once (botocore retries off) with
    ``isDrill=is_drill``, ``tags`` and ``sourceServers`` (with ``recoverySnapshotID`` where
    ``snapshot_ids`` has one); journal ``JobStarted`` or ``StartFailed(definite=...)``."""

    chunk_id: str
    wave_index: int
    attempt: int
    server_ids: tuple[str, ...]
    snapshot_ids: Mapping[str, str] = field(default_factory=dict)
    is_drill: bool
    tags: Mapping[str, str] = field(default_factory=dict)
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)
    #: A drill into the drill network (``engine.drill_net``): right before StartRecovery (before
    #: ``StartRequested``), one DescribeLaunchTemplates of these templates; each whose default is no
    #: longer its drill version is journaled ``TemplateDefaultChanged`` and nothing is started.
    drill_versions: tuple[DrillVersionCheck, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DrillVersionCheck:
    server_id: str
    template_id: str
    drill_version: int


@dataclass(frozen=True, kw_only=True)
class PollJobs:
    """DescribeJobs filtered by these IDs (at most 1,000 per call); journal one ``JobsObserved``
    (with ``missing_job_ids``) and then the ``PostLaunchCompleted/Failed`` that
    ``drs.observations.post_launch_events`` reads from launchActionsStatus; or ``Throttled`` /
    ``PollFailed``."""

    job_ids: tuple[str, ...]
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)


@dataclass(frozen=True, kw_only=True)
class SizeExternalLoad:
    """A poll saw chunks waiting in the queue: DescribeJobs with ``fromDate=since`` (the account's recent
    jobs); journal the ``ExternalLoad`` that ``drs.observations.external_load`` derives from them (always
    one, even when nothing else runs: it ends the wish to look), or ``Throttled`` / ``PollFailed``."""

    since: datetime
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)


@dataclass(frozen=True, kw_only=True)
class FetchJobLog:
    """DescribeJobLogItems for the job; journal the ``JobLogObserved`` that
    ``drs.observations.job_log_observed`` makes of the whole log (the new items and every failure)."""

    job_id: str
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)


@dataclass(frozen=True, kw_only=True)
class VerifyJobs:
    """The wave timed out: DescribeJobs for these IDs, journal ``JobsVerified(wave_index, ...)``. Only
    that answer lets the engine declare the wave's unsettled servers failed."""

    wave_index: int
    job_ids: tuple[str, ...]
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)


@dataclass(frozen=True, kw_only=True)
class Reconcile:
    """Whether these chunks' StartRecovery launched a job, from DRS's records: DescribeJobs with
    ``fromDate=since`` (the jobs tagged with this execution), DescribeSourceServers for ``server_ids``
    (each one's ``lifeCycle.lastLaunch.initiated``) and DescribeJobs by ID for the tags of last-launch
    jobs not listed; journal one ``StartsReconciled`` with DRS's time of the listing's answer. What it
    means is decided in ``domain.engine.reconcile``, not by the runner."""

    chunk_ids: tuple[str, ...]
    since: datetime
    server_ids: tuple[str, ...] = ()
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)


@dataclass(frozen=True, kw_only=True)
class SurveyInstances:
    """Before a cleanup terminates anything: DescribeJobs since ``since`` (jobs tagged with this
    execution), DescribeSourceServers for ``server_ids`` (last launches; their jobs' tags by ID), and
    DescribeRecoveryInstances for ``server_ids``; journal ``InstancesSurveyed``."""

    since: datetime
    server_ids: tuple[str, ...]
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)


@dataclass(frozen=True, kw_only=True)
class FindRecoveryInstances:
    """DescribeRecoveryInstances by source server (DRS may omit the ID from a job, reference §12.5);
    journal ``RecoveryInstancesObserved`` with every instance found (the engine keeps only its own)."""

    server_ids: tuple[str, ...]
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)


@dataclass(frozen=True, kw_only=True)
class AwaitApproval:
    """Not a call: the run waits for this approval; show it (emitted on every decide while it waits).
    The one approval type: ``engine.queries.pending_approvals`` builds it for the engine and for the
    CLI's and the GUI's prompts alike."""

    wave_index: int
    wave_name: str
    phase: StepPhase
    step_index: int
    message: str
    requested_at: datetime

    @property
    def key(self) -> tuple[int, StepPhase, int]:
        """Identifies the gate within its execution (a prompt is raised once per key)."""
        return (self.wave_index, self.phase, self.step_index)


@dataclass(frozen=True, kw_only=True)
class TerminateInstances:
    """Journal ``TerminateRequested``, call TerminateRecoveryInstances (at most 200 IDs, retries off),
    journal ``InstancesTerminated(job_id=...)`` or ``TerminateFailed``."""

    recovery_instance_ids: tuple[str, ...]
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)


@dataclass(frozen=True, kw_only=True)
class ReconcileTerminations:
    """A crash cut off TerminateRecoveryInstances for these instances: DescribeJobs with
    ``fromDate=since``; journal ``TerminationsReconciled`` with each TERMINATE job that holds some of
    them (DRS tags no TERMINATE job), or ``Throttled`` / ``PollFailed``."""

    instance_ids: tuple[str, ...]
    since: datetime
    target: str = ""  # the DRS target it goes to ("" in a run of one target; ``engine.accounts``)


@dataclass(frozen=True, kw_only=True)
class Record:
    """Nothing to call: journal ``event`` and apply it (time passed, or a verification with no job)."""

    event: Event


@dataclass(frozen=True, kw_only=True)
class Finish:
    """The execution is over: journal ``ExecutionFinished(outcome)``; emitted until it is journaled."""

    outcome: Outcome


@dataclass(frozen=True, kw_only=True)
class WakeAt:
    """Nothing new before ``at`` unless an event arrives: sleep until then (or an operator action)."""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class StartNative:
    """A run in DRS (``engine.native``): journal ``NativeStartRequested``, then call
    StartRecoveryPlanExecution once with ``client_token`` (sent again after a lost answer, DRS returns
    the execution the first call started); journal ``NativeStarted`` or ``NativeStartFailed``."""

    plan_arn: str
    mode: str  # DRILL | RECOVERY
    client_token: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class FindNative:
    """Before a start whose outcome is unknown is sent again: ListRecoveryPlanExecutions of the plan, and
    GetRecoveryPlanExecution of each started since ``since``, for the one tagged ``tag``; journal
    ``NativeLooked`` (or ``Throttled`` / ``PollFailed``). A client token may have lapsed by the time of a
    resend (after a long outage): DRS would then refuse the resend while this run's execution runs."""

    plan_arn: str
    since: datetime
    tag: tuple[str, str]


@dataclass(frozen=True, kw_only=True)
class PollNative:
    """GetRecoveryPlanExecution and ListRecoveryPlanExecutionSteps; journal one ``NativeObserved``, or
    ``Throttled`` / ``PollFailed``."""

    execution_arn: str


@dataclass(frozen=True, kw_only=True)
class SendNativeControl:
    """An operator's control of a run in DRS: RetryRecoveryPlanExecutionStep (``retry``),
    UpdateRecoveryPlanExecutionStep to SKIPPED (``skip``) or CancelRecoveryPlanExecution (``cancel``), sent
    once (none takes a token: ``engine.native`` reads the execution back before a resend); journal
    ``NativeControlSent`` or ``NativeControlFailed``."""

    kind: str
    step_index: int
    step_arn: str
    execution_arn: str


@dataclass(frozen=True, kw_only=True)
class TemplatePoint:
    """One server's template to point; ``client_token``: CreateLaunchTemplateVersion's (the same for a
    resend of the same point, so EC2 makes one version)."""

    server_id: str
    template_id: str
    client_token: str


@dataclass(frozen=True, kw_only=True)
class PointTemplates:
    """A drill into a drill network (``engine.drill_net``): journal ``TemplatesPointRequested``, then per
    server read the template's default version P; if it is already this execution's drill version take it
    (P from its description), else create a version from P with ``subnet_id`` and ``security_group_ids``
    (description ``domain.ec2.drill_description``, ``client_token``) and make it the default; journal
    ``TemplatesPointed`` or ``TemplatePointFailed``. With several drill subnets (``subnet_ids``), each
    server goes to the one in the Availability Zone of its production subnet (``subnet_id``, the first,
    when none is)."""

    execution_id: str
    servers: tuple[TemplatePoint, ...]
    subnet_id: str
    security_group_ids: tuple[str, ...] = ()
    target: str = ""
    subnet_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TemplateRestore:
    server_id: str
    template_id: str
    production_version: int
    drill_version: int


@dataclass(frozen=True, kw_only=True)
class RestoreTemplates:
    """Journal ``TemplatesRestoreRequested``, then per server read the template's default version: if it
    is ``drill_version``, set ``production_version`` back as the default; if it is the production version
    already, nothing to do; anything else was set by someone else and is left as it is. Journal
    ``TemplatesRestored`` or ``TemplateRestoreFailed``."""

    execution_id: str
    servers: tuple[TemplateRestore, ...]
    target: str = ""


# -- automation steps (``engine.automation``)


@dataclass(frozen=True, kw_only=True)
class StepTarget:
    """A server an automation step acts on, its recovered EC2 instance ("" none known) and its target."""

    server_id: str
    instance_id: str
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class RunAutomation:
    """Journal ``AutomationRequested(key, attempt)``, then start the attempt once:
    - an SSM document: SendCommand (retries off) to the targets' instances with ``comment``; journal
      ``AutomationSent(ref=command ID)``, ``AutomationAnswered(ok=False)`` when refused outright (nothing
      ran), or ``AutomationLost`` when the answer is lost;
    - a Lambda function or a local script: started beside the runner's loop (it must not stop the loop
      for its whole timeout); its end is journaled ``AutomationAnswered`` (or ``AutomationLost``) when it
      comes, ``AutomationSent(ref=process ID)`` once a script has started;
    - a health check: nothing more (``ProbeHealth`` follows at once)."""

    execution_id: str
    plan_name: str
    mode: str
    key: str
    attempt: int
    step: AutomationStep
    targets: tuple[StepTarget, ...]
    comment: str
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class ProbeHealth:
    """One round of a health check: probe every target once (concurrently, each within the interval),
    journal ``HealthProbed`` with a PASS or FAIL (and why) per target.

    Through SSM (``Reach.SSM``) a round is two calls apart: without ``round_ref``, send the probe script
    to ``via`` with ``comment`` (journal ``HealthRoundSent``, or ``HealthProbed`` all FAIL when refused);
    with it, read that command's invocation: ``SsmPolled`` while it runs, ``HealthProbed`` (its output's
    lines, or SSM's status for every target) once it ended."""

    key: str
    attempt: int
    step: HealthCheckStep
    targets: tuple[StepTarget, ...]
    target: str = ""
    round_ref: str = ""
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class PollSsm:
    """Read an SSM command's invocations (ListCommandInvocations with their output); journal
    ``SsmPolled`` (``error`` set when the read failed)."""

    key: str
    attempt: int
    command_id: str
    targets: tuple[StepTarget, ...]
    target: str = ""
    step: SsmStep | None = None


@dataclass(frozen=True, kw_only=True)
class FindSsm:
    """Look for an attempt's SSM command by its comment (ListCommands since ``since``); journal
    ``SsmLooked`` (``command_id`` "" when none carries it)."""

    key: str
    attempt: int
    comment: str
    since: datetime
    target: str = ""


#: Every command, a closed union: the runner matches it exhaustively (``assert_never``).
Command: TypeAlias = (
    StartJob
    | PollJobs
    | SizeExternalLoad
    | FetchJobLog
    | VerifyJobs
    | Reconcile
    | SurveyInstances
    | FindRecoveryInstances
    | AwaitApproval
    | TerminateInstances
    | ReconcileTerminations
    | StartNative
    | FindNative
    | PollNative
    | SendNativeControl
    | PointTemplates
    | RestoreTemplates
    | RunAutomation
    | ProbeHealth
    | PollSsm
    | FindSsm
    | Record
    | Finish
    | WakeAt
)


def job_tags(execution_id: str, wave_index: int, chunk_id: str, attempt: int) -> dict[str, str]:
    """The tags every StartRecovery of this execution carries; the wave number is 1-based like the UI."""
    return {
        TAG_EXECUTION: execution_id,
        TAG_WAVE: str(wave_index + 1),
        TAG_CHUNK: chunk_id,
        TAG_ATTEMPT: str(attempt),
    }


def chunk_of_tags(tags: Mapping[str, str], execution_id: str) -> str | None:
    """The chunk a listed job was started for, if it is this execution's. Only our own keys are read:
    DRS adds tags of its own (``resourceArn``), so the whole map is never compared."""
    if tags.get(TAG_EXECUTION) != execution_id:
        return None
    return tags.get(TAG_CHUNK)
