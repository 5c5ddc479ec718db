"""SIGTERM and SIGINT quit the GUI cleanly, as closing its window does, through the event loop.

A desktop session that logs out, a ``kill``, or Ctrl-C in the terminal that started ``drs-desktop`` send
these. Python runs a signal handler only when the main thread runs Python code, which Qt's event loop
may not do for a long time; and by default SIGTERM ends the process at once, so the runs' loops, the task
threads and the database were never shut down (the crash-safe engine recovers, but a clean stop is the
promise). So the C-level handler writes the signal's number to a socket (``signal.set_wakeup_fd``), a
``QSocketNotifier`` on the other end wakes the event loop, and the slot asks the application to quit:
``app.exec()`` returns and the composition root shuts down in order (``DesktopApp.shutdown``). No dialog
is shown: nobody may be there to answer it (the root passes ``app.exit``, which closes no window and ends
any question on screen unanswered, which every question of the app takes as "no"). A second signal while
quitting is only logged: the handlers stay until the shutdown is done (the root closes this last), so
neither a second Ctrl-C (KeyboardInterrupt) nor a second SIGTERM (the default: end now) cuts it short.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier

logger = logging.getLogger(__name__)

QUIT_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), signal.SIGINT) if s is not None)


class QuitOnSignal(QObject):
    """While it lives, SIGTERM and SIGINT call ``quit`` on the GUI thread; ``close()`` restores the
    handlers that were there before."""

    def __init__(self, quit: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._quit = quit
        self._quitting = False
        self._received: list[int] = []
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in QUIT_SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._wake)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._received.append(signum)

    def _wake(self) -> None:
        try:
            data = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        numbers = list(data) + self._received
        self._received.clear()
        if not numbers:
            return
        names = sorted({signal.Signals(n).name for n in numbers if n in set(QUIT_SIGNALS)})
        if not names:
            return
        if self._quitting:
            logger.warning("%s received: already quitting", ", ".join(names))
            return
        self._quitting = True
        logger.warning("%s received: quitting as if the window were closed", ", ".join(names))
        self._quit()

    def close(self) -> None:
        self._notifier.setEnabled(False)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()
