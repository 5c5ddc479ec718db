"""Suite-wide settings: Qt offscreen, no real user folders, no real AWS."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Qt: every widget test runs offscreen, also when a developer has a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may reach real AWS or read the developer's credentials.
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point DRS_DESKTOP_HOME at a fresh folder so no test touches the real data folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DRS_DESKTOP_HOME", str(home))
    return home


@pytest.fixture
def home(_isolated_home: Path) -> Path:
    """The isolated DRS Desktop home of this test."""
    return _isolated_home


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """A widget test's top-level widgets are owned by Python. A reference cycle through one of them,
    freed by a garbage collection that a worker thread's allocation triggered, deletes a GUI-thread
    QObject from that thread, and the GUI thread's event loop crashes later (seen as segfaults). So a
    widget test runs with automatic collection off and collects on this (the GUI) thread when it ends.
    The application itself owns its widgets through Qt parents (``app.tune_interpreter`` runs full
    collections on the GUI thread)."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()
