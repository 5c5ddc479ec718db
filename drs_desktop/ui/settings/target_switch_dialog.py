"""The question before the application moves to another target: from where, to where, in their colours.

A change of account, profile, Region, endpoint or demo mode changes what every pane shows and where
every button acts: the simulator or production. The settings page asks first (``domain.targets
.target_switch`` decides whether a change switches anything at all); Cancel saves nothing.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from drs_desktop.domain.targets import Target
from drs_desktop.ui.target_badge import TargetBadgeWidget

logger = logging.getLogger(__name__)


class TargetSwitchDialog(QDialog):
    """ "Switch from X to Y?" with both targets as badges; ``accepted`` means switch."""

    def __init__(self, running: Target, wanted: Target, question: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("target-switch-dialog")
        self.setWindowTitle("Switch target?")
        self.running, self.wanted = running, wanted
        self.question = QLabel(question)
        self.question.setObjectName("target-switch-question")
        self.question.setWordWrap(True)
        self.from_badge = TargetBadgeWidget()
        self.from_badge.set_target(running)
        self.to_badge = TargetBadgeWidget()
        self.to_badge.set_target(wanted)
        row = QHBoxLayout()
        row.addWidget(QLabel("From"))
        row.addWidget(self.from_badge)
        row.addWidget(QLabel("to"))
        row.addWidget(self.to_badge)
        row.addStretch(1)
        note = QLabel(
            "Every pane will show the new target, and runs started from now on act there. "
            "Runs already finished keep the target they ran on."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.switch_button = buttons.addButton("Switch", QDialogButtonBox.ButtonRole.AcceptRole)
        self.switch_button.setObjectName("target-switch-confirm")
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.switch_button.setAutoDefault(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addLayout(row)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # After the button box has chosen its default (on show): Enter by habit must not switch.
        self.switch_button.setDefault(False)
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()
