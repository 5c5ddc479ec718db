"""The selected wave's properties: its name, what it waits for, and its before/after steps.

Dependencies are offered only among earlier waves, because the engine runs waves in order and a
dependency on a later wave could never be met; "after the previous wave" is the default that the plan
format writes as no ``depends_on`` at all. Like every panel of the editor, it only reports intents.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import resolve_wave_servers
from drs_desktop.ui.plans.steps_editor_widget import StepsEditorWidget

logger = logging.getLogger(__name__)


class WavePropertiesWidget(QGroupBox):
    """Name, dependencies and steps of one wave (disabled when no wave is selected)."""

    name_edited = Signal(str)
    depends_on_edited = Signal(object)  # tuple[str, ...] | None
    step_added = Signal(str, object)  # "before" | "after", Step
    step_edited = Signal(str, int, object)
    step_removed = Signal(str, int)
    step_moved = Signal(str, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Wave", parent)
        self._plan: RecoveryPlan | None = None
        self._index = -1
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("wave-name")
        self.name_edit.editingFinished.connect(self._name_finished)
        self.previous_check = QCheckBox("After the previous wave (default)")
        self.previous_check.setObjectName("after-previous")
        self.previous_check.toggled.connect(self._dependencies_changed)
        self.depends_list = QListWidget()
        self.depends_list.setObjectName("depends-on")
        self.depends_list.setMaximumHeight(100)
        self.depends_list.setToolTip("Earlier waves this wave waits for; none checked: it starts at once")
        self.depends_list.itemChanged.connect(self._dependencies_changed)
        self.before_steps = StepsEditorWidget("Before the wave")
        self.after_steps = StepsEditorWidget("After the wave")
        for place, editor in (("before", self.before_steps), ("after", self.after_steps)):
            editor.step_added.connect(lambda step, p=place: self.step_added.emit(p, step))
            editor.step_edited.connect(lambda row, step, p=place: self.step_edited.emit(p, row, step))
            editor.step_removed.connect(lambda row, p=place: self.step_removed.emit(p, row))
            editor.step_moved.connect(lambda row, new, p=place: self.step_moved.emit(p, row, new))

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Starts", self.previous_check)
        form.addRow("Waits for", self.depends_list)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.before_steps)
        layout.addWidget(self.after_steps)
        self.set_wave(None, -1)

    def wave_index(self) -> int:
        return self._index

    def set_wave(self, plan: RecoveryPlan | None, index: int, inventory: Inventory | None = None) -> None:
        """Show wave ``index`` of ``plan`` (or nothing when it has no such wave). ``inventory`` resolves
        the wave's tag selectors and names its hosts for the servers an automation step may choose."""
        self._plan = plan
        self._index = index if plan is not None and 0 <= index < len(plan.waves) else -1
        self.setEnabled(self._index >= 0)
        widgets = (self.name_edit, self.previous_check, self.depends_list)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            if plan is None or self._index < 0:
                self.setTitle("Wave")
                self.name_edit.clear()
                self.depends_list.clear()
                self.previous_check.setChecked(False)
                for steps in (self.before_steps, self.after_steps):
                    steps.set_servers(())
                    steps.set_steps(())
                return
            wave = plan.waves[self._index]
            self.setTitle(f"Wave {self._index + 1}")
            if not self.name_edit.hasFocus() or self.name_edit.text() == wave.name:
                self.name_edit.setText(wave.name)
            self.previous_check.setChecked(wave.depends_on is None)
            self.previous_check.setEnabled(self._index > 0 or wave.depends_on is not None)
            chosen = set(plan.dependencies(self._index))
            self.depends_list.clear()
            for earlier in plan.waves[: self._index]:
                item = QListWidgetItem(earlier.name)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if earlier.name in chosen else Qt.CheckState.Unchecked
                )
                self.depends_list.addItem(item)
            self.depends_list.setEnabled(wave.depends_on is not None)
            servers = _server_choices(plan, self._index, inventory)
            self.before_steps.set_servers(servers)
            self.after_steps.set_servers(servers)
            self.before_steps.set_steps(wave.before)
            self.after_steps.set_steps(wave.after)
        finally:
            for widget in widgets:
                widget.blockSignals(False)

    def _name_finished(self) -> None:
        if self._plan is None or self._index < 0:
            return
        if self.name_edit.text().strip() != self._plan.waves[self._index].name:
            self.name_edited.emit(self.name_edit.text())

    def _dependencies_changed(self, *_: object) -> None:
        if self._plan is None or self._index < 0:
            return
        if self.previous_check.isChecked():
            value: tuple[str, ...] | None = None
        else:
            value = tuple(
                self.depends_list.item(row).text()
                for row in range(self.depends_list.count())
                if self.depends_list.item(row).checkState() == Qt.CheckState.Checked
            )
        if value != self._plan.waves[self._index].depends_on:
            self.depends_on_edited.emit(value)


def _server_choices(plan: RecoveryPlan, index: int, inventory: Inventory | None) -> list[tuple[str, str]]:
    """(ID, "hostname (ID)") of every server of wave ``index``, tag selectors resolved where known."""
    hostnames = {s.source_server_id: s.hostname for s in inventory.servers} if inventory is not None else {}
    return [
        (sid, f"{hostnames[sid]} ({sid})" if hostnames.get(sid) else sid)
        for sid in resolve_wave_servers(plan, index, inventory)
    ]
