"""SettingsWorker on a real QThread: settings, typed keys (keyring only), first run, SSO sign-in."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from drs_desktop.domain.connection import ConnectionSettings, SettingsSnapshot, SsoDeviceAuthorization
from drs_desktop.secrets import SERVICE, SecretStore
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.storage.db import Database
from drs_desktop.workers.settings_worker import SettingsWorker
from drs_desktop.workers.thread import WorkerThread
from tests.secrets.memory_keyring import MemoryKeyring, install_fail
from tests.services import aws_stubs
from tests.services.settings_fixtures import (  # noqa: F401
    aws_files_fixture,
    db_fixture,
    memory_keyring_fixture,
    no_env_credentials_fixture,
)
from tests.workers.signal_log import SignalLog

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLEsessiontoken0123456789"
SIGNALS = (
    "settings_loaded",
    "settings_saved",
    "keys_stored",
    "keys_cleared",
    "profiles_listed",
    "first_run_checked",
    "sso_code_issued",
    "sso_completed",
    "failed",
)


class Requests(QObject):
    """The GUI side: every call reaches the worker as a queued signal."""

    load_settings = Signal()
    save_settings = Signal(object, int)
    store_keys = Signal(str, str, str, str)
    clear_keys = Signal(str)
    list_profiles = Signal()
    check_first_run = Signal()
    start_sso_login = Signal(str)


@dataclass
class Rig:
    requests: Requests
    worker: SettingsWorker
    log: SignalLog
    db: Database


def start(db: Database, service: SettingsService) -> tuple[Rig, WorkerThread]:
    worker = SettingsWorker(service)
    requests = Requests()
    for name in (
        "load_settings",
        "save_settings",
        "store_keys",
        "clear_keys",
        "list_profiles",
        "check_first_run",
    ):
        getattr(requests, name).connect(getattr(worker, name))
    requests.start_sso_login.connect(worker.start_sso_login)
    log = SignalLog(worker, *SIGNALS)
    thread = WorkerThread(worker, "settings-worker-test")
    thread.start()
    return Rig(requests, worker, log, db), thread


@pytest.fixture
def rig(db: Database, memory_keyring: MemoryKeyring) -> Iterator[Rig]:
    running, thread = start(db, SettingsService(db, SecretStore()))
    try:
        yield running
    finally:
        assert thread.stop()


def stored_bytes(db: Database) -> bytes:
    """Every byte SQLite keeps for the database: the file, its WAL and its shared memory."""
    return b"".join(path.read_bytes() for path in db.path.parent.glob(db.path.name + "*"))


def test_load_and_save_round_trip(rig: Rig, qtbot: QtBot) -> None:
    rig.requests.load_settings.emit()
    (snapshot,) = rig.log.wait(qtbot, "settings_loaded")
    assert isinstance(snapshot, SettingsSnapshot)
    assert snapshot.connection == ConnectionSettings() and snapshot.poll_interval_seconds == 15
    assert snapshot.keyring.persistent and snapshot.stored_keys is None
    chosen = ConnectionSettings(profile="dr-admin", region="eu-central-1", demo=True, use_typed_keys=True)
    rig.requests.save_settings.emit(chosen, 30)
    (saved,) = rig.log.wait(qtbot, "settings_saved")
    assert saved.connection == chosen and saved.poll_interval_seconds == 30
    rig.requests.load_settings.emit()
    (again,) = rig.log.wait(qtbot, "settings_loaded", count=2)
    assert again.connection == chosen and again.poll_interval_seconds == 30


def test_invalid_settings_fail_with_a_message(rig: Rig, qtbot: QtBot) -> None:
    rig.requests.save_settings.emit(ConnectionSettings(region="not a region"), 15)
    operation, message = rig.log.wait(qtbot, "failed")
    assert operation == "save_settings" and "not an AWS Region code" in message


def test_keys_go_to_the_keyring_only(
    rig: Rig, qtbot: QtBot, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rig.requests.store_keys.emit("dr-admin", KEY_ID, SECRET, TOKEN)
    (snapshot,) = rig.log.wait(qtbot, "keys_stored")
    assert memory_keyring.entries[(SERVICE, "dr-admin/secret_access_key")] == SECRET
    assert memory_keyring.entries[(SERVICE, "dr-admin/session_token")] == TOKEN
    # The snapshot describes the keys of the profile in force ("default"): not these.
    assert snapshot.stored_keys is None
    rig.requests.save_settings.emit(ConnectionSettings(profile="dr-admin", use_typed_keys=True), 15)
    (saved,) = rig.log.wait(qtbot, "settings_saved")
    assert saved.stored_keys is not None and saved.stored_keys.masked_key_id == "…MPLE"
    assert saved.stored_keys.persistent and saved.stored_keys.has_session_token
    # Nothing of the secret reached SQLite (file, WAL), the signals' payloads or the logs.
    data = stored_bytes(rig.db)
    for secret in (SECRET, TOKEN, KEY_ID):
        assert secret.encode() not in data
        assert secret not in caplog.text
        assert all(secret not in repr(args) for _, args in rig.log.events)
    rig.requests.clear_keys.emit("dr-admin")
    (cleared,) = rig.log.wait(qtbot, "keys_cleared")
    assert cleared.stored_keys is None and memory_keyring.entries == {}


def test_malformed_keys_are_refused(rig: Rig, qtbot: QtBot, memory_keyring: MemoryKeyring) -> None:
    rig.requests.store_keys.emit("", KEY_ID, "", "")
    operation, message = rig.log.wait(qtbot, "failed")
    assert operation == "store_keys" and "secret access key" in message
    assert memory_keyring.entries == {}


def test_without_a_keyring_keys_stay_in_memory_and_the_snapshot_says_so(
    db: Database, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fail(monkeypatch)
    running, thread = start(db, SettingsService(db, SecretStore()))
    try:
        running.requests.store_keys.emit("", KEY_ID, SECRET, "")
        (snapshot,) = running.log.wait(qtbot, "keys_stored")
        assert not snapshot.keyring.persistent and "in memory" in snapshot.keyring.message
        assert snapshot.stored_keys is not None and not snapshot.stored_keys.persistent
        assert SECRET.encode() not in stored_bytes(db)
    finally:
        assert thread.stop()


def test_first_run_check(rig: Rig, qtbot: QtBot, no_env_credentials: None) -> None:
    rig.requests.check_first_run.emit()
    assert rig.log.wait(qtbot, "first_run_checked") == (True,)  # conftest: empty AWS config files
    rig.requests.save_settings.emit(ConnectionSettings(demo=True), 15)
    rig.log.wait(qtbot, "settings_saved")
    rig.requests.check_first_run.emit()
    assert rig.log.wait(qtbot, "first_run_checked", count=2) == (False,)  # demo chosen: not again


def test_profiles_are_listed(rig: Rig, qtbot: QtBot, aws_files: Path) -> None:
    rig.requests.list_profiles.emit()
    (profiles,) = rig.log.wait(qtbot, "profiles_listed")
    assert [p.name for p in profiles] == ["base", "corp-sso", "default", "dr-admin", "legacy-sso", "mfa-role"]


def test_sso_sign_in_through_the_worker(
    db: Database, memory_keyring: MemoryKeyring, aws_files: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    behaviour = aws_stubs.OidcBehaviour(pending=0)
    with aws_stubs.serve(oidc=behaviour) as url:
        service = SettingsService(db, SecretStore(), sso_endpoint_url=url, sso_cache_dir=tmp_path / "sso")
        running, thread = start(db, service)
        try:
            running.worker.prepare_sso()
            running.requests.start_sso_login.emit("corp-sso")
            (code,) = running.log.wait(qtbot, "sso_code_issued")
            (result,) = running.log.wait(qtbot, "sso_completed")
        finally:
            assert thread.stop()
    assert isinstance(code, SsoDeviceAuthorization) and code.user_code == aws_stubs.USER_CODE
    assert result.profile == "corp-sso" and Path(result.cache_file).is_file()
    assert running.log.names().index("sso_code_issued") < running.log.names().index("sso_completed")


def test_sso_sign_in_can_be_cancelled_while_it_waits(
    db: Database, memory_keyring: MemoryKeyring, aws_files: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    behaviour = aws_stubs.OidcBehaviour(pending=1000, interval=1)
    with aws_stubs.serve(oidc=behaviour) as url:
        service = SettingsService(db, SecretStore(), sso_endpoint_url=url, sso_cache_dir=tmp_path / "sso")
        running, thread = start(db, service)
        try:
            running.worker.prepare_sso()
            running.requests.start_sso_login.emit("corp-sso")
            running.log.wait(qtbot, "sso_code_issued")
            running.worker.cancel_sso()  # direct call from the GUI thread while the worker polls
            operation, message = running.log.wait(qtbot, "failed")
        finally:
            assert thread.stop()
    assert operation == "sso_login" and "cancelled" in message
    assert not (tmp_path / "sso").exists()
