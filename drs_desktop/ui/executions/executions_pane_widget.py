"""The Executions pane: the history with filters, the evidence of the selected execution, one-click
cleanup of drills that left instances running, and report exports (HTML, PDF, CSV, JSON).

Like the Plans pane it asks with ``run_task`` (DESIGN §3.4): reads (the listing, details, reports) on
the ``local`` task thread, a cleanup (which waits for DRS) on the ``aws`` one, so a cleanup never holds
up the listing. Each answer, a frozen domain value, or the error comes back to this pane alone. Answers
that no longer fit (a listing for a filter changed since, details of a row no longer selected) are
dropped rather than shown. A PDF is laid out on the ``local`` task thread too: the pane hands the task
its layout function (``pdf_layout``, a ui function, since workers may not import QtGui), so the GUI
thread never lays out or writes a PDF.

An unfinished run shows the driver strip above its details (``LeaseStrip``): who drives it, read every
few seconds on the ``lease-watch`` thread, and Take over… once that desktop went silent; its
``take_over_requested`` goes to the execution desk (the composition root wires it).

Hook for the live progress view: ``set_detail_widget(widget, title)`` adds a widget (the read-only
``ProgressWidget``) as a tab of the details area, before the evidence tab, and ``view_loaded`` carries
each loaded ``ExecutionView`` to whoever feeds it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QItemSelection, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.views.history import (
    MODES,
    OUTCOMES,
    CleanupResult,
    ExecutionSummary,
    HistoryFilter,
)
from drs_desktop.domain.views.report import ExecutionView
from drs_desktop.domain.views.report_chart import PdfReport
from drs_desktop.ui.change_hub import updated_text
from drs_desktop.ui.executions.audit_widget import AuditWidget
from drs_desktop.ui.executions.execution_details_widget import ExecutionDetailsWidget
from drs_desktop.ui.executions.executions_model import SORT_ROLE, STARTED, ExecutionsModel
from drs_desktop.ui.executions.lease_strip import LeaseStrip
from drs_desktop.ui.executions.period_report_dialog import PeriodReportDialog
from drs_desktop.ui.executions.report_pdf import write_pdf_report
from drs_desktop.ui.executions.retention_dialog import RetentionDialog
from drs_desktop.ui.executions.sign_off_dialog import SsoDialogFactory
from drs_desktop.workers.pane_tasks import (
    AwsServices,
    AwsTasks,
    LeaseTasks,
    LocalServices,
    LocalTasks,
    SettingsTasks,
)
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"
#: Export menu: label, format, file filter.
EXPORTS = (
    ("HTML…", "html", "HTML (*.html *.htm)"),
    ("PDF…", "pdf", "PDF (*.pdf)"),
    ("CSV…", "csv", "CSV (*.csv)"),
    ("JSON…", "json", "JSON (*.json)"),
)


class ExecutionsPaneWidget(QWidget):
    """History table with filters, details of the selected execution, cleanup and exports."""

    view_loaded = Signal(object)  # ExecutionView of the selected execution (hook for ProgressWidget)
    cleanup_completed = Signal(object)  # CleanupResult, after the list was asked to refresh
    report_saved = Signal(str, str)  # format ("html", "pdf", "csv", "json"), path written
    executions_deleted = Signal(object)  # RetentionOutcome: "Apply retention…" deleted executions

    def __init__(self, *, clock: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("executions-pane")
        self._local: Requester[LocalServices] = Requester(self, self.on_failed)
        self._aws: Requester[AwsServices] = Requester(self, self.on_failed)
        #: Asked before a cleanup is sent; returns True to go on. Replaceable for embedding and tests.
        self.confirm_cleanup: Callable[[ExecutionSummary], bool] = self._ask_cleanup
        #: Asked for an export's file: (format, suggested name) -> path, "" to cancel. Replaceable.
        self.choose_export_path: Callable[[str, str], str] = self._ask_path
        self._operator = ""
        #: Lays a PDF out and writes it, on the task thread: (PdfReport, path) -> path. Replaceable.
        self.pdf_layout: Callable[[PdfReport, str], Path] = write_pdf_report
        #: The clock of the list's "updated" stamp: the app's one clock (in demo mode the simulator's),
        #: always given, so a pane never stamps desktop time by default.
        self.clock = clock
        self._cleaning: str = ""
        self._note: tuple[str, bool] | None = None  # a result to keep saying over the next listing

        self.model = ExecutionsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("executions-table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(STARTED, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.plan_filter = QComboBox()
        self.plan_filter.setObjectName("filter-plan")
        self.plan_filter.addItem("All plans", "")
        self.mode_filter = QComboBox()
        self.mode_filter.setObjectName("filter-mode")
        self.mode_filter.addItem("Any mode", "")
        for mode in MODES:
            self.mode_filter.addItem(mode.capitalize(), mode)
        self.outcome_filter = QComboBox()
        self.outcome_filter.setObjectName("filter-outcome")
        self.outcome_filter.addItem("Any outcome", "")
        for outcome in OUTCOMES:
            self.outcome_filter.addItem(outcome.capitalize(), outcome)
        self.dates_filter = QCheckBox("Started (UTC) from")
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-30))
        self.date_to = QDateEdit(today)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
        self.running_filter = QCheckBox("Only drills with instances still running")
        self.running_filter.setObjectName("filter-running")
        self.refresh_button = QPushButton("Refresh")
        for combo in (self.plan_filter, self.mode_filter, self.outcome_filter):
            combo.currentIndexChanged.connect(self.request_list)
        self.dates_filter.toggled.connect(self._dates_toggled)
        self.date_from.dateChanged.connect(self.request_list)
        self.date_to.dateChanged.connect(self.request_list)
        self.running_filter.toggled.connect(self.request_list)
        self.refresh_button.clicked.connect(self.refresh)

        self.cleanup_button = QPushButton("Clean up")
        self.cleanup_button.setObjectName("cleanup-button")
        self.cleanup_button.clicked.connect(self.clean_up_selected)
        self.export_button = QToolButton()
        self.export_button.setText("Export report")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_menu = QMenu(self.export_button)
        for label, fmt, _ in EXPORTS:
            action = self.export_menu.addAction(label)
            action.setData(fmt)
            action.triggered.connect(lambda _checked=False, chosen=fmt: self._choose_export(chosen))
        self.export_button.setMenu(self.export_menu)
        self.period_button = QPushButton("Period report…")
        self.period_button.setObjectName("period-report-button")
        self.period_button.setToolTip("A roll-up of every drill and recovery between two days, for an audit")
        self.period_button.clicked.connect(self.open_period_report)
        self._local_tasks: LocalTasks | None = None
        # Issue 18: the retention's list and its confirmation (ui/executions/retention_dialog.py).
        self.retention_button = QPushButton("Apply retention…")
        self.retention_button.setObjectName("retention-button")
        self.retention_button.clicked.connect(self.apply_retention)

        self.details = ExecutionDetailsWidget()
        self.details_tabs = QTabWidget()
        self.details_tabs.setObjectName("execution-details-tabs")
        self.details_tabs.addTab(self.details, "Evidence")
        self.audit = AuditWidget(clock=clock)  # issue 18: test record, findings, sign-off
        self.details_tabs.addTab(self.audit, "Audit")
        self.lease_strip = LeaseStrip()
        below = QWidget()
        below_layout = QVBoxLayout(below)
        below_layout.setContentsMargins(0, 0, 0, 0)
        below_layout.addWidget(self.lease_strip)
        below_layout.addWidget(self.details_tabs, 1)
        self.status = QLabel()
        self.status.setObjectName("executions-status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        filters = QHBoxLayout()
        for widget in (
            QLabel("Plan:"),
            self.plan_filter,
            self.mode_filter,
            self.outcome_filter,
            self.dates_filter,
            self.date_from,
            QLabel("to"),
            self.date_to,
            self.running_filter,
        ):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.refresh_button)
        actions = QHBoxLayout()
        actions.addWidget(self.cleanup_button)
        actions.addWidget(self.export_button)
        actions.addWidget(self.period_button)
        actions.addStretch(1)
        actions.addWidget(self.retention_button)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(filters)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(actions)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(below)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self._update_actions()

    # ---------------------------------------------------------------------------------- wiring

    def connect_tasks(self, local: LocalTasks, aws: AwsTasks) -> None:
        """Read on ``local``, clean up on ``aws``, from now on."""
        self._local.connect(local)
        self._aws.connect(aws)
        self._local_tasks = local
        self.audit.connect_tasks(local)

    def connect_settings(self, settings: SettingsTasks, sso_dialog: SsoDialogFactory | None = None) -> None:
        """The Audit tab's sign-off lists profiles and asks STS on ``settings`` from now on (and signs in
        with the ``sso_dialog`` the composition root gives: ``AuditWidget.connect_settings``)."""
        self.audit.connect_settings(settings, sso_dialog)

    def connect_lease_tasks(self, tasks: LeaseTasks) -> None:
        """Read the shown run's lease on ``tasks`` (the ``lease-watch`` thread) from now on."""
        self.lease_strip.connect_tasks(tasks)

    def apply_retention(self) -> RetentionDialog | None:
        """Open the retention's list; a deletion there refreshes the history and is announced."""
        if self._local_tasks is None:
            return None
        dialog = RetentionDialog(self._local_tasks, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.deleted.connect(self._retention_applied)
        dialog.open()
        dialog.load()
        return dialog

    def _retention_applied(self, outcome: object) -> None:
        self.request_list()
        self.executions_deleted.emit(outcome)

    def set_detail_widget(self, widget: QWidget, title: str = "Progress") -> None:
        """Show ``widget`` (e.g. the read-only ProgressWidget) as the first details tab; feed it from
        ``view_loaded``. Calling it again with the same widget only selects its tab."""
        index = self.details_tabs.indexOf(widget)
        if index < 0:
            index = self.details_tabs.insertTab(0, widget, title)
        self.details_tabs.setCurrentIndex(index)

    def set_operator(self, name: str) -> None:
        """Who the GUI's operator is (their identity ARN), recorded on cleanups they ask for."""
        self._operator = name

    # -------------------------------------------------------------------------------- requests

    def refresh(self) -> None:
        self._local("load_plan_names", lambda s: s.history.plan_names(), self.show_plan_names)
        self.request_list()

    def request_list(self) -> None:
        self._say("Loading executions…")
        flt = self.current_filter()
        self._local(
            "load_executions",
            lambda s: s.history.executions(flt),
            lambda rows: self.show_executions(flt, rows),
        )

    def current_filter(self) -> HistoryFilter:
        started_from = started_before = None
        if self.dates_filter.isChecked():
            first, last = sorted((_day(self.date_from.date()), _day(self.date_to.date())))
            started_from = datetime.combine(first, time(), UTC)
            started_before = datetime.combine(last, time(), UTC) + timedelta(days=1)
        return HistoryFilter(
            plan_name=str(self.plan_filter.currentData() or ""),
            mode=str(self.mode_filter.currentData() or ""),
            outcome=str(self.outcome_filter.currentData() or ""),
            started_from=started_from,
            started_before=started_before,
            drill_instances_running=self.running_filter.isChecked(),
        )

    def selected_summary(self) -> ExecutionSummary | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.summary_at(self.proxy.mapToSource(rows[0]).row())

    def select_execution(self, execution_id: str) -> bool:
        row = self.model.row_of(execution_id)
        if row < 0:
            return False
        self.table.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())
        return True

    def clean_up_selected(self) -> bool:
        """Ask, then send the cleanup of the selected drill; False when nothing was sent."""
        summary = self.selected_summary()
        if summary is None or not summary.needs_cleanup or self._cleaning:
            return False
        if not self.confirm_cleanup(summary):
            return False
        self._cleaning = summary.execution_id
        count = len(summary.drill_instances_running)
        self._say(f"Terminating {count} drill instance{'s' * (count != 1)} of {summary.record.plan_name!r}…")
        execution_id, by = summary.execution_id, self._operator
        self._aws("clean_up", lambda s: s.history.cleanup(execution_id, by), self.on_cleanup_finished)
        self._update_actions()
        return True

    def export_report(self, fmt: str, path: str) -> bool:
        """Export the selected execution's report as ``fmt`` ("html", "pdf", "csv", "json") to ``path``."""
        summary = self.selected_summary()
        if summary is None or not path:
            return False
        self._say(f"Exporting the {fmt.upper()} report to {path}…")
        execution_id = summary.execution_id
        layout = self.pdf_layout  # read here: the task only calls it

        def export(s: LocalServices) -> Path:
            if fmt == "pdf":
                return layout(s.history.pdf_report(execution_id), path)
            return s.history.export(execution_id, fmt, path)

        self._local(
            "export_report", export, lambda written: self.on_report_exported(execution_id, fmt, str(written))
        )
        return True

    def open_period_report(self) -> PeriodReportDialog | None:
        """The period roll-up dialog (issue 18), working on this pane's ``local`` thread; None before the
        pane is connected to it."""
        if self._local_tasks is None:
            return None
        dialog = PeriodReportDialog(self._local_tasks, clock=self.clock, parent=self)
        dialog.pdf_layout = self.pdf_layout
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # ---------------------------------------------------------------------------- answers

    def show_executions(self, flt: HistoryFilter, summaries: Sequence[ExecutionSummary]) -> None:
        if flt != self.current_filter():
            return  # an answer to a filter the operator has changed since
        selected = self.selected_summary()
        self.model.set_summaries(summaries)
        if selected is not None and self.model.row_of(selected.execution_id) < 0:
            self.details.set_view(None)
        highlighted = len(self.model.highlighted_rows())
        note = (
            f"; {highlighted} drill{'s' * (highlighted != 1)} left instances running (highlighted)"
            if highlighted
            else ""
        )
        now = self.clock()
        text = f"{len(summaries)} execution{'s' * (len(summaries) != 1)}{note}, {updated_text(now, now)}."
        if self._note is not None:
            (said, error), self._note = self._note, None
            self._say(f"{said}. {text}", error=error)
        else:
            self._say(text)
        self._update_actions()

    def show_plan_names(self, names: Sequence[str]) -> None:
        current = str(self.plan_filter.currentData() or "")
        self.plan_filter.blockSignals(True)
        self.plan_filter.clear()
        self.plan_filter.addItem("All plans", "")
        for name in names:
            self.plan_filter.addItem(name, name)
        found = self.plan_filter.findData(current) if current else 0
        if found < 0:  # keep a filter on a plan that has no execution any more
            self.plan_filter.addItem(current, current)
            found = self.plan_filter.count() - 1
        self.plan_filter.setCurrentIndex(found)
        self.plan_filter.blockSignals(False)

    def show_details(self, view: ExecutionView) -> None:
        selected = self.selected_summary()
        if selected is None or selected.execution_id != view.record.execution_id:
            return
        self.details.set_view(view)
        # A journal cut short still shows, but the operator reads why it may be incomplete first.
        if view.journal_warning:
            self._say(view.journal_warning, error=True)
        elif self.status.text().startswith("warning: execution "):
            self._say("")
        self.view_loaded.emit(view)

    def on_cleanup_finished(self, result: CleanupResult) -> None:
        self._cleaning = ""
        self.request_list()
        # Said after the refresh request, and kept when the refreshed list arrives.
        self._note = (result.describe(), not result.complete or bool(result.refused))
        self._say(self._note[0], error=self._note[1])
        selected = self.selected_summary()
        if selected is not None and selected.execution_id == result.execution_id:
            self._request_details(result.execution_id)
        self._update_actions()
        self.cleanup_completed.emit(result)

    def on_report_exported(self, execution_id: str, fmt: str, path: str) -> None:
        self._say(f"Wrote the {fmt.upper()} report to {path}.")
        self.report_saved.emit(fmt, path)

    def on_failed(self, operation: str, message: str) -> None:
        if operation == "clean_up":
            self._cleaning = ""
            self._update_actions()
        elif operation == "load_details":
            self.details.show_message(f"Could not load the details: {message}")
        self._say(f"Could not {operation.replace('_', ' ')}: {message}", error=True)

    def status_text(self) -> str:
        return self.status.text()

    # ---------------------------------------------------------------------------------- helpers

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        summary = self.selected_summary()
        self._update_actions()
        if summary is None or summary.finished:
            self.lease_strip.stop_watching()
        else:  # who drives it, and a takeover once that desktop is silent
            self.lease_strip.watch(summary.execution_id, summary.record.plan_name, summary.record.mode)
        self.audit.set_execution(summary.execution_id if summary is not None else "")
        if summary is None:
            self.details.set_view(None)
            return
        if self.details.execution_id() != summary.execution_id:
            self.details.show_message("Loading…")
        self._request_details(summary.execution_id)

    def _request_details(self, execution_id: str) -> None:
        self._local("load_details", lambda s: s.history.view(execution_id), self.show_details)

    def _update_actions(self) -> None:
        summary = self.selected_summary()
        self.export_button.setEnabled(summary is not None and not summary.problem)
        count = len(summary.drill_instances_running) if summary is not None else 0
        self.cleanup_button.setText(f"Clean up {count} instance{'s' * (count != 1)}" if count else "Clean up")
        self.cleanup_button.setEnabled(bool(summary and summary.needs_cleanup and not self._cleaning))
        if summary is not None and summary.is_drill and count and not summary.finished:
            self.cleanup_button.setToolTip("This drill is still running: cancel or clean it up from its run.")
        elif self._cleaning:
            self.cleanup_button.setToolTip("A cleanup is in progress.")
        else:
            self.cleanup_button.setToolTip("Terminate the recovery instances this drill left running.")

    def _dates_toggled(self, checked: bool) -> None:
        self.date_from.setEnabled(checked)
        self.date_to.setEnabled(checked)
        self.request_list()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
        self.status.setText(text)

    def _ask_cleanup(self, summary: ExecutionSummary) -> bool:
        count = len(summary.drill_instances_running)
        answer = QMessageBox.question(
            self,
            "Clean up drill",
            f"Terminate the {count} recovery instance{'s' * (count != 1)} that the drill of "
            f"{summary.record.plan_name!r} started {summary.record.started_at:%Y-%m-%d %H:%M} UTC left "
            "running?\n\nOnly this drill's own instances are terminated; each termination is recorded "
            "as cleanup evidence.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _choose_export(self, fmt: str) -> None:
        summary = self.selected_summary()
        if summary is None:
            return
        name = f"{summary.record.plan_name}-{summary.record.started_at:%Y%m%d-%H%M}.{fmt}"
        path = self.choose_export_path(fmt, "".join(c if c.isalnum() or c in "-_." else "_" for c in name))
        if path:
            self.export_report(fmt, path)

    def _ask_path(self, fmt: str, suggested: str) -> str:
        file_filter = next((f for _, key, f in EXPORTS if key == fmt), "All files (*)")
        path, _ = QFileDialog.getSaveFileName(self, "Export report", suggested, file_filter)
        return path


def _day(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())
