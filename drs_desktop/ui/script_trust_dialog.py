"""The confirmation that makes this desktop trust a local script: the full command, then "Trust and run".

Why it shows what it shows (issue 17): a plan names a program, and the person at this desktop decides
whether it may run here. They see the whole command (program, arguments, each quoted as a shell would
read it, any invisible character escaped), the file the path leads to when a link is in the way, the
names of the environment variables it gets (never their values: a value may be a secret), and the
SHA-256 of the bytes. What is trusted is that hash: the service hashes again when "Trust and run" is
clicked and refuses bytes that differ from those shown (the dialog then shows the new hash).

A shared module (not a pane's): the run dialog's preflight and the plan editor both open it. The file is
read and hashed on the ``local`` task thread, never on the GUI thread. Call ``ask_to_trust`` (or build
``ScriptTrustDialog`` and ``open()`` it); ``trusted`` carries the stored ``TrustedScript``, and the
dialog is accepted only once the trust is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.plan.automation import ScriptStep
from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.domain.script_trust import (
    ScriptCheck,
    TrustedScript,
    TrustStatus,
    command_line,
    environment_names,
)
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks, script_trust
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

__all__ = ["ScriptTrustDialog", "ask_to_trust"]

_ERROR_STYLE = "color: #b00020"
_READING = "reading the file…"


class ScriptTrustDialog(QDialog):
    """Shows ``step``'s command and the SHA-256 of its file and asks to trust it on this desktop.

    ``fact_names``: the environment variables the run adds (``DRS_EXECUTION_ID``...), shown with the
    step's own. ``trusted(TrustedScript)`` is emitted, then the dialog accepted, once the trust is stored;
    Cancel (or closing) trusts nothing."""

    trusted = Signal(object)  # TrustedScript

    def __init__(
        self,
        step: ScriptStep,
        tasks: LocalTasks,
        *,
        fact_names: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("script-trust-dialog")
        self.setWindowTitle("Trust a local script?")
        self.setModal(True)
        self._step = step
        self._shown_command = command_line(step.path, step.arguments)
        self._check: ScriptCheck | None = None
        self._ask: Requester[LocalServices] = Requester(self, self._failed)
        self._ask.connect(tasks)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        intro = QLabel(
            f"The step <b>{_html(step.name)}</b> runs a program on this computer, as you. It runs only if "
            "this desktop trusts the file as it is now; a changed file must be trusted again."
        )
        intro.setWordWrap(True)
        self.command_label = self._value("script-trust-command", self._shown_command, mono)
        self.path_label = self._value("script-trust-path", terminal_safe(step.path), mono)
        self.resolved_label = self._value("script-trust-resolved", "", mono)
        arguments = "\n".join(terminal_safe(a) for a in step.arguments) or "(none)"
        self.arguments_label = self._value("script-trust-arguments", arguments, mono)
        names = environment_names((*step.environment.keys(), *fact_names))
        self.environment_label = self._value("script-trust-environment", ", ".join(names) or "(none)", mono)
        self.sha256_label = self._value("script-trust-sha256", _READING, mono)
        self.status_label = QLabel(_READING)
        self.status_label.setObjectName("script-trust-status")
        self.status_label.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Command", self.command_label)
        form.addRow("Program", self.path_label)
        self._resolved_row = QLabel("Leads to")
        form.addRow(self._resolved_row, self.resolved_label)
        form.addRow("Arguments", self.arguments_label)
        form.addRow("Environment", self.environment_label)
        form.addRow("SHA-256", self.sha256_label)
        self._resolved_row.setVisible(False)
        self.resolved_label.setVisible(False)

        self.buttons = QDialogButtonBox()
        self.trust_button = QPushButton("Trust and run")
        self.trust_button.setObjectName("script-trust-accept")
        self.trust_button.setEnabled(False)
        self.trust_button.setAutoDefault(False)
        self.trust_button.clicked.connect(self.trust)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("script-trust-cancel")
        self.cancel_button.setDefault(True)  # Enter never trusts by accident
        self.buttons.addButton(self.trust_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)
        self.check()

    @property
    def shown_command(self) -> str:
        return self._shown_command

    @property
    def current_check(self) -> ScriptCheck | None:
        """The last look at the file (None while the first is under way)."""
        return self._check

    def check(self) -> None:
        """Read and hash the file again (on the local thread); the button waits for the answer."""
        self.trust_button.setEnabled(False)
        path = self._step.path
        self._ask("check_script", lambda s: script_trust(s).status(path), self._show_check)

    def trust(self) -> None:
        """Trust the bytes shown: the service refuses a file whose hash is no longer the one on screen."""
        check = self._check
        if check is None or not check.trustable:
            return
        self.trust_button.setEnabled(False)
        self.status_label.setText("trusting…")
        path, shown, sha256 = self._step.path, self._shown_command, check.sha256
        self._ask(
            "trust_script",
            lambda s: script_trust(s).trust(path, shown, expected_sha256=sha256),
            self._stored,
        )

    def _show_check(self, check: ScriptCheck) -> None:
        self._check = check
        moved = bool(check.resolved_path) and check.resolved_path != check.path
        self.resolved_label.setText(terminal_safe(check.resolved_path))
        self._resolved_row.setVisible(moved)
        self.resolved_label.setVisible(moved)
        self.sha256_label.setText(check.sha256 or "(the file cannot be read)")
        self.status_label.setStyleSheet("" if check.trustable else _ERROR_STYLE)
        self.status_label.setText(_status_text(check))
        self.trust_button.setEnabled(check.trustable)

    def _stored(self, trusted: TrustedScript) -> None:
        logger.info("script trusted from the confirmation: %s", trusted.path)
        self.trusted.emit(trusted)
        self.accept()

    def _failed(self, operation: str, message: str) -> None:
        self.status_label.setStyleSheet(_ERROR_STYLE)
        self.status_label.setText(message)
        if operation == "trust_script":  # the file changed since it was shown: show what it is now
            self._check = None
            path = self._step.path
            self._ask("check_script", lambda s: script_trust(s).status(path), self._recheck_after_failure)

    def _recheck_after_failure(self, check: ScriptCheck) -> None:
        message = self.status_label.text()
        self._show_check(check)
        self.status_label.setStyleSheet(_ERROR_STYLE)
        self.status_label.setText(f"{message}\n{_status_text(check)}")

    @staticmethod
    def _value(name: str, text: str, font: QFont) -> QLabel:
        label = QLabel(text)
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.PlainText)  # a path or an argument is never markup
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setWordWrap(True)
        label.setFont(font)
        return label


def _status_text(check: ScriptCheck) -> str:
    match check.status:
        case TrustStatus.UNTRUSTED:
            return "Not trusted on this desktop yet."
        case TrustStatus.CHANGED:
            return f"Trusted before, but {check.detail}. Look at it again before you trust it."
        case TrustStatus.TRUSTED:
            return f"Already trusted as it is ({check.detail})."
        case TrustStatus.MISSING:
            return f"Cannot be trusted: {check.detail}."
        case TrustStatus.NOT_EXECUTABLE:
            return f"Cannot be trusted: {check.detail}."


def _html(text: str) -> str:
    return terminal_safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ask_to_trust(
    step: ScriptStep,
    tasks: LocalTasks,
    on_trusted: Callable[[TrustedScript], None],
    *,
    fact_names: Sequence[str] = (),
    parent: QWidget | None = None,
) -> ScriptTrustDialog:
    """Open the confirmation (window-modal, not blocking the event loop) for ``step``; ``on_trusted``
    runs once the trust is stored. The dialog deletes itself when closed."""
    dialog = ScriptTrustDialog(step, tasks, fact_names=fact_names, parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.trusted.connect(on_trusted)
    dialog.open()
    return dialog
