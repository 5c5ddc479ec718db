"""The before or after steps of one wave: approvals, waits and automation steps, added, edited, reordered,
removed.

Automation steps (health checks, SSM, Lambda, scripts) are listed, moved and removed here, described in
one line; editing their fields is the automation step editor's job.

It shows steps and reports the operator's intent through signals; the editor turns each into an
undoable edit and sends the resulting steps back with ``set_steps``. Approvals and waits are edited in
place and commit when a field is left (``editingFinished``), not at every keystroke, so one change is one
undo step; an automation step is added and edited in its dialog (``AutomationStepDialog``), one accepted
dialog being one undo step. The dialogs offer the wave's servers, given with ``set_servers``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.plan.automation import AUTOMATION_STEPS, AutomationStep, step_kind
from drs_desktop.domain.plan.model import ApprovalStep, Step, WaitStep
from drs_desktop.domain.plan.validation import MAX_MINUTES
from drs_desktop.ui.plans.automation_step_dialog import FORMS, AutomationStepDialog
from drs_desktop.ui.plans.step_text import KIND_TITLES, describe_step

logger = logging.getLogger(__name__)

DEFAULT_APPROVAL = "Approve to continue the recovery"
DEFAULT_WAIT_MINUTES = 5


__all__ = ["DEFAULT_APPROVAL", "DEFAULT_WAIT_MINUTES", "StepsEditorWidget", "describe_step"]


class StepsEditorWidget(QGroupBox):
    """A list of steps with buttons, and a field to edit the selected step."""

    step_added = Signal(object)  # Step
    step_edited = Signal(int, object)  # position, Step
    step_removed = Signal(int)
    step_moved = Signal(int, int)  # position, new position

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._steps: tuple[Step, ...] = ()
        self._servers: tuple[tuple[str, str], ...] = ()
        #: The automation step dialog open now (one at a time), for its caller and tests.
        self.dialog: AutomationStepDialog | None = None
        self.list = QListWidget()
        self.list.setObjectName("steps")
        self.list.setMaximumHeight(90)
        self.list.currentRowChanged.connect(self._show_current)
        self.list.itemActivated.connect(lambda _item: self.edit_current())

        # One "Add step" menu: six kinds as buttons would not fit the panel (1366x768).
        self.add_button = QPushButton("Add step")
        self.add_button.setObjectName("add-step")
        self.add_menu = QMenu(self.add_button)
        self.add_actions: dict[str, QAction] = {}
        for kind, title in KIND_TITLES.items():
            action = self.add_menu.addAction(f"{title}…" if kind in FORMS else title)
            action.setObjectName(f"add-{kind}")
            action.triggered.connect(lambda _checked=False, k=kind: self.add(k))
            self.add_actions[kind] = action
            if kind == "wait":
                self.add_menu.addSeparator()
        self.add_button.setMenu(self.add_menu)
        # Icons with tooltips: five text buttons needed 474 pixels and clipped the panel at 1366x768.
        self.remove_button = QToolButton()
        self.up_button = QToolButton()
        self.down_button = QToolButton()
        for button, pixmap, tip in (
            (self.remove_button, QStyle.StandardPixmap.SP_TrashIcon, "Remove the step"),
            (self.up_button, QStyle.StandardPixmap.SP_ArrowUp, "Move the step up"),
            (self.down_button, QStyle.StandardPixmap.SP_ArrowDown, "Move the step down"),
        ):
            button.setIcon(self.style().standardIcon(pixmap))
            button.setToolTip(tip)
        self.remove_button.clicked.connect(self._remove)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))

        self.message_edit = QLineEdit()
        self.message_edit.setObjectName("approval-message")
        self.message_edit.setPlaceholderText("What the approver is asked")
        self.message_edit.editingFinished.connect(self._message_finished)
        self.minutes_spin = QSpinBox()
        self.minutes_spin.setObjectName("wait-minutes")
        self.minutes_spin.setRange(1, MAX_MINUTES)
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.editingFinished.connect(self._minutes_finished)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("step-summary")
        self.summary_label.setWordWrap(True)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setObjectName("edit-step")
        self.edit_button.clicked.connect(self.edit_current)
        automation = QWidget()
        automation_layout = QHBoxLayout(automation)
        automation_layout.setContentsMargins(0, 0, 0, 0)
        automation_layout.addWidget(self.summary_label, 1)
        automation_layout.addWidget(self.edit_button)
        self._automation_detail = automation
        self._detail = QStackedWidget()
        self._detail.addWidget(QLabel("Select a step to edit it."))
        self._detail.addWidget(self.message_edit)
        self._detail.addWidget(self.minutes_spin)
        self._detail.addWidget(automation)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        for tool in (self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(tool)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addWidget(self._detail)
        self._update_buttons()

    def steps(self) -> tuple[Step, ...]:
        return self._steps

    def set_steps(self, steps: Sequence[Step]) -> None:
        """Show ``steps``, keeping the selected row where there still is one."""
        row = self.list.currentRow()
        self._steps = tuple(steps)
        self.list.blockSignals(True)
        self.list.clear()
        for step in self._steps:
            text = describe_step(step)
            self.list.addItem(text)
            self.list.item(self.list.count() - 1).setToolTip(text)  # a long line is cut at the panel's edge
        if self._steps:
            self.list.setCurrentRow(min(max(row, 0), len(self._steps) - 1) if row >= 0 else -1)
        self.list.blockSignals(False)
        self._show_current(self.list.currentRow())

    def set_servers(self, servers: Sequence[tuple[str, str]]) -> None:
        """The wave's servers as (source server ID, label), offered by the automation step dialogs."""
        self._servers = tuple(servers)

    def select(self, row: int) -> None:
        self.list.setCurrentRow(row)

    def add(self, kind: str) -> AutomationStepDialog | None:
        """Add a step of ``kind``: an approval or a wait at once (edited below the list), an automation
        step through its dialog (returned; the step is added when the dialog is accepted)."""
        if kind == "approval":
            self.step_added.emit(ApprovalStep(DEFAULT_APPROVAL))
            return None
        if kind == "wait":
            self.step_added.emit(WaitStep(DEFAULT_WAIT_MINUTES))
            return None
        return self._open_dialog(AutomationStepDialog(kind, self._servers, None, self), self.step_added.emit)

    def edit_current(self) -> AutomationStepDialog | None:
        """Open the selected automation step in its dialog (approvals and waits are edited in place)."""
        row = self.list.currentRow()
        step = self._steps[row] if 0 <= row < len(self._steps) else None
        if not isinstance(step, AUTOMATION_STEPS):
            return None

        def edited(new: AutomationStep, row: int = row, old: Step = step) -> None:
            # The dialog is modal, but the plan may still have changed under it (a sync, an undo by
            # code): a step no longer where it was is not overwritten.
            if new != old and row < len(self._steps) and self._steps[row] == old:
                self.step_edited.emit(row, new)

        return self._open_dialog(AutomationStepDialog(step_kind(step), self._servers, step, self), edited)

    def _open_dialog(
        self, dialog: AutomationStepDialog, accepted: Callable[[AutomationStep], None]
    ) -> AutomationStepDialog:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.step_accepted.connect(accepted)
        dialog.finished.connect(lambda _result, d=dialog: self._dialog_closed(d))
        dialog.open()
        return dialog

    def _dialog_closed(self, dialog: AutomationStepDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _show_current(self, row: int) -> None:
        step = self._steps[row] if 0 <= row < len(self._steps) else None
        if isinstance(step, ApprovalStep):
            self.message_edit.setText(step.message)
            self._detail.setCurrentWidget(self.message_edit)
        elif isinstance(step, WaitStep):
            self.minutes_spin.blockSignals(True)
            self.minutes_spin.setValue(step.minutes)
            self.minutes_spin.blockSignals(False)
            self._detail.setCurrentWidget(self.minutes_spin)
        elif isinstance(step, AUTOMATION_STEPS):
            self.summary_label.setText(describe_step(step))
            self._detail.setCurrentWidget(self._automation_detail)
        else:
            self._detail.setCurrentIndex(0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.list.currentRow()
        has = 0 <= row < len(self._steps)
        self.remove_button.setEnabled(has)
        self.up_button.setEnabled(has and row > 0)
        self.down_button.setEnabled(has and row < len(self._steps) - 1)

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._steps):
            self.step_removed.emit(row)

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._steps) and 0 <= row + step < len(self._steps):
            self.list.setCurrentRow(row + step)  # the moved step stays selected once the edit is back
            self.step_moved.emit(row, row + step)

    def _message_finished(self) -> None:
        row = self.list.currentRow()
        # Only an approval is edited here: never turn the selected wait or automation step into one.
        if not 0 <= row < len(self._steps) or not isinstance(self._steps[row], ApprovalStep):
            return
        step = ApprovalStep(self.message_edit.text())
        if step != self._steps[row]:
            self.step_edited.emit(row, step)

    def _minutes_finished(self) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self._steps) or not isinstance(self._steps[row], WaitStep):
            return
        step = WaitStep(self.minutes_spin.value())
        if step != self._steps[row]:
            self.step_edited.emit(row, step)
