"""The plan's cadence in the editor: test every N days, re-test within M days after a failure, and again
after material changes (plan format 4; docs/plan-format.md, "Format 4").

0 in a number field means "no such rule" and is shown as "none", like the RTO and RPO targets. The
ranges are validation's (``domain.plan.validation_brief``), so the fields cannot hold what a save would
refuse. A number commits when its field is left, the check box when it is clicked.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QSpinBox, QWidget

from drs_desktop.domain.plan.model import NO_CADENCE, Cadence
from drs_desktop.domain.plan.validation_brief import MAX_EVERY_DAYS, MAX_RETEST_DAYS

logger = logging.getLogger(__name__)


def _days_spin(name: str, most: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(0, most)
    spin.setSpecialValueText("none")
    spin.setSuffix(" days")
    spin.setToolTip(tip)
    return spin


class PlanCadenceWidget(QGroupBox):
    """How often the plan must be tested."""

    cadence_edited = Signal(object)  # Cadence

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Cadence", parent)
        self._cadence: Cadence | None = None
        self.every_spin = _days_spin(
            "cadence-every", MAX_EVERY_DAYS, "A good drill at least this often; none: no regular drill is due"
        )
        self.retest_spin = _days_spin(
            "cadence-retest", MAX_RETEST_DAYS, "After a failed test, a good one within this many days"
        )
        self.after_changes_check = QCheckBox("After material changes")
        self.after_changes_check.setObjectName("cadence-after-changes")
        self.after_changes_check.setToolTip(
            "A drill is due again once servers were added or removed, launch settings drifted, or the "
            "native plan changed outside the app since the last good drill"
        )
        self.every_spin.editingFinished.connect(self._commit)
        self.retest_spin.editingFinished.connect(self._commit)
        self.after_changes_check.clicked.connect(self._commit)
        form = QFormLayout(self)
        form.addRow("Test every", self.every_spin)
        form.addRow("Re-test within", self.retest_spin)
        form.addRow("Test again", self.after_changes_check)
        self.set_cadence(None)

    def set_cadence(self, cadence: Cadence | None) -> None:
        """Show ``cadence`` (None: no plan) without reporting it as an edit."""
        self._cadence = cadence
        shown = cadence or NO_CADENCE
        for spin, value in ((self.every_spin, shown.every_days), (self.retest_spin, shown.retest_days)):
            spin.blockSignals(True)
            spin.setValue(value or 0)
            spin.blockSignals(False)
        self.after_changes_check.setChecked(shown.after_changes)

    def typed(self) -> Cadence:
        return Cadence(
            every_days=self.every_spin.value() or None,
            retest_days=self.retest_spin.value() or None,
            after_changes=self.after_changes_check.isChecked(),
        )

    def _commit(self) -> None:
        if self._cadence is None:
            return
        typed = self.typed()
        if typed != self._cadence:
            self.cadence_edited.emit(typed)
