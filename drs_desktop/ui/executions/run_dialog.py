"""The run dialog: which plan, DRILL or RECOVERY, latest snapshot or a point in time, here or in DRS;
preflight; Run.

Nothing launches from here before the operator has seen every preflight check (PASS, WARN, FAIL) and
the calls the run would make, for exactly the choice on screen: changing the plan, the mode or the
recovery point after a check throws the result away. Run is enabled only when that check found no
FAIL, and for a RECOVERY (which launches production instances) only once the operator has typed the
plan's name exactly, case included (``domain.preflight.checks.confirmation_problem``, as ``--confirm``).
The checks run on the execution desk's task thread (they read DRS), and their answer comes back to this
dialog alone: it stays responsive meanwhile, and an answer that arrives after it closed is dropped.

Where the run runs is chosen per run (``RunWherePanel``): here (every feature) or in DRS (a native
recovery plan execution, server-side). One Check answers for both: the local preflight, and the run in
DRS's (``ExecutionDesk.prepare_native``: its own checks and calls, or why the plan cannot run in DRS,
which disables that choice). Switching between them shows the other's result without a new check. An
execution of the native plan that DRS still runs may be attached to instead (``attach_requested``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.engine.controls import RunChoice
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.preflight.checks import CallKind, PreflightReport, confirmation_problem
from drs_desktop.domain.preflight.rules import ISOLATION
from drs_desktop.domain.targets import Target
from drs_desktop.ui.executions.run_brief_panel import RunBriefPanel
from drs_desktop.ui.executions.run_where_panel import IN_DRS, RunWherePanel
from drs_desktop.ui.executions.script_trust_row import ScriptTrustRow
from drs_desktop.ui.status_icons import status_icon
from drs_desktop.ui.target_badge import TargetBadgeWidget
from drs_desktop.workers.audit_tasks import plan_brief_of
from drs_desktop.workers.execution_desk import ExecutionDesk
from drs_desktop.workers.native_offer import NativeOffer

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"
CHECK_COLUMNS = ("Result", "Check", "Wave", "Server", "Message")


def _verdict_of(report: PreflightReport | None) -> str:
    """A place's verdict in a few words, for its radio button."""
    if report is None:
        return ""
    return "ready" if report.ok else f"NOT READY: {len(report.failures)} failure(s)"


