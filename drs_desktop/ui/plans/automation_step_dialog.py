"""The dialog that adds or edits one automation step: the kind's form, the first problem, OK and Cancel.

A dialog rather than the wave panel's inline field (as approvals and waits have), because a health check
has a dozen fields and the panel beside the plan tree is about 400 pixels wide. The step is checked at
every change: the form reads its fields (``StepFormError``), then the domain says what is wrong with the
step (``plan.edit_automation``); while anything is, the sentence is shown in red and OK is disabled.
Opened with ``open()``, never ``exec()``: the editor stays responsive, and tests drive it like a user.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from drs_desktop.domain.plan.automation import AutomationStep
from drs_desktop.domain.plan.edit_automation import automation_step_problem
from drs_desktop.ui.plans.health_check_form import HealthCheckForm
from drs_desktop.ui.plans.lambda_step_form import LambdaStepForm
from drs_desktop.ui.plans.script_step_form import ScriptStepForm
from drs_desktop.ui.plans.ssm_step_form import SsmStepForm
from drs_desktop.ui.plans.step_form_base import StepFormBase, StepFormError
from drs_desktop.ui.plans.step_text import KIND_TITLES

logger = logging.getLogger(__name__)

FORMS: dict[str, type[StepFormBase]] = {
    form.kind: form for form in (HealthCheckForm, SsmStepForm, LambdaStepForm, ScriptStepForm)
}
_ERROR_STYLE = "color: #b00020"


class AutomationStepDialog(QDialog):
    """Add (``step`` None) or edit one automation step of ``kind``; ``step_accepted`` carries the result."""

    step_accepted = Signal(object)  # AutomationStep

    def __init__(
        self,
        kind: str,
        servers: Sequence[tuple[str, str]] = (),
        step: AutomationStep | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        title = KIND_TITLES[kind]
        self.setWindowTitle(f"Edit {title.lower()} step" if step is not None else f"Add a {title.lower()}")
        self.setObjectName(f"step-dialog-{kind}")
        self.form = FORMS[kind](servers)
        if step is not None:
            self.form.set_step(step)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("step-problem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(_ERROR_STYLE)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Save step" if step is not None else "Add step")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.form.changed.connect(self._check)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        hint = self.form.sizeHint()
        self.resize(max(560, hint.width() + 40), min(760, hint.height() + 110))
        self._step: AutomationStep | None = None
        self._check()

    def step(self) -> AutomationStep | None:
        """The step as the fields describe it, None while something is wrong with it."""
        return self._step

    def problem(self) -> str:
        return self.problem_label.text()

    def accept(self) -> None:
        self._check()
        if self._step is None:
            return
        self.step_accepted.emit(self._step)
        super().accept()

    def _check(self) -> None:
        try:
            step = self.form.step()
        except StepFormError as exc:
            problem = str(exc)
        else:
            problem = automation_step_problem(step)
        self._step = None if problem else step
        self.problem_label.setText(problem[:1].upper() + problem[1:])
        self.ok_button.setEnabled(not problem)
