"""Demo and AWS never switch silently: the whole application (DesktopApp) with its real panes, task
threads and the embedded simulator; Settings shows where the application is, Apply of an unrelated setting
moves nothing, and a change of target asks first, naming both, in their colours."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drs_desktop.app import DesktopApp
from drs_desktop.config import AppPaths
from drs_desktop.domain.targets import DEMO_LABEL, Target
from drs_desktop.secrets import SecretStore
from drs_desktop.services import connection
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.storage.db import Database
from drs_desktop.ui.settings.first_run_dialog import FirstRunDialog
from drs_desktop.ui.settings.settings_pane_widget import SettingsPaneWidget
from drs_desktop.ui.settings.target_switch_dialog import TargetSwitchDialog
from drs_desktop.ui.target_badge import target_colour
from tests.services.settings_fixtures import (  # noqa: F401
    db_fixture,
    memory_keyring_fixture,
    no_env_credentials_fixture,
)
from tests.ui.pane_tasks import settings_thread

TIMEOUT = 15_000


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, no_env_credentials: None, memory_keyring: object) -> None:
    """No credentials anywhere and no instance metadata: an AWS call fails at once, never reaches AWS."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _stored(desktop: DesktopApp) -> connection.ConnectionSettings:
    assert desktop.db is not None
    return connection.load_connection_settings(desktop.db)


@pytest.fixture
def demo_app(qtbot: QtBot, tmp_path: Path, no_aws: None) -> Iterator[DesktopApp]:
    """``drs-desktop --demo`` on a home whose stored settings say AWS (demo off, profile-less, eu-west-1)."""
    home = tmp_path / "home"
    with Database.open(home / "drs-desktop.sqlite3") as db:
        connection.save_settings(db, connection.ConnectionSettings(region="eu-west-1"), 30)
    desktop = DesktopApp(AppPaths(home), demo=True)
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        window.show()
        pane = settings_pane(desktop)
        qtbot.waitUntil(lambda: pane.snapshot() is not None, timeout=TIMEOUT)
        yield desktop
    finally:
        desktop.shutdown()


def settings_pane(desktop: DesktopApp) -> SettingsPaneWidget:
    assert desktop.settings_pane is not None
    return desktop.settings_pane


def open_switch_dialog(qtbot: QtBot, pane: SettingsPaneWidget) -> TargetSwitchDialog:
    return open_switch_dialog_with(qtbot, pane, pane.apply_button.click)


def open_switch_dialog_with(
    qtbot: QtBot, pane: SettingsPaneWidget, press: Callable[[], None]
) -> TargetSwitchDialog:
    press()
    qtbot.waitUntil(lambda: pane.switch_dialog() is not None and pane.switch_dialog().isVisible())  # type: ignore[union-attr]
    dialog = pane.switch_dialog()
    assert dialog is not None
    return dialog


def test_a_demo_session_shows_demo_mode_and_the_demo_badge(demo_app: DesktopApp, tmp_path: Path) -> None:
    pane = settings_pane(demo_app)
    window = demo_app.window
    assert window is not None and demo_app.simulator is not None
    # The stored setting says AWS; the application runs the simulator: Settings shows the truth.
    assert _stored(demo_app).demo is False
    assert pane.demo_check.isChecked()
    assert pane.running_badge.texts() == [f"{DEMO_LABEL} · {demo_app.simulator.region}"]
    assert window.target_texts() == [f"{DEMO_LABEL} · {demo_app.simulator.region}"]
    assert DEMO_LABEL in window.windowTitle()
    window.resize(1100, 700)
    window.statusBar().grab().save(str(tmp_path / "status-demo.png"))


