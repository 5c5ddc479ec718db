"""ServersPaneWidget on its real task threads (cache on ``local``, refresh on ``aws``), against the simulator
over loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.targets import Target
from drs_desktop.secrets import SecretStore
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database
from drs_desktop.storage.inventory import save_inventory
from drs_desktop.ui.servers.server_table_model import USED_BY
from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture, small_simulator_fixture  # noqa: F401
from tests.ui.pane_tasks import pane_threads

TIMEOUT = 10_000
STAMP = "As of 2026-01-05 08:00 UTC (account 123456789012, us-east-1)"


def dead_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class Rig:
    pane: ServersPaneWidget
    resolver: ConnectionResolver
    db: Database


@pytest.fixture
def rig(
    qtbot: QtBot, db: Database, memory_keyring: object, small_simulator: EmbeddedSimulator
) -> Iterator[Rig]:
    resolver = ConnectionResolver(
        db, SecretStore(), demo_endpoint=small_simulator.endpoint_url, demo_region="us-east-1"
    )
    with pane_threads(
        db, resolver, inventory_gateways=lambda t: DrsGateway(t, read_max_attempts=1)
    ) as threads:
        pane = ServersPaneWidget(clock=small_simulator.clock.now)
        qtbot.addWidget(pane)
        pane.connect_tasks(threads.local, threads.aws)
        pane.resize(1400, 700)
        pane.show()
        qtbot.waitExposed(pane)
        yield Rig(pane, resolver, db)


def refresh(rig: Rig, qtbot: QtBot) -> None:
    qtbot.mouseClick(rig.pane.refresh_button, Qt.MouseButton.LeftButton)
    assert rig.pane.is_busy() and not rig.pane.refresh_button.isEnabled() and rig.pane.busy_bar.isVisible()
    qtbot.waitUntil(lambda: not rig.pane.is_busy(), timeout=TIMEOUT)


def hostnames(pane: ServersPaneWidget) -> list[str]:
    return sorted(pane.proxy.data(pane.proxy.index(row, 0)) for row in range(pane.proxy.rowCount()))


def test_refresh_fills_the_table_with_a_stamp(
    rig: Rig, qtbot: QtBot, small_simulator: EmbeddedSimulator
) -> None:
    pane = rig.pane
    assert pane.stamp_text().startswith("No inventory yet")
    with qtbot.waitSignal(pane.inventory_refreshed, timeout=TIMEOUT) as refreshed:
        refresh(rig, qtbot)
    assert refreshed.args[0].account_id == "123456789012"
    assert pane.model.rowCount() == 10 and pane.count_label.text() == "10 servers"
    # Stamped on DRS's clock (its answer's Date), here the simulator's manual clock, not the desktop's.
    drs_now = small_simulator.clock.now().strftime("%Y-%m-%d %H:%M")
    assert (
        pane.stamp_text().startswith(f"As of {drs_now} UTC")
        and "(account 123456789012, us-east-1)" in pane.stamp_text()
    )
    assert pane.progress_text() == "Refreshed: 10 servers"
    assert pane.refresh_button.isEnabled() and not pane.busy_bar.isVisible()
    assert pane.banner_text() == "" and not pane.is_offline()
    states = [pane.state_combo.itemText(i) for i in range(pane.state_combo.count())]
    assert states == ["All replication states", "CONTINUOUS", "DISCONNECTED", "INITIATING", "STALLED"]


def test_search_and_filters_from_the_widgets(rig: Rig, qtbot: QtBot) -> None:
    refresh(rig, qtbot)
    pane = rig.pane
    qtbot.keyClicks(pane.search_edit, "legacy")
    assert hostnames(pane) == ["legacy-fax"] and pane.count_label.text() == "1 of 10 servers"
    pane.search_edit.clear()
    pane.state_combo.setCurrentIndex(pane.state_combo.findData("INITIATING"))
    assert hostnames(pane) == ["new-build"]
    pane.state_combo.setCurrentIndex(0)
    pane.os_combo.setCurrentIndex(pane.os_combo.findData("Windows"))
    assert hostnames(pane) == ["crm-app-01", "crm-web-01", "legacy-fax", "shop-db-01"]
    qtbot.keyClicks(pane.tag_edit, "Tier=db")
    assert hostnames(pane) == ["legacy-fax", "shop-db-01"]
    pane.os_combo.setCurrentIndex(0)
    pane.tag_edit.setText("Application=shop, Tier=web")
    assert hostnames(pane) == ["shop-web-01", "shop-web-02"]
    # A refresh keeps the operator's filters and the rows in place.
    refresh(rig, qtbot)
    assert hostnames(pane) == ["shop-web-01", "shop-web-02"]


def test_failed_refresh_with_a_cache_goes_offline(rig: Rig, qtbot: QtBot) -> None:
    refresh(rig, qtbot)
    stamp = rig.pane.stamp_text()
    rig.resolver.set_demo(dead_endpoint(), "us-east-1")
    with qtbot.waitSignal(rig.pane.refresh_failed, timeout=TIMEOUT) as failed:
        refresh(rig, qtbot)
    assert "could not be reached" in failed.args[0]
    pane = rig.pane
    assert pane.is_offline() and pane.progress_text() == "Refresh failed"
    assert pane.banner_text().startswith("Offline: the inventory could not be refreshed (")
    assert f"inventory, as of {stamp.removeprefix('As of ')}." in pane.banner_text()
    assert pane.stamp_text() == stamp
    assert pane.model.rowCount() == 10 and pane.refresh_button.isEnabled()


def test_cached_inventory_shows_offline_with_its_stamp(rig: Rig, qtbot: QtBot) -> None:
    cached = Inventory(
        (SourceServer("s-00000000000000001", "cached-01", replication_state="CONTINUOUS", lag_seconds=4),),
        datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        "123456789012",
        "us-east-1",
    )
    save_inventory(rig.db, cached)
    rig.pane.load_cached()
    qtbot.waitUntil(lambda: rig.pane.model.rowCount() == 1, timeout=TIMEOUT)
    assert rig.pane.stamp_text() == STAMP
    rig.resolver.set_demo(dead_endpoint(), "us-east-1")
    refresh(rig, qtbot)
    assert rig.pane.is_offline() and "as of 2026-01-05 08:00 UTC (account" in rig.pane.banner_text()
    assert hostnames(rig.pane) == ["cached-01"]


def test_failed_refresh_without_a_cache_says_so(rig: Rig, qtbot: QtBot) -> None:
    rig.resolver.set_demo(dead_endpoint(), "us-east-1")
    refresh(rig, qtbot)
    assert not rig.pane.is_offline()
    assert rig.pane.banner_text().startswith("The inventory could not be refreshed: ")
    assert rig.pane.stamp_text().startswith("No inventory yet")


def test_used_by_column_follows_the_saved_plans(rig: Rig, qtbot: QtBot) -> None:
    refresh(rig, qtbot)
    group = ProtectionGroup("shop-web", tags={"Application": "shop", "Tier": "web"})
    plan_store.save_plan(
        rig.db, RecoveryPlan("Shop DR", protection_groups=(group,), waves=(Wave("W", ("shop-web",)),))
    )
    rig.pane.load_usage()
    model = rig.pane.model

    def used_by(hostname: str) -> str:
        row = next(r for r in range(model.rowCount()) if model.server_at(r).hostname == hostname)
        return str(model.data(model.index(row, USED_BY)))

    qtbot.waitUntil(lambda: used_by("shop-web-01") == "Shop DR (groups: shop-web)", timeout=TIMEOUT)
    assert used_by("shop-web-02") == "Shop DR (groups: shop-web)" and used_by("shop-db-01") == ""
    qtbot.keyClicks(rig.pane.search_edit, "shop dr")
    assert hostnames(rig.pane) == ["shop-web-01", "shop-web-02"]


def test_a_switch_while_a_refresh_runs_drops_its_answer_and_reads_the_new_target_once(
    rig: Rig, qtbot: QtBot, small_simulator: EmbeddedSimulator
) -> None:
    """The refresh under way was asked for the previous target: its answer is not shown, and however many
    switches happen meanwhile, the new target is read once."""
    pane = rig.pane

    def describe_calls() -> int:  # the simulator is shared by the module's tests: counted from here
        return small_simulator.backend.request_counts().get("DescribeSourceServers", 0)

    before = describe_calls()
    refresh(rig, qtbot)
    calls_per_refresh = describe_calls() - before
    assert pane.model.rowCount() == 10
    tasks = pane._aws_tasks
    assert tasks is not None
    hold = threading.Event()
    tasks.run_task(lambda _s: hold.wait(TIMEOUT / 1000))  # the aws thread is busy: the refresh waits
    pane.refresh()
    shown: list[Inventory] = []
    pane.inventory_refreshed.connect(shown.append)
    target = Target(demo=True, region="us-east-1", endpoint=small_simulator.endpoint_url)
    for _ in range(2):  # two switches while that refresh is under way
        pane.start_target(target)
    assert pane.model.rowCount() == 0
    assert pane.stamp_text() == f"Reading the source servers of {target.label}…"
    assert pane.is_busy() and pane.progress_text() == f"Refreshing {target.label}…"
    hold.set()
    qtbot.waitUntil(lambda: len(shown) == 1 and not pane.is_busy(), timeout=TIMEOUT)
    done: list[bool] = []
    tasks.run_task(lambda _s: True, done.append)  # after anything the pane asked on the aws thread
    qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT)
    assert len(shown) == 1, "the previous target's answer was never shown"
    assert describe_calls() - before == 3 * calls_per_refresh, "the first, the dropped one, one again"
    assert pane.model.rowCount() == 10 and not pane.is_busy()
