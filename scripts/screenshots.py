"""Save a PNG of each main view during a demo drill, so the look can be reviewed (docs/screenshots/).

Runs the real application offscreen against the embedded simulator's demo estate: imports the sample
plan, refreshes the inventory, opens the run dialog and clicks Check and Run like an operator, approves
the gate, and photographs every pane along the way. Usage:

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

from PySide6.QtWidgets import QApplication, QWidget

from drs_desktop.app import DesktopApp, _make_application
from drs_desktop.config import AppPaths, resource_path
from drs_desktop.ui.executions.run_dialog import RunDialog


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Process events until ``condition()`` holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def shoot(app: QApplication, widget: QWidget, path: Path) -> None:
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
            plans = desktop.plans_pane
            assert plans is not None
            plans.import_file(resource_path("sample-plan.yaml"))
            wait_until(app, lambda: bool(plans.plan_names()), 30, "the sample plan")
            window.show_pane("servers")
            wait_until(app, lambda: "simulator" in window.connection_text(), 30, "the inventory")
            time.sleep(1.0)
            shoot(app, window, args.out / "servers.png")
            for key in ("groups", "plans", "settings"):
                window.show_pane(key)
                time.sleep(0.5)
                shoot(app, window, args.out / f"{key}.png")

            first = plans.plan_list.topLevelItem(0)
            assert first is not None
            plans.plan_list.setCurrentItem(first)
            desktop.open_run_dialog()
            dialog = next(w for w in app.topLevelWidgets() if isinstance(w, RunDialog) and w.isVisible())
            dialog.resize(1000, 700)
            dialog.check_button.click()
            wait_until(app, dialog.run_button.isEnabled, 60, "the preflight checks")
            shoot(app, dialog, args.out / "run-dialog.png")
            dialog.run_button.click()

            live = desktop.live_progress
            wait_until(app, lambda: live.approve_button.isEnabled(), 180, "the approval gate")
            shoot(app, window, args.out / "progress-approval.png")
            live.approve("screenshots script")
            # The demo estate fails a launch now and then (to show recovery): then the run holds for a
            # retry, which is worth a picture too.
            wait_until(app, lambda: not live.is_running() or live.retry_button.isEnabled(), 300, "the drill")
            shoot(app, window, args.out / "progress-finished.png")
            desktop.executions_tabs.setCurrentIndex(1)
            time.sleep(1.0)
            shoot(app, window, args.out / "history.png")
        finally:
            desktop.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