def test_apply_of_an_unrelated_setting_stays_in_the_demo_without_asking(
    qtbot: QtBot, demo_app: DesktopApp
) -> None:
    pane = settings_pane(demo_app)
    sim = demo_app.simulator
    assert sim is not None
    pane.poll_spin.setValue(45)
    with qtbot.waitSignal(pane.settings_applied, timeout=TIMEOUT):
        pane.apply_button.click()
    assert pane.switch_dialog() is None, "a poll interval moves nothing: no question"
    assert _stored(demo_app).demo is False, "the stored choice is kept (a --demo start is not remembered)"
    assert connection.load_connection_settings(demo_app.db).region == "eu-west-1"  # type: ignore[arg-type]
    assert demo_app.resolver.demo_endpoint == sim.endpoint_url, "still the simulator"
    assert demo_app.clock.simulated
    assert pane.demo_check.isChecked()
    assert demo_app.window is not None and demo_app.window.target_texts()[0].startswith(DEMO_LABEL)


def test_turning_the_demo_off_asks_first_and_cancel_changes_nothing(
    qtbot: QtBot, demo_app: DesktopApp, tmp_path: Path
) -> None:
    pane = settings_pane(demo_app)
    sim = demo_app.simulator
    assert sim is not None
    pane.demo_check.setChecked(False)
    pane.poll_spin.setValue(50)
    dialog = open_switch_dialog(qtbot, pane)
    text = dialog.question.text()
    assert "from the built-in DRS simulator" in text and "to AWS (the default profile, eu-west-1)" in text
    assert dialog.from_badge.texts()[0].startswith(DEMO_LABEL)
    assert dialog.to_badge.texts() == ["account ? · eu-west-1 · default profile"]
    assert dialog.cancel_button.isDefault(), "Enter by habit must not switch"
    dialog.grab().save(str(tmp_path / "switch-dialog.png"))
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: pane.switch_dialog() is None)
    assert pane.status_text().startswith("Not applied: still on DEMO")
    assert demo_app.resolver.demo_endpoint == sim.endpoint_url
    assert demo_app.clock.simulated
    assert demo_app.db is not None
    assert connection.settings_snapshot(demo_app.db, demo_app.secrets).poll_interval_seconds == 30


def test_turning_the_demo_off_switches_to_aws_once_confirmed(qtbot: QtBot, demo_app: DesktopApp) -> None:
    pane = settings_pane(demo_app)
    window = demo_app.window
    assert window is not None
    pane.demo_check.setChecked(False)
    dialog = open_switch_dialog(qtbot, pane)
    with qtbot.waitSignal(pane.target_switch_confirmed, timeout=TIMEOUT) as switched:
        dialog.switch_button.click()
    assert switched.args == [Target(region="eu-west-1")]
    assert demo_app.resolver.demo_endpoint is None, "AWS from now on"
    assert not demo_app.clock.simulated, "and the real clock"
    assert window.target_texts() == ["account ? · eu-west-1 · default profile"]
    assert not pane.demo_check.isChecked()
    assert _stored(demo_app).demo is False


def test_a_switch_is_refused_while_the_blocker_says_so(qtbot: QtBot, demo_app: DesktopApp) -> None:
    pane = settings_pane(demo_app)
    pane.set_switch_blocker(lambda: "1 run(s) in progress; switch once they have ended")
    pane.demo_check.setChecked(False)
    pane.apply_button.click()
    assert pane.switch_dialog() is None
    assert pane.status_text() == "Not applied: 1 run(s) in progress; switch once they have ended"
    assert demo_app.resolver.demo_endpoint is not None


