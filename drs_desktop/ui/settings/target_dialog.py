"""Add or edit one target of the settings' list: name, account, Region, and how to reach it.

The entry is checked as it would be stored (``domain.settings.target_list.field_problems``: the plan
rules, in the list it joins) when the operator presses Save; each problem is shown under its field and the
dialog stays open with everything typed, so a typo costs nothing. A role target's role, source profile,
external ID and MFA device are names and identifiers, never secrets: a value shaped like an access key is
refused at its field without being repeated.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.settings.target_list import field_problems

__all__ = ["TargetDialog"]

PROFILE, ROLE = "profile", "role"
_FIELDS = ("name", "account", "region", "profile", "role_arn", "source_profile", "external_id", "mfa_serial")
_ROLE_FIELDS = ("role_arn", "source_profile", "external_id", "mfa_serial")
_LABELS = {
    "name": "Name",
    "account": "Account",
    "region": "Region",
    "profile": "AWS profile",
    "role_arn": "Role ARN",
    "source_profile": "Source profile",
    "external_id": "External ID",
    "mfa_serial": "MFA device",
}
_HINTS = {
    "name": "staging-01",
    "account": "12 digits",
    "region": "eu-west-1",
    "profile": "a profile of the AWS config files",
    "role_arn": "arn:aws:iam::123456789012:role/DrsOperator",
    "source_profile": "the profile that assumes the role",
    "external_id": "optional: if the role's trust policy asks for one",
    "mfa_serial": "optional: arn:aws:iam::123456789012:mfa/you",
}
_ERROR_STYLE = "color: #b00020"


class TargetDialog(QDialog):
    """One target, added to (``index`` None) or edited in ``targets``; ``target()`` once accepted."""

    def __init__(
        self, targets: tuple[PlanTarget, ...], index: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("target-dialog")
        self.setWindowTitle("Edit target" if index is not None else "Add target")
        self._targets = targets
        self._index = index
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self._rows: dict[str, int] = {}
        self.how_combo = QComboBox()
        self.how_combo.setObjectName("target-how")
        self.how_combo.addItem("AWS profile", PROFILE)
        self.how_combo.addItem("IAM role assumed from a profile", ROLE)
        self.how_combo.currentIndexChanged.connect(lambda _i: self._show_how())
        self.form = QFormLayout()
        for field in _FIELDS:
            if field == "profile":
                self.form.addRow("Reached through", self.how_combo)
            edit = QLineEdit()
            edit.setObjectName(f"target-{field}")
            edit.setPlaceholderText(_HINTS[field])
            error = QLabel()
            error.setObjectName(f"target-{field}-error")
            error.setStyleSheet(_ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            self.edits[field], self.errors[field] = edit, error
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(edit)
            column.addWidget(error)
            self._rows[field] = self.form.rowCount()
            self.form.addRow(_LABELS[field], column)
        self.general_error = QLabel()
        self.general_error.setObjectName("target-error")
        self.general_error.setStyleSheet(_ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        if index is not None:
            self._fill(targets[index])
        self._show_how()
        self.resize(520, self.sizeHint().height())

    def target(self) -> PlanTarget:
        """The entry as typed (only the fields of the chosen way in: the other's stay in the dialog)."""
        values = {field: edit.text().strip() for field, edit in self.edits.items()}
        entry = PlanTarget(**values)
        if self.how_combo.currentData() == ROLE:
            return replace(entry, profile="")
        return replace(entry, **dict.fromkeys(_ROLE_FIELDS, ""))

    def targets(self) -> tuple[PlanTarget, ...]:
        """The whole list with this entry added or replaced."""
        listed = list(self._targets)
        if self._index is None:
            listed.append(self.target())
        else:
            listed[self._index] = self.target()
        return tuple(listed)

    def problems(self) -> dict[str, str]:
        index = len(self._targets) if self._index is None else self._index
        return field_problems(self.targets(), index)

    def error_texts(self) -> dict[str, str]:
        """Field -> the error shown under it ("" for the whole entry), for tests."""
        shown = {field: label.text() for field, label in self.errors.items() if not label.isHidden()}
        if not self.general_error.isHidden():
            shown[""] = self.general_error.text()
        return shown

    def save(self) -> None:
        """Accept the entry if it holds; else show each problem at its field and stay open."""
        problems = self.problems()
        for field, label in self.errors.items():
            label.setText(problems.get(field, ""))
            label.setVisible(field in problems)
        general = problems.get("", "")
        self.general_error.setText(general)
        self.general_error.setVisible(bool(general))
        if problems:
            first = next((field for field in _FIELDS if field in problems), "")
            if first:
                self.edits[first].setFocus()
            return
        self.accept()

    def _fill(self, target: PlanTarget) -> None:
        for field, edit in self.edits.items():
            edit.setText(getattr(target, field))
        self.how_combo.setCurrentIndex(self.how_combo.findData(ROLE if target.role_arn else PROFILE))

    def _show_how(self) -> None:
        role = self.how_combo.currentData() == ROLE
        self.form.setRowVisible(self._rows["profile"], not role)
        for field in _ROLE_FIELDS:
            self.form.setRowVisible(self._rows[field], role)
