"""Ask before ending a run that cannot be picked up again, and for the reason that is journaled.

Ending it is final: the run is recorded as abandoned with the operator's reason (``ExecutionAbandoned``),
servers that had not settled are marked so, DRS jobs it had not seen end are said to be unknown, and no
start resumes it again. It does not touch DRS. A recovery's instances are production: they stay running.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from drs_desktop.domain.views.stranded import StrandedRun

logger = logging.getLogger(__name__)


def explanation(run: StrandedRun) -> str:
    """What ending ``run`` means, in words (the dialog's text)."""
    record = run.record
    lines = [
        f"Execution {record.execution_id[:8]} of {record.plan_name!r} ({record.mode}), started "
        f"{record.started_at:%Y-%m-%d %H:%M:%S} UTC: {run.reason}.",
        "",
        "Ending it records it as abandoned with the reason below, in its journal, the history and the "
        "report. Servers that had not finished are marked abandoned, and DRS jobs it had not seen end are "
        "said to be unknown. It is not resumed at the next start. Nothing is sent to DRS.",
    ]
    if record.mode == "RECOVERY":
        lines.append(
            "Recovery instances it launched are production: they keep running. Fail back or terminate them "
            "in DRS deliberately if that is what you want."
        )
    elif not run.gone:
        lines.append("Its drill instances, if any, stay in DRS: terminate them there.")
    return "\n".join(lines)


class AbandonDialog(QDialog):
    """The question and the reason; ``reason()`` once accepted."""

    def __init__(self, run: StrandedRun, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("End run that cannot be picked up again")
        self.setObjectName("abandon-dialog")
        self.message = QLabel(explanation(run))
        self.message.setWordWrap(True)
        self.reason_edit = QLineEdit(
            "demo world gone after a restart" if run.gone else "its DRS target cannot be reached"
        )
        self.reason_edit.setObjectName("abandon-reason")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.end_button = self.buttons.addButton("End run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.reason_edit.textChanged.connect(lambda text: self.end_button.setEnabled(bool(text.strip())))
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("Reason (kept in the journal and the report):"))
        layout.addWidget(self.reason_edit)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def reason(self) -> str:
        return self.reason_edit.text().strip()


def ask_reason(run: StrandedRun, parent: QWidget | None) -> str | None:
    """The dialog, modal; the reason, or None when the operator keeps the run."""
    dialog = AbandonDialog(run, parent)
    return dialog.reason() if dialog.exec() == QDialog.DialogCode.Accepted else None
