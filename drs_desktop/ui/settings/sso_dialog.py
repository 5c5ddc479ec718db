"""The IAM Identity Center sign-in dialog: the address to open and the code to confirm, never a terminal.

The settings task thread runs the device authorization (``services.connection.sso_login``); this dialog only
shows its steps: contacting the service, then the verification address and user code (each with a copy
button, and a button to open the browser), a busy bar while the operator confirms, and the outcome.
Cancel (or closing the dialog) asks the sign-in to stop polling through ``cancel_requested``.
"""

from __future__ import annotations

import logging
from datetime import UTC

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.connection import SsoDeviceAuthorization, SsoLoginResult

logger = logging.getLogger(__name__)

CONTACTING, WAITING, SIGNED_IN, FAILED, CANCELLING = (
    "contacting",
    "waiting",
    "signed-in",
    "failed",
    "cancelling",
)


class SsoDialog(QDialog):
    """Shows one sign-in of ``profile`` from start to end; the owner feeds it the sign-in's answers."""

    cancel_requested = Signal()

    def __init__(self, profile: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sso-dialog")
        self.setWindowTitle("Sign in with IAM Identity Center")
        self.setModal(True)
        self._profile = profile
        self._state = CONTACTING
        self._authorization: SsoDeviceAuthorization | None = None

        self.message = QLabel(f"Contacting IAM Identity Center for profile <b>{profile}</b>…")
        self.message.setWordWrap(True)
        self.uri_label = QLabel()
        self.uri_label.setObjectName("sso-uri")
        self.uri_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label = QLabel()
        self.code_label.setObjectName("sso-code")
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.code_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.code_label.setFont(font)
        self.copy_uri_button = QPushButton("Copy address")
        self.copy_uri_button.clicked.connect(lambda: self._copy(self.uri_label.text()))
        self.copy_code_button = QPushButton("Copy code")
        self.copy_code_button.clicked.connect(lambda: self._copy(self.code_label.text()))
        self.open_button = QPushButton("Open in browser")
        self.open_button.clicked.connect(self._open_browser)
        self.spinner = QProgressBar()
        self.spinner.setObjectName("sso-spinner")
        self.spinner.setRange(0, 0)
        self.spinner.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        self.close_button.hide()

        self._details = QWidget()
        grid = QGridLayout(self._details)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("1. Open this address in a browser:"), 0, 0, 1, 2)
        grid.addWidget(self.uri_label, 1, 0)
        grid.addWidget(self.copy_uri_button, 1, 1)
        grid.addWidget(self.open_button, 2, 1)
        grid.addWidget(QLabel("2. Check that the page shows this code, and allow access:"), 3, 0, 1, 2)
        grid.addWidget(self.code_label, 4, 0)
        grid.addWidget(self.copy_code_button, 4, 1)
        grid.setColumnStretch(0, 1)
        self._details.hide()

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self._details)
        layout.addWidget(self.spinner)
        layout.addLayout(buttons)
        self.setMinimumWidth(640)

    # -- what the owner feeds in --------------------------------------------------------------------

    def show_code(self, authorization: SsoDeviceAuthorization) -> None:
        if self._state not in (CONTACTING, WAITING):
            return
        self._authorization = authorization
        self._state = WAITING
        self.uri_label.setText(authorization.verification_uri)
        self.code_label.setText(authorization.user_code)
        expires = authorization.expires_at.astimezone(UTC).strftime("%H:%M UTC")
        self.message.setText(
            f"Sign in for profile <b>{self._profile}</b> in your browser. This window waits until "
            f"you have allowed access (the code expires at {expires})."
        )
        self._details.show()

    def complete(self, result: SsoLoginResult) -> None:
        self._state = SIGNED_IN
        until = result.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.message.setText(f"Signed in: profile <b>{result.profile}</b> works until {until}.")
        self._finish()

    def fail(self, message: str) -> None:
        if self._state == CANCELLING:
            super().reject()
            return
        self._state = FAILED
        self.message.setText(f"The sign-in did not complete: {message}")
        self._finish()

    # -- for tests and the owner ----------------------------------------------------------------------

    def state(self) -> str:
        return self._state

    def uri_text(self) -> str:
        return self.uri_label.text()

    def code_text(self) -> str:
        return self.code_label.text()

    def message_text(self) -> str:
        return self.message.text()

    # -- internals -------------------------------------------------------------------------------------

    def reject(self) -> None:
        """Cancel (button, Esc, closing the window): stop the sign-in first, then close."""
        if self._state in (CONTACTING, WAITING):
            self._state = CANCELLING
            self.message.setText("Cancelling the sign-in…")
            self.cancel_button.setEnabled(False)
            self.cancel_requested.emit()
            return  # closes when the task reports the cancelled sign-in (fail())
        if self._state == CANCELLING:
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._state in (CONTACTING, WAITING, CANCELLING):
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)

    def _finish(self) -> None:
        self.spinner.hide()
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)

    def _copy(self, text: str) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None and text:
            clipboard.setText(text)

    def _open_browser(self) -> None:
        if self._authorization is not None:
            QDesktopServices.openUrl(QUrl(self._authorization.verification_uri_complete))
