"""The Alerts dialog offscreen, on a real ``aws`` task thread: a webhook added through the password
field (the URL in the keyring, never on screen), an SNS topic added, Test sends to both (a real loopback
webhook and SNS on the simulator) and shows each route's outcome, a failing route shown as failed, and
Remove. The plans pane opens it for a saved plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.alert_routes import RouteKind
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.secrets import SecretStore
from drs_desktop.services.alerts import AlertDesk
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.history import ExecutionHistory
from drs_desktop.services.inventory import InventoryService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.plans.alert_routes_dialog import AlertRoutesDialog
from drs_desktop.workers.pane_tasks import AwsServices, AwsTasks
from drs_desktop.workers.tasks import TaskThread
from tests.alerts.hook_server import HookServer
from tests.secrets.memory_keyring import MemoryKeyring

TOKEN = "s3cr3t-token-XYZ"


@pytest.fixture
def world(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> Iterator[tuple[EmbeddedSimulator, AwsTasks, Database]]:
    with EmbeddedSimulator("small", seed=7) as sim, Database.open(tmp_path / "drs.db") as db:
        save_plan(db, RecoveryPlan(name="Shop", waves=(Wave(name="All", servers=("s-1",)),)))
        target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)

        def aws() -> AwsServices:
            secrets = SecretStore()
            desk = AlertDesk(db, secrets, target=lambda: target, clock=sim.clock.now)
            return AwsServices(
                InventoryService(db, ConnectionResolver(db, secrets)), ExecutionHistory(db), alerts=desk
            )

        tasks: AwsTasks = TaskThread("test-aws", aws, close=AwsServices.close)
        try:
            yield sim, tasks, db
        finally:
            assert tasks.stop(), "the aws thread did not stop"


def cell(dialog: AlertRoutesDialog, row: int, column: int) -> str:
    item = dialog.route_list.topLevelItem(row)
    assert item is not None
    return item.text(column)


def test_add_test_and_remove_routes(
    qtbot: QtBot, world: tuple[EmbeddedSimulator, AwsTasks, Database], hook: HookServer
) -> None:
    sim, tasks, _db = world
    arn = f"arn:aws:sns:{sim.region}:{sim.account_id}:drs-alerts"
    sim.sns.add_topic(arn)
    dialog = AlertRoutesDialog("Shop", tasks)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "No routes yet" in dialog.status.text(), timeout=10_000)

    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(RouteKind.TEAMS))
    assert dialog.target_edit.echoMode() is QLineEdit.EchoMode.Password
    dialog.label_edit.setText("ops channel")
    dialog.target_edit.setText(hook.url())
    dialog.kind_checks[AlertKind.RUN_SUCCEEDED].setChecked(True)
    dialog.add_button.click()
    qtbot.waitUntil(lambda: len(dialog.routes) == 1, timeout=10_000)
    assert dialog.target_edit.text() == ""
    assert cell(dialog, 0, 2) == "URL in the OS keyring"
    assert AlertKind.RUN_SUCCEEDED in dialog.routes[0].kinds

    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(RouteKind.SNS))
    assert dialog.target_edit.echoMode() is QLineEdit.EchoMode.Normal
    dialog.target_edit.setText(arn)
    dialog.add_button.click()
    qtbot.waitUntil(lambda: len(dialog.routes) == 2, timeout=10_000)

    dialog.test_button.click()
    qtbot.waitUntil(lambda: len(dialog.last_results) == 2, timeout=15_000)
    assert [r.delivered for r in dialog.last_results] == [True, True]
    assert "ops channel (teams): delivered: HTTP 200" in dialog.status.text()
    assert hook.received[0].body["attachments"][0]["content"]["body"][0]["text"].startswith("Test alert")
    assert [m.subject for m in sim.sns.published()] == ["Test alert from DRS Desktop for plan Shop"]
    qtbot.waitUntil(lambda: cell(dialog, 0, 4).startswith("delivered at"), timeout=10_000)

    hook.answers.append(500)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "FAILED" in dialog.status.text(), timeout=15_000)
    assert "the webhook answered HTTP 500" in dialog.status.text()
    assert TOKEN not in dialog.status.text()
    for row in range(dialog.route_list.topLevelItemCount()):
        assert all(TOKEN not in cell(dialog, row, col) for col in range(5))

    first = dialog.route_list.topLevelItem(0)
    assert first is not None
    dialog.route_list.setCurrentItem(first)
    dialog.remove_button.click()
    qtbot.waitUntil(lambda: len(dialog.routes) == 1, timeout=10_000)
    assert dialog.routes[0].kind is RouteKind.SNS


def test_a_bad_arn_is_refused_in_the_status_line(
    qtbot: QtBot, world: tuple[EmbeddedSimulator, AwsTasks, Database]
) -> None:
    _sim, tasks, _db = world
    dialog = AlertRoutesDialog("Shop", tasks)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "No routes yet" in dialog.status.text(), timeout=10_000)
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(RouteKind.SNS))
    dialog.target_edit.setText("arn:aws:s3:::bucket")
    dialog.add_button.click()
    qtbot.waitUntil(lambda: "not an SNS topic ARN" in dialog.status.text(), timeout=10_000)
    assert dialog.routes == [] and dialog.add_button.isEnabled()


def test_the_plans_pane_opens_the_dialog_for_a_saved_plan(
    qtbot: QtBot, world: tuple[EmbeddedSimulator, AwsTasks, Database]
) -> None:
    from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
    from tests.ui.pane_tasks import desktop_clock, pane_threads

    _sim, tasks, db = world
    with pane_threads(db) as threads:
        pane = PlansPaneWidget(clock=desktop_clock)
        qtbot.addWidget(pane)
        pane.connect_tasks(threads.local)
        pane.connect_native(tasks)
        assert not pane.alerts_button.isEnabled()
        pane.open_plan("Shop")
        qtbot.waitUntil(lambda: pane.editor.stored_name() == "Shop", timeout=10_000)
        assert pane.alerts_button.isEnabled()
        dialog = pane.show_alerts()
        assert isinstance(dialog, AlertRoutesDialog)
        assert dialog.windowTitle() == "Alerts of 'Shop'"
        qtbot.waitUntil(lambda: "No routes yet" in dialog.status.text(), timeout=10_000)
        dialog.close()


def test_a_label_that_looks_like_html_is_shown_as_typed(
    qtbot: QtBot, world: tuple[EmbeddedSimulator, AwsTasks, Database]
) -> None:
    """A route's label is the operator's text: QLabel's default would render "<b>…</b>" as markup (and
    an <img> or a link), so the status line must show it literally."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import Qt as QtGui  # mightBeRichText: what QLabel's AutoText renders as markup

    sim, tasks, _db = world
    arn = f"arn:aws:sns:{sim.region}:{sim.account_id}:drs-alerts"
    sim.sns.add_topic(arn)
    dialog = AlertRoutesDialog("Shop", tasks)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "No routes yet" in dialog.status.text(), timeout=10_000)
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(RouteKind.SNS))
    dialog.label_edit.setText("<b>ops</b> <img src=x>")
    dialog.target_edit.setText(arn)
    dialog.add_button.click()
    qtbot.waitUntil(lambda: len(dialog.routes) == 1, timeout=10_000)
    assert "Added <b>ops</b> <img src=x>." in dialog.status.text()
    assert QtGui.mightBeRichText(dialog.status.text())
    assert dialog.status.textFormat() is Qt.TextFormat.PlainText
