"""The local script step's form: the program, its arguments and environment, and the trust note.

The editor never trusts a script: the plan only names it. The desktop asks the operator to trust the
file (showing its command and SHA-256) before its first run, and again when the file changes; the note
says so here, where the operator would otherwise expect saving the plan to be enough. The file chooser
is the only file access, and only its path is kept (nothing is read or hashed on the GUI thread).
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Sequence

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from drs_desktop.domain.plan.automation import AutomationStep, ScriptStep
from drs_desktop.ui.plans.key_value_table import KeyValueTableWidget
from drs_desktop.ui.plans.step_form_base import StepFormBase, StepFormError

logger = logging.getLogger(__name__)

TRUST_NOTE = (
    "This desktop runs a script only once you trust it: before its first run it shows you the command "
    "and the file's SHA-256 and asks. A plan never makes a script trusted, and a changed file must be "
    "trusted again."
)
ENVIRONMENT_NOTE = "The run adds its facts as DRS_... variables (DRS_EXECUTION_ID and others)."


class ScriptStepForm(StepFormBase):
    kind = "script"

    def __init__(self, servers: Sequence[tuple[str, str]] = (), parent: QWidget | None = None) -> None:
        super().__init__(servers, parent)
        self.file_dialog: QFileDialog | None = None
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("script-path")
        self.path_edit.setPlaceholderText("The program's absolute path")
        self.browse_button = QPushButton("Choose…")
        self.browse_button.setObjectName("script-browse")
        self.browse_button.clicked.connect(self.choose_file)
        self.arguments_edit = QLineEdit()
        self.arguments_edit.setObjectName("script-arguments")
        self.arguments_edit.setPlaceholderText('--fast "two words" (quoted as in a shell)')
        self.environment = KeyValueTableWidget("Variable", "Value")
        self.environment.setObjectName("script-environment")
        self.trust_note = QLabel(TRUST_NOTE)
        self.trust_note.setObjectName("script-trust-note")
        self.trust_note.setWordWrap(True)
        self.trust_note.setStyleSheet("color: #7a4b00; background: #fff4e5; padding: 4px")
        environment_note = QLabel(ENVIRONMENT_NOTE)
        environment_note.setWordWrap(True)
        for edit in (self.path_edit, self.arguments_edit):
            edit.textChanged.connect(self.changed)
        self.environment.changed.connect(self.changed)
        path = QHBoxLayout()
        path.setContentsMargins(0, 0, 0, 0)
        path.addWidget(self.path_edit, 1)
        path.addWidget(self.browse_button)
        self.form.addRow("Program", path)
        self.form.addRow("Arguments", self.arguments_edit)
        self.form.addRow("Environment", self.environment)
        self.form.addRow("", environment_note)
        self.form.addRow(self.trust_note)

    def choose_file(self) -> QFileDialog:
        """A file chooser (opened, not run modally); the chosen file's path goes into the path field."""
        dialog = QFileDialog(self, "Choose the script to run")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.path_edit.setText)
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def build(self) -> AutomationStep:
        try:
            arguments = tuple(shlex.split(self.arguments_edit.text()))
        except ValueError as exc:
            raise StepFormError(f"Arguments: {exc} (close the quote, or put a backslash before it)") from None
        problem = self.environment.problem()
        if problem:
            raise StepFormError(f"Environment: {problem}")
        return ScriptStep(
            name="",
            path=self.path_edit.text().strip(),
            arguments=arguments,
            environment=dict(self.environment.rows()),
        )

    def load(self, step: AutomationStep) -> None:
        assert isinstance(step, ScriptStep)
        self.path_edit.setText(step.path)
        self.arguments_edit.setText(shlex.join(step.arguments))
        self.environment.set_rows(list(step.environment.items()))
