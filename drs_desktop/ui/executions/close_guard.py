"""Ask before the main window closes while an execution runs.

Closing does not stop DRS: running jobs go on without the desktop. But the desktop is what starts the
next wave, answers an approval gate and records the evidence, so an execution left unattended waits.
The operator is asked, and told what happens to the execution, only what is true: against AWS it is
picked up again at the next start (the execution desk resumes unfinished executions from their
journals); in demo mode the DRS simulator ends with the application, so it cannot be resumed and is
recorded as abandoned (``engine.abandon``). The composition root says which (``will_resume``) and keeps
the promise. Closing stops each execution's loop thread between two steps and gives its driver lock back,
so a ``drs-desktop run --resume`` may take it on.

``CloseGuard`` is an event filter, so the main window needs no change: ``CloseGuard(is_running).install
(window)``. ``ask`` is replaceable (tests, embedding).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from drs_desktop.domain.views.stranded import DEMO_CLOSE_REASON

logger = logging.getLogger(__name__)

CLOSE_TITLE = "Execution running"
CLOSE_QUESTION = "An execution is running. Close anyway? It will be picked up again at the next start."
CLOSE_QUESTION_DEMO = (
    "An execution is running in the demo world. Close anyway? The demo's DRS simulator ends with the "
    "application, so the execution cannot be resumed: it is ended now and recorded as abandoned "
    f"({DEMO_CLOSE_REASON!r}). The history keeps how far it got; its demo instances go with the world."
)


def ask_close(parent: QWidget | None, question: str = CLOSE_QUESTION) -> bool:
    """The question, as a dialog; True to close."""
    answer = QMessageBox.question(
        parent,
        CLOSE_TITLE,
        question,
        QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Close


class CloseGuard(QObject):
    """Ignores a window's close event when an execution runs and the operator says Cancel."""

    def __init__(
        self,
        is_running: Callable[[], bool],
        ask: Callable[[QWidget | None], bool] | None = None,
        parent: QObject | None = None,
        *,
        will_resume: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__(parent)
        self._is_running = is_running
        self._will_resume = will_resume
        self.ask: Callable[[QWidget | None], bool] = ask or (
            lambda window: ask_close(window, self.question())
        )

    def question(self) -> str:
        """What closing does to a running execution, as it will be: resumed, or ended (demo)."""
        return CLOSE_QUESTION if self._will_resume() else CLOSE_QUESTION_DEMO

    def install(self, window: QWidget) -> None:
        window.installEventFilter(self)

    def may_close(self, window: QWidget | None = None) -> bool:
        """True when nothing runs or the operator agrees to close anyway."""
        if not self._is_running():
            return True
        agreed = bool(self.ask(window))
        logger.info("close while an execution runs: %s", "closing" if agreed else "kept open")
        return agreed

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close and isinstance(watched, QWidget):
            if not self.may_close(watched):
                event.ignore()
                return True
        return False
