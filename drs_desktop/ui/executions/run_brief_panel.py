"""The run dialog's "Test brief" (issue 18): what this run sets out to show, as its evidence will state it,
and the test type it will be recorded as.

The brief is the plan's (``RecoveryPlan.brief``, read on the ``local`` thread when the plan is chosen, or
from the plan the check read), editable here before the run, in the plan editor's shape (a scenario, then
objectives, success criteria and participants one per line; the editor's widget is the Plans pane's,
which this pane may not import). It is checked by the plan's own rules (``domain.plan.validation_brief``),
the first error said under the fields, and the run dialog keeps Run disabled while there is one.
``brief()`` is what the run records: None while the fields hold the plan's own brief (the run takes the
plan's), else the edited one.

The test type is not worked out here: it is the one the run's creation records
(``services.run_test.test_type_of`` through ``workers.audit_tasks.test_type_for``), for the plan and the
servers the check resolved, so it shows once the check has answered.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.edit_brief import entries
from drs_desktop.domain.plan.model import NO_BRIEF, TestBrief
from drs_desktop.domain.plan.validation_brief import MAX_ITEMS, MAX_TEXT, brief_problems, place_of_brief
from drs_desktop.workers.audit_tasks import test_type_for
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

__all__ = ["RunBriefPanel"]

_ERROR_STYLE = "color: #b00020"
_TYPE_WORDS = {
    "drill": "drill (every wave of the plan launches servers)",
    "partial": "PARTIAL drill (a wave of the plan launches no server in this run)",
    "recovery": "RECOVERY (a real recovery)",
}


def _list_edit(name: str, placeholder: str) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    edit.setToolTip(f"One per line, at most {MAX_ITEMS}, each at most {MAX_TEXT} characters")
    edit.setTabChangesFocus(True)
    edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # one entry is one line, as shown
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 2 * edit.frameWidth() + 8)
    return edit


class BriefFields(QGroupBox):
    """The four fields of a test brief, as typed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Test brief (recorded with the run; edit it for this run if needed)", parent)
        self.scenario_edit = QLineEdit()
        self.scenario_edit.setObjectName("run-brief-scenario")
        self.scenario_edit.setPlaceholderText("What the test simulates: Loss of the primary site")
        self.scenario_edit.setMaxLength(MAX_TEXT + 1)  # one over: the check says what the most is
        self.objectives_edit = _list_edit("run-brief-objectives", "One objective per line")
        self.criteria_edit = _list_edit("run-brief-criteria", "One success criterion per line")
        self.participants_edit = _list_edit("run-brief-participants", "One name or role per line")
        # The three lists side by side: the run dialog's checks and calls keep their room below.
        layout = QGridLayout(self)
        layout.addWidget(QLabel("Scenario"), 0, 0)
        layout.addWidget(self.scenario_edit, 0, 1, 1, 3)
        for column, (label, edit) in enumerate(
            (
                ("Objectives", self.objectives_edit),
                ("Success criteria", self.criteria_edit),
                ("Participants", self.participants_edit),
            ),
            start=1,
        ):
            layout.addWidget(QLabel(label), 1, column)
            layout.addWidget(edit, 2, column)
            layout.setColumnStretch(column, 1)

    def list_edits(self) -> tuple[QPlainTextEdit, QPlainTextEdit, QPlainTextEdit]:
        return (self.objectives_edit, self.criteria_edit, self.participants_edit)

    def typed(self) -> TestBrief:
        """The brief as the fields hold it (entries trimmed, blank lines dropped: ``edit_brief.entries``)."""
        lists = [entries(edit.toPlainText().splitlines()) for edit in self.list_edits()]
        return TestBrief(
            scenario=self.scenario_edit.text().strip(),
            objectives=lists[0],
            success_criteria=lists[1],
            participants=lists[2],
        )


