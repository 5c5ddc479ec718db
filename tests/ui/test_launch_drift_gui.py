"""Launch settings drift in real widgets (offscreen) against the simulator: the Servers view's column,
the dashboard card's line and the plan's launch settings dialog, read through the ``aws`` task thread.

An out-of-band change (a new default template version made with boto3 behind the app's back) shows as
drift after the next reading; accepting it in the dialog saves a revision whose reading shows the server
as desired; and while DRS is slow to answer, the GUI thread keeps running its events.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.views.launch_drift import DriftState, LaunchDrift
from drs_desktop.secrets import SecretStore
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.history import ExecutionHistory
from drs_desktop.services.inventory import InventoryService
from drs_desktop.services.launch_drift import LaunchDriftService
from drs_desktop.services.readiness import ReadinessService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import plans as plan_store
from drs_desktop.ui.dashboard.dashboard_pane_widget import DashboardPaneWidget
from drs_desktop.ui.plans.launch_settings_dialog import SERVER_ROLE, LaunchSettingsDialog
from drs_desktop.ui.servers.server_table_model import LAUNCH
from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget
from drs_desktop.workers.launch_drift_watch import LaunchDriftWatch
from drs_desktop.workers.pane_tasks import AwsServices, AwsTasks, ReadinessTasks
from drs_desktop.workers.tasks import TaskThread
from tests.launch_sim.drift_world import DriftWorld, drift_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[DriftWorld, AwsTasks]]:
    """The drift world and an ``aws`` task thread built as app.py builds it, with the launch service."""
    with EmbeddedSimulator("small", seed=7) as sim:
        built = drift_world(sim, tmp_path)
        db, target, clock = built.db, built.target, sim.clock.now

        def aws() -> AwsServices:
            launch = LaunchDriftService(
                db, lambda: DrsGateway(target), lambda: Ec2Gateway(target), clock=clock
            )
            inventory = InventoryService(db, ConnectionResolver(db, SecretStore()))
            return AwsServices(inventory, ExecutionHistory(db), launch=launch)

        tasks: AwsTasks = TaskThread("test-aws", aws, close=AwsServices.close)
        try:
            yield built, tasks
        finally:
            assert tasks.stop(), "the aws thread did not stop"
            db.close()


def _read(qtbot: QtBot, watch: LaunchDriftWatch) -> LaunchDrift:
    with qtbot.waitSignal(watch.drift_read, timeout=15_000) as signal:
        watch.read()
    drift = signal.args[0]
    assert isinstance(drift, LaunchDrift)
    return drift


def test_an_out_of_band_change_shows_in_the_servers_column_and_on_the_dashboard_card(
    qtbot: QtBot, world: tuple[DriftWorld, AwsTasks]
) -> None:
    w, tasks = world
    clock = w.sim.clock.now
    servers = ServersPaneWidget(clock=clock)
    qtbot.addWidget(servers)
    servers.set_inventory(w.inventory)
    watch = LaunchDriftWatch()
    watch.connect_tasks(tasks)
    watch.drift_read.connect(servers.set_launch_drift)
    readiness: ReadinessTasks = TaskThread(
        "test-readiness", lambda: ReadinessService(w.db, clock=clock), close=ReadinessService.close
    )
    try:
        dashboard = DashboardPaneWidget(clock=clock)
        qtbot.addWidget(dashboard)
        dashboard.connect_tasks(readiness)
        watch.drift_read.connect(dashboard.set_launch_drift)
        with qtbot.waitSignal(dashboard.loaded, timeout=15_000):
            dashboard.reload()
        card = dashboard.card("Shop")
        assert card is not None
        assert card.launch.text() == "launch settings: not read yet"

        def column(server_id: str) -> str:
            return str(servers.model.data(servers.model.index(servers.model.row_of(server_id), LAUNCH)))

        assert column(w.web1) == ""  # nothing read yet: the column claims nothing
        first = _read(qtbot, watch)
        assert first.read_at is not None
        assert column(w.web1) == "as desired"
        assert "all 2 server(s) as desired" in card.launch.text()
        assert servers.launch_stamp.text().startswith("Launch settings read ")
        other = next(
            s.source_server_id for s in w.inventory.servers if s.source_server_id not in (w.web1, w.web2)
        )
        assert column(other) == "no desired state"

        new_type = w.change_instance_type_behind_the_apps_back()
        _read(qtbot, watch)

        assert column(w.web1) == "1 field(s) drifted"
        tip = servers.model.data(servers.model.index(servers.model.row_of(w.web1), LAUNCH), 3)
        assert f"instance_type: {new_type} (now) -> {w.instance_type} (desired)" in tip
        assert column(w.web2) == "as desired"
        assert card.launch.text().startswith("launch settings: 1 server drifted (read ")
        assert "font-weight:bold" in card.launch.styleSheet()
        dashboard_card = dashboard.card("Bare")
        assert dashboard_card is not None and dashboard_card.launch.text() == "launch settings: none desired"
    finally:
        assert readiness.stop(), "the readiness thread did not stop"


def test_the_gui_thread_keeps_running_while_drs_is_slow_to_answer(
    qtbot: QtBot, world: tuple[DriftWorld, AwsTasks]
) -> None:
    w, tasks = world
    w.sim.faults.latency("GetLaunchConfiguration", seconds=1.0)
    watch = LaunchDriftWatch()
    watch.connect_tasks(tasks)
    ticks: list[bool] = []
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: ticks.append(watch.is_busy()))
    timer.start()
    try:
        with qtbot.waitSignal(watch.drift_read, timeout=20_000):
            watch.read()
            assert watch.is_busy() and watch.latest() is None  # asked, not answered: read() did not wait
    finally:
        timer.stop()
    # the timer ran on the GUI thread many times while the reading waited for DRS
    assert sum(ticks) >= 5, ticks
    assert watch.latest() is not None and not watch.is_busy()


def test_the_dialog_lists_fields_now_and_desired_and_accept_writes_a_revision_without_drift(
    qtbot: QtBot, world: tuple[DriftWorld, AwsTasks]
) -> None:
    w, tasks = world
    new_type = w.change_instance_type_behind_the_apps_back()
    dialog = LaunchSettingsDialog("Shop", clock=w.sim.clock.now)
    qtbot.addWidget(dialog)
    dialog.connect_tasks(tasks)
    dialog.read()
    qtbot.waitUntil(lambda: dialog.drift() is not None, timeout=15_000)
    drift = dialog.drift()
    assert drift is not None and drift.revision == 1
    assert dialog.summary.text() == "Launch settings: 1 server drifted"
    assert dialog.stamp.text().startswith("Read ")
    tops = [dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())]
    items = [item for item in tops if item is not None]
    web1 = next(item for item in items if item.data(0, SERVER_ROLE) == w.web1)
    assert web1.text(1) == "1 field(s) drifted"
    assert web1.isExpanded()  # a drifted server shows its fields at once
    change = web1.child(0)
    assert change is not None
    assert [change.text(c) for c in range(3)] == ["instance_type", new_type, w.instance_type]
    assert change.text(3) == "plan defaults"
    assert dialog.apply_button.isEnabled()
    box = dialog.show_apply()
    assert "drs-desktop launch-settings apply Shop --yes" in box.text()
    box.close()

    dialog.tree.setCurrentItem(web1)
    assert dialog.accept_button.isEnabled()
    with qtbot.waitSignal(dialog.plan_saved, timeout=15_000) as saved:
        dialog.accept_selected()
    assert saved.args == [2]
    qtbot.waitUntil(lambda: (d := dialog.drift()) is not None and d.revision == 2, timeout=15_000)
    after = dialog.drift()
    assert after is not None
    server = after.server(w.web1)
    assert server is not None and server.state is DriftState.AS_DESIRED
    assert not after.drifted
    assert "Saved revision 2: instance_type" in dialog.status.text()
    stored = plan_store.load_plan(w.db, "Shop")
    assert stored.revision.revision == 2
    assert stored.plan.launch_settings.overrides[0].settings.instance_type == new_type


def test_apply_in_the_dialog_asks_then_applies_through_the_journal_and_the_drift_is_gone(
    qtbot: QtBot, world: tuple[DriftWorld, AwsTasks]
) -> None:
    w, tasks = world
    w.change_instance_type_behind_the_apps_back()
    dialog = LaunchSettingsDialog("Shop", clock=w.sim.clock.now)
    qtbot.addWidget(dialog)
    dialog.connect_tasks(tasks)
    dialog.read()
    qtbot.waitUntil(lambda: dialog.drift() is not None, timeout=15_000)
    box = dialog.show_apply()
    assert "1 drifted server(s)" in box.text() and "journaled" in box.text()
    yes = box.button(QMessageBox.StandardButton.Yes)
    assert yes is not None
    seen: list[str] = []
    original = dialog._applying  # record each progress line the GUI thread shows

    def recording(step: object) -> None:
        original(step)  # type: ignore[arg-type]
        seen.append(dialog.status.text())

    dialog._applying = recording  # type: ignore[method-assign]
    yes.click()  # the operator confirms: applied on the aws thread, then read again
    qtbot.waitUntil(lambda: "verified" in dialog.status.text(), timeout=30_000)
    assert seen and all("server(s) done" in line for line in seen), seen
    assert dialog.status.text().startswith("Apply ") and "1 verified" in dialog.status.text()
    qtbot.waitUntil(lambda: (d := dialog.drift()) is not None and not d.drifted, timeout=15_000)
    after = dialog.drift()
    assert after is not None and after.revision == 1  # applying changes DRS and EC2, not the plan
    server = after.server(w.web1)
    assert server is not None and server.state is DriftState.AS_DESIRED
