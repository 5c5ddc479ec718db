"""The MFA code dialog: a profile that assumes a role with MFA asks for its one-time code here.

A task thread that needs a code blocks on ``CredentialPrompts.ask_mfa``; ``connect_mfa_prompts`` opens this
dialog for each request and hands the answer (or the cancel) back, so no terminal is ever involved.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from drs_desktop.domain.connection import MfaChallenge
from drs_desktop.workers.credential_prompts import CredentialPrompts

logger = logging.getLogger(__name__)


class MfaDialog(QDialog):
    """Asks for the six-digit code of ``challenge``'s MFA device; OK only with six digits."""

    def __init__(self, challenge: MfaChallenge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mfa-dialog")
        self.setWindowTitle("MFA code")
        self.setModal(True)
        self.message = text = QLabel(
            f"Profile <b>{challenge.profile}</b> assumes <code>{challenge.role_arn}</code> with MFA.<br>"
            f"Enter the current code of the device <code>{challenge.mfa_serial}</code>."
        )
        text.setWordWrap(True)
        self.code_edit = QLineEdit()
        self.code_edit.setObjectName("mfa-code")
        self.code_edit.setPlaceholderText("123456")
        self.code_edit.setMaxLength(6)
        self.code_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,6}"), self))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.code_edit.textChanged.connect(self._update_ok)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.code_edit)
        layout.addWidget(self.buttons)
        self._update_ok()

    def code(self) -> str:
        return self.code_edit.text().strip()

    def ok_enabled(self) -> bool:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        return button is not None and button.isEnabled()

    def accept(self) -> None:
        if len(self.code()) == 6:
            super().accept()

    def _update_ok(self) -> None:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if button is not None:
            button.setEnabled(len(self.code()) == 6)


def connect_mfa_prompts(prompts: CredentialPrompts, parent: QWidget | None = None) -> None:
    """Open an ``MfaDialog`` for every code a thread asks for, and answer it with what the operator did."""

    def ask(challenge: MfaChallenge) -> None:
        dialog = MfaDialog(challenge, parent)

        def done(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                prompts.answer_mfa(dialog.code())
            else:
                prompts.cancel()
            dialog.deleteLater()

        dialog.finished.connect(done)
        dialog.open()

    prompts.mfa_code_requested.connect(ask)
