"""The Servers pane: every DRS source server, searchable and filterable, refreshed in the background.

The table shows the cached inventory at once (offline too) with an "as of <time> (account, region)"
stamp, so the operator always knows how old what they see is. Refresh runs on the ``aws`` task thread
(DESIGN §3.4): the button turns into a busy bar with the refresh's progress text, and the pane never
waits. The cache and the "Used by" column are read on the ``local`` thread, so they never wait behind a
slow DRS. When a refresh fails and a cache exists, an offline banner says so and the cached servers stay.

Several targets (issue 13): the table holds every target's servers (the connected one and the settings'
list), with a Target column and a filter by target; under the stamp, one line per target says how old its
servers are or why its refresh failed (``TargetAgesWidget``). A target that fails is named in the banner;
the others' servers are shown fresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import TargetInventory, connected_part
from drs_desktop.domain.plan.server_usage import ServerUsage
from drs_desktop.domain.targets import Target
from drs_desktop.domain.views.launch_drift import LaunchDrift
from drs_desktop.ui.change_hub import moment_text
from drs_desktop.ui.servers.extend_servers_dialog import ExtendServersDialog
from drs_desktop.ui.servers.server_filters_widget import ServerFiltersWidget
from drs_desktop.ui.servers.server_table_model import (
    HOSTNAME,
    LAG,
    LAST_LAUNCH,
    LAUNCH,
    OS,
    REPLICATION,
    SERVER_ID,
    STAGING,
    TAGS,
    TARGET,
    ServerFilterModel,
    ServerTableModel,
)
from drs_desktop.ui.servers.target_ages_widget import TargetAgesWidget
from drs_desktop.workers.pane_tasks import AwsServices, AwsTasks, LocalServices, LocalTasks
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

_OFFLINE_STYLE = "background: #fff4e5; color: #7a4b00; border: 1px solid #f0c36d; padding: 6px;"
_ERROR_STYLE = "background: #fdecea; color: #8a1c1c; border: 1px solid #f5b5b0; padding: 6px;"
#: Starting widths (pixels) of the columns; the operator may resize them, "Used by" takes the rest.
COLUMN_WIDTHS = {
    HOSTNAME: 150,
    TARGET: 120,
    SERVER_ID: 165,
    OS: 210,
    REPLICATION: 150,
    LAG: 80,
    TAGS: 260,
    LAST_LAUNCH: 170,
    STAGING: 120,
    LAUNCH: 170,
}


def format_stamp(inventory: Inventory | None, target: str = "") -> str:
    """ "As of 2026-01-05 08:00 UTC (account 123456789012, us-east-1)", or why there is none (of
    ``target``, the label of the target the application runs against, when it has been told)."""
    if inventory is None:
        of = f" of {target}" if target else ""
        return f"No inventory{of} yet: press Refresh to read the source servers from DRS."
    when = (
        inventory.fetched_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if inventory.fetched_at else "?"
    )
    return f"As of {when} (account {inventory.account_id or '?'}, {inventory.region or '?'})"


class ServersPaneWidget(QWidget):
    """Source servers table with search, filters, background refresh and the offline stamp."""

    inventory_refreshed = Signal(object)  # Inventory: a refresh succeeded (the app updates the status bar)
    refresh_failed = Signal(str)  # message: a refresh failed (offline when the pane still shows a cache)
    cache_loaded = Signal(object)  # Inventory: the cache shown (the app's ChangeHub takes it if newest)

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], datetime]) -> None:
        """``clock``: the app's one clock (``services.clock``), for the targets' ages."""
        super().__init__(parent)
        self.setObjectName("servers-pane")
        self._local: Requester[LocalServices] = Requester(self, self._failed)
        self._aws: Requester[AwsServices] = Requester(self, self._failed)
        self._aws_tasks: AwsTasks | None = None
        self._busy = False
        self._live = False  # the table holds a refresh of this session, not only the cache
        self._offline = False
        self._target = ""  # the label of the target whose servers the pane shows ("" until told)
        self._running: Target | None = None  # that target itself (its account may be learnt later)
        self._generation = 0  # one more at each change of target: a cache read asked before it is old
        self._stale_refresh = False  # the refresh under way was asked for the previous target

        self.model = ServerTableModel(self)
        self.proxy = ServerFilterModel(self)
        self.proxy.setSourceModel(self.model)

        self.filters = ServerFiltersWidget(self.proxy)
        self.filters.filters_changed.connect(self._update_count)
        # The filter controls, under the names the pane has always given them (its tests use them).
        self.search_edit = self.filters.search_edit
        self.state_combo = self.filters.state_combo
        self.os_combo = self.filters.os_combo
        self.target_combo = self.filters.target_combo
        self.tag_edit = self.filters.tag_edit
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("servers-refresh")
        self.refresh_button.setToolTip("Read the source servers from DRS again (F5)")
        self.refresh_button.setShortcut("F5")
        self.refresh_button.clicked.connect(self.refresh)
        self.extend_button = QPushButton("Extend servers…")
        self.extend_button.setObjectName("servers-extend")
        self.extend_button.setToolTip(
            "Extend servers from a staging account, to recover them in this account"
        )
        self.extend_button.clicked.connect(self.open_extend_dialog)
        self._extend_dialog: ExtendServersDialog | None = None
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("servers-busy")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.progress_label = QLabel()
        self.progress_label.setObjectName("servers-progress")

        self.stamp_label = QLabel(format_stamp(None))
        self.stamp_label.setObjectName("servers-stamp")
        self.stamp_label.setWordWrap(True)  # a target's name makes it long: wrapped, never clipped
        self.stamp_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.target_ages = TargetAgesWidget(clock)
        self.count_label = QLabel()
        self.count_label.setObjectName("servers-count")
        self.launch_stamp = QLabel()  # how old the Launch settings column is, or why it is not read
        self.launch_stamp.setObjectName("servers-launch-stamp")
        self.banner = QLabel()
        self.banner.setObjectName("servers-banner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()

        self.table = QTableView()
        self.table.setObjectName("servers-table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(HOSTNAME, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)

        top = QHBoxLayout()
        top.addWidget(self.filters, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.extend_button)
        status = QHBoxLayout()
        status.addWidget(self.stamp_label, 1)
        status.addWidget(self.launch_stamp)
        status.addWidget(self.count_label)
        status.addWidget(self.busy_bar)
        status.addWidget(self.progress_label)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Servers</h2>"))
        layout.addLayout(top)
        layout.addLayout(status)
        layout.addWidget(self.target_ages)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset):
            signal.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self._update_count()

    # ---------------------------------------------------------------------------------- wiring

    def connect_tasks(self, local: LocalTasks, aws: AwsTasks) -> None:
        """Read the cache and usage on ``local``, refresh from DRS on ``aws``, from now on."""
        self._local.connect(local)
        self._aws.connect(aws)
        self._aws_tasks = aws

    # ---------------------------------------------------------------------------------- actions

    def refresh(self) -> None:
        """Read the inventory from DRS again (ignored while a refresh is under way)."""
        if self._busy:
            return
        tasks = self._aws_tasks
        if tasks is None:
            logger.warning("servers pane: refresh asked before the pane was connected to its tasks")
            return
        self._set_busy(True, "Refreshing…")
        self._aws(
            "refresh",
            lambda s: s.inventory.refresh_targets(tasks.progress, s.mfa),
            self._refreshed_targets,
            on_progress=self._progressed,
        )

    def open_extend_dialog(self) -> ExtendServersDialog | None:
        """The "Extend servers from a staging account" dialog, on the ``aws`` thread; once it has extended
        servers the pane refreshes, so they appear here (unless the target changed meanwhile)."""
        tasks = self._aws_tasks
        if tasks is None:
            logger.warning("servers pane: extend asked before the pane was connected to its tasks")
            return None
        if self._extend_dialog is not None:
            self._extend_dialog.raise_()
            return self._extend_dialog
        into = self.extend_target()
        label, region = (into.label, into.region) if into is not None else (self._target, "")
        dialog = self._extend_dialog = ExtendServersDialog(label, self, region=region)
        generation = self._generation
        dialog.inventory_refreshed.connect(lambda inventory: self._extended(inventory, generation))
        dialog.finished.connect(lambda _code: setattr(self, "_extend_dialog", None))
        dialog.connect_tasks(tasks)
        dialog.open()
        return dialog

    def extend_target(self) -> Target | None:
        """The target servers are extended into: the connected one, with the account its servers were
        read from when the target was told before its account was known (a profile's account is
        learnt from its first answer), so the dialog never says "account ?" of a known account."""
        target, inventory = self._running, self.model.inventory()
        if target is None or target.demo or target.account or inventory is None:
            return target
        if inventory.account_id and inventory.region == target.region:
            return replace(target, account=inventory.account_id)
        return target

    def load_cached(self) -> None:
        """Show the cached inventory of the region in force (the offline view), then its usage."""
        if self.model.inventory() is None:
            of = f" of {self._target}" if self._target else ""
            self.stamp_label.setText(f"Reading the cached inventory{of}…")  # "no inventory" once it answers
        generation = self._generation
        self._local("load_cached", _cached_with_usage, lambda answer: self._cache_loaded(answer, generation))

    def start_target(self, target: Target) -> None:
        """The application moved to ``target``: the servers on screen are the previous target's. Clear
        them (and the mark of this session's refresh, the offline banner), say whose servers are read
        now; the new target's cache and refresh follow (``load_cached``, ``refresh``). A refresh still
        under way answers for the previous target: its answer is dropped and the refresh asked again."""
        self._target = target.label
        self._running = target
        self._generation += 1
        if self._extend_dialog is not None:  # it names the previous target and acts on the new one
            self._extend_dialog.close()
        self._live = False
        self._offline = False
        self.banner.hide()
        self.set_parts(())
        self.model.set_usage(MappingProxyType({}))
        self.stamp_label.setText(f"Reading the source servers of {target.label}…")
        if self._busy:
            self._stale_refresh = True
            self.progress_label.setText(f"Refreshing {target.label}…")

    def on_targets_changed(self) -> None:
        """The settings' target list changed: every target is read again (a refresh under way was asked
        with the old list: its answer is dropped and the refresh asked again, as on a switch)."""
        if self._busy:
            self._stale_refresh = True
        else:
            self.refresh()

    def on_plans_changed(self) -> None:
        """A plan was saved elsewhere: the "Used by" column is read again."""
        if self.model.inventory() is not None:
            self.load_usage()

    def load_usage(self, inventory: Inventory | None = None) -> None:
        """Recompute the "Used by" column (plans may have changed), against ``inventory`` if given."""
        self._local(
            "load_usage", lambda s: MappingProxyType(s.inventory.usage(inventory)), self._usage_loaded
        )

    def set_launch_drift(self, drift: LaunchDrift | None) -> None:
        """The Launch settings column from a reading of every plan's drift (``LaunchDriftWatch``)."""
        self.model.set_launch_drift(drift)
        at = drift.read_at if drift is not None else None
        self.launch_stamp.setText(f"Launch settings read {moment_text(at)}" if at is not None else "")

    def launch_not_read(self, message: str) -> None:
        """The drift reading failed: the column keeps the last reading, the stamp says why."""
        self.launch_stamp.setText(f"Launch settings not read: {message}")

    # ---------------------------------------------------------------------------------- for tests and the app

    def is_busy(self) -> bool:
        return self._busy

    def is_offline(self) -> bool:
        return self._offline

    def stamp_text(self) -> str:
        return self.stamp_label.text()

    def banner_text(self) -> str:
        return self.banner.text() if self.banner.isVisibleTo(self) else ""

    def progress_text(self) -> str:
        return self.progress_label.text()

    def target_age_lines(self) -> list[str]:
        """One line per target ("name (account · Region): N servers, as of 12 min ago"), when several."""
        return self.target_ages.lines() if len(self.model.parts()) > 1 else []

    def set_inventory(self, inventory: Inventory | None) -> None:
        """Show ``inventory`` as the connected target's, alone (also used by the app for a cache it holds)."""
        self.model.set_inventory(inventory)
        self._parts_shown()

    def set_parts(self, parts: tuple[TargetInventory, ...]) -> None:
        """Show every target's servers, the connected target's stamp and each target's age."""
        self.model.set_parts(parts)
        self._parts_shown()

    def _parts_shown(self) -> None:
        self.stamp_label.setText(format_stamp(self.model.inventory(), self._target))
        self.target_ages.set_parts(self.model.parts())
        self.filters.show_choices(self.model.parts(), self.model.states())
        self._update_count()

    # ---------------------------------------------------------------------------------- answers

    def _progressed(self, text: str) -> None:
        if not self._stale_refresh:  # the previous target's steps are not this one's
            self.progress_label.setText(text)

    def _refresh_again(self) -> bool:
        """The refresh that answered was the previous target's: drop it and read the new target. True
        when it was (the answer is not shown)."""
        if not self._stale_refresh:
            return False
        self._stale_refresh = False
        self._set_busy(False, "")
        self.refresh()
        return True

    def _refreshed_targets(self, parts: tuple[TargetInventory, ...]) -> None:
        """Every target's refresh: the connected one's failure is the pane's (offline, as before); a
        listed target's is named in the banner while the others show fresh."""
        if self._refresh_again():
            return
        connected = connected_part(parts)
        if connected is not None and connected.error:
            self.set_parts(parts)
            self._failed("refresh", connected.error)
            return
        inventory = connected.inventory if connected is not None else None
        self._live = True
        self._offline = False
        self.banner.hide()
        self.set_parts(parts)
        failed = [part for part in parts if part.error]
        count = sum(len(part.inventory.servers) for part in parts if part.inventory and not part.error)
        if failed:
            names = "; ".join(f"{part.label}: {part.error}" for part in failed)
            self._show_banner(
                f"Not refreshed: {names}. Each target's line above says how old what it shows is.",
                _OFFLINE_STYLE,
            )
        of = f" of {len(parts) - len(failed)} targets" if len(parts) > 1 else ""
        self._set_busy(
            False, f"Refreshed: {count} servers{of}" + (f", {len(failed)} failed" if failed else "")
        )
        if inventory is not None:
            self.inventory_refreshed.emit(inventory)
            self.load_usage(inventory)

    def _extended(self, _inventory: Inventory, generation: int) -> None:
        """Servers were extended: read the servers again through the pane's own refresh, so they show as
        every refresh does (stamp, usage, the app told). Not for the previous target; and a refresh under
        way was asked after the extend (one thread, in order), so its answer already has them."""
        if generation == self._generation:
            self.refresh()

    def _cache_loaded(
        self, answer: tuple[tuple[TargetInventory, ...], Mapping[str, ServerUsage]], generation: int
    ) -> None:
        parts, usage = answer
        if generation != self._generation:
            return  # the previous target's cache: a read for the new one was asked with the switch
        if self._live:
            return  # a refresh of this session is newer than any cache (and brought its own usage)
        connected = connected_part(parts)
        if connected is not None and connected.inventory is not None:
            self.cache_loaded.emit(connected.inventory)
        self.set_parts(parts)
        self._usage_loaded(usage)

    def _usage_loaded(self, usage: Mapping[str, ServerUsage]) -> None:
        self.model.set_usage(usage)

    def _failed(self, operation: str, message: str) -> None:
        if operation == "refresh":
            if self._refresh_again():
                return
            self._set_busy(False, "Refresh failed")
            if self.model.inventory() is not None:
                self._offline = True
                stamp = format_stamp(self.model.inventory(), self._target)
                self._show_banner(
                    f"Offline: the inventory could not be refreshed ({message}). Showing the cached "
                    f"inventory, {stamp[0].lower()}{stamp[1:]}.",
                    _OFFLINE_STYLE,
                )
            else:
                self._show_banner(f"The inventory could not be refreshed: {message}", _ERROR_STYLE)
            self.refresh_failed.emit(message)
        else:
            self._show_banner(f"{operation.replace('_', ' ').capitalize()} failed: {message}", _ERROR_STYLE)

    # ---------------------------------------------------------------------------------- internals

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.model.inventory() is not None:
            self.load_usage()  # plans may have changed while another pane was open

    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        self.refresh_button.setEnabled(not busy)
        self.busy_bar.setVisible(busy)
        self.progress_label.setText(text)

    def _show_banner(self, text: str, style: str) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet(style)
        self.banner.show()

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count_label.setText(f"{shown} of {total} servers" if shown != total else f"{total} servers")


def _cached_with_usage(
    services: LocalServices,
) -> tuple[tuple[TargetInventory, ...], Mapping[str, ServerUsage]]:
    """On the task thread: every target's cached servers, and who uses each of the connected one's."""
    parts = services.inventory.cached_targets()
    connected = connected_part(parts)
    inventory = connected.inventory if connected is not None else None
    return parts, MappingProxyType(services.inventory.usage(inventory))
