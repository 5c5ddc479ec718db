"""A run that cannot be picked up again: a demo run after a restart (its simulator world is gone). The
new session does not resume it, lists it with why, and ends it from the GUI with a reason that is
journaled and shown in the history and the report; after that no start picks it up. The close dialog
promises a resume only where one will happen.

Real parts: two simulators over loopback (the first session's world, then the new session's on another
port), the SQLite journal, the execution desk with its task thread, the bar and the progress view.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.end_events import ExecutionAbandoned
from drs_desktop.domain.engine.events import Outcome, event_to_json
from drs_desktop.domain.engine.queries import active_jobs
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.stranded import DEMO_CLOSE_REASON, SIMULATOR_WORLD_KEY, StrandedRun
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.services.journal_replay import replayed_state
from drs_desktop.services.stranded_runs import AbandonRefusedError, abandon_execution, end_demo_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.abandon_dialog import AbandonDialog
from drs_desktop.ui.executions.close_guard import CLOSE_QUESTION, CLOSE_QUESTION_DEMO, CloseGuard
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from drs_desktop.ui.executions.stranded_runs_bar import StrandedRunsBar
from drs_desktop.workers.execution_desk import ExecutionDesk
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, VirtualPace, drill_session, step_until

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services

REASON = "demo world gone after a restart"


@pytest.fixture
def later_sim() -> Iterator[EmbeddedSimulator]:
    """The next session's demo world: the same estate, a new simulator on another port."""
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def later_desk(db: Database, later_sim: EmbeddedSimulator) -> Iterator[ExecutionDesk]:
    def make() -> ExecutionServices:
        target = AwsTarget(profile=None, region=later_sim.region, endpoint_url=later_sim.endpoint_url)
        return ExecutionServices(db, DrsGateway(target), clock=later_sim.clock.now, operator="bob")

    desk = ExecutionDesk(make, pace=VirtualPace(later_sim))
    yield desk
    desk.stop()


def _stranded_seen_from(later_sim: EmbeddedSimulator, db: Database) -> StrandedRun:
    """The one unfinished run, as a session against ``later_sim`` lists it (it cannot resume it)."""
    later = ExecutionServices(
        db,
        DrsGateway(AwsTarget(profile=None, region=later_sim.region, endpoint_url=later_sim.endpoint_url)),
        clock=later_sim.clock.now,
    )
    try:
        (run,) = later.stranded()
    finally:
        later.close()
    return run


def _unfinished_demo_run(services: ExecutionServices, sim: EmbeddedSimulator) -> str:
    """A drill of the first session, left in wave 1 when that application ended."""
    session = drill_session(services)
    step_until(session, sim, lambda s: s.servers[0][0].job_id is not None)
    session.close()
    return session.execution_id


