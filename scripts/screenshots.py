"""Save a PNG of every view during a demo drill, in states that tell the truth (docs/screenshots/).

Runs the real application offscreen against the embedded simulator's demo estate: imports the sample
plan, waits for every pane to hold its data (the inventory read, the plan open, the dashboard's checks
done), opens the run dialog and clicks Check and Run like an operator, approves the gate, retries a
server the demo estate fails (the held run is a picture too, with its banner), and photographs each view
only once it shows what its file name says: ``progress-finished.png`` is taken after the run ended, and
its header names the outcome. Every wait is on a condition, never on a delay. Usage:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from drs_desktop.app import DesktopApp, _make_application
from drs_desktop.config import AppPaths, resource_path
from drs_desktop.ui.executions.run_dialog import RunDialog
from drs_desktop.ui.main_window import MainWindow
from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Process events until ``condition()`` holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def shoot(app: QApplication, widget: QWidget, path: Path) -> None:
    for _ in range(5):  # a few turns of the event loop: layouts settle, queued paints land
        app.processEvents()
    widget.grab().save(str(path))
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = _make_application([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="drs-desktop-shots-") as home:
        desktop = DesktopApp(AppPaths(Path(home)), demo=True)
        try:
            window = desktop.build()
            window.resize(1440, 900)
            window.show()
            shots = Shots(app, desktop, window, args.out)
            shots.panes_before_the_drill()
            shots.drill()
            shots.panes_after_the_drill()
        finally:
            desktop.shutdown()
    return 0


class Shots:
    """The walk through the application, one method per stage."""

    def __init__(self, app: QApplication, desktop: DesktopApp, window: MainWindow, out: Path) -> None:
        self.app, self.desktop, self.window, self.out = app, desktop, window, out
        assert desktop.plans_pane is not None and desktop.groups_pane is not None
        assert desktop.dashboard_pane is not None
        self.plans, self.groups, self.dashboard = (
            desktop.plans_pane,
            desktop.groups_pane,
            desktop.dashboard_pane,
        )
        self.plan_name = ""

    def wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        wait_until(self.app, condition, timeout, what)

    def shoot(self, key: str, name: str) -> None:
        self.window.show_pane(key)
        shoot(self.app, self.window, self.out / name)

    def panes_before_the_drill(self) -> None:
        plans, servers = self.plans, self.window.pane("servers")
        assert isinstance(servers, ServersPaneWidget)
        plans.import_file(resource_path("sample-plan.yaml"))
        self.wait(lambda: bool(plans.plan_names()), 30, "the sample plan")
        self.plan_name = plans.plan_names()[0]
        self.wait(lambda: servers.model.rowCount() > 0 and not servers.is_busy(), 60, "the inventory")
        self.shoot("servers", "servers.png")
        self.groups.open_plan(self.plan_name)
        self.wait(lambda: self.groups.plan_name() == self.plan_name, 30, "the plan in the groups pane")
        self.shoot("groups", "groups.png")
        plans.open_plan(self.plan_name)
        self.wait(lambda: plans.current_plan_name() == self.plan_name, 30, "the plan in the editor")
        self.shoot("plans", "plans.png")
        self.window.resize(1366, 768)  # the smallest screen the editor is laid out for
        self.shoot("plans", "plans-1366x768.png")
        self.window.resize(1440, 900)
        settings = self.desktop.settings_pane
        self.wait(lambda: settings is not None and settings.snapshot() is not None, 30, "the settings")
        self.shoot("settings", "settings.png")

    def drill(self) -> None:
        app, desktop = self.app, self.desktop
        first = self.plans.plan_list.topLevelItem(0)
        assert first is not None
        self.plans.plan_list.setCurrentItem(first)
        desktop.open_run_dialog()
        dialog = next(w for w in app.topLevelWidgets() if isinstance(w, RunDialog) and w.isVisible())
        dialog.resize(1000, 700)
        dialog.check_button.click()
        self.wait(dialog.run_button.isEnabled, 60, "the preflight checks")
        shoot(app, dialog, self.out / "run-dialog.png")
        dialog.run_button.click()

        live = desktop.live_progress
        self.wait(lambda: live.approve_button.isEnabled(), 180, "the approval gate")
        self.shoot("executions", "progress-approval.png")
        live.approve("screenshots script")
        held_shot = False
        # The demo estate fails a launch now and then (to show recovery): the run holds for a decision,
        # with the failure banner. Photograph the first hold, retry, and go on until the run ends.
        while True:
            self.wait(
                lambda: not live.is_running() or live.retry_button.isEnabled(),
                300,
                "the drill to end or hold",
            )
            if not live.is_running():
                break
            if not held_shot:
                self.wait(lambda: live.banner.isVisible(), 10, "the failure banner")
                self.shoot("executions", "progress-held.png")
                held_shot = True
            retry = live.banner.findChild(QPushButton, "banner-retry")  # the banner's wave, as an operator
            assert retry is not None and retry.isEnabled()
            retry.click()
            self.wait(lambda: not live.retry_button.isEnabled(), 60, "the retry to be taken")
        self.wait(lambda: (s := live.snapshot()) is not None and s.finished, 60, "the run's last snapshot")
        snapshot = live.snapshot()
        assert snapshot is not None and snapshot.outcome is not None
        outcome = snapshot.outcome.value
        self.wait(lambda: outcome in live.header.text(), 10, "the header to name the outcome")
        print(f"the drill ended {outcome}")
        self.shoot("executions", "progress-finished.png")

    def panes_after_the_drill(self) -> None:
        desktop = self.desktop
        history = desktop.history
        desktop.executions_tabs.setCurrentIndex(1)
        snapshot = desktop.live_progress.snapshot()
        assert snapshot is not None
        loaded: list[object] = []
        history.view_loaded.connect(loaded.append)
        self.wait(lambda: history.select_execution(snapshot.execution_id), 30, "the run in the history")
        self.wait(lambda: bool(loaded), 30, "the run's details in the history")
        self.shoot("executions", "history.png")
        desktop.executions_tabs.setCurrentIndex(0)
        dashboard = self.dashboard
        dashboard.refresh()

        def drill_shown() -> bool:
            board = dashboard.dashboard()
            if board is None or board.checking:
                return False
            card = next((c for c in board.cards if c.plan_name == self.plan_name), None)
            fresh = card is not None and card.readiness is not None and card.readiness.known
            return fresh and card is not None and card.last_drill is not None and not dashboard.is_busy()

        self.wait(drill_shown, 120, "the dashboard with the drill and its checks")
        self.shoot("dashboard", "dashboard.png")


if __name__ == "__main__":
    raise SystemExit(main())