class RunDialog(QDialog):
    run_requested = Signal(object, object)  # PreparedExecution (from the desk, handed back), RunChoice
    attach_requested = Signal(object, str)  # RunChoice, the ARN of the DRS execution to follow

    def __init__(
        self,
        plan_names: Sequence[str] = (),
        plan_name: str = "",
        parent: QWidget | None = None,
        *,
        now: datetime,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("run-dialog")
        self.setWindowTitle("Run a recovery plan")
        self.resize(980, 860)
        self._desk: ExecutionDesk | None = None
        self._prepared: object | None = None  # the run here, as checked
        self._report: PreflightReport | None = None
        self._native: NativeOffer | None = None  # the run in DRS, as checked (or why there is none)
        self._local_error = ""  # the local check failed: why
        self._checked: RunChoice | None = None  # the choice the shown result is for
        self._pending: RunChoice | None = None  # the choice being checked
        self._waiting = 0  # answers of the check not in yet (the local one and the one in DRS)

        self.plan_combo = QComboBox()
        self.plan_combo.setEditable(True)
        self.plan_combo.addItems(list(plan_names))
        if plan_name:  # else the first plan stays chosen: an empty name is never what the operator meant
            self.plan_combo.setCurrentText(plan_name)
        self.drill_radio = QRadioButton("DRILL: isolated test instances, cleaned up afterwards")
        self.recovery_radio = QRadioButton("RECOVERY: real production instances")
        self.drill_radio.setChecked(True)
        self._mode_group = QButtonGroup(self)
        self._mode_group.addButton(self.drill_radio)
        self._mode_group.addButton(self.recovery_radio)
        self.latest_radio = QRadioButton("Latest snapshot")
        self.point_radio = QRadioButton("Point in time (UTC):")
        self.latest_radio.setChecked(True)
        self._point_group = QButtonGroup(self)
        self._point_group.addButton(self.latest_radio)
        self._point_group.addButton(self.point_radio)
        self.point_edit = QDateTimeEdit()
        self.point_edit.setTimeZone(QTimeZone.utc())
        self.point_edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss 'UTC'")
        self.point_edit.setCalendarPopup(True)
        self.set_point_in_time(now)  # the app's clock: in demo mode the simulator's, never the desktop's
        self.point_edit.setEnabled(False)
        self.where = RunWherePanel()
        # Issue 18: the test brief the run records (the plan's, editable here) and its test type.
        self.brief_panel = RunBriefPanel()

        self.check_button = QPushButton("Check")
        self.check_button.setObjectName("check")
        self.verdict = QLabel("Check the plan against the account before running it.")
        self.verdict.setWordWrap(True)
        self.checks_table = QTableWidget(0, len(CHECK_COLUMNS))
        self.checks_table.setObjectName("preflight-checks")
        self.checks_table.setHorizontalHeaderLabels(list(CHECK_COLUMNS))
        self.checks_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.checks_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.checks_table.verticalHeader().setVisible(False)
        self.checks_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.calls_view = QPlainTextEdit()
        self.calls_view.setObjectName("planned-calls")
        self.calls_view.setReadOnly(True)
        self.calls_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.confirm_label = QLabel()
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setObjectName("confirm")
        self.confirm_edit.setPlaceholderText("the plan's name, exactly")
        # A drill whose network's isolation check failed may run only with a reason (it goes into the
        # evidence): shown once the check failed, or while a reason is typed.
        self.override_label = QLabel("The drill network is not isolated. Run anyway because:")
        self.override_edit = QLineEdit()
        self.override_edit.setObjectName("isolation-override")
        self.override_edit.setPlaceholderText("the reason (kept in the evidence); then check again")
        # A script preflight found untrusted: "Trust…" (``trust_row.connect_local``), then a new check.
        self.trust_row = ScriptTrustRow()
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("run")
        self.close_button = QPushButton("Close")

        form = QFormLayout()
        form.addRow("Plan:", self.plan_combo)
        modes = QVBoxLayout()
        modes.addWidget(self.drill_radio)
        modes.addWidget(self.recovery_radio)
        form.addRow("Mode:", modes)
        point = QHBoxLayout()
        point.addWidget(self.latest_radio)
        point.addWidget(self.point_radio)
        point.addWidget(self.point_edit)
        point.addStretch(1)
        form.addRow("Recover from:", point)
        form.addRow("Run:", self.where)
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.verdict, 1)
        results = QSplitter(Qt.Orientation.Vertical)
        results.addWidget(self.checks_table)
        calls = QWidget()
        calls_layout = QVBoxLayout(calls)
        calls_layout.setContentsMargins(0, 0, 0, 0)
        calls_layout.addWidget(QLabel("Calls the run would make:"))
        calls_layout.addWidget(self.calls_view)
        results.addWidget(calls)
        confirm_row = QHBoxLayout()
        confirm_row.addWidget(self.confirm_label)
        confirm_row.addWidget(self.confirm_edit, 1)
        override_row = QHBoxLayout()
        override_row.addWidget(self.override_label)
        override_row.addWidget(self.override_edit, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.brief_panel)
        layout.addLayout(check_row)
        layout.addWidget(results, 1)
        layout.addWidget(self.trust_row)
        layout.addLayout(override_row)
        layout.addLayout(confirm_row)
        layout.addLayout(buttons)

        self.check_button.clicked.connect(lambda: self.check())
        self.run_button.clicked.connect(lambda: self.run())
        self.close_button.clicked.connect(lambda: self.reject())
        self.plan_combo.currentTextChanged.connect(self._choice_changed)
        self.drill_radio.toggled.connect(self._choice_changed)
        self.point_radio.toggled.connect(self._choice_changed)
        self.point_edit.dateTimeChanged.connect(self._choice_changed)
        self.confirm_edit.textChanged.connect(self._update_buttons)
        self.override_edit.textChanged.connect(self._choice_changed)
        self.where.changed.connect(self._where_changed)
        self.where.attach_requested.connect(self.attach)
        self.trust_row.trusted.connect(lambda _trusted: self.check())
        self.plan_combo.currentTextChanged.connect(self.brief_panel.set_plan)
        self.brief_panel.changed.connect(self._update_buttons)
        self._choice_changed()
        self.brief_panel.set_plan(self.plan_combo.currentText())

    # ---------------------------------------------------------------------------------- wiring

    def connect_desk(self, desk: ExecutionDesk) -> None:
        """Checks go to ``desk``; Run is ``run_requested`` (the live progress view starts the run)."""
        self._desk = desk

    def set_plan_names(self, names: Sequence[str]) -> None:
        """The saved plans changed while the dialog is open: offer the new list, keep what is typed.

        The text stays what it was (so a checked result stays valid); only the choices follow.
        """
        typed = self.plan_combo.currentText()
        if [self.plan_combo.itemText(i) for i in range(self.plan_combo.count())] == list(names):
            return
        self.plan_combo.blockSignals(True)
        self.plan_combo.clear()
        self.plan_combo.addItems(list(names))
        self.plan_combo.setCurrentText(typed)
        self.plan_combo.blockSignals(False)

    # ---------------------------------------------------------------------------------- the choice

    def choice(self) -> RunChoice:
        mode = Mode.RECOVERY if self.recovery_radio.isChecked() else Mode.DRILL
        point = self.point_in_time() if self.point_radio.isChecked() else None
        override = self.override_edit.text().strip() if mode is Mode.DRILL else ""
        return RunChoice(
            plan_name=self.plan_combo.currentText().strip(),
            mode=mode,
            point_in_time=point,
            isolation_override=override,
        )

    def point_in_time(self) -> datetime:
        return datetime.fromtimestamp(self.point_edit.dateTime().toSecsSinceEpoch(), UTC)

    def set_point_in_time(self, moment: datetime) -> None:
        self.point_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(moment.timestamp()), QTimeZone.utc()))

    def report(self) -> PreflightReport | None:
        """The preflight of the place chosen (here, or in DRS), for the choice checked: None until both
        places have answered (Run stays disabled until then, so a test or a caller waiting on the report
        waits on the check being over)."""
        if self._pending is not None:
            return None
        if self.where.where() == IN_DRS:
            return self._native.report if self._native is not None else None
        return self._report

    def native_offer(self) -> NativeOffer | None:
        return self._native

    def _prepared_here_or_in_drs(self) -> object | None:
        if self.where.where() == IN_DRS:
            return self._native.prepared if self._native is not None and self._native.available else None
        return self._prepared

    def confirmation_problem(self) -> str | None:
        """Why Run stays disabled for lack of a confirmation (None: none needed, or it matches)."""
        report = self.report()
        name = report.plan_name if report is not None else self.choice().plan_name
        return confirmation_problem(self.choice().mode, name, self.confirm_edit.text() or None)

    def can_run(self) -> bool:
        report = self.report()
        prepared = self._prepared_here_or_in_drs()
        if report is None or prepared is None or not report.ok or self._checked != self.choice():
            return False
        return self.confirmation_problem() is None and self.brief_panel.problem() is None

    # ---------------------------------------------------------------------------------- actions

    def check(self) -> None:
        choice = self.choice()
        if not choice.plan_name:
            self._say("Choose a plan first.", error=True)
            return
        self._clear_result()
        self._pending = choice
        self.check_button.setEnabled(False)
        self._say(
            f"Checking {choice.plan_name!r} ({choice.mode.value}) against the account, here and in DRS…"
        )
        if self._desk is not None:
            self._waiting = 2
            self._desk.prepare(choice, self.show_preflight, self.check_failed, owner=self)
            self._desk.prepare_native(choice, self.show_native, self.native_failed, owner=self)

    def run(self) -> None:
        if not self.can_run():
            return
        assert self._checked is not None  # can_run holds
        chosen = dataclasses.replace(self._checked, brief=self.brief_panel.brief())
        self.run_requested.emit(self._prepared_here_or_in_drs(), chosen)
        self.accept()

    def attach(self, execution_arn: str) -> None:
        """Follow an execution of the native plan DRS still runs, instead of starting one (nothing is
        launched: its mode is DRS's). Only an ARN the check listed, for the choice checked."""
        offer = self._native
        if offer is None or self._checked != self.choice():
            return
        if execution_arn not in {run.arn for run in offer.active}:
            return
        self.attach_requested.emit(self._checked, execution_arn)
        self.accept()

    # ---------------------------------------------------------------------------------- answers

    def show_preflight(self, prepared: object, report: PreflightReport) -> None:
        """The local check's answer."""
        if self._answer_kept():
            self._prepared, self._report = prepared, report
            read = plan_brief_of(prepared)
            if read is not None:  # the plan as the check read it: its brief, unless edited already
                self.brief_panel.show_plan_brief(*read)
        self._settle()

    def check_failed(self, message: str) -> None:
        """The local check could not run (no such plan, DRS unreachable)."""
        if self._answer_kept():
            self._local_error = message
        self._settle()

    def show_native(self, offer: NativeOffer) -> None:
        """The run in DRS's answer: its preflight, or why the plan cannot run in DRS."""
        if self._answer_kept():
            self._native = offer
        self._settle()

    def native_failed(self, message: str) -> None:
        if self._answer_kept():
            self._native = NativeOffer(self.choice().plan_name, refusal=f"the check failed: {message}")
        self._settle()

    def _answer_kept(self) -> bool:
        """An answer of the check is in: whether to keep it (the choice is still the one being checked)."""
        if self._pending is None:
            return False
        self._waiting -= 1
        return self._pending == self.choice()

    def _settle(self) -> None:
        """Once both answers are in, the result (or "the choice changed") shows."""
        if self._pending is None or self._waiting > 0:
            return
        pending, self._pending = self._pending, None
        self.check_button.setEnabled(True)
        if pending != self.choice():
            self._prepared = self._report = self._native = None
            self._local_error = ""
            self._say("The choice changed during the check: check again.", error=True)
            return
        self._checked = pending
        native = self._native
        if native is not None:
            self.where.set_offer(native)
        here = "the check failed" if self._local_error else _verdict_of(self._report)
        drs = "not possible" if native is None or native.refusal else _verdict_of(native.report)
        self.where.set_verdicts(here, drs)
        self._fill_result()

    def _fill_result(self) -> None:
        """The chosen place's checks, calls and verdict (both were checked)."""
        self.checks_table.setRowCount(0)
        self.calls_view.clear()
        in_drs = self.where.where() == IN_DRS
        if self._checked is None:
            return
        if not in_drs and self._local_error:
            self._say(f"The check failed: {self._local_error}", error=True)
            self._update_buttons()
            return
        if in_drs and self._native is not None and self._native.refusal:
            self._say(f"A run in DRS is not possible: {self._native.refusal}", error=True)
            self._update_buttons()
            return
        report = self.report()
        self.brief_panel.set_test_type(self._prepared_here_or_in_drs(), self._checked.mode)
        if report is None:
            return
        self._fill_checks(report)
        self.trust_row.set_scripts(() if in_drs else report.trustable_scripts)
        self._fill_calls(report)
        failures, warnings = len(report.failures), len(report.warnings)
        where = "in DRS" if in_drs else "here"
        if report.ok:
            self._say(
                f"Ready to run {where}: {len(report.checks)} checks, {warnings} warning(s), no failure."
            )
        else:
            attach = (
                " Attach to the execution DRS runs, or wait for it to end."
                if in_drs and self._native and self._native.active
                else ""
            )
            self._say(
                f"NOT READY to run {where}: {failures} failure(s), {warnings} warning(s). Nothing can be "
                f"launched.{attach}",
                error=True,
            )
        self._update_buttons()

    def verdict_text(self) -> str:
        return self.verdict.text()

    # ---------------------------------------------------------------------------------- helpers

    def _fill_checks(self, report: PreflightReport) -> None:
        table = self.checks_table
        table.setRowCount(len(report.checks))
        for row, check in enumerate(report.checks):
            result = QTableWidgetItem(status_icon(check.status.value), check.status.value)
            cells = (result, QTableWidgetItem(check.name), QTableWidgetItem(check.wave or ""))
            for column, item in enumerate(
                (*cells, QTableWidgetItem(check.server_id or ""), QTableWidgetItem(check.message))
            ):
                if column == 4:
                    item.setToolTip(check.message)
                table.setItem(row, column, item)
        table.resizeColumnsToContents()

    def _fill_calls(self, report: PreflightReport) -> None:
        lines: list[str] = []
        number = 0
        for call in report.planned_calls:
            if call.kind is CallKind.WAVE:
                lines.append(call.description)
            elif call.kind is CallKind.START_RECOVERY:
                number += 1
                lines.append(f"    {number}. {call.description}")
                lines.append(f"       servers: {', '.join(call.server_ids)}")
            else:
                lines.append(("    " if call.wave is not None else "") + call.description)
        if not lines:
            lines.append("(no calls: the checks say why)")
        self.calls_view.setPlainText("\n".join(lines))

    def set_targets(self, targets: Sequence[Target]) -> TargetBadgeWidget:
        """Where the run will act (DEMO, or account/Region/profile), as badges at the top of the dialog."""
        badges = self.findChild(TargetBadgeWidget, "run-targets")
        if badges is None:
            badges = TargetBadgeWidget()
            badges.setObjectName("run-targets")
            row = QHBoxLayout()
            row.addWidget(QLabel("Target:"))
            row.addWidget(badges)
            row.addStretch(1)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertLayout(0, row)
        badges.set_targets(targets)
        return badges

    def _clear_result(self) -> None:
        self._prepared = self._report = self._checked = self._native = None
        self._local_error = ""
        self.checks_table.setRowCount(0)
        self.calls_view.clear()
        self.where.clear()
        self.trust_row.set_scripts(())
        self.brief_panel.set_test_type(None, None)

    def _where_changed(self) -> None:
        """Here or in DRS: the other place's result, already checked, is shown (no new check)."""
        self._choice_changed()
        if self._checked is not None and self._checked == self.choice():
            self._fill_result()

    def _choice_changed(self, *_args: object) -> None:
        choice = self.choice()
        self.point_edit.setEnabled(self.point_radio.isChecked())
        recovery = choice.mode is Mode.RECOVERY
        self.confirm_label.setVisible(recovery)
        self.confirm_edit.setVisible(recovery)
        self.confirm_label.setText(f"Type the plan's name to confirm a RECOVERY: <b>{choice.plan_name}</b>")
        in_drs = " in DRS" if self.where.where() == IN_DRS else ""
        self.run_button.setText(f"Run RECOVERY{in_drs}" if recovery else f"Run drill{in_drs}")
        if self._checked is not None and self._checked != choice:
            self._clear_result()
            self._say("The choice changed: check again.")
        self._update_buttons()

    def _update_buttons(self, *_args: object) -> None:
        report = self.report()
        isolation_failed = report is not None and any(c.name == ISOLATION for c in report.failures)
        wanted = self.choice().mode is Mode.DRILL and (isolation_failed or bool(self.override_edit.text()))
        self.override_label.setVisible(wanted)
        self.override_edit.setVisible(wanted)
        self.run_button.setEnabled(self.can_run())
        problem = self.confirmation_problem() if report is not None and report.ok else None
        self.run_button.setToolTip(problem or self.brief_panel.problem() or "")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.verdict.setStyleSheet(_ERROR_STYLE if error else "")
        self.verdict.setText(text)
