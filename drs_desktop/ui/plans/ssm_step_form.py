"""The SSM document step's form: the document (and its version), its parameters, and the servers.

SSM parameters are lists of strings (AWS-RunShellScript's ``commands`` is one line per value), so a name
may have several rows here: the rows of one name, in order, are its values.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtWidgets import QLineEdit, QWidget

from drs_desktop.domain.plan.automation import AutomationStep, SsmStep
from drs_desktop.ui.plans.key_value_table import KeyValueTableWidget
from drs_desktop.ui.plans.server_choice_widget import ServerChoiceWidget
from drs_desktop.ui.plans.step_form_base import StepFormBase, StepFormError

logger = logging.getLogger(__name__)


class SsmStepForm(StepFormBase):
    kind = "ssm"

    def __init__(self, servers: Sequence[tuple[str, str]] = (), parent: QWidget | None = None) -> None:
        super().__init__(servers, parent)
        self.document_edit = QLineEdit()
        self.document_edit.setObjectName("ssm-document")
        self.document_edit.setPlaceholderText("AWS-RunShellScript, or your document's name or ARN")
        self.version_edit = QLineEdit()
        self.version_edit.setObjectName("ssm-version")
        self.version_edit.setPlaceholderText("$DEFAULT (leave empty), $LATEST or a number")
        self.parameters = KeyValueTableWidget("Parameter", "Value", repeat_keys=True)
        self.parameters.setObjectName("ssm-parameters")
        self.parameters.table.setToolTip("Several rows of one name give it several values, in order")
        self.servers = ServerChoiceWidget()
        self.servers.set_servers(servers)
        for edit in (self.document_edit, self.version_edit):
            edit.textChanged.connect(self.changed)
        self.parameters.changed.connect(self.changed)
        self.servers.changed.connect(self.changed)
        self.form.addRow("Document", self.document_edit)
        self.form.addRow("Version", self.version_edit)
        self.form.addRow("Parameters", self.parameters)
        self.form.addRow("Servers", self.servers)

    def build(self) -> AutomationStep:
        problem = self.parameters.problem()
        if problem:
            raise StepFormError(f"Parameters: {problem}")
        parameters: dict[str, tuple[str, ...]] = {}
        for name, value in self.parameters.rows():
            parameters[name] = (*parameters.get(name, ()), value)
        return SsmStep(
            name="",
            document=self.document_edit.text().strip(),
            parameters=parameters,
            servers=self.servers.chosen(),
            document_version=self.version_edit.text().strip() or None,
        )

    def load(self, step: AutomationStep) -> None:
        assert isinstance(step, SsmStep)
        self.document_edit.setText(step.document)
        self.version_edit.setText(step.document_version or "")
        rows = [(name, value) for name, values in step.parameters.items() for value in values]
        self.parameters.set_rows(rows)
        self.servers.set_servers(self._servers, step.servers)
