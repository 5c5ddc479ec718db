"""The GUI shell: every pane reachable by click and by shortcut; the status bar says who and where."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QWidget
from pytestqt.qtbot import QtBot

from drs_desktop.ui.main_window import PANES, MainWindow


def make_window(qtbot: QtBot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_every_pane_opens_from_navigation(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    nav = window.findChild(QListWidget, "navigation")
    assert nav is not None
    assert [nav.item(i).text() for i in range(nav.count())] == [p.title for p in PANES]
    for row, spec in enumerate(PANES):
        with qtbot.waitSignal(window.pane_changed, timeout=1000, raising=False) as blocker:
            nav.setCurrentRow(row)
        assert window.current_pane() == spec.key
        if row:  # row 0 is current from the start, so selecting it again emits nothing
            assert blocker.args == [spec.key]


def test_the_navigation_never_cuts_a_pane_name(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    nav = window.findChild(QListWidget, "navigation")
    assert nav is not None
    longest = max(nav.fontMetrics().horizontalAdvance(p.title) for p in PANES)
    # A pane wider than the window (a long unwrapped label) takes its room from the splitter's other
    # side: never from the names.
    wide = QWidget()
    wide.setMinimumWidth(1500)
    window.set_pane_widget("settings", wide)
    window.show_pane("settings")
    for width in (1366, 1920):
        window.resize(width, 768)
        qtbot.waitUntil(lambda w=width: window.width() >= w)  # type: ignore[misc]
        assert nav.viewport().width() >= longest, f"at {width} px"


def test_shortcuts_switch_panes(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    assert window.current_pane() == "dashboard", "the readiness dashboard is the first view"
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.current_pane() == "executions"
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_pane() == "groups"
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_pane() == "dashboard"


def test_status_bar_shows_demo_and_identity(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.set_identity(profile="prod-dr", region="eu-west-1", account="123456789012")
    assert window.identity_text() == "prod-dr · account 123456789012 · eu-west-1"
    window.set_identity(profile="prod-dr", region="us-east-1", account="", demo=True)
    assert window.identity_text().startswith("DEMO")
    window.set_connection_state("online")
    assert window.connection_text() == "Connection: online"


def test_placeholder_can_be_replaced(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLabel

    window = make_window(qtbot)
    window.show_pane("plans")
    label = QLabel("real plans pane")
    window.set_pane_widget("plans", label)
    assert window.pane("plans") is label
    assert window.current_pane() == "plans"
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton)  # the widget is live in the window
    assert label.isVisible()
