"""How old each target's servers are: one line per target, in its badge colour, kept current.

With several targets the pane's one "As of" stamp cannot say it: the servers of ten accounts were read at
ten different times, and one of them may have failed its last refresh and be showing its cache. Each line
names the target (name, account, Region), counts its servers and says "as of 12 min ago" on the app's
clock (the demo's is virtual), or why its refresh failed and how old the cache shown instead is. A timer
re-reads the ages every 30 s, so an open pane never claims "just now" for an hour.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from drs_desktop.domain.inventory_targets import TargetInventory
from drs_desktop.ui.target_badge import target_colour

__all__ = ["TargetAgesWidget", "age_line"]

AGE_TICK_MS = 30_000
_FAILED = "#b00020"


def age_line(part: TargetInventory, now: datetime) -> str:
    """One target's line in plain text: "staging-01 (200000000001 · us-east-1): 300 servers, as of 12 min
    ago", or with its failure: "…: refresh failed (reason); showing the cache, as of 3 h ago"."""
    count = len(part.inventory.servers) if part.inventory else 0
    servers = f"{count} server{'s' if count != 1 else ''}"
    if part.error:
        shown = f"showing the cache, {part.age(now)}" if part.inventory else "nothing cached"
        return f"{part.label}: refresh failed ({part.error}); {shown}"
    if part.inventory is None:
        return f"{part.label}: never read; press Refresh"
    return f"{part.label}: {servers}, {part.age(now)}"


class TargetAgesWidget(QLabel):
    """The per-target lines (hidden while only the connected target is listed: its stamp says it)."""

    def __init__(self, clock: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("servers-target-ages")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._clock = clock
        self._parts: tuple[TargetInventory, ...] = ()
        self._timer = QTimer(self)
        self._timer.setInterval(AGE_TICK_MS)
        self._timer.timeout.connect(self.update_ages)
        self.hide()

    def set_parts(self, parts: tuple[TargetInventory, ...]) -> None:
        self._parts = parts
        self.update_ages()

    def lines(self) -> list[str]:
        """The lines as plain text (for tests and the pane's banner)."""
        now = self._clock()
        return [age_line(part, now) for part in self._parts]

    def update_ages(self) -> None:
        several = len(self._parts) > 1
        self.setVisible(several)
        if not several:
            self._timer.stop()
            self.clear()
            return
        if not self._timer.isActive():
            self._timer.start()
        now = self._clock()
        rows = []
        for part in self._parts:
            colour = target_colour(part.target).name()
            text = html.escape(age_line(part, now))
            if part.error:
                text = f'<span style="color: {_FAILED}">{text}</span>'
            rows.append(f'<span style="color: {colour}">&#9632;</span>&nbsp;{text}')
        self.setText("<br>".join(rows))
