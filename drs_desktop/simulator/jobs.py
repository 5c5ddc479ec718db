"""DRS jobs: LAUNCH (drills and recoveries) and TERMINATE, as events on the world's clock.

A LAUNCH job goes PENDING -> STARTED -> COMPLETED; each of its servers goes PENDING -> IN_PROGRESS ->
LAUNCHED | FAILED and writes the job log in DRS's order (drs_api.md §6, §12):

    JOB_START
      per server, with seconds of skew:  [CLEANUP_START -> CLEANUP_END]   (a previous recovery instance)
        SNAPSHOT_START -> SNAPSHOT_END | SNAPSHOT_FAIL,  or USING_PREVIOUS_SNAPSHOT
        CONVERSION_START -> CONVERSION_END | CONVERSION_FAIL
        LAUNCH_START -> (LAUNCHED: no event) | LAUNCH_FAILED
    JOB_END

A COMPLETED job says nothing about success; each server's launchStatus does. Timings are drawn from a
stream seeded by the job ID, so a job's timeline does not depend on when anybody polls it. All limits are
checked before anything changes, so a refused request leaves no trace.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Mapping, Sequence

from drs_desktop.simulator import errors
from drs_desktop.simulator.ec2_templates import LaunchRefused
from drs_desktop.simulator.entities import (
    Instance,
    Job,
    LastLaunch,
    LaunchEntry,
    LogItem,
    Participant,
    Server,
)
from drs_desktop.simulator.fleet import has_data, newest_data_ts, on_demand_snapshot, pit_snapshots
from drs_desktop.simulator.ids import stable_fraction, stable_hex, stream
from drs_desktop.simulator.postlaunch import PostLaunchRunner
from drs_desktop.simulator.scenario import Range
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)

#: The raw error of a termination failed by the ``terminate`` fault.
TERMINATE_FAILED_REASON = "UnauthorizedOperation: not authorized to perform ec2:TerminateInstances"


def _draw(rng: random.Random, r: Range) -> float:
    return rng.uniform(r.low, r.high)


class JobEngine:
    def __init__(self, world: World) -> None:
        self.w = world
        self.post_launch = PostLaunchRunner(world)
        self._rngs: dict[str, random.Random] = {}

    # -- requests --------------------------------------------------------------------------------

    def start_launch(
        self,
        requests: Sequence[tuple[str, str | None]],
        *,
        is_drill: bool,
        tags: Mapping[str, str],
        held: bool | None = None,
    ) -> Job:
        """StartRecovery: validate, check every limit, then create the job and schedule its timeline.
        ``held`` (default: the world's ``hold_launches``) makes it wait for a test's hands."""
        w = self.w
        ids = [sid for sid, _ in requests]
        if len(set(ids)) != len(ids):
            raise errors.invalid("The same source server is listed more than once", "sourceServers")
        if len(ids) > w.quotas.max_servers_per_job:
            raise errors.quota_exceeded(
                errors.QUOTA_SERVERS_PER_JOB,
                f"A job can hold at most {w.quotas.max_servers_per_job} source servers; got {len(ids)}",
                "SOURCE_SERVER",
            )
        servers: list[Server] = []
        for sid, snapshot_id in requests:
            server = w.servers.get(sid)
            if server is None:
                raise errors.not_found(sid, "SOURCE_SERVER", f"Source server {sid} not found")
            if snapshot_id is not None and not any(
                s.snapshot_id == snapshot_id and s.ts is not None
                for s in pit_snapshots(server, w.now, w.seed)
            ):
                raise errors.not_found(
                    snapshot_id, "RECOVERY_SNAPSHOT", f"Recovery snapshot {snapshot_id} not found for {sid}"
                )
            servers.append(server)
        self._check_capacity(servers)
        job = self._new_job("LAUNCH", "START_DRILL" if is_drill else "START_RECOVERY", is_drill, tags)
        for server, (_, snapshot_id) in zip(servers, requests, strict=True):
            job.participants.append(Participant(server.server_id, snapshot_id=snapshot_id))
            server.active_job_id = job.job_id
            server.last_launch_result = "PENDING"
            server.last_launch = LastLaunch(job.job_id, "DRILL" if is_drill else "RECOVERY", w.now, "PENDING")
            entry = LaunchEntry(server.server_id, job.job_id, is_drill, w.now)
            w.launches.append(entry)
            w.launch_index[(job.job_id, server.server_id)] = entry
        job.unsettled = len(job.participants)
        job.stuck = w.faults.job_hits("stuck", job.job_id, [(s.server_id, s.hostname) for s in servers])
        job.by_hand = w.hold_launches if held is None else held
        if not job.by_hand:  # a held job waits for a test's hands (``by_hand``)
            w.schedule(w.now + _draw(self._rng(job), w.timings.job_start), lambda: self._job_started(job))
        logger.debug("Job %s: launch of %d servers (drill=%s)", job.job_id, len(servers), is_drill)
        return job

    def start_terminate(self, instance_ids: Sequence[str]) -> Job:
        """TerminateRecoveryInstances: a TERMINATE job that shuts the instances down and forgets them."""
        w = self.w
        if len(set(instance_ids)) != len(instance_ids):
            raise errors.invalid("The same recovery instance is listed more than once", "recoveryInstanceIDs")
        instances: list[Instance] = []
        for iid in instance_ids:
            instance = w.instances.get(iid)
            if instance is None:
                raise errors.not_found(iid, "RECOVERY_INSTANCE", f"Recovery instance {iid} not found")
            instances.append(instance)
        servers = [w.servers[i.server_id] for i in instances]
        unique = list({s.server_id: s for s in servers}.values())
        self._check_capacity(unique)
        job = self._new_job("TERMINATE", "TERMINATE_RECOVERY_INSTANCES", False, {})
        for instance in instances:
            instance.terminating = True
            job.participants.append(
                Participant(instance.server_id, recovery_instance_id=instance.instance_id)
            )
        for server in unique:
            server.active_job_id = job.job_id
        job.unsettled = len(job.participants)
        w.schedule(w.now + _draw(self._rng(job), w.timings.job_start), lambda: self._job_started(job))
        return job

    def delete_job(self, job_id: str) -> None:
        job = self.w.jobs.get(job_id)
        if job is None or job.deleted:
            raise errors.not_found(job_id, "JOB", f"Job {job_id} not found")
        if job.active:
            raise errors.conflict(f"Job {job_id} is {job.status} and cannot be deleted", job_id, "JOB")
        job.deleted = True
        del self.w.jobs[job_id]

    def _check_capacity(self, servers: list[Server]) -> None:
        w = self.w
        busy = [s for s in servers if s.active_job_id is not None]
        if busy:
            raise errors.conflict(errors.SERVER_BUSY, busy[0].server_id, "SOURCE_SERVER")
        active = w.active_jobs()
        if len(active) >= w.quotas.max_concurrent_jobs:
            raise errors.quota_exceeded(
                errors.QUOTA_CONCURRENT_JOBS,
                f"At most {w.quotas.max_concurrent_jobs} jobs may be in progress at once",
                "JOB",
            )
        in_jobs = sum(len(j.participants) for j in active)
        if in_jobs + len(servers) > w.quotas.max_servers_in_active_jobs:
            raise errors.quota_exceeded(
                errors.QUOTA_SERVERS_IN_ALL_JOBS,
                f"At most {w.quotas.max_servers_in_active_jobs} source servers may be in active jobs; "
                f"{in_jobs} are, and the request adds {len(servers)}",
                "SOURCE_SERVER",
            )

    def _new_job(self, job_type: str, initiated_by: str, is_drill: bool, tags: Mapping[str, str]) -> Job:
        w = self.w
        job_id = w.ids.job()
        arn = w.arns.job(job_id)
        # Real DRS adds the job's own ARN as a tag, even when the caller passed none (drs_api.md §12.3).
        job = Job(
            job_id=job_id,
            arn=arn,
            job_type=job_type,
            initiated_by=initiated_by,
            is_drill=is_drill,
            created_ts=w.now,
            seq=w.next_job_seq(),
            tags={**dict(tags), "resourceArn": arn},
            participants=[],
        )
        w.jobs[job_id] = job
        return job

    def _rng(self, job: Job) -> random.Random:
        """The job's own stream: its draws happen in event order, whenever anybody polls."""
        rng = self._rngs.get(job.job_id)
        if rng is None:
            rng = self._rngs[job.job_id] = stream(self.w.seed, f"job:{job.job_id}")
        return rng

    # -- timeline --------------------------------------------------------------------------------

    def _log(self, job: Job, event: str, **data: object) -> None:
        job.log.append(LogItem(self.w.now, event, dict(data)))

    def _job_started(self, job: Job) -> None:
        w = self.w
        job.status = "STARTED"
        self._log(job, "JOB_START")
        rng = self._rng(job)
        t = w.timings
        if job.job_type == "TERMINATE":
            for p in job.participants:
                w.schedule(
                    w.now + _draw(rng, t.server_skew), functools.partial(self._terminate_server, job, p, rng)
                )
            return
        # Servers stay PENDING for minutes, each a little longer than the one before it (§12: a big job
        # ends later than a small one); then their work starts, seconds apart.
        stagger = 0.0
        for index, p in enumerate(job.participants):
            if index:
                stagger += _draw(rng, t.server_stagger)
            delay = _draw(rng, t.server_pending) + stagger + _draw(rng, t.server_skew)
            w.schedule(w.now + delay, functools.partial(self._launch_server, job, p, rng))

    def _launch_server(self, job: Job, p: Participant, rng: random.Random) -> None:
        w = self.w
        server = w.servers[p.server_id]
        p.launch_status = "IN_PROGRESS"
        self._ledger(job, p)
        old = w.instances.get(server.recovery_instance_id or "")
        if old is not None and not old.terminating:
            # A new launch replaces the server's previous recovery instance [inferred].
            self._log(job, "CLEANUP_START", sourceServerID=server.server_id, targetInstanceID=old.instance_id)
            old.terminating = True
            old.state = "SHUTTING-DOWN"
            w.schedule(w.now + rng.uniform(5, 15), lambda: self._cleanup_done(job, p, old, rng))
            return
        self._snapshot_phase(job, p, rng)

    def _cleanup_done(self, job: Job, p: Participant, old: Instance, rng: random.Random) -> None:
        self._log(job, "CLEANUP_END", sourceServerID=p.server_id, targetInstanceID=old.instance_id)
        self._forget_instance(old)
        self._snapshot_phase(job, p, rng)

    def _snapshot_phase(self, job: Job, p: Participant, rng: random.Random) -> None:
        w = self.w
        server = w.servers[p.server_id]
        sid = server.server_id
        if p.snapshot_id is not None:
            snap = next(
                (s for s in pit_snapshots(server, w.now, w.seed) if s.snapshot_id == p.snapshot_id), None
            )
            if snap is None:  # aged out (or deleted) between the request and now
                reason = f"Recovery snapshot {p.snapshot_id} is no longer available"
                self._fail(job, p, "USING_PREVIOUS_SNAPSHOT_FAILED", reason)
                return
            self._log(job, "USING_PREVIOUS_SNAPSHOT", sourceServerID=sid)
            self._after_snapshot(job, p, rng, snap.ts or snap.expected_ts)
            return
        self._log(job, "SNAPSHOT_START", sourceServerID=sid)
        duration = _draw(rng, w.timings.snapshot)
        if not has_data(server) or server.replication_state == "STALLED":
            reason = (
                "Replication is stalled; an on-demand snapshot cannot be taken"
                if has_data(server)
                else f"Source server has no replicated data (replication state {server.replication_state})"
            )
            w.schedule(w.now + duration, lambda: self._fail(job, p, "SNAPSHOT_FAIL", reason))
            return
        snap = on_demand_snapshot(server, newest_data_ts(server, w.now), w.seed)
        taken = w.now

        def done() -> None:
            snap.ts = w.now
            self._log(job, "SNAPSHOT_END", sourceServerID=sid)
            # The instance's pointInTimeSnapshotDateTime is when DRS took this snapshot; its data is
            # behind that by the replication lag (the conversion's dataTimestamp says how far).
            self._after_snapshot(job, p, rng, snap.expected_ts, taken)

        w.schedule(w.now + duration, done)

    def _after_snapshot(
        self, job: Job, p: Participant, rng: random.Random, data_ts: float, pit_ts: float | None = None
    ) -> None:
        w = self.w
        server = w.servers[p.server_id]
        sid = server.server_id
        t = w.timings
        if w.faults.hits("permissions", job.job_id, sid, server.hostname):
            # No EC2 permissions: the log just stops, and the server fails minutes later (§12.7).
            w.schedule(w.now + _draw(rng, t.permissions_failure), lambda: self._fail(job, p, None, None))
            return
        conversion_server = f"i-{stable_hex(w.seed, job.job_id, sid, 'conversion')}"
        conversion = _draw(rng, t.conversion.for_os(server.os_family))

        def conversion_start() -> None:
            self._log(job, "CONVERSION_START", sourceServerID=sid, conversionServerID=conversion_server)
            if job.stuck:
                return  # the job never finishes: nothing more happens to this server
            if w.faults.hits("conversion", job.job_id, sid, server.hostname):
                reason = "Conversion failed: unable to mount the root volume of the replicated disk"
                w.schedule(
                    w.now + conversion * rng.uniform(0.3, 0.9),
                    lambda: self._fail(
                        job, p, "CONVERSION_FAIL", reason, conversionServerID=conversion_server
                    ),
                )
                return
            w.schedule(w.now + conversion, conversion_end)

        def conversion_end() -> None:
            volumes = {name: size for name, size in server.disks}
            self._log(
                job,
                "CONVERSION_END",
                sourceServerID=sid,
                conversionServerID=conversion_server,
                conversionProperties={
                    "rootVolumeName": server.disks[0][0],
                    "forceUefi": False,
                    "dataTimestamp": w.fmt(data_ts),
                    "volumeToVolumeSize": volumes,
                },
            )
            w.schedule(w.now + _draw(rng, t.conversion_to_launch), launch_start)

        def launch_start() -> None:
            p.target_instance_id = f"i-{stable_hex(w.seed, job.job_id, sid, 'instance')}"
            self._log(job, "LAUNCH_START", sourceServerID=sid, targetInstanceID=p.target_instance_id)
            duration = _draw(rng, t.launch.for_os(server.os_family))
            try:  # EC2 launches from the template's default version as it is now (ec2_templates)
                w.templates.place(
                    server,
                    p.target_instance_id,
                    copy_private_ip=server.launch_config.copy_private_ip,
                    now=w.now,
                )
            except LaunchRefused as refused:
                reason = str(refused)
                w.schedule(
                    w.now + _draw(rng, t.conversion_to_launch),
                    lambda: self._fail(
                        job, p, "LAUNCH_FAILED", reason, targetInstanceID=p.target_instance_id
                    ),
                )
                return
            if w.faults.hits("launch", job.job_id, sid, server.hostname):
                w.templates.release(p.target_instance_id)
                reason = "InsufficientInstanceCapacity: not enough capacity for the requested instance type"
                w.schedule(
                    w.now + _draw(rng, t.launch_failure),
                    lambda: self._fail(
                        job, p, "LAUNCH_FAILED", reason, targetInstanceID=p.target_instance_id
                    ),
                )
                return
            point = data_ts if pit_ts is None else pit_ts
            w.schedule(w.now + duration, lambda: self._launched(job, p, rng, point))

        w.schedule(w.now + _draw(rng, t.snapshot_to_conversion), conversion_start)

    def _launched(self, job: Job, p: Participant, rng: random.Random, data_ts: float) -> None:
        w = self.w
        server = w.servers[p.server_id]
        instance = self._new_instance(job, p, data_ts)
        p.show_instance_id = not (
            w.faults.hits("missing_instance_id", job.job_id, server.server_id, server.hostname)
            or stable_fraction(w.seed, "instance_id_left_out", job.job_id, server.server_id)
            < w.scenario.behaviour.missing_instance_id_fraction
        )
        p.launch_status = "LAUNCHED"
        self._settle(job, p)
        stopped = server.launch_config.launch_disposition == "STOPPED"
        w.schedule(
            w.now + _draw(rng, w.timings.instance_running), lambda: self._instance_up(instance, stopped)
        )
        if not stopped:
            boot = _draw(rng, w.timings.boot.for_os(server.os_family))
            w.schedule(w.now + boot, lambda: self.post_launch.agent_seen(job, p, instance, rng))

    def _new_instance(self, job: Job, p: Participant, data_ts: float) -> Instance:
        """The recovery instance of ``p`` in ``job``, now the server's newest."""
        w = self.w
        server = w.servers[p.server_id]
        iid = p.target_instance_id or f"i-{stable_hex(w.seed, job.job_id, server.server_id, 'instance')}"
        volumes = [
            (name, size, f"vol-{stable_hex(w.seed, iid, name, length=8)}") for name, size in server.disks
        ]
        instance = Instance(
            instance_id=iid,
            arn=w.arns.recovery_instance(iid),
            server_id=server.server_id,
            job_id=job.job_id,
            is_drill=job.is_drill,
            created_ts=w.now,
            pit_ts=data_ts,
            instance_type=server.instance_type,
            availability_zone=f"{w.scenario.region}a",
            volumes=volumes,
            # DescribeRecoveryInstances lists it only after a lag (eventual consistency, §12.14).
            listed_ts=w.now + _draw(self._rng(job), w.timings.instance_listed),
        )
        w.templates.land(instance, server, copy_private_ip=server.launch_config.copy_private_ip, now=w.now)
        w.instances[iid] = instance
        server.recovery_instance_id = iid
        p.recovery_instance_id = iid
        return instance

    def _instance_up(self, instance: Instance, stopped: bool) -> None:
        if instance.instance_id in self.w.instances and not instance.terminating:
            instance.state = "STOPPED" if stopped else "RUNNING"

    def _fail(self, job: Job, p: Participant, event: str | None, reason: str | None, **data: object) -> None:
        if event is not None:
            self._log(job, event, sourceServerID=p.server_id, rawError=reason, **data)
        p.launch_status = "FAILED"
        self._settle(job, p)

    def _settle(self, job: Job, p: Participant) -> None:
        w = self.w
        p.settled = True
        server = w.servers[p.server_id]
        if job.job_type == "LAUNCH":
            server.last_launch_result = "SUCCEEDED" if p.launch_status == "LAUNCHED" else "FAILED"
            if server.last_launch is not None and server.last_launch.job_id == job.job_id:
                server.last_launch.status = p.launch_status
            self._ledger(job, p)
        job.unsettled -= 1
        if job.unsettled == 0 and not job.stuck and not job.by_hand:
            w.schedule(w.now + _draw(self._rng(job), w.timings.job_end), lambda: self._job_completed(job))

    def _job_completed(self, job: Job) -> None:
        w = self.w
        job.status = "COMPLETED"
        job.end_ts = w.now
        self._log(job, "JOB_END")
        for p in job.participants:
            server = w.servers[p.server_id]
            if server.active_job_id == job.job_id:
                server.active_job_id = None
        w.notify_job_completed(job)

    def _ledger(self, job: Job, p: Participant) -> None:
        entry = self.w.launch_index.get((job.job_id, p.server_id))
        if entry is None:
            return
        entry.outcome = p.launch_status
        if p.launch_status == "LAUNCHED":
            entry.launched_ts = self.w.now
            entry.recovery_instance_id = p.recovery_instance_id

    # -- terminate -------------------------------------------------------------------------------

    def _terminate_server(self, job: Job, p: Participant, rng: random.Random) -> None:
        w = self.w
        iid = p.recovery_instance_id or ""
        instance = w.instances.get(iid)
        p.launch_status = "IN_PROGRESS"
        self._log(job, "CLEANUP_START", sourceServerID=p.server_id, targetInstanceID=iid)
        if instance is not None:
            instance.state = "SHUTTING-DOWN"

        def done() -> None:
            host = w.servers[p.server_id].hostname
            if instance is not None and w.faults.hits("terminate", job.job_id, p.server_id, host):
                instance.state, instance.terminating = "RUNNING", False  # a fault: the instance stays
                self._fail(job, p, "CLEANUP_FAIL", TERMINATE_FAILED_REASON, targetInstanceID=iid)
                return
            self._log(job, "CLEANUP_END", sourceServerID=p.server_id, targetInstanceID=iid)
            if instance is not None:
                self._forget_instance(instance)
            p.launch_status = "TERMINATED"
            self._settle(job, p)

        w.schedule(w.now + _draw(rng, w.timings.terminate), done)

    def _forget_instance(self, instance: Instance) -> None:
        """The EC2 instance is terminated and DRS deletes the recovery instance."""
        w = self.w
        instance.state = "TERMINATED"
        w.instances.pop(instance.instance_id, None)
        server = w.servers[instance.server_id]
        if server.recovery_instance_id == instance.instance_id:
            server.recovery_instance_id = None
            if server.last_launch is not None and server.last_launch.job_id == instance.job_id:
                server.last_launch.status = "TERMINATED"
