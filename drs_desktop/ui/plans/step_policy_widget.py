"""The policy every automation step has: timeout, retries, what a failure does, and the modes it runs in.

The timeout is a number and a unit (s, min, h) rather than seconds alone, because steps range from a
15-second port check to a two-hour restore script, and 7200 in a seconds box is easy to misread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QSpinBox, QWidget

from drs_desktop.domain.plan.automation import DEFAULT_POLICY, OnFailure, RunIn, StepPolicy
from drs_desktop.domain.plan.validation_automation import MAX_RETRIES, MAX_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

#: (label, seconds) of the timeout's units, largest last (a loaded timeout shows in the largest that fits).
TIMEOUT_UNITS = (("s", 1), ("min", 60), ("h", 3600))
ON_FAILURE_CHOICES = (
    (OnFailure.HOLD, "Hold the run for the operator"),
    (OnFailure.FAIL_WAVE, "Fail the wave"),
    (OnFailure.WARN, "Only warn (the wave goes on)"),
)
RUN_IN_CHOICES = (
    (RunIn.BOTH, "Drill and recovery"),
    (RunIn.DRILL, "Drill only"),
    (RunIn.RECOVERY, "Recovery only"),
)


class StepPolicyWidget(QWidget):
    """Four fields in a form; ``policy()`` reads them, ``set_policy`` shows one."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeout_spin = QSpinBox()
        self.timeout_spin.setObjectName("step-timeout")
        self.timeout_spin.setRange(1, MAX_TIMEOUT_SECONDS)
        self.timeout_unit = QComboBox()
        self.timeout_unit.setObjectName("step-timeout-unit")
        for label, seconds in TIMEOUT_UNITS:
            self.timeout_unit.addItem(label, seconds)
        self.retries_spin = QSpinBox()
        self.retries_spin.setObjectName("step-retries")
        self.retries_spin.setRange(0, MAX_RETRIES)
        self.retries_spin.setToolTip("Attempts after a failed one, each with the whole timeout")
        self.on_failure_combo = QComboBox()
        self.on_failure_combo.setObjectName("step-on-failure")
        for on_failure, label in ON_FAILURE_CHOICES:
            self.on_failure_combo.addItem(label, on_failure)
        self.run_in_combo = QComboBox()
        self.run_in_combo.setObjectName("step-run-in")
        for run_in, label in RUN_IN_CHOICES:
            self.run_in_combo.addItem(label, run_in)
        self.run_in_combo.setToolTip("In the other mode the step is skipped, and the evidence says so")
        for spin in (self.timeout_spin, self.retries_spin):
            spin.valueChanged.connect(self.changed)
        for combo in (self.timeout_unit, self.on_failure_combo, self.run_in_combo):
            combo.currentIndexChanged.connect(self.changed)

        timeout = QHBoxLayout()
        timeout.setContentsMargins(0, 0, 0, 0)
        timeout.addWidget(self.timeout_spin, 1)
        timeout.addWidget(self.timeout_unit)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Timeout", timeout)
        form.addRow("Retries", self.retries_spin)
        form.addRow("On failure", self.on_failure_combo)
        form.addRow("Runs in", self.run_in_combo)
        self.set_policy(DEFAULT_POLICY)

    def policy(self) -> StepPolicy:
        return StepPolicy(
            timeout_seconds=self.timeout_spin.value() * int(self.timeout_unit.currentData()),
            retries=self.retries_spin.value(),
            on_failure=OnFailure(self.on_failure_combo.currentData()),
            run_in=RunIn(self.run_in_combo.currentData()),
        )

    def set_policy(self, policy: StepPolicy) -> None:
        unit = next(
            index
            for index in reversed(range(len(TIMEOUT_UNITS)))
            if policy.timeout_seconds % TIMEOUT_UNITS[index][1] == 0
        )
        self.timeout_unit.setCurrentIndex(unit)
        self.timeout_spin.setValue(max(1, policy.timeout_seconds // TIMEOUT_UNITS[unit][1]))
        self.retries_spin.setValue(policy.retries)
        self.on_failure_combo.setCurrentIndex(self.on_failure_combo.findData(policy.on_failure))
        self.run_in_combo.setCurrentIndex(self.run_in_combo.findData(policy.run_in))
