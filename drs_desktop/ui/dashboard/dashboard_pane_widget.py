"""The readiness dashboard, the first pane: one card per saved plan, kept fresh in the background.

Why two kinds of refresh: the local overview (history, prediction, RPO, changes: the database and the
cached inventory) is cheap and answers at once; the readiness checks preflight plans against DRS and spend
the account's API quota, which a live recovery needs more. So:

- ``reload()`` re-reads the overview only: on the change hub's news (a plan saved, an inventory read, a
  run started or ended) and when the pane is shown. It checks only the plans with no check of their
  current revision (a plan just saved or imported, or never checked): "after a plan save, that plan".
- ``refresh()`` reads the overview and checks every plan: the ``REFRESH_INTERVAL_MS`` timer (and once at
  start) and "Check now".
- No check starts while the execution desk drives a run (``set_runs_active``, from the composition
  root), and a check under way stops between plans and after any wait for DRS; the pane says "checks
  paused while a run is in progress", and catches up once the run is over.

Each answer is shown on the dashboard's clock (``Dashboard.updated_at``): a preflight older than
``domain.views.dashboard.STALE_AFTER`` is shown with its age, never as current (``PlanCardWidget``).
Nothing runs on the GUI thread but painting; a request while one is under way is folded into one more
afterwards. Cards are kept by plan name and filled again, so an update moves neither scrolling nor focus.

The empty state is true: "No plans yet" only once a load answered with none; before that the pane says it
is loading; a failed request says which and when, and the cards stop saying "checking…".
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.local_zone import LOCAL_ZONE
from drs_desktop.domain.views.cadence import PlanCadence, cadence_summary, plan_cadence, with_readings
from drs_desktop.domain.views.dashboard import Dashboard, PlanCard
from drs_desktop.domain.views.launch_drift import LaunchDrift
from drs_desktop.ui.change_hub import moment_text, updated_text
from drs_desktop.ui.dashboard.plan_card_widget import PlanCardWidget, age_text
from drs_desktop.workers.pane_tasks import ReadinessService, ReadinessTasks, StatusReading
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

#: Real milliseconds between background checks (the preflight of every plan against DRS).
REFRESH_INTERVAL_MS = 5 * 60 * 1000

PAUSED_TEXT = "Checks paused while a run is in progress: each plan shows its last check, with its age."


class DashboardPaneWidget(QWidget):
    """Cards of every plan; ``reload()`` reads the overview, ``refresh()`` also checks every plan."""

    loaded = Signal(object)  # Dashboard: every answer shown (an overview, a checked one)
    #: Every plan's cadence as just shown (a tuple of PlanCadence), and whether a launch drift reading
    #: was part of it: the composition root hands them to the readiness alerts (issue 18).
    cadence_shown = Signal(object, bool)

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], datetime]) -> None:
        super().__init__(parent)
        self.setObjectName("pane-dashboard")
        self.clock = clock  # the app's one clock (services.clock): the simulator's in demo mode
        self._ask: Requester[ReadinessService] = Requester(self, self._on_failed)
        self._busy = False
        self._launch: LaunchDrift | None = None  # the last launch settings reading (issue 16)
        self._native: StatusReading | None = None  # the Plans pane's last native plans reading
        self._want_all = False  # a full round asked while busy
        self._want_reload = False  # an overview asked while busy
        self._checking: frozenset[str] = frozenset()  # the plans whose check is under way
        self._auto_checks = True  # False after a failed check, until one answers: no retry on every news
        self._missed = False  # a round skipped or cut short by a run: made up when the run is over
        self._recheck_unknown = False  # an inventory arrived: plans whose readiness is unknown are checked
        self._runs_active = threading.Event()  # read by the check on its thread, between plans
        self._dashboard: Dashboard | None = None
        self._cards: dict[str, PlanCardWidget] = {}
        self._cadence: dict[str, PlanCadence] = {}

        title = QLabel("<h2>Readiness</h2>")
        self.updated = QLabel("Loading…")
        self.updated.setObjectName("last-updated")
        self.status = QLabel()
        self.status.setObjectName("dashboard-status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.cadence_summary = self._note("cadence-summary", "font-weight:bold")
        self.paused = self._note("dashboard-paused", "color:#8a5a00;font-weight:bold")
        self.paused.setText(PAUSED_TEXT)
        self.error = self._note("dashboard-error", "color:#c62828")
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
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(self._list)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.status)
        layout.addWidget(self.cadence_summary)
        layout.addWidget(self.paused)
        layout.addWidget(self.error)
        layout.addWidget(self.empty)
        layout.addWidget(self.scroll_area, 1)

        self.timer = QTimer(self)
        self.timer.setObjectName("readiness-timer")
        self.timer.setInterval(REFRESH_INTERVAL_MS)
        self.timer.timeout.connect(self.refresh)

    @staticmethod
    def _note(name: str, style: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setStyleSheet(style)
        label.setVisible(False)
        return label

    def connect_tasks(self, tasks: ReadinessTasks) -> None:
        self._ask.connect(tasks)
        self.timer.start()

    def dashboard(self) -> Dashboard | None:
        """What the pane shows now (None until the first answer)."""
        return self._dashboard

    def card(self, plan_name: str) -> PlanCardWidget | None:
        return self._cards.get(plan_name)

    def card_order(self) -> list[str]:
        """The plans' cards as laid out, top to bottom."""
        names = {id(widget): name for name, widget in self._cards.items()}
        order = []
        for index in range(self._list_layout.count()):
            item = self._list_layout.itemAt(index)
            widget = item.widget() if item is not None else None
            if widget is not None and id(widget) in names:
                order.append(names[id(widget)])
        return order

    def is_busy(self) -> bool:
        return self._busy

    def checks_paused(self) -> bool:
        return self._runs_active.is_set()

    # -- asking

    def refresh(self) -> None:
        """The overview, then every plan's preflight (the timer, "Check now"); while a run is in progress
        only the overview, and the round is made up afterwards."""
        if self.checks_paused():
            self._missed = True
            self.reload()
            return
        if self._busy:
            self._want_all = True
            return
        self._want_all = self._want_reload = False
        self._overview(check_all=True)

    def reload(self) -> None:
        """The overview (cheap: the database and the cached inventory), then the check of the plans
        saved since their last check, if any and if no run is in progress."""
        if self._busy:
            self._want_reload = True
            return
        self._want_reload = False
        self._overview(check_all=False)

    def inventory_arrived(self, inventory: object) -> None:
        """The app holds a new inventory (None: the target changed and none is held yet). A plan whose
        last check could not run (no inventory yet, DRS unreachable) is checked again now rather than at
        the timer's next round: at startup the first round often runs before the inventory is cached."""
        if inventory is not None:
            self._recheck_unknown = True
        else:  # another target: a failed check of the old one says nothing of it
            self._auto_checks = True
            self.error.setVisible(False)
        self.reload()

    def set_runs_active(self, active: bool) -> None:
        """The execution desk drives runs (True) or none (False): checks pause, or catch up."""
        if active == self.checks_paused():
            return
        if active:
            self._runs_active.set()
        else:
            self._runs_active.clear()
        self.paused.setVisible(active)
        self._enable()
        if not active and self._missed:
            self._missed = False
            self.refresh()

    def _overview(self, *, check_all: bool) -> None:
        self._busy = True
        self._enable()
        self._ask(
            "overview", lambda service: service.overview(), lambda board: self._on_overview(board, check_all)
        )

    def _on_overview(self, dashboard: Dashboard, check_all: bool) -> None:
        if check_all:
            names = [card.plan_name for card in dashboard.cards]
        else:
            unknown, self._recheck_unknown = self._recheck_unknown, False
            names = [
                card.plan_name
                for card in dashboard.cards
                if (self._auto_checks and card.needs_check)
                or (unknown and card.readiness is not None and not card.readiness.known)
            ]
        if not names or self.checks_paused():
            self._show(dashboard)
            self._done()
            return
        self._check(dashboard, names)

    def _check(self, dashboard: Dashboard, names: Sequence[str]) -> None:
        self._checking = frozenset(names)
        self._show(dataclasses.replace(dashboard, checking=True))
        paused = self._runs_active.is_set  # read on the readiness thread: an Event, not a widget
        plans = list(names)
        self._ask("check", lambda service: service.check(plans, paused=paused), self._on_checked)

    def _on_checked(self, dashboard: Dashboard) -> None:
        self._checking = frozenset()
        self._auto_checks = True
        if self.checks_paused():
            self._missed = True  # the round stopped at the run's start: the rest after it
        self.error.setVisible(False)
        self._show(dashboard)
        self._done()

    def _done(self) -> None:
        self._busy = False
        self._enable()
        if self._want_all:
            self.refresh()
        elif self._want_reload:
            self.reload()

    def _enable(self) -> None:
        self.refresh_button.setEnabled(not self._busy and not self.checks_paused())
        self.refresh_button.setToolTip(
            "Checks are paused while a run is in progress"
            if self.checks_paused()
            else "Read the history again and run every plan's preflight against DRS"
        )

    def _on_failed(self, operation: str, message: str) -> None:
        when = moment_text(self.clock())
        if operation == "check":
            checking = sorted(self._checking)
            total = len(self._dashboard.cards) if self._dashboard is not None else 0
            which = (
                "every plan"
                if len(checking) == total and total > 1
                else "plan(s) " + ", ".join(f"'{name}'" for name in checking)
            )
            self.error.setText(f"The DRS check of {which} failed at {when}: {message}")
            self._auto_checks = False  # not again on every news: the timer or "Check now" tries again
        else:
            self.error.setText(f"Could not read the history at {when}: {message}")
        self.error.setVisible(True)
        self._checking = frozenset()
        if self._dashboard is None:
            self.updated.setText("Not loaded")
        else:  # what it showed, without "checking…": that check is over
            self._show(dataclasses.replace(self._dashboard, checking=False))
        self._done()

    # -- showing

    def _show(self, dashboard: Dashboard) -> None:
        self._dashboard = dashboard
        now = dashboard.updated_at
        self.updated.setText(f"Last {updated_text(now, now)}")
        if dashboard.inventory_at is not None:
            at = dashboard.inventory_at
            inventory = f"Inventory as of {moment_text(at, now)} ({age_text(max(now - at, timedelta(0)))})"
        else:
            inventory = "No inventory cached yet: refresh the Servers pane"
        problems = "; ".join(dashboard.problems)
        self.status.setText(inventory + (f". {problems}" if problems else ""))
        self.empty.setText("No plans yet. Create one in the Plans pane (or import a plan file).")
        self.empty.setVisible(not dashboard.cards)
        self._place_cards([card.plan_name for card in dashboard.cards])
        for card in dashboard.cards:
            checking = dashboard.checking and card.plan_name in self._checking
            self._cards[card.plan_name].show_card(card, checking=checking, now=now)
        self._show_launch()
        self.loaded.emit(dashboard)

    def cadence_states(self) -> dict[str, PlanCadence]:
        """Each plan's cadence as the cards show it now (the last overview with the last drift reading)."""
        return dict(self._cadence)

    def _show_cadence(self) -> None:
        """Each card's cadence and the summary line, from the overview's facts and the latest drift
        reading, at the dashboard's time in this desktop's time zone (the operator's days)."""
        dashboard = self._dashboard
        if dashboard is None:
            return
        now = dashboard.updated_at.astimezone(LOCAL_ZONE)
        states: dict[str, PlanCadence] = {}
        for card in dashboard.cards:
            widget = self._cards.get(card.plan_name)
            state = None
            if card.cadence is not None:
                native = self._native
                facts = with_readings(
                    card.cadence,
                    drift=self._launch,
                    native=native.statuses if native is not None else (),
                    native_read_at=native.read_at if native is not None else None,
                    not_ready=_not_ready(card, now),
                )
                state = plan_cadence(facts, now)
                states[card.plan_name] = state
            if widget is not None:
                widget.show_cadence(state)
        self._cadence = states
        self.cadence_shown.emit(tuple(states.values()), self._launch is not None)
        text = cadence_summary(list(states.values()))
        self.cadence_summary.setText(f"Drill cadence: {text} (drill history as of {moment_text(now, now)})")
        self.cadence_summary.setVisible(bool(dashboard.cards))

    def set_launch_drift(self, drift: LaunchDrift | None) -> None:
        """Every plan's launch settings drift (``LaunchDriftWatch``): a line on each plan's card."""
        self._launch = drift
        self._show_launch()

    def set_native_reading(self, reading: StatusReading) -> None:
        """Every plan's native DRS plan status as the Plans pane last read it from DRS (its link panel's
        ``reading_changed``): a linked plan's native plan changed outside the app is a material change of
        its cadence, known as of that reading."""
        self._native = reading
        self._show_cadence()

    def _show_launch(self) -> None:
        drift = self._launch
        read_at = drift.read_at if drift is not None else None
        now = self.clock()
        for name, widget in self._cards.items():
            widget.show_launch(drift.plan(name) if drift is not None else None, read_at, now)
        self._show_cadence()

    def _place_cards(self, names: list[str]) -> None:
        """One card per name, in that order: new ones made, gone ones deleted, the others kept (moved
        only when their place changed)."""
        for name in [n for n in self._cards if n not in names]:
            gone = self._cards.pop(name)
            self._list_layout.removeWidget(gone)
            gone.deleteLater()
        for index, name in enumerate(names):
            widget = self._cards.get(name)
            if widget is None:
                widget = PlanCardWidget()
                self._cards[name] = widget
                self._list_layout.insertWidget(index, widget)
            elif self._list_layout.indexOf(widget) != index:
                self._list_layout.removeWidget(widget)
                self._list_layout.insertWidget(index, widget)


def _not_ready(card: PlanCard, now: datetime) -> bool | None:
    """The readiness verdict a cadence alert may rest on: a current, known preflight's; else None."""
    readiness = card.readiness
    if readiness is None or not readiness.known or card.changed_since_check or not readiness.current(now):
        return None
    return not readiness.ok
