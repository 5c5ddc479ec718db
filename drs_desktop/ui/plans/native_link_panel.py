"""The Plans pane's native DRS link: one true line for the selected plan, its age, and the dialogs.

The line says what DRS has of the plan, as last read (``NativeDesk.status`` on the ``aws`` task thread,
never the GUI thread): not published; published revision N to a native plan at a time; drift (changed
in DRS since); unpublished edits since. The stamp under it says when DRS was read and where, since a
reading grows stale as others edit DRS. The buttons open the publish, import and drift dialogs, which
run their own work on the same thread, and "Unlink" forgets the link (confirmed; DRS is left alone).

When a reading fails, nothing old passes for new: the line says "as DRS was read <when>" before what
it shows, the stamp says the failure and the age of the last good reading (``reading_failed`` lets the
pane's DRS column say the same), and before any good reading the line says the failure instead of "not
read yet" (one message, never both). A publish that did not finish is said in words, not as drift.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

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
    if status.incomplete_revision is not None:
        return (
            f"The publish of revision {status.incomplete_revision} to {name} in {status.target} did not "
            "finish: DRS holds part of it. Publish again to finish it."
        )
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
    if status.incomplete_revision is not None:
        return "incomplete"
    if status.drift:
        return "drift"
    return f"rev {status.linked_revision}" + (", edited" if status.unpublished else "")


class NativeLinkPanel(QWidget):
    """The selected plan's link line, the reading's age, and Publish / Import / Drift."""

    reading_changed = Signal(object)  # StatusReading, each time DRS is read
    reading_failed = Signal(str)  # the failure of a reading (what is shown is the last good one, if any)
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
        self._failure = ""  # why the last reading failed ("" when it did not)
        #: Asked before unlinking, with the plan's name; True goes on. Replaceable in tests.
        self.confirm_unlink: Callable[[str], bool] = self._ask_unlink
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
        self.unlink_button = QPushButton("Unlink")
        self.unlink_button.setToolTip("Forget this plan's link to its native DRS plan; DRS is left alone.")
        self.unlink_button.clicked.connect(self.unlink)
        self.publish_button.clicked.connect(self.open_publish)
        self.import_button.clicked.connect(self.open_import)
        self.drift_button.clicked.connect(self.open_drift)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.line)
        layout.addWidget(self.stamp)
        # Two rows: one row of three would widen the plan list's column and squeeze the editor at 1366x768.
        for buttons in ((self.publish_button, self.drift_button), (self.import_button, self.unlink_button)):
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
        self._failure = ""
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
        self._failure = (message.splitlines()[0] if message else "") or "no reason given"
        self._update()
        self.reading_failed.emit(self._failure)

    def failure(self) -> str:
        return self._failure

    def column_text(self, name: str) -> tuple[str, str]:
        """The plan list's DRS column for ``name`` and its tooltip; with the reading's age when the last
        reading failed, so an old "rev 3" never passes for a fresh one."""
        status = self.status_of(name)
        text, tip = short_text(status), link_line(status)
        if self._failure and self._reading is not None and status is not None and status.plan_arn:
            age = moment_text(self._reading.read_at, self.clock())
            text = f"{text} (read {age})"
            tip = f"As DRS was read {age} (reading it again failed: {self._failure}): {tip}"
        return text, tip

    def unlink(self) -> None:
        """Forget the selected plan's link, once confirmed (on the ``aws`` thread; DRS is not called)."""
        name = self._plan
        status = self.status_of(name) if name else None
        if self._tasks is None or status is None or not status.plan_arn:
            return
        if not self.confirm_unlink(name):
            return
        self._ask("native_unlink", lambda s: native_desk(s).unlink(name), self._plan_saved)

    def _ask_unlink(self, name: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Unlink",
            f"Forget the link between {name!r} and its native DRS plan? The native plan stays in DRS; "
            "publishing the plan again creates a new one.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _stamp_text(self, tail: str = "") -> str:
        reading = self._reading
        if reading is None:
            return ""
        return f"DRS {reading.target} read {moment_text(reading.read_at, self.clock())}{tail}"

    def _update(self) -> None:
        status = self.status_of(self._plan) if self._plan else None
        reading, failure = self._reading, self._failure
        if not self._plan:
            self.line.setText("Select a saved plan to see what DRS has of it.")
        elif reading is None:
            self.line.setText(f"DRS could not be read: {failure}" if failure else "DRS: not read yet.")
        elif failure:
            self.line.setText(
                f"As DRS was read {moment_text(reading.read_at, self.clock())}: {link_line(status)}"
            )
        else:
            self.line.setText(link_line(status))
        self.line.setStyleSheet(_DRIFT_STYLE if status is not None and status.drift else "")
        if failure:
            self.stamp.setStyleSheet(_ERROR_STYLE)
            # Before any good reading the line says the failure: the stamp does not say it twice.
            self.stamp.setText(self._stamp_text(f"; reading it again failed: {failure}") if reading else "")
        elif reading is not None and not self._reading_now:
            self.stamp.setStyleSheet("color: #616161")
            self.stamp.setText(self._stamp_text())
        self.publish_button.setEnabled(bool(self._plan))
        self.drift_button.setEnabled(
            status is not None and (bool(status.drift) or status.incomplete_revision is not None)
        )
        self.unlink_button.setEnabled(status is not None and bool(status.plan_arn))
