"""Every event in every log: the live log, the history log and the report's event list show the same
lines (``views.event_log``) for a run with pause and resume, a failure and its retry, an approval, a
skip, a cancel and the drill's cleanup.

Real parts: the simulator over loopback with the real boto3 client, the SQLite journal, the runner's
own loop (driven from the test's thread, the virtual clock moved by each sleep), real ProgressWidgets
offscreen, and the report loaded from the journal as ``drs-desktop report`` loads it.
"""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import ExecutionStatus, ServerStatus, WavePhase
from drs_desktop.domain.views.event_log import history_snapshot
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.services import reports
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.services.report_document import build_report_document
from drs_desktop.services.report_html import html_from_document
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, instant_pace, step_until

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services


def test_live_history_and_report_show_the_same_events(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    live = ProgressWidget()
    qtbot.addWidget(live)
    sim.faults.fail_launch(servers=list(helpers.ids(sim, "shop-db-01")))
    session = drill_session(services)
    live.show_snapshot(session.snapshot())

    def until(done: object) -> ProgressSnapshot:
        for snapshot in step_until(session, sim, done):
            live.show_snapshot(snapshot)
        latest = live.snapshot()
        assert latest is not None
        return latest

    session.submit(ControlRequest(ControlAction.PAUSE))
    until(lambda s: s.status is ExecutionStatus.PAUSED)
    session.submit(ControlRequest(ControlAction.RESUME))
    until(lambda s: s.status is ExecutionStatus.HELD and s.controls.allows(ControlAction.RETRY, 0))
    sim.faults.clear()
    session.submit(ControlRequest(ControlAction.RETRY, wave_index=0))
    session.submit(ControlRequest(ControlAction.SKIP, wave_index=2))  # Web: not started yet
    until(lambda s: bool(s.approvals))
    session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1, comment="ok"))
    until(lambda s: any(r.job_id for r in s.servers[1]))
    session.submit(ControlRequest(ControlAction.CANCEL))
    final = until(lambda s: s.finished)
    assert final.outcome is Outcome.CANCELLED and final.drill_instances_running > 0
    session.close()
    # The desk drives a finished drill's cleanup on a loop that picks the execution up again.
    session = services.resume(session.execution_id)
    assert session.submit(ControlRequest(ControlAction.CLEANUP))
    session.drive(live.show_snapshot, pace=instant_pace(sim))  # until the engine has nothing left to do
    session.close()
    cleaned = live.snapshot()
    assert cleaned is not None and cleaned.drill_instances_running == 0

    live_lines = live.log_lines()
    view = reports.load_execution_view(db, session.execution_id)
    history = ProgressWidget(read_only=True)
    qtbot.addWidget(history)
    history.show_snapshot(history_snapshot(view, view.state.finished_at or final.now))
    history_lines = history.log_lines()
    document = build_report_document(view)
    report_lines = [f"{entry['at'][11:19]}  {entry['text']}" for entry in document["event_log"]]

    assert live_lines == history_lines == report_lines
    text = "\n".join(live_lines)
    for expected in (
        "pause by alice",
        "resume by alice",
        "FAILED (critical)",
        "retry of wave 1 by alice",
        "skip of wave 3 by alice",
        "waiting for approval: DB checked?",
        "approved by alice",
        "cancel by alice",
        "execution finished: CANCELLED",
        "cleanup of the drill instances requested by alice",
        "terminating",
    ):
        assert expected in text, expected
    # The failed attempt's job-log events stay in the log next to the retry's.
    db_launch_starts = [line for line in live_lines if "shop-db-01" in line and line.endswith("LAUNCH_START")]
    assert len(db_launch_starts) == 2
    assert view.state.servers[final.servers[0][0].server_id].status is ServerStatus.LAUNCHED
    assert final.waves[2].phase is WavePhase.SKIPPED
    html = html_from_document(document)
    assert "<h2>Event log</h2>" in html and "cancel by alice" in html
