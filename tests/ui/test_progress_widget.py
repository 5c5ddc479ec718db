"""ProgressWidget: controls enabled per state, the approval prompt and notification, cancel confirmation,
read-only history, the timeline's bars and the batched event log. Snapshots come from a real execution
on the simulator, driven from the test's thread (the worker itself is covered elsewhere)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.domain.engine.state import ExecutionStatus, Mode, ServerStatus
from drs_desktop.domain.views.progress import LogLine, ProgressSnapshot
from drs_desktop.services.execution_session import ExecutionServices, ExecutionSession
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.executions.live_log import LOG_BATCH
from drs_desktop.ui.executions.progress_model import ETA
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from drs_desktop.ui.executions.timeline_widget import TimelineWidget
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, shop_plan, step_until

# The shared fixtures (see execution_helpers), registered in this module.
sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services


def shown(qtbot: QtBot, read_only: bool = False) -> tuple[ProgressWidget, list[tuple[str, ControlRequest]]]:
    widget = ProgressWidget(read_only=read_only)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    sent: list[tuple[str, ControlRequest]] = []
    widget.control_requested.connect(lambda execution_id, request: sent.append((execution_id, request)))
    return widget, sent


def buttons(widget: ProgressWidget) -> dict[str, bool]:
    return {
        "pause": widget.pause_button.isEnabled(),
        "resume": widget.resume_button.isEnabled(),
        "cancel": widget.cancel_button.isEnabled(),
        "terminate": widget.terminate_check.isEnabled(),
        "retry": widget.retry_button.isEnabled(),
        "skip": widget.skip_button.isEnabled(),
        "approve": widget.approve_button.isEnabled(),
        "cleanup": widget.cleanup_button.isEnabled(),
    }


def forward(session: ExecutionSession, sent: list[tuple[str, ControlRequest]]) -> None:
    """What the worker does with the widget's requests."""
    for execution_id, request in sent:
        assert execution_id == session.execution_id
        session.submit(request)
    sent.clear()


def test_controls_follow_the_execution_state(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    widget, sent = shown(qtbot)
    session = drill_session(services)
    widget.show_snapshot(session.snapshot())
    assert buttons(widget) == {
        "pause": True,
        "resume": False,
        "cancel": True,
        "terminate": True,
        "retry": False,
        "skip": False,  # no wave selected and none held
        "approve": False,
        "cleanup": False,
    }
    assert widget.is_running()

    # A long header wraps: it never widens the window past a 1366-pixel screen.
    widget.show_snapshot(replace(session.snapshot(), plan_name="A plan with a long name " * 12))
    assert "A plan with a long name" in widget.header.text()
    layout = widget.layout()
    assert layout is not None
    layout.invalidate()  # the size hints as the next layout pass computes them
    layout.activate()
    assert widget.header.minimumSizeHint().width() <= 1366
    assert widget.minimumSizeHint().width() <= 1366

    widget.pause_button.click()
    forward(session, sent)
    paused = step_until(session, sim, lambda s: s.status is ExecutionStatus.PAUSED)[-1]
    widget.show_snapshot(paused)
    pause = next(a for a in paused.recent_actions if a.action == "pause")
    assert f"paused by {pause.by} at {pause.at:%H:%M:%S} UTC" in widget.banner.title.text()
    assert buttons(widget)["resume"] and not buttons(widget)["pause"]
    widget.resume_button.click()
    forward(session, sent)

    gate = step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)[-1]
    widget.show_snapshot(gate)
    assert buttons(widget)["approve"]
    prompt = widget.approval_prompt()
    assert prompt is not None and prompt.isVisible() and not prompt.isModal()
    assert widget.notifications == [("Approval needed", "Wave 2 “App” of Shop: DB checked?")]
    widget.show_snapshot(gate)
    assert len(widget.notifications) == 1, "one prompt per gate"

    widget.approve_button.click()
    assert [request for _, request in sent] == [ControlRequest(ControlAction.APPROVE, wave_index=1)]
    forward(session, sent)
    after = step_until(session, sim, lambda s: not s.approvals)[-1]
    widget.show_snapshot(after)
    assert not prompt.isVisible(), "a gate answered elsewhere closes its prompt"
    assert not buttons(widget)["approve"]

    final = step_until(session, sim, lambda s: s.finished)[-1]
    widget.show_snapshot(final)
    assert buttons(widget) == {
        "pause": False,
        "resume": False,
        "cancel": False,
        "terminate": False,
        "retry": False,
        "skip": False,
        "approve": False,
        "cleanup": True,
    }
    assert not widget.is_running()
    assert "SUCCEEDED" in widget.header.text() and "RTO target 1 h 30 min" in widget.header.text()


