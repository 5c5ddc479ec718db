"""The readiness dashboard pane with its real task thread against the simulator: what it shows before
the load answers, after a drill, and for an empty database (tests/services/readiness_world.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.events import Outcome
from drs_desktop.services.readiness import ReadinessService
from drs_desktop.ui.change_hub import updated_text
from drs_desktop.ui.dashboard.dashboard_pane_widget import DashboardPaneWidget
from drs_desktop.workers.pane_tasks import ReadinessTasks
from drs_desktop.workers.tasks import TaskThread
from tests.services.readiness_world import World, readiness_world

TIMEOUT = 30_000


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with readiness_world(tmp_path) as built:
        yield built


def open_pane(qtbot: QtBot, world: World) -> tuple[DashboardPaneWidget, ReadinessTasks]:
    tasks: ReadinessTasks = TaskThread("readiness", world.service, close=ReadinessService.close)
    pane = DashboardPaneWidget(clock=world.sim.clock.now)
    qtbot.addWidget(pane)
    pane.resize(1100, 900)
    pane.connect_tasks(tasks)
    return pane, tasks


def checked(pane: DashboardPaneWidget) -> bool:
    board = pane.dashboard()
    return board is not None and not board.checking and not pane.is_busy()


def test_after_a_drill_each_card_tells_ready_or_not_the_last_drill_and_the_lag(
    qtbot: QtBot, world: World, tmp_path: Path
) -> None:
    assert world.drill("Shop") is Outcome.SUCCEEDED
    pane, tasks = open_pane(qtbot, world)
    try:
        assert pane.updated.text() == "Loading…" and not pane.empty.isVisible()
        pane.refresh()
        qtbot.waitUntil(lambda: checked(pane), timeout=TIMEOUT)
        board = pane.dashboard()
        assert board is not None
        assert pane.updated.text() == f"Last {updated_text(board.updated_at)}"
        assert board.updated_at == world.sim.clock.now(), "the dashboard's time is the run's clock"
        shop, fax = pane.card("Shop"), pane.card("Fax")
        assert shop is not None and fax is not None
        assert shop.badge.text().startswith("READY")
        assert fax.badge.text() == "NOT READY: 1 failing check(s)"
        assert "legacy-fax" in fax.failures.text() and fax.failures.isVisibleTo(pane)
        assert shop.last_drill.text().startswith("SUCCEEDED, started ")
        assert "against a target of 1 h 30 min (met)" in shop.last_drill.text()
        assert "median of 1 drill(s); Database" in shop.predicted.text()
        assert fax.last_drill.text() == "No drill yet."
        assert fax.predicted.text() == "No drill yet: nothing to predict from."
        assert fax.rpo.text().startswith("1 server(s) over the RPO of 15 min: legacy-fax 2 h (STALLED)")
        assert shop.rpo.text() == "All 3 server(s) within the RPO of 15 min."
        assert shop.changes.text().startswith("No change since the drill of ")
        assert shop.rto_chart.points() == 1 and fax.rto_chart.points() == 0
        assert shop.lag_chart.rows() == 3 and fax.lag_chart.rows() == 1
        out = os.environ.get("DASHBOARD_PNG")
        pane.grab().save(out or str(tmp_path / "dashboard.png"))
    finally:
        tasks.stop()


def test_no_plans_yet_only_once_the_load_answered_empty(qtbot: QtBot, tmp_path: Path) -> None:
    with readiness_world(tmp_path, plans=False) as empty:
        pane, tasks = open_pane(qtbot, empty)
        try:
            assert not pane.empty.isVisible() and pane.dashboard() is None
            pane.refresh()
            qtbot.waitUntil(lambda: checked(pane), timeout=TIMEOUT)
            assert pane.empty.isVisibleTo(pane)
            assert pane.empty.text().startswith("No plans yet.")
        finally:
            tasks.stop()


def test_a_refresh_asked_while_one_runs_runs_once_more_after(qtbot: QtBot, world: World) -> None:
    pane, tasks = open_pane(qtbot, world)
    answers: list[object] = []
    pane.loaded.connect(answers.append)
    try:
        pane.refresh()
        pane.refresh()  # folded into one more round after the first
        qtbot.waitUntil(lambda: len(answers) == 4 and checked(pane), timeout=TIMEOUT)
        assert not pane.refresh_button.isEnabled() or checked(pane)
        assert pane.refresh_button.isEnabled()
    finally:
        tasks.stop()
