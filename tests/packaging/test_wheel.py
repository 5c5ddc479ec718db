"""Installing from the Python package: the wheel carries what the bundle carries (``resources/`` as
``drs_desktop/resources``, the migrations, the scenarios), and the installed package finds it with no
checkout beside it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import BUILD_TIMEOUT, ROOT


def test_the_wheel_installs_a_working_package(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check", "-w",
         str(tmp_path / "wheels"), str(ROOT)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheels").glob("drs_desktop-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for repo_file in (ROOT / "resources").rglob("*"):
        if repo_file.is_file():
            assert f"drs_desktop/resources/{repo_file.relative_to(ROOT / 'resources').as_posix()}" in names
    assert "drs_desktop/storage/migrations/0001_initial.sql" in names
    assert "drs_desktop/simulator/scenarios/demo.yaml" in names
    assert not any(name.startswith(("tests/", "scripts/")) for name in names)

    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check", "--target",
         str(site), str(wheel)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)  # the installed copy first: the checkout is not on the path
    probe = "import drs_desktop.config as c; print(c.__file__); print(c.resource_path('sample-plan.yaml'))"
    where = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    module, sample = where.stdout.split()
    assert Path(module).is_relative_to(site) and Path(sample).is_relative_to(site) and Path(sample).is_file()
    imported = subprocess.run(
        [sys.executable, "-m", "drs_desktop", "--home", str(tmp_path / "home"), "plan", "import", sample],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "saved as revision 1" in imported.stdout
