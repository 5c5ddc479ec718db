"""The settings worker: settings, typed keys, profiles, the first-run check and the SSO sign-in.

Everything the settings page does touches disk, the OS keyring (which may block on an unlock prompt) or
the network, so it all runs here, off the GUI thread (DESIGN §3). Answers are past-tense signals with
frozen domain values; keys typed by the operator arrive as slot arguments and go straight to the
service: they are never emitted back, logged or kept by this object.

The SSO sign-in keeps this worker busy while it polls (the dialog is modal meanwhile). ``cancel_sso``
is a plain thread-safe method for that reason: call it directly from the GUI thread, never through a
queued connection, which would wait behind the sign-in it means to stop.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal, Slot

from drs_desktop.domain.connection import ConnectionSettings
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.workers.guarded import guarded

logger = logging.getLogger(__name__)


class SettingsWorker(QObject):
    """Load and save settings, store and clear typed keys, list profiles, first run, SSO sign-in."""

    settings_loaded = Signal(object)  # SettingsSnapshot
    settings_saved = Signal(object)  # SettingsSnapshot, after Apply
    keys_stored = Signal(object)  # SettingsSnapshot (stored_keys and keyring say where they went)
    keys_cleared = Signal(object)  # SettingsSnapshot
    profiles_listed = Signal(object)  # tuple[AwsProfileInfo, ...]
    first_run_checked = Signal(bool)  # True: no AWS configuration, offer the demo
    sso_code_issued = Signal(object)  # SsoDeviceAuthorization: show the address and code
    sso_completed = Signal(object)  # SsoLoginResult
    failed = Signal(str, str)  # operation (the slot's name), message

    def __init__(self, service: SettingsService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._sso_cancel = threading.Event()

    @Slot()
    @guarded("load_settings")
    def load_settings(self) -> None:
        self.settings_loaded.emit(self._service.snapshot())

    @Slot(object, int)
    @guarded("save_settings")
    def save_settings(self, settings: ConnectionSettings, poll_interval_seconds: int) -> None:
        if not isinstance(settings, ConnectionSettings):
            raise TypeError(f"save_settings needs ConnectionSettings, got {type(settings).__name__}")
        self.settings_saved.emit(self._service.save(settings, int(poll_interval_seconds)))

    @Slot(str, str, str, str)
    @guarded("store_keys")
    def store_keys(self, label: str, access_key_id: str, secret_access_key: str, session_token: str) -> None:
        self.keys_stored.emit(
            self._service.store_keys(label, access_key_id, secret_access_key, session_token)
        )

    @Slot(str)
    @guarded("clear_keys")
    def clear_keys(self, label: str) -> None:
        self.keys_cleared.emit(self._service.clear_keys(label))

    @Slot()
    @guarded("list_profiles")
    def list_profiles(self) -> None:
        self.profiles_listed.emit(self._service.profiles())

    @Slot()
    @guarded("check_first_run")
    def check_first_run(self) -> None:
        self.first_run_checked.emit(self._service.first_run_needed())

    @Slot(str)
    @guarded("sso_login")
    def start_sso_login(self, profile: str) -> None:
        if self._sso_cancel.is_set():
            self.failed.emit("sso_login", "The sign-in was cancelled")
            return
        result = self._service.sso_login(
            profile, on_code=self.sso_code_issued.emit, wait=self._sso_cancel.wait
        )
        self.sso_completed.emit(result)

    def prepare_sso(self) -> None:
        """Any thread, right before requesting ``start_sso_login``: forget an earlier cancel. (Done by
        the requester rather than the slot, so a cancel that overtakes the queued request still counts.)"""
        self._sso_cancel.clear()

    def cancel_sso(self) -> None:
        """Any thread: stop a sign-in that is waiting for the operator (it fails with "cancelled")."""
        self._sso_cancel.set()
