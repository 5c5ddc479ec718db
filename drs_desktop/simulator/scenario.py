"""Scenario files: the estate, timings, quotas and faults a simulator run starts from.

A scenario is YAML (documented field by field in docs/simulator.md). Loading validates every key and
rejects unknown ones, and every error names the file and the key path, e.g.
``demo.yaml: fleet.applications[1].tiers[0].count: must be an integer >= 0, got 'five'``.
The result is a frozen ``Scenario`` that the world is built from. This module holds the dataclasses;
``scenario_schema.load_scenario`` reads and validates a document into them (it imports this module, never
the other way round).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

from drs_desktop.simulator.automation_spec import DEFAULT_AUTOMATION, AutomationSpec
from drs_desktop.simulator.ec2_spec import DEFAULT_EC2, Ec2Spec
from drs_desktop.simulator.faults import ServerFaultRule, TransportRule
from drs_desktop.simulator.ids import TimestampStyle

logger = logging.getLogger(__name__)

REPLICATION_STATES = (
    "STOPPED",
    "INITIATING",
    "INITIAL_SYNC",
    "BACKLOG",
    "CREATING_SNAPSHOT",
    "CONTINUOUS",
    "PAUSED",
    "RESCAN",
    "STALLED",
    "DISCONNECTED",
)
OS_FAMILIES = ("linux", "windows")


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``str()`` names the source, the key path and the problem."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.problem = message
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


@dataclass(frozen=True)
class Range:
    """A uniform distribution of seconds (or of a count) between ``low`` and ``high``."""

    low: float
    high: float


@dataclass(frozen=True)
class OsRange:
    linux: Range
    windows: Range

    def for_os(self, family: str) -> Range:
        return self.windows if family == "windows" else self.linux


@dataclass(frozen=True)
class Timings:
    """Phase durations in virtual seconds, calibrated to drs_api.md §12 (docs/simulator.md has the table):
    one small Linux server's job takes 12-14 minutes, two Windows servers' 24-31, 25 servers' about 29.
    Each is drawn per server (or per job) from the job's own stream."""

    job_start: Range = Range(2, 8)
    # JOB_START -> the server's work starts (launchStatus PENDING until then): the minutes that §12's phase
    # sums leave unexplained in its whole-job figures.
    server_pending: Range = Range(240, 280)
    # Each server waits this much more than the one before it in the job (cumulative), so a big job ends
    # later than a small one (25 servers: about 16 minutes more than one).
    server_stagger: Range = Range(36, 44)
    server_skew: Range = Range(0, 5)
    snapshot: Range = Range(0, 3)
    snapshot_to_conversion: Range = Range(100, 140)
    conversion: OsRange = OsRange(Range(280, 320), Range(720, 900))
    conversion_to_launch: Range = Range(1, 3)
    launch: OsRange = OsRange(Range(50, 70), Range(330, 390))
    # LAUNCH_START -> LAUNCH_FAILED when a scenario asks for launch failures: many minutes, after the
    # siblings launched (§12.4: "one server can fail 10 minutes after a sibling launched").
    launch_failure: Range = Range(540, 720)
    job_end: Range = Range(3, 40)
    # LAUNCHED -> the instance is listed by DescribeRecoveryInstances (eventual consistency, §12.14).
    instance_listed: Range = Range(30, 120)
    instance_running: Range = Range(20, 60)
    boot: OsRange = OsRange(Range(180, 300), Range(600, 1200))
    post_launch_action: Range = Range(60, 240)
    terminate: Range = Range(30, 90)
    permissions_failure: Range = Range(200, 220)
    replication_resume: Range = Range(300, 900)


@dataclass(frozen=True)
class Behaviour:
    """How the simulated DRS answers, beyond timings (drs_api.md §12); every value a scenario key."""

    # Share of LAUNCHED servers whose ``recoveryInstanceID`` DescribeJobs leaves out (§12.5), decided
    # per (job, server) by hashing the seed; the ``omit_instance_ids`` fault adds to it.
    missing_instance_id_fraction: float = 0.8


