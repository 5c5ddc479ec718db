"""The simulated account: its state, and the event queue that moves it through virtual time.

The world is advanced lazily. Everything that will happen (a job starting, a conversion ending, an
instance booting, a wait step elapsing) is an event on a heap keyed by virtual time; ``advance_to(t)``
pops and runs the events due by ``t`` in order, and events may schedule later events. The backend calls
``advance_to(clock.now())`` before every request, so moving the clock costs nothing until somebody
looks, and 500 servers in flight are a few thousand heap entries.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from drs_desktop.simulator.ec2_network import Network
from drs_desktop.simulator.ec2_sources import SourceInstance, build_sources, mark_aws_hosted, own_sources
from drs_desktop.simulator.ec2_templates import Templates
from drs_desktop.simulator.entities import Instance, Job, LaunchEntry, LaunchRecord, Server
from drs_desktop.simulator.faults import FaultPlan
from drs_desktop.simulator.fleet import build_fleet
from drs_desktop.simulator.ids import Arns, IdFactory, format_ts, stream
from drs_desktop.simulator.scenario import Scenario

logger = logging.getLogger(__name__)

Event = Callable[[], None]


class World:
    """State of one simulated account and region; not thread-safe (the backend holds a lock)."""

    def __init__(self, scenario: Scenario, seed: int, start_ts: float) -> None:
        self.scenario = scenario
        self.seed = seed
        self.quotas = scenario.quotas
        self.timings = scenario.timings
        self.arns = Arns(scenario.region, scenario.account_id)
        self.ids = IdFactory(stream(seed, "ids"))
        self.start_ts = start_ts
        self.now = start_ts
        self.initialized = scenario.initialized
        self.hold_launches = False  # new LAUNCH jobs wait for a test's hands (``by_hand``)
        self.faults = FaultPlan(seed, dict(scenario.faults.transport), dict(scenario.faults.world))
        self.servers: dict[str, Server] = {
            s.server_id: s for s in build_fleet(scenario, seed, start_ts, self.arns)
        }
        mark_aws_hosted(scenario, list(self.servers.values()), seed)
        self.by_hostname: dict[str, str] = {s.hostname: s.server_id for s in self.servers.values()}
        #: The EC2 side (``ec2_network``, ``ec2_templates``): launches land where the templates say.
        self.network = Network(
            scenario.ec2, seed=seed, account_id=scenario.account_id, region=scenario.region
        )
        self.templates = Templates(self.network, list(self.servers.values()), now=start_ts, seed=seed)
        #: The running EC2 instance of each AWS-hosted source server (``ec2_sources``), wherever it runs:
        #: what DRS says of it. ``sources``: those this world's EC2 lists (its own account and Region, and
        #: those of other worlds' servers placed here by the estate).
        self.replicated: dict[str, SourceInstance] = build_sources(
            scenario, list(self.servers.values()), self.network, seed=seed, now=start_ts
        )
        self.sources: dict[str, SourceInstance] = own_sources(
            self.replicated, scenario.account_id, scenario.region
        )
        self.jobs: dict[str, Job] = {}
        self.instances: dict[str, Instance] = {}
        self.launches: list[LaunchEntry] = []
        self.launch_index: dict[tuple[str, str], LaunchEntry] = {}
        self.job_listeners: list[Callable[[Job], None]] = []
        #: Loopback addresses of recovery instances with health-check listeners (``listeners``).
        self.loopback: dict[str, str] = {}
        self._heap: list[tuple[float, int, Event]] = []
        self._seq = 0
        self._job_seq = 0

    # -- time ------------------------------------------------------------------------------------

    def schedule(self, ts: float, event: Event) -> None:
        """Run ``event`` when virtual time reaches ``ts`` (never earlier than the current world time)."""
        self._seq += 1
        heapq.heappush(self._heap, (max(ts, self.now), self._seq, event))

    def advance_to(self, ts: float) -> int:
        """Run every event due by ``ts``, in time order; returns how many ran."""
        ran = 0
        heap = self._heap
        while heap and heap[0][0] <= ts:
            when, _, event = heapq.heappop(heap)
            self.now = when
            event()
            ran += 1
        if ts > self.now:
            self.now = ts
        return ran

    def pending_events(self) -> int:
        return len(self._heap)

    def fmt(self, ts: float) -> str:
        return format_ts(ts, self.scenario.timestamp_format)

    def next_job_seq(self) -> int:
        self._job_seq += 1
        return self._job_seq

    # -- lookups ---------------------------------------------------------------------------------

    def server(self, ref: str) -> Server | None:
        """A server by ID or hostname."""
        server = self.servers.get(ref)
        if server is None and ref in self.by_hostname:
            server = self.servers[self.by_hostname[ref]]
        return server

    def active_jobs(self) -> list[Job]:
        return [j for j in self.jobs.values() if j.active]

    def notify_job_completed(self, job: Job) -> None:
        for listener in list(self.job_listeners):
            listener(job)

    def launch_records(self) -> list[LaunchRecord]:
        def dt(ts: float | None) -> datetime | None:
            return None if ts is None else datetime.fromtimestamp(ts, UTC)

        return [
            LaunchRecord(
                source_server_id=e.server_id,
                job_id=e.job_id,
                is_drill=e.is_drill,
                requested_at=datetime.fromtimestamp(e.requested_ts, UTC),
                outcome=e.outcome,
                launched_at=dt(e.launched_ts),
                recovery_instance_id=e.recovery_instance_id,
            )
            for e in self.launches
        ]
