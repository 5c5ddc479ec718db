"""The driver strip: who drives the unfinished run the History tab shows, and the way to take it over when
that desktop went silent (docs/sync.md, "Taking a run over"; issue 14 item 5).

While it is shown, the strip reads the run's lease every ``HEARTBEAT_INTERVAL`` seconds on its own task
thread (``lease-watch``, ``workers.pane_tasks.LeaseTasks``; never the GUI thread, one read in flight at
most) and feeds the readings to a ``LeaseWatch``: expiry is timed on this desktop's monotonic clock
alone, from the readings' own times. It says one true line (``domain.views.lease_view.lease_line``), and
enables "Take over…" only when the last reading found the lease expired or free. Hidden, it reads
nothing; shown again it reads on (the counter never repeats, so the same pair read after a pause still
means that nobody wrote to the lease meanwhile).

Take over… asks for a confirmation (``TakeoverDialog``) and then emits ``take_over_requested``: the
composition root hands it to the execution desk, which opens the run live as a resumed one. A refusal
(``on_refused``: another desktop was faster) is said in one line and the strip reads again at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from drs_desktop.domain.lease import HEARTBEAT_INTERVAL, LeaseWatch
from drs_desktop.domain.views.lease_view import LeaseLine, LeaseReading, feed, lease_line
from drs_desktop.ui.executions.takeover_dialog import TakeoverDialog
from drs_desktop.workers.pane_tasks import LeaseLook, LeaseTasks

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"


class LeaseStrip(QWidget):
    """One line about the shown run's driver, and Take over…; see the module docstring."""

    take_over_requested = Signal(str, object, bool)  # execution ID, Lease seen (None: free), expired

    def __init__(self, *, interval_ms: int = int(HEARTBEAT_INTERVAL * 1000), parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lease-strip")
        #: Asked before a takeover is sent: (execution ID, plan name, mode, previous holder) -> go on.
        #: Replaceable for tests.
        self.confirm: Callable[[str, str, str, str], bool] = self._ask
        self.line = QLabel()
        self.line.setObjectName("lease-line")
        self.line.setTextFormat(Qt.TextFormat.PlainText)
        self.line.setWordWrap(True)
        self.note = QLabel()
        self.note.setObjectName("lease-note")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setStyleSheet(_ERROR_STYLE)
        self.note.setVisible(False)
        self.take_button = QPushButton("Take over…")
        self.take_button.setObjectName("lease-take-over")
        self.take_button.setEnabled(False)
        self.take_button.clicked.connect(self.take_over)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(self.take_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self._tasks: LeaseTasks | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, interval_ms))
        self._timer.timeout.connect(self.read_now)
        self._execution_id = ""
        self._plan_name = ""
        self._mode = ""
        self._watch = LeaseWatch()
        self._reading: LeaseReading | None = None
        self._shown = LeaseLine("", False)
        self._asking = False  # a read in flight: the next tick waits for it
        self._taking = False  # a takeover sent: no second one until it is refused or this desktop holds it
        self.setVisible(False)

    def connect_tasks(self, tasks: LeaseTasks) -> None:
        self._tasks = tasks

    # -- what the pane asks

    def watch(self, execution_id: str, plan_name: str, mode: str) -> None:
        """Show and watch the lease of ``execution_id`` (an unfinished run); a new one starts a new watch."""
        if execution_id != self._execution_id:
            self._execution_id, self._plan_name, self._mode = execution_id, plan_name, mode
            self._watch = LeaseWatch()
            self._reading = None
            self._taking = False
            self.note.setVisible(False)
            self._render()
        if self.isVisible():  # else its first showing starts the reads
            self.read_now()
            self._timer.start()

    def stop_watching(self) -> None:
        """Nothing to watch (no selection, a finished run): hide, read nothing."""
        self._timer.stop()
        self._execution_id = ""
        self._reading = None
        self.setVisible(False)

    @property
    def execution_id(self) -> str:
        return self._execution_id

    @property
    def watching(self) -> bool:
        return self._timer.isActive()

    def text(self) -> str:
        return self.line.text()

    def read_now(self) -> None:
        """Ask for one reading (skipped while one is in flight or nobody is watched)."""
        if not self._execution_id or self._tasks is None or self._asking:
            return
        execution_id = self._execution_id
        self._asking = True

        def read(look: LeaseLook) -> LeaseReading:
            return look.read(execution_id)

        self._tasks.run_task(read, self.on_reading, self._on_read_failed, owner=self, name="read_lease")

    # -- answers

    def on_reading(self, reading: LeaseReading) -> None:
        self._asking = False
        if reading.execution_id != self._execution_id:
            return  # a reading of a run no longer shown
        if not reading.sync:
            self.stop_watching()  # no team sync here: nobody else drives anything
            return
        feed(self._watch, reading)
        self._reading = reading
        if reading.lease is not None and reading.lease.holder == reading.here:
            self._taking = False  # taken: this desktop holds it now
        self._render()
        if reading.finished:
            self._timer.stop()

    def on_refused(self, message: str) -> None:
        """The takeover was refused or failed (``LeaseHeld``: someone else was faster): one line, and a
        new reading at once."""
        self._taking = False
        first = message.strip().splitlines()[0] if message.strip() else "refused"
        self.note.setText(f"Not taken over: {first}")
        self.note.setVisible(True)
        self._render()
        self.read_now()

    def take_over(self) -> bool:
        """Take over… pressed: confirm, then ask the desk; False when nothing was asked."""
        line = self._shown
        if not line.can_take_over or self._taking or not self._execution_id:
            return False
        previous = line.seen.holder if line.seen is not None else ""
        if not self.confirm(self._execution_id, self._plan_name, self._mode, previous):
            return False
        self._taking = True
        self.note.setVisible(False)
        self._render()
        self.take_over_requested.emit(self._execution_id, line.seen, self._watch.expired)
        return True

    # -- helpers

    def _on_read_failed(self, message: str) -> None:
        self._asking = False
        self._reading = LeaseReading(self._execution_id, 0.0, error=message)
        self._render()

    def _render(self) -> None:
        self._shown = lease_line(self._watch, self._reading)
        self.line.setText("Taking the run over…" if self._taking else self._shown.text)
        self.line.setStyleSheet(_ERROR_STYLE if self._reading is not None and self._reading.error else "")
        self.take_button.setEnabled(self._shown.can_take_over and not self._taking)
        self.setVisible(bool(self._execution_id))

    def _ask(self, execution_id: str, plan_name: str, mode: str, previous: str) -> bool:
        dialog = TakeoverDialog(execution_id, plan_name, mode, previous, parent=self)
        return dialog.exec() == TakeoverDialog.DialogCode.Accepted

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()  # the pane hid it: no reads for a strip nobody sees
        super().hideEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._execution_id and not (self._reading is not None and self._reading.finished):
            self._timer.start()
            self.read_now()
