"""First run: the dialog's two choices, and "Try the demo" end to end as app.py wires it (simulator,
demo setting, sample plan, inventory refresh), on the panes' real task threads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.config import resource_path
from drs_desktop.domain.connection import ConnectionSettings
from drs_desktop.secrets import SecretStore
from drs_desktop.services import connection
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
from drs_desktop.ui.servers.server_table_model import USED_BY
from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget
from drs_desktop.ui.settings.first_run_dialog import CONFIGURE, DEMO, FirstRunDialog
from drs_desktop.ui.settings.settings_pane_widget import SettingsPaneWidget
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture, no_env_credentials_fixture  # noqa: F401
from tests.ui.pane_tasks import desktop_clock, pane_threads, settings_thread

TIMEOUT = 15_000


def test_try_the_demo(qtbot: QtBot) -> None:
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert "No AWS configuration found" in dialog.intro.text()
    with qtbot.waitSignal(dialog.demo_chosen, timeout=1000):
        dialog.demo_button.click()
    assert dialog.choice() == DEMO and dialog.result() == FirstRunDialog.DialogCode.Accepted


def test_configure_aws(qtbot: QtBot) -> None:
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.configure_chosen, timeout=1000):
        dialog.configure_button.click()
    assert dialog.choice() == CONFIGURE


def test_first_run_offers_the_demo_and_the_demo_works(
    qtbot: QtBot, db: Database, memory_keyring: object, no_env_credentials: None, tmp_path: Path
) -> None:
    secrets = SecretStore()
    resolver = ConnectionResolver(db, secrets)
    simulator: EmbeddedSimulator | None = None
    with (
        pane_threads(db, resolver) as threads,
        settings_thread(lambda: SettingsService(db, secrets)) as tasks,
    ):
        settings_pane = SettingsPaneWidget()
        plans_pane = PlansPaneWidget(clock=desktop_clock)
        pane = ServersPaneWidget(clock=desktop_clock)
        for widget in (settings_pane, plans_pane, pane):
            qtbot.addWidget(widget)
        settings_pane.connect_tasks(tasks)
        plans_pane.connect_tasks(threads.local)
        pane.connect_tasks(threads.local, threads.aws)
        offered: list[bool] = []
        settings_pane.first_run_needed.connect(lambda: offered.append(True))
        try:
            # The conftest's AWS config files are empty and there are no keys: the demo is offered.
            settings_pane.check_first_run()
            qtbot.waitUntil(lambda: offered == [True], timeout=TIMEOUT)
            dialog = FirstRunDialog()
            qtbot.addWidget(dialog)
            dialog.show()
            dialog.demo_button.click()
            assert dialog.choice() == DEMO
            # What app.py does on demo_chosen (DesktopApp._start_demo):
            simulator = EmbeddedSimulator("demo").start()
            resolver.set_demo(simulator.endpoint_url, simulator.region)
            with qtbot.waitSignal(settings_pane.settings_applied, timeout=TIMEOUT):
                settings_pane.save_settings(ConnectionSettings(region=simulator.region, demo=True), 15)
            plans_pane.import_file(resource_path("sample-plan.yaml"))
            sample = "Payments and orders (sample)"
            qtbot.waitUntil(lambda: plans_pane.editor.stored_name() == sample, timeout=TIMEOUT)
            assert plans_pane.status_text().startswith(f"Opened {sample!r} revision 1")
            pane.refresh()
            qtbot.waitUntil(lambda: not pane.is_busy(), timeout=TIMEOUT)
            assert pane.model.rowCount() == 60, pane.banner_text()
            rows = {pane.model.server_at(r).hostname: r for r in range(pane.model.rowCount())}
            qtbot.waitUntil(
                lambda: pane.model.data(pane.model.index(rows["pay-db-01"], USED_BY)) != "", timeout=TIMEOUT
            )
            assert pane.model.data(pane.model.index(rows["pay-db-01"], USED_BY)) == (
                "Payments and orders (sample) (groups: payments-db)"
            )
            assert pane.model.data(pane.model.index(rows["hr-db-01"], USED_BY)) == ""
            assert connection.load_connection_settings(db).demo is True
            # Demo mode is remembered: the next start does not offer it again (the load after the
            # check is answered after it, on the same thread).
            settings_pane.check_first_run()
            settings_pane.poll_spin.setValue(99)
            settings_pane.load()
            qtbot.waitUntil(lambda: settings_pane.poll_spin.value() == 15, timeout=TIMEOUT)
            assert offered == [True]
        finally:
            if simulator is not None:
                simulator.stop()


def test_no_dialog_when_aws_is_configured(
    qtbot: QtBot,
    db: Database,
    memory_keyring: object,
    no_env_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "ops")  # credentials from the environment count
    with settings_thread(lambda: SettingsService(db, SecretStore())) as tasks:
        answers: list[bool] = []
        tasks.run_task(lambda service: service.first_run_needed(), answers.append)
        qtbot.waitUntil(lambda: bool(answers), timeout=TIMEOUT)
        assert answers == [False]
