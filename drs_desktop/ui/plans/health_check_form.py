"""The health check's form: what to probe (TCP port, HTTP status and body), on which servers, from where.

Fields that mean nothing for the choice made are disabled rather than hidden (the path and the HTTP
status for a TCP probe, "via" when probing from the desktop), so the form keeps its shape while the
operator switches, and what a check could do stays in sight.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox, QWidget

from drs_desktop.domain.plan.automation import AutomationStep, HealthCheckStep, Probe, Reach
from drs_desktop.domain.plan.validation_automation import MAX_PORT
from drs_desktop.ui.plans.server_choice_widget import ServerChoiceWidget
from drs_desktop.ui.plans.step_form_base import StepFormBase

logger = logging.getLogger(__name__)

REACH_CHOICES = (
    (Reach.PRIVATE, "From this desktop, to the private address"),
    (Reach.PUBLIC, "From this desktop, to the public address"),
    (Reach.SSM, "From inside the VPC, through SSM on an instance"),
    (Reach.LAMBDA, "From inside the VPC, by a Lambda function"),
)
_VIA_HINTS = {Reach.SSM: "i-0123456789abcdef0", Reach.LAMBDA: "function name or ARN"}
#: The status spin's lowest value, shown as "any" (the check then only needs an answer).
ANY_STATUS = 99
#: The must-pass spin's lowest value, shown as "all".
ALL_PASS = 0


class HealthCheckForm(StepFormBase):
    kind = "health-check"

    def __init__(self, servers: Sequence[tuple[str, str]] = (), parent: QWidget | None = None) -> None:
        super().__init__(servers, parent)
        self.probe_combo = QComboBox()
        self.probe_combo.setObjectName("check-probe")
        for probe, label in ((Probe.TCP, "TCP port open"), (Probe.HTTP, "HTTP"), (Probe.HTTPS, "HTTPS")):
            self.probe_combo.addItem(label, probe)
        self.port_spin = QSpinBox()
        self.port_spin.setObjectName("check-port")
        self.port_spin.setRange(1, MAX_PORT)
        self.path_edit = QLineEdit("/")
        self.path_edit.setObjectName("check-path")
        self.status_spin = QSpinBox()
        self.status_spin.setObjectName("check-status")
        self.status_spin.setRange(ANY_STATUS, 599)
        self.status_spin.setSpecialValueText("any")
        self.body_edit = QLineEdit()
        self.body_edit.setObjectName("check-body")
        self.body_edit.setPlaceholderText("Text the body must contain (optional)")
        self.interval_spin = QSpinBox()
        self.interval_spin.setObjectName("check-interval")
        self.interval_spin.setRange(1, 3600)
        self.interval_spin.setSuffix(" s")
        self.must_pass_spin = QSpinBox()
        self.must_pass_spin.setObjectName("check-must-pass")
        self.must_pass_spin.setRange(ALL_PASS, 1000)
        self.must_pass_spin.setSpecialValueText("all")
        self.must_pass_spin.setToolTip("How many of the servers must answer as expected")
        self.reach_combo = QComboBox()
        self.reach_combo.setObjectName("check-reach")
        for reach, label in REACH_CHOICES:
            self.reach_combo.addItem(label, reach)
        self.via_edit = QLineEdit()
        self.via_edit.setObjectName("check-via")
        self.servers = ServerChoiceWidget()
        self.servers.set_servers(servers)
        for spin in (self.port_spin, self.status_spin, self.interval_spin, self.must_pass_spin):
            spin.valueChanged.connect(self.changed)
        for edit in (self.path_edit, self.body_edit, self.via_edit):
            edit.textChanged.connect(self.changed)
        for combo in (self.probe_combo, self.reach_combo):
            combo.currentIndexChanged.connect(self._update_enabled)
            combo.currentIndexChanged.connect(self.changed)
        self.servers.changed.connect(self.changed)

        self.form.addRow("Probe", self.probe_combo)
        self.form.addRow("Port", self.port_spin)
        self.form.addRow("HTTP path", self.path_edit)
        self.form.addRow("HTTP status", self.status_spin)
        self.form.addRow("Body contains", self.body_edit)
        self.form.addRow("Probe every", self.interval_spin)
        self.form.addRow("Must pass", self.must_pass_spin)
        self.form.addRow("Probe from", self.reach_combo)
        self.form.addRow("Via", self.via_edit)
        self.form.addRow("Servers", self.servers)
        self.load(HealthCheckStep("", Probe.HTTP, 80))

    def build(self) -> AutomationStep:
        probe = Probe(self.probe_combo.currentData())
        reach = Reach(self.reach_combo.currentData())
        http = probe is not Probe.TCP
        status = self.status_spin.value()
        must_pass = self.must_pass_spin.value()
        return HealthCheckStep(
            name="",
            probe=probe,
            port=self.port_spin.value(),
            servers=self.servers.chosen(),
            # A TCP probe ignores path and status; they keep what they hold (the model's defaults for a new
            # check), so opening a TCP check and accepting it changes nothing.
            path=self.path_edit.text().strip(),
            expect_status=None if status == ANY_STATUS else status,
            expect_body=(self.body_edit.text() or None) if http else None,
            interval_seconds=self.interval_spin.value(),
            must_pass=None if must_pass == ALL_PASS else must_pass,
            reach=reach,
            via=(self.via_edit.text().strip() or None) if reach in _VIA_HINTS else None,
        )

    def load(self, step: AutomationStep) -> None:
        assert isinstance(step, HealthCheckStep)
        self.probe_combo.setCurrentIndex(self.probe_combo.findData(step.probe))
        self.port_spin.setValue(step.port)
        self.path_edit.setText(step.path)
        self.status_spin.setValue(ANY_STATUS if step.expect_status is None else step.expect_status)
        self.body_edit.setText(step.expect_body or "")
        self.interval_spin.setValue(step.interval_seconds)
        self.must_pass_spin.setValue(ALL_PASS if step.must_pass is None else step.must_pass)
        self.reach_combo.setCurrentIndex(self.reach_combo.findData(step.reach))
        self.via_edit.setText(step.via or "")
        self.servers.set_servers(self._servers, step.servers)
        self._update_enabled()

    def _update_enabled(self) -> None:
        http = self.probe_combo.currentData() != Probe.TCP
        for widget in (self.path_edit, self.status_spin, self.body_edit):
            widget.setEnabled(http)
        reach = Reach(self.reach_combo.currentData())
        self.via_edit.setEnabled(reach in _VIA_HINTS)
        self.via_edit.setPlaceholderText(_VIA_HINTS.get(reach, "not needed from this desktop"))
