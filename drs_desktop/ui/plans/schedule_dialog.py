"""A plan's unattended drill schedule: when, as which AWS profile, soak, auto-approve, report folder.

The dialog does no I/O: everything goes to the ``schedules`` task thread (``ScheduleDesk``) through
``run_task``, and each answer is shown as it is: the profile check's lines (why a profile would need a
person), or exactly what was written where and what ran. "Enable in the scheduler" also runs the
scheduler's command (systemctl --user, schtasks, launchctl); without it the entry is written and the
command to enable it is shown. docs/scheduled-drills.md.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.schedule.model import WEEKDAYS, EntryKind, Frequency, Schedule, ScheduleChoice
from drs_desktop.workers.pane_tasks import ProfileCheck, ScheduleDesk, ScheduleTasks, ScheduleView
from drs_desktop.workers.tasks import Requester


class ScheduleDialog(QDialog):
    """Set, check, save or remove the schedule of one plan."""

    answered = Signal(str)  # an answer to a check, a save or a remove, as shown
    viewed = Signal()  # the plan's schedule was read (and shown in the fields and the status line)

    def __init__(self, plan_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schedule-dialog")
        self.setWindowTitle(f"Schedule drills of {plan_name}")
        self.resize(620, 520)
        self.plan_name = plan_name
        self._ask: Requester[ScheduleDesk] = Requester(self, self._failed)
        self.status = QLabel("Reading the schedule…")
        self.status.setObjectName("schedule-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # names and paths shown as typed
        self.status.setWordWrap(True)
        self.every = QComboBox()
        for frequency in Frequency:
            self.every.addItem(frequency.value, frequency)
        self.weekday = QComboBox()
        self.weekday.addItems(list(WEEKDAYS))
        self.day_of_month = QSpinBox()
        self.day_of_month.setRange(1, 28)
        self.day = QStackedWidget()
        self.day.addWidget(QLabel("every day"))
        self.day.addWidget(self.weekday)
        self.day.addWidget(self.day_of_month)
        self.every.currentIndexChanged.connect(self.day.setCurrentIndex)
        self.at = QTimeEdit(QTime(2, 30))
        self.at.setDisplayFormat("HH:mm")
        self.profile = QComboBox()
        self.profile.setEditable(True)
        self.profile.setToolTip("An AWS profile that needs no person: no MFA, no SSO sign-in")
        self.region = QLineEdit()
        self.region.setPlaceholderText("the setting aws.region")
        self.soak = QSpinBox()
        self.soak.setRange(0, 24 * 60)
        self.soak.setSuffix(" min")
        self.auto_approve = QCheckBox(
            "Approve the plan's approval gates (journaled as approved by the schedule)"
        )
        self.report_dir = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder = QHBoxLayout()
        folder.addWidget(self.report_dir, 1)
        folder.addWidget(browse)
        self.kind = QComboBox()
        for kind in EntryKind:
            self.kind.addItem(kind.value, kind)
        self.kind.setToolTip("The scheduler that runs it; this system's own is chosen when the dialog opens")
        self.enable = QCheckBox("Enable it in the scheduler now")
        form = QFormLayout()
        form.addRow("Every", self.every)
        form.addRow("On", self.day)
        form.addRow("At (local time)", self.at)
        form.addRow("AWS profile", self.profile)
        form.addRow("Region", self.region)
        form.addRow("Soak before cleanup", self.soak)
        form.addRow("", self.auto_approve)
        form.addRow("Report folder", folder)
        form.addRow("Scheduler", self.kind)
        form.addRow("", self.enable)
        self.answer = QPlainTextEdit()
        self.answer.setObjectName("schedule-answer")
        self.answer.setReadOnly(True)
        self.check_button = QPushButton("Check profile")
        self.save_button = QPushButton("Save schedule")
        self.remove_button = QPushButton("Remove schedule")
        self.close_button = QPushButton("Close")
        self.check_button.clicked.connect(self.check_profile)
        self.save_button.clicked.connect(self.save)
        self.remove_button.clicked.connect(self.remove)
        self.close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.check_button, self.save_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(form)
        layout.addWidget(self.answer, 1)
        layout.addLayout(buttons)
        self.remove_button.setEnabled(False)
        self._working = False
        self._scheduled = False

    def connect_tasks(self, tasks: ScheduleTasks) -> None:
        """Ask ``tasks`` (the ``schedules`` thread) from now on, and read the plan's schedule."""
        self._ask.connect(tasks)
        self.reload()

    def reload(self) -> None:
        name = self.plan_name
        self._ask("read the schedule", lambda desk: desk.view(name), self._show_view)

    def choice(self) -> ScheduleChoice:
        frequency = Frequency(self.every.currentData())
        return ScheduleChoice(
            plan_name=self.plan_name,
            frequency=frequency,
            hour=self.at.time().hour(),
            minute=self.at.time().minute(),
            weekday=self.weekday.currentIndex() if frequency is Frequency.WEEKLY else None,
            day_of_month=self.day_of_month.value() if frequency is Frequency.MONTHLY else None,
            profile=self.profile.currentText().strip(),
            region=self.region.text().strip(),
            soak_minutes=self.soak.value(),
            auto_approve=self.auto_approve.isChecked(),
            report_dir=self.report_dir.text().strip(),
            entry_kind=EntryKind(self.kind.currentData()),
        )

    def check_profile(self) -> None:
        profile, region = self.profile.currentText().strip(), self.region.text().strip()
        self._busy("Checking the profile (keyring, AWS config, GetCallerIdentity)…")
        self._ask("check the profile", lambda desk: desk.check(profile, region), self._show_check)

    def save(self) -> None:
        choice, enable = self.choice(), self.enable.isChecked()
        self._busy("Checking the profile and writing the entry…")
        self._ask("save the schedule", lambda desk: desk.save(choice, enable), self._show_saved)

    def remove(self) -> None:
        name = self.plan_name
        self._busy("Removing the entry…")
        self._ask("remove the schedule", lambda desk: desk.remove(name), self._show_removed)

    # ------------------------------------------------------------------------------------- answers

    def _busy(self, text: str) -> None:
        self._working = True
        for button in (self.check_button, self.save_button, self.remove_button):
            button.setEnabled(False)
        self.answer.setPlainText(text)

    def _done(self, text: str, *, scheduled: bool) -> None:
        self._working = False
        self._scheduled = scheduled
        self.check_button.setEnabled(True)
        self.save_button.setEnabled(True)
        self.remove_button.setEnabled(scheduled)
        self.answer.setPlainText(text)
        self.answered.emit(text)

    def _show_view(self, view: ScheduleView) -> None:
        current = self.profile.currentText()
        self.profile.clear()
        self.profile.addItems(["", *view.profiles])
        self.profile.setCurrentText(current)
        if not self.region.text():
            self.region.setPlaceholderText(f"the setting aws.region ({view.region})")
        self.kind.setCurrentIndex(list(EntryKind).index(EntryKind(view.default_kind)))
        if view.schedule is not None:
            self._fill(view.schedule)
        where = "; ".join(view.entry_paths)
        entry = f" ({view.schedule.entry_kind.value}: {where})" if view.schedule and where else ""
        self.status.setText(f"{view.status}{entry}. This system schedules with: {view.default_kind}.")
        self._scheduled = view.schedule is not None
        if not self._working:  # a check, save or remove on its way sets the buttons when it answers
            self.remove_button.setEnabled(self._scheduled)
        self.viewed.emit()

    def _fill(self, schedule: Schedule) -> None:
        self.every.setCurrentIndex(list(Frequency).index(schedule.frequency))
        if schedule.weekday is not None:
            self.weekday.setCurrentIndex(schedule.weekday)
        if schedule.day_of_month is not None:
            self.day_of_month.setValue(schedule.day_of_month)
        self.at.setTime(QTime(schedule.hour, schedule.minute))
        self.profile.setCurrentText(schedule.profile)
        self.region.setText(schedule.region)
        self.soak.setValue(schedule.soak_minutes)
        self.auto_approve.setChecked(schedule.auto_approve)
        self.report_dir.setText(schedule.report_dir)
        self.kind.setCurrentIndex(list(EntryKind).index(schedule.entry_kind))

    def _show_check(self, check: ProfileCheck) -> None:
        shown = check.profile or "default"
        if check.ok:
            text = f"Profile {shown!r} works unattended: GetCallerIdentity answered {check.identity}."
        else:
            text = "\n".join(
                [f"Profile {shown!r} cannot run unattended:", *(f"- {p}" for p in check.problems)]
            )
        self._done(text, scheduled=self._scheduled)

    def _show_saved(self, lines: list[str]) -> None:
        self._done("\n".join(lines), scheduled=True)
        self.reload()

    def _show_removed(self, lines: list[str]) -> None:
        self._done("\n".join(lines), scheduled=False)
        self.reload()

    def _failed(self, operation: str, message: str) -> None:
        self._done(f"Could not {operation}: {message}", scheduled=self._scheduled)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Report folder", self.report_dir.text())
        if folder:
            self.report_dir.setText(folder)
