"""The composition root: every pane is the real one, workers run on their threads, shutdown ends them."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from drs_desktop.app import DesktopApp
from drs_desktop.config import AppPaths
from drs_desktop.ui.main_window import PlaceholderPane


def test_desktop_app_builds_real_panes_and_shuts_down_cleanly(qtbot: QtBot, tmp_path: Path) -> None:
    desktop = DesktopApp(AppPaths(tmp_path / "home"))
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        window.show()
        real = {key for key in window.pane_keys() if not isinstance(window.pane(key), PlaceholderPane)}
        assert real == set(window.pane_keys())
        threads = list(desktop._threads)
        assert threads and all(thread.is_running() for thread in threads)
        assert (tmp_path / "home" / "drs-desktop.sqlite3").exists()
    finally:
        desktop.shutdown()
    assert all(not thread.is_running() for thread in threads)
    assert desktop.db is None
