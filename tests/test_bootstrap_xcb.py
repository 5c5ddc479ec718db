"""scripts/bootstrap.sh installs every X11 library Qt's xcb platform plugin links to.

A fresh desktop machine lacks some of them (libxcb-cursor0 first), and then ``scripts/run.sh --demo``
cannot open a window: Qt names only the first library it misses. The list in bootstrap.sh is checked
against what ``ldd`` names for the plugin of the PySide6 actually installed, so a PySide6 upgrade that
links one more library fails here rather than on an operator's desktop.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: X11-side libraries only: the rest (libc, glib, fontconfig, GL) are in bootstrap's base list or the OS.
_X11_LIBRARY = re.compile(r"^lib(xcb[\w-]*|X11-xcb|xkbcommon-x11)\.so\.(\d+)")


def debian_package(soname: str) -> str | None:
    """The Debian/Ubuntu package of an X11 library's soname: ``libxcb-icccm.so.4`` -> ``libxcb-icccm4``.

    Debian's rule for a library package: the library's name, lowercased, then its soname version, with a
    dash between them where the name ends in a digit (``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0``).
    """
    match = _X11_LIBRARY.match(soname)
    if match is None:
        return None
    name, version = f"lib{match.group(1)}".lower(), match.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def bootstrap_packages() -> set[str]:
    text = (ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    packages: set[str] = set()
    for block in re.findall(r"system_packages\+?=\(([^)]*)\)", text):
        packages.update(block.split())
    return packages


def linked_sonames(library: Path) -> set[str]:
    """Every library ``ldd`` names for ``library``, found or not (a missing one is named all the same)."""
    out = subprocess.run(["ldd", str(library)], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def test_debian_package_names_follow_debians_rule() -> None:
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libxcb.so.1") == "libxcb1"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libX11-xcb.so.1") == "libx11-xcb1"
    assert debian_package("libGL.so.1") is None


@pytest.mark.skipif(shutil.which("ldd") is None, reason="ldd is part of glibc on Linux")
def test_bootstrap_installs_every_x11_library_the_xcb_plugin_links_to() -> None:
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    plugin = qt / "plugins" / "platforms" / "libqxcb.so"
    libraries = [plugin, *sorted((qt / "lib").glob("libQt6XcbQpa.so.*"))[:1]]
    needed: set[str] = set()
    for library in libraries:
        for soname in linked_sonames(library):
            package = debian_package(soname)
            if package is not None:
                needed.add(package)
    assert "libxcb-cursor0" in needed  # the one a desktop lacks first: the check reads what it should
    missing = needed - bootstrap_packages()
    assert not missing, f"scripts/bootstrap.sh does not install {sorted(missing)}"


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="a Debian or Ubuntu machine")
def test_bootstrap_installs_only_what_is_missing() -> None:
    """Run with the callers' ``set -euo pipefail``: a package dpkg says is installed is never installed
    again (a check that failed on the t64 name it also asks about once made every run reinstall all)."""
    script = "set -euo pipefail; DRS_BOOTSTRAP_CHECK_ONLY=1; source scripts/bootstrap.sh"
    out = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    missing = set(out.split())
    installed = {
        package
        for package in bootstrap_packages()
        if "install ok installed"
        in subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
        ).stdout
    }
    assert installed, "the check reads what is installed on this machine"
    assert not missing & installed, f"would reinstall {sorted(missing & installed)}"
    assert missing <= bootstrap_packages()
