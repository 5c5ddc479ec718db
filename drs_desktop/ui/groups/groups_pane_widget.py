"""The Groups pane: the protection groups of one plan, created, edited and deleted in place.

Protection groups belong to a plan (the plan file's ``protection_groups``), so the pane edits the groups
of the plan chosen at the top, and every change is saved at once as a new revision of that plan
(on the ``local`` task thread) with a comment saying what changed: the revision history then tells who
changed which group and when, which is what an auditor asks.

Deleting a group that waves use: the pane names those waves and asks; on yes, the group is taken out of
them and deleted in one revision (``plan.edit_parts.remove_group``), on no nothing changes. A wave left
with no server is then reported as a problem of the saved revision, as the plan editor would.

It shares the ``local`` task thread with the Plans pane, and ``run_task`` hands each answer to the pane
that asked only: a save here never reaches the Plans pane's editor. An answer that no longer fits (a plan
opened before the operator picked another) is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import TargetInventory, connected_part
from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.edit_parts import add_group, remove_group, replace_group
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan
from drs_desktop.domain.plan.revisions import PlanRevision, PlanSummary, StoredPlan
from drs_desktop.domain.plan.validation import Problem, Severity
from drs_desktop.ui.change_hub import is_newer, updated_text
from drs_desktop.ui.groups.group_editor_widget import GroupEditorWidget
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"
NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class GroupsPaneWidget(QWidget):
    """Plan picker, the chosen plan's groups, and the editor of the selected group."""

    plan_changed = Signal(object)  # PlanRevision this pane saved (for the app's ChangeHub)

    def __init__(self, *, clock: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("groups-pane")
        #: The clock of the "updated" stamp: the app's one clock (in demo mode the simulator's),
        #: always given, so a pane never stamps desktop time by default.
        self.clock = clock
        self._ask: Requester[LocalServices] = Requester(self, self.on_failed)
        #: (group name, waves using it) -> True to delete; replaceable for embedding and tests.
        self.confirm_delete: Callable[[str, list[str]], bool] = self._ask_delete
        #: Asked before unsaved edits of a group are dropped; True to go on. Replaceable.
        self.confirm_discard: Callable[[str], bool] = self._ask_discard
        self._stored: StoredPlan | None = None
        self._wanted = ""  # the plan asked for, whose answer this pane waits for
        self._saving: tuple[RecoveryPlan, str, str] | None = None  # plan sent, comment, group to select
        self._inventory: Inventory | None = None

        self.plan_picker = QComboBox()
        self.plan_picker.setObjectName("groups-plan-picker")
        self.plan_picker.setMinimumContentsLength(24)
        self.plan_picker.currentIndexChanged.connect(self._picker_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.list_stamp = QLabel("Reading the saved plans…")
        self.list_stamp.setObjectName("groups-plans-stamp")
        self.group_list = QListWidget()
        self.group_list.setObjectName("group-list")
        self.group_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.group_list.currentItemChanged.connect(self._current_group_changed)
        self.new_button = QPushButton("New group")
        self.delete_button = QPushButton("Delete group")
        self.new_button.clicked.connect(self.new_group)
        self.delete_button.clicked.connect(self.delete_selected)
        self.editor = GroupEditorWidget()
        self.editor.save_requested.connect(self.save_group)
        self.editor.set_plan(None)
        self.status = QLabel()
        self.status.setObjectName("groups-status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.addWidget(QLabel("Plan:"))
        top.addWidget(self.plan_picker, 1)
        top.addWidget(self.list_stamp)
        top.addWidget(self.refresh_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("<b>Protection groups</b>"))
        left_layout.addWidget(self.group_list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.delete_button)
        left_layout.addLayout(buttons)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.editor)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 900])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self._update_buttons()

    # ---------------------------------------------------------------------------------- wiring

    def connect_tasks(self, tasks: LocalTasks) -> None:
        """Ask ``tasks`` (the ``local`` thread, shared with the Plans pane) for plans from now on."""
        self._ask.connect(tasks)

    # -------------------------------------------------------------------------------- requests

    def refresh(self) -> None:
        self._request_plans()
        if self._inventory is None:
            self.editor.set_loading()
        self._ask("load_inventory", lambda s: s.plans.inventory(), self.on_cached_inventory)
        self._request_targets()

    def on_plans_changed(self) -> None:
        """A plan changed somewhere (this pane, the Plans pane): read the picker's list again."""
        self._request_plans()

    def _request_targets(self) -> None:
        """Every target's cache: the group editor's Target box and the preview of a group's target."""
        self._ask("load_targets", lambda s: s.inventory.cached_targets(), self.on_cached_targets)

    def on_cached_targets(self, parts: tuple[TargetInventory, ...]) -> None:
        connected = connected_part(parts)
        if self._inventory is not None and connected is not None:  # the connected one as announced
            parts = tuple(replace(p, inventory=self._inventory) if p.connected else p for p in parts)
        self.editor.set_parts(parts)

    def on_cached_inventory(self, inventory: Inventory | None) -> None:
        """The cache read at startup: taken only if nothing newer arrived meanwhile (a refresh may have)."""
        if self._inventory is None or is_newer(inventory, self._inventory):
            self.set_inventory(inventory)

    def open_plan(self, name: str) -> bool:
        if not self._may_discard():
            self._select_in_picker(self.plan_name())
            return False
        self._wanted = name
        self._say(f"Opening {name!r}…")
        self._ask("load_plan", lambda s: s.plans.load_plan(name), self.show_plan)
        return True

    def new_group(self) -> None:
        plan = self.plan()
        if plan is None or not self._may_discard():
            return
        taken = {g.name.casefold() for g in plan.protection_groups}
        name, number = "New group", 2
        while name.casefold() in taken:
            name, number = f"New group {number}", number + 1
        self.group_list.blockSignals(True)
        self.group_list.setCurrentRow(-1)
        self.group_list.blockSignals(False)
        self.editor.edit_group(None, new_name=name)
        self._say(f"New group {name!r}: add tags or pick servers, then save.")
        self._update_buttons()

    def save_group(self, original_name: str, group: ProtectionGroup) -> bool:
        """Apply the editor's group to the plan and save the plan as a new revision."""
        plan = self.plan()
        if plan is None or self._saving is not None:
            return False
        try:
            if original_name and plan.group(original_name) is not None:
                edited = replace_group(plan, original_name, group)
                renamed = f" (renamed from {original_name!r})" if original_name != group.name else ""
                comment = f"protection group {group.name!r} edited{renamed}"
            else:
                edited = add_group(plan, group)
                comment = f"protection group {group.name!r} created"
            edited = self.editor.with_chosen_target(edited, group.name)
        except PlanEditError as exc:
            self._say(str(exc), error=True)
            return False
        self._send(edited, comment, group.name)
        return True

    def delete_group(self, name: str) -> bool:
        """Delete group ``name`` after asking; waves using it are named, and it is taken out of them."""
        plan = self.plan()
        if plan is None or plan.group(name) is None or self._saving is not None:
            return False
        waves = [wave.name for wave in plan.waves if name in wave.groups]
        if not self.confirm_delete(name, waves):
            if waves:
                self._say(f"Group {name!r} is used by wave{'s' * (len(waves) != 1)} {_names(waves)}: kept.")
            return False
        comment = f"protection group {name!r} deleted"
        if waves:
            comment += f" and taken out of wave{'s' * (len(waves) != 1)} {_names(waves)}"
        self._send(remove_group(plan, name), comment, "")
        return True

    def delete_selected(self) -> bool:
        item = self.group_list.currentItem()
        return self.delete_group(str(item.data(NAME_ROLE))) if item is not None else False

    def select_group(self, name: str) -> bool:
        for row in range(self.group_list.count()):
            item = self.group_list.item(row)
            if item is not None and item.data(NAME_ROLE) == name:
                self.group_list.setCurrentRow(row)
                return True
        return False

    # ---------------------------------------------------------------------------- answers

    def show_plans(self, summaries: Sequence[PlanSummary]) -> None:
        current = self.plan_name() or self._wanted
        self.plan_picker.blockSignals(True)
        self.plan_picker.clear()
        for summary in summaries:
            self.plan_picker.addItem(f"{summary.name} (rev {summary.latest_revision})", summary.name)
        self.plan_picker.setCurrentIndex(-1)
        self.plan_picker.blockSignals(False)
        now = self.clock()
        self.list_stamp.setText(
            f"{len(summaries)} plan{'s' * (len(summaries) != 1)}, {updated_text(now, now)}"
        )
        if not summaries:
            self._show_stored(None)
            self._say("No plans yet: create a plan in the Plans pane first.")
            return
        wanted = current if self._select_in_picker(current) else str(self.plan_picker.itemData(0))
        latest = {summary.name: summary.latest_revision for summary in summaries}
        opened = self.revision()
        newer = opened is not None and latest.get(wanted, 0) > opened.revision and not self.editor.is_dirty()
        if wanted != self.plan_name() or newer:  # newer: another pane saved this plan since
            self._select_in_picker(wanted)
            self.open_plan(wanted)

    def show_plan(self, stored: StoredPlan) -> None:
        if stored.revision.name.casefold() != self._wanted.casefold():
            return  # not this pane's request
        self._wanted = ""
        self._show_stored(stored)
        self._select_in_picker(stored.revision.name)
        count = len(stored.plan.protection_groups)
        self._say(
            f"{stored.revision.name!r} revision {stored.revision.revision}: "
            f"{count} protection group{'s' * (count != 1)}."
        )

    def set_inventory(self, inventory: Inventory | None) -> None:
        """A newer inventory of the connected target; every target's cache is read again with it."""
        self._inventory = inventory
        self.editor.set_inventory(inventory)
        self._request_targets()

    def on_plan_saved(self, revision: PlanRevision, problems: Sequence[Problem]) -> None:
        if self._saving is None or revision.name.casefold() != self._saving[0].name.casefold():
            return  # another pane's save
        plan, comment, select = self._saving
        self._saving = None
        self._show_stored(StoredPlan(revision, plan), select=select)
        errors = [p for p in problems if p.severity is Severity.ERROR]
        tail = (
            f"; the plan has {len(errors)} problem{'s' * (len(errors) != 1)} to fix before it runs"
            if errors
            else ""
        )
        self._say(
            f"Saved {revision.name!r} revision {revision.revision}: {comment}{tail}.", error=bool(errors)
        )
        if errors:
            self.status.setToolTip("\n".join(str(p) for p in errors))
        self.plan_changed.emit(revision)
        self._request_plans()  # the picker shows each plan's latest revision
        self._update_buttons()

    def on_failed(self, operation: str, message: str) -> None:
        if operation == "save_plan":
            self._saving = None
        elif operation == "load_plan":
            self._wanted = ""
        self._say(f"Could not {operation.replace('_', ' ')}: {message}", error=True)
        self._update_buttons()

    # ---------------------------------------------------------------------------------- reading

    def plan(self) -> RecoveryPlan | None:
        return self._stored.plan if self._stored is not None else None

    def plan_name(self) -> str:
        return self._stored.revision.name if self._stored is not None else ""

    def revision(self) -> PlanRevision | None:
        return self._stored.revision if self._stored is not None else None

    def group_names(self) -> list[str]:
        items = (self.group_list.item(row) for row in range(self.group_list.count()))
        return [str(item.data(NAME_ROLE)) for item in items if item is not None]

    def status_text(self) -> str:
        return self.status.text()

    # ---------------------------------------------------------------------------------- helpers

    def _request_plans(self) -> None:
        self._ask("load_plans", lambda s: s.plans.list_plans(), self.show_plans)

    def _send(self, plan: RecoveryPlan, comment: str, select: str) -> None:
        self._saving = (plan, comment, select)
        self._say("Saving…")
        opened = self._stored.revision.revision if self._stored is not None else 0
        self._ask(
            "save_plan",
            lambda s: s.plans.save_plan(plan, comment, previous_name=plan.name, base_revision=opened),
            lambda saved: self.on_plan_saved(saved.revision, saved.problems),
        )
        self._update_buttons()

    def _show_stored(self, stored: StoredPlan | None, *, select: str | None = None) -> None:
        previous = self.editor.original_name()
        self._stored = stored
        plan = stored.plan if stored is not None else None
        self.editor.set_plan(plan)
        self.group_list.blockSignals(True)
        self.group_list.clear()
        for group in plan.protection_groups if plan is not None else ():
            item = QListWidgetItem(f"{group.name}  ({_kind(group)})")
            item.setData(NAME_ROLE, group.name)
            users = [w.name for w in plan.waves if group.name in w.groups] if plan is not None else []
            item.setToolTip(f"used by {_names(users)}" if users else "not used by any wave")
            self.group_list.addItem(item)
        self.group_list.setCurrentRow(-1)
        wanted = select if select is not None else previous
        if plan is not None and (not wanted or plan.group(wanted) is None) and plan.protection_groups:
            wanted = plan.protection_groups[0].name
        shown = plan.group(wanted) if plan is not None and wanted else None
        if shown is not None:
            self.editor.edit_group(shown)  # the saved state: nothing to discard
            self.select_group(shown.name)
        else:
            self.editor.edit_group(None, new_name="New group")
        self.group_list.blockSignals(False)
        self._update_buttons()

    def _current_group_changed(
        self, current: QListWidgetItem | None, previous: QListWidgetItem | None
    ) -> None:
        plan = self.plan()
        if current is None or plan is None:
            self._update_buttons()
            return
        name = str(current.data(NAME_ROLE))
        if name == self.editor.original_name() and not self.editor.is_dirty():
            self._update_buttons()
            return
        if not self._may_discard():
            self.group_list.blockSignals(True)
            if previous is not None:
                self.group_list.setCurrentItem(previous)
            self.group_list.blockSignals(False)
            return
        self.editor.edit_group(plan.group(name))
        self._update_buttons()

    def _picker_changed(self, index: int) -> None:
        name = str(self.plan_picker.itemData(index) or "")
        if name and name != self.plan_name():
            self.open_plan(name)

    def _select_in_picker(self, name: str) -> bool:
        found = self.plan_picker.findData(name) if name else -1
        self.plan_picker.blockSignals(True)
        if found >= 0:
            self.plan_picker.setCurrentIndex(found)
        self.plan_picker.blockSignals(False)
        return found >= 0

    def _may_discard(self) -> bool:
        if self._stored is None or not self.editor.is_dirty() or self._editor_untouched_new():
            return True
        return self.confirm_discard(self.editor.group().name)

    def _editor_untouched_new(self) -> bool:
        """A new group nobody typed into yet (a name and an empty tag row) is nothing to lose."""
        group = self.editor.group()
        return not self.editor.original_name() and not group.server_ids and not group.tags

    def _update_buttons(self) -> None:
        has_plan = self._stored is not None and self._saving is None
        self.new_button.setEnabled(has_plan)
        self.delete_button.setEnabled(has_plan and self.group_list.currentItem() is not None)
        self.editor.save_button.setEnabled(has_plan and not self.editor.problem() and self.editor.is_dirty())

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
        self.status.setToolTip("")
        self.status.setText(text)

    def _ask_delete(self, name: str, waves: list[str]) -> bool:
        if waves:
            title = "Delete a group in use"
            text = (
                f"Group {name!r} is used by wave{'s' * (len(waves) != 1)} {_names(waves)}.\n\n"
                "Deleting it takes it out of those waves too: their servers from this group will no "
                "longer be recovered by them. Delete it anyway?"
            )
        else:
            title = "Delete group"
            text = f"Delete protection group {name!r}? The plan's earlier revisions keep it."
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _ask_discard(self, name: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Group {name!r} has unsaved changes. Discard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard


def _kind(group: ProtectionGroup) -> str:
    if group.tags is not None:
        return "tags: " + ", ".join(f"{k}={v}" for k, v in group.tags.items())
    count = len(group.server_ids)
    return f"{count} server{'s' * (count != 1)}"


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)
