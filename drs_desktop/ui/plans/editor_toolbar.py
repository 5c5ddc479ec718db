"""The plan editor's toolbar: icons whose place never changes, tooltips that name the shortcut.

With text buttons, "Undo" became "Undo Move 3 entries to 'Web tier'" after an edit and pushed every
button right of it along; an operator reaching for "Delete" hit something else. Here every button shows
an icon only (fixed size), and its tooltip carries the label and the shortcut ("Move to wave… (Ctrl+M)");
undo and redo keep their tooltip in step with what they would undo. The icons are the style's where one
fits and simple drawn ones otherwise, so the toolbar reads the same on every desktop and offscreen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QToolBar, QWidget

logger = logging.getLogger(__name__)

ICON_SIZE = 20
_INK = QColor("#2f3b4c")
_ACCENT = QColor("#1f6fb2")

_STANDARD = {
    "undo": QStyle.StandardPixmap.SP_ArrowBack,
    "redo": QStyle.StandardPixmap.SP_ArrowForward,
    "delete": QStyle.StandardPixmap.SP_TrashIcon,
    "move_up": QStyle.StandardPixmap.SP_ArrowUp,
    "move_down": QStyle.StandardPixmap.SP_ArrowDown,
    "move_to_wave": QStyle.StandardPixmap.SP_ArrowRight,
    "save": QStyle.StandardPixmap.SP_DialogSaveButton,
}


def _drawn(paint: Callable[[QPainter], None]) -> QIcon:
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(_INK, 2.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    paint(painter)
    painter.end()
    return QIcon(pixmap)


def _new_wave(p: QPainter) -> None:
    for y in (8, 15, 22):
        p.drawLine(QPointF(4, y), QPointF(18, y))
    p.setPen(QPen(_ACCENT, 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(25, 17), QPointF(25, 29))
    p.drawLine(QPointF(19, 23), QPointF(31, 23))


def _add_to_wave(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(14, 6, 15, 20), 3, 3)
    p.setPen(QPen(_ACCENT, 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(3, 16), QPointF(20, 16))
    p.drawLine(QPointF(15, 11), QPointF(20, 16))
    p.drawLine(QPointF(15, 21), QPointF(20, 16))


def _toggle_optional(p: QPainter) -> None:
    p.drawEllipse(QRectF(5, 5, 22, 22))
    half = QPainterPath()
    half.moveTo(16, 5)
    half.arcTo(QRectF(5, 5, 22, 22), 90, 180)
    half.closeSubpath()
    p.fillPath(half, _INK)


def _add_approval(p: QPainter) -> None:
    p.drawEllipse(QRectF(4, 4, 24, 24))
    p.setPen(QPen(QColor("#2e7d32"), 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawPolyline([QPointF(10, 16), QPointF(14.5, 21), QPointF(22, 11)])


def _add_wait(p: QPainter) -> None:
    p.drawEllipse(QRectF(4, 4, 24, 24))
    p.drawLine(QPointF(16, 16), QPointF(16, 9))
    p.drawLine(QPointF(16, 16), QPointF(21, 19))


_DRAWN: Mapping[str, Callable[[QPainter], None]] = {
    "new_wave": _new_wave,
    "add_to_wave": _add_to_wave,
    "toggle_optional": _toggle_optional,
    "add_approval": _add_approval,
    "add_wait": _add_wait,
}


def action_icon(widget: QWidget, key: str) -> QIcon:
    """The icon of the editor action ``key`` (the style's, or a drawn one)."""
    if key in _STANDARD:
        return widget.style().standardIcon(_STANDARD[key])
    return _drawn(_DRAWN[key]) if key in _DRAWN else QIcon()


def tooltip(label: str, action: QAction) -> str:
    """ "Move to wave… (Ctrl+M)": the label without mnemonics, then its main shortcut."""
    text = label.replace("&&", "\0").replace("&", "").replace("\0", "&")
    keys = [k for k in action.shortcuts() if not k.isEmpty()]  # the first: Undo also has Alt+Backspace
    return f"{text} ({keys[0].toString(QKeySequence.SequenceFormat.NativeText)})" if keys else text


def install_toolbar(toolbar: QToolBar, actions: Mapping[str, QAction], keys: tuple[str, ...]) -> None:
    """Icon-only buttons for ``keys`` (a separator for ""), each with its label and shortcut as tooltip."""
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    toolbar.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
    owner = toolbar.parentWidget() or toolbar
    for key in keys:
        if not key:
            toolbar.addSeparator()
            continue
        action = actions[key]
        action.setIcon(action_icon(owner, key))
        action.setToolTip(tooltip(action.text(), action))
        toolbar.addAction(action)
    for key in ("undo", "redo"):
        if key in actions:
            action = actions[key]
            # The stack renames these after every edit ("Undo Move 3 entries"): only the tooltip follows.
            action.changed.connect(lambda a=action: _keep_tooltip(a))


def _keep_tooltip(action: QAction) -> None:
    try:
        wanted = tooltip(action.text(), action)
    except RuntimeError:  # the undo stack renames its actions while the editor is being destroyed
        return
    if action.toolTip() != wanted:
        action.setToolTip(wanted)  # emits changed again, once: the text is unchanged the second time
