"""DRS resources as the gateway reports them: frozen values, never boto3 dicts.

These are richer than the engine's observation types (``engine.events.JobView`` and friends), which
keep only what ``decide`` folds; each view here converts with ``to_engine()``. The extra fields serve the
runner (tags to reconcile after a crash, post-launch action runs, active jobs outside the execution), the
progress and history views, and evidence. Recovery snapshots reuse ``engine.recovery_point.RecoverySnapshot``.

Status fields reuse the engine's enums; a value DRS adds later is read as "still running" (and logged by
the parser), which keeps the engine polling rather than declaring an outcome it does not understand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from drs_desktop.domain.engine.events import (
    InstanceView,
    JobLogItem,
    JobServerView,
    JobStatus,
    JobView,
    LaunchStatus,
)

#: Job.initiatedBy values that say which kind of launch a LAUNCH job is.
DRILL_INITIATORS = frozenset({"START_DRILL"})
RECOVERY_INITIATORS = frozenset({"START_RECOVERY"})


@dataclass(frozen=True, kw_only=True)
class CallerIdentity:
    """STS GetCallerIdentity: which account and principal the credentials belong to. ``answered_at``:
    AWS's time of the answer (its ``Date`` header), when it gave one: a sign-off is dated by it, never by
    a desktop clock that may be wrong."""

    account: str
    arn: str
    user_id: str = ""
    answered_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PostLaunchRun:
    """One post-launch action run of a participating server (launchActionsStatus.runs[])."""

    run_id: str
    status: str  # IN_PROGRESS | SUCCEEDED | FAILED
    action_id: str = ""
    action_name: str = ""
    action_code: str = ""
    optional: bool = False
    failure_reason: str = ""


@dataclass(frozen=True, kw_only=True)
class PostLaunchView:
    """A server's post-launch actions as the job reports them. DRS lists a run once it starts, so "all
    listed runs succeeded" is not "all configured actions ran": compare with ``launch_actions``."""

    ssm_agent_seen_at: datetime | None = None
    runs: tuple[PostLaunchRun, ...] = ()

    @property
    def failed(self) -> tuple[PostLaunchRun, ...]:
        return tuple(run for run in self.runs if run.status == "FAILED")

    @property
    def running(self) -> bool:
        return any(run.status == "IN_PROGRESS" for run in self.runs)


@dataclass(frozen=True, kw_only=True)
class DrsJobServerView:
    """One participating server. ``recovery_instance_id`` is the EC2 instance ID; DRS may leave it out
    even for a LAUNCHED server (reference §12.5): find it with DescribeRecoveryInstances then."""

    source_server_id: str
    launch_status: LaunchStatus
    recovery_instance_id: str | None = None
    post_launch: PostLaunchView | None = None

    def to_engine(self) -> JobServerView:
        return JobServerView(
            server_id=self.source_server_id,
            launch_status=self.launch_status,
            recovery_instance_id=self.recovery_instance_id,
            ec2_instance_id=self.recovery_instance_id,  # a recovery instance's ID is its EC2 ID
        )


