"""The runner takes controls other processes queued in the control inbox, checks them, and journals them
itself (or refuses them with the reason); against the simulator on its virtual clock."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    Outcome,
    Pause,
    Resume,
    StepPhase,
    event_to_json,
)
from drs_desktop.domain.engine.state import ExecutionStatus, Mode
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import control_inbox as inbox
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import virtual_clock


def start(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator) -> ExecutionRunner:
    clock, _ = virtual_clock(sim)
    request = RunRequest(plan_name="Shop", mode=Mode.DRILL, poll_interval_seconds=30)
    prepared = prepare_execution(db, gateway, request)
    return create_execution(db, gateway, prepared, request, clock=clock)


def journal_types(db: Database, execution_id: str) -> list[str]:
    return [entry.type for entry in journal.load_journal(db, execution_id)]


def test_a_queued_pause_is_journaled_by_the_runner_with_its_row_marked(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    runner = start(db, gateway, sim)
    runner.step()  # wave 1 starts
    submitted = datetime(2000, 1, 1).astimezone()  # the sender's clock: not the journal's time
    row_id = inbox.submit(
        db, runner.execution_id, event_to_json(Pause(at=submitted, by="bob")), submitted_by="bob (pid 1)"
    )

    sim.clock.advance(5)
    runner.step()

    assert runner.status is ExecutionStatus.PAUSED
    row = inbox.get_control(db, row_id)
    entries = journal.load_journal(db, runner.execution_id)
    assert row.state == inbox.JOURNALED and row.reason is None
    assert row.seq is not None and entries[row.seq - 1].type == "Pause"
    assert entries[row.seq - 1].payload["by"] == "bob"
    assert entries[row.seq - 1].at == sim.clock.now()  # stamped by the driver's clock
    assert not inbox.has_queued(db, runner.execution_id)
    assert runner.take_refusals() == []


def test_a_queued_control_that_does_not_apply_is_refused_with_the_reason(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    runner = start(db, gateway, sim)
    runner.step()
    before = journal_types(db, runner.execution_id)
    not_paused = inbox.submit(db, runner.execution_id, event_to_json(Resume(at=sim.clock.now(), by="c")))
    garbage = inbox.submit(db, runner.execution_id, {"type": "JobStarted", "at": "x"})

    runner.step()

    assert inbox.get_control(db, not_paused).state == inbox.REFUSED
    assert inbox.get_control(db, not_paused).reason == "not paused"
    assert inbox.get_control(db, garbage).state == inbox.REFUSED
    assert inbox.get_control(db, garbage).reason == "not an operator control: JobStarted"
    types = journal_types(db, runner.execution_id)
    assert "Resume" not in types and types[: len(before)] == before
    refusals = runner.take_refusals()
    assert len(refusals) == 2 and "not paused" in refusals[0]


def test_controls_are_decided_in_the_order_they_were_queued(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    runner = start(db, gateway, sim)
    now = sim.clock.now()
    first = inbox.submit(db, runner.execution_id, event_to_json(Pause(at=now, by="a")))
    second = inbox.submit(db, runner.execution_id, event_to_json(Pause(at=now, by="b")))
    third = inbox.submit(db, runner.execution_id, event_to_json(Resume(at=now, by="c")))

    runner.step()

    states = [inbox.get_control(db, row).state for row in (first, second, third)]
    assert states == [inbox.JOURNALED, inbox.REFUSED, inbox.JOURNALED]
    assert inbox.get_control(db, second).reason == "already paused"
    assert runner.status is not ExecutionStatus.PAUSED


def test_a_journaled_row_is_not_journaled_again_by_the_next_driver(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    runner = start(db, gateway, sim)
    inbox.submit(db, runner.execution_id, event_to_json(Pause(at=sim.clock.now(), by="a")))
    runner.step()
    assert journal_types(db, runner.execution_id).count("Pause") == 1

    again = ExecutionRunner.resume(db, gateway, runner.execution_id, clock=sim.clock.now)
    again.step()

    assert journal_types(db, runner.execution_id).count("Pause") == 1
    assert again.status is ExecutionStatus.PAUSED


def test_an_approval_from_the_inbox_lets_the_run_finish(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    _, sleep = virtual_clock(sim)
    runner = start(db, gateway, sim)
    result = runner.run(sleep=sleep, return_on_approval=True)
    (gate,) = result.approvals
    approval = ApprovalGranted(
        wave_index=gate.wave_index, phase=StepPhase.BEFORE, step_index=0, by="alice", at=sim.clock.now()
    )
    inbox.submit(db, runner.execution_id, event_to_json(approval), submitted_by="alice (pid 2)")

    assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED
    (row,) = inbox.list_controls(db, runner.execution_id)
    assert row.state == inbox.JOURNALED
    assert "RunnerRestarted" not in journal_types(db, runner.execution_id)


def test_a_sleeping_runner_wakes_for_the_inbox(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, saved_plan: RecoveryPlan
) -> None:
    """The real sleeper (30 s at most) looks at the inbox every INBOX_POLL_SECONDS: a queued control
    ends the sleep early. Waits on the sleeping thread, for at most a few real seconds."""
    runner = start(db, gateway, sim)
    woke = threading.Event()

    def sleep() -> None:
        runner._sleep_until_woken(30.0)
        woke.set()

    sleeper = threading.Thread(target=sleep, daemon=True)
    began = time.monotonic()
    sleeper.start()
    inbox.submit(db, runner.execution_id, event_to_json(Pause(at=sim.clock.now(), by="a")))
    assert woke.wait(timeout=10.0), "the runner slept through a queued control"
    assert time.monotonic() - began < 10.0
    sleeper.join(timeout=5.0)
