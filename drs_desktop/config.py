"""Where DRS Desktop keeps its files.

Everything the application writes lives under one data folder: platformdirs' user data folder by
default, or the folder named by ``--home DIR`` or the ``DRS_DESKTOP_HOME`` environment variable (the
command-line option wins). Nothing here touches the disk until a caller asks it to.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from drs_desktop import APP_ID

HOME_ENV = "DRS_DESKTOP_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The files and folders of one DRS Desktop home."""

    home: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> AppPaths:
        """``home`` (from ``--home``) first, then ``$DRS_DESKTOP_HOME``, then the platform default."""
        chosen = home if home else os.environ.get(HOME_ENV)
        if chosen:
            return cls(Path(chosen).expanduser().absolute())
        return cls(Path(platformdirs.user_data_dir(APP_ID, appauthor=False)))

    @property
    def database(self) -> Path:
        return self.home / "drs-desktop.sqlite3"

    @property
    def backups(self) -> Path:
        return self.home / "backups"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def logs(self) -> Path:
        return self.home / "logs"


def resource_path(relative: str) -> Path:
    """Path of a file of ``resources/``: inside the package in a wheel and in the PyInstaller bundle (both
    put the folder at ``drs_desktop/resources``), at the top of a source checkout otherwise."""
    return _resources() / relative


@functools.cache
def _resources() -> Path:
    """Looked up once per process (a stat at start, never again)."""
    package = Path(__file__).resolve().parent
    installed = package / "resources"
    return installed if installed.is_dir() else package.parent / "resources"
