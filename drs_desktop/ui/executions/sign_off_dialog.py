"""Sign a finished run's review off (issue 18), as the reviewer, with their own AWS profile.

The reviewer picks one of the profiles the app knows (the AWS config files, as the Settings pane lists
them), signs in first where it is an IAM Identity Center profile (the Settings pane's own sign-in:
``SettingsService.sso_login`` on the ``settings`` thread, shown in the Settings pane's ``SsoDialog``,
which the composition root hands in as ``sso_dialog_factory``: one pane never imports another), and
presses "Check identity": STS is asked on the ``settings`` thread (it may wait for that sign-in) and the
dialog shows the ARN and account it answered. Where that is the run's own identity the dialog says so
before anything is signed: the evidence will say "self-signed". "Sign" is enabled only for the profile
whose identity is shown and a review typed, and hands both to its owner (``sign_requested``), which
journals exactly that identity through the service ``drs-desktop executions sign-off`` uses, and closes
the dialog or shows the refusal here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.connection import AwsProfileInfo, SsoDeviceAuthorization, SsoLoginResult
from drs_desktop.workers.audit_tasks import (
    AnnotationInputError,
    AuditView,
    CallerIdentity,
    check_text,
    signer_identity,
)
from drs_desktop.workers.pane_tasks import SettingsService, SettingsTasks
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

__all__ = ["SELF_SIGNED_WARNING", "SignInDialog", "SignOffDialog", "SsoDialogFactory"]


class SignInDialog(Protocol):
    """What the sign-off needs of the Settings pane's sign-in dialog (``ui.settings.sso_dialog``)."""

    @property
    def cancel_requested(self) -> SignalInstance: ...

    def show_code(self, authorization: SsoDeviceAuthorization) -> None: ...

    def complete(self, result: SsoLoginResult) -> None: ...

    def fail(self, message: str) -> None: ...

    def open(self) -> None: ...


#: Builds the sign-in dialog of a profile: (profile name, parent) -> dialog.
SsoDialogFactory = Callable[[str, QWidget], SignInDialog]

_ERROR_STYLE = "color: #b00020"
_WARN_STYLE = "color: #b00020; font-weight: bold"
SELF_SIGNED_WARNING = (
    "SELF-SIGNED: this is the identity that ran the execution. The evidence will say the review was "
    "self-signed, not signed off by a second person."
)


