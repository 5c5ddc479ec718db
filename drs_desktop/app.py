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

from drs_desktop import APP_ID, APP_NAME, __version__
from drs_desktop.config import AppPaths

logger = logging.getLogger(__name__)


def _make_application(argv: Sequence[str]):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(list(argv))
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_ID)
    app.setDesktopFileName(APP_ID)
    return app


def run_gui(paths: AppPaths, *, demo: bool = False, argv: Sequence[str] = ()) -> int:
    """Start the desktop application and block until its window closes."""
    from drs_desktop.ui.main_window import MainWindow

    app = _make_application([sys.argv[0], *argv])
    window = MainWindow()
    window.set_identity(profile="", region="", account="", demo=demo)
    window.show()
    logger.info("DRS Desktop %s started (home %s, demo=%s)", __version__, paths.home, demo)
    return int(app.exec())


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
