"""The run dialog's choice of where the run runs: here (every feature) or in DRS (server-side).

It shows what each gives and lacks (``services.native_run``'s lists, through the desk's layer, and the
plan's own: its approval gates, the waves that would no longer run side by side), and once the dialog's
check has answered, whether a run in DRS is possible: when it is not (the plan is not published, was
changed in DRS, does not fit, a point in time is chosen), "Run in DRS" is disabled and the sentence that
says why is shown under it. Executions of the plan's native plan that DRS still runs are listed with
"Attach": this desktop then follows that execution instead of starting one.

Only widgets live here; the dialog decides what the choice means for its checks and its Run button.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.workers.native_offer import DRS_GIVES, DRS_LACKS, HERE_GIVES, HERE_LACKS, NativeOffer

logger = logging.getLogger(__name__)

HERE, IN_DRS = "here", "DRS"
_ERROR_STYLE = "color: #b00020"
_ARN_ROLE = Qt.ItemDataRole.UserRole + 1


def _listed(gives: Sequence[str], lacks: Sequence[str], own: Sequence[str] = ()) -> str:
    """Gives (✓), lacks (✗), and this plan's own lacks in bold, one a line."""
    lines = [f"✓ {html.escape(g)}" for g in gives]
    lines += [f"✗ {html.escape(g)}" for g in lacks]
    lines += [f"<b>✗ {html.escape(g)}</b>" for g in own]
    return "<br>".join(lines)


class RunWherePanel(QWidget):
    """Two radio buttons with what each gives and lacks, the reason "Run in DRS" is refused, and the
    executions to attach to."""

    changed = Signal()  # the operator chose the other place
    attach_requested = Signal(str)  # the execution ARN to follow

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("run-where")
        self.here_radio = QRadioButton("Run here: every feature (this desktop drives each DRS job)")
        self.drs_radio = QRadioButton("Run in DRS: server-side (a DRS native recovery plan execution)")
        self.here_radio.setChecked(True)
        self._group = QButtonGroup(self)
        self._group.addButton(self.here_radio)
        self._group.addButton(self.drs_radio)
        self.here_text = QLabel(_listed(HERE_GIVES, HERE_LACKS))
        self.drs_text = QLabel(_listed(DRS_GIVES, DRS_LACKS))
        for label in (self.here_text, self.drs_text):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setContentsMargins(22, 0, 0, 0)
        self.reason = QLabel()
        self.reason.setObjectName("run-in-drs-reason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet(_ERROR_STYLE)
        self.reason.setContentsMargins(22, 0, 0, 0)
        self.reason.setVisible(False)
        self.active_label = QLabel("Executions of this plan's native plan that DRS still runs:")
        self.active_list = QListWidget()
        self.active_list.setObjectName("native-active")
        self.active_list.setMaximumHeight(70)
        self.attach_button = QPushButton("Attach")
        self.attach_button.setObjectName("attach")
        self.attach_button.setToolTip("Follow this execution here: nothing is started in DRS")
        active_row = QHBoxLayout()
        active_row.setContentsMargins(22, 0, 0, 0)
        active_row.addWidget(self.active_list, 1)
        active_row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignTop)
        self._active = QWidget()
        active_layout = QVBoxLayout(self._active)
        active_layout.setContentsMargins(0, 0, 0, 0)
        active_layout.addWidget(self.active_label)
        active_layout.addLayout(active_row)
        self._active.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.here_radio)
        layout.addWidget(self.here_text)
        layout.addWidget(self.drs_radio)
        layout.addWidget(self.drs_text)
        layout.addWidget(self.reason)
        layout.addWidget(self._active)

        self.drs_radio.toggled.connect(lambda _on: self.changed.emit())
        self.attach_button.clicked.connect(lambda: self._attach())
        self.active_list.currentRowChanged.connect(lambda _row: self._update_attach())

    # ---------------------------------------------------------------------------------- the choice

    def where(self) -> str:
        return IN_DRS if self.drs_radio.isChecked() else HERE

    def reason_text(self) -> str:
        return self.reason.text() if self.reason.isVisibleTo(self) else ""

    def active_arns(self) -> list[str]:
        return [str(self.active_list.item(i).data(_ARN_ROLE)) for i in range(self.active_list.count())]

    # ---------------------------------------------------------------------------------- answers

    def clear(self) -> None:
        """No check answered (or the choice changed): both places may be chosen, nothing to attach to."""
        self.drs_radio.setEnabled(True)
        self.drs_radio.setToolTip("")
        self.reason.setVisible(False)
        self.drs_text.setText(_listed(DRS_GIVES, DRS_LACKS))
        self.active_list.clear()
        self._active.setVisible(False)
        self.set_verdicts("", "")

    def set_offer(self, offer: NativeOffer) -> None:
        """The check's answer for a run in DRS: its plan's own lacks, and whether it may be chosen."""
        self.drs_text.setText(_listed(DRS_GIVES, DRS_LACKS, offer.differences))
        refused = offer.refusal
        self.reason.setText(f"A run in DRS is not possible: {refused}" if refused else "")
        self.reason.setVisible(bool(refused))
        self.drs_radio.setToolTip(refused)
        if refused:
            if self.drs_radio.isChecked():
                self.here_radio.setChecked(True)
            self.drs_radio.setEnabled(False)
        self.active_list.clear()
        for run in offer.active:
            item = QListWidgetItem(run.describe())
            item.setData(_ARN_ROLE, run.arn)
            item.setToolTip(run.arn)
            self.active_list.addItem(item)
        if offer.active:
            self.active_list.setCurrentRow(0)
        self._active.setVisible(bool(offer.active))
        self._update_attach()

    def set_verdicts(self, here: str, drs: str) -> None:
        """Each radio button's label ends with its check's verdict ("ready", "NOT READY: ...")."""
        self.here_radio.setText(
            "Run here: every feature (this desktop drives each DRS job)" + (f" — {here}" if here else "")
        )
        self.drs_radio.setText(
            "Run in DRS: server-side (a DRS native recovery plan execution)" + (f" — {drs}" if drs else "")
        )

    # ---------------------------------------------------------------------------------- helpers

    def _update_attach(self) -> None:
        self.attach_button.setEnabled(self.active_list.currentItem() is not None)

    def _attach(self) -> None:
        item = self.active_list.currentItem()
        if item is not None:
            self.attach_requested.emit(str(item.data(_ARN_ROLE)))
