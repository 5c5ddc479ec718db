"""A small execution history made by real runs, shared by the history tests (service, worker, UI).

The runner drives the real boto3 client against the embedded simulator ("small") on a manual clock,
as in tests/runner. Four executions, oldest first, each on servers of its own (a new launch replaces a
server's earlier recovery instance, so sharing servers would end another drill's instances behind its
journal's back):

1. ``crm_cleaned``: a drill of "CRM" (approved), finished, then cleaned up: nothing left running.
2. ``crm_recovery``: a RECOVERY of "CRM" (approved), finished: production instances, never cleaned.
3. ``shop_left``: a drill of "Shop", finished, that left its 5 recovery instances running.
4. ``fax_waiting``: a drill of "Fax" waiting at its approval gate: unfinished, one drill instance up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.events import ApprovalGranted, CleanupRequested, Outcome
from drs_desktop.domain.engine.state import ExecutionStatus, Mode
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Wave
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan


@dataclass(frozen=True)
class Estate:
    db: Database
    sim: EmbeddedSimulator
    gateway: DrsGateway
    crm_cleaned: str
    crm_recovery: str
    shop_left: str
    fax_waiting: str
    shop_instances: tuple[str, ...]  # the recovery instances shop_left left running
    fax_instances: tuple[str, ...]

    def clock(self) -> datetime:
        return self.sim.clock.now()

    def sleep(self, seconds: float) -> None:
        self.sim.clock.advance(max(seconds, 1.0))

    def target(self) -> AwsTarget:
        return AwsTarget(profile=None, region=self.sim.region, endpoint_url=self.sim.endpoint_url)

    def live_instance_ids(self) -> set[str]:
        """Recovery instances DRS (the simulator) still has, after letting pending jobs finish."""
        self.sim.clock.advance(3600)
        return {i.recovery_instance_id for i in self.gateway.describe_recovery_instances()}


def plans(sim: EmbeddedSimulator) -> tuple[RecoveryPlan, RecoveryPlan, RecoveryPlan]:
    def ids(*names: str) -> tuple[str, ...]:
        return tuple(sim.backend.server_id_of(n) for n in names)

    shop = RecoveryPlan(
        name="Shop",
        rto_minutes=90,
        waves=(
            Wave(name="Database", servers=ids("shop-db-01")),
            Wave(name="App", servers=ids("shop-app-01", "shop-app-02")),
            Wave(name="Web", servers=ids("shop-web-01", "shop-web-02")),
        ),
    )
    crm = RecoveryPlan(
        name="CRM",
        rto_minutes=1,  # a target no run meets: the RTO column shows "missed"
        waves=(
            Wave(name="Web", servers=ids("crm-web-01")),
            Wave(name="App", servers=ids("crm-app-01"), before=(ApprovalStep(message="Web OK?"),)),
        ),
    )
    fax = RecoveryPlan(
        name="Fax",
        waves=(
            Wave(name="Web", servers=ids("crm-web-01")),
            Wave(name="Later", servers=ids("shop-app-01"), before=(ApprovalStep(message="Go on?"),)),
        ),
    )
    return shop, crm, fax


def _start(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, plan: str, mode: Mode
) -> ExecutionRunner:
    request = RunRequest(
        plan_name=plan,
        mode=mode,
        poll_interval_seconds=30,
        target={"region": sim.region, "endpoint_url": sim.endpoint_url, "profile": None},
    )
    prepared = prepare_execution(db, gateway, request)
    return create_execution(db, gateway, prepared, request, clock=sim.clock.now)


def _run(runner: ExecutionRunner, sim: EmbeddedSimulator, *, approve: bool) -> None:
    def sleep(seconds: float) -> None:
        sim.clock.advance(max(seconds, 1.0))

    while True:
        result = runner.run(sleep=sleep, return_on_approval=True)
        if result.outcome is not None or not approve:
            return
        for gate in result.approvals:
            runner.submit(
                ApprovalGranted(
                    wave_index=gate.wave_index,
                    phase=gate.phase,
                    step_index=gate.step_index,
                    by="alice",
                    at=sim.clock.now(),
                )
            )


@contextmanager
def build_estate(folder: Path) -> Iterator[Estate]:
    """The four executions in a fresh database under ``folder``, with the simulator left running."""
    with EmbeddedSimulator("small", seed=7) as sim, Database.open(folder / "drs-desktop.sqlite3") as db:
        gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))

        def sleep(seconds: float) -> None:
            sim.clock.advance(max(seconds, 1.0))

        for plan in plans(sim):
            save_plan(db, plan)

        crm_drill = _start(db, gateway, sim, "CRM", Mode.DRILL)
        _run(crm_drill, sim, approve=True)
        assert crm_drill.state.finished is Outcome.SUCCEEDED
        crm_drill.control(CleanupRequested(at=sim.clock.now(), by="alice"))
        crm_drill.run(sleep=sleep)
        sim.clock.advance(3600)

        recovery = _start(db, gateway, sim, "CRM", Mode.RECOVERY)
        _run(recovery, sim, approve=True)
        assert recovery.state.finished is Outcome.SUCCEEDED
        sim.clock.advance(600)

        shop = _start(db, gateway, sim, "Shop", Mode.DRILL)
        _run(shop, sim, approve=False)
        assert shop.state.finished is Outcome.SUCCEEDED
        shop_instances = tuple(sorted(i.recovery_instance_id for i in shop.state.instances.values()))
        assert len(shop_instances) == 5
        sim.clock.advance(600)

        fax = _start(db, gateway, sim, "Fax", Mode.DRILL)
        _run(fax, sim, approve=False)
        assert fax.status is ExecutionStatus.WAITING_APPROVAL
        # DRS names most instances only through DescribeRecoveryInstances, which lists them late: the
        # waiting run keeps looking (docs/simulator.md, engine.instances).
        fax.run(sleep=sleep, should_stop=lambda: bool(fax.state.instances), max_steps=200)
        fax_instances = tuple(i.recovery_instance_id for i in fax.state.instances.values())
        assert len(fax_instances) == 1
        yield Estate(
            db=db,
            sim=sim,
            gateway=gateway,
            crm_cleaned=crm_drill.execution_id,
            crm_recovery=recovery.execution_id,
            shop_left=shop.execution_id,
            fax_waiting=fax.execution_id,
            shop_instances=shop_instances,
            fax_instances=fax_instances,
        )