@dataclass(frozen=True, kw_only=True)
class DrsJobView:
    """A DRS job (DescribeJobs item or StartRecovery/TerminateRecoveryInstances answer).

    ``tags`` is the whole map, including the ``resourceArn`` tag DRS adds: match only your own keys.
    ``type`` is LAUNCH, TERMINATE, ...; ``initiated_by`` START_DRILL, START_RECOVERY,
    TERMINATE_RECOVERY_INSTANCES, ... COMPLETED means finished, not succeeded: read each server.
    """

    job_id: str
    status: JobStatus
    arn: str = ""
    type: str = ""
    initiated_by: str = ""
    created_at: datetime | None = None
    ended_at: datetime | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    servers: tuple[DrsJobServerView, ...] = ()

    @property
    def is_drill(self) -> bool | None:
        """True for a drill, False for a recovery, None for other jobs (terminate, failback, ...)."""
        if self.initiated_by in DRILL_INITIATORS:
            return True
        if self.initiated_by in RECOVERY_INITIATORS:
            return False
        return None

    @property
    def is_active(self) -> bool:
        """PENDING or STARTED: its servers count against the per-server and across-jobs quotas."""
        return self.status is not JobStatus.COMPLETED

    @property
    def server_ids(self) -> tuple[str, ...]:
        return tuple(server.source_server_id for server in self.servers)

    def server(self, source_server_id: str) -> DrsJobServerView | None:
        for server in self.servers:
            if server.source_server_id == source_server_id:
                return server
        return None

    def to_engine(self) -> JobView:
        return JobView(
            job_id=self.job_id, status=self.status, servers=tuple(s.to_engine() for s in self.servers)
        )


@dataclass(frozen=True, kw_only=True)
class JobLogEntry:
    """One DescribeJobLogItems entry. ``event`` is DRS's JobLogEvent (SNAPSHOT_START, LAUNCH_FAILED, ...);
    ``raw_error`` is set on *_FAIL events. ``at`` is None only if DRS sent an unreadable time."""

    at: datetime | None
    event: str
    source_server_id: str | None = None
    raw_error: str | None = None
    conversion_server_id: str | None = None
    target_instance_id: str | None = None

    def to_engine(self, observed_at: datetime) -> JobLogItem:
        """The engine's form; ``observed_at`` stands in for a missing time."""
        return JobLogItem(
            at=self.at or observed_at,
            event=self.event,
            server_id=self.source_server_id,
            detail=self.raw_error or "",
        )


@dataclass(frozen=True, kw_only=True)
class LastLaunchView:
    """A source server's ``lifeCycle.lastLaunch.initiated``: the last job that launched it and when it
    was asked (``apiCallDateTime``); empty ``job_id`` when the server was never launched."""

    source_server_id: str
    job_id: str = ""
    initiated_at: datetime | None = None
    launch_type: str = ""


@dataclass(frozen=True, kw_only=True)
class RecoveryInstanceView:
    """A recovery instance (DescribeRecoveryInstances). ``ec2_state`` is EC2InstanceState as DRS spells
    it (PENDING, RUNNING, STOPPED, SHUTTING-DOWN, TERMINATED, NOT_FOUND); ``point_in_time`` is the time
    of the data it was launched from."""

    recovery_instance_id: str
    source_server_id: str
    ec2_instance_id: str | None = None
    job_id: str | None = None
    is_drill: bool | None = None
    ec2_state: str = ""
    point_in_time: datetime | None = None
    arn: str = ""
    origin_environment: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_engine(self) -> InstanceView:
        return InstanceView(
            recovery_instance_id=self.recovery_instance_id,
            server_id=self.source_server_id,
            job_id=self.job_id or "",
            ec2_instance_id=self.ec2_instance_id or self.recovery_instance_id,
        )


@dataclass(frozen=True, kw_only=True)
class LaunchConfigView:
    """A source server's launch configuration (GetLaunchConfiguration), for preflight checks."""

    source_server_id: str
    name: str = ""
    ec2_launch_template_id: str = ""
    launch_disposition: str = ""  # STARTED | STOPPED
    right_sizing: str = ""  # NONE | BASIC | IN_AWS
    copy_private_ip: bool | None = None
    copy_tags: bool | None = None
    os_byol: bool | None = None
    post_launch_enabled: bool | None = None
    launch_into_instance_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class LaunchActionView:
    """A post-launch action configured on a source server or launch template (ListLaunchActions)."""

    action_id: str
    name: str = ""
    action_code: str = ""
    type: str = ""  # SSM_AUTOMATION | SSM_COMMAND
    category: str = ""
    order: int = 0
    active: bool = True
    optional: bool = False
    action_version: str = ""
    description: str = ""
