"""A plan's drill RTOs over time: one point per drill, a dashed line at the RTO target and one at the
predicted RTO.

Why a picture: whether drills get slower, and how close they come to the target, is a trend; a list
of durations hides it. Drawn with QPainter (QtCharts is not bundled). Drills are spaced evenly in
their order (not by date): drills months apart and drills an hour apart read alike, and the tooltip
gives each one's date.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, timedelta

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.views.readiness import DrillPoint

logger = logging.getLogger(__name__)

MET_COLOUR = QColor("#2e7d32")
MISSED_COLOUR = QColor("#c62828")
NO_RTO_COLOUR = QColor("#9e9e9e")
TARGET_COLOUR = QColor("#ef6c00")
PREDICTED_COLOUR = QColor("#1565c0")
HEIGHT = 120
AXIS_WIDTH = 84


class RtoChartWidget(QWidget):
    """Points of past drills' RTO achieved (grey at the bottom: a drill that never had every server
    ready), the target and the prediction as dashed lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rto-chart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._drills: tuple[DrillPoint, ...] = ()
        self._target: timedelta | None = None
        self._predicted: timedelta | None = None

    def set_drills(
        self, drills: Sequence[DrillPoint], target: timedelta | None, predicted: timedelta | None
    ) -> None:
        self._drills = tuple(drills)
        self._target = target
        self._predicted = predicted
        lines = []
        for drill in drills:
            when = drill.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            rto = format_duration(drill.rto, exact=True) if drill.rto is not None else "no RTO"
            lines.append(f"{when}: {drill.outcome or 'not finished'}, {rto}")
        self.setToolTip("\n".join(lines))
        self.update()

    def points(self) -> int:
        return len(self._drills)

    def sizeHint(self) -> QSize:
        return QSize(360, HEIGHT)

    def minimumSizeHint(self) -> QSize:
        return QSize(220, HEIGHT)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().text().color()
        if not self._drills:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No drill yet")
            return
        values = [d.rto.total_seconds() for d in self._drills if d.rto is not None]
        for line in (self._target, self._predicted):
            if line is not None:
                values.append(line.total_seconds())
        top = max([60.0, *values]) * 1.15
        plot = QRectF(AXIS_WIDTH, 8, max(40.0, self.width() - AXIS_WIDTH - 12), HEIGHT - 28)

        def y_of(seconds: float) -> float:
            return plot.bottom() - plot.height() * seconds / top

        painter.setPen(QPen(text, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        painter.drawText(
            QRectF(0, plot.top() - 6, AXIS_WIDTH - 4, 14),
            Qt.AlignmentFlag.AlignRight,
            format_duration(top),
        )
        painter.drawText(QRectF(0, plot.bottom() - 7, AXIS_WIDTH - 4, 14), Qt.AlignmentFlag.AlignRight, "0")
        # The target's label on the left, the prediction's on the right: the two lines are often close.
        for line, colour, name, align in (
            (self._target, TARGET_COLOUR, "target", Qt.AlignmentFlag.AlignLeft),
            (self._predicted, PREDICTED_COLOUR, "predicted", Qt.AlignmentFlag.AlignRight),
        ):
            if line is None:
                continue
            y = y_of(line.total_seconds())
            painter.setPen(QPen(colour, 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.drawText(
                QRectF(plot.left() + 4, y - 15, plot.width() - 8, 14),
                align,
                f"{name} {format_duration(line, exact=True)}",
            )
        count = len(self._drills)
        step = plot.width() / count
        previous: QPointF | None = None
        for index, drill in enumerate(self._drills):
            x = plot.left() + step * (index + 0.5)
            if drill.rto is None:
                colour, y = NO_RTO_COLOUR, plot.bottom() - 4
            else:
                missed = self._target is not None and drill.rto > self._target
                colour = MISSED_COLOUR if missed else MET_COLOUR
                y = y_of(drill.rto.total_seconds())
                if previous is not None:
                    painter.setPen(QPen(text, 1))
                    painter.drawLine(previous, QPointF(x, y))
                previous = QPointF(x, y)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(QPointF(x, y), 4.5, 4.5)
        painter.setPen(text)
        first = self._drills[0].started_at.astimezone(UTC).strftime("%Y-%m-%d")
        last = self._drills[-1].started_at.astimezone(UTC).strftime("%Y-%m-%d")
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 3, plot.width(), 16),
            Qt.AlignmentFlag.AlignLeft,
            f"{count} drill(s), {first}" + (f" … {last}" if last != first else ""),
        )
