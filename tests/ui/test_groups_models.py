"""The Groups pane's models: the live preview and the member checklist, through Qt's model checks."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from pytestqt.modeltest import ModelTester

from drs_desktop.domain.inventory import Inventory
from drs_desktop.ui.groups.group_preview_model import GroupPreviewModel, preview_rows
from drs_desktop.ui.groups.server_pick_model import ServerPickModel
from tests.ui.plan_helpers import A, B, C, D, E, F, sample_inventory, sid


def test_preview_model_follows_the_selection_in_place(qtmodeltester: ModelTester) -> None:
    """The tester stays connected: it checks every change made after ``check``."""
    inventory = sample_inventory()
    model = GroupPreviewModel()
    qtmodeltester.check(model, force_py=True)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_rows(preview_rows(inventory.matching({"tier": "db"}), inventory, {}))
    assert model.server_ids() == [A, B]
    assert model.data(model.index(0, 1)) == "db-01" and model.data(model.index(0, 2)) == "tier=db"
    model.set_rows(preview_rows([C, A, sid(99)], inventory, {A: "dbs"}))
    assert model.server_ids() == [C, A, sid(99)]
    assert [row.note for row in model.warnings()] == ["already in group 'dbs'", "not in the inventory"]
    assert model.data(model.index(2, 4)) == "not in the inventory"
    assert model.data(model.index(1, 0), Qt.ItemDataRole.ForegroundRole) is not None
    model.set_rows([])
    assert model.rowCount() == 0 and not resets, "the preview changes row by row, never by a reset"


def test_pick_model_checks_members_and_keeps_unknown_ones(qtmodeltester: ModelTester) -> None:
    model = ServerPickModel()
    qtmodeltester.check(model, force_py=True)
    model.set_inventory(sample_inventory())
    model.set_checked([E, sid(77)])
    assert model.rowCount() == 7, "the six servers and the member the inventory lacks"
    assert (
        model.data(model.index(0, 0)) == sid(77) and model.data(model.index(0, 1)) == "(not in the inventory)"
    )
    assert model.checked_ids() == (E, sid(77))
    changes: list[bool] = []
    model.checked_changed.connect(lambda: changes.append(True))
    assert model.set_server_checked(C, True)
    assert model.set_server_checked(sid(77), False)
    assert model.checked_ids() == (E, C) and len(changes) == 2
    c_row = next(r for r in range(model.rowCount()) if model.data(model.index(r, 0)) == C)
    assert model.data(model.index(c_row, 0), Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert not model.set_server_checked(sid(55), True)
    assert not model.setData(model.index(1, 1), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterFixedString("WEB")
    assert sorted(proxy.data(proxy.index(r, 0)) for r in range(proxy.rowCount())) == [C, D]
    model.set_inventory(Inventory())
    assert model.rowCount() == 2, "members stay listed when the inventory is gone"
    assert {model.data(model.index(r, 0)) for r in range(2)} == {E, C}
    assert F not in model.checked_ids()
