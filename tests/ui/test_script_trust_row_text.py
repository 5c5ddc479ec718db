"""The run dialog's "Trust…" offer names a plan's script path and step name as plain text (review 17b):
a plan's values are never markup, so a step cannot restyle or hide what the operator is asked about."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.automation import ScriptStep
from drs_desktop.ui.executions.script_trust_row import ScriptTrustRow


def test_the_offer_shows_a_path_with_markup_as_written(qtbot: QtBot) -> None:
    row = ScriptTrustRow()
    qtbot.addWidget(row)
    step = ScriptStep(name="<b>dns</b>", path="/opt/<i>x</i>.sh")
    row.set_scripts([step])
    assert row.label.textFormat() is Qt.TextFormat.PlainText
    assert "/opt/<i>x</i>.sh" in row.label.text() and "<b>dns</b>" in row.label.text()


def test_the_retry_question_shows_a_step_name_with_markup_as_written(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QMessageBox, QWidget

    from drs_desktop.ui.executions.step_decision import question_box

    parent = QWidget()
    qtbot.addWidget(parent)
    text = 'after launch: script “<span style="font-size:1px">x</span>” may have run already.'
    box = question_box(parent, "Retry step", text)
    assert box.textFormat() is Qt.TextFormat.PlainText and box.text() == text
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