class SignOffDialog(QDialog):
    """The sign-off of ``view``'s run; ``sign_requested(profile, review, accepted, CallerIdentity)``."""

    sign_requested = Signal(str, str, bool, object)

    def __init__(
        self,
        view: AuditView,
        tasks: SettingsTasks,
        parent: QWidget | None = None,
        *,
        sso_dialog_factory: SsoDialogFactory | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sign-off-dialog")
        self.setWindowTitle("Sign off the review")
        self._view = view
        self._tasks = tasks
        self._settings: Requester[SettingsService] = Requester(self, self._failed)
        self._settings.connect(tasks)
        self._profiles: tuple[AwsProfileInfo, ...] = ()
        self._identity: CallerIdentity | None = None
        self._identity_of = ""  # the profile ``_identity`` is for
        self._checking = ""
        self._sso_cancel = threading.Event()
        self._sso_factory = sso_dialog_factory
        self.sso_dialog: SignInDialog | None = None

        run_by = view.run_identity.get("arn") or "unknown (the review cannot be shown independent)"
        self.intro = QLabel(
            f"Review of the {view.mode.lower()} of {view.plan_name!r} (execution {view.execution_id}), "
            f"run as {run_by}. Sign with your own AWS profile: the evidence records who STS says you are."
        )
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("sign-off-profile")
        self.sign_in_button = QPushButton("Sign in…")
        self.sign_in_button.setObjectName("sign-off-sso")
        self.sign_in_button.setToolTip("Sign in with IAM Identity Center for this profile")
        self.check_button = QPushButton("Check identity")
        self.check_button.setObjectName("sign-off-check")
        self.identity_label = QLabel("Not checked yet.")
        self.identity_label.setObjectName("sign-off-identity")
        self.identity_label.setWordWrap(True)
        self.identity_label.setTextFormat(Qt.TextFormat.PlainText)
        self.identity_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = QLabel()
        self.warning.setObjectName("sign-off-warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(_WARN_STYLE)
        self.warning.setVisible(False)
        self.review_edit = QPlainTextEdit()
        self.review_edit.setObjectName("sign-off-review")
        self.review_edit.setPlaceholderText("What was checked, and what it concluded")
        self.accept_radio = QRadioButton("Accept the run")
        self.reject_radio = QRadioButton("Reject the run")
        self.accept_radio.setChecked(True)
        self._verdict = QButtonGroup(self)
        self._verdict.addButton(self.accept_radio)
        self._verdict.addButton(self.reject_radio)
        self.status = QLabel()
        self.status.setObjectName("sign-off-status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.sign_button = QPushButton("Sign")
        self.sign_button.setObjectName("sign-off-sign")
        self.cancel_button = QPushButton("Cancel")

        profile_row = QHBoxLayout()
        profile_row.addWidget(self.profile_combo, 1)
        profile_row.addWidget(self.sign_in_button)
        profile_row.addWidget(self.check_button)
        verdict = QHBoxLayout()
        verdict.addWidget(self.accept_radio)
        verdict.addWidget(self.reject_radio)
        verdict.addStretch(1)
        form = QFormLayout()
        form.addRow("Your profile:", profile_row)
        form.addRow("Identity:", self.identity_label)
        form.addRow("", self.warning)
        form.addRow("Review:", self.review_edit)
        form.addRow("Verdict:", verdict)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.sign_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form, 1)
        layout.addLayout(buttons)
        self.resize(720, 460)

        self.profile_combo.currentIndexChanged.connect(self._profile_changed)
        self.sign_in_button.clicked.connect(lambda: self.sign_in())
        self.check_button.clicked.connect(lambda: self.check_identity())
        self.review_edit.textChanged.connect(self._update)
        self.sign_button.clicked.connect(lambda: self.sign())
        self.cancel_button.clicked.connect(self.reject)
        self._say("Loading the AWS profiles…")
        self._settings("profiles", lambda s: s.profiles(), self.show_profiles)
        self._update()

    # ---------------------------------------------------------------------------------- profiles

    def show_profiles(self, profiles: tuple[AwsProfileInfo, ...]) -> None:
        self._profiles = tuple(profiles)
        self.profile_combo.blockSignals(True)
        self.profile_combo.clear()
        for profile in self._profiles:
            how = " (IAM Identity Center)" if profile.sso else (" (MFA)" if profile.needs_mfa else "")
            self.profile_combo.addItem(f"{profile.name}{how}", profile.name)
        self.profile_combo.blockSignals(False)
        self._say("" if profiles else "No AWS profile in the AWS config files: add the reviewer's first.")
        self._profile_changed()

    def selected_profile(self) -> str:
        return str(self.profile_combo.currentData() or "")

    def select_profile(self, name: str) -> bool:
        index = self.profile_combo.findData(name)
        if index >= 0:
            self.profile_combo.setCurrentIndex(index)
        return index >= 0

    def sign_in(self) -> SignInDialog | None:
        """The Settings pane's IAM Identity Center sign-in, for the selected profile."""
        profile = self._profile_info()
        if profile is None or not profile.sso or self._sso_factory is None:
            return None
        dialog = self._sso_factory(profile.name, self)
        cancel = self._sso_cancel = threading.Event()
        dialog.cancel_requested.connect(cancel.set)
        self.sso_dialog = dialog
        tasks, name = self._tasks, profile.name
        self._settings(
            "sso_login",
            lambda s: s.sso_login(name, on_code=tasks.progress, wait=cancel.wait),
            self._signed_in,
            on_progress=dialog.show_code,
        )
        dialog.open()
        return dialog

    # ---------------------------------------------------------------------------------- identity

    def check_identity(self) -> None:
        """Ask STS who the selected profile is (``settings`` thread)."""
        name = self.selected_profile()
        if not name or self._checking:
            return
        self._checking = name
        self._identity, self._identity_of = None, ""
        self.identity_label.setText(f"Asking STS who profile {name!r} is…")
        self.warning.setVisible(False)
        target = self._view.signer
        self._settings("check_identity", lambda _s: signer_identity(target, name), self.show_identity)
        self._update()

    def show_identity(self, identity: CallerIdentity) -> None:
        name, self._checking = self._checking, ""
        if name != self.selected_profile():
            self.identity_label.setText("The profile changed during the check: check again.")
            self._update()
            return
        self._identity, self._identity_of = identity, name
        self.identity_label.setText(f"{identity.arn}\naccount {identity.account}")
        self_signed = self._view.self_signed_by(identity)
        self.warning.setText(SELF_SIGNED_WARNING if self_signed else "")
        self.warning.setVisible(self_signed)
        if not self_signed:
            self._say("Independent: not the identity that ran the execution.")
        else:
            self._say("")
        self._update()

    def identity(self) -> CallerIdentity | None:
        return self._identity

    def self_signed(self) -> bool | None:
        """Whether the checked identity is the run's own (None: not checked)."""
        return None if self._identity is None else self._view.self_signed_by(self._identity)

    # ---------------------------------------------------------------------------------- signing

    def review_problem(self) -> str | None:
        try:
            check_text(self.review_edit.toPlainText(), "the review")
        except AnnotationInputError as bad:
            return str(bad)
        return None

    def can_sign(self) -> bool:
        return (
            self._identity is not None
            and self._identity_of == self.selected_profile()
            and not self._checking
            and self.review_problem() is None
        )

    def sign(self) -> None:
        if not self.can_sign() or self._identity is None:
            return
        self._say("Journaling the sign-off…")
        self.sign_button.setEnabled(False)
        self.sign_requested.emit(
            self._identity_of, self.review_edit.toPlainText(), self.accept_radio.isChecked(), self._identity
        )

    def show_refusal(self, message: str) -> None:
        """The service refused the sign-off: said here; the dialog stays open."""
        self._say(message, error=True)
        self._update()

    def status_text(self) -> str:
        return self.status.text()

    # ---------------------------------------------------------------------------------- internals

    def _profile_info(self) -> AwsProfileInfo | None:
        name = self.selected_profile()
        return next((p for p in self._profiles if p.name == name), None)

    def _profile_changed(self, *_args: object) -> None:
        profile = self._profile_info()
        self.sign_in_button.setVisible(profile is not None and profile.sso and self._sso_factory is not None)
        if self._identity_of and self._identity_of != self.selected_profile():
            self._identity, self._identity_of = None, ""
            self.identity_label.setText("Not checked yet.")
            self.warning.setVisible(False)
        self._update()

    def _signed_in(self, result: SsoLoginResult) -> None:
        if self.sso_dialog is not None:
            self.sso_dialog.complete(result)
        self._say(f"Signed in as profile {result.profile}: check the identity now.")

    def _failed(self, operation: str, message: str) -> None:
        if operation == "check_identity":
            self._checking = ""
            self.identity_label.setText(f"STS did not say: {message}")
        elif operation == "sso_login" and self.sso_dialog is not None:
            self.sso_dialog.fail(message)
        self._say(message, error=True)
        self._update()

    def _update(self, *_args: object) -> None:
        self.check_button.setEnabled(bool(self.selected_profile()) and not self._checking)
        self.sign_button.setEnabled(self.can_sign())
        if self._identity is None:
            why = "Check the identity of your profile first."
        else:
            why = self.review_problem() or ""
        self.sign_button.setToolTip(why)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
        self.status.setText(text)

    def done(self, result: int) -> None:
        self._sso_cancel.set()  # a sign-in still polling stops
        super().done(result)