def test_a_demo_run_after_a_restart_is_not_resumed_and_is_ended_with_its_reason(
    qtbot: QtBot,
    services: ExecutionServices,
    sim: EmbeddedSimulator,
    later_sim: EmbeddedSimulator,
    later_desk: ExecutionDesk,
    db: Database,
    tmp_path: Path,
) -> None:
    execution_id = _unfinished_demo_run(services, sim)
    progress = ProgressWidget()
    progress.connect_desk(later_desk)
    bar = StrandedRunsBar()
    bar.connect_desk(later_desk)
    bar.place_above(progress)
    qtbot.addWidget(progress)
    progress.show()

    with qtbot.waitSignal(later_desk.unfinished_loaded, timeout=TIMEOUT) as loaded:
        progress.pick_up_unfinished()
    assert loaded.args == [[]], "a run of another DRS world is never resumed against this one"
    bar.refresh()
    qtbot.waitUntil(lambda: bar.isVisible(), timeout=TIMEOUT)
    (run,) = bar.runs()
    assert run.record.execution_id == execution_id and run.gone
    assert f"DRS simulator at {sim.endpoint_url}" in run.reason and "cannot be picked up again" in run.reason
    assert later_desk.active_ids() == []

    asked: list[str] = []

    def ask(found: object, _parent: object) -> str:
        asked.append(found.record.execution_id)  # type: ignore[attr-defined]
        return REASON

    bar.ask = ask
    bar.buttons[execution_id].click()
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=TIMEOUT)
    assert asked == [execution_id]

    record = journal.get_execution(db, execution_id)
    assert (record.status, record.outcome) == ("CANCELLED", "CANCELLED") and record.finished
    last = journal.load_journal(db, execution_id)[-1]
    assert last.type == ExecutionAbandoned.__name__ and last.payload["reason"] == REASON
    assert last.payload["by"] == "bob"
    assert services.unfinished() == [] and services.stranded() == [], "never picked up again"

    # The history and the report say it was abandoned, why, and what that left unknown.
    history = services.history_snapshot(execution_id)
    assert history.outcome is Outcome.CANCELLED and history.end is not None
    assert (history.end.abandoned_reason, history.end.abandoned_by) == (REASON, "bob")
    db01 = history.servers[0][0]
    assert db01.phase.startswith(f"abandoned: {REASON}; its job {db01.job_id} was not seen to end in DRS")
    past = ProgressWidget(read_only=True)
    qtbot.addWidget(past)
    past.show_snapshot(history)
    assert f"Ended by bob without its DRS target: {REASON}" in past.end_panel.text()
    assert "Abandoned (cancelled)" in past.end_panel.text()
    report = json.loads(services.write_report(execution_id, "json", tmp_path / "r.json").read_text())
    assert report["end"]["abandoned"] == {"reason": REASON, "by": "bob"}
    assert {"action": "abandoned", "by": "bob", "detail": REASON}.items() <= report["operator_actions"][
        -1
    ].items()