def test_the_prompt_approves_and_rejects(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    widget, sent = shown(qtbot)
    session = drill_session(services)
    widget.show_snapshot(step_until(session, sim, lambda s: bool(s.approvals))[-1])
    prompt = widget.approval_prompt()
    assert prompt is not None
    prompt.comment.setText("checked by phone")
    prompt.reject_button.click()
    assert not prompt.isVisible()
    ((execution_id, request),) = sent
    assert execution_id == session.execution_id
    assert request == ControlRequest(ControlAction.REJECT, wave_index=1, comment="checked by phone")
    assert widget.status_text() == "Rejection sent…"
    forward(session, sent)
    final = step_until(session, sim, lambda s: s.finished)[-1]
    assert final.outcome is not None and final.outcome.value == "FAILED"
    widget.show_snapshot(final)
    assert widget.status_text().startswith("Reject applied at "), "never 'sent…' once the journal has it"


def test_a_critical_failure_enables_retry_and_skip_of_the_held_wave(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    sim.faults.fail_launch(servers=["shop-db-01"])
    widget, sent = shown(qtbot)
    session = drill_session(services)
    # A failed server can be retried once its DRS job has ended (3-40 s after the failure, as in DRS).
    held = step_until(
        session,
        sim,
        lambda s: s.status is ExecutionStatus.HELD and s.controls.allows(ControlAction.RETRY, 0),
    )[-1]
    widget.show_snapshot(held)
    assert held.waves[0].held and held.servers[0][0].status is ServerStatus.FAILED
    assert buttons(widget)["retry"] and buttons(widget)["skip"]
    assert widget.model.data(widget.model.index(0, 1)) == "HELD"
    assert held.waves[0].eta is None, "a held wave counts down to no launch"
    assert widget.model.data(widget.model.index(0, ETA)) == ""
    sim.faults.clear()
    widget.retry_button.click()
    assert sent[-1][1] == ControlRequest(ControlAction.RETRY, wave_index=0)
    assert widget.status_text() == "Retry sent…"
    forward(session, sent)
    retried = step_until(session, sim, lambda s: s.waves[0].phase.value in ("AFTER", "COMPLETED"))[-1]
    widget.show_snapshot(retried)
    assert retried.servers[0][0].retries == 1
    assert not buttons(widget)["retry"]
    # The status line says what the engine applied, not "sent" forever.
    entry = next(e for e in retried.recent_actions if e.action == "retry")
    assert widget.status_text().startswith(f"Retry applied at {entry.at:%H:%M:%S} UTC by {entry.by}")


def test_cancel_asks_first_and_may_terminate_the_drill_instances(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    widget, sent = shown(qtbot)
    asked: list[str] = []
    answer = [False]

    def confirm(title: str, question: str) -> bool:
        asked.append(question)
        return answer[0]

    widget.confirm = confirm
    session = drill_session(services)
    widget.show_snapshot(session.snapshot())
    widget.cancel_button.click()
    assert len(asked) == 1 and sent == []
    answer[0] = True
    widget.terminate_check.setChecked(True)
    widget.cancel_button.click()
    assert "terminate the drill's recovery instances" in asked[-1]
    assert [r for _, r in sent] == [ControlRequest(ControlAction.CANCEL, terminate_drill_instances=True)]
    forward(session, sent)
    snapshots = step_until(session, sim, lambda s: s.finished)
    final = snapshots[-1]
    assert final.outcome is not None and final.outcome.value == "CANCELLED"
    assert final.drill_instances_running == 0


def test_a_cancelling_wave_shows_no_eta(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    save_plan(db, shop_plan(sim, name="Quick", approval=False))
    sim.faults.hang_jobs(servers=["shop-app-01"])  # DRS never ends this job: the run stays CANCELLING
    widget, sent = shown(qtbot)
    widget.confirm = lambda _title, _question: True
    session = drill_session(services, "Quick")
    # The database wave's stage times give the App wave its estimate once it launches.
    launching = step_until(session, sim, lambda s: s.waves[1].eta is not None)[-1]
    widget.show_snapshot(launching)
    assert widget.model.data(widget.model.index(1, ETA)) != "", "a launching wave has its estimate"
    widget.cancel_button.click()
    forward(session, sent)
    cancelling = step_until(session, sim, lambda s: s.status is ExecutionStatus.CANCELLING)[-1]
    widget.show_snapshot(cancelling)
    assert cancelling.waves[1].eta is None, "no countdown to a completion that is not coming"
    assert widget.model.data(widget.model.index(1, ETA)) == ""


def test_a_recovery_has_no_drill_controls(qtbot: QtBot, services: ExecutionServices) -> None:
    widget, _ = shown(qtbot)
    widget.show_snapshot(drill_session(services, mode=Mode.RECOVERY).snapshot())
    assert not widget.terminate_check.isVisible() and not widget.cleanup_button.isVisible()
    assert widget.cancel_button.isEnabled()


def test_history_is_read_only(qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator) -> None:
    session = drill_session(services)
    step_until(session, sim, lambda s: bool(s.approvals))
    session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
    live = step_until(session, sim, lambda s: s.finished)[-1]
    history = services.history_snapshot(session.execution_id)
    assert history.read_only and history.controls.cleanup is False

    widget, sent = shown(qtbot, read_only=True)
    widget.show_snapshot(live)
    assert widget.snapshot() is None, "a history view ignores live snapshots"
    widget.show_snapshot(history)
    assert widget.snapshot() is history
    assert not widget.controls_bar.isVisible()
    assert widget.export_button.isEnabled()
    assert "(history)" in widget.header.text()
    assert widget.model.rowCount() == 3
    qtbot.waitUntil(lambda: any("SNAPSHOT_START" in line for line in widget.log.toPlainText().splitlines()))
    widget.approve()
    widget.pause()
    assert sent == []
    assert not widget.is_running()

    live_view, _ = shown(qtbot)
    live_view.show_snapshot(history)
    assert live_view.snapshot() is None, "a live view ignores history"


def test_timeline_draws_a_bar_per_wave_and_server(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    session = drill_session(services)
    step_until(session, sim, lambda s: bool(s.approvals))
    session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
    final = step_until(session, sim, lambda s: s.finished)[-1]
    timeline = TimelineWidget()
    qtbot.addWidget(timeline)
    timeline.resize(900, 400)
    timeline.set_snapshot(final)
    rows = timeline.rows()
    assert [r.server_row for r in rows] == [None, 0, None, 0, 1, None, 0, 1]
    bars = timeline.bars()
    kinds = [(b.row, b.kind) for b in bars]
    for number, row in enumerate(rows):
        expected = "wave" if row.server_row is None else "server"
        assert (number, expected) in kinds
    by_row = {b.row: b for b in bars if b.kind in ("wave", "server")}
    assert by_row[0].x1 <= by_row[2].x0 + 1, "wave 2 starts after wave 1 ends"
    assert all(b.state in ("COMPLETED", "LAUNCHED") for b in by_row.values())
    assert all(b.x0 <= b.x1 for b in bars)
    before = timeline.paints
    timeline.grab()
    assert timeline.paints > before


def test_the_event_log_is_appended_in_batches(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    widget, _ = shown(qtbot)
    snapshot = drill_session(services).snapshot()
    lines = tuple(
        LogLine(at=snapshot.started_at + timedelta(seconds=n), text=f"line {n}") for n in range(3 * LOG_BATCH)
    )
    many: ProgressSnapshot = replace(snapshot, log=lines)
    widget.show_snapshot(many)
    assert widget.log.blockCount() <= 1, "nothing is appended inside the update itself"
    qtbot.waitUntil(lambda: widget.log.blockCount() >= 3 * LOG_BATCH)
    text = widget.log.toPlainText().splitlines()
    assert text[-1].endswith("line 749") and len(text) == 3 * LOG_BATCH
