"""CloseGuard: closing the window during an execution asks first; nothing runs, nothing is asked."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from drs_desktop.ui.executions.close_guard import CLOSE_QUESTION, CloseGuard, ask_close


def window_with_guard(
    qtbot: QtBot, running: list[bool], answers: list[bool]
) -> tuple[QMainWindow, list[object]]:
    window = QMainWindow()
    qtbot.addWidget(window)
    asked: list[object] = []

    def ask(parent: QWidget | None) -> bool:
        asked.append(parent)
        return answers.pop(0)

    guard = CloseGuard(lambda: running[0], ask, parent=window)
    guard.install(window)
    window.show()
    return window, asked


def test_closing_during_an_execution_asks_and_may_be_refused(qtbot: QtBot) -> None:
    window, asked = window_with_guard(qtbot, running=[True], answers=[False, True])
    assert window.close() is False
    assert window.isVisible() and asked == [window]
    assert window.close() is True
    assert not window.isVisible() and len(asked) == 2


def test_nothing_running_closes_without_asking(qtbot: QtBot) -> None:
    window, asked = window_with_guard(qtbot, running=[False], answers=[])
    assert window.close() is True
    assert asked == []


def test_the_question_says_the_execution_is_picked_up_again(qtbot: QtBot) -> None:
    seen: list[str] = []

    def answer_cancel() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        button = box.button(QMessageBox.StandardButton.Cancel)
        assert button is not None
        button.click()

    QTimer.singleShot(0, answer_cancel)
    assert ask_close(None) is False
    assert seen == [CLOSE_QUESTION]
    assert "picked up again at the next start" in CLOSE_QUESTION
