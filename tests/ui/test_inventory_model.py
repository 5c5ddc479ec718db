"""InventoryModel and its filter proxy: columns, placement, filtering, qtmodeltester, drag payload."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan import edit as pe
from drs_desktop.domain.plan import edit_parts as parts
from drs_desktop.domain.plan.model import ProtectionGroup
from drs_desktop.ui.plans import plan_mime
from drs_desktop.ui.plans.inventory_model import WAVE_COLUMN, InventoryFilterModel, InventoryModel
from drs_desktop.ui.plans.plan_mime import DragPayload
from drs_desktop.ui.plans.plan_model import KEY_ROLE
from tests.ui.plan_helpers import A, B, F, sample_inventory, sample_plan, watched


def make(qtbot: QtBot) -> tuple[InventoryModel, InventoryFilterModel]:
    model = InventoryModel()
    model.set_inventory(sample_inventory())
    model.set_plan(sample_plan())
    proxy = InventoryFilterModel()
    proxy.setSourceModel(model)
    return model, proxy


def keys(model: InventoryFilterModel | InventoryModel) -> list[str]:
    return [model.index(r, 0).data(KEY_ROLE) for r in range(model.rowCount())]


def test_rows_columns_and_placement(qtbot: QtBot) -> None:
    model, _ = make(qtbot)
    assert keys(model)[:2] == ["net", "dbs"]
    assert len(keys(model)) == 2 + 6
    row = model.row_of("server", A)
    assert [model.index(row, c).data() for c in range(7)] == [
        A,
        "connected",
        "db-01",
        "Linux",
        "CONTINUOUS",
        "tier=db",
        "DB",
    ]
    assert model.index(model.row_of("server", F), WAVE_COLUMN).data() == ""
    assert model.index(0, WAVE_COLUMN).data() == "Net"
    assert model.index(1, 2).data() == "tag selector"
    assert "not in the plan yet" in model.index(model.row_of("server", F), 0).data(
        Qt.ItemDataRole.ToolTipRole
    )


def changes(model: InventoryModel, proxy: InventoryFilterModel) -> None:
    proxy.setFilterFixedString("web")
    proxy.set_unplaced_only(True)
    model.set_plan(parts.add_group(sample_plan(), ProtectionGroup("apps", tags={"tier": "app"})))
    model.set_plan(pe.move_servers(sample_plan(), [(2, "s-00000000000000003")], 1))
    proxy.setFilterFixedString("")
    proxy.sort(1, Qt.SortOrder.DescendingOrder)
    model.set_plan(None)
    model.set_inventory(None)


def test_qtmodeltester_on_the_model(qtbot: QtBot, qtmodeltester: object) -> None:
    model, proxy = make(qtbot)
    qtmodeltester.check(model, force_py=True)  # type: ignore[attr-defined]
    with watched(model):
        changes(model, proxy)


def test_qtmodeltester_on_the_proxy(qtbot: QtBot, qtmodeltester: object) -> None:
    model, proxy = make(qtbot)
    qtmodeltester.check(proxy, force_py=True)  # type: ignore[attr-defined]
    with watched(proxy):
        changes(model, proxy)


def test_plan_group_changes_update_rows_in_place(qtbot: QtBot) -> None:
    model, _ = make(qtbot)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_plan(parts.add_group(sample_plan(), ProtectionGroup("apps", tags={"tier": "app"})))
    assert keys(model)[:3] == ["net", "dbs", "apps"]
    model.set_plan(parts.remove_group(sample_plan(), "net"))
    assert keys(model)[:1] == ["dbs"]
    assert resets == []


def test_filter_by_text_and_unplaced_only(qtbot: QtBot) -> None:
    model, proxy = make(qtbot)
    proxy.setFilterFixedString("DB-0")
    assert keys(proxy) == [A, B]
    proxy.setFilterFixedString("tier=web")
    assert len(keys(proxy)) == 2
    proxy.setFilterFixedString("")
    proxy.set_unplaced_only(True)
    assert keys(proxy) == ["dbs", F]
    model.set_plan(pe.add_servers(sample_plan(), 1, [F]))  # placing F hides it
    assert keys(proxy) == ["dbs"]


def test_drag_payload_is_from_the_inventory(qtbot: QtBot) -> None:
    model, proxy = make(qtbot)
    proxy.setFilterFixedString("")
    indexes = [proxy.index(1, 0), proxy.index(proxy.rowCount() - 1, 0), proxy.index(proxy.rowCount() - 1, 3)]
    data = proxy.mimeData(indexes)
    assert plan_mime.decode(data) == DragPayload("inventory", servers=((-1, F),), groups=((-1, "dbs"),))
    assert model.supportedDragActions() == Qt.DropAction.CopyAction
    assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled
