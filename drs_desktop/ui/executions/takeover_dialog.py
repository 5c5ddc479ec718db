"""The confirmation before this desktop takes over a run another desktop drove (docs/sync.md, "Taking a
run over"). It says what will happen, in words; a RECOVERY asks the operator to type the plan's name,
as the run dialog does before one starts (``domain.preflight.checks.confirmation_problem``)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.preflight.checks import confirmation_problem


def takeover_text(execution_id: str, plan_name: str, previous: str) -> str:
    """What a takeover does, for the operator who is about to confirm it."""
    who = f"desktop {previous}" if previous else "no desktop (its lease is free)"
    return (
        f"Take over execution {execution_id} of {plan_name!r}, driven until now by {who}?\n\n"
        "• This desktop drives the run from now on.\n"
        "• Every chunk the journal does not show started is first checked in DRS's records, so no server "
        "is launched twice; new launches may wait up to DRS's listing settle time (minutes).\n"
        "• The other desktop stops driving when it reconnects; its events not synced yet are kept aside "
        "there."
    )


class TakeoverDialog(QDialog):
    """Asks the operator to confirm a takeover; accepted only with the plan's name typed for a RECOVERY."""

    def __init__(
        self,
        execution_id: str,
        plan_name: str,
        mode: str,
        previous: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("takeover-dialog")
        self.setWindowTitle("Take over this run")
        self._plan_name = plan_name
        self._mode = Mode.RECOVERY if mode == Mode.RECOVERY.value else Mode.DRILL
        self.text = QLabel(takeover_text(execution_id, plan_name, previous))
        self.text.setObjectName("takeover-text")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.confirm_label = QLabel(f"Type the plan's name to take over a RECOVERY: {plan_name}")
        self.confirm_label.setTextFormat(Qt.TextFormat.PlainText)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setObjectName("takeover-confirm")
        self.confirm_edit.setPlaceholderText("the plan's name, exactly")
        recovery = self._mode is Mode.RECOVERY
        self.confirm_label.setVisible(recovery)
        self.confirm_edit.setVisible(recovery)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.take_button: QPushButton = buttons.addButton("Take over", QDialogButtonBox.ButtonRole.AcceptRole)
        self.take_button.setObjectName("takeover-accept")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.confirm_edit.textChanged.connect(self._update)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.confirm_label)
        layout.addWidget(self.confirm_edit)
        layout.addWidget(buttons)
        self._update()

    def confirmed(self) -> bool:
        """Whether the operator may take over now: always for a drill, the exact name for a RECOVERY."""
        typed = self.confirm_edit.text() or None
        return confirmation_problem(self._mode, self._plan_name, typed) is None

    def accept(self) -> None:
        if self.confirmed():  # Enter in the field must not get past a mistyped name
            super().accept()

    def _update(self) -> None:
        self.take_button.setEnabled(self.confirmed())
