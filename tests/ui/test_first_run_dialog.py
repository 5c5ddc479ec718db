"""First run: the dialog's two choices, and "Try the demo" end to end as app.py wires it (simulator,
demo setting, sample plan, inventory refresh), on real workers and threads."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from drs_desktop.config import resource_path
from drs_desktop.domain.connection import ConnectionSettings
from drs_desktop.secrets import SecretStore
from drs_desktop.services import connection
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.inventory import InventoryService
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.first_run_dialog import CONFIGURE, DEMO, FirstRunDialog
from drs_desktop.ui.server_table_model import USED_BY
from drs_desktop.ui.servers_pane_widget import ServersPaneWidget
from drs_desktop.workers.inventory_worker import InventoryWorker
from drs_desktop.workers.plans_worker import PlansWorker
from drs_desktop.workers.settings_worker import SettingsWorker
from drs_desktop.workers.thread import WorkerThread
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture, no_env_credentials_fixture  # noqa: F401
from tests.workers.signal_log import SignalLog

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


class Requests(QObject):
    check_first_run = Signal()
    save_settings = Signal(object, int)
    import_file = Signal(str)


def test_first_run_offers_the_demo_and_the_demo_works(
    qtbot: QtBot, db: Database, memory_keyring: object, no_env_credentials: None, tmp_path: Path
) -> None:
    secrets = SecretStore()
    resolver = ConnectionResolver(db, secrets)
    settings_worker = SettingsWorker(SettingsService(db, secrets))
    plans_worker = PlansWorker(PlanLibrary(db))
    inventory_worker = InventoryWorker(InventoryService(db, resolver))
    threads = [
        WorkerThread(settings_worker, "first-run-settings"),
        WorkerThread(plans_worker, "first-run-plans", on_stop=plans_worker.close),
        WorkerThread(inventory_worker, "first-run-inventory", on_stop=inventory_worker.close),
    ]
    requests = Requests()
    requests.check_first_run.connect(settings_worker.check_first_run)
    requests.save_settings.connect(settings_worker.save_settings)
    requests.import_file.connect(plans_worker.import_file)
    settings_log = SignalLog(settings_worker, "first_run_checked", "settings_saved", "failed")
    plans_log = SignalLog(plans_worker, "plan_imported", "failed")
    pane = ServersPaneWidget()
    qtbot.addWidget(pane)
    pane.connect_worker(inventory_worker)
    simulator: EmbeddedSimulator | None = None
    for thread in threads:
        thread.start()
    try:
        # The conftest's AWS config files are empty and there are no keys: the demo is offered.
        requests.check_first_run.emit()
        assert settings_log.wait(qtbot, "first_run_checked") == (True,)
        dialog = FirstRunDialog()
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.demo_button.click()
        assert dialog.choice() == DEMO
        # What app.py does on demo_chosen:
        simulator = EmbeddedSimulator("demo").start()
        resolver.set_demo(simulator.endpoint_url, simulator.region)
        requests.save_settings.emit(ConnectionSettings(region=simulator.region, demo=True), 15)
        requests.import_file.emit(str(resource_path("sample-plan.yaml")))
        settings_log.wait(qtbot, "settings_saved")
        (revision, _warnings) = plans_log.wait(qtbot, "plan_imported")
        assert revision.name == "Payments and orders (sample)"
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
        # Demo mode is remembered: the next start does not offer it again.
        requests.check_first_run.emit()
        assert settings_log.wait(qtbot, "first_run_checked", count=2) == (False,)
    finally:
        for thread in threads:
            assert thread.stop()
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
    worker = SettingsWorker(SettingsService(db, SecretStore()))
    log = SignalLog(worker, "first_run_checked")
    thread = WorkerThread(worker, "first-run-configured")
    requests = Requests()
    requests.check_first_run.connect(worker.check_first_run)
    thread.start()
    try:
        requests.check_first_run.emit()
        assert log.wait(qtbot, "first_run_checked") == (False,)
    finally:
        assert thread.stop()
