"""MFA codes asked by a dialog on the GUI thread for a worker thread that waits for them.

The worker is in the middle of a slot (building its AWS target) when it learns that the profile needs a
one-time code, so it cannot go back to its event loop for an answer. ``ask_mfa`` therefore emits
``mfa_code_requested`` (queued to the GUI, where a dialog opens) and blocks the worker thread on a
``threading.Event`` until the GUI calls ``answer_mfa`` or ``cancel`` -- plain thread-safe methods, not
slots, because a queued call to an object of the busy thread would never run. ``cancel`` is also what
shutdown calls, so a waiting worker lets its thread stop.

One question at a time: several threads may need a code at once (the Servers pane's refresh, a run's
loop, the run dialog's preflight, each for its own role), and a code typed for one role must never be
handed to another, so a second asker waits for the first question to be answered (``_asking``).
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

from drs_desktop.domain.connection import MfaChallenge

logger = logging.getLogger(__name__)

#: How long a worker waits for a code before it gives up (the code would be stale by then anyway).
DEFAULT_TIMEOUT_SECONDS = 300.0


class CredentialPrompts(QObject):
    """Create it on the GUI thread; give ``ask_mfa`` to services as their ``mfa_prompter``."""

    mfa_code_requested = Signal(object)  # MfaChallenge

    def __init__(
        self, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._asking = threading.Lock()  # held for a whole question: one dialog, one answer, one asker
        self._event: threading.Event | None = None
        self._answer = ""
        self._closed = False

    def ask_mfa(self, challenge: MfaChallenge) -> str:
        """Called on a worker thread: the code the operator typed, or "" if they cancelled or timed out."""
        with self._asking:
            return self._ask(challenge)

    def _ask(self, challenge: MfaChallenge) -> str:
        event = threading.Event()
        with self._lock:
            if self._closed:
                return ""
            self._event = event
            self._answer = ""
        logger.info("asking for an MFA code for profile %s", challenge.profile)
        self.mfa_code_requested.emit(challenge)
        answered = event.wait(self._timeout)
        with self._lock:
            self._event = None
            code, self._answer = self._answer, ""
        if not answered:
            logger.warning("no MFA code was entered within %.0f s", self._timeout)
        return code

    def waiting(self) -> bool:
        with self._lock:
            return self._event is not None

    def answer_mfa(self, code: str) -> None:
        """Any thread: hand ``code`` to the waiting worker."""
        with self._lock:
            if self._event is not None:
                self._answer = code
                self._event.set()

    def cancel(self) -> None:
        """Any thread: the waiting worker gets "" (and the service raises MfaCancelled)."""
        with self._lock:
            if self._event is not None:
                self._answer = ""
                self._event.set()

    def close(self) -> None:
        """Shutdown: cancel a pending question and answer every later one with "" at once."""
        with self._lock:
            self._closed = True
        self.cancel()
