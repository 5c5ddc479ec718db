"""Add or update one finding of a run (issue 18): text, severity, owner, due date, and, for an update, its
status and a comment saying why.

The fields are checked as the services check them (``services.audit_input`` through
``workers.audit_tasks``): a bad entry is said under the form and OK stays disabled, so nothing is sent
that the service would refuse as typed. The dialog only collects the entry: its owner journals it (on the
``local`` thread, or through the live run's loop) and shows a refusal in the services' words
(``show_refusal``), keeping the dialog open with what was typed.

The due date is a calendar with a "No due date" box: an absent date is said, never a default day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.engine.annotation_events import FindingStatus, Severity
from drs_desktop.domain.views.audit import Finding
from drs_desktop.workers.audit_tasks import (
    MAX_LINE,
    AnnotationInputError,
    check_due,
    check_line,
    check_text,
)

logger = logging.getLogger(__name__)

__all__ = ["FindingDialog", "FindingEntry"]

_ERROR_STYLE = "color: #b00020"


@dataclass(frozen=True)
class FindingEntry:
    """What the operator typed, checked. For an update, ``status`` and ``comment`` are set; fields equal
    to the finding's current values are still given (the service keeps what does not change)."""

    text: str
    severity: str
    owner: str
    due: str
    status: str | None = None
    comment: str = ""


class FindingDialog(QDialog):
    """``finding`` None: a new finding; else an update of it. OK with a valid entry emits ``submitted``
    (a ``FindingEntry``); the owner journals it, then closes the dialog (``accept``) or says why not
    (``show_refusal``)."""

    submitted = Signal(object)  # FindingEntry

    def __init__(
        self, finding: Finding | None = None, *, today: QDate | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("finding-dialog")
        self._finding = finding
        updating = finding is not None
        self.setWindowTitle(f"Update finding {finding.finding_id}" if finding else "Add finding")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("finding-text")
        self.text_edit.setPlaceholderText("What was wrong, or could be better (a few lines)")
        self.severity_combo = QComboBox()
        self.severity_combo.setObjectName("finding-severity")
        for severity in Severity:
            self.severity_combo.addItem(severity.value, severity.value)
        self.owner_edit = QLineEdit()
        self.owner_edit.setObjectName("finding-owner")
        self.owner_edit.setPlaceholderText("Who fixes it")
        self.owner_edit.setMaxLength(MAX_LINE + 1)  # one over: the check says what the most is
        self.due_edit = QDateEdit(today or QDate.currentDate())
        self.due_edit.setObjectName("finding-due")
        self.due_edit.setCalendarPopup(True)
        self.due_edit.setDisplayFormat("yyyy-MM-dd")
        self.no_due = QCheckBox("No due date")
        self.no_due.setObjectName("finding-no-due")
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("finding-status")
        for status in FindingStatus:
            self.status_combo.addItem(status.value, status.value)
        self.comment_edit = QPlainTextEdit()
        self.comment_edit.setObjectName("finding-comment")
        self.comment_edit.setPlaceholderText("Why it changes (kept with the change)")
        self.comment_edit.setFixedHeight(self.comment_edit.fontMetrics().lineSpacing() * 3 + 16)
        self.problem = QLabel()
        self.problem.setObjectName("finding-problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(_ERROR_STYLE)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Update" if updating else "Add")

        form = QFormLayout()
        form.addRow("Text:", self.text_edit)
        form.addRow("Severity:", self.severity_combo)
        form.addRow("Owner:", self.owner_edit)
        due = QHBoxLayout()
        due.addWidget(self.due_edit)
        due.addWidget(self.no_due)
        due.addStretch(1)
        form.addRow("Due:", due)
        if updating:
            form.addRow("Status:", self.status_combo)
            form.addRow("Comment:", self.comment_edit)
        else:
            self.status_combo.hide()
            self.comment_edit.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(560, 420 if updating else 340)

        if finding is not None:
            self.text_edit.setPlainText(finding.text)
            self.severity_combo.setCurrentIndex(self.severity_combo.findData(finding.severity.value))
            self.owner_edit.setText(finding.owner)
            if finding.due:
                self.due_edit.setDate(QDate.fromString(finding.due, "yyyy-MM-dd"))
            self.no_due.setChecked(not finding.due)
            self.status_combo.setCurrentIndex(self.status_combo.findData(finding.status.value))
        else:
            self.no_due.setChecked(True)
        for signal in (
            self.text_edit.textChanged,
            self.owner_edit.textChanged,
            self.comment_edit.textChanged,
            self.severity_combo.currentIndexChanged,
            self.status_combo.currentIndexChanged,
            self.due_edit.dateChanged,
        ):
            signal.connect(self._check)
        self.no_due.toggled.connect(self._check)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self._check()

    # ---------------------------------------------------------------------------------- the entry

    def due_text(self) -> str:
        """The due date as the service takes it (``YYYY-MM-DD``), "" for none."""
        if self.no_due.isChecked():
            return ""
        return self.due_edit.date().toString("yyyy-MM-dd")

    def entry(self) -> FindingEntry:
        """The entry as checked; ``AnnotationInputError`` (the services' words) for a bad one."""
        text = check_text(self.text_edit.toPlainText(), "the finding's text")
        owner = check_line(self.owner_edit.text(), "the owner")
        due = check_due(self.due_text())
        severity = str(self.severity_combo.currentData())
        if self._finding is None:
            return FindingEntry(text=text, severity=severity, owner=owner, due=due)
        comment = check_text(self.comment_edit.toPlainText(), "the comment", required=False)
        status = str(self.status_combo.currentData())
        current = self._finding
        unchanged = (text, severity, owner, due, status) == (
            current.text,
            current.severity.value,
            current.owner,
            current.due,
            current.status.value,
        )
        if unchanged and not comment:
            raise AnnotationInputError(f"nothing to change on finding {current.finding_id}: give a new value")
        return FindingEntry(
            text=text, severity=severity, owner=owner, due=due, status=status, comment=comment
        )

    def problem_text(self) -> str:
        return self.problem.text()

    # ---------------------------------------------------------------------------------- the owner's answers

    def show_refusal(self, message: str) -> None:
        """The service refused the entry: say it here, keep the dialog and what was typed."""
        self.problem.setStyleSheet(_ERROR_STYLE)
        self.problem.setText(message)
        self.ok_button.setEnabled(True)

    def show_sending(self) -> None:
        self.problem.setStyleSheet("")
        self.problem.setText("Journaling…")
        self.ok_button.setEnabled(False)

    # ---------------------------------------------------------------------------------- internals

    def _check(self, *_args: object) -> None:
        self.due_edit.setEnabled(not self.no_due.isChecked())
        try:
            self.entry()
        except AnnotationInputError as bad:
            if self.text_edit.toPlainText().strip() or self._finding is not None:
                self.problem.setText(str(bad))
            else:
                self.problem.setText("")  # an empty new finding: nothing to say yet, OK stays off
            self.problem.setStyleSheet(_ERROR_STYLE)
            self.ok_button.setEnabled(False)
            self.ok_button.setToolTip(str(bad))
            return
        self.problem.setText("")
        self.problem.setStyleSheet(_ERROR_STYLE)
        self.ok_button.setEnabled(True)
        self.ok_button.setToolTip("")

    def _ok(self) -> None:
        try:
            entry = self.entry()
        except AnnotationInputError as bad:
            self.show_refusal(str(bad))
            return
        self.show_sending()
        self.submitted.emit(entry)
