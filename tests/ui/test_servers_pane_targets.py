"""The Servers pane with several targets, on its real task threads, against the two-account simulator:
the Target column, each target's age (online and from the cache), the filter by target, and a failing
target named while the others show fresh."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.secrets import SecretStore
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.inventory_targets import save_listed_targets
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.servers.server_table_model import HOSTNAME, TARGET
from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget
from tests.secrets.memory_keyring import MemoryKeyring
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture  # noqa: F401
from tests.services.target_profiles import profile_gateways, write_profiles
from tests.simulator.accounts_scenario import (
    RECOVERY,
    RECOVERY_KEY,
    STAGING,
    STAGING_KEY,
    two_accounts_sim,  # noqa: F401
)
from tests.ui.pane_tasks import PaneThreads, pane_threads

TIMEOUT = 15_000
STAGING_TARGET = PlanTarget("staging", account=STAGING, region="us-east-1", profile="staging")
WEST_TARGET = PlanTarget("recovery-west", account=RECOVERY, region="us-west-2", profile="recovery")
#: DRS was never initialized for the staging account in us-west-2: its refresh is refused.
BROKEN_TARGET = PlanTarget("staging-west", account=STAGING, region="us-west-2", profile="staging")


@pytest.fixture
def threads(
    db: Database,
    memory_keyring: MemoryKeyring,
    two_accounts_sim: EmbeddedSimulator,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PaneThreads]:
    write_profiles(tmp_path, monkeypatch, {"recovery": RECOVERY_KEY, "staging": STAGING_KEY})
    resolver = ConnectionResolver(
        db, SecretStore(), demo_endpoint=two_accounts_sim.endpoint_url, demo_region="us-east-1"
    )
    with pane_threads(db, resolver, inventory_gateways=profile_gateways(read_max_attempts=1)) as running:
        yield running


def shown_pane(qtbot: QtBot, threads: PaneThreads, sim: EmbeddedSimulator) -> ServersPaneWidget:
    pane = ServersPaneWidget(clock=sim.clock.now)
    qtbot.addWidget(pane)
    pane.connect_tasks(threads.local, threads.aws)
    pane.resize(1500, 640)
    pane.show()
    qtbot.waitExposed(pane)
    return pane


def refresh(pane: ServersPaneWidget, qtbot: QtBot) -> None:
    qtbot.mouseClick(pane.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not pane.is_busy(), timeout=TIMEOUT)


def rows(pane: ServersPaneWidget) -> list[tuple[str, str]]:
    proxy = pane.proxy
    return sorted(
        (proxy.index(row, TARGET).data(), proxy.index(row, HOSTNAME).data()[:3])
        for row in range(proxy.rowCount())
    )


def test_every_target_is_listed_named_and_aged_online_and_offline(
    db: Database,
    threads: PaneThreads,
    two_accounts_sim: EmbeddedSimulator,  # noqa: F811
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    save_listed_targets(db, (STAGING_TARGET, WEST_TARGET))
    pane = shown_pane(qtbot, threads, two_accounts_sim)
    refresh(pane, qtbot)
    assert pane.progress_text() == "Refreshed: 9 servers of 3 targets"
    assert pane.banner_text() == "" and not pane.is_offline()
    assert rows(pane) == sorted(
        [("connected", "rec")] * 3 + [("staging", "stg")] * 4 + [("recovery-west", "wes")] * 2
    )
    staging_row = next(
        r for r in range(pane.proxy.rowCount()) if pane.proxy.index(r, TARGET).data() == "staging"
    )
    tip = pane.proxy.index(staging_row, TARGET).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(f"staging ({STAGING} · us-east-1)")
    assert pane.proxy.index(staging_row, TARGET).data(Qt.ItemDataRole.DecorationRole) is not None
    assert pane.target_age_lines() == [
        f"connected ({RECOVERY} · us-east-1): 3 servers, as of just now",
        f"staging ({STAGING} · us-east-1): 4 servers, as of just now",
        f"recovery-west ({RECOVERY} · us-west-2): 2 servers, as of just now",
    ]
    assert pane.target_ages.isVisible() and pane.target_combo.isVisible()

    # The filter by target.
    pane.target_combo.setCurrentIndex(pane.target_combo.findData("staging"))
    assert rows(pane) == [("staging", "stg")] * 4 and pane.count_label.text() == "4 of 9 servers"
    pane.target_combo.setCurrentIndex(0)
    assert pane.proxy.rowCount() == 9

    # Twelve minutes later, offline: a new pane reads every target back from the cache, with its age.
    two_accounts_sim.clock.advance(12 * 60)
    pane.target_ages.update_ages()
    assert pane.target_age_lines()[1].endswith("4 servers, as of 12 min ago")
    offline = shown_pane(qtbot, threads, two_accounts_sim)
    offline.load_cached()
    qtbot.waitUntil(lambda: offline.proxy.rowCount() == 9, timeout=TIMEOUT)
    assert offline.target_age_lines() == [
        line.replace("just now", "12 min ago")
        for line in [
            f"connected ({RECOVERY} · us-east-1): 3 servers, as of just now",
            f"staging ({STAGING} · us-east-1): 4 servers, as of just now",
            f"recovery-west ({RECOVERY} · us-west-2): 2 servers, as of just now",
        ]
    ]
    assert rows(offline) == rows(pane)
    shot = Path(os.environ.get("DRS_SCREENSHOTS", str(tmp_path))) / "servers-targets.png"
    assert pane.grab().save(str(shot))


def test_a_failing_target_is_named_and_the_others_show_fresh(
    db: Database,
    threads: PaneThreads,
    two_accounts_sim: EmbeddedSimulator,  # noqa: F811
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    save_listed_targets(db, (STAGING_TARGET,))
    pane = shown_pane(qtbot, threads, two_accounts_sim)
    refresh(pane, qtbot)
    assert pane.progress_text() == "Refreshed: 7 servers of 2 targets"
    # The settings page saves a longer list: the pane reads every target again.
    save_listed_targets(db, (STAGING_TARGET, BROKEN_TARGET))
    pane.on_targets_changed()
    assert pane.is_busy()
    qtbot.waitUntil(lambda: not pane.is_busy(), timeout=TIMEOUT)
    assert pane.progress_text() == "Refreshed: 7 servers of 2 targets, 1 failed"
    assert rows(pane) == sorted([("connected", "rec")] * 3 + [("staging", "stg")] * 4)
    banner = pane.banner_text()
    assert banner.startswith(f"Not refreshed: staging-west ({STAGING} · us-west-2): DescribeSourceServers:")
    assert "not initialized" in banner and not pane.is_offline()
    lines = pane.target_age_lines()
    assert lines[1] == f"staging ({STAGING} · us-east-1): 4 servers, as of just now"
    assert lines[2].startswith(
        f"staging-west ({STAGING} · us-west-2): refresh failed (DescribeSourceServers:"
    )
    assert lines[2].endswith("; nothing cached")
    shot = Path(os.environ.get("DRS_SCREENSHOTS", str(tmp_path))) / "servers-target-failed.png"
    assert pane.grab().save(str(shot))
