"""Badges naming the targets of what is on screen: DEMO, or each AWS account, Region and profile.

An operator in an incident must see at a glance where a button acts: the simulator or production, this
account or that one. Each target is a rounded label in a colour of its own, derived from the target's key
(``domain.targets.Target.hue``: the same on every screen and every start), DEMO in a fixed purple no AWS
target comes near. A view may show several targets (plans will span accounts): ``set_targets`` takes a
tuple and draws one badge each, in order.

Used in the main window's status bar and header, the run dialog and the progress header; a view calls
``set_targets`` (or ``set_target``) whenever what it shows changes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from drs_desktop.domain.targets import Target

logger = logging.getLogger(__name__)

__all__ = ["TargetBadgeWidget", "target_colour"]

_NONE_TEXT = "no target"


def target_colour(target: Target) -> QColor:
    """The badge's background: the target's hue, dark enough for white text (DEMO a saturated purple)."""
    if target.demo:
        return QColor.fromHsl(target.hue, 170, 85)
    return QColor.fromHsl(target.hue, 150, 70)


class TargetBadgeWidget(QWidget):
    """A row of badges, one per target; an empty row says "no target" in grey."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("target-badges")
        self._targets: tuple[Target, ...] = ()
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.set_targets(())

    def set_target(self, target: Target | None) -> None:
        self.set_targets(() if target is None else (target,))

    def set_targets(self, targets: Sequence[Target]) -> None:
        """Show ``targets`` (duplicates by key once, in the order given)."""
        unique: dict[str, Target] = {}
        for target in targets:
            unique.setdefault(target.key, target)
        shown = tuple(unique.values())
        if shown == self._targets and self._layout.count():
            return
        self._targets = shown
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        if not shown:
            self._layout.addWidget(self._badge(_NONE_TEXT, None, "No target: nothing is connected yet"))
        for target in shown:
            self._layout.addWidget(self._badge(target.label, target, target.describe()))

    def targets(self) -> tuple[Target, ...]:
        return self._targets

    def texts(self) -> list[str]:
        """The badges' texts, in order (for tests and screenshots)."""
        found = []
        for index in range(self._layout.count()):
            item = self._layout.itemAt(index)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QLabel):
                found.append(widget.text())
        return found

    def _badge(self, text: str, target: Target | None, tip: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("target-badge")
        label.setToolTip(tip)
        if target is None:
            style = "color: #555; border: 1px solid #999;"
        else:
            style = f"color: white; background-color: {target_colour(target).name()};"
        label.setStyleSheet(f"QLabel {{ {style} border-radius: 4px; padding: 1px 6px; font-weight: bold; }}")
        return label
