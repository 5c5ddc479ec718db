"""DRS's own records of the jobs that may hold an execution's servers: what the runner journals when a
start's outcome is unknown (``StartsReconciled``) and before a cleanup terminates anything
(``InstancesSurveyed``).

Only reads and the facts as DRS gave them; what they mean (adopt, hold, start again, terminate, leave
running) is decided in ``domain.engine.reconcile``. Each read goes through the runner's ``read``, which
journals a throttle or a failure (the engine paces the retry) and gives None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drs_desktop.domain.engine.commands import TAG_CHUNK, TAG_EXECUTION, chunk_of_tags
from drs_desktop.domain.engine.events import LaunchStatus
from drs_desktop.domain.engine.instance_events import FoundTerminateJob
from drs_desktop.domain.engine.reconcile_events import LastLaunch, SurveyedInstance, TaggedJob
from drs_desktop.services.drs_calls import DrsCalls

Read = Callable[[str, Callable[[], Any]], Any]


@dataclass(frozen=True)
class Look:
    """One look: the jobs listed with this execution's tag, each server's last launch, and DRS's time
    (``Date``) of the listing's answer."""

    tagged_jobs: tuple[TaggedJob, ...]
    last_launches: tuple[LastLaunch, ...]
    drs_time: datetime | None

    def with_last_launch_jobs(self, execution_id: str) -> tuple[TaggedJob, ...]:
        """The tagged jobs plus the last-launch jobs that carry this execution's tag but were not listed."""
        listed = {job.job_id for job in self.tagged_jobs}
        extra = tuple(
            TaggedJob(job_id=launch.job_id, chunk_id=launch.chunk_id)
            for launch in self.last_launches
            if launch.execution_id == execution_id and launch.job_id not in listed
        )
        return (*self.tagged_jobs, *extra)


def look(
    gateway: DrsCalls, read: Read, execution_id: str, since: datetime, server_ids: tuple[str, ...]
) -> Look | None:
    """The jobs listed since ``since`` with this execution's tag, each server's
    ``lifeCycle.lastLaunch.initiated`` (the tags of a job the listing did not show are read by ID), and
    DRS's time of the listing's answer. None when a read failed."""
    listed = read("DescribeJobs", lambda: gateway.jobs_since(since))
    if listed is None:
        return None
    drs_time = gateway.last_answer_time()
    tagged = tuple(
        TaggedJob(
            job_id=job.job_id,
            chunk_id=chunk_id,
            server_ids=tuple(s.source_server_id for s in job.servers),
            created_at=job.created_at,
            launched_server_ids=tuple(
                s.source_server_id for s in job.servers if s.launch_status is LaunchStatus.LAUNCHED
            ),
        )
        for job in listed
        if (chunk_id := chunk_of_tags(job.tags, execution_id)) is not None
    )
    launches = read("DescribeSourceServers", lambda: gateway.last_launches(server_ids))
    if launches is None:
        return None
    tags = {job.job_id: job.tags for job in listed}
    unlisted = sorted({v.job_id for v in launches if v.job_id and v.job_id not in tags})
    if unlisted:
        by_id = read("DescribeJobs", lambda: gateway.describe_jobs(unlisted))
        if by_id is None:
            return None
        tags.update({job.job_id: job.tags for job in by_id})
    last = tuple(
        LastLaunch(
            server_id=v.source_server_id,
            job_id=v.job_id,
            initiated_at=v.initiated_at,
            execution_id=tags.get(v.job_id, {}).get(TAG_EXECUTION, ""),
            chunk_id=tags.get(v.job_id, {}).get(TAG_CHUNK, ""),
        )
        for v in launches
        if v.job_id
    )
    return Look(tagged, last, drs_time)


def recovery_instances(
    gateway: DrsCalls, read: Read, server_ids: tuple[str, ...]
) -> tuple[SurveyedInstance, ...] | None:
    """Every recovery instance of these servers, as DescribeRecoveryInstances lists it."""
    found = read(
        "DescribeRecoveryInstances",
        lambda: gateway.describe_recovery_instances(source_server_ids=server_ids),
    )
    if found is None:
        return None
    return tuple(
        SurveyedInstance(
            recovery_instance_id=i.recovery_instance_id,
            server_id=i.source_server_id,
            job_id=i.job_id,
            is_drill=i.is_drill,
            ec2_instance_id=i.ec2_instance_id,
            ec2_state=i.ec2_state,
        )
        for i in found
    )


def terminate_jobs(
    gateway: DrsCalls, read: Read, since: datetime, instance_ids: tuple[str, ...]
) -> tuple[FoundTerminateJob, ...] | None:
    """The TERMINATE jobs listed since ``since`` that hold any of ``instance_ids`` (DRS tags none, so
    they are known by type and by the instances they name), newest first as DRS lists them."""
    listed = read("DescribeJobs", lambda: gateway.jobs_since(since))
    if listed is None:
        return None
    wanted = set(instance_ids)
    found = []
    for job in listed:
        if job.type != "TERMINATE":
            continue
        held = tuple(s.recovery_instance_id for s in job.servers if s.recovery_instance_id in wanted)
        if held:
            found.append(FoundTerminateJob(job_id=job.job_id, instance_ids=tuple(sorted(set(held)))))
    return tuple(found)
