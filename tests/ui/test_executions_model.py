"""ExecutionsModel over summaries of real runs: Qt's model checks, highlighting, in-place updates."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QIcon
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from drs_desktop.domain.views.history import ExecutionSummary
from drs_desktop.services import history
from drs_desktop.ui.executions.executions_model import (
    COLUMNS,
    DURATION,
    ID_ROLE,
    NEEDS_CLEANUP_ROLE,
    RTO,
    RUNNING,
    SORT_ROLE,
    STATUS,
    SUMMARY_ROLE,
    ExecutionsModel,
)
from tests.services.history_estate import Estate, build_estate


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    with build_estate(tmp_path_factory.mktemp("executions-model")) as built:
        yield built


@pytest.fixture
def summaries(estate: Estate) -> list[ExecutionSummary]:
    return history.list_executions(estate.db)


def text(model: ExecutionsModel, row: int, column: int) -> str:
    return str(model.data(model.index(row, column)))


def test_passes_qt_model_checks_through_every_change(
    qtmodeltester: ModelTester, summaries: list[ExecutionSummary]
) -> None:
    model = ExecutionsModel()
    qtmodeltester.check(model, force_py=True)
    model.set_summaries(summaries)
    model.set_summaries(list(reversed(summaries)))
    model.set_summaries(summaries[1:3])
    model.set_summaries(summaries)
    model.set_summaries([])
    assert model.rowCount() == 0


def test_rows_show_the_history_and_highlight_drills_that_left_instances(
    qapp: object, qtmodeltester: ModelTester, summaries: list[ExecutionSummary], estate: Estate
) -> None:
    model = ExecutionsModel()
    model.set_summaries(summaries)
    qtmodeltester.check(model, force_py=True)
    assert model.columnCount() == len(COLUMNS)
    assert model.execution_ids() == [
        estate.fax_waiting,
        estate.shop_left,
        estate.crm_recovery,
        estate.crm_cleaned,
    ]
    shop = model.row_of(estate.shop_left)
    assert model.highlighted_rows() == [shop]
    assert model.data(model.index(shop, 0), NEEDS_CLEANUP_ROLE) is True
    assert isinstance(model.data(model.index(shop, 3), Qt.ItemDataRole.BackgroundRole), QBrush)
    assert isinstance(model.data(model.index(shop, RUNNING), Qt.ItemDataRole.DecorationRole), QIcon)
    assert "left 5 recovery instances running" in str(
        model.data(model.index(shop, 1), Qt.ItemDataRole.ToolTipRole)
    )
    assert text(model, shop, RUNNING) == "5"
    assert text(model, shop, 1) == "Shop" and text(model, shop, 3) == "DRILL"
    assert text(model, shop, STATUS) == "SUCCEEDED"
    assert text(model, shop, RTO).endswith("/ 1 h 30 min")
    assert model.data(model.index(shop, 0), ID_ROLE) == estate.shop_left
    assert model.data(model.index(shop, 0), SUMMARY_ROLE) == summaries[shop]
    fax = model.row_of(estate.fax_waiting)
    assert model.data(model.index(fax, 0), Qt.ItemDataRole.BackgroundRole) is None, (
        "a live drill is not a leftover"
    )
    assert text(model, fax, STATUS) == "WAITING_APPROVAL" and text(model, fax, DURATION) == "running"
    assert text(model, fax, RUNNING) == "1"
    recovery = model.row_of(estate.crm_recovery)
    assert text(model, recovery, RUNNING) == "", "a recovery has no drill instances to count"
    assert model.data(model.index(recovery, RTO), Qt.ItemDataRole.ToolTipRole) == "RTO target missed"


def test_updates_in_place_keep_rows_and_announce_only_changes(
    qtbot: QtBot, summaries: list[ExecutionSummary], estate: Estate
) -> None:
    model = ExecutionsModel()
    model.set_summaries(summaries)
    shop = model.row_of(estate.shop_left)
    cleaned = [
        dataclasses.replace(s, drill_instances_running=()) if s.execution_id == estate.shop_left else s
        for s in summaries
    ]
    changed: list[int] = []
    model.dataChanged.connect(lambda top, bottom, *_: changed.extend(range(top.row(), bottom.row() + 1)))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_summaries(cleaned)
    assert changed == [shop] and not resets
    assert model.highlighted_rows() == []


def test_sort_role_orders_times_and_durations(summaries: list[ExecutionSummary], estate: Estate) -> None:
    model = ExecutionsModel()
    model.set_summaries(summaries)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.sort(0, Qt.SortOrder.AscendingOrder)
    assert proxy.data(proxy.index(0, 0), ID_ROLE) == estate.crm_cleaned
    proxy.sort(DURATION, Qt.SortOrder.DescendingOrder)
    assert proxy.data(proxy.index(0, 0), ID_ROLE) == estate.fax_waiting, "running sorts as the longest"
