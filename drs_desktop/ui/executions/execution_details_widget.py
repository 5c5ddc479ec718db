"""One past execution, read-only: what ran, who approved what, every try of every server, and the
cleanup proof. Built from the ``ExecutionView`` the History tab loads (the same value the evidence
reports are made from), so the panel and an exported report never disagree.

The live progress view (``ProgressWidget`` in read-only mode) may later replace or sit beside this
panel: the executions pane's ``set_detail_widget`` and ``view_loaded`` signal are that hook.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QLabel,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.engine.state import ServerStatus
from drs_desktop.domain.views.history import runs_in_drs
from drs_desktop.domain.views.progress_native import native_view
from drs_desktop.domain.views.report import ExecutionView
from drs_desktop.ui.executions.history_format import RTO_MET, RTO_MISSED, clock_text, duration_text, utc_text

logger = logging.getLogger(__name__)

WAVE_COLUMNS = (
    "Wave / server",
    "Hostname",
    "Status",
    "Impact",
    "Try",
    "Job",
    "Queued",
    "Launched",
    "Ready",
    "Recovery instance",
    "Note",
)
APPROVAL_COLUMNS = ("Wave", "Step", "Message", "Requested", "Decided", "Waited", "By", "Decision", "Comment")
ACTION_COLUMNS = ("At (UTC)", "By", "Action", "Detail")
CLEANUP_COLUMNS = (
    "Recovery instance",
    "Server",
    "EC2 instance",
    "Launched by job",
    "Terminated at",
    "Terminate job",
    "Error",
)
_FAILED = QColor(RTO_MISSED)


class ExecutionDetailsWidget(QWidget):
    """The evidence of one execution in a header and four read-only tabs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("execution-details")
        self._view: ExecutionView | None = None
        self.message = QLabel("Select an execution to see its details.")
        self.message.setObjectName("execution-details-message")
        self.message.setWordWrap(True)
        self._fields: dict[str, QLabel] = {}
        header = QFormLayout()
        header.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for key, label in (
            ("plan", "Plan"),
            ("mode", "Mode"),
            ("run_in", "Run"),
            ("status", "Status"),
            ("times", "Started / finished"),
            ("rto", "RTO achieved / target"),
            ("by", "Run by"),
            ("id", "Execution"),
            ("journal", "Journal"),
        ):
            value = QLabel()
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self._fields[key] = value
            header.addRow(f"{label}:", value)
        self.waves = self._tree("execution-waves", WAVE_COLUMNS)
        self.approvals = self._tree("execution-approvals", APPROVAL_COLUMNS)
        self.operator_actions = self._tree("execution-actions", ACTION_COLUMNS)
        self.cleanup = self._tree("execution-cleanup", CLEANUP_COLUMNS)
        self.cleanup_status = QLabel()
        self.cleanup_status.setObjectName("execution-cleanup-status")
        self.cleanup_status.setWordWrap(True)
        cleanup_page = QWidget()
        cleanup_layout = QVBoxLayout(cleanup_page)
        cleanup_layout.setContentsMargins(0, 0, 0, 0)
        cleanup_layout.addWidget(self.cleanup_status)
        cleanup_layout.addWidget(self.cleanup, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.waves, "Waves and servers")
        self.tabs.addTab(self.approvals, "Approvals")
        self.tabs.addTab(self.operator_actions, "Operator actions")
        self.tabs.addTab(cleanup_page, "Cleanup")
        self.body = QWidget()
        body_layout = QVBoxLayout(self.body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addLayout(header)
        body_layout.addWidget(self.tabs, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addWidget(self.body, 1)
        self.body.setVisible(False)

    # ---------------------------------------------------------------------------------- content

    def view(self) -> ExecutionView | None:
        return self._view

    def execution_id(self) -> str:
        return self._view.record.execution_id if self._view is not None else ""

    def show_message(self, text: str) -> None:
        """Replace the details with a line of text (loading, a failure, nothing selected)."""
        self._view = None
        self.message.setText(text)
        self.message.setVisible(True)
        self.body.setVisible(False)

    def set_view(self, view: ExecutionView | None) -> None:
        if view is None:
            self.show_message("Select an execution to see its details.")
            return
        self._view = view
        self.message.setVisible(False)
        self.body.setVisible(True)
        self._fill_header(view)
        self._fill_waves(view)
        self._fill_approvals(view)
        self._fill_actions(view)
        self._fill_cleanup(view)

    def field_text(self, key: str) -> str:
        """The header's text for ``key`` (plan, mode, run_in, status, times, rto, by, id, journal)."""
        return self._fields[key].text()

    # ---------------------------------------------------------------------------------- filling

    def _fill_header(self, view: ExecutionView) -> None:
        record, evidence = view.record, view.evidence
        plan = f"{record.plan_name!r} revision {record.plan_revision}"
        if view.plan.revision is not None and not view.plan.hash_verified:
            plan += f" (warning: {view.plan.problem})"
        elif view.plan.revision is None:
            plan += f" ({view.plan.problem})"
        status = evidence.outcome.value if evidence.outcome is not None else evidence.status.value
        if evidence.point_in_time is not None:
            mode = f"{record.mode}, from the recovery point of {utc_text(evidence.point_in_time)} UTC"
        else:
            mode = record.mode
        finished = utc_text(evidence.finished_at, seconds=True) or "not finished"
        duration = (
            f" ({duration_text(evidence.finished_at - evidence.started_at)})" if evidence.finished_at else ""
        )
        rto = evidence.rto
        achieved = duration_text(rto.achieved) if rto.achieved is not None else "not reached"
        target = duration_text(rto.target) if rto.target is not None else "no target"
        verdict = "" if rto.met is None else ("  met" if rto.met else "  MISSED")
        self._fields["plan"].setText(plan)
        self._fields["mode"].setText(mode)
        self._fields["run_in"].setText(_run_in_text(view))
        self._fields["status"].setText(status)
        self._fields["times"].setText(f"{utc_text(evidence.started_at, seconds=True)} → {finished}{duration}")
        self._fields["rto"].setText(f"{achieved} / {target}{verdict}")
        colour = "" if rto.met is None else f"color: {RTO_MET if rto.met else RTO_MISSED}"
        self._fields["rto"].setStyleSheet(colour)
        identity = record.identity
        self._fields["by"].setText(str(identity.get("arn") or identity.get("account") or "unknown"))
        self._fields["id"].setText(record.execution_id)
        journal = f"{view.journal_events} events, SHA-256 {view.journal_sha256[:16]}…"
        if view.journal_warning:
            journal += " (cut short: entries are missing)"
        self._fields["journal"].setText(journal)

    def _fill_waves(self, view: ExecutionView) -> None:
        self.waves.clear()
        attempts = view.attempts
        for index, wave in enumerate(view.evidence.waves):
            end = wave.completed_at or wave.skipped_at or wave.timed_out_at
            note = "; ".join(wave.warnings)
            texts = ["" for _ in WAVE_COLUMNS]
            texts[0], texts[2], texts[6], texts[8], texts[10] = (
                wave.name,
                wave.phase.value,
                clock_text(wave.started_at),
                clock_text(end),
                note,
            )
            item = QTreeWidgetItem(texts)
            item.setToolTip(0, f"wave {index + 1}: {wave.name}")
            self.waves.addTopLevelItem(item)
            for attempt in (a for a in attempts if a.wave_index == index):
                child = QTreeWidgetItem(
                    [
                        attempt.server_id,
                        attempt.hostname,
                        attempt.status.value,
                        attempt.impact,
                        f"{attempt.attempt}" + ("" if attempt.final else " (earlier)"),
                        attempt.job_id or "",
                        clock_text(attempt.queued_at),
                        clock_text(attempt.launched_at),
                        clock_text(attempt.ready_at),
                        attempt.recovery_instance_id or "",
                        attempt.reason,
                    ]
                )
                if attempt.status is ServerStatus.FAILED:
                    child.setForeground(2, QBrush(_FAILED))
                if attempt.ec2_instance_id:
                    child.setToolTip(9, f"EC2 instance {attempt.ec2_instance_id}")
                item.addChild(child)
        self.waves.expandAll()
        _fit(self.waves)

    def _fill_approvals(self, view: ExecutionView) -> None:
        self.approvals.clear()
        for wave in view.evidence.waves:
            for approval in wave.approvals:
                item = QTreeWidgetItem(
                    [
                        wave.name,
                        f"{approval.phase.value.lower()} {approval.step_index + 1}",
                        approval.message,
                        utc_text(approval.requested_at, seconds=True),
                        utc_text(approval.decided_at, seconds=True),
                        duration_text(approval.decided_at - approval.requested_at),
                        approval.by,
                        "granted" if approval.granted else "rejected",
                        approval.comment,
                    ]
                )
                if not approval.granted:
                    item.setForeground(7, QBrush(_FAILED))
                self.approvals.addTopLevelItem(item)
        _fit(self.approvals)

    def _fill_actions(self, view: ExecutionView) -> None:
        self.operator_actions.clear()
        for entry in view.evidence.audit:
            self.operator_actions.addTopLevelItem(
                QTreeWidgetItem([utc_text(entry.at, seconds=True), entry.by, entry.action, entry.detail])
            )
        _fit(self.operator_actions)

    def _fill_cleanup(self, view: ExecutionView) -> None:
        self.cleanup.clear()
        state = view.state
        for proof in view.evidence.cleanup:
            instance = state.instances.get(proof.recovery_instance_id)
            item = QTreeWidgetItem(
                [
                    proof.recovery_instance_id,
                    proof.server_id,
                    (instance.ec2_instance_id if instance else None) or "",
                    proof.launched_by_job,
                    utc_text(proof.terminated_at, seconds=True) or "still running",
                    proof.terminate_job_id or "",
                    proof.error,
                ]
            )
            if proof.terminated_at is None:
                for column in range(len(CLEANUP_COLUMNS)):
                    item.setForeground(column, QBrush(_FAILED))
            self.cleanup.addTopLevelItem(item)
        _fit(self.cleanup)
        running = view.evidence.drill_instances_running
        if not state.is_drill:
            text = "A recovery's instances are production: the application never terminates them."
        elif running:
            text = f"{len(running)} drill instance{'s' * (len(running) != 1)} still running."
        elif view.evidence.cleanup:
            text = "Every drill instance is terminated; each row names the DRS job that proves it."
        else:
            text = "This drill launched no recovery instance."
        self.cleanup_status.setText(text)
        self.cleanup_status.setStyleSheet(f"color: {RTO_MISSED}" if running else "")

    # ---------------------------------------------------------------------------------- helpers

    @staticmethod
    def _tree(name: str, columns: Sequence[str]) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setObjectName(name)
        tree.setHeaderLabels(list(columns))
        tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        tree.setUniformRowHeights(True)
        tree.setAlternatingRowColors(True)
        return tree


def _fit(tree: QTreeWidget) -> None:
    for column in range(tree.columnCount()):
        tree.resizeColumnToContents(column)


def _run_in_text(view: ExecutionView) -> str:
    """Here, or in DRS with the native execution and DRS's last status."""
    if not runs_in_drs(view.record):
        return "here (this desktop drove each DRS job)"
    native = native_view(view.state)
    if native is None:
        return "run in DRS"
    how = ", attached" if native.attached else ""
    name = f" {native.native_name!r}" if native.native_name else ""
    where = f": execution {native.execution_arn}" if native.execution_arn else ""
    return f"run in DRS (native plan{name}{how}){where}, DRS status {native.status_text}"
