"""The packaged application, built once per test session by the same script an operator runs.

``bash scripts/build_bundle.sh`` builds dist/drs-desktop/ with PyInstaller and the Linux archive. Set
``DRS_BUNDLE_REUSE=1`` to test the bundle and archive already in dist/ (when iterating on the tests; CI
always builds).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 900  # seconds: PyInstaller takes about 20 s here; a loaded 2-core CI machine, far more


@dataclass(frozen=True)
class Bundle:
    folder: Path  # dist/drs-desktop
    archive: Path  # dist/drs-desktop-<version>-linux-<arch>.tar.gz

    @property
    def executable(self) -> Path:
        return self.folder / "drs-desktop"

    def env(self, home: Path) -> dict[str, str]:
        """A clean environment for the bundle: no PYTHONPATH or venv leaking the checkout into it."""
        keep = ("PATH", "LANG", "LC_ALL", "DISPLAY", "XDG_RUNTIME_DIR", "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env["HOME"] = str(home)
        env["DRS_DESKTOP_HOME"] = str(home / "drs-home")
        return env


def _newest(pattern: str) -> Path:
    found = sorted((ROOT / "dist").glob(pattern), key=lambda p: p.stat().st_mtime)
    assert found, f"nothing matches dist/{pattern}"
    return found[-1]


@pytest.fixture(scope="session")
def bundle() -> Iterator[Bundle]:
    if not os.environ.get("DRS_BUNDLE_REUSE"):
        done = subprocess.run(
            ["bash", "scripts/build_bundle.sh"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
        assert done.returncode == 0, f"the bundle did not build:\n{done.stderr[-4000:]}"
        archive = ROOT / done.stdout.strip().splitlines()[-1]
    else:
        archive = _newest("drs-desktop-*-linux-*.tar.gz")
    folder = ROOT / "dist" / "drs-desktop"
    assert (folder / "drs-desktop").is_file() and archive.is_file()
    yield Bundle(folder=folder, archive=archive)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first test that asks for the bundle builds it: give this folder's tests the build's time."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.timeout(BUILD_TIMEOUT + 300))
