"""What the runner saw in DRS's own records when a start's outcome was unknown, and before a cleanup.

These are observations, journaled as they came; what they mean (adopt a job, hold for the operator, start
again, terminate, leave running) is decided in ``domain.engine.reconcile``. Frozen and JSON-serializable like
every event (``engine.events``): add fields with defaults, never repurpose one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class TaggedJob:
    """A job DRS listed with this execution's ``drs-desktop:execution`` tag."""

    job_id: str
    chunk_id: str
    server_ids: tuple[str, ...] = ()
    created_at: datetime | None = None
    #: Servers the job shows LAUNCHED: each left a recovery instance, which cleanup must find.
    launched_server_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class LastLaunch:
    """A source server's ``lifeCycle.lastLaunch.initiated``: the last job that took it, and when.

    ``execution_id`` and ``chunk_id`` are the job's ``drs-desktop:*`` tags ("" when it has none, or when
    DRS no longer returns the job: then it is not known to be ours).
    """

    server_id: str
    job_id: str
    initiated_at: datetime | None
    execution_id: str = ""
    chunk_id: str = ""


@dataclass(frozen=True, kw_only=True)
class StartsReconciled:
    """One look at DRS for unresolved starts: the jobs tagged with this execution since it started, and
    the last launch of each of their servers. ``drs_time``: DRS's time (``Date``) of the job listing's
    answer; what was not there then may still appear, so the engine looks again until that time is
    past the intent's by the read timeout plus a margin (``ExecutionSpec.start_settle``)."""

    chunk_ids: tuple[str, ...]
    tagged_jobs: tuple[TaggedJob, ...]
    last_launches: tuple[LastLaunch, ...]
    at: datetime
    drs_time: datetime | None = None
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class SurveyedInstance:
    """A recovery instance of one of the execution's servers, as DescribeRecoveryInstances lists it."""

    recovery_instance_id: str
    server_id: str
    job_id: str | None
    is_drill: bool | None
    ec2_instance_id: str | None = None
    ec2_state: str = ""


@dataclass(frozen=True, kw_only=True)
class InstancesSurveyed:
    """Before a cleanup terminates anything: this execution's jobs (by tag and by each server's last
    launch) and every recovery instance of its servers. Only a drill instance from one of this
    execution's jobs may be terminated; every other is listed as not ours and left running."""

    tagged_jobs: tuple[TaggedJob, ...]
    instances: tuple[SurveyedInstance, ...]
    at: datetime
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""
