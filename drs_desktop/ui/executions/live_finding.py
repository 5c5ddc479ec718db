"""The progress view's "Add finding…" (issue 18): a finding noted while the run goes on, for the run the view
follows.

For a run this GUI drives, the finding goes the way the view's other controls go: to the run's execution
loop (``workers.audit_tasks.submit_live_finding``, the service's ``submit_live``), whose runner journals it
between two steps with its own clock. The finding itself is made and checked on the ``local`` thread first
(``AuditDesk.new_finding``: an ID unique in the run's journal, the services' checks). For a run another
process drives, or one whose loop has just ended, it is journaled through ``AuditDesk.add_finding`` (the
driver's inbox, or directly under the driver lock), as the Audit tab does it. A refusal comes back in the
services' words, in the dialog, which stays open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from drs_desktop.domain.engine.annotation_events import FindingAdded
from drs_desktop.ui.executions.finding_dialog import FindingDialog, FindingEntry
from drs_desktop.workers.audit_tasks import Annotated, submit_live_finding
from drs_desktop.workers.execution_desk import ExecutionDesk
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks, audit_desk
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

__all__ = ["LiveFindingButton"]


class LiveFindingButton(QPushButton):
    """ "Add finding…" for ``following()``'s run; ``said(text, error)`` for the view's status line."""

    said = Signal(str, bool)
    added = Signal(str, str)  # execution ID, finding ID (handed to the loop, or journaled)

    def __init__(
        self,
        following: Callable[[], str | None],
        *,
        clock: Callable[[], datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Add finding…", parent)
        self.setObjectName("live-add-finding")
        self.setToolTip("Note a finding on this run (it goes into the run's journal and its evidence)")
        self._following = following
        self._clock = clock
        self._desk: ExecutionDesk | None = None
        self._local: Requester[LocalServices] = Requester(self, self._failed)
        self._connected = False
        self.dialog: FindingDialog | None = None
        self.clicked.connect(lambda: self.add_finding())
        self.refresh()

    def connect_desk(self, desk: ExecutionDesk) -> None:
        self._desk = desk

    def connect_local(self, tasks: LocalTasks) -> None:
        self._local.connect(tasks)
        self._connected = True
        self.refresh()

    def refresh(self) -> None:
        """Enabled while the view follows a run and the finding can be made (the local thread)."""
        self.setEnabled(bool(self._following()) and self._connected)

    def add_finding(self) -> FindingDialog | None:
        execution_id = self._following()
        if not execution_id or not self._connected:
            return None
        today = None
        if self._clock is not None:
            now = self._clock()
            today = QDate(now.year, now.month, now.day)
        dialog = FindingDialog(None, today=today, parent=self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        dialog.submitted.connect(lambda entry: self._send(execution_id, entry))
        self.dialog = dialog
        dialog.open()
        return dialog

    # ---------------------------------------------------------------------------------- internals

    def _send(self, execution_id: str, entry: FindingEntry) -> None:
        desk = self._desk
        fields = {"text": entry.text, "severity": entry.severity, "owner": entry.owner, "due": entry.due}
        if desk is not None and desk.loop(execution_id) is not None:
            self._local(
                "add_finding",
                lambda s: audit_desk(s).new_finding(execution_id, **fields),
                lambda event: self._hand_to_loop(execution_id, event, fields),
            )
            return
        self._journal(execution_id, fields)

    def _hand_to_loop(self, execution_id: str, event: FindingAdded, fields: dict[str, str]) -> None:
        desk = self._desk
        if desk is not None and submit_live_finding(desk, execution_id, event):
            self._done(
                execution_id,
                event.finding_id,
                f"Finding {event.finding_id} handed to the run: it is journaled before its next step.",
            )
            return
        self._journal(execution_id, fields)  # the loop ended meanwhile: journal it directly

    def _journal(self, execution_id: str, fields: dict[str, str]) -> None:
        self._local(
            "add_finding",
            lambda s: audit_desk(s).add_finding(execution_id, **fields),
            self._journaled,
        )

    def _journaled(self, done: Annotated) -> None:
        if done.state == "refused":
            self._failed("add_finding", f"the run's driver refused it: {done.reason}")
            return
        finding_id = getattr(done.event, "finding_id", "")
        if done.journaled:
            text = f"Finding {finding_id} added: journal entry {done.seq}."
        else:
            text = f"Finding {finding_id} queued for {done.driver}, which journals it before its next step."
        self._done(done.execution_id, finding_id, text)

    def _done(self, execution_id: str, finding_id: str, text: str) -> None:
        if self.dialog is not None:
            self.dialog.accept()
        self.said.emit(text, False)
        self.added.emit(execution_id, finding_id)

    def _failed(self, operation: str, message: str) -> None:
        if self.dialog is not None:
            self.dialog.show_refusal(message)
        self.said.emit(f"Could not {operation.replace('_', ' ')}: {message}", True)

    def _closed(self, dialog: FindingDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
