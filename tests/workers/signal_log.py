"""Record a worker's signals and wait for them without racing its thread.

``qtbot.waitSignal`` on a signal emitted by another thread can hang: PySide runs the blocker's plain
callback in the emitting thread, which may quit the wait loop before it starts (and stops its timeout
timer from the wrong thread). ``SignalLog`` only appends to a list from whichever thread emits, and
``wait`` polls it with ``qtbot.waitUntil`` on the GUI thread, so there is no window to lose a signal in.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from pytestqt.qtbot import QtBot

TIMEOUT = 10_000


class SignalLog:
    """Every emission of the named signals of ``source``, in order, as ``(name, args)``."""

    def __init__(self, source: Any, *names: str) -> None:
        self._lock = threading.Lock()
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        for name in names:
            getattr(source, name).connect(functools.partial(self._record, name))

    def _record(self, name: str, *args: Any) -> None:
        with self._lock:
            self.events.append((name, args))

    def all(self, name: str) -> list[tuple[Any, ...]]:
        with self._lock:
            return [args for event, args in self.events if event == name]

    def names(self) -> list[str]:
        with self._lock:
            return [event for event, _ in self.events]

    def wait(self, qtbot: QtBot, name: str, count: int = 1, timeout: int = TIMEOUT) -> tuple[Any, ...]:
        """The arguments of the ``count``-th emission of ``name``, once it has happened."""
        qtbot.waitUntil(lambda: len(self.all(name)) >= count, timeout=timeout)
        return self.all(name)[count - 1]
