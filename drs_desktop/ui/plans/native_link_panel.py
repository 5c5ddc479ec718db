"""The Plans pane's native DRS link: one true line for the selected plan, its age, and the dialogs.

The line says what DRS has of the plan, as last read (``NativeDesk.status`` on the ``aws`` task thread,
never the GUI thread): not published; published revision N to a native plan at a time; drift (changed
in DRS since); unpublished edits since. The stamp under it says when DRS was read and where, since a
reading grows stale as others edit DRS. The buttons open the publish, import and drift dialogs, which
run their own work on the same thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from drs_desktop.ui.change_hub import moment_text
from drs_desktop.ui.plans.native_drift_dialog import NativeDriftDialog
from drs_desktop.ui.plans.native_import_dialog import NativeImportDialog
from drs_desktop.ui.plans.native_publish_dialog import NativePublishDialog
from drs_desktop.workers.pane_tasks import AwsServices, AwsTasks, PlanStatus, StatusReading, native_desk
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"
_DRIFT_STYLE = "color: #ef6c00; font-weight: bold"


def link_line(status: PlanStatus | None) -> str:
    """The plan's native link in one sentence (``None``: not read yet)."""
    if status is None:
        return "DRS: not read yet."
    if not status.plan_arn:
        return "Not published to DRS."
    name = repr(status.native_name) if status.native_name else "its native plan"
    at = f" at {moment_text(status.published_at)}" if status.published_at is not None else ""
    where = f"revision {status.linked_revision} to {name} in {status.target}{at}"
    edits = f"unpublished edits since (latest is revision {status.latest_revision})"
    if status.drift:
        gone = "no longer exists" in status.note
        head = f"Drift: {'deleted' if gone else 'changed'} in DRS since the publish of {where}"
        return head + (f"; {edits} too." if status.unpublished else ".")
    text = f"Published {where}"
    if status.unpublished:
        text += f"; {edits}"
    if status.note:
        text += f" ({status.note})"
    return text + "."


def short_text(status: PlanStatus | None) -> str:
    """The plan list's DRS column: a word or two; the line is its tooltip."""
    if status is None or not status.plan_arn:
        return "—"
    if status.drift:
        return "drift"
    return f"rev {status.linked_revision}" + (", edited" if status.unpublished else "")


class NativeLinkPanel(QWidget):
    """The selected plan's link line, the reading's age, and Publish / Import / Drift."""

    reading_changed = Signal(object)  # StatusReading, each time DRS is read
    plans_changed = Signal()  # a dialog saved or imported a plan (the pane re-reads the list)

    def __init__(self, *, clock: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("native-link-panel")
        self.clock = clock
        self._ask: Requester[AwsServices] = Requester(self, self._failed)
        self._tasks: AwsTasks | None = None
        self._reading: StatusReading | None = None
        self._plan = ""  # the selected stored plan ("" none)
        self._dirty: Callable[[], bool] = lambda: False
        self._reading_now = False
        self.line = QLabel("DRS: not read yet.")
        self.line.setObjectName("native-link-line")
        self.line.setWordWrap(True)
        self.line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stamp = QLabel("")
        self.stamp.setObjectName("native-link-stamp")
        self.stamp.setWordWrap(True)
        self.stamp.setStyleSheet("color: #616161")
        self.publish_button = QPushButton("Publish to DRS…")
        self.import_button = QPushButton("Import from DRS…")
        self.drift_button = QPushButton("Drift…")
        self.publish_button.clicked.connect(self.open_publish)
        self.import_button.clicked.connect(self.open_import)
        self.drift_button.clicked.connect(self.open_drift)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.line)
        layout.addWidget(self.stamp)
        # Two rows: one row of three would widen the plan list's column and squeeze the editor at 1366x768.
        for buttons in ((self.publish_button, self.drift_button), (self.import_button,)):
            row = QHBoxLayout()
            for button in buttons:
                row.addWidget(button)
            layout.addLayout(row)
        self._update()

    def connect_tasks(self, tasks: AwsTasks) -> None:
        self._tasks = tasks
        self._ask.connect(tasks)

    def set_dirty_check(self, dirty: Callable[[], bool]) -> None:
        """How the panel asks whether the editor has unsaved edits (the publish dialog says so)."""
        self._dirty = dirty

    # ------------------------------------------------------------------------------ state

    def set_plan(self, name: str) -> None:
        self._plan = name
        self._update()

    def status_of(self, name: str) -> PlanStatus | None:
        if self._reading is None:
            return None
        wanted = name.casefold()
        return next((s for s in self._reading.statuses if s.plan_name.casefold() == wanted), None)

    def reading(self) -> StatusReading | None:
        return self._reading

    def is_reading(self) -> bool:
        return self._reading_now

    def refresh(self) -> None:
        """Read every plan's link from DRS (on the ``aws`` thread)."""
        if self._tasks is None:
            return
        self._reading_now = True
        self.stamp.setText("Reading DRS…" if self._reading is None else self._stamp_text(" (reading again…)"))
        self._ask("native_status", lambda s: native_desk(s).status(s.mfa), self.show_reading)

    def show_reading(self, reading: StatusReading) -> None:
        self._reading_now = False
        self._reading = reading
        self.stamp.setStyleSheet("color: #616161")
        self._update()
        self.reading_changed.emit(reading)

    # ------------------------------------------------------------------------------ dialogs

    def open_publish(self) -> NativePublishDialog | None:
        if not self._plan or self._tasks is None:
            return None
        target = self._reading.target if self._reading is not None else ""
        dialog = NativePublishDialog(
            self._plan, self._tasks, unsaved=self._dirty(), target=target, parent=self
        )
        dialog.plan_saved.connect(self._plan_saved)
        dialog.published.connect(lambda _result: self.refresh())
        dialog.show()
        return dialog

    def open_import(self) -> NativeImportDialog | None:
        if self._tasks is None:
            return None
        dialog = NativeImportDialog(self._tasks, parent=self)
        dialog.imported.connect(self._plan_saved)
        dialog.show()
        return dialog

    def open_drift(self) -> NativeDriftDialog | None:
        status = self.status_of(self._plan)
        if status is None or self._tasks is None or not status.plan_arn:
            return None
        dialog = NativeDriftDialog(status, self._tasks, parent=self)
        dialog.resolved.connect(self._plan_saved)
        dialog.show()
        return dialog

    # ------------------------------------------------------------------------------ helpers

    def _plan_saved(self, _value: object = None) -> None:
        self.plans_changed.emit()
        self.refresh()

    def _failed(self, operation: str, message: str) -> None:
        self._reading_now = False
        self.stamp.setStyleSheet(_ERROR_STYLE)
        self.stamp.setText(f"Could not read DRS: {message.splitlines()[0] if message else ''}")

    def _stamp_text(self, tail: str = "") -> str:
        reading = self._reading
        if reading is None:
            return ""
        return f"DRS {reading.target} read {moment_text(reading.read_at, self.clock())}{tail}"

    def _update(self) -> None:
        status = self.status_of(self._plan) if self._plan else None
        if not self._plan:
            self.line.setText("Select a saved plan to see what DRS has of it.")
        else:
            self.line.setText(link_line(status) if self._reading is not None else "DRS: not read yet.")
        self.line.setStyleSheet(_DRIFT_STYLE if status is not None and status.drift else "")
        if self._reading is not None and not self._reading_now:
            self.stamp.setText(self._stamp_text())
        self.publish_button.setEnabled(bool(self._plan))
        self.drift_button.setEnabled(status is not None and bool(status.drift))