@dataclass(frozen=True)
class OutsideJobSpec:
    """A launch job another tool (the console, a script) starts at ``at`` virtual seconds after the world
    starts: no orchestrator tags, ``initiatedBy`` START_DRILL or START_RECOVERY (§12.13)."""

    at: float
    servers: tuple[str, ...]  # IDs or hostnames
    is_drill: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Quotas:
    """Service limits the simulator enforces (drs_api.md §7); all configurable per scenario."""

    max_servers_per_job: int = 100
    max_servers_in_active_jobs: int = 500
    max_concurrent_jobs: int = 20
    max_replicating_servers: int = 300
    max_source_servers: int = 4000
    max_launch_actions_per_resource: int = 200
    max_tags_per_resource: int = 50
    max_recovery_plans: int = 100
    max_steps_per_plan: int = 20
    max_page_size: int = 1000


@dataclass(frozen=True)
class TierSpec:
    name: str
    count: int
    os_mix: Mapping[str, float]
    hostname_prefix: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AppSpec:
    name: str
    tiers: tuple[TierSpec, ...]
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerSpec:
    """One explicitly described server; unset fields are drawn like generated servers' fields."""

    hostname: str
    os: str | None = None
    server_id: str | None = None
    application: str | None = None
    tier: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    replication_state: str | None = None
    lag_seconds: float | None = None
    aws_hosted: bool = False


@dataclass(frozen=True)
class SourceOrigin:
    """Where an AWS-hosted server's instance runs, when not in the DRS world's own account and Region
    (cross-Region DR): None keeps the world's."""

    region: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class AwsHostedSpec:
    """Which source servers are EC2 instances themselves (AWS-hosted, DRS's ``awsInstanceID``): a share of
    the fleet drawn per server from the seed, plus the hostnames listed; ``tags`` go on each one's EC2
    instance besides the drawn ones; ``origins`` (hostname -> ``SourceOrigin``, AWS-hosted too) put a
    server's instance in another Region or account."""

    fraction: float = 0.0
    hostnames: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, SourceOrigin] = field(default_factory=dict)


@dataclass(frozen=True)
class GeneratedSpec:
    """Bulk filler: ``count`` servers spread over ``applications`` x ``tiers`` (for scale runs)."""

    count: int = 0
    applications: int = 1
    tiers: tuple[str, ...] = ("web", "app", "db")
    os_mix: Mapping[str, float] = field(default_factory=lambda: {"linux": 0.7, "windows": 0.3})
    hostname_prefix: str = "srv"


@dataclass(frozen=True)
class ReplicationSpec:
    states: Mapping[str, float] = field(default_factory=lambda: {"CONTINUOUS": 1.0})
    lag_seconds: Range = Range(1, 30)
    stalled_lag_seconds: Range = Range(1800, 21600)
    overrides: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FleetSpec:
    domain: str = "corp.example.com"
    application_tag: str = "Application"
    tier_tag: str = "Tier"
    common_tags: Mapping[str, str] = field(default_factory=dict)
    applications: tuple[AppSpec, ...] = ()
    servers: tuple[ServerSpec, ...] = ()
    generated: GeneratedSpec = GeneratedSpec()
    replication: ReplicationSpec = ReplicationSpec()
    staging_accounts: tuple[str, ...] = ()
    aws_hosted: AwsHostedSpec = AwsHostedSpec()

    @property
    def size(self) -> int:
        tiers = sum(t.count for a in self.applications for t in a.tiers)
        return tiers + len(self.servers) + self.generated.count


@dataclass(frozen=True)
class ActionSpec:
    """A post-launch action put on every matching source server when the world is built."""

    name: str
    action_code: str
    type: str = "SSM_COMMAND"
    category: str = "OTHER"
    order: int = 2
    optional: bool = True
    active: bool = True
    description: str = ""
    applies_to: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PostLaunchSpec:
    run_on_drills: bool = False
    actions: tuple[ActionSpec, ...] = ()


@dataclass(frozen=True)
class FaultSpec:
    transport: Mapping[str, TransportRule] = field(default_factory=dict)
    world: Mapping[str, ServerFaultRule] = field(default_factory=dict)


