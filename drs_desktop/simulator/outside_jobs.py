"""Jobs started by other tools: the console, a script, a colleague's drill (drs_api.md §12.13).

Real accounts are shared. A server can sit in a job someone else started for the whole 12-31 minutes of
that job, and StartRecovery answers ConflictException all that time. The simulator reproduces this with
launch jobs that no orchestrator started: no orchestrator tags (only DRS's own ``resourceArn``),
``initiatedBy`` START_DRILL or START_RECOVERY, their own seeded timeline. A scenario schedules them
(``outside_jobs:``), a test or the control API (``/_sim/outside-jobs``) starts one now or at a virtual
time. One that DRS would refuse when its time comes (a server already busy, a quota) is not started, and
the refusal is kept in ``refused``, as the other tool would have seen it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from drs_desktop.simulator.contract import SimulatorError
from drs_desktop.simulator.jobs import JobEngine
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutsideJob:
    """One outside job as asked for, and what became of it: ``job_id`` or the refusal's ``error``."""

    at: float
    servers: tuple[str, ...]
    is_drill: bool
    job_id: str | None = None
    error: str | None = None


class OutsideJobs:
    """Starts and schedules outside jobs on the world's clock; not thread-safe (the backend's lock)."""

    def __init__(self, world: World, jobs: JobEngine) -> None:
        self._w = world
        self._jobs = jobs
        self.started: list[OutsideJob] = []
        self.refused: list[OutsideJob] = []
        self.scheduled = 0

    def schedule_scenario(self) -> None:
        """The scenario's ``outside_jobs``, each at its offset from the world's start."""
        for spec in self._w.scenario.outside_jobs:
            self.schedule(self._w.start_ts + spec.at, spec.servers, is_drill=spec.is_drill, tags=spec.tags)

    def schedule(
        self,
        at: float,
        servers: Iterable[str],
        *,
        is_drill: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Start a job of ``servers`` (IDs or hostnames) when virtual time reaches ``at`` (POSIX seconds)."""
        refs = tuple(servers)
        self.scheduled += 1
        chosen = dict(tags or {})

        def start() -> None:
            self._start_logged(refs, is_drill, chosen)

        self._w.schedule(at, start)

    def start(
        self, servers: Iterable[str], *, is_drill: bool = True, tags: Mapping[str, str] | None = None
    ) -> OutsideJob:
        """Start it now; a refusal is returned (and kept) with DRS's message, never raised."""
        return self._start_logged(tuple(servers), is_drill, dict(tags or {}))

    def _start_logged(self, refs: tuple[str, ...], is_drill: bool, tags: dict[str, str]) -> OutsideJob:
        w = self._w
        ids = []
        for ref in refs:
            server = w.server(ref)
            ids.append(server.server_id if server is not None else ref)
        try:
            job = self._jobs.start_launch(
                [(sid, None) for sid in ids], is_drill=is_drill, tags=tags, held=False
            )
        except SimulatorError as exc:
            refused = OutsideJob(w.now, tuple(ids), is_drill, error=f"{exc.code}: {exc.message}")
            self.refused.append(refused)
            logger.info("Outside job of %s refused: %s", ", ".join(refs), refused.error)
            return refused
        started = OutsideJob(w.now, tuple(ids), is_drill, job_id=job.job_id)
        self.started.append(started)
        logger.info("Outside job %s started (%s): %s", job.job_id, job.initiated_by, ", ".join(refs))
        return started
