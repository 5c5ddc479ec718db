"""The "Period report…" dialog of the Executions pane (issue 18): a roll-up of every drill and recovery
of all plans or the chosen ones between two days, as PDF, HTML or CSV.

The roll-up folds the journal of every run it covers and the PDF is laid out with Qt's rich text: both
run on the ``local`` task thread (``run_task``), the PDF through the single-run report's own layout
function (``report_pdf.write_pdf_report``, which builds its Qt objects on the thread that calls it), so
the GUI thread never waits on the disk. The plans offered are read there too: the plans now, and the
plans that ran and were deleted since. The days are UTC days, as the history's date filter and the
reports give times; the result says where the report was written, or why it was not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.views.period_range import PeriodError, PeriodRequest, period_of
from drs_desktop.domain.views.report_chart import PdfReport
from drs_desktop.ui.executions.report_pdf import write_pdf_report
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

__all__ = ["PERIOD_FORMATS", "PeriodReportDialog"]

#: Format label, key and file filter, in the order offered (PDF first: what an auditor asks for).
PERIOD_FORMATS = (
    ("PDF", "pdf", "PDF (*.pdf)"),
    ("HTML", "html", "HTML (*.html)"),
    ("CSV", "csv", "CSV (*.csv)"),
)
_ERROR_STYLE = "color: #b00020"


class PeriodReportDialog(QDialog):
    """From/to days, all plans or the chosen ones, the format and the file; Write runs on ``tasks``."""

    report_written = Signal(str, str)  # format, path written

    def __init__(
        self, tasks: LocalTasks, *, clock: Callable[[], datetime], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("period-report-dialog")
        self.setWindowTitle("Period report")
        self._ask: Requester[LocalServices] = Requester(self, self._failed)
        self._ask.connect(tasks)
        self.clock = clock
        #: Lays a PDF out and writes it, on the task thread: (PdfReport, path) -> path. Replaceable.
        self.pdf_layout: Callable[[PdfReport, str], Path] = write_pdf_report
        #: Asks for the file: (format, suggested name) -> path, "" to cancel. Replaceable in tests.
        self.choose_path: Callable[[str, str], str] = self._ask_path
        self._writing = False

        today = clock().astimezone(UTC).date()
        self.date_from = QDateEdit(QDate(today.year, 1, 1))
        self.date_from.setObjectName("period-from")
        self.date_to = QDateEdit(QDate(today.year, today.month, today.day))
        self.date_to.setObjectName("period-to")
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.all_plans = QCheckBox("All plans")
        self.all_plans.setObjectName("period-all-plans")
        self.all_plans.setChecked(True)
        self.all_plans.toggled.connect(self._scope_changed)
        self.plan_list = QListWidget()
        self.plan_list.setObjectName("period-plans")
        self.plan_list.setEnabled(False)
        self.format_box = QComboBox()
        self.format_box.setObjectName("period-format")
        for label, key, _ in PERIOD_FORMATS:
            self.format_box.addItem(label, key)
        self.format_box.currentIndexChanged.connect(self._format_changed)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("period-path")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        self.status_label = QLabel()
        self.status_label.setObjectName("period-status")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)  # names and paths shown as typed
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.write_button = buttons.addButton("Write report", QDialogButtonBox.ButtonRole.ActionRole)
        self.write_button.setObjectName("period-write")
        self.write_button.clicked.connect(self.write)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Started (UTC days, both included):", dates)
        form.addRow("Plans:", self.all_plans)
        form.addRow("", self.plan_list)
        form.addRow("Format:", self.format_box)
        form.addRow("Save to:", path_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status_label)
        layout.addWidget(buttons)
        self.resize(560, 460)
        self._ask("period_plans", lambda s: s.history.period_reports().plan_choices(), self.show_plans)

    # ------------------------------------------------------------------------------------ state

    def show_plans(self, names: list[str]) -> None:
        """The plans to choose from (the answer of the ``local`` thread)."""
        self.plan_list.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.plan_list.addItem(item)

    def chosen_plans(self) -> tuple[str, ...]:
        """The plans ticked; () when "All plans" is on."""
        if self.all_plans.isChecked():
            return ()
        items = (self.plan_list.item(row) for row in range(self.plan_list.count()))
        return tuple(item.text() for item in items if item.checkState() == Qt.CheckState.Checked)

    def chosen_format(self) -> str:
        return str(self.format_box.currentData())

    def request(self) -> PeriodRequest:
        """The request the fields make; PeriodError when the days are the wrong way round."""
        first, last = _day(self.date_from.date()), _day(self.date_to.date())
        return PeriodRequest(period_of(first, last), self.chosen_plans())

    # ---------------------------------------------------------------------------------- actions

    def write(self) -> bool:
        """Build and write the report on the ``local`` thread; False (saying why) when nothing was asked."""
        if self._writing:
            return False
        try:
            request = self.request()
        except PeriodError as exc:
            return self._refuse(str(exc))
        if not self.all_plans.isChecked() and not request.plan_names:
            return self._refuse("Choose at least one plan, or All plans.")
        path = self.path_edit.text().strip()
        if not path:
            return self._refuse("Choose the file to write.")
        fmt, layout, now = self.chosen_format(), self.pdf_layout, self.clock()

        def task(s: LocalServices) -> Path:
            reports = s.history.period_reports()
            if fmt == "pdf":
                return layout(reports.pdf(request, now=now), path)
            return reports.write(request, fmt, path, now=now)

        self._writing = True
        self.write_button.setEnabled(False)
        self.status_label.setStyleSheet("")
        self.status_label.setText(f"Writing the {fmt.upper()} roll-up of {request.period.label}…")
        self._ask("period_report", task, lambda written: self._written(fmt, str(written)))
        return True

    def _written(self, fmt: str, path: str) -> None:
        self._writing = False
        self.write_button.setEnabled(True)
        self.status_label.setStyleSheet("")
        self.status_label.setText(f"Wrote the {fmt.upper()} roll-up to {path}.")
        self.report_written.emit(fmt, path)

    def _failed(self, operation: str, message: str) -> None:
        logger.warning("%s failed: %s", operation, message)
        self._writing = False
        self.write_button.setEnabled(True)
        what = "The plans could not be read" if operation == "period_plans" else "The report was not written"
        self.status_label.setStyleSheet(_ERROR_STYLE)
        self.status_label.setText(f"{what}: {message}")

    def _refuse(self, message: str) -> bool:
        self.status_label.setStyleSheet(_ERROR_STYLE)
        self.status_label.setText(message)
        return False

    def _scope_changed(self, everything: bool) -> None:
        self.plan_list.setEnabled(not everything)

    def _format_changed(self) -> None:
        """Keep a typed path's suffix in step with the format chosen."""
        path = self.path_edit.text().strip()
        if path:
            self.path_edit.setText(str(Path(path).with_suffix(f".{self.chosen_format()}")))

    def _browse(self) -> None:
        fmt = self.chosen_format()
        first, last = _day(self.date_from.date()), _day(self.date_to.date())
        path = self.choose_path(fmt, f"dr-rollup-{first.isoformat()}-{last.isoformat()}.{fmt}")
        if path:
            self.path_edit.setText(path)

    def _ask_path(self, fmt: str, suggested: str) -> str:
        file_filter = next(f for _, key, f in PERIOD_FORMATS if key == fmt)
        path, _ = QFileDialog.getSaveFileName(self, "Save period report", suggested, file_filter)
        return path


def _day(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())
