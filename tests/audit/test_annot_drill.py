"""A drill on the simulator with its audit annotations (issue 18, item 1): the test record journaled at
the start, a finding handed to the live driver through its inbox and one added after the run, updated,
the review signed off by a second profile (and self-signed by the operator's), and the recovery points
of the launched servers with the run's achieved RPO."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drs_desktop.aws.signer import profile_identity
from drs_desktop.domain.drs.views import CallerIdentity
from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingStatus,
    RecoveryPointsRecorded,
    Severity,
    TestRecorded,
    TestType,
)
from drs_desktop.domain.engine.events import Outcome, RecoveryInstancesObserved, StartRequested
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import TestBrief as Brief
from drs_desktop.domain.views.audit import rpo_achieved
from drs_desktop.services import audit
from drs_desktop.services.driver_lock import take_driver_lock
from drs_desktop.services.executions import RunRequest
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import control_inbox as inbox
from drs_desktop.storage.db import Database

from .annot_world import (
    AUDITOR_ARN,
    OPERATOR_ARN,
    advance,
    journal_events,
    journal_payloads,
    new_run,
    shop_plan,
    two_people_scenario,
    write_profiles,
)

BRIEF = Brief(
    scenario="Loss of the primary region",
    objectives=("Shop answers within 90 minutes",),
    success_criteria=("Orders can be placed",),
    participants=("Dana (operator)", "Lee (DBA)"),
)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(two_people_scenario(), seed=7) as simulator:
        yield simulator


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "home" / "drs.sqlite3") as database:
        yield database


def test_a_drill_carries_its_test_findings_sign_off_and_recovery_points(
    sim: EmbeddedSimulator, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profiles(tmp_path, monkeypatch)
    # The brief as the operator edited it before the run (the request's, not the plan's).
    request = RunRequest(plan_name="Shop", mode=Mode.DRILL, poll_interval_seconds=30, brief=BRIEF)
    runner = new_run(db, sim, shop_plan(sim), request)
    execution_id = runner.execution_id

    # The test record is the journal's first entry, before anything was started.
    first, *_ = journal_events(db, execution_id)
    assert isinstance(first, TestRecorded)
    assert first.test_type is TestType.DRILL
    assert (first.scenario, first.objectives) == (BRIEF.scenario, BRIEF.objectives)
    assert (first.success_criteria, first.participants) == (BRIEF.success_criteria, BRIEF.participants)
    assert first.by == OPERATOR_ARN

    lock = take_driver_lock(db.path, execution_id)  # this test drives the run, as `run` would
    try:
        runner.run(sleep=advance(sim), should_stop=lambda: bool(runner.state.jobs), max_steps=500)
        assert runner.state.finished is None
        # Another process adds a finding while the run goes on: queued for the driver, not journaled.
        queued = audit.add_finding(
            db, execution_id, text="DB wave slow\nto start", severity="high", owner="Lee", wait_seconds=0
        )
        assert queued.state == inbox.QUEUED and queued.seq is None
        assert not any(isinstance(e, FindingAdded) for e in journal_events(db, execution_id))
        result = runner.run(sleep=advance(sim), max_steps=5000)
    finally:
        lock.release()
    assert result.outcome is Outcome.SUCCEEDED

    (row,) = inbox.list_controls(db, execution_id)
    assert row.state == inbox.JOURNALED
    during = next(e for e in journal_events(db, execution_id) if isinstance(e, FindingAdded))
    assert during.finding_id == queued.event.finding_id
    assert during.text == "DB wave slow\nto start"

    # After the run: nobody drives it, so the finding is journaled directly (under the driver lock).
    after = audit.add_finding(
        db, execution_id, text="Runbook step 4 out of date", severity="low", due="2027-01-31", by="dana"
    )
    assert after.journaled and after.seq == len(journal_payloads(db, execution_id))
    assert journal_payloads(db, execution_id)[-1]["core"] is False
    finding_id = after.event.finding_id
    updated = audit.update_finding(
        db, execution_id, finding_id, status="resolved", comment="runbook fixed", by="dana"
    )
    assert updated.journaled

    def identity_of(profile: str):  # type: ignore[no-untyped-def]
        return profile_identity(profile, region=sim.region, endpoint_url=sim.endpoint_url)

    own = audit.sign_off(
        db, execution_id, profile="operator", review="looks fine to me", identity_of=identity_of
    )
    assert own.journaled and own.event.self_signed
    signed = audit.sign_off(
        db, execution_id, profile="auditor", review="Evidence reviewed; RTO met.", identity_of=identity_of
    )
    assert signed.event.arn == AUDITOR_ARN and not signed.event.self_signed
    # Dated by STS's answer (the simulator's virtual time), not by this desktop's clock.
    assert signed.event.at == sim.clock.now().replace(microsecond=0)
    assert abs(signed.event.at - datetime.now(UTC)) > timedelta(minutes=5), "the test's clocks must differ"

    record = audit.audit_of(db, execution_id)
    assert [f.finding_id for f in record.findings] == [during.finding_id, finding_id]
    assert [f.status for f in record.findings] == [FindingStatus.OPEN, FindingStatus.RESOLVED]
    assert record.findings[0].severity is Severity.HIGH and record.findings[0].owner == "Lee"
    assert record.findings[1].changes[-1].comment == "runbook fixed"
    assert [f.finding_id for f in record.open_findings] == [during.finding_id]
    assert record.signed_independently and record.sign_off is not None
    assert record.sign_off.profile == "auditor" and record.sign_offs[0].self_signed

    # Recovery points: every launched server has one, the time of the snapshot DRS took at launch.
    launched = [s for s in runner.state.servers.values() if s.recovery_instance_id]
    assert len(launched) == 5 and set(record.points) == {s.server_id for s in launched}
    for server in launched:
        point = record.points[server.server_id]
        instance = sim.backend.world.instances[server.recovery_instance_id or ""]
        assert point.source == "instance"
        assert point.data_at is not None
        assert point.data_at.timestamp() == pytest.approx(instance.pit_ts, abs=0.001)
        started = next(e.at for e in journal_events(db, execution_id) if isinstance(e, StartRequested))
        assert point.data_at >= started  # DRS took it when the run launched the server
        # The lag DRS reported for the server when the run was prepared (whole seconds).
        assert point.lag_seconds is not None
        assert abs(point.lag_seconds - sim.backend.world.servers[server.server_id].lag_seconds) < 1
    spec_start = runner.state.spec.started_at
    rows = rpo_achieved(record, [s.server_id for s in launched], reference_at=spec_start, rpo_minutes=30)
    for rpo in rows:
        kept = record.points[rpo.server_id]
        assert kept.data_at is not None
        recovered_to = kept.data_at - timedelta(seconds=kept.lag_seconds or 0)
        # Snapshots taken as the run launched hold data from after its start (the lags are seconds):
        # nothing from before the start is missing, and the 30-minute target is met.
        assert recovered_to > spec_start
        assert rpo.achieved == timedelta(0) and rpo.met is True
    # Each server once; the points' own DescribeRecoveryInstances are at most one per wave (3 waves,
    # 5 servers): the rest came from the engine's own looks for instances DRS did not name.
    events = journal_events(db, execution_id)
    batches = [e for e in events if isinstance(e, RecoveryPointsRecorded)]
    assert sorted(p.server_id for b in batches for p in b.points) == sorted(s.server_id for s in launched)
    engine_looks = sum(isinstance(e, RecoveryInstancesObserved) for e in events)
    own_reads = sim.backend.request_counts()["DescribeRecoveryInstances"] - engine_looks
    assert 1 <= own_reads <= 3


def test_a_run_that_has_not_finished_is_not_signed_off(
    sim: EmbeddedSimulator, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profiles(tmp_path, monkeypatch)
    runner = new_run(db, sim, shop_plan(sim))
    before = len(journal_payloads(db, runner.execution_id))
    asked: list[str] = []

    def identity_of(profile: str) -> CallerIdentity:
        asked.append(profile)
        return CallerIdentity(account="1", arn="arn:aws:iam::1:user/x")

    with pytest.raises(audit.AnnotationRefused, match="has not finished"):
        audit.sign_off(
            db,
            runner.execution_id,
            profile="auditor",
            review="premature",
            identity_of=identity_of,
        )
    assert asked == [] and len(journal_payloads(db, runner.execution_id)) == before


def test_the_guis_own_live_run_takes_a_finding_through_its_control_path(
    sim: EmbeddedSimulator, db: Database
) -> None:
    runner = new_run(db, sim, shop_plan(sim))
    runner.run(sleep=advance(sim), should_stop=lambda: bool(runner.state.jobs), max_steps=500)
    event = audit.finding_added(
        audit.audit_of(db, runner.execution_id),
        text="Gate message unclear",
        severity="low",
        at=sim.clock.now(),
    )

    def submit(control: object) -> bool:  # what the GUI's execution loop does with a control
        runner.submit(control)  # type: ignore[arg-type]
        return True

    audit.submit_live(submit, event)
    before = runner.state
    runner.step()  # the runner journals it with its own clock, between two steps
    (journaled,) = [e for e in journal_events(db, runner.execution_id) if isinstance(e, FindingAdded)]
    assert journaled.finding_id == event.finding_id and runner.take_refusals() == []
    assert before.finished is None and runner.state.finished is None
    with pytest.raises(audit.AnnotationRefused, match="loop has ended"):
        audit.submit_live(lambda _control: False, event)
