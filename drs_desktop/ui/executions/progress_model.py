"""The progress tree: waves, each with its servers, read from the latest ``ProgressSnapshot``.

The model is a ``QStandardItemModel`` that holds each cell's text, colour, icon and progress bar: the view
paints from it without calling Python. A Python model's ``data``, ``index`` and ``parent`` run about 1,500
times per repaint, each taking the GIL back from the execution's loop thread; while that thread parsed
DRS's answers for a 3,000-server run across 10 targets, a repaint took 80 ms instead of 10, and the GUI's
event loop stalled that long (tests/benchmarks/bench_progress.py). Python runs here only when a snapshot is
applied, for the rows it changed.

An update never resets the model while an execution runs (DESIGN §3.5): a reset drops the selection,
the expanded waves and the scroll position. The lines whose row changed are written (the snapshot's delta,
found again by identity: ``ProgressTreeModel``), and ``dataChanged`` is emitted once per run of adjacent
lines. Lines are inserted once, when the model first shows an execution, and removed only when it shows
another one. A large execution's server lines are inserted, and a whole-snapshot rewrite written,
``SLICE_ROWS`` at a time, one slice per event-loop turn, each from the latest snapshot, so the GUI thread
never stops for all of it at once; until the last slice ``filling()`` is true.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel

from drs_desktop.domain.engine.state import WavePhase
from drs_desktop.domain.views.progress import ProgressSnapshot, ServerRow, WaveRow
from drs_desktop.domain.views.progress_steps import StepRow
from drs_desktop.ui.executions.history_format import duration_text
from drs_desktop.ui.executions.progress_bars import OUTCOME_ROLE, PROGRESS_ROLE, ProgressBars
from drs_desktop.ui.executions.progress_lines import (
    server_outcome,
    server_texts,
    server_tooltip,
    step_icon_state,
    step_outcome,
    step_texts,
    step_tooltip,
)
from drs_desktop.ui.status_icons import color_of, status_icon

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex

COLUMNS = (
    "Wave / server",
    "Status",
    "Progress",
    "Phase",
    "Servers",
    "Elapsed",
    "ETA",
    "Job",
    "Instance",
    "Last event",
)
NAME, STATUS, PROGRESS, PHASE, SERVERS, ELAPSED, ETA, JOB, INSTANCE, LAST_EVENT = range(len(COLUMNS))
#: The role answering the wave index of a row (on its first column: a wave's own, or its server's wave).
WAVE_ROLE = int(Qt.ItemDataRole.UserRole) + 2
#: The role answering a server row's server ID (on its first column; None for a wave).
SERVER_ROLE = int(Qt.ItemDataRole.UserRole) + 3
#: The role answering an automation step row's key (``automation_state.step_key``; None otherwise).
STEP_ROLE = int(Qt.ItemDataRole.UserRole) + 4
#: Server lines inserted, or rewritten, per event-loop turn (3-4 ms of the GUI thread).
SLICE_ROWS = 100
#: The columns that carry a line's tooltip (its server ID, what it waits for, why it failed, its retries).
_TOOLTIP_COLUMNS = (NAME, STATUS, PHASE)

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)


def wave_state_name(wave: WaveRow) -> str:
    """A stopped run's wave that did not complete says how it ended (``WaveRow.final``), never the launch
    phase it was in when the run stopped."""
    return wave.final or ("HELD" if wave.held else wave.phase.value)


#: A stopped run's wave that did not complete (``WaveRow.final``) -> its outcome: red, grey or amber.
_WAVE_FINALS = {"FAILED": "FAILED", "CANCELLED": "CANCELLED", "CANCELLING": "CANCELLING"}


def wave_outcome(wave: WaveRow) -> str | None:
    """How a wave ended, or is ending, without launching all it should: "HELD" (a critical server
    failed), "FAILED" or "CANCELLED" (a stopped run's wave that did not complete), "CANCELLING" (its DRS
    jobs still run after a cancel), "SKIPPED"; None while it runs on or once it completed. Its servers'
    mean progress (a failed or cancelled server counts as 100) must never read as a blue bar then."""
    if wave.held:
        return "HELD"
    if wave.final in _WAVE_FINALS:
        return _WAVE_FINALS[wave.final]
    return "SKIPPED" if wave.phase is WavePhase.SKIPPED else None


def wave_texts(wave: WaveRow) -> tuple[str, ...]:
    """A wave row's words, column by column (the progress column shows a bar, no words)."""
    counts = wave.counts
    servers = f"{counts.launched}/{counts.total} launched"
    if counts.failed:
        servers += f", {counts.failed} failed"
    if counts.running:
        servers += f", {counts.running} running"
    return (
        f"{wave.index + 1}. {wave.name}",
        wave_state_name(wave),
        "",
        wave.detail,
        servers,
        duration_text(wave.elapsed),
        duration_text(wave.eta),
        "",
        "",
        "",
    )


def runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of adjacent rows."""
    out: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if out and row == out[-1][1] + 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


class ProgressTreeModel(QStandardItemModel):
    """Top level: waves. Children: the wave's servers, in the snapshot's order, then its automation steps
    (``snapshot.steps``: a step line's row is the wave's server count plus its own ``row``; while a large
    wave's servers come in slices, each goes in before the steps).

    It remembers the row (``WaveRow``, ``ServerRow``) each line was last written from, and writes the lines
    whose row is no longer the snapshot's: the tracker reuses an unchanged server's row as is, so that is
    the snapshot's delta when the snapshots come one after the other, and still the truth when one was
    skipped (another execution followed meanwhile) or is a new tracker's whole snapshot.
    """

    #: A wave's first server rows are in (its index): the view expands it, as it shows every wave open.
    wave_filled = Signal(int)
    #: Every line is in and written from the latest snapshot (after a fill or refresh by slices).
    filled = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self._snapshot: ProgressSnapshot | None = None
        self._bars = ProgressBars()
        self._prototype = QStandardItem()
        self._prototype.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        #: The rows each wave's and server's line was written from (a wave's servers: the lines in so far).
        self._waves: list[WaveRow] = []
        self._servers: list[list[ServerRow]] = []
        self._steps: list[list[StepRow]] = []
        #: Server lines still to insert, and whether lines inserted are behind the snapshot.
        self._unfilled = 0
        self._behind = False
        self._slice = QTimer(self)
        self._slice.setSingleShot(True)
        self._slice.setInterval(0)
        self._slice.timeout.connect(self._next_slice)

    # -- feeding

    def snapshot(self) -> ProgressSnapshot | None:
        return self._snapshot

    def filling(self) -> bool:
        """Whether lines are still to be inserted or written, a slice per event-loop turn."""
        return bool(self._unfilled) or self._behind

    def set_snapshot(self, snapshot: ProgressSnapshot) -> None:
        """Show ``snapshot``: lines replaced for another execution, the changed lines written otherwise."""
        old = self._snapshot
        if old is None or old.execution_id != snapshot.execution_id or not _same_shape(old, snapshot):
            self._replace_rows(snapshot)
            return
        self._snapshot = snapshot
        self._catch_up(SLICE_ROWS)
        if self.filling():
            self._slice.start()

    def clear(self) -> None:  # the lines only: the columns and headers stay
        self._slice.stop()
        self._unfilled, self._behind = 0, False
        self._waves, self._servers, self._steps = [], [], []
        if self.rowCount():
            self.removeRows(0, self.rowCount())
        self._snapshot = None

    def _replace_rows(self, snapshot: ProgressSnapshot) -> None:
        self.clear()
        self._snapshot = snapshot
        root = self.invisibleRootItem()
        for wave in snapshot.waves:
            items = self._new_row(wave_texts(wave))
            items[NAME].setData(wave.index, WAVE_ROLE)
            self._write_wave(items, wave, fresh=True)
            root.appendRow(items)
            for step in _steps_of(snapshot, wave.index):
                children = self._new_row(step_texts(step, len(COLUMNS)))
                children[NAME].setData(wave.index, WAVE_ROLE)
                children[NAME].setData(step.key, STEP_ROLE)
                self._write_step(children, step, fresh=True)
                items[NAME].appendRow(children)
        self._waves = list(snapshot.waves)
        self._steps = [list(_steps_of(snapshot, i)) for i in range(len(snapshot.waves))]
        self._servers = [[] for _ in snapshot.waves]
        self._unfilled = snapshot.server_count
        self._next_slice()  # all of a small run now; a large one's first slice now, the rest a turn each

    def _next_slice(self) -> None:
        if self._snapshot is None:
            return
        budget = SLICE_ROWS - self._fill(SLICE_ROWS) if self._unfilled else SLICE_ROWS
        if budget > 0:
            self._catch_up(budget)
        if self.filling():
            self._slice.start()
        else:
            self.filled.emit()

    def _fill(self, budget: int) -> int:
        """Insert up to ``budget`` server lines (from the latest snapshot); how many were inserted."""
        snapshot = self._snapshot
        assert snapshot is not None
        done = 0
        for wave_index, servers in enumerate(snapshot.servers):
            written = self._servers[wave_index]
            first = len(written)
            if first >= len(servers):
                continue
            parent = self.item(wave_index, NAME)
            last = min(len(servers), first + budget - done)
            for server in servers[first:last]:
                items = self._new_row(server_texts(server))
                items[NAME].setData(wave_index, WAVE_ROLE)
                items[NAME].setData(server.server_id, SERVER_ROLE)
                self._write_server(items, server, fresh=True)
                parent.insertRow(len(written), items)  # before the wave's step lines
                written.append(server)
            done += last - first
            if first == 0:
                self.wave_filled.emit(wave_index)
            if done >= budget:
                break
        self._unfilled -= done
        return done

    def _catch_up(self, budget: int) -> None:
        """Write the lines whose row the snapshot replaced: every wave, and up to ``budget`` servers (the
        rest on the next turns: ``_behind``)."""
        snapshot = self._snapshot
        assert snapshot is not None
        self._write_waves([i for i, wave in enumerate(snapshot.waves) if wave != self._waves[i]])
        changed = []
        for wave_index, written in enumerate(self._servers):
            for row, (old, new) in enumerate(zip(written, snapshot.servers[wave_index], strict=False)):
                if new is old:
                    continue
                if new == old:  # a new tracker's equal row: adopted, so the next check is by identity
                    written[row] = new
                else:
                    changed.append((wave_index, row))
        self._behind = len(changed) > budget
        self._write_servers(changed[:budget])
        self._write_steps(snapshot)

    def _new_row(self, texts: tuple[str, ...]) -> list[QStandardItem]:
        items = []
        for text in texts:
            item = self._prototype.clone()
            item.setText(text)
            items.append(item)
        return items

    # -- writing cells

    def _write_waves(self, chosen: list[int]) -> None:
        snapshot = self._snapshot
        assert snapshot is not None
        if not chosen:
            return
        self.blockSignals(True)  # one dataChanged per run of rows, not one per cell and role
        try:
            for wave_index in chosen:
                wave = snapshot.waves[wave_index]
                self._write_wave([self.item(wave_index, column) for column in range(len(COLUMNS))], wave)
                self._waves[wave_index] = wave
        finally:
            self.blockSignals(False)
        last = len(COLUMNS) - 1
        for top, end in runs(chosen):
            self.dataChanged.emit(self.index(top, 0), self.index(end, last))

    def _write_servers(self, rows: list[tuple[int, int]]) -> None:
        snapshot = self._snapshot
        assert snapshot is not None
        by_wave: dict[int, list[int]] = {}
        for wave_index, row in rows:
            by_wave.setdefault(wave_index, []).append(row)
        if not by_wave:
            return
        self.blockSignals(True)
        try:
            for wave_index, wave_rows in by_wave.items():
                wave_item = self.item(wave_index, NAME)
                for row in wave_rows:
                    server = snapshot.servers[wave_index][row]
                    self._write_server(
                        [wave_item.child(row, column) for column in range(len(COLUMNS))], server
                    )
                    self._servers[wave_index][row] = server
        finally:
            self.blockSignals(False)
        last = len(COLUMNS) - 1
        for wave_index, wave_rows in by_wave.items():
            parent = self.index(wave_index, NAME)
            for top, end in runs(wave_rows):
                self.dataChanged.emit(self.index(top, 0, parent), self.index(end, last, parent))

    def _write_steps(self, snapshot: ProgressSnapshot) -> None:
        """Write the step lines whose row changed (a handful per run: compared by value)."""
        for wave_index, written in enumerate(self._steps):
            wave_item = self.item(wave_index, NAME)
            parent = self.index(wave_index, NAME)
            first = len(self._servers[wave_index])
            for row, (old, new) in enumerate(zip(written, _steps_of(snapshot, wave_index), strict=True)):
                if new == old:
                    continue
                line = first + row
                self.blockSignals(True)
                try:
                    self._write_step([wave_item.child(line, c) for c in range(len(COLUMNS))], new)
                finally:
                    self.blockSignals(False)
                written[row] = new
                self.dataChanged.emit(self.index(line, 0, parent), self.index(line, len(COLUMNS) - 1, parent))

    def _write_step(self, items: list[QStandardItem], step: StepRow, *, fresh: bool = False) -> None:
        if not fresh:
            _write_texts(items, step_texts(step, len(COLUMNS)))
        self._write_common(items, step_tooltip(step), step_icon_state(step), None, step_outcome(step), fresh)

    def _write_wave(self, items: list[QStandardItem], wave: WaveRow, *, fresh: bool = False) -> None:
        if not fresh:
            _write_texts(items, wave_texts(wave))
        outcome = wave_outcome(wave)
        tooltip = wave.detail or None
        self._write_common(items, tooltip, wave_state_name(wave), wave.progress, outcome, fresh)

    def _write_server(self, items: list[QStandardItem], server: ServerRow, *, fresh: bool = False) -> None:
        if not fresh:
            _write_texts(items, server_texts(server))
        outcome = server_outcome(server)
        tooltip = server_tooltip(server)
        self._write_common(items, tooltip, server.status.value, server.progress, outcome, fresh)

    def _write_common(
        self,
        items: list[QStandardItem],
        tooltip: str | None,
        state: str,
        progress: int | None,
        outcome: str | None,
        fresh: bool,
    ) -> None:
        """What both kinds of line show besides their words: the tooltip (on ``_TOOLTIP_COLUMNS``), the
        colour of an outcome on every cell, the status icon, and the progress bar with the value and
        outcome it shows. ``fresh``: new items, which have nothing to clear."""
        colour: QColor | None = color_of(outcome) if outcome is not None else None
        for column in _TOOLTIP_COLUMNS:
            items[column].setData(tooltip, _TOOLTIP)
        if colour is not None or not fresh:
            for item in items:
                item.setData(colour, _FOREGROUND)
        items[STATUS].setData(status_icon(state), _DECORATION)
        self._write_bar(items[PROGRESS], progress, outcome)

    def restyle_bars(self, *, width: int, height: int, ratio: float, repaint: bool = False) -> None:
        """Bars of this size for this screen (the view's progress column, font and pixel ratio); with
        ``repaint``, painted anew even at the same size (the style or palette changed). Every line's bar
        is replaced: a pixmap is a picture of the style it was painted in."""
        if not self._bars.configure(width=width, height=height, ratio=ratio) and not repaint:
            return
        self._bars.forget()
        if self._snapshot is None:
            return
        self.blockSignals(True)
        try:
            for wave_index, wave in enumerate(self._waves):
                self._write_bar(self.item(wave_index, PROGRESS), wave.progress, wave_outcome(wave))
                wave_item = self.item(wave_index, NAME)
                for row, server in enumerate(self._servers[wave_index]):
                    self._write_bar(wave_item.child(row, PROGRESS), server.progress, server_outcome(server))
        finally:
            self.blockSignals(False)
        for wave_index, servers in enumerate(self._servers):
            self.dataChanged.emit(self.index(wave_index, PROGRESS), self.index(wave_index, PROGRESS))
            if servers:
                parent = self.index(wave_index, NAME)
                self.dataChanged.emit(
                    self.index(0, PROGRESS, parent), self.index(len(servers) - 1, PROGRESS, parent)
                )

    def _write_bar(self, item: QStandardItem, progress: int | None, outcome: str | None) -> None:
        item.setData(progress, PROGRESS_ROLE)
        item.setData(outcome, OUTCOME_ROLE)
        item.setData(self._bars.bar(progress, outcome) if isinstance(progress, int) else None, _DECORATION)

    # -- reading rows

    def wave_at(self, index: AnyIndex) -> WaveRow | None:
        if self._snapshot is None or not index.isValid() or index.parent().isValid():
            return None
        return self._snapshot.waves[index.row()]

    def server_at(self, index: AnyIndex) -> ServerRow | None:
        if self._snapshot is None or not index.isValid():
            return None
        parent = index.parent()
        if not parent.isValid() or index.row() >= len(self._servers[parent.row()]):
            return None
        return self._snapshot.servers[parent.row()][index.row()]

    def step_at(self, index: AnyIndex) -> StepRow | None:
        """The automation step a line shows (None: a wave's or a server's line)."""
        if self._snapshot is None or not index.isValid() or not index.parent().isValid():
            return None
        wave_index = index.parent().row()
        row = index.row() - len(self._servers[wave_index])
        steps = self._steps[wave_index]
        return steps[row] if 0 <= row < len(steps) else None

    def wave_index_of(self, index: AnyIndex) -> int | None:
        if not index.isValid():
            return None
        parent = index.parent()
        return parent.row() if parent.isValid() else index.row()


def _write_texts(items: list[QStandardItem], texts: tuple[str, ...]) -> None:
    for item, text in zip(items, texts, strict=True):
        item.setData(text, _DISPLAY)


def _steps_of(snapshot: ProgressSnapshot, wave_index: int) -> tuple[StepRow, ...]:
    return snapshot.steps[wave_index] if wave_index < len(snapshot.steps) else ()


def _same_shape(a: ProgressSnapshot, b: ProgressSnapshot) -> bool:
    return (
        len(a.servers) == len(b.servers)
        and all(len(x) == len(y) for x, y in zip(a.servers, b.servers, strict=True))
        and all(len(_steps_of(a, i)) == len(_steps_of(b, i)) for i in range(len(a.servers)))
    )
