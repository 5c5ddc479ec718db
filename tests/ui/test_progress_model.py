"""ProgressTreeModel: qtmodeltester, rows from snapshots, dataChanged on changed rows only, never a reset."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QPalette, QPixmap
from PySide6.QtWidgets import QHeaderView, QStyledItemDelegate, QTreeView
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.domain.engine.state import ExecutionStatus, ServerStatus
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.ui.executions.progress_bars import PROGRESS_ROLE
from drs_desktop.ui.executions.progress_model import (
    COLUMNS,
    ETA,
    NAME,
    PROGRESS,
    SERVERS,
    SLICE_ROWS,
    STATUS,
    WAVE_ROLE,
    ProgressTreeModel,
    runs,
)
from drs_desktop.ui.executions.progress_widget import ProgressWidget
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
    model.rowsInserted.connect(lambda _parent, top, end: structural.extend(["insert"] * (end - top + 1)))
    model.rowsRemoved.connect(lambda *_: structural.append("remove"))
    changed: list[tuple[int | None, int, int]] = []

    def on_changed(top: QModelIndex, bottom: QModelIndex, _roles: object) -> None:
        parent = top.parent()
        changed.append((parent.row() if parent.isValid() else None, top.row(), bottom.row()))

    model.dataChanged.connect(on_changed)
    model.set_snapshot(snapshots[0])
    lines = len(snapshots[0].waves) + snapshots[0].server_count
    assert structural == ["insert"] * lines, "each line inserted once, when the execution is first shown"
    structural.clear()
    for snapshot in snapshots[1:]:
        changed.clear()
        model.set_snapshot(snapshot)
        expected_waves = {(None, a, b) for a, b in runs(snapshot.delta.waves)}
        by_wave: dict[int, list[int]] = {}
        for wave, row in snapshot.delta.servers:
            by_wave.setdefault(wave, []).append(row)
        expected_servers = {(w, a, b) for w, rows in by_wave.items() for a, b in runs(rows)}
        assert set(changed) == expected_waves | expected_servers
    assert structural == [], "a running execution must never reset or rebuild its rows"
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
    model.rowsInserted.connect(lambda parent, *_: None if parent.isValid() else events.append("insert"))
    model.set_snapshot(first)
    # The first execution holds the servers; a second one of another plan shows other rows.
    second = ProgressSnapshot(
        **{**first.__dict__, "execution_id": "other", "waves": first.waves[:1], "servers": first.servers[:1]}
    )
    with watched(model):
        model.set_snapshot(second)
    assert events == ["insert"] * len(first.waves) + ["remove", "insert"], "waves in, all out, one in"
    assert model.rowCount() == 1


def large(snapshot: ProgressSnapshot, per_wave: int, *, launched: int = 0) -> ProgressSnapshot:
    """``snapshot`` with ``per_wave`` servers in each wave, copied from its first server row; the first
    ``launched`` of each wave LAUNCHED at 100 %."""
    template = snapshot.servers[0][0]
    servers = tuple(
        tuple(
            replace(
                template,
                server_id=f"s-{wave}-{row}",
                hostname=f"host-{wave}-{row}",
                wave_index=wave,
                row=row,
                status=ServerStatus.LAUNCHED if row < launched else ServerStatus.PENDING,
                progress=100 if row < launched else 0,
            )
            for row in range(per_wave)
        )
        for wave in range(len(snapshot.waves))
    )
    return replace(snapshot, servers=servers)


def lines_match(model: ProgressTreeModel, snapshot: ProgressSnapshot) -> bool:
    for wave, rows in enumerate(snapshot.servers):
        parent = model.index(wave, NAME)
        if model.rowCount(parent) != len(rows):
            return False
        for row, server in enumerate(rows):
            if model.data(model.index(row, NAME, parent)) != server.label:
                return False
            if model.data(model.index(row, STATUS, parent)) != server.status.value:
                return False
            if model.data(model.index(row, PROGRESS, parent), PROGRESS_ROLE) != server.progress:
                return False
    return True


def test_a_large_execution_fills_a_slice_per_turn_from_the_latest_snapshot(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    """3 x 150 lines: a slice now, the rest on later event-loop turns (the GUI never stops for all of
    them); a snapshot applied halfway shows in the lines in by then and in those inserted after. (Qt's
    model tester checks the whole model at each insertion: more lines would only make it slow.)"""
    base = drill_session(services).snapshot()
    before, after = large(base, 150), large(base, 150, launched=120)
    model = ProgressTreeModel()
    filled_waves: list[int] = []
    model.wave_filled.connect(filled_waves.append)
    with watched(model):
        model.set_snapshot(before)
        inserted = sum(model.rowCount(model.index(w, NAME)) for w in range(model.rowCount()))
        assert inserted == SLICE_ROWS and model.filling(), "one slice at once, the rest later"
        assert filled_waves == [0]
        with qtbot.waitSignal(model.filled, timeout=10_000):
            model.set_snapshot(after)  # no event-loop turn yet: the first slice's lines are behind it
    assert not model.filling()
    assert filled_waves == [0, 1, 2]
    assert lines_match(model, after), "every line, inserted before or after the change, shows the latest"


def test_a_skipped_snapshot_or_a_whole_new_one_still_shows_the_truth(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    """Lines are found changed by their row, not by the snapshot's delta: a snapshot whose delta is
    relative to one the model never saw (another execution was followed meanwhile), or a new tracker's
    snapshot of every row, still ends with every line true."""
    base = drill_session(services).snapshot()
    first, second, third = (large(base, 200, launched=n) for n in (0, 60, 150))
    model = ProgressTreeModel()
    model.set_snapshot(first)
    qtbot.waitUntil(lambda: not model.filling())
    model.set_snapshot(replace(third, delta=replace(third.delta, servers=())))  # says nothing changed
    qtbot.waitUntil(lambda: not model.filling())
    assert lines_match(model, third)
    model.set_snapshot(second)  # 3 x 90 lines back to PENDING: more than a slice, rewritten a slice per turn
    assert model.filling()
    qtbot.waitUntil(lambda: not model.filling())
    assert lines_match(model, second)


def test_painting_the_tree_calls_no_python() -> None:
    """The view paints from the C++ model and its stock delegate: a Python ``data``, ``index``,
    ``parent`` or delegate ``paint`` runs for each cell on each repaint and must take the GIL back from
    the loop thread each time (80 ms repaints during a 3,000-server run: bench_progress.py --targets)."""
    for name in ("data", "index", "parent", "rowCount", "columnCount", "flags", "hasChildren", "headerData"):
        assert name not in vars(ProgressTreeModel), f"ProgressTreeModel.{name} would run on every repaint"
    widget = ProgressWidget()
    tree = widget.tree
    assert type(tree) is QTreeView and type(tree.itemDelegate()) is QStyledItemDelegate
    assert all(tree.itemDelegateForColumn(c) is None for c in range(len(COLUMNS)))
    assert type(tree.header()) is QHeaderView
    widget.deleteLater()


def test_a_line_is_written_whole_its_name_included(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    """A new tracker reads hostnames again (an inventory refresh may have renamed a server) and a failed
    server's name turns red: the name column is written and repainted like the others."""
    base = drill_session(services).snapshot()
    model = ProgressTreeModel()
    model.set_snapshot(base)
    renamed = replace(base.servers[0][0], hostname="renamed-db", status=ServerStatus.FAILED, reason="boom")
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, _roles: changed.append((top.column(), bottom.column())))
    model.set_snapshot(replace(base, servers=((renamed,), *base.servers[1:])))
    name = model.index(0, NAME, model.index(0, NAME))
    assert model.data(name) == renamed.label and "renamed-db" in renamed.label
    assert model.data(name, Qt.ItemDataRole.ForegroundRole) is not None, "red across the line"
    assert changed == [(0, len(COLUMNS) - 1)], "the whole line, its name included, repaints"


def test_bars_follow_the_column_width_and_are_painted_anew_on_a_restyle(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    """A bar is a picture: as wide as its column (less the view's margin) when the column is resized,
    and painted anew when the style or palette changes (dark mode), never left in the old one."""
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    widget.show()
    widget.show_snapshot(drill_session(services).snapshot())
    model = widget.model
    cell = model.index(0, PROGRESS, model.index(0, NAME))

    def bar() -> QPixmap:
        value = model.data(cell, Qt.ItemDataRole.DecorationRole)
        assert isinstance(value, QPixmap)
        return value

    widget.tree.header().resizeSection(PROGRESS, 200)
    assert round(bar().width() / bar().devicePixelRatio()) == 190
    before = bar().cacheKey()
    palette = QPalette(widget.palette())
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#00ff00"))
    widget.setPalette(palette)
    assert bar().cacheKey() != before, "painted anew in the new palette"
    assert round(bar().width() / bar().devicePixelRatio()) == 190
