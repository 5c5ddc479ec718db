"""The live view of an execution: waves and servers, the controls, the timeline and the event log.

It only shows what the execution desk sends (``ProgressSnapshot``s, built on each execution's loop thread
and applied here at most a few times a second, the latest of each execution) and sends back what the
operator asks (``ControlRequest``s): the GUI thread never waits on DRS or the database (DESIGN §3). Each
control button is enabled exactly when the snapshot's ``AvailableControls`` (the domain's
``control_error``) says the runner would accept it. An approval gate raises a non-modal prompt and a tray
notification, once per gate, for any execution the desk drives; the rest of the view follows one
execution (the one started or picked up last, or the one chosen with ``follow``).

A run in DRS (``snapshot.native``) shows the native execution and its steps above the tree
(``NativeRunPanel``); Pause, Resume and Approve are not offered for it (DRS's executions have none), and
Retry retries a whole wave (DRS's step).

The same widget shows a finished execution from history read-only: no control buttons, the same tree,
timeline and log, and the report export.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QItemSelection, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.engine.commands import AwaitApproval
from drs_desktop.domain.engine.controls import ControlAction, ControlRequest, RunChoice
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.targets import Target
from drs_desktop.domain.views.attention import attention
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.ui.executions.approval_prompt_dialog import ApprovalPromptDialog, ApprovalPrompts
from drs_desktop.ui.executions.control_targets import (
    Pending,
    applied_text,
    shown_controls,
    target_approval,
    target_wave,
)
from drs_desktop.ui.executions.controls_bar import ControlsBar
from drs_desktop.ui.executions.end_state_panel import EndStatePanel
from drs_desktop.ui.executions.failure_banner import FailureBanner
from drs_desktop.ui.executions.live_finding import LiveFindingButton
from drs_desktop.ui.executions.live_log import LiveLog
from drs_desktop.ui.executions.native_run_panel import NativeRunPanel
from drs_desktop.ui.executions.progress_header import header_html
from drs_desktop.ui.executions.progress_model import ProgressTreeModel
from drs_desktop.ui.executions.progress_tree import fit_bars, progress_tree
from drs_desktop.ui.executions.report_export import ask_report_target, report_format
from drs_desktop.ui.executions.report_pdf import write_pdf_report
from drs_desktop.ui.executions.rto_countdown import RtoCountdown
from drs_desktop.ui.executions.step_decision import STEP_ACTIONS, ask_comment, ask_yes_no, step_request
from drs_desktop.ui.executions.timeline_widget import TimelineWidget
from drs_desktop.ui.executions.tray_notifier import TrayNotifier
from drs_desktop.ui.target_badge import TargetBadgeWidget
from drs_desktop.workers.execution_desk import ExecutionDesk

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"


class ProgressWidget(QWidget):
    control_requested = Signal(str, object)  # execution ID, ControlRequest
    unfinished_requested = Signal()  # pick up the executions the last run left unfinished
    snapshot_requested = Signal(str)  # execution ID

    def __init__(self, parent: QWidget | None = None, *, read_only: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("progress")
        #: Asked before a cancel; ``(title, question) -> go on``. Replaceable for tests and embedding.
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask_yes_no(self, title, text)
        #: Asked before a held step is marked done: ``(title, prompt) -> comment`` (None: cancelled).
        self.ask_comment: Callable[[str, str], str | None] = lambda t, q: ask_comment(self, t, q)
        self._read_only = read_only
        self._desk: ExecutionDesk | None = None
        self._following: str | None = None
        self._snapshot: ProgressSnapshot | None = None
        self._running: set[str] = set()
        self._approvals = ApprovalPrompts(self, lambda title, text: self._notify(title, text))
        self._approvals.decided.connect(self._on_prompt_decided)
        #: A control sent and not yet seen applied: (execution, action, the ``actions`` count when sent).
        #: The status line says "… sent" until a snapshot shows its audit entry, then what was applied.
        self._pending: Pending | None = None
        self.notifier = TrayNotifier(self)

        self.header = QLabel("No execution")
        self.header.setObjectName("progress-header")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        # Wrapped: a long header (a busy wave's holder, a cleanup, instance problems) must not widen the
        # window past the screen.
        self.header.setWordWrap(True)
        self.controls_bar = ControlsBar()
        bar = self.controls_bar
        self.pause_button, self.resume_button, self.cancel_button = (
            bar.pause_button,
            bar.resume_button,
            bar.cancel_button,
        )
        self.terminate_check, self.retry_button, self.skip_button = (
            bar.terminate_check,
            bar.retry_button,
            bar.skip_button,
        )
        self.approve_button, self.cleanup_button = bar.approve_button, bar.cleanup_button
        self.finding_button = LiveFindingButton(lambda: self._following)  # issue 18: a finding on the run
        bar.add_widget(self.finding_button)
        self.finding_button.said.connect(lambda text, error: self._say(text, error=error))
        self.export_button = QPushButton("Export report…")
        # Lambdas: ``clicked`` passes ``checked``, which must not become an argument of the action.
        self.pause_button.clicked.connect(lambda: self.pause())
        self.resume_button.clicked.connect(lambda: self.resume())
        self.cancel_button.clicked.connect(lambda: self.cancel())
        self.retry_button.clicked.connect(lambda: self.retry())
        self.skip_button.clicked.connect(lambda: self.skip())
        self.approve_button.clicked.connect(lambda: self.approve())
        self.cleanup_button.clicked.connect(lambda: self.cleanup())
        self.export_button.clicked.connect(lambda: self._choose_report())

        self.model = ProgressTreeModel(self)
        self.tree = progress_tree(self.model)
        self.tree.selectionModel().selectionChanged.connect(self._selection_changed)
        # A large run's lines arrive a slice at a time: the banner's row may only now exist to scroll to.
        self.model.filled.connect(self._follow_attention)

        self.timeline = TimelineWidget()
        self.timeline_area = QScrollArea()
        self.timeline_area.setWidgetResizable(True)
        self.timeline_area.setWidget(self.timeline)
        self.log = LiveLog()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.timeline_area, "Timeline")
        self.tabs.addTab(self.log, "Event log")

        self.banner = FailureBanner()
        self.banner.chosen.connect(self._on_banner_choice)
        self.rto_countdown = RtoCountdown()

        self.status = QLabel()
        self.status.setObjectName("progress-status")
        self.status.setWordWrap(True)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        top = QHBoxLayout()
        self._header_row = top  # the header's row: set_targets puts the badges first in it
        top.addWidget(self.header, 1)
        top.addWidget(self.rto_countdown)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.controls_bar)
        self.end_panel = EndStatePanel()  # how a stopped run ends (views.end_states)
        layout.addWidget(self.end_panel)
        self.native_panel = NativeRunPanel()  # a run in DRS: its execution and steps as DRS shows them
        layout.addWidget(self.native_panel)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self.set_read_only(read_only)

    # ---------------------------------------------------------------------------------- wiring

    def connect_desk(self, desk: ExecutionDesk) -> None:
        """Connect the controls to ``desk`` and its news to this view. A read-only view (history) only
        exports reports through it; a live one shows the executions the desk drives."""
        self._desk = desk
        self.finding_button.connect_desk(desk)
        if self._read_only:
            return
        self.control_requested.connect(desk.control)
        self.snapshot_requested.connect(desk.snapshot)
        self.unfinished_requested.connect(desk.pick_up_unfinished)
        desk.started.connect(self._on_started)
        desk.resumed.connect(self._on_resumed)
        desk.progressed.connect(self.show_snapshot)
        desk.finished.connect(self.on_finished)
        desk.refused.connect(self.on_refused)
        desk.delivered.connect(lambda _execution_id, message: self._say(message))
        desk.failed.connect(self.on_failed)

    def start_run(self, prepared: Any, choice: RunChoice) -> None:
        """Start what the run dialog checked (its ``run_requested``); the view follows it once it runs,
        and says why if it could not be created."""
        if self._desk is None or self._read_only:
            return
        self._say("Starting…")
        self._desk.start(
            prepared,
            choice,
            lambda message: self._say(f"Could not start: {message}", error=True),
        )

    def attach_run(self, choice: RunChoice, execution_arn: str) -> None:
        """Follow an execution DRS runs of the plan's native plan (the run dialog's Attach)."""
        if self._desk is None or self._read_only:
            return
        self._say(f"Attaching to {execution_arn}…")
        self._desk.attach(
            choice, execution_arn, lambda message: self._say(f"Could not attach: {message}", error=True)
        )

    # ---------------------------------------------------------------------------------- state

    def set_read_only(self, read_only: bool) -> None:
        """Read-only: history, no control buttons; shows read-only snapshots only (and live ones the
        other way round), so a history view and the live view can share one desk."""
        self._read_only = read_only
        self.controls_bar.setVisible(not read_only)
        self._update_controls()

    def is_running(self) -> bool:
        """Whether any execution the desk drives has not finished (what the close guard asks)."""
        return bool(self._running)

    def following(self) -> str | None:
        return self._following

    def snapshot(self) -> ProgressSnapshot | None:
        return self._snapshot

    def follow(self, execution_id: str) -> None:
        """Show ``execution_id`` from now on (its current snapshot is asked for)."""
        if execution_id == self._following:
            return
        self._following = execution_id
        self._snapshot = None
        self.log.reset()
        self.snapshot_requested.emit(execution_id)

    def pick_up_unfinished(self) -> None:
        """Ask the desk to drive every unfinished execution again (the composition root, at start)."""
        self.unfinished_requested.emit()

    def approval_prompt(self) -> ApprovalPromptDialog | None:
        """The open approval prompt, if any (the newest)."""
        return self._approvals.current()

    # ---------------------------------------------------------------------------------- answers

    def show_snapshot(self, snapshot: ProgressSnapshot) -> None:
        if snapshot.read_only != self._read_only:
            return
        if not snapshot.read_only:
            self._approvals.follow(snapshot)
            if snapshot.finished:
                self._running.discard(snapshot.execution_id)
            else:
                self._running.add(snapshot.execution_id)
        if self._following is None or snapshot.read_only:
            self._following = snapshot.execution_id
        if snapshot.execution_id != self._following:
            return
        shown = self.model.snapshot()
        first = shown is None or shown.execution_id != snapshot.execution_id
        if first:
            self.log.reset()
        self._snapshot = snapshot
        self.model.set_snapshot(snapshot)
        self.timeline.set_snapshot(snapshot)
        self.log.enqueue(line.format() for line in snapshot.log)
        self._update_header(snapshot)
        self._settle_pending(snapshot)
        self.rto_countdown.set_snapshot(snapshot)
        self.end_panel.show_snapshot(snapshot)
        self.native_panel.set_view(snapshot.native)
        self._update_controls()
        self._follow_attention()

    def _follow_attention(self) -> None:
        if self._snapshot is not None:
            snapshot = self._snapshot
            self.banner.follow(attention(snapshot), self.tree, self._notify, snapshot.credential_holds)

    # ---------------------------------------------------------------------------------- bars

    #: The tree's restyles: the bars are pictures painted in a style, palette, font and pixel ratio.
    _RESTYLES = (
        QEvent.Type.PaletteChange,
        QEvent.Type.StyleChange,
        QEvent.Type.FontChange,
        QEvent.Type.DevicePixelRatioChange,
    )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in self._RESTYLES:
            fit_bars(self.tree, self.model, repaint=True)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_bars(self.tree, self.model)  # on its screen now

    def on_finished(self, execution_id: str, outcome: object) -> None:
        self._running.discard(execution_id)
        text = f"Execution {execution_id[:8]} finished: {getattr(outcome, 'value', outcome)}"
        self._say(text)
        self._notify("Execution finished", text)

    def on_refused(self, execution_id: str, reason: str) -> None:
        if self._pending is not None and self._pending[0] == execution_id:
            self._pending = None
        self._say(f"Refused: {reason}", error=True)

    def on_taken_over(self, execution_id: str, plan_name: str) -> None:
        """The run opened here is one this desktop just took over from a silent one (not a run of its
        own picked up again): say so."""
        self._say(
            f"Execution {execution_id[:8]} of {plan_name!r} taken over: this desktop drives it now; DRS's "
            "records are checked before anything is launched."
        )

    def on_report_written(self, path: str) -> None:
        self._say(f"Report written to {path}")

    def on_failed(self, operation: str, message: str) -> None:
        self._say(f"Could not {operation.replace('_', ' ')}: {message}", error=True)

    def status_text(self) -> str:
        return self.status.text()

    # ---------------------------------------------------------------------------------- controls

    def pause(self) -> None:
        self._send(ControlRequest(ControlAction.PAUSE))

    def resume(self) -> None:
        self._send(ControlRequest(ControlAction.RESUME))

    def cancel(self) -> None:
        terminate = self.terminate_check.isEnabled() and self.terminate_check.isChecked()
        tail = " and terminate the drill's recovery instances" if terminate else ""
        question = f"Cancel the execution{tail}? Running DRS jobs finish; nothing new is launched."
        if self.confirm("Cancel execution", question):
            self._send(ControlRequest(ControlAction.CANCEL, terminate_drill_instances=terminate))

    def retry(self) -> None:
        self._send(ControlRequest(ControlAction.RETRY, wave_index=self._target_wave(ControlAction.RETRY)))

    def skip(self) -> None:
        self._send(ControlRequest(ControlAction.SKIP, wave_index=self._target_wave(ControlAction.SKIP)))

    def approve(self, comment: str = "") -> None:
        gate = self._target_approval()
        if gate is not None:
            self._send(ControlRequest(ControlAction.APPROVE, wave_index=gate.wave_index, comment=comment))

    def cleanup(self) -> None:
        self._send(ControlRequest(ControlAction.CLEANUP))

    def export_report(self, path: str | Path, fmt: str = "") -> bool:
        """Ask the desk to write the shown execution's evidence report (format from the suffix)."""
        if self._following is None or self._desk is None:
            return False
        chosen = fmt or report_format(path)
        self._say(f"Writing the {chosen.upper()} report…")
        self._desk.export_report(
            self._following,
            chosen,
            str(path),
            self.on_report_written,
            lambda message: self._say(f"Could not export the report: {message}", error=True),
            owner=self,
            pdf_layout=write_pdf_report,  # laid out on the desk's task thread, never here
        )
        return True

    def selected_wave(self) -> int | None:
        indexes = self.tree.selectionModel().selectedRows()
        return self.model.wave_index_of(indexes[0]) if indexes else None

    # ---------------------------------------------------------------------------------- helpers

    def _send(self, request: ControlRequest) -> None:
        if self._following is None or self._read_only:
            return
        if request.action in (*STEP_ACTIONS, ControlAction.SKIP) and request.wave_index is None:
            return
        self._say(f"{request.action.value.lower().capitalize()} sent…")
        self._pending = (self._following, request.action, self._actions_of(self._following))
        self.control_requested.emit(self._following, request)

    def _settle_pending(self, snapshot: ProgressSnapshot) -> None:
        """Replace "… sent" by what the engine applied, once the journal shows it (its audit entry)."""
        text = applied_text(self._pending, snapshot)
        if text is not None:
            self._pending = None
            self._say(text)

    def _target_wave(self, action: ControlAction) -> int | None:
        controls = shown_controls(self._snapshot, self._read_only)
        return target_wave(self._snapshot, controls, action, self.selected_wave())

    def _target_approval(self) -> AwaitApproval | None:
        return target_approval(shown_controls(self._snapshot, self._read_only), self.selected_wave())

    def _update_controls(self) -> None:
        snapshot = self._snapshot
        self.controls_bar.show_controls(
            shown_controls(snapshot, self._read_only),
            drill=snapshot is not None and snapshot.mode is Mode.DRILL,
            in_drs=snapshot is not None and snapshot.native is not None,
            retry_wave=self._target_wave(ControlAction.RETRY),
            skip_wave=self._target_wave(ControlAction.SKIP),
            approval=self._target_approval(),
        )
        self.export_button.setEnabled(snapshot is not None)
        self.finding_button.refresh()

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_controls()

    def _update_header(self, snapshot: ProgressSnapshot) -> None:
        self.header.setText(header_html(snapshot))
        self.header.setToolTip(f"Execution {snapshot.execution_id}")

    def _on_banner_choice(self, action: ControlAction) -> None:
        """A banner button: the toolbar's own control, aimed at the banner's wave."""
        shown = self.banner.attention()
        if action in STEP_ACTIONS and shown is not None and shown.step is not None:
            wave = self._snapshot.waves[shown.wave_index].name if self._snapshot is not None else ""
            request, why = step_request(action, shown.step, wave, confirm=self.confirm, ask=self.ask_comment)
            if request is not None:
                self._send(request)
            elif why:
                self._say(why, error=True)
        elif action in (ControlAction.RETRY, ControlAction.SKIP) and shown is not None:
            self._send(ControlRequest(action, wave_index=shown.wave_index))
        elif action is ControlAction.RENEW and shown is not None:
            self._send(ControlRequest(action, target=shown.target))
        else:
            {ControlAction.CANCEL: self.cancel, ControlAction.RESUME: self.resume}.get(action, self.approve)()

    def _on_prompt_decided(self, execution_id: str, gate: AwaitApproval, granted: bool, comment: str) -> None:
        action = ControlAction.APPROVE if granted else ControlAction.REJECT
        self._say(f"{'Approval' if granted else 'Rejection'} sent…")
        self._pending = (execution_id, action, self._actions_of(execution_id))
        self.control_requested.emit(
            execution_id, ControlRequest(action, wave_index=gate.wave_index, comment=comment)
        )

    def _actions_of(self, execution_id: str) -> int:
        """The audit entries the shown snapshot of ``execution_id`` counts (0 when another is shown)."""
        shown = self._snapshot
        return shown.actions if shown is not None and shown.execution_id == execution_id else 0

    def _notify(self, title: str, text: str) -> None:
        self.notifier.notify(title, text, self.window())

    @property
    def notifications(self) -> list[tuple[str, str]]:
        """Every notification given (tray or not), oldest first."""
        return self.notifier.messages

    def log_lines(self) -> list[str]:
        """What the event log shows (appended lines still queued included)."""
        return self.log.lines()

    def _on_started(self, record: ExecutionRecord) -> None:
        self._running.add(record.execution_id)
        self.follow(record.execution_id)
        self._say(f"{record.mode} of {record.plan_name!r} started (execution {record.execution_id[:8]}).")

    def _on_resumed(self, record: ExecutionRecord) -> None:
        if record.finished_at is None:
            self._running.add(record.execution_id)
        if self._following is None or self._following not in self._running:
            self.follow(record.execution_id)
        self._say(f"Execution {record.execution_id[:8]} of {record.plan_name!r} picked up again.")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
        self.status.setText(text)

    def set_targets(self, targets: Sequence[Target]) -> TargetBadgeWidget:
        """Where the shown run acts (DEMO, or account/Region/profile), as badges before the header."""
        badges = self.findChild(TargetBadgeWidget, "progress-targets")
        if badges is None:
            badges = TargetBadgeWidget()
            badges.setObjectName("progress-targets")
            self._header_row.insertWidget(0, badges)
        badges.set_targets(targets)
        return badges

    def _choose_report(self) -> None:
        if self._snapshot is None:
            return
        target = ask_report_target(self, f"{self._snapshot.plan_name}-{self._snapshot.execution_id[:8]}")
        if target is not None:
            self.export_report(*target)