class RunBriefPanel(QWidget):
    """Brief fields, their problems, and the test type; ``changed`` on every edit and every load."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("run-brief")
        self._local: Requester[LocalServices] = Requester(self, self._load_failed)
        self._plan = ""  # the plan whose brief is shown
        self._plan_brief: TestBrief | None = None  # that plan's own brief (None: not read yet)
        self._filling = False
        self.fields = BriefFields()
        self.type_label = QLabel()
        self.type_label.setObjectName("run-test-type")
        self.type_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problems = QLabel()
        self.problems.setObjectName("run-brief-problems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setStyleSheet(_ERROR_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.fields)
        layout.addWidget(self.problems)
        layout.addWidget(self.type_label)
        self.fields.scenario_edit.textChanged.connect(self._edited)
        for edit in self.fields.list_edits():
            edit.textChanged.connect(self._edited)
        self.set_test_type(None, None)
        self._edited()

    def connect_local(self, tasks: LocalTasks) -> None:
        """Read a chosen plan's brief on ``tasks`` (the ``local`` thread) from now on (the plan already
        chosen's too)."""
        self._local.connect(tasks)
        if self._plan and self._plan_brief is None:
            self._read(self._plan)

    # ---------------------------------------------------------------------------------- the plan

    def set_plan(self, name: str) -> None:
        """The plan chosen changed: its brief replaces what the fields hold (read on the local thread)."""
        name = name.strip()
        if name == self._plan:
            return
        self._plan, self._plan_brief = name, None
        self._fill(NO_BRIEF)
        if name:
            self._read(name)

    def _read(self, name: str) -> None:
        self._local(
            "load_brief",
            lambda s: s.plans.load_plan(name).plan.brief,
            lambda brief: self.show_plan_brief(name, brief),
        )

    def show_plan_brief(self, plan_name: str, brief: TestBrief) -> None:
        """The plan's own brief (the local read, or the plan the check read): shown unless the operator
        has edited the fields for this plan already."""
        if plan_name.strip() != self._plan:
            return
        untouched = self._plan_brief is None and self.typed() == NO_BRIEF
        self._plan_brief = brief
        if untouched or self.typed() == brief:
            self._fill(brief)

    def set_test_type(self, prepared: object, mode: Mode | None) -> None:
        """What the checked run will be recorded as (``prepared`` None: not checked yet)."""
        kind = test_type_for(prepared, mode) if mode is not None and prepared is not None else None
        if kind is None:
            self.type_label.setText("Recorded as: known once the plan is checked")
        else:
            self.type_label.setText(f"Recorded as: {_TYPE_WORDS.get(kind.value, kind.value)}")

    def test_type_text(self) -> str:
        return self.type_label.text()

    # ---------------------------------------------------------------------------------- the brief

    def typed(self) -> TestBrief:
        return self.fields.typed()

    def brief(self) -> TestBrief | None:
        """What the run records: None while the fields hold the plan's own brief, else the edited one."""
        typed = self.typed()
        if self._plan_brief is not None and typed == self._plan_brief:
            return None
        if self._plan_brief is None and typed == NO_BRIEF:
            return None
        return typed

    def problem(self) -> str | None:
        """The first error of the brief as typed, in the plan editor's words (None: it may be recorded)."""
        for path, message, is_error in brief_problems(self.typed()):
            if is_error:
                return f"{place_of_brief(path) or path}: {message}"
        return None

    def problem_text(self) -> str:
        return self.problems.text()

    # ---------------------------------------------------------------------------------- internals

    def _fill(self, brief: TestBrief) -> None:
        self._filling = True
        try:
            self.fields.scenario_edit.setText(brief.scenario)
            for edit, items in zip(
                self.fields.list_edits(),
                (brief.objectives, brief.success_criteria, brief.participants),
                strict=True,
            ):
                edit.setPlainText("\n".join(items))
        finally:
            self._filling = False
        self._edited()

    def _edited(self, *_args: object) -> None:
        problem = self.problem()
        self.problems.setText(problem or "")
        self.problems.setVisible(problem is not None)
        if not self._filling:
            self.changed.emit()

    def _load_failed(self, _operation: str, message: str) -> None:
        self.problems.setText(f"Could not read the plan's brief: {message}")
        self.problems.setVisible(True)
