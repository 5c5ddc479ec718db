"""SettingsPaneWidget on its real ``settings`` task thread, a real database and keyring backends."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from drs_desktop.domain.connection import ConnectionSettings
from drs_desktop.secrets import SERVICE, SecretStore
from drs_desktop.services import connection
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.storage.db import Database
from drs_desktop.ui.settings.settings_pane_widget import SettingsPaneWidget
from tests.secrets.memory_keyring import MemoryKeyring, install_fail, install_memory
from tests.services import aws_stubs
from tests.services.settings_fixtures import aws_files_fixture, db_fixture  # noqa: F401
from tests.ui.pane_tasks import settings_thread

TIMEOUT = 10_000
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLEsessiontoken0123456789"


@dataclass
class Rig:
    pane: SettingsPaneWidget
    db: Database
    oidc: aws_stubs.OidcBehaviour
    sso_cache: Path


@contextmanager
def open_pane(
    qtbot: QtBot, db: Database, tmp_path: Path, oidc: aws_stubs.OidcBehaviour | None = None
) -> Iterator[Rig]:
    """The pane on its task thread, loaded; an sso-oidc stub serves its sign-ins."""
    oidc = oidc or aws_stubs.OidcBehaviour(pending=0)
    with aws_stubs.serve(oidc=oidc) as url:

        def service() -> SettingsService:
            return SettingsService(db, SecretStore(), sso_endpoint_url=url, sso_cache_dir=tmp_path / "sso")

        with settings_thread(service) as tasks:
            pane = SettingsPaneWidget()
            qtbot.addWidget(pane)
            pane.connect_tasks(tasks)
            pane.show()
            qtbot.waitExposed(pane)
            try:
                pane.load()
                qtbot.waitUntil(lambda: pane.snapshot() is not None, timeout=TIMEOUT)
                yield Rig(pane, db, oidc, tmp_path / "sso")
            finally:
                pane.cancel_sso()  # as the app's shutdown does: a sign-in still polling lets go


@pytest.fixture
def oidc() -> aws_stubs.OidcBehaviour:
    return aws_stubs.OidcBehaviour(pending=0)


@pytest.fixture
def rig(
    qtbot: QtBot,
    db: Database,
    tmp_path: Path,
    aws_files: Path,
    monkeypatch: pytest.MonkeyPatch,
    oidc: aws_stubs.OidcBehaviour,
) -> Iterator[Rig]:
    install_memory(monkeypatch)
    with open_pane(qtbot, db, tmp_path, oidc) as running:
        yield running


def combo_texts(pane: SettingsPaneWidget) -> list[str]:
    return [pane.profile_combo.itemText(i) for i in range(pane.profile_combo.count())]


def select_profile(pane: SettingsPaneWidget, name: str) -> None:
    pane.profile_combo.setCurrentIndex(pane.profile_combo.findData(name))


def stored_bytes(db: Database) -> bytes:
    return b"".join(path.read_bytes() for path in db.path.parent.glob(db.path.name + "*"))


def test_profiles_from_the_config_files(rig: Rig) -> None:
    pane = rig.pane
    assert combo_texts(pane) == [
        "(default)",
        "base",
        "corp-sso (IAM Identity Center)",
        "dr-admin",
        "legacy-sso (IAM Identity Center)",
        "mfa-role (MFA)",
    ]
    assert pane.selected_profile() == "" and not pane.sign_in_button.isEnabled()
    select_profile(pane, "dr-admin")
    assert pane.region_combo.currentText() == "eu-central-1"  # the profile's own region
    assert not pane.sign_in_button.isEnabled()
    select_profile(pane, "corp-sso")
    assert pane.sign_in_button.isEnabled()
    assert pane.secret_edit.echoMode() == QLineEdit.EchoMode.Password
    assert pane.token_edit.echoMode() == QLineEdit.EchoMode.Password


def test_apply_saves_and_reload_shows_the_same(rig: Rig, qtbot: QtBot) -> None:
    pane = rig.pane
    select_profile(pane, "dr-admin")
    pane.region_combo.setEditText("eu-west-2")
    pane.poll_spin.setValue(45)
    pane.demo_check.setChecked(True)
    pane.use_keys_check.setChecked(True)
    with qtbot.waitSignal(pane.settings_applied, timeout=TIMEOUT) as applied:
        qtbot.mouseClick(pane.apply_button, Qt.MouseButton.LeftButton)
    assert pane.status_text() == "Settings saved."
    expected = ConnectionSettings(profile="dr-admin", region="eu-west-2", demo=True, use_typed_keys=True)
    assert applied.args[0].connection == expected
    assert connection.load_connection_settings(rig.db) == expected
    # Scramble the fields, reload: the stored values come back.
    select_profile(pane, "base")
    pane.poll_spin.setValue(5)
    pane.demo_check.setChecked(False)
    pane.load()
    qtbot.waitUntil(lambda: pane.poll_spin.value() == 45, timeout=TIMEOUT)
    assert pane.selected_profile() == "dr-admin" and pane.region_combo.currentText() == "eu-west-2"
    assert pane.demo_check.isChecked() and pane.use_keys_check.isChecked()


def test_a_bad_region_is_refused_with_a_message(rig: Rig, qtbot: QtBot) -> None:
    rig.pane.region_combo.setEditText("Frankfurt")
    rig.pane.apply()
    qtbot.waitUntil(lambda: "not an AWS Region code" in rig.pane.status_text(), timeout=TIMEOUT)
    assert connection.load_connection_settings(rig.db).region == "us-east-1"


def test_typed_keys_go_to_the_keyring_only(
    qtbot: QtBot,
    db: Database,
    tmp_path: Path,
    aws_files: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    keyring = install_memory(monkeypatch)
    with open_pane(qtbot, db, tmp_path) as rig:
        pane = rig.pane
        assert pane.keyring_text().startswith("Access keys are saved in the OS keyring")
        assert pane.keys_text() == "No keys saved for 'default'." and not pane.save_keys_button.isEnabled()
        qtbot.keyClicks(pane.key_id_edit, KEY_ID)
        qtbot.keyClicks(pane.secret_edit, SECRET)
        qtbot.keyClicks(pane.token_edit, TOKEN)
        assert pane.save_keys_button.isEnabled()
        qtbot.mouseClick(pane.save_keys_button, Qt.MouseButton.LeftButton)
        # The pane keeps nothing: the fields are empty at once.
        assert (pane.key_id_edit.text(), pane.secret_edit.text(), pane.token_edit.text()) == ("", "", "")
        qtbot.waitUntil(lambda: pane.status_text() == "Keys saved in the OS keyring.", timeout=TIMEOUT)
        assert pane.keys_text() == "Saved for 'default': …MPLE, with session token (OS keyring)."
        assert isinstance(keyring, MemoryKeyring)
        assert keyring.entries[(SERVICE, "default/secret_access_key")] == SECRET
        assert keyring.entries[(SERVICE, "default/session_token")] == TOKEN
        data = stored_bytes(db)
        for secret in (SECRET, TOKEN, KEY_ID):
            assert secret.encode() not in data
            assert secret not in caplog.text
        qtbot.mouseClick(pane.clear_keys_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: pane.keys_text() == "No keys saved for 'default'.", timeout=TIMEOUT)
        assert keyring.entries == {}


def test_without_a_keyring_the_pane_warns_and_keeps_keys_in_memory(
    qtbot: QtBot, db: Database, tmp_path: Path, aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fail(monkeypatch)
    with open_pane(qtbot, db, tmp_path) as rig:
        pane = rig.pane
        assert pane.keyring_text().startswith("No usable OS keyring")
        assert "in memory" in pane.keyring_text() and pane.keyring_label.styleSheet() != ""
        pane.key_id_edit.setText(KEY_ID)
        pane.secret_edit.setText(SECRET)
        pane.save_keys()
        qtbot.waitUntil(lambda: "memory for this session only" in pane.status_text(), timeout=TIMEOUT)
        assert pane.keys_text() == "Saved for 'default': …MPLE (memory, this session only)."
        assert SECRET.encode() not in stored_bytes(db)


def test_sso_sign_in_shows_the_code_and_completes(rig: Rig, qtbot: QtBot) -> None:
    pane = rig.pane
    select_profile(pane, "corp-sso")
    dialog = pane.sign_in()
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.state() == "signed-in", timeout=TIMEOUT)
    assert dialog.code_text() == aws_stubs.USER_CODE and dialog.uri_text() == aws_stubs.VERIFICATION_URI
    assert "works until" in dialog.message_text()
    dialog.copy_code_button.click()
    assert QApplication.clipboard().text() == aws_stubs.USER_CODE
    assert "Signed in with IAM Identity Center as profile corp-sso" in pane.status_text()
    assert len(list(rig.sso_cache.glob("*.json"))) == 1
    dialog.close_button.click()
    qtbot.waitUntil(lambda: pane.sso_dialog() is None, timeout=TIMEOUT)


@pytest.mark.parametrize("oidc", [aws_stubs.OidcBehaviour(pending=1000, interval=1)])
def test_sso_sign_in_can_be_cancelled(rig: Rig, qtbot: QtBot) -> None:
    pane = rig.pane
    select_profile(pane, "corp-sso")
    dialog = pane.sign_in()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.state() == "waiting", timeout=TIMEOUT)
    assert dialog.code_text() == aws_stubs.USER_CODE
    dialog.cancel_button.click()
    assert dialog.state() == "cancelling" and dialog.isVisible()  # until the worker has stopped
    qtbot.waitUntil(lambda: pane.sso_dialog() is None, timeout=TIMEOUT)
    assert "cancelled" in pane.status_text()  # and the dialog closed (and was deleted)
    assert not rig.sso_cache.exists()


def test_first_run_check_is_relayed_on_the_gui_thread(
    qtbot: QtBot, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_memory(monkeypatch)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with open_pane(qtbot, db, tmp_path) as rig:  # the conftest's AWS config files are empty
        seen: list[bool] = []
        rig.pane.first_run_needed.connect(
            lambda: seen.append(threading.current_thread() is threading.main_thread())
        )
        rig.pane.check_first_run()
        qtbot.waitUntil(lambda: bool(seen), timeout=TIMEOUT)
        assert seen == [True]


@pytest.mark.parametrize("oidc", [aws_stubs.OidcBehaviour(pending=1000, interval=1)])
def test_shutdown_cancels_a_sign_in_that_still_polls(
    qtbot: QtBot,
    db: Database,
    tmp_path: Path,
    aws_files: Path,
    monkeypatch: pytest.MonkeyPatch,
    oidc: aws_stubs.OidcBehaviour,
) -> None:
    install_memory(monkeypatch)
    with aws_stubs.serve(oidc=oidc) as url:

        def service() -> SettingsService:
            return SettingsService(db, SecretStore(), sso_endpoint_url=url, sso_cache_dir=tmp_path / "sso")

        with settings_thread(service) as tasks:
            pane = SettingsPaneWidget()
            qtbot.addWidget(pane)
            pane.connect_tasks(tasks)
            pane.load()
            qtbot.waitUntil(lambda: pane.snapshot() is not None, timeout=TIMEOUT)
            select_profile(pane, "corp-sso")
            dialog = pane.sign_in()
            assert dialog is not None
            qtbot.waitUntil(lambda: dialog.state() == "waiting", timeout=TIMEOUT)
            pane.cancel_sso()  # what DesktopApp.shutdown does, before it stops the thread
            assert tasks.stop(), "the sign-in kept polling: its thread did not stop"
    assert oidc.token_polls < oidc.pending and not (tmp_path / "sso").exists()


def test_malformed_keys_are_refused_in_one_line(rig: Rig, qtbot: QtBot) -> None:
    rig.pane.key_id_edit.setText(KEY_ID)
    rig.pane.secret_edit.setText(" ")
    rig.pane.save_keys()
    qtbot.waitUntil(lambda: "secret access key" in rig.pane.status_text(), timeout=TIMEOUT)
    assert "\n" not in rig.pane.status_text() and rig.pane.status.styleSheet() != ""
    assert rig.pane.keys_text() == "No keys saved for 'default'."


def test_the_first_run_is_offered_until_the_demo_is_chosen(
    qtbot: QtBot, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_memory(monkeypatch)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with open_pane(qtbot, db, tmp_path) as rig:
        needed: list[bool] = []
        rig.pane.first_run_needed.connect(lambda: needed.append(True))
        rig.pane.check_first_run()
        qtbot.waitUntil(lambda: needed == [True], timeout=TIMEOUT)
        with qtbot.waitSignal(rig.pane.settings_applied, timeout=TIMEOUT):
            rig.pane.save_settings(ConnectionSettings(demo=True), 15)
        rig.pane.check_first_run()
        rig.pane.poll_spin.setValue(99)
        rig.pane.load()  # answered after the check (one thread, in order): then the check has been too
        qtbot.waitUntil(lambda: rig.pane.poll_spin.value() == 15, timeout=TIMEOUT)
        assert needed == [True], "demo chosen: not offered again"