@dataclass(frozen=True)
class RoleSpec:
    """An IAM role of an account that STS AssumeRole accepts (``arn:aws:iam::<account>:role/<name>``)."""

    name: str
    external_id: str | None = None  # AssumeRole must pass exactly this ExternalId
    mfa_serial: str | None = None  # AssumeRole must pass this SerialNumber and ``mfa_code`` as TokenCode
    mfa_code: str = "123456"
    max_session_seconds: int = 3600  # IAM's MaxSessionDuration (default one hour, at most 12)


@dataclass(frozen=True)
class UserSpec:
    """An IAM user of an account with its own access keys: GetCallerIdentity answers
    ``arn:aws:iam::<account>:user/<name>`` for them (two people of one account, an operator and an
    auditor who signs a drill off, are two identities)."""

    name: str
    access_keys: tuple[str, ...] = ()  # exact key IDs, or prefixes ending in ``*``


@dataclass(frozen=True)
class ExtendSpec:
    """Servers of a staging account already extended into the recovery account when the world starts."""

    staging_account: str
    fraction: float = 1.0  # share of the staging account's servers (in each region both have), in order


@dataclass(frozen=True)
class AccountSpec:
    """One account of a multi-account scenario: its regions (each with its own fleet), the access keys
    that reach it, its roles, its quotas and the staging accounts that replicate into it."""

    account_id: str
    name: str
    regions: Mapping[str, FleetSpec]
    access_keys: tuple[str, ...] = ()  # exact key IDs, or prefixes ending in ``*``
    identity_arn: str | None = None
    quotas: Quotas = Quotas()
    staging_accounts: tuple[str, ...] = ()
    extended: tuple[ExtendSpec, ...] = ()
    roles: tuple[RoleSpec, ...] = ()
    initialized: bool = True
    users: tuple[UserSpec, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str = "scenario"
    description: str = ""
    source: str = "<defaults>"
    account_id: str = "123456789012"
    region: str = "us-east-1"
    seed: int = 0
    start_time: datetime | None = None
    initialized: bool = True
    timestamp_format: TimestampStyle = "offset"
    identity_arn: str | None = None
    quotas: Quotas = Quotas()
    fleet: FleetSpec = FleetSpec()
    timings: Timings = Timings()
    post_launch: PostLaunchSpec = PostLaunchSpec()
    faults: FaultSpec = FaultSpec()
    server_step_timeout_minutes: int = 240
    behaviour: Behaviour = Behaviour()
    outside_jobs: tuple[OutsideJobSpec, ...] = ()
    #: Several accounts (``accounts:``); empty for the single-account shape. With accounts, ``account_id``
    #: and ``region`` name the default account and region (keys no account claims reach them).
    accounts: tuple[AccountSpec, ...] = ()
    #: The EC2 side of every world: VPCs, subnets, routes, ACLs, security groups (``ec2_spec``).
    ec2: Ec2Spec = DEFAULT_EC2
    #: SSM documents and runs, Lambda functions, health-check listeners (``automation_spec``).
    automation: AutomationSpec = DEFAULT_AUTOMATION
    #: SNS topics alerts may be published to (``sns.topics[]``; ``simulator/sns.py``).
    sns_topics: tuple[SnsTopicSpec, ...] = ()


@dataclass(frozen=True)
class SnsTopicSpec:
    """An SNS topic of the scenario (``sns.topics[]``): its account and Region, and the other accounts
    its policy lets publish."""

    name: str
    account_id: str
    region: str
    publishers: tuple[str, ...] = ()
    display_name: str = ""

    @property
    def arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{self.account_id}:{self.name}"


SHIPPED = ("demo", "small", "scale", "enterprise")


def shipped_path(name: str) -> Path:
    """Path of a scenario shipped with the package (``demo``, ``small``, ``scale``)."""
    return Path(str(resources.files("drs_desktop.simulator") / "scenarios" / f"{name}.yaml"))


@functools.cache
def known_operations() -> frozenset[str]:
    """Operation names of the installed botocore DRS model (fault rules must name one of these)."""
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model("drs").operation_names)


def check_fleet_against_quotas(scenario: Scenario) -> None:
    """The estate must fit the account limits it claims to model."""
    size = scenario.fleet.size
    if size > scenario.quotas.max_source_servers:
        raise ScenarioError(
            scenario.source,
            "fleet",
            f"{size} source servers exceed quotas.max_source_servers ({scenario.quotas.max_source_servers})",
        )
