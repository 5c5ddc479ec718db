"""The Lambda function step's form: the function and its JSON payload, checked as it is typed.

The payload is text, not a tree of fields, because operators paste it from their runbooks; it is parsed
at every keystroke and the first error (with its line and column) is shown while OK stays disabled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit, QWidget

from drs_desktop.domain.plan.automation import AutomationStep, LambdaStep
from drs_desktop.ui.plans.step_form_base import StepFormBase, StepFormError

logger = logging.getLogger(__name__)

PAYLOAD_NOTE = (
    "The run adds its facts to this object: the execution, the wave and its recovered instances. "
    'The function\'s answer decides: an error, or a body with "ok": false, fails the step.'
)


def parse_payload(text: str) -> dict[str, object]:
    """The payload in ``text`` (empty: an empty object); ``StepFormError`` saying where it is wrong."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StepFormError(f"Payload: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(value, dict):
        raise StepFormError("Payload: must be a JSON object ({...}), the run adds its facts to it")
    return value


class LambdaStepForm(StepFormBase):
    kind = "lambda"

    def __init__(self, servers: Sequence[tuple[str, str]] = (), parent: QWidget | None = None) -> None:
        super().__init__(servers, parent)
        self.function_edit = QLineEdit()
        self.function_edit.setObjectName("lambda-function")
        self.function_edit.setPlaceholderText("Function name or ARN (with :alias or :version if need be)")
        self.payload_edit = QPlainTextEdit()
        self.payload_edit.setObjectName("lambda-payload")
        self.payload_edit.setPlaceholderText('{"zone": "example.com"}')
        self.payload_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.payload_edit.setMinimumHeight(120)
        self.payload_edit.setMaximumHeight(200)
        note = QLabel(PAYLOAD_NOTE)
        note.setWordWrap(True)
        self.function_edit.textChanged.connect(self.changed)
        self.payload_edit.textChanged.connect(self.changed)
        self.form.addRow("Function", self.function_edit)
        self.form.addRow("Payload", self.payload_edit)
        self.form.addRow("", note)

    def build(self) -> AutomationStep:
        return LambdaStep(
            name="",
            function=self.function_edit.text().strip(),
            payload=parse_payload(self.payload_edit.toPlainText()),
        )

    def load(self, step: AutomationStep) -> None:
        assert isinstance(step, LambdaStep)
        self.function_edit.setText(step.function)
        self.payload_edit.setPlainText(json.dumps(dict(step.payload), indent=2) if step.payload else "")
