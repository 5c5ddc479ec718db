"""A tiny in-memory DRS and a model runner, so engine tests can run whole executions.

``FakeDrs`` keeps jobs, enforces the quotas DRS enforces (and records any violation: the engine should
never cause one), and lets a test move servers along by hand or automatically. ``Harness`` is the
runner contract of ``engine`` in thirty lines: decide, execute, journal JSON, apply; it can also crash
(rebuild the state from a prefix of its journal) the way the real runner would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from drs_desktop.domain.chunking import Limits
from drs_desktop.domain.engine import decide
from drs_desktop.domain.engine_commands import (
    TAG_CHUNK,
    TAG_EXECUTION,
    AwaitApproval,
    Command,
    FetchJobLog,
    FindRecoveryInstances,
    Finish,
    PollJobs,
    Reconcile,
    Record,
    StartJob,
    SurveyInstances,
    TerminateInstances,
    VerifyJobs,
    WakeAt,
    is_action,
)
from drs_desktop.domain.execution import apply, initial_state, replay
from drs_desktop.domain.execution_events import (
    Event,
    ExecutionFinished,
    ExternalLoad,
    InstancesTerminated,
    InstanceView,
    JobLogItem,
    JobLogObserved,
    JobServerView,
    JobsObserved,
    JobStarted,
    JobStatus,
    JobsVerified,
    JobView,
    LaunchStatus,
    PostLaunchCompleted,
    PostLaunchFailed,
    RecoveryInstancesObserved,
    RunnerRestarted,
    StartFailed,
    StartRequested,
    TerminateRequested,
    event_from_json,
    event_to_json,
)
from drs_desktop.domain.execution_queries import jobs_to_poll
from drs_desktop.domain.execution_state import ExecutionSpec, ExecutionState, PostLaunch, ServerStatus
from drs_desktop.domain.reconcile_events import (
    InstancesSurveyed,
    LastLaunch,
    StartsReconciled,
    SurveyedInstance,
    TaggedJob,
)

from .helpers import T0

FINAL = (LaunchStatus.LAUNCHED, LaunchStatus.FAILED, LaunchStatus.TERMINATED)


class DrsRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class FakeJob:
    job_id: str
    tags: dict[str, str]
    servers: dict[str, LaunchStatus]
    created_at: datetime
    is_drill: bool
    status: JobStatus = JobStatus.PENDING
    instances: dict[str, str] = field(default_factory=dict)
    log: list[JobLogItem] = field(default_factory=list)
    hide_instance_ids: bool = False

    def view(self) -> JobView:
        servers = tuple(
            JobServerView(
                server_id=s,
                launch_status=status,
                recovery_instance_id=None if self.hide_instance_ids else self.instances.get(s),
                ec2_instance_id=None if self.hide_instance_ids else self.instances.get(s),
            )
            for s, status in self.servers.items()
        )
        return JobView(job_id=self.job_id, status=self.status, servers=servers)

    @property
    def active(self) -> bool:
        return self.status is not JobStatus.COMPLETED


@dataclass
class FakeDrs:
    limits: Limits = field(default_factory=Limits)
    external_jobs: int = 0
    external_busy: tuple[str, ...] = ()
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    post_launch: dict[str, PostLaunch] = field(default_factory=dict)
    counter: int = 0
    late_starts: list[tuple[datetime, tuple[str, ...], dict[str, str], bool]] = field(default_factory=list)
    late_jobs: list[str] = field(default_factory=list)

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def active_jobs(self) -> list[FakeJob]:
        return [j for j in self.jobs.values() if j.active]

    def start_recovery(
        self, server_ids: Sequence[str], tags: dict[str, str], is_drill: bool, at: datetime
    ) -> str:
        active = self.active_jobs()
        busy = {s for j in active for s in j.servers} | set(self.external_busy)
        in_jobs = sum(len(j.servers) for j in active) + len(self.external_busy)
        if len(server_ids) > self.limits.max_servers_per_job:
            self._refuse("ServiceQuotaExceededException", "too many servers in one job")
        if len(active) + self.external_jobs >= self.limits.max_concurrent_jobs:
            self._refuse("ServiceQuotaExceededException", "too many concurrent jobs")
        if in_jobs + len(server_ids) > self.limits.max_servers_in_active_jobs:
            self._refuse("ServiceQuotaExceededException", "too many servers in active jobs")
        if busy.intersection(server_ids):
            self._refuse(
                "ConflictException", f"servers already in a job: {sorted(busy.intersection(server_ids))}"
            )
        job_id = f"drsjob-{self._next():017x}"
        self.jobs[job_id] = FakeJob(
            job_id,
            {**tags, "resourceArn": f"arn:aws:drs:x:1:job/{job_id}"},
            dict.fromkeys(server_ids, LaunchStatus.PENDING),
            at,
            is_drill,
        )
        return job_id

    def start_late(
        self, server_ids: Sequence[str], tags: dict[str, str], is_drill: bool, at: datetime
    ) -> None:
        """A StartRecovery DRS carries out at ``at``, after the client gave up on its answer."""
        self.late_starts.append((at, tuple(server_ids), tags, is_drill))

    def carry_out_late_starts(self, now: datetime) -> None:
        due = [start for start in self.late_starts if start[0] <= now]
        self.late_starts = [start for start in self.late_starts if start[0] > now]
        for at, server_ids, tags, is_drill in due:
            self.late_jobs.append(self.start_recovery(server_ids, tags, is_drill, at))

    def last_launch(self, server_id: str) -> FakeJob | None:
        """The newest job that took the server (its ``lifeCycle.lastLaunch``)."""
        for job in reversed(list(self.jobs.values())):
            if server_id in job.servers:
                return job
        return None

    def _refuse(self, code: str, message: str) -> None:
        self.violations.append(f"{code}: {message}")
        raise DrsRefused(code)

    # -- moving jobs along

    def set_status(
        self, job_id: str, server_id: str, status: LaunchStatus, at: datetime | None = None
    ) -> None:
        job = self.jobs[job_id]
        job.servers[server_id] = status
        job.status = JobStatus.STARTED if job.status is JobStatus.PENDING else job.status
        if status is LaunchStatus.LAUNCHED and server_id not in job.instances:
            job.instances[server_id] = f"i-{self._next():017x}"
        if at is not None:
            event = {LaunchStatus.LAUNCHED: "LAUNCH_START", LaunchStatus.FAILED: "LAUNCH_FAILED"}.get(status)
            if event:
                detail = "boom" if status is LaunchStatus.FAILED else ""
                job.log.append(JobLogItem(at=at, event=event, server_id=server_id, detail=detail))

    def finish_job(self, job_id: str) -> None:
        job = self.jobs[job_id]
        for server_id, status in job.servers.items():
            if status not in FINAL:
                job.servers[server_id] = LaunchStatus.FAILED
        job.status = JobStatus.COMPLETED

    def launch_all(self, job_id: str, at: datetime | None = None, fail: Iterable[str] = ()) -> None:
        failing = set(fail)
        for server_id, current in list(self.jobs[job_id].servers.items()):
            if current in FINAL:
                continue  # DRS never takes back a launch or a failure
            status = LaunchStatus.FAILED if server_id in failing else LaunchStatus.LAUNCHED
            self.set_status(job_id, server_id, status, at)
        self.finish_job(job_id)

    def job_of(self, server_id: str, *, active_only: bool = False) -> str:
        """The newest job holding ``server_id``."""
        for job in reversed(list(self.jobs.values())):
            if server_id in job.servers and (job.active or not active_only):
                return job.job_id
        raise KeyError(server_id)

    # -- reads

    def describe(self, job_ids: Sequence[str]) -> tuple[tuple[JobView, ...], tuple[str, ...]]:
        found = tuple(self.jobs[j].view() for j in job_ids if j in self.jobs)
        return found, tuple(j for j in job_ids if j not in self.jobs)

    def listed_since(self, since: datetime) -> list[tuple[str, dict[str, str]]]:
        """Newest first, as DescribeJobs lists them."""
        return [(j.job_id, j.tags) for j in reversed(list(self.jobs.values())) if j.created_at >= since]

    def recovery_instances(self, server_ids: Sequence[str]) -> tuple[InstanceView, ...]:
        return tuple(
            InstanceView(recovery_instance_id=rid, server_id=s, job_id=j.job_id, ec2_instance_id=rid)
            for j in self.jobs.values()
            for s, rid in j.instances.items()
            if s in server_ids and rid not in self.terminated
        )

    def terminate(self, instance_ids: Sequence[str]) -> str:
        self.terminated.extend(instance_ids)
        job_id = f"drsjob-{self._next():017x}"
        return job_id

    def all_instances(self) -> set[str]:
        return {rid for j in self.jobs.values() for rid in j.instances.values()}


#: How the harness answers one StartJob: "ok", "refuse:<Code>", "timeout-launched",
#: "timeout-not-launched", "crash-launched" (the call succeeded, the result was never journaled),
#: "crash-before" (the runner died before it journaled the intent: no call).
StartOutcome = str


@dataclass
class Harness:
    spec: ExecutionSpec
    drs: FakeDrs = field(default_factory=FakeDrs)
    now: datetime = T0
    journal: list[str] = field(default_factory=list)
    state: ExecutionState = field(init=False)
    start_outcomes: list[StartOutcome] = field(default_factory=list)
    sent: list[tuple[StartJob, str | None]] = field(default_factory=list)  # (command, job it created)
    finishes: int = 0
    approvals_seen: list[AwaitApproval] = field(default_factory=list)
    on_poll: Callable[[Harness], None] | None = None
    crashed: bool = False

    def __post_init__(self) -> None:
        self.state = initial_state(self.spec)

    # -- the journal

    def record(self, event: Event) -> ExecutionState:
        data = json.dumps(event_to_json(event))
        self.journal.append(data)
        self.state = apply(self.state, event)
        return self.state

    def replayed(self, upto: int | None = None) -> ExecutionState:
        events = [event_from_json(json.loads(line)) for line in self.journal[:upto]]
        return replay(self.spec, events)

    def crash(self, keep: int | None = None) -> None:
        """The runner dies: the journal keeps ``keep`` events (default all), the state is rebuilt."""
        if keep is not None:
            del self.journal[keep:]
        self.state = self.replayed()
        self.crashed = True
        if self.state.finished is None:
            self.record(RunnerRestarted(at=self.now))

    # -- the loop

    def decide(self) -> tuple[Command, ...]:
        return decide(self.state, self.now)

    def step(self) -> tuple[Command, ...]:
        """One decide; every action executed. Returns what decide said."""
        commands = self.decide()
        self.crashed = False
        for command in commands:
            if self.crashed:
                break  # the runner died: the rest of this batch was never executed
            if is_action(command):
                self.execute(command)
            elif isinstance(command, AwaitApproval):
                self.approvals_seen.append(command)
        return commands

    def run(self, *, max_steps: int = 500, until: Callable[[Harness], bool] | None = None) -> None:
        """Decide and execute until finished (or ``until``); sleep to each WakeAt; stop when idle."""
        for _ in range(max_steps):
            if until is not None and until(self):
                return
            if self.state.finished is not None and until is None and not self.decide():
                return  # finished, and no cleanup left (not even one waiting for a backoff)
            commands = self.step()
            if any(is_action(c) for c in commands):
                continue
            wake = [c.at for c in commands if isinstance(c, WakeAt)]
            if not wake:
                return  # waiting for the operator
            self.now = max(self.now, wake[0])
        raise AssertionError("the execution did not settle within max_steps")

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    # -- executing commands

    def execute(self, command: Command) -> None:
        self.drs.carry_out_late_starts(self.now)  # DRS acts at its own time, whoever asks
        handler = getattr(self, f"_do_{type(command).__name__}")
        handler(command)

    def _do_StartJob(self, command: StartJob) -> None:
        outcome = self.start_outcomes.pop(0) if self.start_outcomes else "ok"
        if outcome == "crash-before":
            self.crash()
            return
        self.record(StartRequested(chunk_id=command.chunk_id, at=self.now))
        if outcome.startswith("refuse:"):
            self.sent.append((command, None))
            self.record(
                StartFailed(chunk_id=command.chunk_id, reason=outcome[7:], definite=True, at=self.now)
            )
            return
        if outcome.startswith("timeout-late:"):  # DRS carries it out this many seconds later
            self.sent.append((command, None))
            delay = timedelta(seconds=float(outcome.split(":", 1)[1]))
            self.drs.start_late(command.server_ids, dict(command.tags), command.is_drill, self.now + delay)
            self.record(
                StartFailed(chunk_id=command.chunk_id, reason="ReadTimeout", definite=False, at=self.now)
            )
            return
        if outcome == "timeout-not-launched":
            self.sent.append((command, None))
            self.record(
                StartFailed(chunk_id=command.chunk_id, reason="ReadTimeout", definite=False, at=self.now)
            )
            return
        try:
            job_id = self.drs.start_recovery(
                command.server_ids, dict(command.tags), command.is_drill, self.now
            )
        except DrsRefused as refused:
            self.sent.append((command, None))
            self.record(
                StartFailed(chunk_id=command.chunk_id, reason=refused.code, definite=True, at=self.now)
            )
            return
        self.sent.append((command, job_id))
        if outcome == "timeout-launched":
            self.record(
                StartFailed(chunk_id=command.chunk_id, reason="ReadTimeout", definite=False, at=self.now)
            )
        elif outcome == "crash-launched":
            self.crash()
        else:
            self.record(JobStarted(chunk_id=command.chunk_id, job_id=job_id, at=self.now))

    def _do_PollJobs(self, command: PollJobs) -> None:
        if self.on_poll is not None:
            self.on_poll(self)
        jobs, missing = self.drs.describe(command.job_ids)
        self.record(JobsObserved(jobs=jobs, missing_job_ids=missing, at=self.now))
        self._post_launch()

    def _post_launch(self) -> None:
        for server_id, status in self.drs.post_launch.items():
            server = self.state.servers.get(server_id)
            if server is None or server.post_launch is not PostLaunch.PENDING:
                continue
            if server.status is not ServerStatus.LAUNCHED:
                continue
            if status is PostLaunch.SUCCEEDED:
                self.record(PostLaunchCompleted(server_id=server_id, at=self.now))
            elif status is PostLaunch.FAILED:
                self.record(PostLaunchFailed(server_id=server_id, reason="ssm failed", at=self.now))

    def _do_SizeExternalLoad(self, command: object) -> None:
        self.record(
            ExternalLoad(
                active_jobs=self.drs.external_jobs, busy_server_ids=self.drs.external_busy, at=self.now
            )
        )

    def _do_VerifyJobs(self, command: VerifyJobs) -> None:
        jobs, missing = self.drs.describe(command.job_ids)
        self.record(
            JobsVerified(wave_index=command.wave_index, jobs=jobs, missing_job_ids=missing, at=self.now)
        )

    def _do_FetchJobLog(self, command: FetchJobLog) -> None:
        items = tuple(self.drs.jobs[command.job_id].log) if command.job_id in self.drs.jobs else ()
        self.record(JobLogObserved(job_id=command.job_id, items=items, at=self.now))

    def _do_Reconcile(self, command: Reconcile) -> None:
        tagged, last = self._look(command.since, command.server_ids)
        self.record(
            StartsReconciled(
                chunk_ids=command.chunk_ids,
                tagged_jobs=tagged,
                last_launches=last,
                drs_time=self.now,
                at=self.now,
            )
        )

    def _look(
        self, since: datetime, server_ids: Sequence[str]
    ) -> tuple[tuple[TaggedJob, ...], tuple[LastLaunch, ...]]:
        """What the runner's look journals: jobs tagged with this execution, and last launches."""
        execution_id = self.spec.execution_id
        tagged = tuple(
            TaggedJob(job_id=job_id, chunk_id=tags.get(TAG_CHUNK, ""))
            for job_id, tags in self.drs.listed_since(since)
            if tags.get(TAG_EXECUTION) == execution_id
        )
        last = []
        for server_id in server_ids:
            job = self.drs.last_launch(server_id)
            if job is not None:
                last.append(
                    LastLaunch(
                        server_id=server_id,
                        job_id=job.job_id,
                        initiated_at=job.created_at,
                        execution_id=job.tags.get(TAG_EXECUTION, ""),
                        chunk_id=job.tags.get(TAG_CHUNK, ""),
                    )
                )
        return tagged, tuple(last)

    def _do_SurveyInstances(self, command: SurveyInstances) -> None:
        tagged, last = self._look(command.since, command.server_ids)
        extra = tuple(
            TaggedJob(job_id=launch.job_id, chunk_id=launch.chunk_id)
            for launch in last
            if launch.execution_id == self.spec.execution_id
        )
        instances = tuple(
            SurveyedInstance(
                recovery_instance_id=found.recovery_instance_id,
                server_id=found.server_id,
                job_id=found.job_id,
                is_drill=self.drs.jobs[found.job_id].is_drill,
                ec2_instance_id=found.ec2_instance_id,
            )
            for found in self.drs.recovery_instances(command.server_ids)
        )
        self.record(InstancesSurveyed(tagged_jobs=(*tagged, *extra), instances=instances, at=self.now))

    def _do_FindRecoveryInstances(self, command: FindRecoveryInstances) -> None:
        found = self.drs.recovery_instances(command.server_ids)
        self.record(RecoveryInstancesObserved(server_ids=command.server_ids, instances=found, at=self.now))

    def _do_TerminateInstances(self, command: TerminateInstances) -> None:
        self.record(TerminateRequested(instance_ids=command.recovery_instance_ids, at=self.now))
        job_id = self.drs.terminate(command.recovery_instance_ids)
        self.record(
            InstancesTerminated(instance_ids=command.recovery_instance_ids, job_id=job_id, at=self.now)
        )

    def _do_Record(self, command: Record) -> None:
        self.record(command.event)

    def _do_Finish(self, command: Finish) -> None:
        self.finishes += 1
        self.record(ExecutionFinished(outcome=command.outcome, at=self.now))

    # -- conveniences for tests

    def starts(self) -> list[StartJob]:
        return [c for c in self.decide() if isinstance(c, StartJob)]

    def poll(self) -> None:
        """A DescribeJobs of everything the engine watches, whether or not it is due."""
        self.execute(PollJobs(job_ids=jobs_to_poll(self.state)))

    def job_of_chunk(self, chunk_id: str) -> str:
        job_id = self.state.chunks[chunk_id].job_id
        assert job_id is not None, f"chunk {chunk_id} has no job"
        return job_id

    def launch_chunk(self, chunk_id: str, fail: Iterable[str] = (), *, poll: bool = True) -> None:
        """The chunk's job launches its servers (but ``fail``), completes, and the engine polls."""
        self.drs.launch_all(self.job_of_chunk(chunk_id), self.now, fail)
        if poll:
            self.poll()

    def launch_everything(self, fail: Iterable[str] = ()) -> None:
        """Every active fake job launches its servers (but those in ``fail``) and completes."""
        for job in self.drs.active_jobs():
            self.drs.launch_all(job.job_id, self.now, fail)
