"""The editor's source of servers and groups: a filterable, sortable, draggable list.

Dragging rows into the plan tree is one way in; selecting rows and pressing Ctrl+Enter (the editor's
"Add to wave..." action) is the keyboard way. The panel itself edits nothing.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.ui.plans.inventory_model import InventoryFilterModel, InventoryModel
from drs_desktop.ui.plans.plan_model import KEY_ROLE, KIND_ROLE

logger = logging.getLogger(__name__)

#: Starting widths: a whole server ID, then hostname, OS and replication state without eliding.
COLUMN_WIDTHS = (150, 80, 62, 92)


class InventoryPanelWidget(QWidget):
    """Filter box, "not in the plan only" switch, and the list of groups and servers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = InventoryModel(self)
        self.proxy = InventoryFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("inventory-filter")
        self.filter_edit.setPlaceholderText("Filter by hostname, ID, OS, state or tag")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.unplaced_check = QCheckBox("Not in the plan only")
        self.unplaced_check.toggled.connect(self.proxy.set_unplaced_only)
        self.view = QTreeView()
        self.view.setObjectName("inventory-view")
        self.view.setModel(self.proxy)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # inventory order until a header is clicked
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.view.header().resizeSection(column, width)
        self.status = QLabel()
        self.status.setObjectName("inventory-status")
        self.status.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.unplaced_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>Inventory</b> — drag into a wave, or select and press Ctrl+Enter")
        title.setWordWrap(True)
        layout.addWidget(title)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.model.set_inventory(None)  # the status stays empty until the pane asks (set_loading)

    def set_loading(self) -> None:
        """The cache is being read: "no cached inventory" would be said before anyone knows."""
        self.status.setText("Reading the cached inventory…")

    def set_inventory(self, inventory: Inventory | None) -> None:
        self.model.set_inventory(inventory)
        if inventory is None:
            self.status.setText("No cached inventory: refresh it in Servers. Only groups are listed.")
        else:
            where = "/".join(p for p in (inventory.account_id, inventory.region) if p) or "unknown account"
            stamp = (
                f"{inventory.fetched_at:%Y-%m-%d %H:%M} UTC" if inventory.fetched_at else "an unknown time"
            )
            self.status.setText(f"{len(inventory.servers)} servers of {where}, as of {stamp}")

    def set_plan(self, plan: RecoveryPlan | None) -> None:
        self.model.set_plan(plan)

    def selected_entries(self) -> tuple[list[str], list[str]]:
        """(server IDs, group names) selected, in the view's order."""
        servers: list[str] = []
        groups: list[str] = []
        rows = sorted(self.view.selectionModel().selectedRows(0), key=lambda index: index.row())
        for index in rows:
            kind, key = index.data(KIND_ROLE), index.data(KEY_ROLE)
            (servers if kind == "server" else groups).append(key)
        return servers, groups
