"""The editor's source of servers and groups: a filterable, sortable, draggable list.

Dragging rows into the plan tree is one way in; selecting rows and pressing Ctrl+Enter (the editor's
"Add to wave..." action) is the keyboard way. The panel itself edits nothing. It lists every target's
cached servers (``set_parts``), and its target box shows one target's at a time.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import TargetInventory
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.ui.plans.inventory_model import TARGET_ROLE, InventoryFilterModel, InventoryModel
from drs_desktop.ui.plans.plan_model import KEY_ROLE, KIND_ROLE

logger = logging.getLogger(__name__)

#: Starting widths: a whole server ID, the target, then hostname, OS and replication state.
COLUMN_WIDTHS = (150, 80, 80, 62, 92)


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
        self.target_combo = QComboBox()
        self.target_combo.setObjectName("inventory-target")
        self.target_combo.setToolTip("Show the servers of one target (groups are always listed)")
        self.target_combo.addItem("All targets", "")
        self.target_combo.currentIndexChanged.connect(
            lambda _i: self.proxy.set_target(str(self.target_combo.currentData() or ""))
        )
        self.target_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.target_combo.setMinimumContentsLength(12)  # the filter keeps its room; the list shows all
        self.target_combo.setVisible(False)  # until there is more than one target
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
        top.addWidget(self.target_combo)
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

    def set_parts(self, parts: tuple[TargetInventory, ...]) -> None:
        """Every target's cached servers; with one target it reads as before."""
        if len(parts) <= 1:
            self.set_inventory(parts[0].inventory if parts else None, parts)
            return
        self.model.set_parts(parts)
        self._target_choices(parts)
        total = sum(len(part.inventory.servers) for part in parts if part.inventory is not None)
        lines = [f"{total} servers of {len(parts)} targets:"]
        for part in parts:
            inventory = part.inventory
            if inventory is None:
                lines.append(f"{part.label}: never read")
            else:
                lines.append(f"{part.label}: {len(inventory.servers)}, as of {_stamp(inventory)}")
        self.status.setText(" · ".join(lines[:1]) + " " + "; ".join(lines[1:]))

    def set_inventory(self, inventory: Inventory | None, parts: tuple[TargetInventory, ...] = ()) -> None:
        if parts:
            self.model.set_parts(parts)
        else:
            self.model.set_inventory(inventory)
        self._target_choices(parts)
        if inventory is None:
            self.status.setText("No cached inventory: refresh it in Servers. Only groups are listed.")
        else:
            where = "/".join(p for p in (inventory.account_id, inventory.region) if p) or "unknown account"
            self.status.setText(f"{len(inventory.servers)} servers of {where}, as of {_stamp(inventory)}")

    def set_plan(self, plan: RecoveryPlan | None) -> None:
        self.model.set_plan(plan)

    def selected_entries(self) -> tuple[list[str], list[str]]:
        """(server IDs, group names) selected, in the view's order."""
        servers, groups, _targets = self.selected_with_targets()
        return servers, groups

    def selected_with_targets(self) -> tuple[list[str], list[str], list[str]]:
        """(server IDs, group names, each server's target) selected, in the view's order."""
        servers: list[str] = []
        groups: list[str] = []
        targets: list[str] = []
        rows = sorted(self.view.selectionModel().selectedRows(0), key=lambda index: index.row())
        for index in rows:
            kind, key = index.data(KIND_ROLE), index.data(KEY_ROLE)
            (servers if kind == "server" else groups).append(key)
            if kind == "server":
                targets.append(str(index.data(TARGET_ROLE) or ""))
        return servers, groups, targets

    def _target_choices(self, parts: tuple[TargetInventory, ...]) -> None:
        """One entry per target (kept when it still exists); hidden with one target."""
        current = str(self.target_combo.currentData() or "")
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self.target_combo.addItem("All targets", "")
        for part in parts:
            self.target_combo.addItem(part.label, part.name)
        self.target_combo.setCurrentIndex(max(0, self.target_combo.findData(current)))
        self.target_combo.blockSignals(False)
        self.proxy.set_target(str(self.target_combo.currentData() or ""))
        self.target_combo.setVisible(len(parts) > 1)


def _stamp(inventory: Inventory) -> str:
    return f"{inventory.fetched_at:%Y-%m-%d %H:%M} UTC" if inventory.fetched_at else "an unknown time"
