"""The steps list shows automation steps (their editor is another widget's) and never turns one into an
approval or a wait when a field of those is left."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.automation import HealthCheckStep, Probe
from drs_desktop.domain.plan.model import ApprovalStep, WaitStep
from drs_desktop.ui.plans.steps_editor_widget import StepsEditorWidget

CHECK = HealthCheckStep(name="db answers", probe=Probe.TCP, port=5432)


def test_an_automation_step_is_listed_selected_moved_and_never_overwritten(qtbot: QtBot) -> None:
    widget = StepsEditorWidget("After")
    qtbot.addWidget(widget)
    widget.set_steps((ApprovalStep("go?"), CHECK, WaitStep(5)))
    texts = [widget.list.item(i).text() for i in range(widget.list.count())]
    assert texts[1].startswith("Health check 'db answers': TCP :5432") and texts[2] == "Wait 5 min"
    edited: list[object] = []
    widget.step_edited.connect(lambda row, step: edited.append((row, step)))
    widget.select(1)
    assert widget._detail.currentWidget() is widget._automation_detail  # no approval or wait field for it
    widget.message_edit.setText("changed")
    widget.message_edit.editingFinished.emit()
    widget.minutes_spin.setValue(9)
    widget.minutes_spin.editingFinished.emit()
    assert edited == []
    moved: list[tuple[int, int]] = []
    widget.step_moved.connect(lambda a, b: moved.append((a, b)))
    widget.up_button.click()
    assert moved == [(1, 0)]
