"""The operator's decision on a held automation step, from the failure banner's three choices.

A step that failed (policy hold) or whose outcome was lost waits for a person (``engine.automation``):
"Retry step" (``ControlAction.RETRY`` on its wave: one more attempt), "Mark done" (``STEP_DONE``: the
operator checked by hand; a comment is asked for, and it goes to the audit trail with the decision) and
"Fail wave" (``STEP_FAIL``: the wave fails, and the run holds for skip or cancel; confirmed first). A
retry of a step whose outcome was lost is confirmed too: a Lambda function or a script may have run
already, and DRS Desktop cannot tell. Which choices are offered is the engine's answer
(``AvailableControls``, through ``views.attention``); this only asks the person and builds the request.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.domain.views.progress_steps import UNKNOWN_WARNING, StepRow

__all__ = ["STEP_ACTIONS", "ask_comment", "ask_yes_no", "question_box", "step_request"]

#: The banner's choices that decide a held step.
STEP_ACTIONS = (ControlAction.RETRY, ControlAction.STEP_DONE, ControlAction.STEP_FAIL)

Confirm = Callable[[str, str], bool]
AskComment = Callable[[str, str], str | None]


def step_request(
    action: ControlAction, step: StepRow, wave_name: str, *, confirm: Confirm, ask: AskComment
) -> tuple[ControlRequest | None, str]:
    """The request for ``action`` on the held ``step`` once the operator said yes (None: nothing to
    send), and what the status line says when nothing is sent ("" when the operator simply declined)."""
    wave = f"wave {step.wave_index + 1} “{wave_name}”"
    if action is ControlAction.RETRY:
        if step.unknown and not confirm(
            "Retry step",
            f"{step.label} of {wave} may have run already. {UNKNOWN_WARNING}\n\nRun it again now?",
        ):
            return None, ""
        return ControlRequest(ControlAction.RETRY, wave_index=step.wave_index), ""
    if action is ControlAction.STEP_DONE:
        comment = ask(
            "Mark step done",
            f"{step.label} of {wave} will count as done and the wave goes on.\n"
            "Say what you checked (it goes to the audit trail):",
        )
        if comment is None:
            return None, ""
        if not comment.strip():
            return None, "Not marked done: a comment is needed (what you checked)."
        done = ControlRequest(ControlAction.STEP_DONE, wave_index=step.wave_index, comment=comment.strip())
        return done, ""
    if action is ControlAction.STEP_FAIL:
        question = (
            f"Fail {wave}? {step.label} counts as failed and the wave fails with it: the run then "
            "waits for you to skip the wave or cancel."
        )
        if not confirm("Fail wave", question):
            return None, ""
        return ControlRequest(ControlAction.STEP_FAIL, wave_index=step.wave_index), ""
    raise ValueError(f"{action.value} does not decide a step")


def ask_yes_no(parent: QWidget, title: str, question: str) -> bool:
    return question_box(parent, title, question).exec() == QMessageBox.StandardButton.Yes


def question_box(parent: QWidget, title: str, question: str) -> QMessageBox:
    """The Yes/No question (No the default). Plain text: the question carries a plan's step name, which
    as markup could restyle or hide the warning beside it ("may have run already")."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box


def ask_comment(parent: QWidget, title: str, prompt: str) -> str | None:
    """The operator's comment (None: cancelled)."""
    text, ok = QInputDialog.getText(parent, title, prompt, QLineEdit.EchoMode.Normal, "")
    return text if ok else None
