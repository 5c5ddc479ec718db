"""First run with no AWS configuration: try the demo (built-in simulator + sample plan) or set up AWS.

An operator who installs DRS Desktop on a fresh laptop has no ``~/.aws`` yet. Rather than a wall of
connection errors, they get two honest choices: explore safely against the built-in DRS simulator (a
sample estate and a sample plan built by tags over it), or go to Settings. The composition root decides
when to show this (the settings pane's ``first_run_needed``) and what each choice does.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

logger = logging.getLogger(__name__)

DEMO = "demo"
CONFIGURE = "configure"


class FirstRunDialog(QDialog):
    """ "Try the demo" or "Configure AWS"; ``choice()`` says which (\"\" when closed)."""

    demo_chosen = Signal()
    configure_chosen = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("first-run-dialog")
        self.setWindowTitle("Welcome to DRS Desktop")
        self.setModal(True)
        self._choice = ""
        self.intro = intro = QLabel(
            "<h3>No AWS configuration found</h3>"
            "<p>This computer has no AWS profile (in <code>~/.aws/config</code> or "
            "<code>~/.aws/credentials</code>), no AWS credentials in the environment and no saved "
            "access keys.</p>"
            "<p><b>Try the demo</b> to explore DRS Desktop against its built-in Elastic Disaster "
            "Recovery simulator: a sample estate of 60 source servers and a sample recovery plan. "
            "Drills run in seconds and nothing touches AWS. You can turn demo mode off in Settings.</p>"
            "<p><b>Configure AWS</b> to choose a profile, sign in with IAM Identity Center, or enter "
            "access keys (kept in your operating system's keyring).</p>"
        )
        intro.setWordWrap(True)
        self.demo_button = QPushButton("Try the demo")
        self.demo_button.setObjectName("first-run-demo")
        self.demo_button.setDefault(True)
        self.demo_button.clicked.connect(self._choose_demo)
        self.configure_button = QPushButton("Configure AWS")
        self.configure_button.setObjectName("first-run-configure")
        self.configure_button.clicked.connect(self._choose_configure)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.configure_button)
        buttons.addWidget(self.demo_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)

    def choice(self) -> str:
        return self._choice

    def _choose_demo(self) -> None:
        self._choice = DEMO
        self.accept()
        self.demo_chosen.emit()

    def _choose_configure(self) -> None:
        self._choice = CONFIGURE
        self.accept()
        self.configure_chosen.emit()
