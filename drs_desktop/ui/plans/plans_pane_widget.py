"""The Plans pane: the saved plans on the left, the plan editor on the right.

Every plan operation runs on the ``local`` task thread (DESIGN §3.4): the pane asks with ``run_task`` and
the answer, a frozen domain value, or the error comes back to this pane alone, on the GUI thread. So
nothing here waits on disk; while a request is out, the operator keeps editing. Another pane using the
same thread (the Groups pane) never receives this pane's answers, nor this pane its.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import TargetInventory, connected_part
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.revisions import PlanRevision, PlanSummary, StoredPlan
from drs_desktop.domain.plan.validation import Problem, Severity
from drs_desktop.domain.views.launch_drift import LaunchDrift
from drs_desktop.ui.change_hub import is_newer, updated_text
from drs_desktop.ui.plans.alert_routes_dialog import AlertRoutesDialog
from drs_desktop.ui.plans.launch_panel import LaunchPanel
from drs_desktop.ui.plans.native_link_panel import NativeLinkPanel
from drs_desktop.ui.plans.plan_editor_widget import PlanEditorWidget
from drs_desktop.ui.plans.plan_history_dialog import PlanHistoryDialog
from drs_desktop.ui.plans.schedule_dialog import ScheduleDialog
from drs_desktop.ui.status_icons import status_icon
from drs_desktop.workers.pane_tasks import AwsTasks, LocalServices, LocalTasks, ScheduleTasks, StatusReading
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"


class PlansPaneWidget(QWidget):
    """Plan list (new, import, export, history, delete) and the editor of the open plan."""

    plans_changed = Signal()  # this pane saved, imported or deleted a plan (for the app's ChangeHub)
    plans_listed = Signal(list)  # the saved plans' names, each time the list is read (the run dialog)

    def __init__(self, *, clock: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plans-pane")
        #: The clock of the "updated" stamp: the app's one clock (in demo mode the simulator's),
        #: always given, so a pane never stamps desktop time by default.
        self.clock = clock
        self._ask: Requester[LocalServices] = Requester(self, self.on_failed)
        #: Asked before unsaved edits are dropped; returns True to go on. Replaceable for embedding.
        self.confirm_discard: Callable[[str], bool] = self._ask_discard
        self._history: PlanHistoryDialog | None = None
        self.editor = PlanEditorWidget()
        self.editor.save_requested.connect(
            lambda plan, comment: self._request_save(plan, comment, self.editor.stored_name())
        )
        self.plan_list = QTreeWidget()
        self.plan_list.setObjectName("plan-list")
        # waves, servers: tooltip; DRS: the native link in a word, its line in the tooltip
        self.plan_list.setHeaderLabels(["Plan", "Rev", "Updated (UTC)", "DRS"])
        self.plan_list.setRootIsDecorated(False)
        header = self.plan_list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # a few rows: cheap
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # a long name: tooltip says it
        self.plan_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.plan_list.currentItemChanged.connect(self._current_plan_changed)
        self.list_stamp = QLabel("Reading the saved plans…")
        self.list_stamp.setObjectName("plans-list-stamp")
        self.list_stamp.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("plans-status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.new_button = QPushButton("New")
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        self.history_button = QPushButton("History…")
        #: Where the open plan's alerts go outside the app (issue 18): SNS topics and webhooks.
        self.alerts_button = QPushButton("Alerts…")
        self.alerts_button.setObjectName("plan-alerts-button")
        self.alerts_button.clicked.connect(self.show_alerts)
        self._aws_tasks: AwsTasks | None = None
        self.delete_button = QPushButton("Delete")
        self.refresh_button = QPushButton("Refresh")
        #: The open plan's unattended drill schedule (docs/scheduled-drills.md); shown once connected.
        self.schedule_button = QPushButton("Schedule…")
        self.schedule_button.setVisible(False)
        self._schedule_tasks: ScheduleTasks | None = None
        self.schedule_dialog: ScheduleDialog | None = None
        #: The open plan's launch settings drift line and its dialog (issue 16).
        self.launch = LaunchPanel(clock=clock)
        self.launch.plan_saved.connect(lambda _revision: self._launch_accepted())
        self.new_button.clicked.connect(self.new_plan)
        self.import_button.clicked.connect(self._choose_import)
        self.export_button.clicked.connect(self._choose_export)
        self.history_button.clicked.connect(self.show_history)
        self.delete_button.clicked.connect(self._confirm_delete)
        self.refresh_button.clicked.connect(self.refresh)
        self.schedule_button.clicked.connect(self.show_schedule)
        #: The selected plan's native DRS link (read on the ``aws`` thread) and its dialogs.
        self.native = NativeLinkPanel(clock=clock)
        self.native.set_dirty_check(self.editor.is_dirty)
        self.native.reading_changed.connect(self.show_native)
        self.native.reading_failed.connect(self.show_native)
        self.native.plans_changed.connect(self._native_saved)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("<b>Plans</b>"))
        left_layout.addWidget(self.plan_list, 1)
        left_layout.addWidget(self.list_stamp)
        left_layout.addWidget(self.native)
        left_layout.addWidget(self.launch)
        for row in (
            (self.new_button, self.import_button, self.export_button),
            (self.history_button, self.delete_button, self.refresh_button),
            (self.schedule_button, self.alerts_button),
        ):
            line = QHBoxLayout()
            for button in row:
                line.addWidget(button)
            left_layout.addLayout(line)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.editor)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([230, 1000])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self._update_buttons()

    # ---------------------------------------------------------------------------------- wiring

    def connect_tasks(self, tasks: LocalTasks) -> None:
        """Ask ``tasks`` (the ``local`` thread) for every plan operation from now on."""
        self._ask.connect(tasks)

    def connect_native(self, tasks: AwsTasks) -> None:
        """Ask ``tasks`` (the ``aws`` thread) for native DRS plans: the link line, publish, import, drift."""
        self.native.connect_tasks(tasks)
        self.launch.connect_tasks(tasks)
        self._aws_tasks = tasks
        self.launch.set_plan(self.editor.stored_name())

    def connect_schedules(self, tasks: ScheduleTasks) -> None:
        """Ask ``tasks`` (the ``schedules`` thread) for the open plan's drill schedule."""
        self._schedule_tasks = tasks
        self.schedule_button.setVisible(True)

    def show_schedule(self) -> None:
        """The open plan's "Schedule…" dialog (non-modal, one at a time)."""
        name = self.editor.stored_name()
        if not name or self._schedule_tasks is None:
            return
        if self.schedule_dialog is not None:
            self.schedule_dialog.close()
        self.schedule_dialog = ScheduleDialog(name, self)
        self.schedule_dialog.connect_tasks(self._schedule_tasks)
        self.schedule_dialog.show()

    def set_launch_drift(self, drift: LaunchDrift | None) -> None:
        """Every plan's launch settings drift (``LaunchDriftWatch``): the open plan's line."""
        self.launch.set_drift(drift)

    def _launch_accepted(self) -> None:
        self._request_plans()  # the open plan reopens at its new revision (when it has no edits)
        self.plans_changed.emit()

    def refresh_native(self) -> None:
        """Read every plan's native link from DRS again (a refresh, a target switch, a saved plan)."""
        self.native.refresh()

    def show_native(self, reading: StatusReading | str | None = None) -> None:
        """Each plan's link in the list's DRS column (an amber mark for drift), its line as tooltip; after
        a failed reading, with the age of the last good one (``NativeLinkPanel.column_text``)."""
        for item in self._items():
            name = str(item.data(0, Qt.ItemDataRole.UserRole))
            status = self.native.status_of(name)
            text, tip = self.native.column_text(name)
            item.setText(3, text)
            item.setToolTip(3, tip)
            item.setIcon(3, status_icon("WARN") if status is not None and status.drift else QIcon())

    # -------------------------------------------------------------------------------- requests

    def refresh(self) -> None:
        self._request_plans()
        self.native.refresh()
        if self.editor.inventory() is None:
            self.editor.inventory_panel.set_loading()
        self._request_targets()

    def on_plans_changed(self) -> None:
        """A plan changed somewhere (this pane, the Groups pane): read the list and the links again."""
        self._request_plans()
        self.native.refresh()

    def set_inventory(self, inventory: Inventory | None) -> None:
        """A newer inventory (a refresh in the Servers pane): the editor validates against it, and every
        target's cache is read again (the refresh cached the listed targets' servers too)."""
        self.editor.set_inventory(inventory)
        self._request_targets()

    def on_cached_inventory(self, inventory: Inventory | None) -> None:
        """The cache read at startup: taken only if nothing newer arrived meanwhile (a refresh may have)."""
        current = self.editor.inventory()
        if current is None or is_newer(inventory, current):
            self.editor.set_inventory(inventory)

    def on_cached_targets(self, parts: tuple[TargetInventory, ...]) -> None:
        """Every target's cache (the inventory panel lists them all), the connected one's taken only if
        nothing newer arrived meanwhile."""
        cached = connected.inventory if (connected := connected_part(parts)) is not None else None
        current = self.editor.inventory()
        same = cached is not None and current is not None and cached.fetched_at == current.fetched_at
        if current is not None and (same or not is_newer(cached, current)):
            parts = tuple(replace(p, inventory=current) if p.connected else p for p in parts)
        self.editor.set_parts(parts)

    def open_plan(self, name: str, revision: int | None = None) -> bool:
        if self.editor.is_dirty() and not self.confirm_discard(self._open_name()):
            self._select_in_list(self.editor.stored_name())
            return False
        self._say(f"Opening {name!r}…")
        self._ask("load_plan", lambda s: s.plans.load_plan(name, revision), self.show_plan)
        return True

    def new_plan(self) -> None:
        if self.editor.is_dirty() and not self.confirm_discard(self._open_name()):
            return
        taken = {item.text(0).casefold() for item in self._items()}
        name, number = "New plan", 2
        while name.casefold() in taken:
            name, number = f"New plan {number}", number + 1
        self.editor.new_plan(name)
        self._select_in_list("")
        self._say(f"New plan {name!r}: add waves, then save (Ctrl+S).")
        self._update_buttons()

    def import_file(self, path: str | Path) -> None:
        self._say(f"Importing {path}…")
        self._ask("import_file", lambda s: s.plans.import_file(Path(path)), self._imported)

    def export_plan(self, path: str | Path, fmt: str = "") -> bool:
        name = self.editor.stored_name()
        if not name:
            self._say("Save the plan before exporting it.", error=True)
            return False
        note = " (unsaved changes are not included)" if self.editor.is_dirty() else ""
        self._say(f"Exporting {name!r}{note}…")
        chosen: Any = fmt if fmt in ("yaml", "json") else None
        self._ask(
            "export_file",
            lambda s: s.plans.export_file(name, Path(path), chosen),
            lambda written: self.on_plan_exported(name, str(written)),
        )
        return True

    def show_history(self) -> PlanHistoryDialog | None:
        name = self.editor.stored_name()
        if not name:
            self._say("This plan has no saved revisions yet.", error=True)
            return None
        if self._history is None:
            self._history = PlanHistoryDialog(self)
            self._history.diff_requested.connect(self._request_diff)
            self._history.revision_open_requested.connect(lambda plan, rev: self.open_plan(plan, rev))
        self._history.set_revisions(name, [])
        self._history.show()
        self._ask(
            "load_history",
            lambda s: s.plans.history(name),
            lambda revisions: self.on_history_loaded(name, revisions),
        )
        return self._history

    def show_alerts(self) -> AlertRoutesDialog | None:
        """The open plan's alert routes (its own dialog, on the ``aws`` thread)."""
        name = self.editor.stored_name()
        if not name or self._aws_tasks is None:
            self._say("Save the plan first: alerts belong to a saved plan.", error=True)
            return None
        dialog = AlertRoutesDialog(name, self._aws_tasks, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def delete_plan(self, name: str) -> None:
        self._say(f"Deleting {name!r}…")
        self._ask("delete_plan", lambda s: s.plans.delete_plan(name), lambda _: self.on_plan_deleted(name))

    # ---------------------------------------------------------------------------- answers

    def plan_names(self) -> list[str]:
        """The saved plans' names as last listed (for the run dialog)."""
        items = (self.plan_list.topLevelItem(i) for i in range(self.plan_list.topLevelItemCount()))
        return [str(item.data(0, Qt.ItemDataRole.UserRole)) for item in items if item is not None]

    def current_plan_name(self) -> str:
        """The plan selected in the list, or "" when none is."""
        item = self.plan_list.currentItem()
        return str(item.data(0, Qt.ItemDataRole.UserRole)) if item is not None else ""

    def show_plans(self, summaries: Sequence[PlanSummary]) -> None:
        self.plan_list.blockSignals(True)
        self.plan_list.clear()
        for summary in summaries:
            item = QTreeWidgetItem(
                [summary.name, str(summary.latest_revision), f"{summary.updated_at:%Y-%m-%d %H:%M}"]
            )
            waves, servers = _count(summary.wave_count, "wave"), _count(summary.server_count, "server")
            details = f"{summary.name}: {waves}, {servers}"
            for column in range(3):
                item.setToolTip(column, details)
            item.setData(0, Qt.ItemDataRole.UserRole, summary.name)
            self.plan_list.addTopLevelItem(item)
        reading = self.native.reading()
        if reading is not None:
            self.show_native(reading)
        self.plan_list.blockSignals(False)
        self._select_in_list(self.editor.stored_name())
        self._update_buttons()
        updated = updated_text(self.clock(), self.clock())
        count = _count(len(summaries), "plan")
        self.list_stamp.setText(
            f"{count}, {updated}" if summaries else f"No plans yet: New or Import… ({updated})"
        )
        self._reopen_if_newer(summaries)
        self.plans_listed.emit([summary.name for summary in summaries])

    def show_plan(self, stored: StoredPlan) -> None:
        self.editor.load_plan(stored.plan, stored.revision)
        self._select_in_list(stored.revision.name)
        self._say(f"Opened {stored.revision.name!r} revision {stored.revision.revision}.")
        self._update_buttons()

    def on_plan_saved(self, revision: PlanRevision, problems: Sequence[Problem]) -> None:
        self.editor.mark_saved(revision)
        errors = sum(1 for p in problems if p.severity is Severity.ERROR)
        tail = f", with {errors} error{'s' * (errors != 1)} to fix before it can run" if errors else ""
        self._say(f"Saved {revision.name!r} as revision {revision.revision}{tail}.")
        self._request_plans()
        self.plans_changed.emit()

    def on_history_loaded(self, name: str, revisions: Sequence[PlanRevision]) -> None:
        if self._history is not None and self._history.plan_name() == name:
            self._history.set_revisions(name, revisions)

    def on_diff_loaded(self, name: str, old: int, new: int, lines: Sequence[str]) -> None:
        if self._history is not None:
            self._history.show_diff(name, old, new, lines)

    def on_plan_imported(self, revision: PlanRevision, warnings: Sequence[Problem]) -> None:
        note = f" ({len(warnings)} warning{'s' * (len(warnings) != 1)})" if warnings else ""
        self._say(f"Imported {revision.name!r} as revision {revision.revision}{note}.")
        self._request_plans()
        self.plans_changed.emit()
        if not self.editor.is_dirty() or self.confirm_discard(self._open_name()):
            self._say(f"Opening {revision.name!r}…")
            name = revision.name
            self._ask("load_plan", lambda s: s.plans.load_plan(name), self.show_plan)

    def on_plan_exported(self, name: str, path: str) -> None:
        self._say(f"Exported {name!r} to {path}.")

    def on_plan_deleted(self, name: str) -> None:
        if self.editor.stored_name().casefold() == name.casefold():
            self.editor.load_plan(None)
        self._say(f"Deleted {name!r}; its revisions are kept for executions that ran it.")
        self._request_plans()
        self.plans_changed.emit()
        self._update_buttons()

    def on_failed(self, operation: str, message: str) -> None:
        what = operation.replace("_", " ")
        self._say(f"Could not {what}: {message}", error=True)

    def status_text(self) -> str:
        return self.status.text()

    # ---------------------------------------------------------------------------------- helpers

    def _request_targets(self) -> None:
        self._ask("load_inventory", lambda s: s.inventory.cached_targets(), self.on_cached_targets)

    def _request_plans(self) -> None:
        self._ask("load_plans", lambda s: s.plans.list_plans(), self.show_plans)

    def _reopen_if_newer(self, summaries: Sequence[PlanSummary]) -> None:
        """Another pane saved a newer revision of the open plan: show it, unless there are edits here."""
        opened = self.editor.revision()
        if opened is None or self.editor.is_dirty():
            return
        latest = {summary.name.casefold(): summary for summary in summaries}
        found = latest.get(opened.name.casefold())
        if found is not None and found.latest_revision > opened.revision:
            name = found.name
            self._ask("load_plan", lambda s: s.plans.load_plan(name), self.show_plan)

    def _request_diff(self, name: str, old: int, new: int) -> None:
        self._ask(
            "diff",
            lambda s: s.plans.diff(name, old, new),
            lambda lines: self.on_diff_loaded(name, old, new, lines),
        )

    def _request_save(self, plan: RecoveryPlan, comment: str, stored_name: str) -> None:
        """Save as the next revision of ``stored_name`` ("" new), based on the revision the editor opened."""
        self._say("Saving…")
        opened = self.editor.revision()
        base = opened.revision if opened is not None else 0
        self._ask(
            "save_plan",
            lambda s: s.plans.save_plan(plan, comment, previous_name=stored_name, base_revision=base),
            lambda saved: self.on_plan_saved(saved.revision, saved.problems),
        )

    def _imported(self, imported: Any) -> None:
        self.on_plan_imported(imported.revision, imported.warnings)

    def _current_plan_changed(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if current is None:
            return
        name = str(current.data(0, Qt.ItemDataRole.UserRole))
        if name.casefold() != self.editor.stored_name().casefold():
            self.open_plan(name)

    def _select_in_list(self, name: str) -> None:
        self.plan_list.blockSignals(True)
        self.plan_list.clearSelection()
        self.plan_list.setCurrentIndex(QModelIndex())
        for item in self._items():
            if name and item.text(0).casefold() == name.casefold():
                self.plan_list.setCurrentItem(item)
        self.plan_list.blockSignals(False)

    def _items(self) -> list[QTreeWidgetItem]:
        items = (self.plan_list.topLevelItem(row) for row in range(self.plan_list.topLevelItemCount()))
        return [item for item in items if item is not None]

    def _open_name(self) -> str:
        plan = self.editor.plan()
        return plan.name if plan is not None else ""

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
        self.status.setText(text)

    def _native_saved(self) -> None:
        """A native dialog saved or imported a plan: the list again; the open plan follows if unedited."""
        self._request_plans()
        self.plans_changed.emit()

    def _update_buttons(self) -> None:
        stored = bool(self.editor.stored_name())
        self.native.set_plan(self.editor.stored_name())
        self.export_button.setEnabled(stored)
        self.history_button.setEnabled(stored)
        self.alerts_button.setEnabled(stored)
        self.delete_button.setEnabled(stored)
        self.schedule_button.setEnabled(stored)
        self.launch.set_plan(self.editor.stored_name())

    def _ask_discard(self, name: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Plan {name!r} has unsaved changes. Discard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def _confirm_delete(self) -> None:
        name = self.editor.stored_name()
        if not name:
            return
        answer = QMessageBox.question(
            self,
            "Delete plan",
            f"Delete plan {name!r}? Its revisions stay for the executions that ran them.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_plan(name)

    def _choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import plan", "", "Plan files (*.yaml *.yml *.json);;All files (*)"
        )
        if path:
            self.import_file(path)

    def _choose_export(self) -> None:
        name = self.editor.stored_name()
        if not name:
            return
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export plan", f"{name}.yaml", "YAML (*.yaml *.yml);;JSON (*.json)"
        )
        if path:
            self.export_plan(path, "json" if chosen.startswith("JSON") else "yaml")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
