"""Settings, Team sync: saved on the settings thread, the table checked and its answer shown in words;
in the whole application, enabling sync and "Sync now" bring a plan saved by another desktop into the
Plans pane. Real widgets and threads, the moto server over HTTP, two desktop homes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop import __version__
from drs_desktop.app import DesktopApp
from drs_desktop.config import AppPaths
from drs_desktop.secrets import SecretStore
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.settings.settings_pane_widget import SettingsPaneWidget
from drs_desktop.ui.settings.sync_settings_widget import SyncSettingsWidget
from tests.sync.conftest import dynamodb
from tests.sync.desktops import TABLE, desktop, init_table, plan
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.iam_emulator import iam_dynamodb, user_allowed
from tests.ui.pane_tasks import settings_thread

TIMEOUT = 20_000

__all__ = ["dynamodb", "iam_dynamodb"]  # the moto server fixtures (tests/sync), used by name


def _fill(section: SyncSettingsWidget, endpoint: str, *, enabled: bool, profile: str = "") -> None:
    section.table_edit.setText(TABLE)
    section.region_combo.setEditText(REGION)
    section.endpoint_edit.setText(endpoint)
    section.profile_combo.setEditText(profile or section.profile_combo.itemText(0))
    section.enable_check.setChecked(enabled)


def _save(qtbot: QtBot, section: SyncSettingsWidget) -> str:
    with qtbot.waitSignal(section.saved, timeout=TIMEOUT, raising=False):
        qtbot.mouseClick(section.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: section.save_button.isEnabled(), timeout=TIMEOUT)
    return section.check_text()


@contextmanager
def _section(qtbot: QtBot, db: Database) -> Iterator[SyncSettingsWidget]:
    with settings_thread(lambda: SettingsService(db, SecretStore())) as tasks:
        pane = SettingsPaneWidget()
        qtbot.addWidget(pane)
        pane.connect_tasks(tasks)
        pane.load()
        section = pane.sync_section
        qtbot.waitUntil(lambda: section.settings() is not None, timeout=TIMEOUT)
        yield section


def test_enabling_sync_and_sync_now_bring_the_other_desktops_plans(
    qtbot: QtBot, tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    init_table(dynamodb)
    other = desktop(tmp_path, "b", dynamodb)
    save_plan(other.db, plan("Payroll", "s-9"))
    other.service.sync_now()
    app = DesktopApp(AppPaths(tmp_path / "home"))
    try:
        window = app.build()
        qtbot.addWidget(window)
        window.show()
        assert app.settings_pane is not None and app.plans_pane is not None
        section, plans, status = app.settings_pane.sync_section, app.plans_pane, app.sync_status
        qtbot.waitUntil(
            lambda: section.settings() is not None and status.text() == "Sync: off", timeout=TIMEOUT
        )
        assert not section.sync_now_button.isEnabled()  # no table yet

        _fill(section, dynamodb.endpoint_url, enabled=False)
        said = _save(qtbot, section)
        assert said.startswith("Saved (background sync off). team-sync is a DRS Desktop sync table"), said
        assert status.text() == "Sync: off" and section.sync_now_button.isEnabled()

        # "Sync now" with the switch off: one round, as `drs-desktop sync now`.
        qtbot.mouseClick(section.sync_now_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: plans.plan_names() == ["Payroll"], timeout=TIMEOUT)

        section.enable_check.setChecked(True)
        said = _save(qtbot, section)
        assert said.startswith("Saved (background sync on)."), said
        qtbot.waitUntil(
            lambda: bool(re.match(r"^Sync: up to date · \d\d:\d\d UTC$", status.text())), timeout=TIMEOUT
        )
        assert section.status_label.text() == status.text()  # the section shows the same line
        assert app.sync_worker.timer.isActive()

        save_plan(other.db, plan("Shop", "s-8"))
        other.service.sync_now()
        qtbot.mouseClick(section.sync_now_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: plans.plan_names() == ["Payroll", "Shop"], timeout=TIMEOUT)
    finally:
        app.shutdown()
        other.db.close()


def test_the_table_check_is_said_in_words(qtbot: QtBot, tmp_path: Path, dynamodb: DynamoDbEmulator) -> None:
    with Database.open(tmp_path / "a.sqlite3") as db, _section(qtbot, db) as section:
        _fill(section, "http://example.com:8000", enabled=True)
        said = _save(qtbot, section)
        assert said.startswith("Not saved: endpoint http://example.com:8000 is plain http"), said
        assert (stored := section.settings()) is not None and stored.table == ""  # nothing stored

        _fill(section, dynamodb.endpoint_url, enabled=True)
        said = _save(qtbot, section)
        assert said.startswith(
            "Saved (background sync on), but the table check failed: There is no DynamoDB"
        ), said

        dynamodb.client().create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        said = _save(qtbot, section)
        assert "is not set up as a DRS Desktop sync table" in said and "drs-desktop sync init" in said, said

        init_table(dynamodb)  # writes the header where it is missing
        dynamodb.client().update_item(
            TableName=TABLE,
            Key={"pk": {"S": "META"}, "sk": {"S": "TABLE"}},
            UpdateExpression="SET min_app_version = :v",
            ExpressionAttributeValues={":v": {"S": "99.0.0"}},
        )
        said = _save(qtbot, section)
        assert f"needs DRS Desktop 99.0.0 or newer to write; this is {__version__}" in said, said


def test_an_iam_action_missing_is_named(
    qtbot: QtBot, tmp_path: Path, iam_dynamodb: DynamoDbEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = user_allowed(iam_dynamodb, "nobody", ["dynamodb:ListTables"])
    credentials, config = tmp_path / "credentials", tmp_path / "config"
    credentials.write_text(
        f"[nobody]\naws_access_key_id = {keys.access_key_id}\n"
        f"aws_secret_access_key = {keys.secret_access_key}\n"
    )
    config.write_text(f"[profile nobody]\nregion = {REGION}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with Database.open(tmp_path / "a.sqlite3") as db, _section(qtbot, db) as section:
        _fill(section, iam_dynamodb.endpoint_url, enabled=False, profile="nobody")
        said = _save(qtbot, section)
        assert (
            "Access denied: the identity lacks dynamodb:DescribeTable on the sync table team-sync" in said
        ), said
        assert (stored := section.settings()) is not None and stored.profile == "nobody"
