"""The plan's own fields: name, description, RTO and RPO targets, its test brief and its cadence.

Fields commit when left (``editingFinished``), so a typed name is one undo step; 0 in a target field
means "no target" and is shown as "none". The test brief and the cadence (plan format 4) are sections of
their own (``PlanBriefWidget``, ``PlanCadenceWidget``), whose edits this panel passes on.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLineEdit, QSpinBox, QWidget

from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import MAX_MINUTES
from drs_desktop.ui.plans.plan_brief_widget import PlanBriefWidget
from drs_desktop.ui.plans.plan_cadence_widget import PlanCadenceWidget

logger = logging.getLogger(__name__)


def _minutes_spin(name: str, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(0, MAX_MINUTES)
    spin.setSpecialValueText("none")
    spin.setSuffix(" min")
    spin.setToolTip(tip)
    return spin


class PlanPropertiesWidget(QGroupBox):
    """Name, description, RTO and RPO of the plan, with its test brief and cadence sections."""

    name_edited = Signal(str)
    description_edited = Signal(str)
    rto_edited = Signal(object)  # int | None
    rpo_edited = Signal(object)  # int | None
    brief_edited = Signal(object)  # TestBrief, as typed
    cadence_edited = Signal(object)  # Cadence

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Plan", parent)
        self._plan: RecoveryPlan | None = None
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("plan-name")
        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("plan-description")
        self.rto_spin = _minutes_spin(
            "rto", "Recovery time objective: the whole plan should finish within it"
        )
        self.rpo_spin = _minutes_spin("rpo", "Recovery point objective: the most data loss accepted")
        self.name_edit.editingFinished.connect(self._name_finished)
        self.description_edit.editingFinished.connect(self._description_finished)
        self.rto_spin.editingFinished.connect(lambda: self._minutes_finished(self.rto_spin, "rto"))
        self.rpo_spin.editingFinished.connect(lambda: self._minutes_finished(self.rpo_spin, "rpo"))
        form = QFormLayout(self)
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.description_edit)
        form.addRow("RTO target", self.rto_spin)
        form.addRow("RPO target", self.rpo_spin)
        self.brief_section = PlanBriefWidget()
        self.cadence_section = PlanCadenceWidget()
        self.brief_section.brief_edited.connect(self.brief_edited)
        self.cadence_section.cadence_edited.connect(self.cadence_edited)
        form.addRow(self.brief_section)
        form.addRow(self.cadence_section)
        self.set_plan(None)

    def set_plan(self, plan: RecoveryPlan | None) -> None:
        self._plan = plan
        self.setEnabled(plan is not None)
        for widget, text in (
            (self.name_edit, plan.name if plan else ""),
            (self.description_edit, plan.description if plan else ""),
        ):
            if widget.text() != text:
                widget.setText(text)
        for spin, value in (
            (self.rto_spin, plan.rto_minutes if plan else None),
            (self.rpo_spin, plan.rpo_minutes if plan else None),
        ):
            spin.blockSignals(True)
            spin.setValue(value or 0)
            spin.blockSignals(False)
        self.brief_section.set_brief(plan.brief if plan else None)
        self.cadence_section.set_cadence(plan.cadence if plan else None)

    def _name_finished(self) -> None:
        if self._plan is not None and self.name_edit.text().strip() != self._plan.name:
            self.name_edited.emit(self.name_edit.text())

    def _description_finished(self) -> None:
        if self._plan is not None and self.description_edit.text() != self._plan.description:
            self.description_edited.emit(self.description_edit.text())

    def _minutes_finished(self, spin: QSpinBox, which: str) -> None:
        if self._plan is None:
            return
        value = spin.value() or None
        current = self._plan.rto_minutes if which == "rto" else self._plan.rpo_minutes
        if value != current:
            (self.rto_edited if which == "rto" else self.rpo_edited).emit(value)
