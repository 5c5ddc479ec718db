"""The readiness dashboard, the first pane: one card per saved plan, kept fresh in the background.

Why it refreshes itself: "are we ready?" must be answered before the incident, not after a drill. The
pane asks its task thread (``workers.pane_tasks.ReadinessTasks``) for the local overview first (history,
prediction, RPO, changes: the database and the cached inventory, at once), then for each plan's
preflight against DRS, every ``REFRESH_INTERVAL_MS`` and whenever the composition root says something
changed (an inventory refresh, a run's end, the pane shown). Nothing runs on the GUI thread but
painting; a request while one is under way is folded into one more afterwards.

The empty state is true: "No plans yet" only once a load answered with none; before that the pane
says it is loading, and after a failure it says what failed, keeping what it showed.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.views.dashboard import Dashboard
from drs_desktop.ui.dashboard.plan_card_widget import PlanCardWidget, stamp
from drs_desktop.workers.pane_tasks import ReadinessService, ReadinessTasks
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

#: Real milliseconds between background checks (the preflight of every plan against DRS).
REFRESH_INTERVAL_MS = 5 * 60 * 1000


class DashboardPaneWidget(QWidget):
    """Cards of every plan; ``refresh()`` reads the overview then checks readiness."""

    loaded = Signal(object)  # Dashboard: every answer shown (the overview, then the checked one)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pane-dashboard")
        self._ask: Requester[ReadinessService] = Requester(self, self._on_failed)
        self._busy = False
        self._again = False
        self._dashboard: Dashboard | None = None
        self._cards: dict[str, PlanCardWidget] = {}

        title = QLabel("<h2>Readiness</h2>")
        self.updated = QLabel("Loading…")
        self.updated.setObjectName("last-updated")
        self.status = QLabel()
        self.status.setObjectName("dashboard-status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.refresh_button = QPushButton("Check now")
        self.refresh_button.setToolTip("Read the history again and run every plan's preflight against DRS")
        self.refresh_button.clicked.connect(self.refresh)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.updated)
        head.addWidget(self.refresh_button)

        self.empty = QLabel()
        self.empty.setObjectName("dashboard-empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setVisible(False)
        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._list)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.status)
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)

        self.timer = QTimer(self)
        self.timer.setObjectName("readiness-timer")
        self.timer.setInterval(REFRESH_INTERVAL_MS)
        self.timer.timeout.connect(self.refresh)

    def connect_tasks(self, tasks: ReadinessTasks) -> None:
        self._ask.connect(tasks)
        self.timer.start()

    def dashboard(self) -> Dashboard | None:
        """What the pane shows now (None until the first answer)."""
        return self._dashboard

    def card(self, plan_name: str) -> PlanCardWidget | None:
        return self._cards.get(plan_name)

    def is_busy(self) -> bool:
        return self._busy

    # -- asking

    def refresh(self) -> None:
        """The overview at once, then every plan's preflight; one more round if asked meanwhile."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._again = False
        self.refresh_button.setEnabled(False)
        self._ask("overview", lambda service: service.overview(checking=True), self._on_overview)

    def _on_overview(self, dashboard: Dashboard) -> None:
        if not dashboard.cards:  # nothing to check: this answer is the whole load
            self._show(dataclasses.replace(dashboard, checking=False))
            self._done()
            return
        self._show(dashboard)
        self.status.setText("Checking every plan against DRS…")
        self._ask("check", lambda service: service.check(), self._on_checked)

    def _on_checked(self, dashboard: Dashboard) -> None:
        self._show(dashboard)
        self._done()

    def _done(self) -> None:
        self._busy = False
        self.refresh_button.setEnabled(True)
        if self._again:
            self.refresh()

    def _on_failed(self, operation: str, message: str) -> None:
        what = "read the history" if operation == "overview" else "check the plans"
        self.status.setText(f"Could not {what}: {message}")
        if self._dashboard is None:
            self.updated.setText("Not loaded")
        self._busy = False
        self.refresh_button.setEnabled(True)
        if self._again:
            self.refresh()

    # -- showing

    def _show(self, dashboard: Dashboard) -> None:
        self._dashboard = dashboard
        self.updated.setText(f"Last updated {stamp(dashboard.updated_at)}")
        inventory = (
            f"inventory as of {stamp(dashboard.inventory_at)}"
            if dashboard.inventory_at is not None
            else "no inventory cached yet: refresh the Servers pane"
        )
        problems = "; ".join(dashboard.problems)
        self.status.setText(inventory + (f". {problems}" if problems else ""))
        self.empty.setText("No plans yet. Create one in the Plans pane (or import a plan file).")
        self.empty.setVisible(not dashboard.cards)
        names = [card.plan_name for card in dashboard.cards]
        for name in list(self._cards):
            if name not in names:
                gone = self._cards.pop(name)
                self._list_layout.removeWidget(gone)
                gone.deleteLater()
        for index, card in enumerate(dashboard.cards):
            shown = self._cards.get(card.plan_name)
            if shown is None:
                shown = PlanCardWidget()
                self._cards[card.plan_name] = shown
            self._list_layout.insertWidget(index, shown)
            shown.show_card(card, checking=dashboard.checking)
        self.loaded.emit(dashboard)
