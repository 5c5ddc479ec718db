"""setuptools' hook for the one thing pyproject.toml cannot say: the top-level ``resources/`` folder (the
sample plan, the icons) ships inside the package, as ``drs_desktop/resources/``, in a wheel or an sdist
install, where ``config.resource_path`` finds it (a checkout reads ``resources/`` itself; the PyInstaller
bundle puts it in the same place as the wheel)."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if not self.dry_run:
            target = Path(self.build_lib) / "drs_desktop" / "resources"
            shutil.rmtree(target, ignore_errors=True)  # a file gone from resources/ leaves the wheel too
            shutil.copytree(ROOT / "resources", target)


setup(cmdclass={"build_py": BuildWithResources})
