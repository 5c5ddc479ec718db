"""The composition root: every pane is the real one, workers and task threads run, shutdown ends them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.app import DesktopApp
from drs_desktop.config import AppPaths
from drs_desktop.ui.main_window import PlaceholderPane


def test_desktop_app_builds_real_panes_and_shuts_down_cleanly(qtbot: QtBot, tmp_path: Path) -> None:
    desktop = DesktopApp(AppPaths(tmp_path / "home"))
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        window.show()
        real = {key for key in window.pane_keys() if not isinstance(window.pane(key), PlaceholderPane)}
        assert real == set(window.pane_keys())
        tasks = list(desktop._task_threads)
        assert [t.name for t in tasks] == [
            "local", "aws", "settings", "schedules", "lease-watch", "readiness", "sync"
        ]  # fmt: skip
        assert all(t.isRunning() for t in tasks)
        desk_tasks = desktop.execution_desk._tasks
        assert desk_tasks.isRunning()
        assert (tmp_path / "home" / "drs-desktop.sqlite3").exists()
    finally:
        desktop.shutdown()
    assert all(t.isFinished() for t in tasks), "a task thread still runs after shutdown"
    assert desk_tasks.isFinished(), "the execution desk was stopped at shutdown"
    assert desktop.db is None


def test_run_dialog_opens_from_the_window_with_the_saved_plans(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QApplication, QTabWidget

    from drs_desktop.domain.plan.model import RecoveryPlan, Wave
    from drs_desktop.storage.db import Database
    from drs_desktop.storage.plans import save_plan
    from drs_desktop.ui.executions.progress_widget import ProgressWidget
    from drs_desktop.ui.executions.run_dialog import RunDialog

    home = tmp_path / "home"
    with Database.open(home / "drs-desktop.sqlite3") as db:
        save_plan(db, RecoveryPlan(name="Shop", waves=(Wave(name="Web", servers=("s-0123456789abcdef0",)),)))
    desktop = DesktopApp(AppPaths(home))
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        window.show()
        plans_pane = desktop.plans_pane
        assert plans_pane is not None
        qtbot.waitUntil(lambda: plans_pane.plan_names() == ["Shop"], timeout=5000)
        (run,) = [a for a in window.actions() if a.text() == "Run plan…"]
        run.trigger()
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, RunDialog) and w.isVisible()]
        assert len(dialogs) == 1
        # No plan selected in the list: the first saved plan is chosen, never an empty name.
        assert dialogs[0].plan_combo.currentText() == "Shop"
        dialogs[0].reject()
        tabs = window.pane("executions")
        assert isinstance(tabs, QTabWidget)
        assert isinstance(tabs.widget(0), ProgressWidget)
    finally:
        desktop.shutdown()


def test_a_refreshed_inventory_reaches_the_plan_and_group_editors(qtbot: QtBot, tmp_path: Path) -> None:
    """The Servers pane's refresh is what the editors validate against: no "no cached inventory" beside
    a Servers pane that shows one (demo mode: the embedded simulator answers the refresh)."""
    desktop = DesktopApp(AppPaths(tmp_path / "home"), demo=True)
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        plans, groups = desktop.plans_pane, desktop.groups_pane
        assert plans is not None and groups is not None
        qtbot.waitUntil(lambda: plans.editor._inventory is not None, timeout=15_000)
        qtbot.waitUntil(lambda: groups.editor._inventory is not None, timeout=15_000)
        assert plans.editor._inventory is not None and len(plans.editor._inventory.servers) > 0
        assert groups.editor._inventory is plans.editor._inventory
    finally:
        desktop.shutdown()


def test_the_history_list_is_read_again_when_a_run_starts_or_ends(qtbot: QtBot, tmp_path: Path) -> None:
    """The History tab lists what the database holds: a run the desk started or finished is in it
    without the operator pressing Refresh."""
    from drs_desktop.domain.engine.events import Outcome
    from drs_desktop.ui.executions.executions_pane_widget import ExecutionsPaneWidget
    from tests.storage.test_executions import new_execution

    desktop = DesktopApp(AppPaths(tmp_path / "home"))
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        (history,) = window.pane("executions").findChildren(ExecutionsPaneWidget)
        qtbot.waitUntil(lambda: history.model.rowCount() == 0 and "0 " in history.status_text())
        assert desktop.db is not None
        record = new_execution(desktop.db)
        desktop.execution_desk.finished.emit(record.execution_id, Outcome.SUCCEEDED)
        qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=5000)
    finally:
        desktop.shutdown()


def test_shutdown_ends_a_dashboard_check_that_waits_out_drs_throttling(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The dashboard's check of a saved plan waits out DescribeJobs' throttling (2 minutes at most);
    closing the app ends it at once (the stop event the app sets first), so no task thread is waited for
    past its stop. The desk's activity pauses the checks, and the pane says so."""
    from drs_desktop.domain.plan.model import RecoveryPlan, Wave
    from drs_desktop.storage.plans import save_plan

    caplog.set_level(logging.INFO)
    desktop = DesktopApp(AppPaths(tmp_path / "home"), demo=True)
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        pane, plans, sim, hub = desktop.dashboard_pane, desktop.plans_pane, desktop.simulator, desktop.changes
        assert pane is not None and plans is not None and sim is not None and hub is not None
        qtbot.waitUntil(lambda: plans.editor._inventory is not None, timeout=15_000)  # inventory cached
        qtbot.waitUntil(lambda: not pane.is_busy(), timeout=15_000)

        desktop.execution_desk.active_changed.emit(1)  # a run is driven
        assert pane.checks_paused() and pane.paused.isVisibleTo(window)
        desktop.execution_desk.active_changed.emit(0)
        assert not pane.checks_paused()

        sim.faults.throttle("DescribeJobs", rate=1.0, retry_after=600)
        inventory = plans.editor._inventory
        assert inventory is not None
        server = inventory.servers[0].source_server_id
        assert desktop.db is not None
        save_plan(desktop.db, RecoveryPlan(name="Shop", waves=(Wave(name="Web", servers=(server,)),)))
        hub.announce_plans()  # as the Plans pane does after a save: the new plan is checked
        qtbot.waitUntil(lambda: sim.faults.injected().get("throttle", 0) >= 1, timeout=15_000)
        assert pane.is_busy()
        (readiness,) = [t for t in desktop._task_threads if t.name == "readiness"]
    finally:
        desktop.shutdown()
    assert readiness.isFinished()
    assert "did not stop" not in caplog.text and "waiting for task thread" not in caplog.text
    assert sim.faults.injected()["throttle"] == 1, "no DescribeJobs was sent after the stop"


def test_the_settings_page_lists_the_trusted_scripts_through_the_local_thread(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The composition root gives the Settings page the local thread's script trust service."""
    from drs_desktop.services.script_trust import ScriptTrustService
    from drs_desktop.ui.settings.trusted_scripts_dialog import TrustedScriptsDialog

    script = tmp_path / "cutover.sh"
    script.write_text("#!/bin/sh\necho cut over\n", encoding="utf-8")
    script.chmod(0o755)
    desktop = DesktopApp(AppPaths(tmp_path / "home"))
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        assert desktop.db is not None and desktop.settings_pane is not None
        ScriptTrustService(desktop.db).trust(str(script), str(script))
        pane = desktop.settings_pane
        assert pane.scripts_button.isEnabled()
        dialog = pane.show_trusted_scripts()
        assert isinstance(dialog, TrustedScriptsDialog)
        qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=10_000)
        assert dialog.model.data(dialog.model.index(0, 0)) == "Trusted"
        dialog.close()
    finally:
        desktop.shutdown()
