"""The execution as a Gantt chart: one bar per wave and per server, on the execution's own time axis.

Painted with QPainter from the latest ``ProgressSnapshot`` (no widget per bar): a wave's bar runs from
its start to its end (or now); a server's bar shows its wait in the queue (light) and then its launch
(coloured by status); a retried server keeps its failed attempt's bar, in red, before the new one. A
dashed line marks the plan's RTO target (the axis reaches it). Only the rows inside the repainted
rectangle are drawn, so a 1,000-server execution inside a scroll area costs what the visible rows
cost. Times are the snapshot's (the runner's clock), so the chart is right in demo mode too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.ui.executions.progress_model import wave_state_name
from drs_desktop.ui.status_icons import color_of

logger = logging.getLogger(__name__)

ROW_HEIGHT = 18
AXIS_HEIGHT = 22
LABEL_WIDTH = 190
RIGHT_MARGIN = 12
#: The axis spans at least this much, so the first seconds of a run do not fill the width.
MIN_SPAN = timedelta(minutes=5)
_TICK_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
_QUEUED = QColor("#d6d6d6")


@dataclass(frozen=True)
class TimelineRow:
    """A row of the chart: a wave (``server_row`` None) or one of its servers."""

    wave_index: int
    server_row: int | None
    label: str


@dataclass(frozen=True)
class Bar:
    """A painted bar: its chart row, its kind ("wave", "queued", "server"), x range and state name."""

    row: int
    kind: str
    x0: float
    x1: float
    state: str


class TimelineWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self._snapshot: ProgressSnapshot | None = None
        self._rows: list[TimelineRow] = []
        self.paints = 0

    # -- feeding

    def set_snapshot(self, snapshot: ProgressSnapshot) -> None:
        old = self._snapshot
        if (
            old is None
            or snapshot.delta.full
            or old.execution_id != snapshot.execution_id
            or old.server_count != snapshot.server_count
        ):
            self._rows = _layout(snapshot)
            self.setFixedHeight(AXIS_HEIGHT + ROW_HEIGHT * len(self._rows) + 4)
        self._snapshot = snapshot
        self.update()

    def clear(self) -> None:
        self._snapshot = None
        self._rows = []
        self.setFixedHeight(AXIS_HEIGHT)
        self.update()

    def rows(self) -> list[TimelineRow]:
        return list(self._rows)

    def sizeHint(self) -> QSize:
        return QSize(800, AXIS_HEIGHT + ROW_HEIGHT * len(self._rows) + 4)

    # -- geometry (also what tests read)

    def time_range(self) -> tuple[datetime, datetime] | None:
        snapshot = self._snapshot
        if snapshot is None:
            return None
        start = snapshot.started_at
        end = snapshot.finished_at or snapshot.now
        if snapshot.rto_target is not None:  # the RTO line is on the chart: how much budget is left
            end = max(end, start + snapshot.rto_target)
        return start, max(end, start + MIN_SPAN)

    def rto_x(self) -> float | None:
        """Where the RTO target line is drawn (None without a target)."""
        snapshot = self._snapshot
        if snapshot is None or snapshot.rto_target is None:
            return None
        return self.x_of(snapshot.started_at + snapshot.rto_target)

    def x_of(self, moment: datetime) -> float:
        span = self.time_range()
        if span is None:
            return float(LABEL_WIDTH)
        start, end = span
        width = max(1, self.width() - LABEL_WIDTH - RIGHT_MARGIN)
        fraction = (moment - start).total_seconds() / max(1.0, (end - start).total_seconds())
        return LABEL_WIDTH + max(0.0, min(1.0, fraction)) * width

    def bars(self, first: int = 0, last: int | None = None) -> list[Bar]:
        """The bars of chart rows ``first``..``last`` (all by default)."""
        snapshot = self._snapshot
        if snapshot is None:
            return []
        end = snapshot.finished_at or snapshot.now
        last = len(self._rows) - 1 if last is None else min(last, len(self._rows) - 1)
        out: list[Bar] = []
        for number in range(max(0, first), last + 1):
            row = self._rows[number]
            if row.server_row is None:
                wave = snapshot.waves[row.wave_index]
                if wave.started_at is not None:
                    stop = wave.ended_at or end
                    out.append(
                        Bar(
                            number, "wave", self.x_of(wave.started_at), self.x_of(stop), wave_state_name(wave)
                        )
                    )
                continue
            server = snapshot.servers[row.wave_index][row.server_row]
            for first_at, last_at, status in server.earlier:
                out.append(Bar(number, "attempt", self.x_of(first_at), self.x_of(last_at), status.value))
            if server.queued_at is not None:
                waited = server.started_at or server.ended_at or end
                out.append(Bar(number, "queued", self.x_of(server.queued_at), self.x_of(waited), "PENDING"))
            if server.started_at is not None:
                stop = server.ended_at or end
                out.append(
                    Bar(number, "server", self.x_of(server.started_at), self.x_of(stop), server.status.value)
                )
        return out

    # -- painting

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paints += 1
        snapshot = self._snapshot
        painter = QPainter(self)
        try:
            if snapshot is None:
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No execution")
                return
            area = event.rect()
            if area.top() < AXIS_HEIGHT:
                self._paint_axis(painter)
            first = max(0, (area.top() - AXIS_HEIGHT) // ROW_HEIGHT)
            last = (area.bottom() - AXIS_HEIGHT) // ROW_HEIGHT
            self._paint_rows(painter, first, last)
            self._paint_rto(painter)
        finally:
            painter.end()

    def _paint_axis(self, painter: QPainter) -> None:
        span = self.time_range()
        if span is None:
            return
        start, end = span
        seconds = (end - start).total_seconds()
        width = max(1, self.width() - LABEL_WIDTH - RIGHT_MARGIN)
        step = next((s for s in _TICK_STEPS if width * s / seconds >= 70), _TICK_STEPS[-1])
        grid = self.palette().color(QPalette.ColorRole.Mid)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        painter.drawText(
            QRect(4, 0, LABEL_WIDTH - 8, AXIS_HEIGHT),
            Qt.AlignmentFlag.AlignVCenter,
            f"from {start:%H:%M:%S} UTC",
        )
        tick = 0
        while tick <= seconds:
            x = int(self.x_of(start + timedelta(seconds=tick)))
            painter.setPen(grid)
            painter.drawLine(x, AXIS_HEIGHT - 5, x, AXIS_HEIGHT)
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            hours, rest = divmod(tick, 3600)
            painter.drawText(x + 2, AXIS_HEIGHT - 7, f"+{hours}:{rest // 60:02d}")
            tick += step

    def shown_label(self, number: int) -> str:
        """Row ``number``'s label as painted: elided in the middle to fit the label column, so that a
        server's target (the label's end, "web-01 · staging-07") stays in sight, and cut text never
        looks like a whole name."""
        row = self._rows[number]
        indent = 4 if row.server_row is None else 18
        return self.fontMetrics().elidedText(
            row.label, Qt.TextElideMode.ElideMiddle, LABEL_WIDTH - indent - 4
        )

    def _paint_rows(self, painter: QPainter, first: int, last: int) -> None:
        text = self.palette().color(QPalette.ColorRole.Text)
        for number in range(first, min(last, len(self._rows) - 1) + 1):
            row = self._rows[number]
            top = AXIS_HEIGHT + number * ROW_HEIGHT
            if row.server_row is None:
                painter.fillRect(
                    QRect(0, top, self.width(), ROW_HEIGHT),
                    self.palette().color(QPalette.ColorRole.AlternateBase),
                )
            painter.setPen(text)
            indent = 4 if row.server_row is None else 18
            painter.drawText(
                QRect(indent, top, LABEL_WIDTH - indent - 4, ROW_HEIGHT),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                self.shown_label(number),
            )
        painter.setPen(Qt.PenStyle.NoPen)
        for bar in self.bars(first, last):
            top = AXIS_HEIGHT + bar.row * ROW_HEIGHT
            inset = 3 if bar.kind == "wave" else 5
            width = max(2.0, bar.x1 - bar.x0)
            colour = _QUEUED if bar.kind == "queued" else color_of(bar.state)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(bar.x0, top + inset, width, ROW_HEIGHT - 2 * inset), 2, 2)

    def _paint_rto(self, painter: QPainter) -> None:
        x = self.rto_x()
        if x is None:
            return
        pen = QPen(color_of("FAILED"))
        pen.setStyle(Qt.PenStyle.DashLine)
        pen.setWidth(2)
        painter.setPen(pen)
        painter.drawLine(int(x), AXIS_HEIGHT - 4, int(x), self.height())
        painter.drawText(QRect(int(x) - 44, 0, 40, AXIS_HEIGHT - 6), int(Qt.AlignmentFlag.AlignRight), "RTO")


def _layout(snapshot: ProgressSnapshot) -> list[TimelineRow]:
    rows: list[TimelineRow] = []
    for wave in snapshot.waves:
        rows.append(TimelineRow(wave.index, None, f"{wave.index + 1}. {wave.name}"))
        rows.extend(TimelineRow(wave.index, s.row, s.label) for s in snapshot.servers[wave.index])
    return rows
