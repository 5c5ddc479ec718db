"""The plan editor names an extended source server's staging account where it shows servers: the
inventory panel (hostname and tooltip) and the plan tree (hostname), and the plan validates."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import validate_plan
from drs_desktop.ui.plans.inventory_model import InventoryModel
from drs_desktop.ui.plans.plan_model import PlanTreeModel
from tests.ui.plan_helpers import A, sample_inventory

STAGING = "222222222222"
EXTENDED = "s-0000000000000e001"
STAGING_SERVER = "s-00000000000005a01"


def inventory_with_an_extended_server() -> Inventory:
    base = sample_inventory()
    extended = SourceServer(
        EXTENDED,
        hostname="stg-00001",
        replication_state="CONTINUOUS",
        os="Linux",
        staging_account_id=STAGING,
        staging_source_server_arn=f"arn:aws:drs:eu-west-1:{STAGING}:source-server/{STAGING_SERVER}",
        extension_status="EXTENDED",
    )
    return replace(base, servers=(*base.servers, extended))


def test_inventory_panel_and_plan_tree_name_the_staging_account(qtbot: QtBot) -> None:
    inventory = inventory_with_an_extended_server()
    plan = RecoveryPlan(name="Staged", waves=(Wave(name="One", servers=(A, EXTENDED)),))
    assert validate_plan(plan, inventory) == []

    panel = InventoryModel()
    panel.set_inventory(inventory)
    panel.set_plan(plan)
    row = panel.row_of("server", EXTENDED)
    assert panel.index(row, 2).data() == f"stg-00001 (staging {STAGING})"
    tip = panel.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == (
        f"source server {EXTENDED}, in wave 'One'\n"
        f"extended from staging account {STAGING} (server {STAGING_SERVER})"
    )
    own = panel.row_of("server", A)
    assert panel.index(own, 2).data() == "db-01"  # a server of this account: its hostname alone

    tree = PlanTreeModel()
    tree.set_inventory(inventory)
    tree.load_plan(plan)
    wave = tree.index(0, 0)
    assert [tree.index(r, 1, wave).data() for r in range(2)] == ["db-01", f"stg-00001 (staging {STAGING})"]
    assert tree.index(1, 1, wave).data(Qt.ItemDataRole.ToolTipRole) == f"stg-00001 (staging {STAGING})"
