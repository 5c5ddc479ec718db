"""Two saved plans over the small estate, its inventory cached, and drills run as the GUI runs them:
shared by the readiness tests (service and dashboard pane).

"Shop" (database then app, RTO 90 min, RPO 15 min) is ready; "Fax" (legacy-fax, STALLED two hours ago)
breaks its RPO of 15 min and fails its preflight.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services.executions import (
    RunRequest,
    create_execution,
    prepare_execution,
    with_launch_configs,
)
from drs_desktop.services.preflight import preflight
from drs_desktop.services.readiness import ReadinessService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan


@dataclass
class World:
    sim: EmbeddedSimulator
    db: Database
    gateway: DrsGateway

    def id(self, hostname: str) -> str:
        return self.sim.backend.server_id_of(hostname)

    def refresh_inventory(self) -> None:
        inventory_store.save_inventory(self.db, self.gateway.inventory(), now=self.sim.clock.now())

    def drill(self, plan: str) -> Outcome | None:
        """A drill as the GUI starts one: prepare, preflight, create with the preflight's configs, run."""
        request = RunRequest(plan_name=plan, mode=Mode.DRILL, poll_interval_seconds=30)
        prepared = prepare_execution(self.db, self.gateway, request)
        report = preflight(self.db, self.gateway, prepared, request, now=self.sim.clock.now())
        prepared = with_launch_configs(prepared, report)
        runner = create_execution(self.db, self.gateway, prepared, request, clock=self.sim.clock.now)

        def sleep(seconds: float) -> None:
            self.sim.clock.advance(max(seconds, 1.0))

        runner.run(sleep=sleep)
        return runner.state.finished

    def service(self, stop: threading.Event | None = None) -> ReadinessService:
        return ReadinessService(
            self.db, lambda: self.gateway.for_another_thread(), clock=self.sim.clock.now, stop=stop
        )


@contextmanager
def readiness_world(folder: Path, *, plans: bool = True, inventory: bool = True) -> Iterator[World]:
    with EmbeddedSimulator("small", seed=7) as sim, Database.open(folder / "drs.sqlite3") as db:
        gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
        w = World(sim, db, gateway)
        if plans:
            save_plan(
                db,
                RecoveryPlan(
                    name="Shop",
                    rto_minutes=90,
                    rpo_minutes=15,
                    waves=(
                        Wave(name="Database", servers=(w.id("shop-db-01"),)),
                        Wave(name="App", servers=(w.id("shop-app-01"), w.id("shop-app-02"))),
                    ),
                ),
            )
            save_plan(
                db,
                RecoveryPlan(
                    name="Fax", rpo_minutes=15, waves=(Wave(name="Fax", servers=(w.id("legacy-fax"),)),)
                ),
            )
        if inventory:
            w.refresh_inventory()
        try:
            yield w
        finally:
            gateway.close()