def test_from_aws_a_region_change_asks_and_the_demo_switch_reaches_the_simulator(
    qtbot: QtBot, tmp_path: Path, no_aws: None
) -> None:
    desktop = DesktopApp(AppPaths(tmp_path / "home"))
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        window.show()
        pane = settings_pane(desktop)
        qtbot.waitUntil(lambda: pane.snapshot() is not None, timeout=TIMEOUT)
        for dialog in QApplication.topLevelWidgets():  # no AWS configuration: the first-run offer
            if isinstance(dialog, FirstRunDialog):
                dialog.reject()
        assert not pane.demo_check.isChecked()
        assert window.target_texts() == ["account ? · us-east-1 · default profile"]
        # A Region is another target: asked, and Cancel keeps us-east-1.
        pane.region_combo.setEditText("eu-central-1")
        dialog = open_switch_dialog(qtbot, pane)
        assert "to AWS (the default profile, eu-central-1)" in dialog.question.text()
        dialog.cancel_button.click()
        qtbot.waitUntil(lambda: pane.switch_dialog() is None)
        assert _stored(desktop).region == "us-east-1"
        # Demo on: asked, then the simulator answers every pane.
        pane.region_combo.setEditText("us-east-1")
        pane.demo_check.setChecked(True)
        dialog = open_switch_dialog(qtbot, pane)
        assert "to the built-in DRS simulator" in dialog.question.text()
        with qtbot.waitSignal(pane.target_switch_confirmed, timeout=TIMEOUT):
            dialog.switch_button.click()
        sim = desktop.simulator
        assert sim is not None and desktop.resolver.demo_endpoint == sim.endpoint_url
        assert desktop.clock.simulated
        assert window.target_texts() == [f"{DEMO_LABEL} · {sim.region}"]
        assert _stored(desktop).demo is True, "turned on by the operator: remembered"
        servers = window.pane("servers")
        # A refresh of AWS may still be under way at the switch: the simulator's servers come after it.
        qtbot.waitUntil(lambda: servers.model.rowCount() > 0, timeout=TIMEOUT)  # type: ignore[attr-defined]
    finally:
        desktop.shutdown()


def test_new_keys_for_the_keys_in_force_ask_first(qtbot: QtBot, db: Database, memory_keyring: object) -> None:
    """Typed keys that replace the ones the application signs in with may be another account's."""
    with settings_thread(lambda: SettingsService(db, SecretStore())) as tasks:
        pane = SettingsPaneWidget()
        qtbot.addWidget(pane)
        pane.connect_tasks(tasks)
        pane.show()
        pane.load()
        qtbot.waitUntil(lambda: pane.snapshot() is not None, timeout=TIMEOUT)
        running = Target(account="111111111111", region="us-east-1", typed_keys=True)
        pane.set_running_target(running)

        def type_keys() -> None:
            pane.key_id_edit.setText("AKIAIOSFODNN7EXAMPLE")
            pane.secret_edit.setText("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

        type_keys()
        open_switch_dialog_with(qtbot, pane, pane.save_keys_button.click).cancel_button.click()
        qtbot.waitUntil(lambda: pane.switch_dialog() is None)
        assert pane.status_text() == "Keys not saved: type them again to use them."
        assert pane.key_id_edit.text() == "" and pane.secret_edit.text() == "", "the pane keeps no secret"
        assert SecretStore().load_keys("default") is None
        type_keys()
        dialog = open_switch_dialog_with(qtbot, pane, pane.save_keys_button.click)
        assert "may belong to another AWS account" in dialog.question.text()
        with qtbot.waitSignal(pane.target_switch_confirmed, timeout=TIMEOUT) as switched:
            dialog.switch_button.click()
        assert switched.args == [Target(region="us-east-1", typed_keys=True)]
        assert SecretStore().load_keys("default") is not None
        # Keys for a profile not in force change no target: saved without a question.
        pane.set_running_target(Target(account="111111111111", region="us-east-1"))
        type_keys()
        pane.save_keys_button.click()
        assert pane.switch_dialog() is None
        qtbot.waitUntil(lambda: pane.status_text() != "Saving the keys…", timeout=TIMEOUT)


def test_target_colours_are_stable_distinct_and_demo_is_its_own() -> None:
    demo = Target(demo=True, region="us-east-1")
    prod = Target(account="111111111111", region="us-east-1", profile="prod")
    dr = Target(account="222222222222", region="us-west-2", profile="dr")
    assert Target(demo=True, region="eu-west-1").hue == demo.hue, "one DEMO colour whatever the region"
    assert prod.hue == Target(account="111111111111", region="us-east-1", profile="prod").hue
    colours = {target_colour(t).name() for t in (demo, prod, dr)}
    assert len(colours) == 3
    for target in (prod, dr):
        assert min(abs(target.hue - demo.hue), 360 - abs(target.hue - demo.hue)) >= 50
