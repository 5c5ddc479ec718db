"""PlanTreeModel: structure, qtmodeltester, fine-grained updates, problems on rows, and drops at the model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan import edit as pe
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import validate_plan
from drs_desktop.ui.plans import plan_mime
from drs_desktop.ui.plans.plan_mime import DragPayload
from drs_desktop.ui.plans.plan_model import KIND_ROLE, PROBLEMS_ROLE, DropRequest, PlanTreeModel
from tests.ui.plan_helpers import A, B, C, D, F, sample_inventory, sample_plan, watched

MOVE = Qt.DropAction.MoveAction
COPY = Qt.DropAction.CopyAction


class SignalLog:
    """Counts the structural signals a model emits."""

    def __init__(self, model: PlanTreeModel) -> None:
        self.events: list[str] = []
        model.modelReset.connect(lambda: self.events.append("reset"))
        model.rowsInserted.connect(lambda p, a, b: self.events.append(f"insert {_where(p)} {a}-{b}"))
        model.rowsRemoved.connect(lambda p, a, b: self.events.append(f"remove {_where(p)} {a}-{b}"))
        model.rowsMoved.connect(lambda p, a, b, d, r: self.events.append(f"move {_where(p)} {a} -> {r}"))


def _where(parent: QModelIndex) -> str:
    return "root" if not parent.isValid() else f"wave{parent.row()}"


@pytest.fixture
def model(qtbot: QtBot) -> Iterator[PlanTreeModel]:
    made = PlanTreeModel()
    made.set_inventory(sample_inventory())
    made.load_plan(sample_plan())
    yield made


@pytest.fixture
def tester(model: PlanTreeModel) -> Iterator[list[str]]:
    """Qt's own model tester, watching every change of the test; fails the test on any report."""
    with watched(model) as failures:
        yield failures


def children(model: PlanTreeModel, wave: int) -> list[str]:
    parent = model.index(wave, 0)
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def waves(model: PlanTreeModel) -> list[str]:
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_structure_and_columns(model: PlanTreeModel) -> None:
    assert waves(model) == ["Net", "DB", "Web"]
    assert children(model, 0) == ["net"]
    assert children(model, 1) == [A, B]
    db = model.index(1, 0)
    b_row = model.index(1, 0, db)
    assert [model.index(1, c, db).data() for c in range(4)] == [B, "db-02", "OPTIONAL", "CONTINUOUS"]
    assert model.index(0, 0, model.index(0, 0)).data(KIND_ROLE) == "group"
    assert model.index(2, 3).data() == "after Net, DB"
    assert model.index(0, 3).data() == "starts at once"
    assert b_row.parent() == db
    assert model.index(1, 1).data() == "2 servers · 1 optional"


def test_qtmodeltester_on_the_plan_model(qtmodeltester: object, model: PlanTreeModel) -> None:
    qtmodeltester.check(model, force_py=True)  # type: ignore[attr-defined]
    with watched(model):
        model.set_plan(pe.move_servers(sample_plan(), [(1, A)], 2, 0))
        model.set_plan(pe.move_waves(model.plan(), [2], 0))  # type: ignore[arg-type]
        model.set_inventory(None)
        model.load_plan(sample_plan())


def test_an_empty_model_passes_qtmodeltester(qtmodeltester: object) -> None:
    empty = PlanTreeModel()
    qtmodeltester.check(empty, force_py=True)  # type: ignore[attr-defined]
    empty.load_plan(RecoveryPlan("P", waves=(Wave("Only"),)))
    qtmodeltester.check(empty, force_py=True)  # type: ignore[attr-defined]


def test_move_between_waves_is_one_remove_and_one_insert(model: PlanTreeModel, tester: object) -> None:
    log = SignalLog(model)
    model.set_plan(pe.move_servers(sample_plan(), [(1, A)], 2, 1))
    assert log.events == ["remove wave1 0-0", "insert wave2 1-1"]
    assert children(model, 2) == [C, A, D]


def test_wave_reorder_moves_rows_and_keeps_children_and_persistent_indexes(
    model: PlanTreeModel, tester: object
) -> None:
    log = SignalLog(model)
    web_d = QPersistentModelIndex(model.index(1, 0, model.index(2, 0)))
    model.set_plan(pe.move_waves(sample_plan(), [2], 0))
    assert log.events == ["move root 2 -> 0"]
    assert waves(model) == ["Web", "Net", "DB"]
    assert web_d.isValid() and web_d.data() == D
    assert web_d.parent().row() == 0
    assert children(model, 0) == [C, D]


def test_moving_one_server_to_the_end_of_a_long_wave_is_one_move(qtbot: QtBot) -> None:
    ids = tuple(f"s-{n:017d}" for n in range(100, 200))
    plan = RecoveryPlan("P", waves=(Wave("W", servers=ids),))
    model = PlanTreeModel()
    model.load_plan(plan)
    log = SignalLog(model)
    model.set_plan(pe.move_servers(plan, [(0, ids[0])], 0, 100))
    assert log.events == ["move wave0 0 -> 100"]
    assert children(model, 0) == [*ids[1:], ids[0]]


def test_rename_changes_data_without_structure(model: PlanTreeModel, tester: object) -> None:
    log = SignalLog(model)
    changed: list[int] = []
    model.dataChanged.connect(lambda a, b, roles: changed.append(a.row()))
    model.set_plan(pe.rename_wave(sample_plan(), 1, "Databases"))
    assert log.events == []
    assert waves(model) == ["Net", "Databases", "Web"]
    assert 1 in changed


