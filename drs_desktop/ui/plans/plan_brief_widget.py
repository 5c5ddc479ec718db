"""The plan's test brief in the editor: the scenario, and the objectives, success criteria and participants
one per line (plan format 4; docs/plan-format.md, "Format 4").

Like the other plan fields, a field commits when it is left (the scenario's ``editingFinished``, a list's
focus leaving it), so a typed list is one undo step, not one per keystroke. The widget only reports the
brief as typed; the editor's edit (``domain.plan.edit_brief.set_brief``) trims it, drops blank lines, and
refuses what validation calls an error, with its reason shown by the editor.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLineEdit, QPlainTextEdit, QWidget

from drs_desktop.domain.plan.edit_brief import entries
from drs_desktop.domain.plan.model import NO_BRIEF, TestBrief
from drs_desktop.domain.plan.validation_brief import MAX_ITEMS, MAX_TEXT

logger = logging.getLogger(__name__)

_LIST_LINES = 4


def _list_edit(name: str, placeholder: str, tip: str) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    edit.setToolTip(tip)
    edit.setTabChangesFocus(True)  # Tab leaves the list (and commits it), as in a line edit
    edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # one entry is one line, as shown
    height = edit.fontMetrics().lineSpacing() * _LIST_LINES + 2 * edit.frameWidth() + 8
    edit.setFixedHeight(height)
    return edit


class PlanBriefWidget(QGroupBox):
    """Scenario, objectives, success criteria and participants of the plan's test brief."""

    brief_edited = Signal(object)  # TestBrief, as typed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Test brief", parent)
        self._brief: TestBrief | None = None
        self.scenario_edit = QLineEdit()
        self.scenario_edit.setObjectName("brief-scenario")
        self.scenario_edit.setPlaceholderText("What the test simulates: Loss of the primary site")
        self.scenario_edit.setMaxLength(MAX_TEXT + 1)  # one over: validation says what the most is
        self.scenario_edit.editingFinished.connect(self._commit)
        limits = f"One per line, at most {MAX_ITEMS}, each at most {MAX_TEXT} characters"
        self.objectives_edit = _list_edit("brief-objectives", "One objective per line", limits)
        self.criteria_edit = _list_edit("brief-criteria", "One success criterion per line", limits)
        self.participants_edit = _list_edit("brief-participants", "One name or role per line", limits)
        for edit in self.list_edits():
            edit.installEventFilter(self)
        form = QFormLayout(self)
        form.addRow("Scenario", self.scenario_edit)
        form.addRow("Objectives", self.objectives_edit)
        form.addRow("Success criteria", self.criteria_edit)
        form.addRow("Participants", self.participants_edit)
        self.setToolTip("What each test of the plan sets out to show, as the evidence report states it")
        self.set_brief(None)

    def list_edits(self) -> tuple[QPlainTextEdit, QPlainTextEdit, QPlainTextEdit]:
        return (self.objectives_edit, self.criteria_edit, self.participants_edit)

    def set_brief(self, brief: TestBrief | None) -> None:
        """Show ``brief`` (None: no plan), each list as the plan holds it (trimmed, no blank lines); a list
        being typed in that already holds the plan's entries is left alone, so an edit elsewhere in the
        plan never moves its cursor."""
        self._brief = brief
        shown = brief or NO_BRIEF
        if self.scenario_edit.text() != shown.scenario:
            self.scenario_edit.setText(shown.scenario)
        for edit, items in zip(
            self.list_edits(), (shown.objectives, shown.success_criteria, shown.participants), strict=True
        ):
            text = "\n".join(items)
            # A list being typed in keeps its text while its entries are the plan's (blank lines, spaces).
            typing = edit.hasFocus() and entries(edit.toPlainText().splitlines()) == items
            if edit.toPlainText() != text and not typing:
                edit.setPlainText(text)

    def typed(self) -> TestBrief:
        """The brief as the fields hold it now (entries trimmed, blank lines dropped)."""
        lists = [entries(edit.toPlainText().splitlines()) for edit in self.list_edits()]
        return TestBrief(
            scenario=self.scenario_edit.text().strip(),
            objectives=lists[0],
            success_criteria=lists[1],
            participants=lists[2],
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut and watched in self.list_edits():
            self._commit()
        return super().eventFilter(watched, event)

    def _commit(self) -> None:
        if self._brief is None:
            return
        typed = self.typed()
        if typed != self._brief:
            self.brief_edited.emit(typed)
