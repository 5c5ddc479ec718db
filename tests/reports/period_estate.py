"""A database for the period roll-up tests: three plans, real drills run on the simulator at chosen dates.

The simulator's virtual clock starts on 2025-11-03 and is moved on between drills, so each execution's
start lies where the test needs it. The period is 2026-01-01..2026-06-30 (UTC); the report is made on
2026-07-01.

- "Alpha" (RTO 90 min, RPO 30 min): a drill on 2026-02-10 that passed (a finding raised and resolved,
  signed off by a second person, recovery points journaled), and a drill on 2026-03-16 whose optional
  server failed its launch: the run SUCCEEDED, the test did not pass (an open finding due 2026-12-31,
  self-signed).
- "Bravo": one passed drill on 2025-11-03, before the period (an open finding due 2025-12-01: overdue),
  so it is not tested in the period.
- "Charlie": never run.

Annotations are journaled as the runner journals every event (``append_events`` of ``event_to_json``),
after the drill ended, as the review does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.connection import AccessKeyPair
from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingStatus,
    FindingUpdated,
    RecoveryPoint,
    RecoveryPointsRecorded,
    ReviewSignedOff,
    Severity,
    TestRecorded,
    TestType,
)
from drs_desktop.domain.engine.events import Event, Outcome, event_to_json
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.views.period_range import period_of
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.executions import append_events
from drs_desktop.storage.plans import save_plan
from tests.reports.audit_drills import as_before_audit

START = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
PERIOD = period_of(date(2026, 1, 1), date(2026, 6, 30))
NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
OPERATOR = "arn:aws:sts::111122223333:assumed-role/Operator/alice"
REVIEWER = "arn:aws:sts::111122223333:assumed-role/Reviewer/bob"


@dataclass(frozen=True)
class Estate:
    """What the tests check against: the execution IDs, by name."""

    bravo_before: str
    alpha_passed: str
    alpha_failed: str


def build_estate(db: Database) -> Estate:
    """Save the three plans and run the three drills (see the module docstring)."""
    with EmbeddedSimulator("small", seed=11, start=START) as sim:
        target = AwsTarget(
            profile=None,
            region=sim.region,
            endpoint_url=sim.endpoint_url,
            credentials=AccessKeyPair("AKIAPERIODTESTKEY000", "periodSecret/0123456789"),
        )
        gateway = DrsGateway(target)

        def ids(*names: str) -> tuple[str, ...]:
            return tuple(sim.backend.server_id_of(n) for n in names)

        alpha = RecoveryPlan(
            name="Alpha",
            rto_minutes=90,
            rpo_minutes=30,
            waves=(Wave(name="All", servers=ids("shop-db-01", "shop-web-02"), optional=ids("shop-web-02")),),
        )
        crm = Wave(name="CRM", servers=ids("crm-web-01"))
        bravo = RecoveryPlan(name="Bravo", rto_minutes=60, waves=(crm,))
        charlie = RecoveryPlan(name="Charlie", waves=(Wave(name="App", servers=ids("shop-app-01")),))
        for plan in (alpha, bravo, charlie):
            save_plan(db, plan, author="planner")

        def drill(plan: RecoveryPlan, when: datetime) -> str:
            sim.clock.advance((when - sim.clock.now()).total_seconds())
            request = RunRequest(
                plan_name=plan.name,
                mode=Mode.DRILL,
                poll_interval_seconds=30,
                target={"region": sim.region, "endpoint_url": sim.endpoint_url, "profile": None},
            )
            prepared = prepare_execution(db, gateway, request)
            runner = create_execution(db, gateway, prepared, request, clock=sim.clock.now)

            def sleep(seconds: float) -> None:
                sim.clock.advance(max(seconds, 1.0))

            result = runner.run(sleep=sleep)
            assert result.outcome is Outcome.SUCCEEDED, result
            # The runner's own annotations go: each run's test record and recovery points are the
            # ones journaled below, so that the estate says exactly what the tests read.
            as_before_audit(db, runner.execution_id)
            return runner.execution_id

        bravo_id = drill(bravo, START)
        _annotate(db, bravo_id, [
            TestRecorded(test_type=TestType.DRILL, scenario="CRM site loss", at=START, by=OPERATOR),
            FindingAdded(
                finding_id="b1", text="CRM runbook <outdated>", severity=Severity.MEDIUM, owner="carol",
                due="2025-12-01", at=START + timedelta(hours=2), by=OPERATOR,
            ),
        ])  # fmt: skip

        passed_at = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
        passed_id = drill(alpha, passed_at)
        db_server, web_server = ids("shop-db-01", "shop-web-02")
        _annotate(db, passed_id, [
            TestRecorded(test_type=TestType.DRILL, scenario="Region loss", at=passed_at, by=OPERATOR),
            RecoveryPointsRecorded(points=(
                RecoveryPoint(server_id=db_server, data_at=passed_at - timedelta(minutes=10), lag_seconds=60),
                RecoveryPoint(server_id=web_server, data_at=passed_at - timedelta(minutes=4), lag_seconds=0),
            ), at=passed_at + timedelta(minutes=40)),
            FindingAdded(
                finding_id="a1", text="DNS TTL too long", severity=Severity.LOW, owner="dave",
                due="2026-03-01", at=passed_at + timedelta(hours=2), by=OPERATOR,
            ),
            FindingUpdated(
                finding_id="a1", text="DNS TTL too long", severity=Severity.LOW, owner="dave",
                due="2026-03-01", status=FindingStatus.RESOLVED, comment="TTL 60 s",
                at=passed_at + timedelta(days=3), by="dave",
            ),
            ReviewSignedOff(
                arn=REVIEWER, account="111122223333", user_id="AROAREVIEWER:bob", review="Goals met",
                accepted=True, self_signed=False, at=passed_at + timedelta(days=1), by="bob",
            ),
        ])  # fmt: skip

        failed_at = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
        sim.faults.fail_launch(servers=["shop-web-02"])
        failed_id = drill(alpha, failed_at)
        sim.faults.fail_launch(servers=[])
        _annotate(db, failed_id, [
            TestRecorded(test_type=TestType.DRILL, scenario="Region loss", at=failed_at, by=OPERATOR),
            FindingAdded(
                finding_id="a2", text="Web tier launch template broken", severity=Severity.HIGH,
                owner="erin", due="2026-12-31", at=failed_at + timedelta(hours=1), by=OPERATOR,
            ),
            ReviewSignedOff(
                arn=OPERATOR, account="111122223333", user_id="AROAOPERATOR:alice", review="web failed",
                accepted=True, self_signed=True, at=failed_at + timedelta(hours=3), by="alice",
            ),
        ])  # fmt: skip
    return Estate(bravo_before=bravo_id, alpha_passed=passed_id, alpha_failed=failed_id)


def _annotate(db: Database, execution_id: str, events: Sequence[Event]) -> None:
    append_events(db, execution_id, [event_to_json(event) for event in events])
