"""What the four automation step forms share: a name, the kind's own fields in one form, and the policy.

A form only reads and shows fields. ``build()`` turns them into a step or raises ``StepFormError`` for
what cannot even be read (JSON that does not parse, an unbalanced quote); the dialog then asks the
domain (``plan.edit_automation``, a view of ``plan.validation_automation``) what is wrong with the step, so
the rules live in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLineEdit, QVBoxLayout, QWidget

from drs_desktop.domain.plan.automation import AutomationStep
from drs_desktop.ui.plans.step_policy_widget import StepPolicyWidget

logger = logging.getLogger(__name__)


class StepFormError(ValueError):
    """A field that cannot be read; its message is shown as it is."""


class StepFormBase(QWidget):
    """Name, ``self.form`` for the kind's fields (subclasses add rows), and the policy below."""

    changed = Signal()
    #: The step kind (``automation.STEP_KINDS``) and the form's title.
    kind = ""

    def __init__(self, servers: Sequence[tuple[str, str]] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._servers = tuple(servers)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("step-name")
        self.name_edit.setPlaceholderText("What the progress view and the evidence call it")
        self.name_edit.textChanged.connect(self.changed)
        self.policy = StepPolicyWidget()
        self.policy.changed.connect(self.changed)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.addRow("Name", self.name_edit)
        policy_box = QGroupBox("Policy")
        policy_layout = QVBoxLayout(policy_box)
        policy_layout.addWidget(self.policy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addWidget(policy_box)
        layout.addStretch(1)  # a taller dialog leaves room at the end, not between fields

    def step(self) -> AutomationStep:
        """The step the fields describe, with the name and policy; ``StepFormError`` if one is unreadable."""
        return replace(self.build(), name=self.name_edit.text().strip(), policy=self.policy.policy())

    def set_step(self, step: AutomationStep) -> None:
        self.name_edit.setText(step.name)
        self.policy.set_policy(step.policy)
        self.load(step)

    # Each kind's form:
    def build(self) -> AutomationStep:
        raise NotImplementedError

    def load(self, step: AutomationStep) -> None:
        raise NotImplementedError
