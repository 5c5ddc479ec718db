"""Failure first, at a run's end: a failed wave is a red bar, a cancelled one a grey bar, a wave whose DRS
job still runs after a cancel an amber "cancelling" bar; a failed or cancelled server is never a blue full
bar. Checked on the model's roles and on the pixels the tree paints.

Snapshots come from real runs on the simulator over loopback (a critical server failing, the run held,
then cancelled), driven from the test's thread; the widgets are real, offscreen.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import ExecutionStatus, ServerStatus
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.ui.executions.progress_bars import OUTCOME_BARS, OUTCOME_ROLE, PROGRESS_ROLE
from drs_desktop.ui.executions.progress_model import PROGRESS, STATUS
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from drs_desktop.ui.status_icons import color_of
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, step_until
from tests.ui.test_failure_banner import grab

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services

BLUE_BAR = QColor("#1e88e5")


def bar_colour(widget: ProgressWidget, index: QModelIndex) -> QColor:
    """The colour the tree paints inside the progress bar of ``index`` (left of its words)."""
    widget.tree.scrollTo(index)
    rect = widget.tree.visualRect(index)
    image = widget.tree.viewport().grab().toImage()
    return image.pixelColor(rect.left() + 6, rect.center().y())


def progress_cell(widget: ProgressWidget, wave: int, row: int | None = None) -> QModelIndex:
    model = widget.model
    wave_index = model.index(wave, 0)
    return model.index(wave, PROGRESS) if row is None else model.index(row, PROGRESS, wave_index)


def test_a_failed_run_paints_red_and_grey_bars_never_blue_full_ones(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    sim.faults.fail_launch(servers=["shop-db-01"])
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    session = drill_session(services)
    step_until(
        session,
        sim,
        lambda s: s.status is ExecutionStatus.HELD and s.controls.allows(ControlAction.RETRY, 0),
    )
    session.submit(ControlRequest(ControlAction.CANCEL))
    final = step_until(session, sim, lambda s: s.finished)[-1]
    session.close()
    assert final.outcome is Outcome.FAILED, "a held run cancelled ends FAILED"
    widget.show_snapshot(final)
    widget.tree.expandAll()
    model = widget.model

    failed_wave = final.waves[0]
    assert failed_wave.final == "FAILED" and failed_wave.progress == 100, "the mean would read as done"
    cell = progress_cell(widget, 0)
    assert cell.data(PROGRESS_ROLE) == 100 and cell.data(OUTCOME_ROLE) == "FAILED"
    assert model.index(0, STATUS).data(Qt.ItemDataRole.ForegroundRole) == color_of("FAILED")
    assert bar_colour(widget, cell) == QColor(OUTCOME_BARS["FAILED"][0])
    server = final.servers[0][0]
    assert server.status is ServerStatus.FAILED
    assert progress_cell(widget, 0, 0).data(OUTCOME_ROLE) == "FAILED"
    assert bar_colour(widget, progress_cell(widget, 0, 0)) == QColor(OUTCOME_BARS["FAILED"][0])

    for wave in (1, 2):
        assert final.waves[wave].final == "CANCELLED"
        cell = progress_cell(widget, wave)
        assert cell.data(OUTCOME_ROLE) == "CANCELLED"
        assert model.index(wave, STATUS).data(Qt.ItemDataRole.ForegroundRole) == color_of("CANCELLED")
        assert bar_colour(widget, cell) == QColor(OUTCOME_BARS["CANCELLED"][0])
        for row, member in enumerate(final.servers[wave]):
            assert member.status is ServerStatus.CANCELLED
            colour = bar_colour(widget, progress_cell(widget, wave, row))
            assert colour == QColor(OUTCOME_BARS["CANCELLED"][0]) and colour != BLUE_BAR
    assert grab(widget, "failed-then-cancelled.png", tmp_path).stat().st_size > 0
