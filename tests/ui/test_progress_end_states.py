"""Honest end states, through the GUI: a cancelled run is CANCELLING while DRS's job goes on (DRS cannot
cancel a job), then every server has a final state, and a cancelled RECOVERY lists what runs in
production and what to do about it.

Real parts: the simulator over loopback on a manual clock (one job held in DRS by ``hang_jobs``), the
SQLite journal, the execution desk with its loop threads, the progress view and its end-state panel, the
history snapshot rebuilt from the journal.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from drs_desktop.cli import main
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import ExecutionStatus, Mode
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.executions.progress_bars import OUTCOME_BARS, OUTCOME_ROLE
from drs_desktop.ui.executions.progress_model import PHASE, STATUS
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, Running, drill_session, shop_plan, step_until
from tests.ui.test_end_state_colours import bar_colour, progress_cell
from tests.ui.test_failure_banner import grab

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services
services_factory = helpers.services_factory
running = helpers.running

#: Virtual seconds per loop sleep once the cancel is seen: the 45-minute grace passes in ~140 sleeps.
FAST = 20.0


def _cancelled_while_a_job_hangs(
    qtbot: QtBot,
    running: Running,
    services: ExecutionServices,
    sim: EmbeddedSimulator,
    db: Database,
    mode: Mode,
) -> tuple[ProgressWidget, str]:
    """A run of the shop (no gate) whose App job DRS never ends, picked up by the GUI and cancelled from
    its Cancel button while that job runs; returned once the view shows CANCELLING."""
    save_plan(db, shop_plan(sim, name="Quick", approval=False))
    sim.faults.hang_jobs(servers=["shop-app-01"])
    session = drill_session(services, "Quick", mode)
    step_until(session, sim, lambda s: s.servers[1][0].job_id is not None)
    execution_id = session.execution_id
    session.close()

    progress = ProgressWidget()
    progress.confirm = lambda _title, _question: True
    progress.connect_desk(running.desk)
    qtbot.addWidget(progress)
    progress.resize(1200, 800)
    progress.show()
    running.pace.seconds = 0  # hold the clock: CANCELLING must be seen before the grace runs out
    progress.pick_up_unfinished()
    qtbot.waitUntil(
        lambda: progress.following() == execution_id and progress.snapshot() is not None, timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: progress.cancel_button.isEnabled(), timeout=TIMEOUT)
    progress.cancel()
    qtbot.waitUntil(lambda: _status(progress) is ExecutionStatus.CANCELLING, timeout=TIMEOUT)
    return progress, execution_id


def _status(progress: ProgressWidget) -> ExecutionStatus | None:
    snapshot = progress.snapshot()
    return snapshot.status if snapshot is not None else None


def _cell(progress: ProgressWidget, wave: int, row: int | None, column: int) -> str:
    model = progress.model
    parent = model.index(wave, 0, QModelIndex())
    index = model.index(wave, column, QModelIndex()) if row is None else model.index(row, column, parent)
    return str(model.data(index, Qt.ItemDataRole.DisplayRole))


def _final(progress: ProgressWidget) -> ProgressSnapshot:
    qtbot_snapshot = progress.snapshot()
    assert qtbot_snapshot is not None and qtbot_snapshot.finished
    return qtbot_snapshot


def test_a_cancelled_drill_is_cancelling_until_its_job_is_given_up_then_every_server_has_a_final_state(
    qtbot: QtBot,
    running: Running,
    services: ExecutionServices,
    sim: EmbeddedSimulator,
    db: Database,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    progress, execution_id = _cancelled_while_a_job_hangs(qtbot, running, services, sim, db, Mode.DRILL)
    snapshot = progress.snapshot()
    assert snapshot is not None and snapshot.end is not None and not snapshot.end.finished
    job = snapshot.servers[1][0].job_id
    assert job is not None and snapshot.end.waiting_for_jobs == (job,)
    panel = progress.end_panel
    assert panel.isVisible()
    assert f"waiting for DRS job(s) {job} to end, as DRS cannot cancel a job" in panel.text()
    assert _cell(progress, 1, None, STATUS) == "CANCELLING"
    assert "DRS cannot cancel a job" in _cell(progress, 1, None, PHASE)
    assert _cell(progress, 2, None, STATUS) == "CANCELLED", "a wave that never started is cancelled"
    # Amber while DRS's job goes on, grey once cancelled: never a blue bar frozen where the cancel found it.
    assert progress_cell(progress, 1).data(OUTCOME_ROLE) == "CANCELLING"
    assert bar_colour(progress, progress_cell(progress, 1)) == QColor(OUTCOME_BARS["CANCELLING"][0])
    assert bar_colour(progress, progress_cell(progress, 2)) == QColor(OUTCOME_BARS["CANCELLED"][0])

    running.pace.seconds = FAST  # let DRS's time pass: the grace runs out with the job still running
    qtbot.waitUntil(lambda: progress.snapshot() is not None and progress.snapshot().finished, timeout=TIMEOUT)  # type: ignore[union-attr]
    final = _final(progress)
    assert final.outcome is Outcome.CANCELLED and final.end is not None and final.end.finished
    states = {end.server_id: end.state for end in final.end.servers}
    db01, app01, app02 = (final.servers[0][0], *final.servers[1])
    assert states[db01.server_id] == "launched"
    assert states[app01.server_id] == states[app02.server_id] == "still running in DRS"
    assert {states[r.server_id] for r in final.servers[2]} == {"cancelled"}
    assert final.end.jobs_left_running == (job,)
    # What the operator reads: no wave stays LAUNCHING, every server says where it ended.
    assert [_cell(progress, w, None, STATUS) for w in range(3)] == ["COMPLETED", "FAILED", "CANCELLED"]
    assert _cell(progress, 1, 0, PHASE) == f"job {job} still running in DRS"
    assert _cell(progress, 2, 0, PHASE) == "cancelled"
    assert all(w.progress in (0, 100) for w in final.waves), "no wave frozen part-way"
    assert [progress_cell(progress, w).data(OUTCOME_ROLE) for w in range(3)] == [None, "FAILED", "CANCELLED"]
    for wave, row, outcome in (
        (1, 0, "FAILED"),
        (1, None, "FAILED"),
        (2, 0, "CANCELLED"),
        (2, None, "CANCELLED"),
    ):
        assert bar_colour(progress, progress_cell(progress, wave, row)) == QColor(OUTCOME_BARS[outcome][0])
    assert _cell(progress, 1, None, PHASE).startswith("ended: ")
    text = panel.text()
    assert "Cancelled by alice" in text
    assert "1 launched, 2 with their job still running in DRS, 2 cancelled before they started" in text
    assert f"Job {job} was still running in DRS when the run ended" in text
    assert not panel.production.isVisible(), "a drill lists no production instances"

    # The history says the same, rebuilt from the journal.
    history = services.history_snapshot(execution_id)
    assert history.end == final.end
    past = ProgressWidget(read_only=True)
    qtbot.addWidget(past)
    past.show_snapshot(history)
    assert past.end_panel.text() == text
    assert _cell(past, 1, 1, PHASE) == f"job {job} still running in DRS"

    # `drs-desktop executions show` and the report say the same.
    shown = _show(capsys, db, execution_id)
    assert f"  {final.end.headline}" in shown
    assert f"job {job} still running in DRS when the run ended" in shown
    as_json = json.loads(_show(capsys, db, execution_id, "--json"))
    assert {s["server_id"]: s["final_state"] for s in as_json["end"]["servers"]} == states
    report = json.loads(services.write_report(execution_id, "json", tmp_path / "r.json").read_text())
    assert report["end"] == as_json["end"] and report["end"]["jobs_still_running_in_drs"] == [job]
    page = services.write_report(execution_id, "html", tmp_path / "r.html").read_text()
    assert "<h2>How it ended</h2>" in page and html.escape(final.end.headline) in page
    assert "Running in production" not in page


def test_a_cancelled_recovery_lists_what_runs_in_production_and_what_to_do(
    qtbot: QtBot,
    running: Running,
    services: ExecutionServices,
    sim: EmbeddedSimulator,
    db: Database,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    progress, execution_id = _cancelled_while_a_job_hangs(qtbot, running, services, sim, db, Mode.RECOVERY)
    panel = progress.end_panel
    # While cancelling, what already runs in production is listed.
    qtbot.waitUntil(lambda: panel.production_rows() != [], timeout=TIMEOUT)
    running.pace.seconds = FAST
    qtbot.waitUntil(lambda: progress.snapshot() is not None and progress.snapshot().finished, timeout=TIMEOUT)  # type: ignore[union-attr]
    final = _final(progress)
    assert final.end is not None and final.end.recovery
    db01 = final.servers[0][0]
    assert db01.recovery_instance_id is not None and db01.ended_at is not None
    launched_at = final.end.production[0].since
    assert launched_at is not None
    assert panel.production_rows() == [
        [
            db01.server_id,
            "shop-db-01",
            db01.recovery_instance_id,
            db01.ec2_instance_id or "not known yet",
            f"{launched_at:%Y-%m-%d %H:%M:%S}",
        ]
    ]
    assert panel.production.isVisible() and panel.advice.isVisible()
    text = panel.text()
    assert "Running in production: 1 recovery instance(s)" in text
    assert "Keep them running, or fail back or terminate them in DRS deliberately" in text
    app = [r.label for r in final.servers[1]]
    assert f"May still launch in production (their DRS job did not end): {', '.join(app)}" in text
    assert "clean" not in text.lower(), "production instances are never something to clean up"
    assert not progress.cleanup_button.isEnabled()
    assert services.history_snapshot(execution_id).end == final.end
    shown = _show(capsys, db, execution_id)
    assert "running in production (1):" in shown and db01.recovery_instance_id in shown
    assert "Keep them running, or fail back or terminate them in DRS deliberately" in shown
    report = json.loads(services.write_report(execution_id, "json", tmp_path / "r.json").read_text())
    production = report["end"]["production"]
    assert [p["recovery_instance_id"] for p in production["instances"]] == [db01.recovery_instance_id]
    assert production["may_still_launch"] == [r.server_id for r in final.servers[1]]
    page = services.write_report(execution_id, "html", tmp_path / "r.html").read_text()
    assert "<h3>Running in production (1)</h3>" in page and "fail back or terminate them" in page


def _show(capsys: pytest.CaptureFixture[str], db: Database, execution_id: str, *extra: str) -> str:
    capsys.readouterr()
    assert main(["executions", "show", execution_id, *extra, "--home", str(db.path.parent)]) == 0
    return capsys.readouterr().out


def test_a_recovery_that_recovered_everything_lists_its_instances_in_production_and_what_comes_next(
    qtbot: QtBot,
    services: ExecutionServices,
    sim: EmbeddedSimulator,
    db: Database,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    save_plan(db, shop_plan(sim, name="Quick", approval=False))
    session = drill_session(services, "Quick", Mode.RECOVERY)
    final = step_until(session, sim, lambda s: s.finished)[-1]
    session.close()
    assert final.outcome is Outcome.SUCCEEDED and final.end is not None and final.end.recovered
    launched = [row for rows in final.servers for row in rows]
    assert launched and all(row.recovery_instance_id for row in launched)
    assert [p.server_id for p in final.end.production] == [row.server_id for row in launched]

    history = services.history_snapshot(final.execution_id)
    assert history.end == final.end, "the history says what the live view said"
    widget = ProgressWidget(read_only=True)
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    widget.show_snapshot(history)
    panel = widget.end_panel
    assert panel.isVisible() and panel.production.isVisible() and panel.advice.isVisible()
    assert [row[0] for row in panel.production_rows()] == [row.server_id for row in launched]
    assert [row[2] for row in panel.production_rows()] == [row.recovery_instance_id for row in launched]
    text = panel.text()
    assert f"Running in production: {len(launched)} recovery instance(s) this recovery launched" in text
    assert "nothing this recovery launched" not in text
    assert "These recovery instances are production now" in text and "fail back in DRS" in text
    assert "Keep them running" not in text, "no decision to take after a recovery that recovered all"
    assert "clean" not in text.lower()
    assert "#2e7d32" in panel.styleSheet(), "a complete recovery is not drawn as a problem"
    assert grab(widget, "recovered-production.png", tmp_path).stat().st_size > 0

    shown = _show(capsys, db, final.execution_id)
    assert f"running in production ({len(launched)}):" in shown
    assert all(str(row.recovery_instance_id) in shown for row in launched)
    assert "nothing this recovery launched" not in shown and "fail back in DRS" in shown
    report = json.loads(services.write_report(final.execution_id, "json", tmp_path / "r.json").read_text())
    production = report["end"]["production"]
    assert production["recovered_everything"] is True
    assert [p["recovery_instance_id"] for p in production["instances"]] == [
        row.recovery_instance_id for row in launched
    ]
    assert production["advice"].startswith("These recovery instances are production now")
    page = services.write_report(final.execution_id, "html", tmp_path / "r.html").read_text()
    assert f"<h3>Running in production ({len(launched)})</h3>" in page
    assert "Nothing this recovery launched" not in page and "fail back in DRS" in page
