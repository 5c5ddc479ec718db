"""The run dialog's "Trust…" row: a script step this desktop does not trust (or whose file changed since),
and the way to trust it without leaving the dialog.

Why here: preflight fails on a script that would not run (issue 17), and the operator's next move is to
look at it and trust it. "Trust…" opens the trust confirmation (``ui.script_trust_dialog.ask_to_trust``:
the whole command and the SHA-256 of the file, read and hashed on the ``local`` task thread, never on
the GUI thread); once the trust is stored, ``trusted`` is emitted and the dialog checks again, so Run
follows a fresh preflight. Only scripts preflight found trustable are offered (a missing or
non-executable file cannot be trusted: its FAIL says why). One at a time: after a check, the next.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from drs_desktop.domain.plan.automation import ScriptStep
from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.domain.script_trust import TrustedScript
from drs_desktop.ui.script_trust_dialog import ScriptTrustDialog, ask_to_trust
from drs_desktop.workers.pane_tasks import LocalTasks

logger = logging.getLogger(__name__)

__all__ = ["ScriptTrustRow"]


class ScriptTrustRow(QWidget):
    """Hidden until a preflight offers a script to trust; ``trusted(TrustedScript)`` once one is."""

    trusted = Signal(object)  # TrustedScript

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("script-trust-row")
        self._tasks: LocalTasks | None = None
        self._steps: tuple[ScriptStep, ...] = ()
        self.dialog: ScriptTrustDialog | None = None
        self.label = QLabel()
        self.label.setObjectName("script-trust-offer")
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # a plan's path and step name are never markup
        self.label.setWordWrap(True)
        self.trust_button = QPushButton("Trust…")
        self.trust_button.setObjectName("trust-script")
        self.trust_button.setAutoDefault(False)
        self.trust_button.clicked.connect(self.trust)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.trust_button)
        self.setVisible(False)

    def connect_local(self, tasks: LocalTasks) -> None:
        """Where the confirmation reads and hashes the file and stores the trust (the ``local`` thread)."""
        self._tasks = tasks

    def set_scripts(self, steps: Sequence[ScriptStep]) -> None:
        """The script steps the last check found trustable (none: the row hides)."""
        self._steps = tuple(steps)
        shown = bool(self._steps) and self._tasks is not None
        self.setVisible(shown)
        if not self._steps:
            return
        first = self._steps[0]
        more = f" ({len(self._steps) - 1} more after it)" if len(self._steps) > 1 else ""
        self.label.setText(
            f"The script {terminal_safe(first.path)} of step {terminal_safe(first.name)!r} does not run "
            f"until this desktop trusts it{more}."
        )

    def trust(self) -> None:
        """Open the confirmation for the first script offered."""
        if self._tasks is None or not self._steps:
            return
        self.dialog = ask_to_trust(self._steps[0], self._tasks, self._stored, parent=self.window())

    def _stored(self, trusted: TrustedScript) -> None:
        logger.info("script trusted from the run dialog: %s", trusted.path)
        self.dialog = None
        self.trusted.emit(trusted)
