"""The Settings pane: AWS profile and region, the targets, IAM Identity Center sign-in, typed keys,
polling, demo mode. The targets table (``TargetsWidget``) saves each add, edit and remove at once.

Everything is read and written on the ``settings`` task thread (DESIGN §3.4: the keyring may block on an
unlock prompt, the config files and the database are disk, the sign-in polls the network). Typed keys go
from the fields straight to a task and the fields are emptied at once: the pane keeps no secret, and
shows a saved pair only as its key ID's last four characters, with where it is kept (the OS keyring, or
memory for this session when the system has no usable keyring: said in a warning, never silently).

The IAM Identity Center sign-in keeps the settings thread busy while it polls (its dialog is modal
meanwhile); the verification code reaches the dialog as the task's progress. Each sign-in has its own
cancel flag, a ``threading.Event`` the dialog's Cancel (or the app's shutdown, ``cancel_sso``) sets
directly: a request queued to the busy thread would wait behind the sign-in it means to stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.connection import (
    DEFAULT_PROFILE_LABEL,
    AwsProfileInfo,
    ConnectionSettings,
    SettingsSnapshot,
    SsoDeviceAuthorization,
    SsoLoginResult,
    StoredKeyInfo,
    key_label,
)
from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.targets import Target, settings_target, target_switch
from drs_desktop.ui.settings.retention_setting_widget import RetentionSettingWidget
from drs_desktop.ui.settings.sso_dialog import SsoDialog
from drs_desktop.ui.settings.sync_settings_widget import SyncSettingsWidget
from drs_desktop.ui.settings.target_switch_dialog import TargetSwitchDialog
from drs_desktop.ui.settings.targets_widget import TargetsWidget
from drs_desktop.ui.settings.trusted_scripts_dialog import TrustedScriptsDialog
from drs_desktop.ui.target_badge import TargetBadgeWidget
from drs_desktop.workers.pane_tasks import LocalTasks, SettingsService, SettingsTasks
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

DEFAULT_PROFILE_TEXT = "(default)"
#: Regions offered in the region box (it stays editable: DRS comes to new regions).
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
    "eu-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-south-1", "ap-south-2", "ap-east-1",
    "me-south-1", "me-central-1", "af-south-1", "il-central-1",
)  # fmt: skip
_WARNING_STYLE = "color: #8a4b00"
_ERROR_STYLE = "color: #b00020"


def profile_text(profile: AwsProfileInfo | None, shown: str = "") -> str:
    """The combo text of ``profile``: its name (or ``shown``), and how it signs in when that matters."""
    name = shown or (profile.name if profile else "")
    extras = []
    if profile is not None and profile.sso:
        extras.append("IAM Identity Center")
    if profile is not None and profile.needs_mfa:
        extras.append("MFA")
    return f"{name} ({', '.join(extras)})" if extras else name


class SettingsPaneWidget(QWidget):
    """The settings page; ``connect_tasks`` gives it the ``settings`` task thread."""

    settings_applied = Signal(object)  # SettingsSnapshot, after a save: for the app to reconnect
    first_run_needed = Signal()  # no AWS configuration at all: the app offers the demo
    # Target: the operator confirmed a switch to it, and the settings are saved: the app switches.
    target_switch_confirmed = Signal(object)
    targets_changed = Signal(object)  # tuple[PlanTarget, ...]: the target list was saved

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings-pane")
        self._ask: Requester[SettingsService] = Requester(self, self._failed)
        self._tasks: SettingsTasks | None = None
        self._sso_cancel = threading.Event()  # the sign-in in progress's (a new one for each)
        self._snapshot: SettingsSnapshot | None = None
        self._profiles: tuple[AwsProfileInfo, ...] = ()
        self._sso_dialog: SsoDialog | None = None
        # Where the application is now (the composition root says, ``set_running_target``): the demo box
        # shows it, and Apply asks before it moves anywhere else. None: nobody said (the pane alone).
        self._running: Target | None = None
        self._switch_blocker: Callable[[], str | None] = lambda: None
        self._switch_dialog: TargetSwitchDialog | None = None
        self.running_badge = TargetBadgeWidget()
        self.running_badge.setObjectName("settings-running-target")

        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("settings-profile")
        self.profile_combo.currentIndexChanged.connect(self._profile_changed)
        self.region_combo = QComboBox()
        self.region_combo.setObjectName("settings-region")
        self.region_combo.setEditable(True)
        self.region_combo.addItems(REGIONS)
        self.sign_in_button = QPushButton("Sign in…")
        self.sign_in_button.setObjectName("settings-sign-in")
        self.sign_in_button.setToolTip("Sign in with IAM Identity Center in your browser")
        self.sign_in_button.clicked.connect(self.sign_in)
        profile_row = QHBoxLayout()
        profile_row.addWidget(self.profile_combo, 1)
        profile_row.addWidget(self.sign_in_button)

        self.use_keys_check = QCheckBox("Use access keys instead of the profile's own credentials")
        self.use_keys_check.setObjectName("settings-use-keys")
        self.key_id_edit = QLineEdit()
        self.key_id_edit.setObjectName("settings-key-id")
        self.key_id_edit.setPlaceholderText("AKIA…")
        self.secret_edit = QLineEdit()
        self.secret_edit.setObjectName("settings-secret")
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit = QLineEdit()
        self.token_edit.setObjectName("settings-token")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("optional")
        self.save_keys_button = QPushButton("Save keys")
        self.save_keys_button.setObjectName("settings-save-keys")
        self.save_keys_button.clicked.connect(self.save_keys)
        self.clear_keys_button = QPushButton("Forget keys")
        self.clear_keys_button.setObjectName("settings-clear-keys")
        self.clear_keys_button.clicked.connect(self.clear_keys)
        for edit in (self.key_id_edit, self.secret_edit):
            edit.textChanged.connect(self._update_buttons)
        self.keys_status = QLabel()
        self.keys_status.setObjectName("settings-keys-status")
        self.keyring_label = QLabel()
        self.keyring_label.setObjectName("settings-keyring")
        self.keyring_label.setWordWrap(True)
        keys_box = QGroupBox("Access keys")
        keys_form = QFormLayout(keys_box)
        keys_form.addRow(self.use_keys_check)
        keys_form.addRow("Access key ID", self.key_id_edit)
        keys_form.addRow("Secret access key", self.secret_edit)
        keys_form.addRow("Session token", self.token_edit)
        key_buttons = QHBoxLayout()
        key_buttons.addWidget(self.keys_status, 1)
        key_buttons.addWidget(self.clear_keys_button)
        key_buttons.addWidget(self.save_keys_button)
        keys_form.addRow(key_buttons)
        keys_form.addRow(self.keyring_label)

        self.poll_spin = QSpinBox()
        self.poll_spin.setObjectName("settings-poll")
        self.poll_spin.setRange(1, 3600)
        self.poll_spin.setSuffix(" s")
        self.demo_check = QCheckBox("Demo mode: use the built-in DRS simulator instead of AWS")
        self.demo_check.setObjectName("settings-demo")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("settings-apply")
        self.apply_button.clicked.connect(self.apply)
        self.status = QLabel()
        self.status.setObjectName("settings-status")
        self.status.setWordWrap(True)

        aws_box = QGroupBox("AWS")
        aws_form = QFormLayout(aws_box)
        aws_form.addRow("Profile", profile_row)
        aws_form.addRow("Region", self.region_combo)
        self.targets_widget = TargetsWidget()
        self.targets_widget.targets_edited.connect(self.save_targets)
        targets_box = QGroupBox("Targets: the accounts and Regions whose servers the Servers pane lists")
        QVBoxLayout(targets_box).addWidget(self.targets_widget)
        other_box = QGroupBox("Application")
        other_form = QFormLayout(other_box)
        other_form.addRow("Poll interval", self.poll_spin)
        other_form.addRow(self.demo_check)
        # The local scripts this desktop trusts (issue 17): read on the local thread, given by the app.
        self._scripts_tasks: LocalTasks | None = None
        self.scripts_button = QPushButton("Trusted scripts…")
        self.scripts_button.setObjectName("settings-trusted-scripts")
        self.scripts_button.setEnabled(False)
        self.scripts_button.clicked.connect(self.show_trusted_scripts)
        other_form.addRow("Local scripts", self.scripts_button)
        # Retention (issue 18): its own section, read and saved on the local thread (connect_scripts).
        self.retention_section = RetentionSettingWidget()
        # Team sync: a section of its own module, saved by its own button on this pane's thread.
        self.sync_section = SyncSettingsWidget(REGIONS)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.apply_button)
        # The page scrolls: with the Team sync section it is taller than a 768-pixel screen.
        content = QWidget()
        scroll = QScrollArea()
        scroll.setObjectName("settings-scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.addWidget(QLabel("<h2>Settings</h2>"))
        running_row = QHBoxLayout()
        running_row.addWidget(QLabel("Connected to"))
        running_row.addWidget(self.running_badge)
        running_row.addStretch(1)
        layout.addLayout(running_row)
        layout.addWidget(aws_box)
        layout.addWidget(targets_box)
        layout.addWidget(keys_box)
        layout.addWidget(other_box)
        layout.addWidget(self.retention_section)
        layout.addLayout(bottom)
        layout.addWidget(self.sync_section)
        layout.addStretch(1)
        self._set_profiles(())
        self._update_buttons()

    # ---------------------------------------------------------------------------------- wiring

    def connect_tasks(self, tasks: SettingsTasks) -> None:
        """Ask ``tasks`` (the ``settings`` thread) for everything from now on."""
        self._ask.connect(tasks)
        self._tasks = tasks
        self.sync_section.connect_tasks(tasks)

    def connect_scripts(self, tasks: LocalTasks) -> None:
        """The ``local`` thread, whose script trust service the trusted scripts dialog asks."""
        self._scripts_tasks = tasks
        self.scripts_button.setEnabled(True)
        self.retention_section.connect_tasks(tasks)

    def show_trusted_scripts(self) -> TrustedScriptsDialog | None:
        if self._scripts_tasks is None:
            return None
        dialog = TrustedScriptsDialog(self._scripts_tasks, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # ---------------------------------------------------------------------------------- actions

    def load(self) -> None:
        self._ask("load_settings", lambda s: s.snapshot(), self.show_snapshot)
        self.sync_section.load()

    def check_first_run(self) -> None:
        """Ask whether this is a first run with no AWS configuration; ``first_run_needed`` if so.
        (Relayed through the pane so the app's handler runs on the GUI thread.)"""
        self._ask("check_first_run", lambda s: s.first_run_needed(), self._first_run_checked)

    def current_settings(self) -> ConnectionSettings:
        return ConnectionSettings(
            profile=self.selected_profile(),
            region=self.region_combo.currentText().strip(),
            demo=self.demo_check.isChecked(),
            use_typed_keys=self.use_keys_check.isChecked(),
        )

    def selected_profile(self) -> str:
        return str(self.profile_combo.currentData() or "")

    def apply(self) -> None:
        """Save the page. A change that moves the application to another target (account, profile,
        Region, endpoint, demo on or off) asks first; anything else applies where the application is."""
        wanted = self._wanted_settings()
        running = self._running
        target = settings_target(wanted, demo=self.demo_check.isChecked())
        question = target_switch(running, target) if running is not None else None
        if question is None:
            self._set_status("Saving…")
            self.save_settings(wanted, self.poll_spin.value())
            return
        assert running is not None
        self._ask_switch(
            running,
            target,
            question,
            lambda: self._switch_confirmed(wanted, target),
            f"Not applied: still on {running.label}.",
        )

    def save_settings(self, settings: ConnectionSettings, poll_interval_seconds: int) -> None:
        """Store ``settings`` (the demo's start saves its own); ``settings_applied`` once they are."""
        self._ask("save_settings", lambda s: s.save(settings, poll_interval_seconds), self._saved)

    def save_targets(self, targets: tuple[PlanTarget, ...]) -> None:
        """Store the target list (checked by the dialog already; the store checks again)."""
        self._set_status("Saving the targets…")
        self._ask("save_targets", lambda s: s.save_targets(targets), self._targets_saved)

    def _targets_saved(self, snapshot: SettingsSnapshot) -> None:
        self._snapshot = snapshot
        self.targets_widget.set_targets(snapshot.targets)
        self._set_status("Targets saved.")
        self.targets_changed.emit(snapshot.targets)

    def save_keys(self) -> None:
        """Hand the typed keys to a task and empty the fields at once: the pane keeps no secret. Keys
        that replace the ones the application signs in with now may belong to another account: asked
        first, like any other change of target."""
        key_id, secret, token = self.key_id_edit.text(), self.secret_edit.text(), self.token_edit.text()
        for edit in (self.key_id_edit, self.secret_edit, self.token_edit):
            edit.clear()
        label = self.selected_profile()

        def store(then: Callable[[SettingsSnapshot], None]) -> None:
            self._set_status("Saving the keys…")
            self._ask("store_keys", lambda s: s.store_keys(label, key_id, secret, token), then)

        running = self._running
        in_force = running is not None and not running.demo and running.typed_keys
        if running is None or not in_force or key_label(label) != key_label(running.profile):
            store(self._keys_stored)
            return
        wanted = replace(running, account="")

        def switched(snapshot: SettingsSnapshot) -> None:
            self._keys_stored(snapshot)
            self.target_switch_confirmed.emit(wanted)

        question = (
            f"Sign in with the new keys? They replace the keys in force for {running.describe()}, and "
            "may belong to another AWS account."
        )
        self._ask_switch(
            running, wanted, question, lambda: store(switched), "Keys not saved: type them again to use them."
        )

    def clear_keys(self) -> None:
        label = self.selected_profile()
        self._ask("clear_keys", lambda s: s.clear_keys(label), self._keys_cleared)

    def sign_in(self) -> SsoDialog | None:
        """Open the sign-in dialog of the selected IAM Identity Center profile and start the sign-in."""
        profile = self._profile_info(self.selected_profile())
        tasks = self._tasks
        if profile is None or not profile.sso or tasks is None:
            return None
        dialog = SsoDialog(profile.name, self)
        dialog.cancel_requested.connect(self.cancel_sso)
        dialog.finished.connect(self._sso_dialog_closed)
        self._sso_dialog = dialog
        cancel = self._sso_cancel = threading.Event()
        name = profile.name
        self._ask(
            "sso_login",
            lambda s: s.sso_login(name, on_code=tasks.progress, wait=cancel.wait),
            self._sso_completed,
            on_progress=self._sso_code,
        )
        dialog.open()
        return dialog

    def cancel_sso(self) -> None:
        """Any thread: stop the sign-in in progress (it fails with "cancelled"); the app's shutdown too."""
        self._sso_cancel.set()

    # ---------------------------------------------------------------------------------- for tests and the app

    def snapshot(self) -> SettingsSnapshot | None:
        return self._snapshot

    def set_running_target(self, target: Target) -> None:
        """Where the application is now (the composition root, whenever it changes): shown at the top,
        and in the demo box, whatever the stored settings say (a ``--demo`` start is a demo)."""
        self._running = target
        self.running_badge.set_target(target)
        self.targets_widget.set_connected(target)
        self.demo_check.setChecked(target.demo)

    def running_target(self) -> Target | None:
        return self._running

    def set_switch_blocker(self, blocker: Callable[[], str | None]) -> None:
        """``blocker()`` says why the target cannot change now (a run is driven), or None."""
        self._switch_blocker = blocker

    def switch_dialog(self) -> TargetSwitchDialog | None:
        return self._switch_dialog

    def status_text(self) -> str:
        return self.status.text()

    def keyring_text(self) -> str:
        return self.keyring_label.text()

    def keys_text(self) -> str:
        return self.keys_status.text()

    def sso_dialog(self) -> SsoDialog | None:
        return self._sso_dialog

    def show_snapshot(self, snapshot: SettingsSnapshot) -> None:
        """Fill every field from ``snapshot`` (the answer to load, save and key changes)."""
        self._snapshot = snapshot
        connection = snapshot.connection
        self.targets_widget.set_targets(snapshot.targets)
        self._set_profiles(snapshot.profiles, connection.profile)
        self.sync_section.set_profiles([profile.name for profile in snapshot.profiles])
        self.region_combo.setEditText(connection.region)
        self.use_keys_check.setChecked(connection.use_typed_keys)
        self.poll_spin.setValue(snapshot.poll_interval_seconds)
        self.demo_check.setChecked(self._running.demo if self._running is not None else connection.demo)
        self._show_keys(snapshot.stored_keys, key_label(connection.profile))
        self.keyring_label.setText(snapshot.keyring.message)
        self.keyring_label.setStyleSheet("" if snapshot.keyring.persistent else _WARNING_STYLE)
        self._update_buttons()

    # ---------------------------------------------------------------------------------- answers

    def _wanted_settings(self) -> ConnectionSettings:
        """The page's settings to store. The demo box shows where the application runs, so it is stored
        only when the operator changed it: Apply in a ``--demo`` session keeps the stored choice."""
        wanted = self.current_settings()
        stored = self._snapshot.connection if self._snapshot is not None else None
        if self._running is not None and stored is not None and wanted.demo == self._running.demo:
            return replace(wanted, demo=stored.demo)
        return wanted

    def _ask_switch(
        self, running: Target, wanted: Target, question: str, confirmed: Callable[[], None], cancelled: str
    ) -> None:
        """The question before a change of target; ``confirmed()`` on Switch. Refused outright while the
        blocker says why (a run is driven)."""
        blocked = self._switch_blocker()
        if blocked:
            self._set_status(f"Not applied: {blocked}", _ERROR_STYLE)
            return
        dialog = TargetSwitchDialog(running, wanted, question, self)
        dialog.accepted.connect(confirmed)
        dialog.rejected.connect(lambda: self._set_status(cancelled))
        dialog.finished.connect(self._switch_dialog_closed)
        self._switch_dialog = dialog
        dialog.open()

    def _switch_confirmed(self, settings: ConnectionSettings, target: Target) -> None:
        self._set_status(f"Switching to {target.label}…")
        poll = self.poll_spin.value()
        self._ask(
            "save_settings", lambda s: s.save(settings, poll), lambda snap: self._switch_saved(snap, target)
        )

    def _switch_saved(self, snapshot: SettingsSnapshot, target: Target) -> None:
        self._saved(snapshot)
        self.target_switch_confirmed.emit(target)

    def _switch_dialog_closed(self, _result: int) -> None:
        dialog, self._switch_dialog = self._switch_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _saved(self, snapshot: SettingsSnapshot) -> None:
        self.show_snapshot(snapshot)
        self._set_status("Settings saved.")
        self.settings_applied.emit(snapshot)

    def _keys_stored(self, snapshot: SettingsSnapshot) -> None:
        self.show_snapshot(snapshot)
        keys = snapshot.stored_keys
        if keys is not None and not keys.persistent:
            self._set_status(
                "Keys kept in memory for this session only: no usable OS keyring.", _WARNING_STYLE
            )
        else:
            self._set_status("Keys saved in the OS keyring.")

    def _first_run_checked(self, needed: bool) -> None:
        if needed:
            self.first_run_needed.emit()

    def _keys_cleared(self, snapshot: SettingsSnapshot) -> None:
        self.show_snapshot(snapshot)
        self._set_status("Keys forgotten.")

    def _sso_code(self, authorization: SsoDeviceAuthorization) -> None:
        if self._sso_dialog is not None:
            self._sso_dialog.show_code(authorization)

    def _sso_completed(self, result: SsoLoginResult) -> None:
        if self._sso_dialog is not None:
            self._sso_dialog.complete(result)
        self._set_status(f"Signed in with IAM Identity Center as profile {result.profile}.")

    def _failed(self, operation: str, message: str) -> None:
        if operation == "sso_login" and self._sso_dialog is not None:
            self._sso_dialog.fail(message)
        self._set_status(message, _ERROR_STYLE)

    # ---------------------------------------------------------------------------------- internals

    def _sso_dialog_closed(self, _result: int) -> None:
        dialog, self._sso_dialog = self._sso_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _set_profiles(self, profiles: tuple[AwsProfileInfo, ...], selected: str | None = None) -> None:
        current = self.selected_profile() if selected is None else selected
        self._profiles = profiles
        self.profile_combo.blockSignals(True)
        self.profile_combo.clear()
        self.profile_combo.addItem(profile_text(self._profile_info(""), DEFAULT_PROFILE_TEXT), "")
        for profile in profiles:
            if profile.name != DEFAULT_PROFILE_LABEL:  # "(default)" stands for it
                self.profile_combo.addItem(profile_text(profile), profile.name)
        if current and self.profile_combo.findData(current) < 0:
            self.profile_combo.addItem(f"{current} (not in the AWS config files)", current)
        self.profile_combo.setCurrentIndex(max(0, self.profile_combo.findData(current)))
        self.profile_combo.blockSignals(False)

    def _profile_info(self, name: str) -> AwsProfileInfo | None:
        """The profile ``name`` ("" is the profile named "default", if the config files have one)."""
        wanted = name or DEFAULT_PROFILE_LABEL
        return next((profile for profile in self._profiles if profile.name == wanted), None)

    def _profile_changed(self, _index: int) -> None:
        profile = self._profile_info(self.selected_profile())
        if profile is not None and profile.region:
            self.region_combo.setEditText(profile.region)
        if self._snapshot is not None and self.selected_profile() != self._snapshot.connection.profile:
            self.keys_status.setText("Apply to see the keys saved for this profile.")
        self._update_buttons()

    def _show_keys(self, keys: StoredKeyInfo | None, label: str) -> None:
        if keys is None:
            self.keys_status.setText(f"No keys saved for {label!r}.")
        else:
            where = "OS keyring" if keys.persistent else "memory, this session only"
            token = ", with session token" if keys.has_session_token else ""
            self.keys_status.setText(f"Saved for {keys.label!r}: {keys.masked_key_id}{token} ({where}).")

    def _update_buttons(self) -> None:
        profile = self._profile_info(self.selected_profile())
        self.sign_in_button.setEnabled(profile is not None and profile.sso)
        self.save_keys_button.setEnabled(
            bool(self.key_id_edit.text().strip() and self.secret_edit.text().strip())
        )
        self.clear_keys_button.setEnabled(
            self._snapshot is not None and self._snapshot.stored_keys is not None
        )

    def _set_status(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
