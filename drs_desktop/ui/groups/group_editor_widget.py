"""Edit one protection group: its name, and either explicit members or a tag selector, with a live
preview of the servers it selects in the cached inventory.

A group is in one target (plan format 2): the Target box offers the plan's declared targets and every
target the application lists (the connected one and the settings' list); choosing one the plan does not
declare yet declares it when the group is saved (``plan.edit_targets.set_group_target``), and the preview
resolves the tags in that target's cached inventory.

The preview follows every keystroke and check box, using the rule a run resolves the group by
(``plan.validation.resolve_group``), so what the operator sees is what a drill would launch. Problems that
would make the edit fail (``plan.edit_parts``' checks: an empty name, a taken name, an empty selector)
show as the operator types, and the Save button stays off until there are none.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import TargetInventory, connected_part, part_of_target
from drs_desktop.domain.launch.model import NO_SETTINGS
from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.edit_parts import add_group, replace_group
from drs_desktop.domain.plan.edit_targets import declared_as, set_group_target
from drs_desktop.domain.plan.model import PlanTarget, ProtectionGroup, RecoveryPlan
from drs_desktop.domain.plan.validation import resolve_group
from drs_desktop.ui.groups.group_preview_model import GroupPreviewModel, preview_rows
from drs_desktop.ui.groups.server_pick_model import ServerPickModel

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"
MEMBERS_PAGE, TAGS_PAGE = 0, 1


class GroupEditorWidget(QWidget):
    """The form of one group. ``save_requested(original_name, group)``: "" for a new group."""

    save_requested = Signal(str, object)
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("group-editor")
        self._inventory: Inventory | None = None
        self._parts: tuple[TargetInventory, ...] = ()
        self._reading = False  # the pane asked for the cached inventory and has no answer yet
        self._plan: RecoveryPlan | None = None
        self._original: ProtectionGroup | None = None
        self._original_name = ""
        self._loading = False

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("group-name")
        self.target_combo = QComboBox()
        self.target_combo.setObjectName("group-target")
        self.target_combo.setToolTip("The account and Region the group's servers are in")
        self.members_radio = QRadioButton("Explicit servers")
        self.tags_radio = QRadioButton("Tag selector (servers carrying all these tags)")
        self.kind = QButtonGroup(self)
        self.kind.addButton(self.members_radio, MEMBERS_PAGE)
        self.kind.addButton(self.tags_radio, TAGS_PAGE)
        self.tags_radio.setChecked(True)

        self.tags_table = QTableWidget(0, 2)
        self.tags_table.setObjectName("group-tags")
        self.tags_table.setHorizontalHeaderLabels(["Tag key", "Value"])
        self.tags_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.tags_table.verticalHeader().setVisible(False)
        self.add_tag_button = QPushButton("Add tag")
        self.remove_tag_button = QPushButton("Remove tag")
        tags_page = QWidget()
        tags_layout = QVBoxLayout(tags_page)
        tags_layout.setContentsMargins(0, 0, 0, 0)
        tags_layout.addWidget(self.tags_table, 1)
        tag_buttons = QHBoxLayout()
        tag_buttons.addWidget(self.add_tag_button)
        tag_buttons.addWidget(self.remove_tag_button)
        tag_buttons.addStretch(1)
        tags_layout.addLayout(tag_buttons)

        self.pick_model = ServerPickModel(self)
        self.pick_proxy = QSortFilterProxyModel(self)
        self.pick_proxy.setSourceModel(self.pick_model)
        self.pick_proxy.setFilterKeyColumn(-1)
        self.pick_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.member_filter = QLineEdit()
        self.member_filter.setObjectName("group-member-filter")
        self.member_filter.setPlaceholderText("Filter servers by ID, hostname, tag or state")
        self.member_filter.setClearButtonEnabled(True)
        self.member_filter.textChanged.connect(self.pick_proxy.setFilterFixedString)
        self.pick_view = QTableView()
        self.pick_view.setObjectName("group-members")
        self.pick_view.setModel(self.pick_proxy)
        self.pick_view.setSortingEnabled(True)
        self.pick_view.verticalHeader().setVisible(False)
        self.pick_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.pick_view.horizontalHeader().setStretchLastSection(True)
        members_page = QWidget()
        members_layout = QVBoxLayout(members_page)
        members_layout.setContentsMargins(0, 0, 0, 0)
        members_layout.addWidget(self.member_filter)
        members_layout.addWidget(self.pick_view, 1)

        self.pages = QStackedWidget()
        self.pages.insertWidget(MEMBERS_PAGE, members_page)
        self.pages.insertWidget(TAGS_PAGE, tags_page)
        self.pages.setCurrentIndex(TAGS_PAGE)

        self.preview_model = GroupPreviewModel(self)
        self.preview_view = QTableView()
        self.preview_view.setObjectName("group-preview")
        self.preview_view.setModel(self.preview_model)
        self.preview_view.verticalHeader().setVisible(False)
        self.preview_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview_view.horizontalHeader().setStretchLastSection(True)
        self.preview_view.setWordWrap(False)  # an ID or a tag list is elided on one line, never broken
        self.preview_label = QLabel()
        self.preview_label.setObjectName("group-preview-label")
        self.problem_label = QLabel()
        self.problem_label.setObjectName("group-problem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(_ERROR_STYLE)
        self.save_button = QPushButton("Save group")
        self.save_button.setObjectName("group-save")
        self.revert_button = QPushButton("Revert")

        form = QFormLayout()
        form.addRow("Name:", self.name_edit)
        form.addRow("Target:", self.target_combo)
        kinds = QHBoxLayout()
        kinds.addWidget(self.members_radio)
        kinds.addWidget(self.tags_radio)
        kinds.addStretch(1)
        form.addRow("Members:", kinds)
        buttons = QHBoxLayout()
        buttons.addWidget(self.problem_label, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.pages, 2)
        layout.addWidget(self.preview_label)
        layout.addWidget(self.preview_view, 2)
        layout.addLayout(buttons)

        self.name_edit.textChanged.connect(self._edited)
        self.target_combo.currentIndexChanged.connect(lambda _i: self._edited())
        self.kind.idToggled.connect(self._kind_toggled)
        self.tags_table.itemChanged.connect(self._edited)
        self.add_tag_button.clicked.connect(lambda: self.add_tag_row())
        self.remove_tag_button.clicked.connect(self._remove_selected_tags)
        self.pick_model.checked_changed.connect(self._edited)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.edit_group(None)
        self.setEnabled(False)  # until a plan is chosen (set_plan)

    # ---------------------------------------------------------------------------------- context

    def set_loading(self) -> None:
        """The pane is reading the cached inventory: say so rather than "no cached inventory"."""
        self._reading = True
        self._refresh()

    def set_inventory(self, inventory: Inventory | None) -> None:
        self._inventory = inventory
        self._reading = False
        self.pick_model.set_inventory(inventory)
        self._refresh()

    def set_parts(self, parts: tuple[TargetInventory, ...]) -> None:
        """Every target's cached servers: the Target box's choices, and the preview's inventory."""
        self._parts = parts
        connected = connected_part(parts)
        self.set_inventory(connected.inventory if connected is not None else None)
        self._target_choices()

    def set_plan(self, plan: RecoveryPlan | None) -> None:
        """The plan the group belongs to: its other groups' members and names are checked against."""
        self._plan = plan
        self.setEnabled(plan is not None)
        self._target_choices()
        self._refresh()

    def chosen_target(self) -> PlanTarget | None:
        """The target chosen in the Target box (None: the plan's default)."""
        data = self.target_combo.currentData()
        return data if isinstance(data, PlanTarget) else None

    def with_chosen_target(self, plan: RecoveryPlan, name: str) -> RecoveryPlan:
        """``plan`` (the group saved in it) with group ``name`` in the chosen target, declared if the plan
        does not declare it yet (and the connected one with it where the plan's servers are)."""
        chosen = self.chosen_target()
        if chosen is None:
            return plan
        connected = connected_part(self._parts)
        return set_group_target(plan, name, chosen, connected.declaration if connected else None)

    def select_target(self, name: str) -> bool:
        """Choose the target called ``name`` (as the plan or the inventory names it); False if none is."""
        for row in range(self.target_combo.count()):
            data = self.target_combo.itemData(row)
            if isinstance(data, PlanTarget) and data.name == name:
                self.target_combo.setCurrentIndex(row)
                return True
        return False

    def edit_group(self, group: ProtectionGroup | None, *, new_name: str = "") -> None:
        """Load ``group`` into the form, or a new tag group called ``new_name`` when None."""
        self._loading = True
        self._original = group
        self._original_name = group.name if group is not None else ""
        self.name_edit.setText(group.name if group is not None else new_name)
        tags = dict(group.tags or {}) if group is not None else {}
        self.tags_table.setRowCount(0)
        for key, value in tags.items():
            self.add_tag_row(key, value)
        self.pick_model.set_checked(group.server_ids if group is not None else ())
        self.target_combo.blockSignals(True)
        self.target_combo.clear()  # the choices and the choice are this group's
        self.target_combo.blockSignals(False)
        self._target_choices()
        explicit = group is not None and not group.is_tag_selector
        (self.members_radio if explicit else self.tags_radio).setChecked(True)
        self.pages.setCurrentIndex(MEMBERS_PAGE if explicit else TAGS_PAGE)
        if group is None:
            self.add_tag_row()
        self._loading = False
        self._refresh()

    def original_name(self) -> str:
        """The name the group is stored under ("" for a group not saved yet)."""
        return self._original_name

    # ------------------------------------------------------------------------------------ editing

    def add_tag_row(self, key: str = "", value: str = "") -> int:
        row = self.tags_table.rowCount()
        self.tags_table.blockSignals(True)
        self.tags_table.insertRow(row)
        self.tags_table.setItem(row, 0, QTableWidgetItem(key))
        self.tags_table.setItem(row, 1, QTableWidgetItem(value))
        self.tags_table.blockSignals(False)
        self._edited()
        return row

    def set_tag(self, row: int, key: str, value: str) -> None:
        """Set one key/value row (adds rows as needed): what typing in the table does."""
        while self.tags_table.rowCount() <= row:
            self.add_tag_row()
        self.tags_table.blockSignals(True)
        self.tags_table.setItem(row, 0, QTableWidgetItem(key))
        self.tags_table.setItem(row, 1, QTableWidgetItem(value))
        self.tags_table.blockSignals(False)
        self._edited()  # one preview update for the pair

    def group(self) -> ProtectionGroup:
        """The group as the form describes it now."""
        name = self.name_edit.text().strip()
        chosen = self.chosen_target()
        declared = declared_as(self._plan, chosen) if chosen is not None and self._plan is not None else None
        # A target the plan does not declare yet is declared under its own name when the group is saved.
        target = (declared or chosen).name if chosen is not None else None
        # The form does not edit launch settings: the group keeps the ones it had, never loses them.
        settings = self._original.launch_settings if self._original is not None else NO_SETTINGS
        if self.members_radio.isChecked():
            return ProtectionGroup(
                name, server_ids=self.pick_model.checked_ids(), target=target, launch_settings=settings
            )
        return ProtectionGroup(name, tags=self._tags(), target=target, launch_settings=settings)

    def problem(self) -> str:
        """Why the form cannot be saved now ("" when it can)."""
        if self._plan is None:
            return "Choose a plan first."
        keys = [key for key, _ in self._tag_rows()]
        if self.tags_radio.isChecked() and len(set(keys)) != len(keys):
            return "A tag key is given twice; each key needs one value."
        group = self.group()
        try:
            if self._original_name and self._plan.group(self._original_name) is not None:
                replace_group(self._plan, self._original_name, group)
            else:
                add_group(self._plan, group)
        except PlanEditError as exc:
            return str(exc)
        return ""

    def is_dirty(self) -> bool:
        if self._plan is None:
            return False
        if self._original is None:
            return True
        return self.group() != self._original

    def save(self) -> bool:
        problem = self.problem()
        if problem:
            self.problem_label.setText(problem)
            return False
        self.save_requested.emit(self._original_name, self.group())
        return True

    def revert(self) -> None:
        self.edit_group(self._original, new_name=self.name_edit.text() if self._original is None else "")

    # ----------------------------------------------------------------------------------- helpers

    def _tag_rows(self) -> list[tuple[str, str]]:
        rows = []
        for row in range(self.tags_table.rowCount()):
            key_item, value_item = self.tags_table.item(row, 0), self.tags_table.item(row, 1)
            key = key_item.text().strip() if key_item is not None else ""
            value = value_item.text().strip() if value_item is not None else ""
            if key or value:  # an empty row is just a row not filled in yet
                rows.append((key, value))
        return rows

    def _tags(self) -> dict[str, str]:
        return dict(self._tag_rows())

    def _kind_toggled(self, page: int, checked: bool) -> None:
        if checked:
            self.pages.setCurrentIndex(page)
            self._edited()

    def _remove_selected_tags(self) -> None:
        rows = sorted({index.row() for index in self.tags_table.selectedIndexes()}, reverse=True)
        if not rows and self.tags_table.rowCount():
            rows = [self.tags_table.rowCount() - 1]
        for row in rows:
            self.tags_table.removeRow(row)
        self._edited()

    def _edited(self) -> None:
        if self._loading:
            return
        self._refresh()
        self.changed.emit()

    def _refresh(self) -> None:
        if self._loading:
            return
        group = self.group()
        selector_empty = self.tags_radio.isChecked() and not group.tags
        inventory = self._preview_inventory()
        ids = () if selector_empty else resolve_group(group, inventory)
        self.preview_model.set_rows(preview_rows(ids, inventory, self._member_of()))
        # Whole IDs, hostnames and tags (the note takes what is left): default widths cut every ID.
        self.preview_view.resizeColumnsToContents()
        if self.tags_radio.isChecked() and inventory is None and self._reading:
            text = "Reading the cached inventory…"
        elif self.tags_radio.isChecked() and inventory is None:
            text = "No cached inventory: refresh the inventory to preview the servers these tags select."
        elif selector_empty:
            text = "Add a tag to select servers (an empty selector selects nothing)."
        else:
            count = len(ids)
            text = f"Selects {count} server{'s' * (count != 1)}"
            warnings = len(self.preview_model.warnings())
            text += f" ({warnings} need attention)." if warnings else "."
        self.preview_label.setText(text)
        problem = self.problem()
        self.problem_label.setText(problem)
        self.save_button.setEnabled(not problem and self.is_dirty())
        self.revert_button.setEnabled(self.is_dirty() and self._original is not None)

    def _preview_inventory(self) -> Inventory | None:
        """The chosen target's cached inventory (the plan's only target's, or the connected one's, for
        the default); None when that target's servers were never read."""
        chosen = self.chosen_target()
        if chosen is None and self._plan is not None and len(self._plan.targets) == 1:
            chosen = self._plan.targets[0]
        if chosen is None or not self._parts:
            return self._inventory
        part = part_of_target(self._parts, chosen)
        return part.inventory if part is not None else None

    def _target_choices(self) -> None:
        """The plan's targets, then the listed ones it does not declare; "plan default" while it may."""
        plan = self._plan
        current = self._original.target if self._original is not None else None
        chosen = self.chosen_target()
        wanted = chosen.name if chosen is not None and self.target_combo.count() else current
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        declared = plan.targets if plan is not None else ()
        if len(declared) <= 1:
            default = declared[0].name if declared else "the connected target"
            self.target_combo.addItem(f"Plan default ({default})", None)
        for target in declared:
            self.target_combo.addItem(f"{target.name} ({target.account} · {target.region})", target)
        for part in self._parts:
            decl = part.declaration
            if decl is not None and (plan is None or declared_as(plan, decl) is None):
                self.target_combo.addItem(f"{part.label}, not in the plan yet", decl)
        self.target_combo.setCurrentIndex(0)
        self.target_combo.blockSignals(False)
        if wanted is not None:
            self.select_target(wanted)

    def _member_of(self) -> dict[str, str]:
        """Server ID -> the other group of the plan that already holds it."""
        if self._plan is None:
            return {}
        held: dict[str, str] = {}
        for other in self._plan.protection_groups:
            if other.name == self._original_name:
                continue
            for server_id in resolve_group(other, self._inventory):
                held.setdefault(server_id, other.name)
        return held

    def preview_ids(self) -> list[str]:
        return self.preview_model.server_ids()

    def preview_text(self) -> str:
        return self.preview_label.text()
