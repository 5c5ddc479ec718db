"""ProgressTreeModel: qtmodeltester, rows from snapshots, dataChanged on changed rows only, never a reset."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.domain.engine.state import ExecutionStatus
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.ui.executions.progress_delegate import PROGRESS_ROLE
from drs_desktop.ui.executions.progress_model import (
    ETA,
    NAME,
    PROGRESS,
    SERVERS,
    STATUS,
    WAVE_ROLE,
    ProgressTreeModel,
    runs,
)
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, step_until
from tests.ui.plan_helpers import watched

# The shared fixtures (see execution_helpers), registered in this module.
sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services


def whole_drill(services: ExecutionServices, sim: EmbeddedSimulator) -> list[ProgressSnapshot]:
    session = drill_session(services)
    seen = step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
    session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
    seen += step_until(session, sim, lambda s: s.finished)
    return seen


def test_qtmodeltester_through_a_whole_drill(
    qtbot: QtBot, qtmodeltester: object, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    snapshots = whole_drill(services, sim)
    model = ProgressTreeModel()
    model.set_snapshot(snapshots[0])
    qtmodeltester.check(model, force_py=True)  # type: ignore[attr-defined]
    with watched(model):
        for snapshot in snapshots[1:]:
            model.set_snapshot(snapshot)
    assert model.rowCount() == 3
    assert [model.rowCount(model.index(w, 0)) for w in range(3)] == [1, 2, 2]


def test_updates_are_data_changes_on_the_delta_rows_only(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    snapshots = whole_drill(services, sim)
    model = ProgressTreeModel()
    structural: list[str] = []
    model.modelReset.connect(lambda: structural.append("reset"))
    model.rowsInserted.connect(lambda *_: structural.append("insert"))
    model.rowsRemoved.connect(lambda *_: structural.append("remove"))
    changed: list[tuple[int | None, int, int]] = []

    def on_changed(top: QModelIndex, bottom: QModelIndex, _roles: object) -> None:
        parent = top.parent()
        changed.append((parent.row() if parent.isValid() else None, top.row(), bottom.row()))

    model.dataChanged.connect(on_changed)
    model.set_snapshot(snapshots[0])
    assert structural == ["insert"]
    for snapshot in snapshots[1:]:
        changed.clear()
        model.set_snapshot(snapshot)
        expected_waves = {(None, a, b) for a, b in runs(snapshot.delta.waves)}
        by_wave: dict[int, list[int]] = {}
        for wave, row in snapshot.delta.servers:
            by_wave.setdefault(wave, []).append(row)
        expected_servers = {(w, a, b) for w, rows in by_wave.items() for a, b in runs(rows)}
        assert set(changed) == expected_waves | expected_servers
    assert structural == ["insert"], "a running execution must never reset or rebuild its rows"
    assert any(s.delta.servers for s in snapshots[1:])


def test_rows_show_the_snapshot(qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator) -> None:
    snapshots = whole_drill(services, sim)
    model = ProgressTreeModel()
    mid = next(s for s in snapshots if s.waves[1].phase.value == "LAUNCHING" and s.waves[1].eta is not None)
    model.set_snapshot(mid)
    app_wave = model.index(1, 0)
    assert model.data(app_wave) == "2. App"
    assert model.data(model.index(1, STATUS)) == "LAUNCHING"
    assert model.data(model.index(1, PROGRESS), PROGRESS_ROLE) == mid.waves[1].progress
    assert model.data(model.index(1, ETA)) != ""
    assert model.data(model.index(1, STATUS), Qt.ItemDataRole.DecorationRole) is not None
    server = model.index(0, NAME, app_wave)
    assert model.data(server) in ("shop-app-01", "shop-app-02")
    assert model.data(model.index(0, SERVERS, app_wave)) == "critical"
    assert model.data(server, WAVE_ROLE) == 1
    assert model.server_at(server) is mid.servers[1][0]
    assert model.wave_at(app_wave) is mid.waves[1]
    assert model.wave_index_of(server) == 1
    model.set_snapshot(snapshots[-1])
    assert model.data(model.index(2, SERVERS)) == "2/2 launched"
    assert model.data(model.index(0, STATUS)) == "COMPLETED"


def test_another_execution_replaces_the_rows_without_a_reset(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    first = drill_session(services).snapshot()
    model = ProgressTreeModel()
    events: list[str] = []
    model.modelReset.connect(lambda: events.append("reset"))
    model.rowsRemoved.connect(lambda *_: events.append("remove"))
    model.rowsInserted.connect(lambda *_: events.append("insert"))
    model.set_snapshot(first)
    # The first execution holds the servers; a second one of another plan shows other rows.
    second = ProgressSnapshot(
        **{**first.__dict__, "execution_id": "other", "waves": first.waves[:1], "servers": first.servers[:1]}
    )
    with watched(model):
        model.set_snapshot(second)
    assert events == ["insert", "remove", "insert"]
    assert model.rowCount() == 1
