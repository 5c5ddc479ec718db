"""The plan editor's launch settings: per server, each drifted field's current value -> desired value, and
the problems that block or warn; "Accept" a server's drift, "Apply…" the desired state (issue 16).

Everything is read on the ``aws`` task thread (``LaunchDriftService.read_plan``), never on the GUI thread,
and the stamp says when it was read: the console may change a template a minute later. Accepting a
server's drift makes what it has now desired (a server override, saved as a new revision, which the
service re-reads from DRS and EC2 first), then reads the plan again, so the operator sees it as desired.

"Apply…" asks first (how many servers change, and that the apply is journaled and resumable), then runs the
apply engine (``services.launch_apply``, the same as ``drs-desktop launch-settings apply``) on the ``aws``
thread: interrupted applies of this target first, a fresh preview, each server journaled, read back and
verified; then it says how each server ended and reads the plan again.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.views.launch_drift import DriftState, PlanDrift, ServerDrift
from drs_desktop.ui.change_hub import moment_text
from drs_desktop.workers.pane_tasks import (
    AcceptedDrift,
    ApplyOutcome,
    ApplyProgress,
    AwsServices,
    AwsTasks,
    launch_drift,
)
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

SERVER_ROLE = Qt.ItemDataRole.UserRole + 1
_STATE_COLOUR = {DriftState.DRIFTED: "#b35c00", DriftState.BLOCKED: "#c62828"}


def apply_command(plan_name: str) -> str:
    """The command that applies the plan's desired launch settings (the apply engine's CLI)."""
    return f"drs-desktop launch-settings apply {shlex.quote(plan_name)} --yes"


class LaunchSettingsDialog(QDialog):
    """One plan's launch settings against DRS and EC2, with Accept and Apply."""

    plan_saved = Signal(int)  # the revision an accepted drift saved

    def __init__(
        self, plan_name: str, parent: QWidget | None = None, *, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(parent)
        self.setObjectName("launch-settings-dialog")
        self.setWindowTitle(f"Launch settings of {plan_name}")
        self.resize(900, 520)
        self._plan = plan_name
        self._clock = clock
        self._aws: Requester[AwsServices] = Requester(self, self._failed)
        self._drift: PlanDrift | None = None
        self._busy = False
        self._note = ""  # what an accept said, kept through the reading that follows it
        self._tasks: AwsTasks | None = None

        self.stamp = QLabel("Not read yet.")
        self.stamp.setObjectName("launch-stamp")
        self.summary = QLabel()
        self.summary.setObjectName("launch-summary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel()
        self.status.setObjectName("launch-status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        self.tree.setObjectName("launch-tree")
        self.tree.setHeaderLabels(["Server / field", "Now (DRS, EC2)", "Desired", "Where it is set"])
        self.tree.setColumnWidth(0, 260)
        self.tree.setColumnWidth(1, 200)
        self.tree.setColumnWidth(2, 200)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())

        self.read_button = QPushButton("Read now")
        self.read_button.setObjectName("launch-read")
        self.read_button.clicked.connect(self.read)
        self.accept_button = QPushButton("Accept drift of server")
        self.accept_button.setObjectName("launch-accept")
        self.accept_button.setToolTip(
            "Make what this server has now its desired launch settings: a server override in the plan, "
            "saved as a new revision"
        )
        self.accept_button.clicked.connect(self.accept_selected)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("launch-apply")
        self.apply_button.setToolTip("Apply the desired launch settings to DRS and EC2")
        self.apply_button.clicked.connect(self.show_apply)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        buttons = QHBoxLayout()
        for button in (self.read_button, self.accept_button, self.apply_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.stamp)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._update_buttons()

    def connect_tasks(self, aws: AwsTasks) -> None:
        self._aws.connect(aws)
        self._tasks = aws

    # -- reading

    def read(self) -> None:
        """Read the plan's launch settings against DRS and EC2 now (on the ``aws`` thread)."""
        if self._busy:
            return
        self._set_busy(True, "Reading launch configurations and launch templates…")
        name = self._plan
        self._aws("read_launch_settings", lambda s: launch_drift(s).read_plan(name), self._read)

    def drift(self) -> PlanDrift | None:
        return self._drift

    def _read(self, drift: PlanDrift) -> None:
        self._drift = drift
        self._set_busy(False, "")
        self.status.setText(self._note)
        self._note = ""
        self._show(drift)

    def _show(self, drift: PlanDrift) -> None:
        read = moment_text(drift.read_at, self._clock()) if drift.read_at is not None else "?"
        age = max(self._clock() - drift.read_at, timedelta(0)) if drift.read_at is not None else None
        ago = "just now" if age is None or age < timedelta(minutes=1) else f"{format_duration(age)} ago"
        self.stamp.setText(f"Read {read} ({ago}), revision {drift.revision} of the plan")
        if not drift.servers and not drift.unknown:
            self.summary.setText("This plan desires no launch settings (see docs/plan-format.md).")
        else:
            self.summary.setText(drift.summary().capitalize())
        self.tree.clear()
        for server in drift.servers:
            item = self._server_item(server)
            self.tree.addTopLevelItem(item)
            item.setExpanded(server.state is not DriftState.AS_DESIRED)  # once in the tree, or it is lost
        for server_id in drift.unknown:
            item = QTreeWidgetItem([server_id, "not in the inventory", "", ""])
            self.tree.addTopLevelItem(item)
        self._update_buttons()

    def _server_item(self, server: ServerDrift) -> QTreeWidgetItem:
        item = QTreeWidgetItem([f"{server.label} ({server.server_id})", server.column_text(), "", ""])
        item.setData(0, SERVER_ROLE, server.server_id)
        colour = _STATE_COLOUR.get(server.state)
        if colour is not None:
            item.setForeground(1, QBrush(QColor(colour)))
        for change in server.changes:
            child = QTreeWidgetItem([change.field, change.before, change.after, change.source])
            child.setData(0, SERVER_ROLE, server.server_id)
            item.addChild(child)
        for text in server.errors:
            child = QTreeWidgetItem(["error", text, "", ""])
            child.setForeground(1, QBrush(QColor("#c62828")))
            child.setToolTip(1, text)
            item.addChild(child)
        for text in server.warnings:
            child = QTreeWidgetItem(["warning", text, "", ""])
            child.setToolTip(1, text)
            item.addChild(child)
        return item

    # -- accepting and applying

    def selected_server(self) -> ServerDrift | None:
        item = self.tree.currentItem()
        server_id = item.data(0, SERVER_ROLE) if item is not None else None
        if self._drift is None or not server_id:
            return None
        return self._drift.server(str(server_id))

    def accept_selected(self) -> None:
        """Accept the selected server's drift: saved as a new revision on the ``aws`` thread."""
        server, drift = self.selected_server(), self._drift
        if server is None or drift is None or server.state is not DriftState.DRIFTED or self._busy:
            return
        self._set_busy(True, f"Accepting the drift of {server.label}…")
        name, server_id, base = self._plan, server.server_id, drift.revision
        self._aws(
            "accept_launch_drift", lambda s: launch_drift(s).accept(name, server_id, base), self._accepted
        )

    def _accepted(self, accepted: AcceptedDrift) -> None:
        self._set_busy(False, "")
        refused = f" Not accepted: {'; '.join(accepted.refused)}." if accepted.refused else ""
        self._note = (
            f"Saved revision {accepted.revision}: {', '.join(accepted.accepted)} of {accepted.server_id} "
            f"now desired as the server has it.{refused}"
        )
        self.plan_saved.emit(accepted.revision)
        self.read()

    def show_apply(self) -> QMessageBox:
        """Ask before applying: what changes, and that it is journaled (``apply_now`` when confirmed)."""
        drift = self._drift
        drifted = len(drift.drifted) if drift is not None else 0
        blocked = len(drift.blocked) if drift is not None else 0
        untouched = f" {blocked} blocked server(s) are left untouched." if blocked else ""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Apply launch settings",
            f"Apply the desired launch settings of {self._plan!r} to {drifted} drifted server(s)?"
            f"{untouched}\n\n"
            "Each gets a new launch template version (made the default) and its DRS launch configuration "
            "updated, then both are read back and checked. The apply is journaled: if it is cut off, the "
            "next apply (or `drs-desktop launch-settings apply --resume ID`) finishes it; a server left "
            "between two steps is said to be half-changed.\n\n"
            f"From a terminal: {apply_command(self._plan)}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("launch-apply-box")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.accepted.connect(self.apply_now)
        box.open()
        return box

    def apply_now(self) -> None:
        """Apply the plan's desired launch settings (on the ``aws`` thread), then read the plan again."""
        drift = self._drift
        if drift is None or self._busy:
            return
        tasks = self._tasks
        if tasks is None:
            return
        self._set_busy(True, f"Applying the launch settings of {self._plan}…")
        name, base = self._plan, drift.revision

        def apply(services: AwsServices) -> ApplyOutcome:
            return launch_drift(services).apply(name, base, progress=tasks.progress_hook())

        self._aws("apply_launch_settings", apply, self._applied, on_progress=self._applying)

    def _applying(self, step: ApplyProgress) -> None:
        """A server's step recorded by the apply (on the GUI thread): how far it is."""
        what = step.hostname or step.server_id
        self.status.setText(
            f"Applying the launch settings of {self._plan}: {step.ended} of {step.total} server(s) done; "
            f"{what}: {step.step.value.lower().replace('_', ' ')}"
        )

    def _applied(self, outcome: ApplyOutcome) -> None:
        self._set_busy(False, "")
        self._note = outcome.summary()
        self.read()

    # -- internals

    def _failed(self, operation: str, message: str) -> None:
        self._set_busy(False, "")
        what = {"read_launch_settings": "read", "apply_launch_settings": "applied"}.get(operation, "accepted")
        self.status.setText(f"Launch settings could not be {what}: {message}")

    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        if text or not busy:
            self.status.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        server = self.selected_server()
        self.read_button.setEnabled(not self._busy)
        self.accept_button.setEnabled(
            not self._busy and server is not None and server.state is DriftState.DRIFTED
        )
        drifted = self._drift is not None and bool(self._drift.drifted)
        self.apply_button.setEnabled(not self._busy and drifted)
