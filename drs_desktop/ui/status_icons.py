"""Status icons and colours of the progress view and the preflight table, painted (no image files).

One colour per state, the same in the tree, the timeline and the preflight table, so an operator learns
them once: grey waiting, blue running, green done, red failed, amber waiting for a person or a warning.
A shape in white on the coloured disc (tick, cross, bang, bar) keeps them apart for colour-blind eyes.
Icons are cached; they need a running QGuiApplication, so they are made on first use.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

logger = logging.getLogger(__name__)

GREY = "#9e9e9e"
DARK_GREY = "#616161"
BLUE = "#1e88e5"
GREEN = "#2e7d32"
RED = "#c62828"
AMBER = "#ef6c00"

#: State name (ServerStatus, WavePhase, ExecutionStatus, CheckStatus values) -> (colour, mark).
_STYLES: dict[str, tuple[str, str]] = {
    # servers
    "PENDING": (GREY, ""),
    "STARTING": (BLUE, "dot"),
    "LAUNCHING": (BLUE, "dot"),
    "LAUNCHED": (GREEN, "tick"),
    "FAILED": (RED, "cross"),
    "SKIPPED": (DARK_GREY, "bar"),
    "CANCELLED": (DARK_GREY, "bar"),
    # waves
    "BLOCKED": (GREY, ""),
    "BEFORE": (AMBER, "dot"),
    "AFTER": (AMBER, "dot"),
    "COMPLETED": (GREEN, "tick"),
    "HELD": (RED, "bang"),
    # executions
    "RUNNING": (BLUE, "dot"),
    "PAUSED": (AMBER, "bar"),
    "WAITING_APPROVAL": (AMBER, "bang"),
    "CANCELLING": (AMBER, "dot"),  # waits for DRS's jobs to end: a warning, not yet how it ended
    "SUCCEEDED": (GREEN, "tick"),
    # preflight checks
    "PASS": (GREEN, "tick"),
    "WARN": (AMBER, "bang"),
    "FAIL": (RED, "cross"),
}

_cache: dict[tuple[str, int], QIcon] = {}


def color_of(state: str) -> QColor:
    return QColor(_STYLES.get(state, (GREY, ""))[0])


def status_icon(state: str, size: int = 16) -> QIcon:
    """The icon of a state name (an unknown one is a plain grey disc)."""
    key = (state, size)
    icon = _cache.get(key)
    if icon is None:
        colour, mark = _STYLES.get(state, (GREY, ""))
        icon = QIcon(_paint(QColor(colour), mark, size))
        _cache[key] = icon
    return icon


def _paint(colour: QColor, mark: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        margin = size * 0.06
        painter.drawEllipse(QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
        pen = QPen(QColor("white"))
        pen.setWidthF(max(1.5, size / 8))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        s = float(size)
        if mark == "tick":
            painter.drawPolyline(
                [QPointF(s * 0.28, s * 0.52), QPointF(s * 0.44, s * 0.68), QPointF(s * 0.72, s * 0.34)]
            )
        elif mark == "cross":
            painter.drawLine(QPointF(s * 0.32, s * 0.32), QPointF(s * 0.68, s * 0.68))
            painter.drawLine(QPointF(s * 0.68, s * 0.32), QPointF(s * 0.32, s * 0.68))
        elif mark == "bang":
            painter.drawLine(QPointF(s * 0.5, s * 0.26), QPointF(s * 0.5, s * 0.56))
            painter.drawPoint(QPointF(s * 0.5, s * 0.74))
        elif mark == "bar":
            painter.drawLine(QPointF(s * 0.3, s * 0.5), QPointF(s * 0.7, s * 0.5))
        elif mark == "dot":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("white"))
            painter.drawEllipse(QPointF(s * 0.5, s * 0.5), s * 0.14, s * 0.14)
    finally:
        painter.end()
    return pixmap
