"""Composition root of the GUI: paths -> database -> services -> workers -> window.

Everything that starts the application goes through here, so the order of construction (and of shutdown)
is written in one place. ``self_test`` is the packaged application's smoke test: CI runs it on the built
bundle to prove the Qt plugins, the resources and the window all load.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from drs_desktop import APP_ID, APP_NAME, __version__
from drs_desktop.config import AppPaths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from drs_desktop.simulator.embedded import EmbeddedSimulator

logger = logging.getLogger(__name__)


def _make_application(argv: Sequence[str]) -> QApplication:
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv))
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_ID)
    app.setDesktopFileName(APP_ID)
    return app


#: Virtual seconds per real second in demo mode: a 20-minute drill plays in 20 seconds.
DEMO_TIME_SCALE = 60.0


def run_gui(paths: AppPaths, *, demo: bool = False, argv: Sequence[str] = ()) -> int:
    """Start the desktop application and block until its window closes.

    With ``demo``, the built-in DRS simulator (the shipped demo estate) runs in-process on loopback for
    the life of the window, and the application talks to it instead of AWS.
    """
    from drs_desktop.ui.main_window import MainWindow

    app = _make_application([sys.argv[0], *argv])
    simulator = start_demo_simulator() if demo else None
    try:
        window = MainWindow()
        if simulator is not None:
            window.set_identity(profile="", region=simulator.region, account=simulator.account_id, demo=True)
            window.set_connection_state(f"simulator at {simulator.endpoint_url}")
        else:
            window.set_identity(profile="", region="", account="")
        window.show()
        logger.info("DRS Desktop %s started (home %s, demo=%s)", __version__, paths.home, demo)
        return int(app.exec())
    finally:
        if simulator is not None:
            simulator.stop()


def start_demo_simulator() -> EmbeddedSimulator:
    """The demo estate on a free loopback port, its clock running at DEMO_TIME_SCALE."""
    from drs_desktop.simulator.embedded import EmbeddedSimulator

    simulator = EmbeddedSimulator("demo", time_scale=DEMO_TIME_SCALE)
    simulator.start()
    logger.info("demo: DRS simulator at %s", simulator.endpoint_url)
    return simulator


def self_test(paths: AppPaths) -> int:
    """Open the main window offscreen, check every pane is there, close it; 0 when all is well."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from drs_desktop.ui.main_window import MainWindow

    app = _make_application([sys.argv[0]])
    window = MainWindow()
    window.show()
    app.processEvents()
    problems = []
    for key in window.pane_keys():
        window.show_pane(key)
        app.processEvents()
        if window.current_pane() != key:
            problems.append(f"pane {key} did not open")
    if not window.isVisible():
        problems.append("main window is not visible")
    window.close()
    app.processEvents()
    for problem in problems:
        print(f"self-test: {problem}", file=sys.stderr)
    print(
        f"self-test: {'FAILED' if problems else 'ok'} ({APP_NAME} {__version__}, "
        f"Qt platform {app.platformName()}, home {paths.home})"
    )
    return 1 if problems else 0
