"""Replication lag per server of a plan, as horizontal bars against the plan's RPO.

Why a picture: which servers lag, and by how much past the RPO, reads at a glance from bar lengths and
colours, where a table of durations must be read row by row. Drawn with QPainter (QtCharts is not
bundled). The scale is logarithmic: lags span seconds to days, and a linear scale would leave every
healthy server an invisible sliver beside one stalled for hours.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.views.readiness import ServerLag

logger = logging.getLogger(__name__)

OK_COLOUR = QColor("#2e7d32")
OVER_COLOUR = QColor("#c62828")
UNKNOWN_COLOUR = QColor("#9e9e9e")
RPO_COLOUR = QColor("#ef6c00")
ROW_HEIGHT = 18
LABEL_WIDTH = 120
VALUE_WIDTH = 90
MAX_ROWS = 12  # beyond this, the worst lags are drawn and the rest counted


class LagChartWidget(QWidget):
    """Bars of ``lag_seconds`` per server (worst first), a dashed line at the RPO."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lag-chart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._lags: tuple[ServerLag, ...] = ()
        self._rpo_seconds: int | None = None
        self._hidden = 0

    def set_lags(self, lags: Sequence[ServerLag], rpo_minutes: int | None) -> None:
        ordered = sorted(lags, key=lambda s: -(s.lag_seconds if s.lag_seconds is not None else -1))
        self._lags = tuple(ordered[:MAX_ROWS])
        self._hidden = max(0, len(ordered) - MAX_ROWS)
        self._rpo_seconds = rpo_minutes * 60 if rpo_minutes is not None else None
        self.setToolTip(
            "\n".join(f"{s.label}: {_lag_text(s)} ({s.replication_state or '?'})" for s in ordered)
        )
        self.updateGeometry()
        self.update()

    def rows(self) -> int:
        return len(self._lags)

    def sizeHint(self) -> QSize:
        extra = 1 if self._hidden else 0
        return QSize(360, 24 + ROW_HEIGHT * (len(self._lags) + extra))

    def minimumSizeHint(self) -> QSize:
        return QSize(260, self.sizeHint().height())

    def _x(self, seconds: float, left: float, width: float, top_seconds: float) -> float:
        return left + width * math.log10(1 + max(seconds, 0.0)) / math.log10(1 + top_seconds)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette_text = self.palette().text().color()
        if not self._lags:
            painter.setPen(palette_text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No lag reported")
            return
        known = [s.lag_seconds for s in self._lags if s.lag_seconds is not None]
        top = max([60.0, *(float(v) for v in known), float(self._rpo_seconds or 0) * 1.5])
        left = float(LABEL_WIDTH)
        width = max(40.0, self.width() - LABEL_WIDTH - VALUE_WIDTH - 8.0)
        metrics = painter.fontMetrics()
        for row, server in enumerate(self._lags):
            y = 4 + row * ROW_HEIGHT
            painter.setPen(palette_text)
            label = metrics.elidedText(server.label, Qt.TextElideMode.ElideMiddle, LABEL_WIDTH - 6)
            painter.drawText(
                QRectF(0, y, LABEL_WIDTH - 6, ROW_HEIGHT),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            lag = server.lag_seconds
            if lag is None:
                colour, end = UNKNOWN_COLOUR, left + 4
            else:
                over = self._rpo_seconds is not None and lag > self._rpo_seconds
                colour = OVER_COLOUR if over else OK_COLOUR
                end = max(left + 2, self._x(lag, left, width, top))
            painter.fillRect(QRectF(left, y + 3, end - left, ROW_HEIGHT - 6), colour)
            painter.setPen(palette_text)
            painter.drawText(
                QRectF(left + width + 6, y, VALUE_WIDTH, ROW_HEIGHT),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                _lag_text(server),
            )
        bottom = 4 + len(self._lags) * ROW_HEIGHT
        if self._hidden:
            painter.drawText(
                QRectF(left, bottom, width, ROW_HEIGHT),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"… and {self._hidden} more (smaller lags)",
            )
        if self._rpo_seconds is not None:
            x = self._x(self._rpo_seconds, left, width, top)
            pen = QPen(RPO_COLOUR, 1.5, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(int(x), 2, int(x), bottom)
            painter.drawText(
                QRectF(x + 3, bottom, 120, ROW_HEIGHT),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"RPO {format_duration(self._rpo_seconds)}",
            )


def _lag_text(server: ServerLag) -> str:
    return "no lag reported" if server.lag_seconds is None else format_duration(server.lag_seconds)
