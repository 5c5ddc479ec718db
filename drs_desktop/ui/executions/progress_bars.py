"""The progress column's bars, painted once into pixmaps that the tree shows as the cell's decoration.

Neither a QProgressBar per row (3,000 server rows must not mean 3,000 widgets) nor a Python delegate: a
delegate's ``paint`` is Python, called for every visible row on every repaint, and each call has to take
the GIL back from the execution's loop thread, which can hold it for a millisecond at a time while it
parses DRS's answers (``workers.interpreter``). Painted ahead as pixmaps (one per percent and outcome,
cached) and stored in the model (``progress_model``), the bars are drawn by Qt alone.

A row that ended without launching (the model's ``OUTCOME_ROLE``: a failed server or held wave, a
cancelled or skipped one) is never a blue 100 % bar, which reads as "done": it is a red or grey bar that
says what happened. A wave a cancel stopped while DRS's jobs go on is an amber "cancelling" bar, never a
blue bar frozen where the cancel found it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QGuiApplication, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionProgressBar

logger = logging.getLogger(__name__)

#: The role the model answers with an int percent (or None for no bar).
PROGRESS_ROLE = int(Qt.ItemDataRole.UserRole) + 1
#: The role the model answers, on the progress column, with how a row ended without launching
#: ("FAILED", "HELD", "CANCELLED", "SKIPPED"), or is ending ("CANCELLING": amber, a cancel waits for DRS's
#: jobs), or None.
OUTCOME_ROLE = int(Qt.ItemDataRole.UserRole) + 4
#: Outcome -> (bar colour, text colour, the bar's words).
OUTCOME_BARS: dict[str, tuple[str, str, str]] = {
    "FAILED": ("#c62828", "#ffffff", "failed"),
    "HELD": ("#c62828", "#ffffff", "held: failed"),
    "CANCELLED": ("#bdbdbd", "#212121", "cancelled"),
    "CANCELLING": ("#ef6c00", "#ffffff", "cancelling"),
    "SKIPPED": ("#bdbdbd", "#212121", "skipped"),
}
#: A bar's width in the column (the column is 110 px wide; the view leaves a margin left of a decoration).
BAR_WIDTH = 100


class ProgressBars:
    """Pixmaps of progress bars, made on first use (they need a running QApplication) and kept: at most
    101 percentages and five outcomes, for one size, screen and style. ``configure`` changes the size or
    the screen's pixel ratio and forgets them; so does a change of style or palette (``forget``)."""

    def __init__(self, width: int = BAR_WIDTH) -> None:
        self._width = width
        self._height: int | None = None  # the application font's line height until configured
        self._ratio: float | None = None  # the primary screen's until configured
        self._cache: dict[tuple[int, str | None], QPixmap] = {}

    def configure(self, *, width: int, height: int, ratio: float) -> bool:
        """Bars of ``width`` x ``height`` for a screen of ``ratio``; whether that changed anything."""
        wanted = (max(24, width), max(8, height), ratio)
        if wanted == (self._width, self._height, self._ratio):
            return False
        self._width, self._height, self._ratio = wanted
        self.forget()
        return True

    def forget(self) -> None:
        """Paint every bar anew from now on (the style, palette or font changed)."""
        self._cache.clear()

    def bar(self, value: int, outcome: str | None = None) -> QPixmap:
        """The bar of ``value`` percent, or of ``outcome`` when it is one of ``OUTCOME_BARS``."""
        value = max(0, min(100, value))
        shown = outcome if outcome in OUTCOME_BARS else None
        key = (0 if shown else value, shown)
        pixmap = self._cache.get(key)
        if pixmap is None:
            pixmap = self._paint(value, shown)
            self._cache[key] = pixmap
        return pixmap

    def _paint(self, value: int, outcome: str | None) -> QPixmap:
        height = self._height or QFontMetrics(QApplication.font()).height()
        ratio = self._ratio or _device_pixel_ratio()
        pixmap = QPixmap(round(self._width * ratio), round(height * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        try:
            rect = QRect(0, 0, self._width, height)
            if outcome is not None:
                _paint_outcome(painter, rect, OUTCOME_BARS[outcome])
            else:
                bar = QStyleOptionProgressBar()
                bar.rect = rect
                bar.palette = QApplication.palette()
                bar.minimum, bar.maximum, bar.progress = 0, 100, value
                bar.text = f"{value}%"
                bar.textVisible = True
                bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
                QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)
        finally:
            painter.end()
        return pixmap


def _paint_outcome(painter: QPainter, rect: QRect, style: tuple[str, str, str]) -> None:
    fill, ink, words = style
    area = QRectF(rect)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(fill))
    painter.drawRoundedRect(area, 3, 3)
    painter.setPen(QColor(ink))
    painter.drawText(area, int(Qt.AlignmentFlag.AlignCenter), words)


def _device_pixel_ratio() -> float:
    screen = QGuiApplication.primaryScreen()
    return screen.devicePixelRatio() if screen is not None else 1.0
