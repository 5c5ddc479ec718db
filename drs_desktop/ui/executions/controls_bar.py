"""The progress view's row of controls: pause, resume, cancel (and whether a drill's instances go with
it), retry, skip, approve, terminate a drill's instances.

Only the widgets and their order live here: which are enabled is the progress view's decision, from the
engine's ``AvailableControls`` and the row the operator selected, and a click runs the view's own method
(the failure banner's buttons run the same ones).
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QWidget

logger = logging.getLogger(__name__)


class ControlsBar(QWidget):
    """The control buttons in a row, in the order an operator reads them, stretch at the end."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel…")
        self.terminate_check = QCheckBox("terminate drill instances")
        self.retry_button = QPushButton("Retry failed")
        self.skip_button = QPushButton("Skip wave")
        self.approve_button = QPushButton("Approve")
        self.cleanup_button = QPushButton("Terminate drill instances")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (
            self.pause_button,
            self.resume_button,
            self.cancel_button,
            self.terminate_check,
            self.retry_button,
            self.skip_button,
            self.approve_button,
            self.cleanup_button,
        ):
            row.addWidget(widget)
        row.addStretch(1)
