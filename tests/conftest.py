"""Suite-wide settings: Qt offscreen, no real user folders, no real AWS."""

from __future__ import annotations

import os
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
