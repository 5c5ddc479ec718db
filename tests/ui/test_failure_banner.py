"""Failure first: the banner names the failed server and DRS's reason with the choices, scrolls to the
row and notifies the desktop once; failed and cancelled rows are red or grey, never a blue 100 % bar;
a retry keeps the failed attempt's bar in the timeline; the RTO countdown turns red when breached and
the timeline draws the RTO line. Snapshots come from a real execution on the simulator over loopback,
driven from the test's thread; the widgets are real, offscreen."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.domain.engine.state import ExecutionStatus, ServerStatus
from drs_desktop.domain.views.attention import attention
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.ui.executions.progress_bars import OUTCOME_ROLE
from drs_desktop.ui.executions.progress_model import SLICE_ROWS, STATUS
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from drs_desktop.ui.executions.rto_countdown import countdown
from drs_desktop.ui.status_icons import color_of
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, step_until

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services

#: Set to a folder to keep the screenshots (looked at by hand); the tests grab them either way.
SHOTS = os.environ.get("DRS_DESKTOP_SHOTS", "")


def grab(widget: ProgressWidget, name: str, tmp_path: Path) -> Path:
    path = Path(SHOTS or tmp_path) / name
    QApplication.processEvents()  # the layout settles as it would in the running application
    assert widget.grab().save(str(path))
    return path


def test_a_failed_server_raises_the_banner_and_a_retry_keeps_its_attempt(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    sim.faults.fail_launch(servers=["shop-db-01"])
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    sent: list[ControlRequest] = []
    widget.control_requested.connect(lambda _execution_id, request: sent.append(request))
    session = drill_session(services)
    widget.show_snapshot(session.snapshot())
    assert widget.banner.isHidden(), "nothing waits for the operator yet"

    held = step_until(
        session,
        sim,
        lambda s: s.status is ExecutionStatus.HELD and s.controls.allows(ControlAction.RETRY, 0),
    )[-1]
    widget.show_snapshot(held)
    banner = widget.banner
    assert banner.isVisible()
    assert banner.title.text().startswith("shop-db-01 failed (critical, Wave 1 “Database”)")
    assert "the run is held" in banner.title.text()
    server = held.servers[0][0]
    assert server.reason and banner.detail.text() == f"DRS: {server.reason}"
    assert banner.choices() == ["Retry", "Skip wave", "Cancel run…"]
    failures = [n for n in widget.notifications if n[0] == "Server failed"]
    assert len(failures) == 1 and "shop-db-01" in failures[0][1]
    widget.show_snapshot(held)
    assert len([n for n in widget.notifications if n[0] == "Server failed"]) == 1, "once per failure"
    wave_index = widget.model.index(0, 0)
    row = widget.model.index(0, 0, wave_index)
    assert widget.tree.isExpanded(wave_index)
    assert widget.tree.visualRect(row).intersects(widget.tree.viewport().rect()), "scrolled to the row"
    # Red, never a blue 100 % bar.
    progress_cell = widget.model.index(0, 2, wave_index)
    assert progress_cell.data(OUTCOME_ROLE) == "FAILED"
    assert widget.model.index(0, 2).data(OUTCOME_ROLE) == "HELD"
    assert widget.model.index(0, STATUS, wave_index).data(Qt.ItemDataRole.ForegroundRole) == color_of(
        "FAILED"
    )
    assert "failed" in str(widget.model.index(0, 3, wave_index).data())
    shot = grab(widget, "failure-banner.png", tmp_path)
    assert shot.stat().st_size > 0

    sim.faults.clear()
    qtbot.mouseClick(banner.buttons[ControlAction.RETRY], Qt.MouseButton.LeftButton)
    assert sent == [ControlRequest(ControlAction.RETRY, wave_index=0)], "the toolbar's own control"
    session.submit(sent.pop())
    retried = step_until(session, sim, lambda s: s.servers[0][0].status is ServerStatus.LAUNCHED)[-1]
    widget.show_snapshot(retried)
    assert banner.isHidden()
    bars = [b for b in widget.timeline.bars() if b.row == 1]  # shop-db-01's row of the chart
    assert [b.kind for b in bars if b.kind != "queued"] == ["attempt", "server"]
    attempt, current = (b for b in bars if b.kind != "queued")
    assert attempt.state == "FAILED" and current.state == "LAUNCHED"
    assert attempt.x1 <= current.x0, "the failed attempt's bar stays, before the new one"


def test_cancelled_rows_are_grey_and_the_rto_countdown_turns_red(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    session = drill_session(services)
    gate = step_until(session, sim, lambda s: bool(s.approvals))[-1]
    widget.show_snapshot(gate)
    found = attention(gate)
    assert found is not None and found.kind == "approval"
    assert widget.banner.title.text() == "Wave 2 “App” waits for your approval"
    assert widget.banner.choices() == ["Skip wave", "Approve", "Cancel run…"]
    assert widget.rto_countdown.isVisible() and not widget.rto_countdown.breached
    assert widget.rto_countdown.text().startswith("RTO ") and widget.rto_countdown.text().endswith(" left")
    rto_x = widget.timeline.rto_x()
    assert rto_x is not None and widget.timeline.x_of(gate.now) < rto_x

    late = replace(gate, rto_target=timedelta(minutes=10))
    shown = countdown(late)
    assert shown is not None and shown[1] and shown[0].startswith("RTO breached by ")
    widget.show_snapshot(late)
    assert widget.rto_countdown.breached and "breached" in widget.rto_countdown.text()
    assert "#b00020" in widget.rto_countdown.styleSheet()
    grab(widget, "rto-breached.png", tmp_path)

    session.submit(ControlRequest(ControlAction.CANCEL))
    final = step_until(session, sim, lambda s: s.finished)[-1]
    widget.show_snapshot(final)
    assert widget.banner.isHidden(), "a finished run waits for no decision"
    not_run = [
        (w, r.row)
        for w, rows in enumerate(final.servers)
        for r in rows
        if r.status in (ServerStatus.CANCELLED, ServerStatus.SKIPPED)
    ]
    assert not_run, "the cancel left servers that never ran"
    for wave, row in not_run:
        cell = widget.model.index(row, 2, widget.model.index(wave, 0))
        assert cell.data(OUTCOME_ROLE) in ("CANCELLED", "SKIPPED")
        assert cell.data(Qt.ItemDataRole.ForegroundRole) == color_of("CANCELLED")
    widget.tree.expandAll()
    grab(widget, "cancelled-rows.png", tmp_path)


def test_a_failure_beyond_the_first_slice_is_scrolled_to_once_its_line_is_in(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    """A large run's lines go in a slice per event-loop turn (progress_model.SLICE_ROWS): the failed
    server's line may not exist yet when the banner rises; the tree scrolls to it once it does."""
    sim.faults.fail_launch(servers=["shop-db-01"])
    session = drill_session(services)
    held = step_until(session, sim, lambda s: s.status is ExecutionStatus.HELD)[-1]
    session.close()
    failed = held.servers[0][0]
    assert failed.status is ServerStatus.FAILED
    others = tuple(
        replace(
            failed, server_id=f"s-{n}", hostname=f"host-{n}", row=n, status=ServerStatus.PENDING, reason=""
        )
        for n in range(SLICE_ROWS * 3)
    )
    late = SLICE_ROWS * 3 - 10
    wave = (*others[:late], replace(failed, row=late), *others[late + 1 :])
    big = replace(held, execution_id="big", servers=(wave, *held.servers[1:]))
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    with qtbot.waitSignal(widget.model.filled, timeout=10_000):
        widget.show_snapshot(big)
        assert (
            widget.banner.isVisible() and not widget.model.index(late, 0, widget.model.index(0, 0)).isValid()
        )
    row = widget.model.index(late, 0, widget.model.index(0, 0))
    assert row.data() == failed.label
    qtbot.waitUntil(lambda: widget.tree.visualRect(row).intersects(widget.tree.viewport().rect()))
    assert [n for n in widget.notifications if n[0] == "Server failed"], "notified once, when it rose"
