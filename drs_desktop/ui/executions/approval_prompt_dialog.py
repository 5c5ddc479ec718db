"""The prompt an approval gate raises: non-modal, so the operator can look at the progress first.

A gate means a person must check something (the database came up, the DNS switched) before the next
wave launches; the prompt says which gate and what to check, and offers Approve, Reject (which ends the
execution as FAILED once running jobs settle) or Later (the gate stays; the toolbar's Approve answers
it too). A comment goes to the audit trail with the decision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
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
from drs_desktop.domain.views.progress import ProgressSnapshot

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


class ApprovalPrompts(QObject):
    """The open prompts of one progress view: one per gate as it comes (never twice for a gate), closed
    when the gate is decided elsewhere (the toolbar, another desktop's journal). ``decided`` carries the
    prompt's answer on; ``notify(title, text)`` tells the desktop a gate waits."""

    decided = Signal(str, object, bool, str)  # execution ID, AwaitApproval, granted, comment

    def __init__(self, parent: QWidget, notify: Callable[[str, str], None]) -> None:
        super().__init__(parent)
        self._widget = parent
        self._notify = notify
        self._prompted: set[tuple[str, object]] = set()
        self._prompts: dict[tuple[str, object], ApprovalPromptDialog] = {}

    def current(self) -> ApprovalPromptDialog | None:
        """The prompt shown last and still open."""
        open_prompts = [p for p in self._prompts.values() if p.isVisible()]
        return open_prompts[-1] if open_prompts else None

    def follow(self, snapshot: ProgressSnapshot) -> None:
        """Open a prompt for each new gate of ``snapshot``; close those no longer waiting."""
        current = {(snapshot.execution_id, gate.key) for gate in snapshot.approvals}
        for key, prompt in list(self._prompts.items()):
            if key[0] == snapshot.execution_id and key not in current:
                prompt.close()
                prompt.deleteLater()
                del self._prompts[key]
        for gate in snapshot.approvals:
            key = (snapshot.execution_id, gate.key)
            if key in self._prompted:
                continue
            self._prompted.add(key)
            prompt = ApprovalPromptDialog(snapshot.execution_id, snapshot.plan_name, gate, self._widget)
            prompt.decided.connect(self.decided)
            self._prompts[key] = prompt
            prompt.show()
            text = f"Wave {gate.wave_index + 1} “{gate.wave_name}” of {snapshot.plan_name}: {gate.message}"
            self._notify("Approval needed", text)
