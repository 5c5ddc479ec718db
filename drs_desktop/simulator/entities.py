"""The mutable state of the simulated world: source servers, jobs, recovery instances, snapshots.

These are the world's own records, mutated under the backend's lock as virtual time passes; they are
turned into API dicts by ``views``. ``LaunchRecord`` is the one frozen value handed out to callers (the
simulator's own ledger of launches, for tests that prove no server was launched twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACTIVE_JOB_STATUSES = ("PENDING", "STARTED")


@dataclass(slots=True)
class LaunchConfig:
    name: str
    launch_template_id: str
    launch_disposition: str = "STARTED"
    right_sizing: str = "BASIC"
    copy_private_ip: bool = False
    copy_tags: bool = True
    os_byol: bool = False
    post_launch_enabled: bool = True
    launch_into_instance_id: str | None = None
    recovery_mode: str | None = None


@dataclass(slots=True)
class LastLaunch:
    job_id: str
    launch_type: str  # RECOVERY | DRILL
    api_call_ts: float
    status: str  # a LaunchStatus


@dataclass(slots=True)
class Snapshot:
    """A point-in-time recovery snapshot; ``ts`` is None while it is still being taken. A finished one
    with ``timestamp_shown`` False is listed without its ``timestamp``, as DRS's published example
    (drs_api.md §12.9)."""

    snapshot_id: str
    server_id: str
    expected_ts: float
    ts: float | None
    ebs_snapshots: tuple[str, ...]
    timestamp_shown: bool = True


@dataclass(slots=True)
class Server:
    server_id: str
    arn: str
    hostname: str
    fqdn: str
    os_family: str  # linux | windows
    os_string: str
    application: str
    tier: str
    tags: dict[str, str]
    replication_state: str
    lag_seconds: float
    # When replication stopped making progress (STALLED, PAUSED, STOPPED, DISCONNECTED): lag grows from
    # here and no newer snapshot exists. None while replication is healthy.
    replication_stopped_at: float | None
    added_ts: float
    first_byte_ts: float | None
    sync_done_ts: float | None  # first snapshot possible from here; None = initial sync not done
    cpus: int
    cpu_model: str
    ram_bytes: int
    disks: list[tuple[str, int]]
    ip: str
    mac: str
    instance_type: str
    agent_version: str
    staging_account: str | None
    snapshot_offset: float
    launch_config: LaunchConfig
    launch_actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_launch_result: str = "NOT_STARTED"
    last_launch: LastLaunch | None = None
    recovery_instance_id: str | None = None
    active_job_id: str | None = None
    extra_snapshots: list[Snapshot] = field(default_factory=list)
    replication_error: str | None = None
    #: An extended server's source in its staging account (CreateExtendedSourceServer); None for the
    #: single-account shape, whose extended servers name a staging account the simulator does not hold.
    staging_source_arn: str | None = None
    #: An AWS-hosted source server's own EC2 instance (``ec2_sources``); None for one on premises.
    aws_instance_id: str | None = None

    @property
    def extended(self) -> bool:
        return self.staging_account is not None


@dataclass(slots=True)
class LogItem:
    ts: float
    event: str
    data: dict[str, Any]


@dataclass(slots=True)
class Participant:
    server_id: str
    launch_status: str = "PENDING"
    recovery_instance_id: str | None = None
    show_instance_id: bool = True
    snapshot_id: str | None = None
    target_instance_id: str | None = None
    ssm_discovery_ts: float | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    settled: bool = False


@dataclass(slots=True)
class Job:
    job_id: str
    arn: str
    job_type: str  # LAUNCH | TERMINATE
    initiated_by: str
    is_drill: bool
    created_ts: float
    seq: int
    tags: dict[str, str]
    participants: list[Participant]
    status: str = "PENDING"
    end_ts: float | None = None
    log: list[LogItem] = field(default_factory=list)
    stuck: bool = False
    by_hand: bool = False  # held for a test's hands (``by_hand``): no timeline of its own
    unsettled: int = 0
    deleted: bool = False

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES and not self.deleted

    def participant(self, server_id: str) -> Participant | None:
        for p in self.participants:
            if p.server_id == server_id:
                return p
        return None


@dataclass(slots=True)
class Instance:
    instance_id: str
    arn: str
    server_id: str
    job_id: str
    is_drill: bool
    created_ts: float
    pit_ts: float
    instance_type: str
    availability_zone: str
    volumes: list[tuple[str, int, str]]
    state: str = "PENDING"
    tags: dict[str, str] = field(default_factory=dict)
    terminating: bool = False
    listed_ts: float = 0.0  # DescribeRecoveryInstances lists it from this virtual time on


@dataclass(slots=True)
class LaunchEntry:
    """The world's mutable ledger line behind a ``LaunchRecord``."""

    server_id: str
    job_id: str
    is_drill: bool
    requested_ts: float
    outcome: str = "PENDING"
    launched_ts: float | None = None
    recovery_instance_id: str | None = None


@dataclass(frozen=True)
class LaunchRecord:
    """One launch of one source server, as the simulator saw it.

    ``outcome`` is the server's launchStatus in that job (PENDING, IN_PROGRESS, LAUNCHED, FAILED).
    """

    source_server_id: str
    job_id: str
    is_drill: bool
    requested_at: datetime
    outcome: str
    launched_at: datetime | None
    recovery_instance_id: str | None
