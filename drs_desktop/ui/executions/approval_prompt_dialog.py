"""The prompt an approval gate raises: non-modal, so the operator can look at the progress first.

A gate means a person must check something (the database came up, the DNS switched) before the next
wave launches; the prompt says which gate and what to check, and offers Approve, Reject (which ends the
execution as FAILED once running jobs settle) or Later (the gate stays; the toolbar's Approve answers
it too). A comment goes to the audit trail with the decision.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.engine.commands import AwaitApproval

logger = logging.getLogger(__name__)


class ApprovalPromptDialog(QDialog):
    decided = Signal(str, object, bool, str)  # execution ID, AwaitApproval, granted, comment

    def __init__(
        self, execution_id: str, plan_name: str, approval: AwaitApproval, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("approval-prompt")
        self.setWindowTitle(f"Approval needed: {plan_name}")
        self.setModal(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.execution_id = execution_id
        self.approval = approval
        when = "before launching" if approval.phase.value == "BEFORE" else "after"
        self.message = QLabel(
            f"<b>Wave {approval.wave_index + 1} “{approval.wave_name}”</b> waits for approval {when}:"
            f"<p>{_escape(approval.message)}</p>"
            f"<p>Requested at {approval.requested_at:%H:%M:%S} UTC.</p>"
        )
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Comment for the audit trail (optional)")
        buttons = QDialogButtonBox()
        self.approve_button = QPushButton("Approve")
        self.reject_button = QPushButton("Reject (ends the run)")
        self.later_button = QPushButton("Later")
        buttons.addButton(self.approve_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.reject_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.later_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.approve_button.clicked.connect(lambda: self._decide(True))
        self.reject_button.clicked.connect(lambda: self._decide(False))
        self.later_button.clicked.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.comment)
        layout.addWidget(buttons)
        self.approve_button.setDefault(True)

    def _decide(self, granted: bool) -> None:
        self.decided.emit(self.execution_id, self.approval, granted, self.comment.text().strip())
        self.close()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
