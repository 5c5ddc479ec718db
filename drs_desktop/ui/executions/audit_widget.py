"""The Audit tab of the selected run (issue 18): the test it was recorded as, its findings, its sign-off,
and the buttons that add to them.

Everything is read with ``AuditDesk.view`` on the ``local`` task thread (the journal folded by
``domain.views.audit``) and written there too (a journal append takes the run's driver lock: local disk),
then read again, so the tab shows what the journal now says. A refusal (a run of another desktop, a run
not finished for a sign-off, a driver that refused) comes back in the services' words, in the dialog that
asked and on the tab's status line. What is not known is said: "no test record", "not signed off".

Findings are listed open first; a due date passed (the app's clock) on an open finding says "OVERDUE" in
words, not only in colour. A self-signed sign-off says "SELF-SIGNED" in capitals on its own line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtGui import Qt as QtText
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.engine.annotation_events import FindingUpdated, ReviewSignedOff
from drs_desktop.domain.views.audit import AuditRecord, Finding
from drs_desktop.ui.executions.finding_dialog import FindingDialog, FindingEntry
from drs_desktop.ui.executions.sign_off_dialog import SignOffDialog, SsoDialogFactory
from drs_desktop.workers.audit_tasks import Annotated, AuditView, CallerIdentity
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks, SettingsTasks, audit_desk
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

__all__ = ["FINDING_COLUMNS", "AuditWidget"]

FINDING_COLUMNS = ("ID", "Severity", "Text", "Owner", "Due", "Status")
_ERROR_STYLE = "color: #b00020"
_RED = QColor("#b00020")


def due_text(finding: Finding, today: date) -> str:
    """The due date in words: none, or the date, with OVERDUE when it has passed on an open finding."""
    if not finding.due:
        return "no due date"
    if finding.open and date.fromisoformat(finding.due) < today:
        return f"{finding.due} OVERDUE"
    return finding.due


def test_lines(record: AuditRecord) -> list[str]:
    """The test record in a few lines (or that there is none)."""
    test = record.test
    if test is None:
        return ["No test record: this run journaled none (a run from before test records were kept)."]
    lines = [f"Test type: {test.test_type.value}", f"Scenario: {test.scenario or '(none given)'}"]
    for label, items in (
        ("Objectives", test.objectives),
        ("Success criteria", test.success_criteria),
        ("Participants", test.participants),
    ):
        lines.append(f"{label}: {'; '.join(items) if items else '(none given)'}")
    return lines


test_lines.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def done_text(done: Annotated) -> str:
    """What became of a finding or a sign-off, in words (the journal entry it is, or where it waits)."""
    event = done.event
    if isinstance(event, ReviewSignedOff):
        verdict = "accepted" if event.accepted else "rejected"
        who = "SELF-SIGNED" if event.self_signed else "independent"
        what = f"Review {verdict} by {event.arn} ({who})"
    elif isinstance(event, FindingUpdated):
        what = f"Finding {event.finding_id} updated"
    else:
        what = f"Finding {getattr(event, 'finding_id', '')} added"
    if done.journaled:
        return f"{what}: journal entry {done.seq}."
    if done.state == "refused":
        return f"{what}: refused by the run's driver: {done.reason}"
    return f"{what}: queued for {done.driver}, which journals it before its next step."


def sign_off_text(view: AuditView) -> str:
    latest = view.record.sign_off
    if latest is None:
        return "Not signed off yet." + ("" if view.finished else " The run has not finished.")
    verdict = "ACCEPTED" if latest.accepted else "REJECTED"
    who = (
        "SELF-SIGNED: the reviewer is the identity that ran the execution"
        if latest.self_signed
        else "independent: signed by someone other than the run's identity"
    )
    earlier = len(view.record.sign_offs) - 1
    again = f" (replaces {earlier} earlier sign-off{'s' * (earlier != 1)})" if earlier else ""
    return (
        f"Review {verdict} by {latest.arn} (account {latest.account}, profile {latest.profile}) at "
        f"{latest.at:%Y-%m-%d %H:%M} UTC{again}\n{who}\nReview: {latest.review}"
    )


class AuditWidget(QWidget):
    """The selected run's audit; ``changed(execution_id)`` after a finding or a sign-off was journaled."""

    changed = Signal(str)

    def __init__(self, *, clock: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audit-tab")
        self.clock = clock
        self._local: Requester[LocalServices] = Requester(self, self.on_failed)
        self._settings_tasks: SettingsTasks | None = None
        self._sso_factory: SsoDialogFactory | None = None
        self._execution_id = ""
        self._view: AuditView | None = None
        self._findings: list[Finding] = []
        self.dialog: FindingDialog | SignOffDialog | None = None

        self.test_label = QLabel()
        self.test_label.setObjectName("audit-test")
        self.test_label.setWordWrap(True)
        self.test_label.setTextFormat(Qt.TextFormat.PlainText)
        self.test_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(FINDING_COLUMNS))
        self.table.setObjectName("audit-findings")
        self.table.setHorizontalHeaderLabels(list(FINDING_COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.update_finding())
        self.sign_off_label = QLabel()
        self.sign_off_label.setObjectName("audit-sign-off")
        self.sign_off_label.setWordWrap(True)
        self.sign_off_label.setTextFormat(Qt.TextFormat.PlainText)
        self.sign_off_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.add_button = QPushButton("Add finding…")
        self.add_button.setObjectName("audit-add")
        self.update_button = QPushButton("Update finding…")
        self.update_button.setObjectName("audit-update")
        self.sign_button = QPushButton("Sign off review…")
        self.sign_button.setObjectName("audit-sign")
        self.status = QLabel()
        self.status.setObjectName("audit-status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.update_button, self.sign_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.test_label)
        layout.addWidget(QLabel("Findings (open first):"))
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Sign-off:"))
        layout.addWidget(self.sign_off_label)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.add_button.clicked.connect(lambda: self.add_finding())
        self.update_button.clicked.connect(lambda: self.update_finding())
        self.sign_button.clicked.connect(lambda: self.sign_off())
        self.set_execution("")

    # ---------------------------------------------------------------------------------- wiring

    def connect_tasks(self, local: LocalTasks) -> None:
        self._local.connect(local)

    def connect_settings(
        self, settings: SettingsTasks, sso_dialog_factory: SsoDialogFactory | None = None
    ) -> None:
        """Where the sign-off dialog lists profiles, signs in and asks STS (the ``settings`` thread), and
        the Settings pane's sign-in dialog it shows for an IAM Identity Center profile."""
        self._settings_tasks = settings
        self._sso_factory = sso_dialog_factory

    # ---------------------------------------------------------------------------------- reading

    def set_execution(self, execution_id: str) -> None:
        """Show ``execution_id``'s audit ("" none)."""
        if execution_id != self._execution_id:
            self._view = None
            self._findings = []
            self.table.setRowCount(0)
        self._execution_id = execution_id
        if not execution_id:
            self.test_label.setText("Select an execution to see its test record, findings and sign-off.")
            self.sign_off_label.setText("")
            self._update_buttons()
            return
        if self._view is None:
            self.test_label.setText("Loading…")
            self.sign_off_label.setText("")
        self.refresh()

    def refresh(self) -> None:
        execution_id = self._execution_id
        if execution_id:
            self._local("load_audit", lambda s: audit_desk(s).view(execution_id), self.show_view)
        self._update_buttons()

    def show_view(self, view: AuditView) -> None:
        if view.execution_id != self._execution_id:
            return  # an answer for a run no longer selected
        selected = self.selected_finding()
        self._view = view
        lines = test_lines(view.record)
        if view.foreign_writer:
            lines.append(
                f"Run on desktop {view.foreign_writer} (team sync): its findings and sign-off are added "
                "there."
            )
        self.test_label.setText("\n".join(lines))
        self._fill_findings(view.record, selected.finding_id if selected else "")
        self.sign_off_label.setText(sign_off_text(view))
        latest = view.record.sign_off
        self.sign_off_label.setStyleSheet(
            f"color: {_RED.name()}; font-weight: bold" if latest is not None and latest.self_signed else ""
        )
        self._update_buttons()

    def view(self) -> AuditView | None:
        return self._view

    def selected_finding(self) -> Finding | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._findings):
            return None
        return self._findings[rows[0].row()]

    def select_finding(self, finding_id: str) -> bool:
        for row, finding in enumerate(self._findings):
            if finding.finding_id == finding_id:
                self.table.selectRow(row)
                return True
        return False

    def cell_text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def status_text(self) -> str:
        return self.status.text()

    # ---------------------------------------------------------------------------------- writing

    def add_finding(self) -> FindingDialog | None:
        view = self._view
        if view is None:
            return None
        dialog = FindingDialog(None, today=self._today(), parent=self)
        self._open(dialog)
        execution_id = view.execution_id

        def send(entry: FindingEntry) -> None:
            self._local(
                "add_finding",
                lambda s: audit_desk(s).add_finding(
                    execution_id, text=entry.text, severity=entry.severity, owner=entry.owner, due=entry.due
                ),
                lambda done: self._journaled(dialog, done),
            )

        dialog.submitted.connect(send)
        return dialog

    def update_finding(self) -> FindingDialog | None:
        view, finding = self._view, self.selected_finding()
        if view is None or finding is None:
            return None
        dialog = FindingDialog(finding, today=self._today(), parent=self)
        self._open(dialog)
        execution_id, finding_id = view.execution_id, finding.finding_id

        def send(entry: FindingEntry) -> None:
            self._local(
                "update_finding",
                lambda s: audit_desk(s).update_finding(
                    execution_id,
                    finding_id,
                    text=entry.text,
                    severity=entry.severity,
                    owner=entry.owner,
                    due=entry.due,
                    status=entry.status,
                    comment=entry.comment,
                ),
                lambda done: self._journaled(dialog, done),
            )

        dialog.submitted.connect(send)
        return dialog

    def sign_off(self) -> SignOffDialog | None:
        view, tasks = self._view, self._settings_tasks
        if view is None or tasks is None or not view.finished:
            return None
        dialog = SignOffDialog(view, tasks, self, sso_dialog_factory=self._sso_factory)
        self._open(dialog)
        execution_id = view.execution_id

        def send(profile: str, review: str, accepted: bool, signer: CallerIdentity) -> None:
            self._local(
                "sign_off",
                lambda s: audit_desk(s).sign_off(
                    execution_id, profile=profile, review=review, accepted=accepted, signer=signer
                ),
                lambda done: self._journaled(dialog, done),
            )

        dialog.sign_requested.connect(send)
        return dialog

    # ---------------------------------------------------------------------------------- answers

    def on_failed(self, operation: str, message: str) -> None:
        dialog = self.dialog
        if operation in ("add_finding", "update_finding", "sign_off") and dialog is not None:
            dialog.show_refusal(message)
        if operation == "load_audit":
            self.test_label.setText(f"Could not read the run's audit: {message}")
        self._say(f"Could not {operation.replace('_', ' ')}: {message}", error=True)

    def _journaled(self, dialog: FindingDialog | SignOffDialog, done: Annotated) -> None:
        open_dialog = dialog if self.dialog is dialog else None  # None: closed (and deleted) meanwhile
        if done.state == "refused":
            if open_dialog is not None:
                open_dialog.show_refusal(f"The run's driver refused it: {done.reason}")
            self._say(done_text(done), error=True)
            return
        if open_dialog is not None:
            open_dialog.accept()
        self._say(done_text(done))
        self.refresh()
        self.changed.emit(done.execution_id)

    # ---------------------------------------------------------------------------------- internals

    def _open(self, dialog: FindingDialog | SignOffDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.dialog = dialog
        dialog.open()

    def _closed(self, dialog: QWidget) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _today(self) -> QDate:
        now = self.clock()
        return QDate(now.year, now.month, now.day)

    def _fill_findings(self, record: AuditRecord, keep: str) -> None:
        today = self.clock().date()
        self._findings = sorted(record.findings, key=lambda f: (not f.open, f.added_at))
        self.table.setRowCount(len(self._findings))
        for row, finding in enumerate(self._findings):
            due = due_text(finding, today)
            cells = (
                finding.finding_id,
                finding.severity.value,
                finding.text,
                finding.owner or "(nobody named)",
                due,
                finding.status.value,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text.splitlines()[0] if text else "")
                # A tooltip renders text that looks like markup as HTML: a finding is anyone's text.
                item.setToolTip(QtText.convertFromPlainText(text) if text else "")
                if column == 4 and due.endswith("OVERDUE"):
                    item.setForeground(QBrush(_RED))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        if keep:
            self.select_finding(keep)

    def _update_buttons(self) -> None:
        view = self._view
        self.add_button.setEnabled(view is not None)
        self.update_button.setEnabled(view is not None and self.selected_finding() is not None)
        self.update_button.setToolTip("" if self.selected_finding() else "Select a finding to update.")
        if view is None:
            self.sign_button.setEnabled(False)
            self.sign_button.setToolTip("Select an execution.")
        elif not view.finished:
            self.sign_button.setEnabled(False)
            self.sign_button.setToolTip("The run has not finished: its review is signed off once it has.")
        elif self._settings_tasks is None:
            self.sign_button.setEnabled(False)
            self.sign_button.setToolTip("The AWS profiles cannot be read here.")
        else:
            self.sign_button.setEnabled(True)
            self.sign_button.setToolTip("Sign the review off with your own AWS profile.")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
        self.status.setText(text)
