"""The before or after steps of one wave: approvals and waits, added, edited, reordered, removed.

Automation steps (health checks, SSM, Lambda, scripts) are listed, moved and removed here, described in
one line; editing their fields is the automation step editor's job.

It shows steps and reports the operator's intent through signals; the editor turns each into an
undoable edit and sends the resulting steps back with ``set_steps``. Edits commit when a field is left
(``editingFinished``), not at every keystroke, so one change is one undo step.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.plan.automation_text import describe_automation
from drs_desktop.domain.plan.model import ApprovalStep, Step, WaitStep
from drs_desktop.domain.plan.validation import MAX_MINUTES

logger = logging.getLogger(__name__)

DEFAULT_APPROVAL = "Approve to continue the recovery"
DEFAULT_WAIT_MINUTES = 5


def describe_step(step: Step) -> str:
    if isinstance(step, ApprovalStep):
        return f"Approval: {step.message}"
    if isinstance(step, WaitStep):
        return f"Wait {step.minutes} min"
    # Automation steps are shown, moved and removed here; their own editor is another widget's.
    return describe_automation(step)


class StepsEditorWidget(QGroupBox):
    """A list of steps with buttons, and a field to edit the selected step."""

    step_added = Signal(object)  # Step
    step_edited = Signal(int, object)  # position, Step
    step_removed = Signal(int)
    step_moved = Signal(int, int)  # position, new position

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._steps: tuple[Step, ...] = ()
        self.list = QListWidget()
        self.list.setObjectName("steps")
        self.list.setMaximumHeight(90)
        self.list.currentRowChanged.connect(self._show_current)

        self.add_approval_button = QPushButton("+ Approval")
        self.add_wait_button = QPushButton("+ Wait")
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
        self.add_approval_button.clicked.connect(lambda: self.step_added.emit(ApprovalStep(DEFAULT_APPROVAL)))
        self.add_wait_button.clicked.connect(lambda: self.step_added.emit(WaitStep(DEFAULT_WAIT_MINUTES)))
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
        self._detail = QStackedWidget()
        self._detail.addWidget(QLabel("Select a step to edit it."))
        self._detail.addWidget(self.message_edit)
        self._detail.addWidget(self.minutes_spin)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_approval_button)
        buttons.addWidget(self.add_wait_button)
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
        self.list.addItems([describe_step(step) for step in self._steps])
        if self._steps:
            self.list.setCurrentRow(min(max(row, 0), len(self._steps) - 1) if row >= 0 else -1)
        self.list.blockSignals(False)
        self._show_current(self.list.currentRow())

    def select(self, row: int) -> None:
        self.list.setCurrentRow(row)

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
