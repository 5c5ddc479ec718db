"""A logout, a ``kill`` or Ctrl-C quits the GUI without a question nobody is there to answer.

The real signal is sent to this process; Qt's event loop runs (``QApplication.exec``) until the quit
callback the composition root gives (``app.exit``) ends it. A window whose close event would ask (as the
close guard does while a run is active) is never asked.
"""

from __future__ import annotations

import logging
import os
import signal

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QWidget

from drs_desktop.workers.os_signals import QuitOnSignal

GUARD_MS = 60_000  # only if the signal never arrives: the loop is ended and the test fails


class AskingWindow(QWidget):
    """Refuses to close and records that it would have asked, like ``ui.executions.close_guard``."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def closeEvent(self, event: QCloseEvent) -> None:
        self.asked += 1
        event.ignore()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_event_loop_without_asking_and_a_second_is_only_logged(
    qapp: QApplication, caplog: pytest.LogCaptureFixture, signum: int
) -> None:
    window = AskingWindow()
    window.show()
    signals = QuitOnSignal(lambda: qapp.exit(0))
    guard = QTimer()  # stopped below: it must never end another test's loop
    guard.setSingleShot(True)
    guard.timeout.connect(lambda: qapp.exit(7))
    try:
        QTimer.singleShot(0, lambda: os.kill(os.getpid(), signum))
        guard.start(GUARD_MS)
        with caplog.at_level(logging.WARNING, logger="drs_desktop.workers.os_signals"):
            code = qapp.exec()
            assert code == 0, "the signal ended the loop (7: it never arrived)"
            assert window.asked == 0, "no question was asked on the way out"
            # Still quitting (the shutdown runs after the loop): another signal changes nothing.
            os.kill(os.getpid(), signum)
            QTimer.singleShot(0, lambda: qapp.exit(0))
            assert qapp.exec() == 0
    finally:
        guard.stop()
        signals.close()
        window.deleteLater()
    messages = [r.getMessage() for r in caplog.records]
    name = signal.Signals(signum).name
    assert f"{name} received: quitting as if the window were closed" in messages
    assert f"{name} received: already quitting" in messages


def test_closing_gives_the_previous_handlers_back(qapp: QApplication) -> None:
    before = signal.getsignal(signal.SIGTERM)
    signals = QuitOnSignal(lambda: None)
    assert signal.getsignal(signal.SIGTERM) is not before
    signals.close()
    assert signal.getsignal(signal.SIGTERM) is before
