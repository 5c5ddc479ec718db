"""LAUNCH jobs moved by a test's hands, for tests that must say what DRS does at a chosen moment.

The world's jobs run their own timeline on the virtual clock (``jobs``), drawn from the seed. A test of
the engine sometimes needs DRS to act at a moment of its choosing instead: this server's launch fails
now, that job stays running, this one ends without launching anything. It holds new LAUNCH jobs
(``hold_launches``): a held job is created as usual (every quota and busy-server check, tags, the
server's last launch, the launch ledger) but then stays PENDING, its servers PENDING, until the test
moves it with the methods below, each at the clock's present. Whatever follows is the world's own again:
the job log, the recovery instances (their boot and post-launch actions then run on the clock, with the
fault plan's post-launch and missing-instance-ID faults), what every read answers. A held job never
ends by itself; it stays active, holding its servers and counting toward the quotas, until ``complete``.
TERMINATE jobs are never held.

Hands do only what the test says: a launch by hand does not replace the server's previous recovery
instance (the timeline's CLEANUP_START), so a test can keep an earlier instance alive on purpose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from drs_desktop.simulator.entities import Job, Participant
from drs_desktop.simulator.fleet import newest_data_ts
from drs_desktop.simulator.ids import stable_hex
from drs_desktop.simulator.jobs import JobEngine
from drs_desktop.simulator.world import World

#: The reason a launch failed by hand gives, unless the test names one (what the timeline's fault says).
LAUNCH_FAILED_REASON = "InsufficientInstanceCapacity: not enough capacity for the requested instance type"
_FINAL = ("LAUNCHED", "FAILED")


class JobsByHand:
    """A test's hands on held LAUNCH jobs. Thread-safe: each call holds the backend's lock and first
    brings the world up to the clock's present."""

    def __init__(
        self, world: World, jobs: JobEngine, lock: threading.RLock, now_ts: Callable[[], float]
    ) -> None:
        self._w = world
        self._jobs = jobs
        self._lock = lock
        self._now_ts = now_ts

    def hold_launches(self, held: bool = True) -> None:
        """From now on, new LAUNCH jobs wait for the test (``held``) or run their own timeline."""
        with self._lock:
            self._w.hold_launches = held

    def held_jobs(self) -> list[str]:
        """IDs of the held jobs not completed yet, oldest first."""
        with self._lock:
            self._settle()
            return [j.job_id for j in self._w.jobs.values() if j.by_hand and j.active]

    def start(self, job_id: str) -> None:
        """The job starts (STARTED, ``JOB_START`` logged); a no-op once it has."""
        with self._lock:
            self._started(self._job(job_id))

    def progress(self, job_id: str, server_id: str, event: str) -> None:
        """The server writes ``event`` (e.g. ``SNAPSHOT_START``, ``CONVERSION_END``) to the job log and is
        IN_PROGRESS; the job starts if it had not."""
        with self._lock:
            job, p = self._participant(job_id, server_id)
            if event == "LAUNCH_START":
                self._launch_start(job, p)
                return
            self._started(job)
            p.launch_status = "IN_PROGRESS"
            self._jobs._log(job, event, sourceServerID=server_id)

    def launch(self, job_id: str, server_id: str) -> str:
        """The server launches now (``LAUNCH_START`` logged, LAUNCHED, a recovery instance); returns the
        instance's ID."""
        with self._lock:
            job, p = self._participant(job_id, server_id)
            self._launch_start(job, p)
            w = self._w
            data_ts = newest_data_ts(w.servers[server_id], w.now)
            self._jobs._launched(job, p, self._jobs._rng(job), data_ts)
            return p.recovery_instance_id or ""

    def fail(
        self,
        job_id: str,
        server_id: str,
        *,
        event: str | None = "LAUNCH_FAILED",
        reason: str = LAUNCH_FAILED_REASON,
        with_instance: bool = False,
    ) -> str | None:
        """The server's launch fails now, logging ``event`` with ``reason`` (no event: the log just stops,
        as without EC2 permissions). ``with_instance``: DRS had created the recovery instance before the
        launch failed, and keeps it; its ID is returned."""
        with self._lock:
            job, p = self._participant(job_id, server_id)
            self._started(job)
            instance = None
            if with_instance:
                self._launch_start(job, p)
                data_ts = newest_data_ts(self._w.servers[server_id], self._w.now)
                instance = self._jobs._new_instance(job, p, data_ts).instance_id
            self._jobs._fail(job, p, event, reason if event is not None else None)
            return instance

    def complete(self, job_id: str) -> None:
        """The job ends now (COMPLETED, ``JOB_END``), its servers left as they are, even unsettled."""
        with self._lock:
            job = self._job(job_id)
            self._started(job)
            self._jobs._job_completed(job)

    def finish(self, job_id: str, *, fail: Iterable[str] = ()) -> None:
        """Every server not yet LAUNCHED or FAILED launches (those in ``fail`` fail), then the job ends."""
        failing = set(fail)
        with self._lock:
            job = self._job(job_id)
            for p in job.participants:
                if p.launch_status in _FINAL:
                    continue  # DRS never takes back a launch or a failure
                if p.server_id in failing:
                    self.fail(job_id, p.server_id)
                else:
                    self.launch(job_id, p.server_id)
            self.complete(job_id)

    # -- plumbing

    def _settle(self) -> None:
        self._w.advance_to(self._now_ts())

    def _job(self, job_id: str) -> Job:
        self._settle()
        job = self._w.jobs.get(job_id)
        if job is None or not job.by_hand:
            raise KeyError(f"no held job {job_id}")
        if not job.active:
            raise ValueError(f"job {job_id} has completed")
        return job

    def _participant(self, job_id: str, server_id: str) -> tuple[Job, Participant]:
        job = self._job(job_id)
        p = job.participant(server_id)
        if p is None:
            raise KeyError(f"{server_id} is not in job {job_id}")
        if p.launch_status in _FINAL:
            raise ValueError(f"{server_id} is already {p.launch_status} in job {job_id}")
        return job, p

    def _started(self, job: Job) -> None:
        if job.status == "PENDING":
            job.status = "STARTED"
            self._jobs._log(job, "JOB_START")

    def _launch_start(self, job: Job, p: Participant) -> None:
        self._started(job)
        if p.target_instance_id is None:
            p.target_instance_id = f"i-{stable_hex(self._w.seed, job.job_id, p.server_id, 'instance')}"
            self._jobs._log(
                job, "LAUNCH_START", sourceServerID=p.server_id, targetInstanceID=p.target_instance_id
            )
        p.launch_status = "IN_PROGRESS"
