"""The moment the main window is usable, for the start-up benchmark (``tests/benchmarks/bench_startup.py``).

Usable means: the window is shown and exposed on the screen, it has painted itself once, and the event loop
has come back round after that paint (so a click would be handled). With ``DRS_DESKTOP_STARTUP_PROBE`` set
to ``quit`` the application prints ``startup-probe ready <epoch seconds>`` on standard output at that moment
and quits (``report``: prints it and runs on, for tests that act on a running application); the benchmark
started its clock before it started the process, so the figure includes everything: the bundle's bootloader,
Python, the imports, the database, the window. Nothing is written to disk on the GUI thread; without the
variable nothing here runs.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

PROBE_ENV = "DRS_DESKTOP_STARTUP_PROBE"
READY_PREFIX = "startup-probe ready"


class StartupProbe(QObject):
    """Watches ``window`` for its first paint while exposed, then reports once (and quits the application
    unless told not to)."""

    def __init__(self, window: QWidget, app: QApplication, *, quit: bool = True) -> None:
        super().__init__(window)
        self._window = window
        self._app = app
        self._quit = quit
        self._done = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._done and watched is self._window and event.type() == QEvent.Type.Paint:
            handle = self._window.windowHandle()
            if handle is not None and handle.isExposed():
                self._done = True
                QTimer.singleShot(0, self._report)  # after the paint: the loop has come back round
        return False

    def _report(self) -> None:
        print(f"{READY_PREFIX} {time.time():.6f}", flush=True)
        self._window.removeEventFilter(self)
        if self._quit:
            self._window.close()
            self._app.quit()


def watch_startup(window: QWidget, app: QApplication, setting: str | None) -> StartupProbe | None:
    """A probe when the environment asks for one (``quit`` or ``report``); None otherwise."""
    if setting not in ("quit", "report"):
        if setting:
            print(f"{PROBE_ENV} takes 'quit' or 'report', not {setting!r}", file=sys.stderr)
        return None
    return StartupProbe(window, app, quit=setting == "quit")
