"""The PDF report's timeline picture: waves and servers on the execution's time axis, painted with
QPainter onto any paint device.

Why a painter function and a QImage: the PDF is laid out off the GUI thread, and QImage (unlike QPixmap
or a widget's ``grab``) is a paint device Qt allows on any thread. ``paint_timeline`` draws on whatever
painter it is given, so the same picture can be drawn on screen, into an image, or straight into a PDF.
Each server's row shows every attempt: the wait in the queue, then DRS's snapshot, conversion and launch
stages (a failed stage red), a recovery's post-launch actions; a retried attempt stays on its row, faded.
Dashed lines mark the RTO target (red) and the RTO achieved (green or red).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from drs_desktop.domain.views.report_chart import ChartRow, TimelineChart

logger = logging.getLogger(__name__)

__all__ = ["STAGE_COLOURS", "paint_timeline", "picture_height", "timeline_image"]

ROW_HEIGHT = 16
AXIS_HEIGHT = 24
LEGEND_HEIGHT = 22
LABEL_WIDTH = 210
RIGHT_MARGIN = 16
_TICK_STEPS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)

#: Segment kind -> colour (the same as the live view's: grey waiting, blue working, green done).
STAGE_COLOURS = {
    "queued": QColor("#d6d6d6"),
    "snapshot": QColor("#64b5f6"),
    "conversion": QColor("#1e88e5"),
    "launch": QColor("#2e7d32"),
    "post_launch": QColor("#81c784"),
    "wave": QColor("#90a4ae"),
}
_FAILED = QColor("#c62828")
_TEXT = QColor("#1b1f24")
_GRID = QColor("#d0d7de")
_WAVE_BAND = QColor("#eef1f4")
_OUTCOME_TEXT = {"FAILED": _FAILED, "CANCELLED": QColor("#616161"), "SKIPPED": QColor("#616161")}


def picture_height(rows: int) -> int:
    return AXIS_HEIGHT + ROW_HEIGHT * max(1, rows) + LEGEND_HEIGHT + 4


def timeline_image(
    chart: TimelineChart, rows: tuple[ChartRow, ...], width: int, scale: float = 2.0
) -> QImage:
    """``rows`` of ``chart`` painted into a new image ``width`` logical pixels wide (``scale`` times as
    many device pixels, so that print stays sharp). Usable on any thread."""
    height = picture_height(len(rows))
    image = QImage(round(width * scale), round(height * scale), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(scale)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint_timeline(painter, chart, rows, QRectF(0, 0, width, height))
    finally:
        painter.end()
    return image


def paint_timeline(painter: QPainter, chart: TimelineChart, rows: tuple[ChartRow, ...], area: QRectF) -> None:
    """Paint ``rows`` of ``chart`` into ``area`` of ``painter``: axis, rows, RTO lines, legend."""
    font = QFont(painter.font())
    font.setPixelSize(10)
    painter.setFont(font)
    left = area.left() + LABEL_WIDTH
    width = max(1.0, area.width() - LABEL_WIDTH - RIGHT_MARGIN)
    span = max(1.0, chart.span)

    def x_of(seconds: float) -> float:
        return left + max(0.0, min(1.0, seconds / span)) * width

    top = area.top() + AXIS_HEIGHT
    bottom = top + ROW_HEIGHT * max(1, len(rows))
    _paint_axis(painter, chart, area, x_of, bottom)
    for number, row in enumerate(rows):
        _paint_row(painter, row, area, top + number * ROW_HEIGHT, x_of)
    for number, (seconds, colour, label) in enumerate(_rto_lines(chart)):
        x = x_of(seconds)
        painter.setPen(QPen(colour, 1.5, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(x, area.top() + AXIS_HEIGHT - 4), QPointF(x, bottom))
        painter.setPen(colour)
        room = painter.fontMetrics().horizontalAdvance(label) + 6
        # the target's label at the foot of its line, the achieved one's just above: never on each other
        box = QRectF(x + 3, bottom - 14 * (number + 1), room, 14)
        if box.right() > area.right():  # near the right edge: the label goes left of its line
            box.moveRight(x - 3)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft), label)
    _paint_legend(painter, QRectF(area.left(), bottom + 4, area.width(), LEGEND_HEIGHT))


def _rto_lines(chart: TimelineChart) -> list[tuple[float, QColor, str]]:
    lines = []
    if chart.rto_target is not None:
        lines.append((float(chart.rto_target), _FAILED, "RTO target"))
    if chart.rto_achieved is not None:
        met = chart.rto_target is None or chart.rto_achieved <= chart.rto_target
        lines.append((float(chart.rto_achieved), STAGE_COLOURS["launch"] if met else _FAILED, "RTO achieved"))
    return lines


def _paint_axis(
    painter: QPainter, chart: TimelineChart, area: QRectF, x_of: Callable[[float], float], bottom: float
) -> None:
    width = max(1.0, area.width() - LABEL_WIDTH - RIGHT_MARGIN)
    step = next((s for s in _TICK_STEPS if width * s / max(1.0, chart.span) >= 70), _TICK_STEPS[-1])
    painter.setPen(_TEXT)
    started = chart.started_at.replace("T", " ").split(".")[0].rstrip("Z")
    painter.drawText(
        QRectF(area.left() + 4, area.top(), LABEL_WIDTH - 8, AXIS_HEIGHT),
        int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
        f"from {started} UTC",
    )
    tick = 0
    while tick <= chart.span:
        x = x_of(tick)
        painter.setPen(_GRID)
        painter.drawLine(QPointF(x, area.top() + AXIS_HEIGHT - 5), QPointF(x, bottom))
        painter.setPen(_TEXT)
        hours, rest = divmod(tick, 3600)
        painter.drawText(QPointF(x + 2, area.top() + AXIS_HEIGHT - 8), f"+{hours}:{rest // 60:02d}")
        tick += step


def _paint_row(
    painter: QPainter, row: ChartRow, area: QRectF, top: float, x_of: Callable[[float], float]
) -> None:
    if row.is_wave:
        painter.fillRect(QRectF(area.left(), top, area.width(), ROW_HEIGHT), _WAVE_BAND)
    font = QFont(painter.font())
    font.setBold(row.is_wave)
    painter.setFont(font)
    painter.setPen(_OUTCOME_TEXT.get(row.outcome, _TEXT))
    indent = 4 if row.is_wave else 16
    label_box = QRectF(area.left() + indent, top, LABEL_WIDTH - indent - 6, ROW_HEIGHT)
    label = painter.fontMetrics().elidedText(row.label, Qt.TextElideMode.ElideMiddle, int(label_box.width()))
    painter.drawText(label_box, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), label)
    font.setBold(False)
    painter.setFont(font)
    painter.setPen(Qt.PenStyle.NoPen)
    for segment in row.segments:
        inset = 3 if segment.kind == "wave" else 4
        x0, x1 = x_of(segment.start), x_of(segment.end)
        colour = QColor(_FAILED if segment.failed else STAGE_COLOURS.get(segment.kind, _GRID))
        if segment.earlier:
            colour.setAlpha(110)
        painter.setBrush(colour)
        painter.drawRect(QRectF(x0, top + inset, max(2.0, x1 - x0), ROW_HEIGHT - 2 * inset))
    if row.outcome == "FAILED" and not row.is_wave:
        ends = [s.end for s in row.segments if s.failed and not s.earlier]
        if ends:  # a cross where the final try failed, so it reads without colour too
            x, y = x_of(max(ends)) + 6, top + ROW_HEIGHT / 2
            painter.setPen(QPen(_FAILED, 1.6))
            painter.drawLine(QPointF(x - 3, y - 3), QPointF(x + 3, y + 3))
            painter.drawLine(QPointF(x - 3, y + 3), QPointF(x + 3, y - 3))
            painter.setPen(Qt.PenStyle.NoPen)


def _paint_legend(painter: QPainter, box: QRectF) -> None:
    entries = [
        ("queued", STAGE_COLOURS["queued"]),
        ("snapshot", STAGE_COLOURS["snapshot"]),
        ("conversion", STAGE_COLOURS["conversion"]),
        ("launch", STAGE_COLOURS["launch"]),
        ("post-launch", STAGE_COLOURS["post_launch"]),
        ("failed", _FAILED),
        ("wave", STAGE_COLOURS["wave"]),
    ]
    faded = QColor(STAGE_COLOURS["launch"])
    faded.setAlpha(110)
    entries.append(("a retried attempt (faded)", faded))
    x = box.left() + 4
    metrics = painter.fontMetrics()
    for label, colour in entries:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRect(QRectF(x, box.top() + 6, 14, 9))
        painter.setPen(_TEXT)
        painter.drawText(QPointF(x + 18, box.top() + 15), label)
        x += 18 + metrics.horizontalAdvance(label) + 16
