"""The main window: a navigation list on the left, one pane per area on the right, a status bar.

Later issues fill the panes (inventory, protection groups, plan editor, executions, settings); the shell
fixes their order and names so that navigation, shortcuts and screenshots stay stable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from drs_desktop import APP_NAME, __version__
from drs_desktop.domain.targets import Target
from drs_desktop.ui.target_badge import TargetBadgeWidget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaneSpec:
    key: str
    title: str
    blurb: str


PANES: tuple[PaneSpec, ...] = (
    PaneSpec(
        "dashboard", "Dashboard", "Readiness of every plan at a glance: preflight, drills, RPO, changes."
    ),
    PaneSpec("servers", "Servers", "Source servers replicating to DRS, with their replication state."),
    PaneSpec("groups", "Protection groups", "Named sets of servers, by ID or by tag."),
    PaneSpec("plans", "Plans", "Recovery plans: ordered waves of servers, approvals and waits."),
    PaneSpec("executions", "Executions", "Drills and recoveries, live and past, with their evidence."),
    PaneSpec("settings", "Settings", "AWS profile and region, polling, demo mode."),
)


class PlaceholderPane(QWidget):
    """A pane whose content a later issue provides; says what it will hold."""

    def __init__(self, spec: PaneSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"pane-{spec.key}")
        layout = QVBoxLayout(self)
        title = QLabel(f"<h2>{spec.title}</h2>")
        blurb = QLabel(spec.blurb)
        blurb.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(blurb)
        layout.addStretch(1)


class MainWindow(QMainWindow):
    """Top-level window: navigation between the panes, and the status bar with identity and connection."""

    pane_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME} {__version__}")
        self.resize(1200, 780)

        self._nav = QListWidget()
        self._nav.setObjectName("navigation")
        self._nav.setMaximumWidth(220)
        self._stack = QStackedWidget()
        self._pane_index: dict[str, int] = {}
        for spec in PANES:
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            self._nav.addItem(item)
            self._pane_index[spec.key] = self._stack.addWidget(PlaceholderPane(spec))
        self._nav.currentRowChanged.connect(self._on_row_changed)
        # Wide enough for the longest name ("Protection groups"), whatever the font: a splitter's sizes
        # alone let a wider window squeeze the list until names are cut.
        self._nav.setMinimumWidth(self._nav.sizeHintForColumn(0) + 2 * self._nav.frameWidth() + 12)

        splitter = QSplitter()
        splitter.addWidget(self._nav)
        splitter.addWidget(self._stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([150, 1050])  # the names need ~130 px; the panes get the rest (1366x768 fits)
        self.setCentralWidget(splitter)

        self._identity_label = QLabel()
        self._identity_label.setObjectName("identity")
        self._connection_label = QLabel()
        self._connection_label.setObjectName("connection")
        # A long state (an error) gives way to the items beside it; its whole text is in the tooltip.
        self._connection_label.setMinimumWidth(1)
        # The targets of what is on screen, in their colours: in the header (the menu bar's corner) and
        # the status bar, so no pane hides them (set_targets).
        self._header_badges = TargetBadgeWidget()
        self._header_badges.setObjectName("header-target-badges")
        self.menuBar().setCornerWidget(self._header_badges, Qt.Corner.TopRightCorner)
        self._status_badges = TargetBadgeWidget()
        self._status_badges.setObjectName("status-target-badges")
        self.statusBar().addPermanentWidget(self._status_badges)
        self.statusBar().addPermanentWidget(self._identity_label)
        self.statusBar().addPermanentWidget(self._connection_label)
        self.set_identity(profile="", region="", account="")
        self.set_connection_state("offline")

        for index, spec in enumerate(PANES):
            action = QAction(spec.title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _checked=False, key=spec.key: self.show_pane(key))
            self.addAction(action)
        self._commands_menu = self.menuBar().addMenu("&Execution")
        self._nav.setCurrentRow(0)

    def add_command(self, title: str, shortcut: str, handler: Callable[[], None]) -> QAction:
        """A window-wide command (menu entry and shortcut), e.g. "Run plan…" from the composition root."""
        action = QAction(title, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: handler())
        self.addAction(action)
        self._commands_menu.addAction(action)
        return action

    def pane_keys(self) -> list[str]:
        return [spec.key for spec in PANES]

    def current_pane(self) -> str:
        return PANES[self._stack.currentIndex()].key

    def pane(self, key: str) -> QWidget:
        widget = self._stack.widget(self._pane_index[key])
        assert widget is not None  # every key has a page from the constructor on
        return widget

    def set_pane_widget(self, key: str, widget: QWidget) -> None:
        """Replace a placeholder with the real pane (later issues call this from the composition root)."""
        index = self._pane_index[key]
        old = self._stack.widget(index)
        if old is not None:
            self._stack.removeWidget(old)
            old.deleteLater()
        self._stack.insertWidget(index, widget)
        if self._nav.currentRow() == index:
            self._stack.setCurrentIndex(index)

    def show_pane(self, key: str) -> None:
        self._nav.setCurrentRow(self._pane_index[key])

    def set_identity(self, *, profile: str, region: str, account: str, demo: bool = False) -> None:
        """Status bar text: ``DEMO`` or the AWS profile, then account and region."""
        who = "DEMO" if demo else (profile or "default profile")
        parts = [who]
        if account:
            parts.append(f"account {account}")
        if region:
            parts.append(region)
        self._identity_label.setText(" · ".join(parts))

    def set_targets(self, targets: Sequence[Target]) -> None:
        """The targets of what the window shows (DEMO, or each account/Region/profile), as badges."""
        self._header_badges.set_targets(targets)
        self._status_badges.set_targets(targets)
        shown = self._status_badges.targets()
        names = ", ".join(target.label for target in shown)
        self.setWindowTitle(f"{APP_NAME} {__version__}" + (f" — {names}" if names else ""))

    def target_texts(self) -> list[str]:
        return self._status_badges.texts()

    def set_connection_state(self, state: str) -> None:
        self._connection_label.setText(f"Connection: {state}")
        self._connection_label.setToolTip(f"Connection: {state}")

    def identity_text(self) -> str:
        return self._identity_label.text()

    def connection_text(self) -> str:
        return self._connection_label.text()

    def _on_row_changed(self, row: int) -> None:
        if row < 0:
            return
        self._stack.setCurrentIndex(row)
        self.pane_changed.emit(PANES[row].key)
