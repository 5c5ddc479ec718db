"""Ask before ending a run that cannot be picked up again, and for the reason that is journaled.

Ending it is final: the run is recorded as abandoned with the operator's reason (``ExecutionAbandoned``),
servers that had not settled are marked so, DRS jobs it had not seen end are said to be unknown, and no
start resumes it again. It does not touch DRS. A recovery's instances are production: they stay running.

A run that is not gone (its DRS is only elsewhere: another profile, account or Region) would be picked up
again, reconciled and cleaned up, once the application runs against its target. Ended from here instead,
whatever its journal says may still be at work in that DRS (jobs not seen to end, starts whose answer
never came, instances not terminated) is left unwatched: instances launched after now are in no journal
and no cleanup. The dialog names them, and "End run" waits until the operator says they will check DRS.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from drs_desktop.domain.engine.commands import TAG_EXECUTION
from drs_desktop.domain.views.drill_net_evidence import restore_command
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
    if not run.gone:
        lines += [
            "",
            "It is not gone: run DRS Desktop against its target again and the run is picked up, reconciled "
            "with DRS and can be cleaned up there. That is the safer way.",
        ]
        lines += ["", *_left_in_drs(run)]
    if record.mode == "RECOVERY":
        lines.append(
            "Recovery instances it launched are production: they keep running. Fail back or terminate them "
            "in DRS deliberately if that is what you want."
        )
    elif not run.gone and not run.instances:
        lines.append("Its drill instances, if any, stay in DRS: terminate them there.")
    return "\n".join(lines)


def _left_in_drs(run: StrandedRun) -> list[str]:
    """What its journal says may still be at work in its DRS, by ID, so it can be checked there."""
    if not run.in_drs:
        return ["Its journal shows no DRS job still running and no instance left running."]
    lines = [
        "Ended here, these are left unwatched in its DRS (instances launched after now are in no journal):"
    ]
    if run.open_jobs:
        lines.append(f"  • DRS jobs not seen to end: {_ids(run.open_jobs)}")
    if run.starts_in_doubt:
        lines.append(
            f"  • {run.starts_in_doubt} StartRecovery call(s) whose answer never came: look in DRS for jobs "
            f"tagged {TAG_EXECUTION}={run.record.execution_id}"
        )
    if run.instances:
        kind = "recovery (production)" if run.record.mode == "RECOVERY" else "drill"
        lines.append(f"  • {kind} instances not terminated: {_ids(run.instances)}")
    if run.templates_maybe_pointed:
        lines.append(
            f"  • launch templates maybe left pointed at the drill network (a recovery would launch there): "
            f"{_ids(run.templates_maybe_pointed)}. Set them back with: "
            f"{restore_command(run.record.plan_name)}"
        )
    return lines


def _ids(ids: tuple[str, ...], shown: int = 6) -> str:
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


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
        # Something may still be at work in its DRS: ending is allowed once the operator takes it on.
        self.check_box: QCheckBox | None = None
        if run.in_drs:
            self.check_box = QCheckBox("I will check these in DRS myself")
            self.check_box.setObjectName("abandon-will-check")
            self.check_box.toggled.connect(self._update)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.end_button = self.buttons.addButton("End run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.reason_edit.textChanged.connect(self._update)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        if self.check_box is not None:
            layout.addWidget(self.check_box)
        layout.addWidget(QLabel("Reason (kept in the journal and the report):"))
        layout.addWidget(self.reason_edit)
        layout.addWidget(self.buttons)
        self._update()
        self.resize(560, self.sizeHint().height())

    def _update(self) -> None:
        checked = self.check_box is None or self.check_box.isChecked()
        self.end_button.setEnabled(bool(self.reason_edit.text().strip()) and checked)

    def reason(self) -> str:
        return self.reason_edit.text().strip()


def ask_reason(run: StrandedRun, parent: QWidget | None) -> str | None:
    """The dialog, modal; the reason, or None when the operator keeps the run."""
    dialog = AbandonDialog(run, parent)
    return dialog.reason() if dialog.exec() == QDialog.DialogCode.Accepted else None
