"""Draws the progress column of the progress tree as a progress bar, from the model's ProgressRole.

A delegate (not a QProgressBar per row): 1,000 server rows must not mean 1,000 widgets, and only the
visible rows are ever painted. A row that ended without launching (the model's ``OUTCOME_ROLE``: a
failed server or held wave, a cancelled or skipped one) is never a blue 100 % bar, which reads as
"done": it is a red or grey bar that says what happened. A wave a cancel stopped while DRS's jobs go on is
an amber "cancelling" bar, never a blue bar frozen where the cancel found it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

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


class ProgressBarDelegate(QStyledItemDelegate):
    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        value = index.data(PROGRESS_ROLE)
        if not isinstance(value, int):
            super().paint(painter, option, index)
            return
        outcome = index.data(OUTCOME_ROLE)
        if outcome in OUTCOME_BARS:
            self._paint_outcome(painter, option, OUTCOME_BARS[outcome])
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = max(0, min(100, value))
        bar.text = f"{bar.progress}%"
        bar.textVisible = True
        bar.state = option.state
        style = option.widget.style() if option.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)

    @staticmethod
    def _paint_outcome(painter: QPainter, option: QStyleOptionViewItem, style: tuple[str, str, str]) -> None:
        fill, ink, words = style
        rect = QRectF(option.rect.adjusted(2, 3, -2, -3))
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(fill))
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(QColor(ink))
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), words)
        finally:
            painter.restore()
