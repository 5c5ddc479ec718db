"""The "Extend servers from a staging account" dialog, opened from the Servers pane, on the real ``aws``
task thread against the two-account simulator over loopback: list, extend, a partial failure, the
extended servers in the pane with their staging account. Offscreen; a screenshot is saved for a look."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.targets import Target
from drs_desktop.secrets import SecretStore
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.servers.extend_servers_dialog import RESULT, ExtendServersDialog
from drs_desktop.ui.servers.server_table_model import HOSTNAME, STAGING
from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture  # noqa: F401
from tests.simulator import accounts_scenario
from tests.simulator.accounts_scenario import RECOVERY
from tests.simulator.accounts_scenario import STAGING as STAGING_ACCOUNT
from tests.ui.pane_tasks import pane_threads

TIMEOUT = 10_000
sim = accounts_scenario.two_accounts_sim


@dataclass
class Rig:
    pane: ServersPaneWidget
    sim: EmbeddedSimulator


@pytest.fixture
def rig(qtbot: QtBot, db: Database, memory_keyring: object, sim: EmbeddedSimulator) -> Iterator[Rig]:
    yield from _rig(qtbot, db, sim, Target(account=RECOVERY, region="us-east-1", endpoint=sim.endpoint_url))


@pytest.fixture
def west_rig(qtbot: QtBot, db: Database, memory_keyring: object, sim: EmbeddedSimulator) -> Iterator[Rig]:
    """The recovery account in us-west-2, told before its account is known (as a profile is)."""
    yield from _rig(qtbot, db, sim, Target(region="us-west-2", profile="recovery", endpoint=sim.endpoint_url))


def _rig(qtbot: QtBot, db: Database, sim: EmbeddedSimulator, target: Target) -> Iterator[Rig]:
    resolver = ConnectionResolver(
        db, SecretStore(), demo_endpoint=sim.endpoint_url, demo_region=target.region
    )
    with pane_threads(
        db, resolver, inventory_gateways=lambda t: DrsGateway(t, read_max_attempts=1)
    ) as threads:
        pane = ServersPaneWidget(clock=sim.clock.now)
        qtbot.addWidget(pane)
        pane.connect_tasks(threads.local, threads.aws)
        pane.start_target(target)
        pane.resize(1400, 600)
        pane.show()
        qtbot.waitExposed(pane)
        yield Rig(pane, sim)


def staging_ids(sim: EmbeddedSimulator) -> dict[str, str]:
    world = sim.estate.backend(STAGING_ACCOUNT, "us-east-1").world
    return {server.hostname: server.server_id for server in world.servers.values()}


def open_dialog(rig: Rig, qtbot: QtBot) -> ExtendServersDialog:
    qtbot.mouseClick(rig.pane.extend_button, Qt.MouseButton.LeftButton)
    dialog = rig.pane.findChild(ExtendServersDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=TIMEOUT)
    return dialog


def list_account(dialog: ExtendServersDialog, qtbot: QtBot, account: str) -> None:
    dialog.account_combo.setEditText("")
    qtbot.keyClicks(dialog.account_combo.lineEdit(), account)
    qtbot.mouseClick(dialog.list_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=TIMEOUT)


def test_type_an_account_list_extend_and_see_them_in_the_pane(rig: Rig, qtbot: QtBot, tmp_path: Path) -> None:
    ids = staging_ids(rig.sim)
    dialog = open_dialog(rig, qtbot)
    assert "No server is extended here yet" in dialog.status_text()  # ListStagingAccounts is empty
    assert RECOVERY in dialog.intro_label.text()  # the account the servers are extended into is named

    # A typo is refused before anything is sent; the list stays empty.
    list_account(dialog, qtbot, "22222222222")
    assert "not an AWS account ID (12 digits)" in dialog.account_error.text() and dialog.row_ids() == []

    list_account(dialog, qtbot, STAGING_ACCOUNT)
    assert sorted(dialog.row_ids()) == sorted(ids.values())
    assert (
        dialog.status_text()
        == f"Staging account {STAGING_ACCOUNT} in us-east-1: 4 server(s) to extend, 0 already extended."
    )
    assert dialog.cell_text(ids["stg-00002"], 2) == STAGING_ACCOUNT
    assert not dialog.extend_button.isEnabled()

    # A throttled call fails one server; the other is extended.
    rig.sim.estate.backend(RECOVERY, "us-east-1").faults.throttle("CreateExtendedSourceServer", count=1)
    dialog.set_checked([ids["stg-00001"], ids["stg-00003"]])
    assert dialog.extend_button.text() == "Extend 2 servers" and dialog.extend_button.isEnabled()
    with qtbot.waitSignal(dialog.inventory_refreshed, timeout=TIMEOUT) as refreshed:
        qtbot.mouseClick(dialog.extend_button, Qt.MouseButton.LeftButton)
        assert dialog.is_busy() and dialog.busy_bar.isVisible()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=TIMEOUT)
    inventory = refreshed.args[0]
    assert dialog.result_text(ids["stg-00001"]).startswith("failed: ")
    assert "ThrottlingException" in dialog.result_text(ids["stg-00001"])
    third = next(s for s in inventory.servers if s.hostname == "stg-00003")
    assert dialog.result_text(ids["stg-00003"]) == f"extended as {third.source_server_id}"
    assert dialog.cell_text(ids["stg-00003"], 3) == third.replication_state != ""  # now mirrored here
    status = dialog.status_text().splitlines()
    assert status[0] == f"1 extended, 1 failed (from staging account {STAGING_ACCOUNT})"
    assert status[1].startswith(f"stg-00001 ({ids['stg-00001']}): failed: ") and len(status) == 2
    assert dialog.checked_ids() == [ids["stg-00001"]]  # the failed one stays checked, to try again

    layout = dialog.layout()
    assert layout is not None
    layout.activate()  # the status grew a line: lay it out before the picture
    grab = tmp_path / "extend_servers_dialog.png"
    assert dialog.grab().save(str(grab))
    if os.environ.get("DRS_DESKTOP_SCREENSHOTS"):
        dialog.grab().save(os.environ["DRS_DESKTOP_SCREENSHOTS"] + "/extend_servers_dialog.png")

    # The pane refreshed by itself and shows the extended server with its staging account.
    pane = rig.pane
    qtbot.waitUntil(lambda: pane.model.rowCount() == 4 and not pane.is_busy(), timeout=TIMEOUT)  # 3 + 1
    row = pane.model.row_of(third.source_server_id)
    assert pane.model.data(pane.model.index(row, HOSTNAME)) == "stg-00003"
    assert pane.model.data(pane.model.index(row, STAGING)) == STAGING_ACCOUNT
    tip = pane.model.data(pane.model.index(row, STAGING), Qt.ItemDataRole.ToolTipRole)
    assert tip == f"stg-00003: extended from staging account {STAGING_ACCOUNT} (server {ids['stg-00003']})"
    assert pane.progress_text() == "Refreshed: 4 servers"
    if os.environ.get("DRS_DESKTOP_SCREENSHOTS"):
        pane_layout = pane.layout()
        assert pane_layout is not None
        pane_layout.activate()
        pane.grab().save(os.environ["DRS_DESKTOP_SCREENSHOTS"] + "/servers_pane_extended.png")


def test_reopened_it_lists_the_staging_account_and_what_is_extended(rig: Rig, qtbot: QtBot) -> None:
    ids = staging_ids(rig.sim)
    first = open_dialog(rig, qtbot)
    list_account(first, qtbot, STAGING_ACCOUNT)
    first.set_checked([ids["stg-00004"]])
    with qtbot.waitSignal(first.inventory_refreshed, timeout=TIMEOUT):
        qtbot.mouseClick(first.extend_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not first.is_busy(), timeout=TIMEOUT)
    first.close()
    qtbot.waitUntil(lambda: rig.pane.findChild(ExtendServersDialog) is None, timeout=TIMEOUT)

    dialog = open_dialog(rig, qtbot)
    assert dialog.account_combo.count() == 1 and dialog.account_combo.itemText(0) == STAGING_ACCOUNT
    assert dialog.account_combo.currentText() == STAGING_ACCOUNT  # DRS lists it now
    qtbot.mouseClick(dialog.list_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_busy() and bool(dialog.row_ids()), timeout=TIMEOUT)
    assert len(dialog.row_ids()) == 4
    assert dialog.result_text(ids["stg-00004"]).startswith("already extended as s-")
    assert ids["stg-00004"] not in dialog.checked_ids()
    dialog.set_checked(dialog.row_ids())
    assert ids["stg-00004"] not in dialog.checked_ids() and len(dialog.checked_ids()) == 3
    assert dialog.table.item(0, RESULT) is not None


def test_a_change_of_target_closes_the_dialog(rig: Rig, qtbot: QtBot) -> None:
    dialog = open_dialog(rig, qtbot)
    with qtbot.waitSignal(dialog.finished, timeout=TIMEOUT):
        rig.pane.start_target(Target(account="999999999999", region="us-east-1"))
    qtbot.waitUntil(lambda: rig.pane.findChild(ExtendServersDialog) is None, timeout=TIMEOUT)


def test_it_names_the_account_learnt_and_says_an_empty_list_is_this_regions(
    west_rig: Rig, qtbot: QtBot
) -> None:
    """The connected target's account is learnt from its first answer: the dialog names it (not
    "account ?"); a staging account replicating in another Region lists nothing here, and the dialog
    says that it is this Region's list, not that the account has no servers."""
    pane = west_rig.pane
    pane.refresh()
    qtbot.waitUntil(lambda: pane.model.rowCount() == 2 and not pane.is_busy(), timeout=TIMEOUT)
    dialog = open_dialog(west_rig, qtbot)
    intro = dialog.intro_label.text()
    assert f"{RECOVERY} · us-west-2 · recovery" in intro and "account ?" not in intro, intro

    list_account(dialog, qtbot, STAGING_ACCOUNT)  # it replicates its 4 servers in us-east-1 only
    assert dialog.row_ids() == []
    status = dialog.status_text()
    assert status.startswith(f"Staging account {STAGING_ACCOUNT} in us-west-2: 0 server(s) to extend"), status
    assert "replicates in us-west-2; servers it replicates in another Region" in status