def test_add_and_remove_waves_and_undo_back(model: PlanTreeModel, tester: object) -> None:
    log = SignalLog(model)
    grown = pe.add_to_new_wave(sample_plan(), 1, [F], [])
    model.set_plan(grown)
    assert log.events == ["insert root 1-1"]
    assert children(model, 1) == [F]
    model.set_plan(pe.remove_waves(grown, [0, 1]))
    assert waves(model) == ["DB", "Web"]
    model.set_plan(sample_plan())
    assert waves(model) == ["Net", "DB", "Web"]
    assert "reset" not in log.events
    assert [children(model, w) for w in range(3)] == [["net"], [A, B], [C, D]]


def test_problems_map_to_rows_and_go_away(model: PlanTreeModel, tester: object) -> None:
    emptied = pe.move_servers(sample_plan(), [(1, A), (1, B)], 2)
    bad = pe.add_servers(emptied, 0, ["s-99999999999999999"])
    problems = validate_plan(bad, sample_inventory())
    model.set_plan(bad, problems)
    db = model.index(1, 0)
    assert any("empty" in p.message for p in db.data(PROBLEMS_ROLE))
    assert "the wave is empty" in db.data(Qt.ItemDataRole.ToolTipRole)
    assert db.data(Qt.ItemDataRole.DecorationRole) is not None
    unknown = model.index(1, 0, model.index(0, 0))
    assert "unknown source server" in unknown.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index_for_path("waves[0].servers[0]") == unknown
    assert not model.index_for_path("rto_minutes").isValid()
    model.set_plan(sample_plan(), validate_plan(sample_plan(), sample_inventory()))
    assert model.index(1, 0).data(PROBLEMS_ROLE) == ()
    assert model.index(1, 0).data(Qt.ItemDataRole.DecorationRole) is None


# ------------------------------------------------------------------------------------------- drops


def drop(model: PlanTreeModel, qtbot: QtBot, data: QMimeData, row: int, parent: QModelIndex) -> DropRequest:
    with qtbot.waitSignal(model.drop_requested, timeout=1000) as blocker:
        assert model.canDropMimeData(data, MOVE, row, 0, parent)
        assert model.dropMimeData(data, MOVE, row, 0, parent)
    request = blocker.args[0]
    assert isinstance(request, DropRequest)
    return request


def test_mime_data_of_servers_names_ids_and_source_waves(model: PlanTreeModel) -> None:
    db = model.index(1, 0)
    data = model.mimeData([model.index(0, c, db) for c in range(4)] + [model.index(1, 0, db)])
    assert data.formats() == [plan_mime.MIME_TYPE, "text/plain"]
    assert plan_mime.decode(data) == DragPayload("plan", servers=((1, A), (1, B)))


def test_drop_servers_between_waves_at_the_model(model: PlanTreeModel, qtbot: QtBot) -> None:
    db, web = model.index(1, 0), model.index(2, 0)
    data = model.mimeData([model.index(0, 0, db)])
    request = drop(model, qtbot, data, 1, web)
    assert request == DropRequest(DragPayload("plan", servers=((1, A),)), wave=2, row=1)
    assert children(model, 1) == [A, B]  # the model does not edit itself
    model.set_plan(pe.move_to_wave(sample_plan(), request.wave, request.payload.servers, (), request.row))
    assert children(model, 2) == [C, A, D]
    assert children(model, 1) == [B]


def test_drop_onto_a_wave_appends_and_between_waves_makes_a_new_wave(
    model: PlanTreeModel, qtbot: QtBot
) -> None:
    data = model.mimeData([model.index(0, 0, model.index(1, 0))])
    assert drop(model, qtbot, data, -1, model.index(2, 0)).row is None
    between = drop(model, qtbot, data, 1, QModelIndex())
    assert (between.wave, between.row) == (-1, 1)


def test_reorder_waves_at_the_model(model: PlanTreeModel, qtbot: QtBot) -> None:
    data = model.mimeData([model.index(2, c) for c in range(4)])
    assert plan_mime.decode(data) == DragPayload("plan", waves=(2,))
    request = drop(model, qtbot, data, 0, QModelIndex())
    assert (request.payload.waves, request.row) == ((2,), 0)
    onto = drop(model, qtbot, model.mimeData([model.index(0, 0)]), -1, model.index(2, 0))
    assert onto.row == 3  # dropped onto a later wave: after it


def test_refused_drops(model: PlanTreeModel) -> None:
    waves_data = model.mimeData([model.index(2, 0)])
    inside = model.index(0, 0, model.index(1, 0))
    assert not model.canDropMimeData(waves_data, MOVE, -1, 0, inside)
    foreign = QMimeData()
    foreign.setText("s-00000000000000001")
    assert not model.canDropMimeData(foreign, MOVE, 0, 0, model.index(1, 0))
    broken = QMimeData()
    broken.setData(plan_mime.MIME_TYPE, b"{not json")
    assert not model.dropMimeData(broken, MOVE, 0, 0, model.index(1, 0))
    stale = plan_mime.encode(DragPayload("plan", servers=((7, A),)))
    assert not model.canDropMimeData(stale, MOVE, 0, 0, model.index(1, 0))
    assert not model.canDropMimeData(
        model.mimeData([inside]), Qt.DropAction.LinkAction, 0, 0, model.index(1, 0)
    )


def test_inventory_payload_drops_as_copy(model: PlanTreeModel, qtbot: QtBot) -> None:
    data = plan_mime.encode(DragPayload("inventory", servers=((-1, F),), groups=((-1, "dbs"),)))
    with qtbot.waitSignal(model.drop_requested) as blocker:
        assert model.dropMimeData(data, COPY, 0, 0, model.index(1, 0))
    assert blocker.args[0] == DropRequest(plan_mime.decode(data), 1, 0)  # type: ignore[arg-type]
