"""A real drill for the audit-report tests, on the simulator over loopback HTTP with the real boto3 client,
of a plan with an RPO target of 15 minutes; ``annotate`` then journals a run's audit annotations the way
the runner and the CLI journal them (``event_to_json`` into ``append_events``), so the report reads them
from the journal as it reads every other event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.events import Event, Outcome, event_to_json
from drs_desktop.domain.engine.state import ExecutionState, Mode
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

RPO_MINUTES = 15
HOSTS = ("shop-db-01", "shop-app-01", "shop-web-01")


@dataclass(frozen=True)
class AuditDrill:
    db: Database
    sim: EmbeddedSimulator
    execution_id: str
    state: ExecutionState
    run_arn: str
    account: str

    def server(self, hostname: str) -> str:
        return self.sim.backend.server_id_of(hostname)

    @property
    def started_at(self) -> datetime:
        return self.state.spec.started_at


def run_drill(
    sim: EmbeddedSimulator, db: Database, name: str, *, rpo_minutes: int | None = RPO_MINUTES
) -> AuditDrill:
    """A drill of three servers in two waves, run to its end (SUCCEEDED) on the simulator's clock."""
    ids = [sim.backend.server_id_of(h) for h in HOSTS]
    plan = RecoveryPlan(
        name=name,
        rto_minutes=120,
        rpo_minutes=rpo_minutes,
        waves=(Wave(name="Data", servers=(ids[0],)), Wave(name="Front", servers=(ids[1], ids[2]))),
    )
    save_plan(db, plan, author="planner")
    gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))

    def clock() -> datetime:
        return sim.clock.now()

    def sleep(seconds: float) -> None:
        sim.clock.advance(max(seconds, 1.0))

    request = RunRequest(
        plan_name=name,
        mode=Mode.DRILL,
        poll_interval_seconds=30,
        target={"region": sim.region, "endpoint_url": sim.endpoint_url, "profile": None},
    )
    prepared = prepare_execution(db, gateway, request)
    runner = create_execution(db, gateway, prepared, request, clock=clock)
    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    gateway.close()
    record = execution_store.get_execution(db, runner.execution_id)
    return AuditDrill(
        db=db,
        sim=sim,
        execution_id=runner.execution_id,
        state=runner.state,
        run_arn=str(record.identity.get("arn", "")),
        account=str(record.identity.get("account", "")),
    )


def annotate(db: Database, execution_id: str, events: Sequence[Event]) -> None:
    """Journal ``events`` after the run's last entry, as an annotation made after the run."""
    execution_store.append_events(db, execution_id, [event_to_json(e) for e in events])


#: What the runner journals by itself since issue 18 (the test record, the recovery points).
RUNNER_ANNOTATIONS = ("TestRecorded", "RecoveryPointsRecorded")


def as_before_audit(db: Database, execution_id: str) -> None:
    """Make the run's journal what a DRS Desktop before issue 18 wrote: without the annotations the runner
    now journals by itself, numbered again without gaps (as that journal was)."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT type, at, payload, recorded_at FROM execution_events WHERE execution_id = ? ORDER BY seq",
            (execution_id,),
        ).fetchall()
        kept = [row for row in rows if row[0] not in RUNNER_ANNOTATIONS]
        conn.execute("DELETE FROM execution_events WHERE execution_id = ?", (execution_id,))
        conn.executemany(
            "INSERT INTO execution_events (execution_id, seq, type, at, payload, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(execution_id, seq, *row) for seq, row in enumerate(kept, start=1)],
        )