def test_closing_in_demo_mode_says_the_run_ends_and_the_shutdown_keeps_that_promise(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    demo = CloseGuard(lambda: True, will_resume=lambda: False)
    aws = CloseGuard(lambda: True, will_resume=lambda: True)
    assert aws.question() == CLOSE_QUESTION and "picked up again at the next start" in CLOSE_QUESTION
    assert demo.question() == CLOSE_QUESTION_DEMO
    assert "cannot be resumed" in CLOSE_QUESTION_DEMO and "picked up again" not in CLOSE_QUESTION_DEMO

    # What the composition root does at shutdown in demo mode, for each execution a loop drove.
    execution_id = _unfinished_demo_run(services, sim)
    end_demo_execution(db, execution_id, by="alice", at=sim.clock.now())
    record = journal.get_execution(db, execution_id)
    assert record.finished and record.outcome == "CANCELLED"
    assert journal.load_journal(db, execution_id)[-1].payload["reason"] == DEMO_CLOSE_REASON
    assert DEMO_CLOSE_REASON in CLOSE_QUESTION_DEMO


def test_the_dialog_says_what_ending_means_and_needs_a_reason(
    qtbot: QtBot,
    services: ExecutionServices,
    sim: EmbeddedSimulator,
    later_sim: EmbeddedSimulator,
    db: Database,
) -> None:
    _unfinished_demo_run(services, sim)
    run = _stranded_seen_from(later_sim, db)
    dialog = AbandonDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    text = dialog.message.text()
    assert "cannot be picked up again" in text and "not resumed at the next start" in text
    assert "Nothing is sent to DRS" in text
    assert dialog.end_button.isEnabled() and dialog.reason() == REASON
    dialog.reason_edit.setText("  ")
    assert not dialog.end_button.isEnabled(), "a run is never ended without a reason"


def test_ending_a_run_writes_its_journal_and_its_listing_together_or_neither(
    services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    execution_id = _unfinished_demo_run(services, sim)
    before = len(journal.load_journal(db, execution_id))
    with db.transaction() as conn:  # the listing's write fails, as a crash or a full disk would make it
        conn.execute(
            "CREATE TEMP TRIGGER listing_fails BEFORE UPDATE OF status ON executions "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )
    with pytest.raises(DrsDesktopError):
        abandon_execution(db, execution_id, REASON, by="bob", at=sim.clock.now())
    assert len(journal.load_journal(db, execution_id)) == before, "no ended journal under a RUNNING listing"
    assert not journal.get_execution(db, execution_id).finished
    with db.transaction() as conn:
        conn.execute("DROP TRIGGER listing_fails")
    record = abandon_execution(db, execution_id, REASON, by="bob", at=sim.clock.now())
    assert record.finished and journal.load_journal(db, execution_id)[-1].type == "ExecutionAbandoned"


def test_a_finished_journal_under_a_running_listing_is_repaired_not_refused_forever(
    services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    execution_id = _unfinished_demo_run(services, sim)
    # What a crash between the two writes of an older version left: the journal ended, the listing not.
    last = journal.load_journal(db, execution_id)[-1]
    ended = ExecutionAbandoned(reason=REASON, at=sim.clock.now(), by="bob")
    journal.append_events(db, execution_id, [event_to_json(ended)], expected_last=last.seq)
    assert execution_id in [r.execution_id for r in journal.unfinished_executions(db)]
    length = len(journal.load_journal(db, execution_id))

    record = abandon_execution(db, execution_id, "ended again from the bar", by="carol", at=sim.clock.now())
    assert record.finished and (record.status, record.outcome) == ("CANCELLED", "CANCELLED")
    assert len(journal.load_journal(db, execution_id)) == length, "the journal is the truth: nothing added"
    assert execution_id not in [r.execution_id for r in journal.unfinished_executions(db)]
    with pytest.raises(AbandonRefusedError, match="already finished"):
        abandon_execution(db, execution_id, "and again", by="carol", at=sim.clock.now())


def test_a_demo_run_is_gone_when_a_new_world_listens_on_its_old_port(
    services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    execution_id = _unfinished_demo_run(services, sim)
    recorded = journal.get_execution(db, execution_id).options["target"]
    assert recorded[SIMULATOR_WORLD_KEY] == sim.backend.world_id
    assert [r.execution_id for r in services.unfinished()] == [execution_id], "its own world resumes it"

    # The application crashed; the next start's simulator happens to get the same loopback port.
    endpoint = sim.endpoint_url
    port = urlsplit(endpoint).port
    assert port is not None
    sim.stop()
    with EmbeddedSimulator("small", seed=7, port=port) as again:
        assert again.endpoint_url == endpoint and again.backend.world_id != recorded[SIMULATOR_WORLD_KEY]
        target = AwsTarget(profile=None, region=again.region, endpoint_url=again.endpoint_url)
        later = ExecutionServices(db, DrsGateway(target), clock=again.clock.now, operator="bob")
        try:
            assert later.unfinished() == [], "never resumed in another world, whatever its port"
            (run,) = later.stranded()
        finally:
            later.close()
    assert run.record.execution_id == execution_id and run.gone
    assert "cannot be picked up again" in run.reason and "now is another world" in run.reason


def test_ending_a_run_of_another_aws_target_names_what_it_leaves_in_drs_and_waits_for_the_operator(
    qtbot: QtBot,
    services: ExecutionServices,
    sim: EmbeddedSimulator,
    later_sim: EmbeddedSimulator,
    db: Database,
) -> None:
    """A run against AWS (another profile) seen from the demo is not gone: it would be picked up again at
    its target. Ended from here, its DRS job may still launch instances no journal will know of: the
    dialog names the job and "End run" waits until the operator says they will check DRS."""
    execution_id = _unfinished_demo_run(services, sim)
    record = journal.get_execution(db, execution_id)
    (job_id,) = [job.job_id for job in active_jobs(replayed_state(db, record))]
    aws = {**record.options, "target": {"endpoint_url": None, "region": "us-east-1", "profile": "prod"}}
    with db.transaction() as connection:
        connection.execute("UPDATE executions SET options = ? WHERE id = ?", (json.dumps(aws), execution_id))
    run = _stranded_seen_from(later_sim, db)
    assert not run.gone and "waits for its own target" in run.reason
    assert run.open_jobs == (job_id,) and run.in_drs

    dialog = AbandonDialog(run)
    qtbot.addWidget(dialog)
    dialog.show()
    text = dialog.message.text()
    assert "It is not gone" in text and job_id in text and "in no journal" in text
    assert dialog.check_box is not None and not dialog.end_button.isEnabled()
    dialog.check_box.setChecked(True)
    assert dialog.end_button.isEnabled()
    dialog.reason_edit.setText("")
    assert not dialog.end_button.isEnabled()
