"""The RTO countdown in the progress view's header: the plan's RTO target minus the time elapsed.

An operator in an incident asks "how long do we have left?" before anything else. The target is the
plan's (``ExecutionSpec.rto_target``, from the plan's ``rto_minutes``), the elapsed time the snapshot's
(the runner's clock, so demo mode's virtual time counts, not the desktop's). Red once breached; once the
run is over it says what was achieved against the target instead. Hidden for a plan with no RTO.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from PySide6.QtWidgets import QLabel, QWidget

from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.ui.executions.history_format import RTO_MET, RTO_MISSED, duration_text

logger = logging.getLogger(__name__)

_RUNNING = "padding: 2px 8px; border-radius: 3px; background: #e3f2fd; color: #0d47a1; font-weight: bold;"
_BREACHED = (
    "padding: 2px 8px; border-radius: 3px; background: " + RTO_MISSED + "; color: white; font-weight: bold;"
)
_MET = "padding: 2px 8px; border-radius: 3px; background: " + RTO_MET + "; color: white; font-weight: bold;"


def countdown(snapshot: ProgressSnapshot) -> tuple[str, bool] | None:
    """(text, breached) for ``snapshot``; None with no RTO target."""
    target = snapshot.rto_target
    if target is None:
        return None
    if snapshot.rto_achieved is not None:
        achieved = snapshot.rto_achieved
        verdict = "met" if achieved <= target else "MISSED"
        return f"RTO {verdict}: {duration_text(achieved)} of {duration_text(target)}", achieved > target
    left = target - snapshot.elapsed
    if snapshot.finished:
        return f"RTO not reached (target {duration_text(target)})", True
    if left < timedelta(0):
        return f"RTO breached by {duration_text(-left)}", True
    return f"RTO {duration_text(left)} left", False


class RtoCountdown(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rto-countdown")
        self.breached = False
        font = self.font()
        font.setBold(True)
        self.setFont(font)
        self.hide()

    def set_snapshot(self, snapshot: ProgressSnapshot) -> None:
        shown = countdown(snapshot)
        if shown is None:
            self.hide()
            return
        text, breached = shown
        self.breached = breached
        met = snapshot.rto_achieved is not None and not breached
        self.setStyleSheet(_BREACHED if breached else _MET if met else _RUNNING)
        self.setText(text)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(text) + 24)  # never clipped
        self.setToolTip(
            f"The plan's RTO target {duration_text(snapshot.rto_target)}, from the execution's start "
            "to its last critical server ready (runner's clock)."
        )
        self.show()
