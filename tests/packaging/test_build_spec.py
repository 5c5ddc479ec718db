"""What build.spec decides for the platforms this machine cannot build (Windows, macOS), checked from its
own source: the spec is Python, so its functions and literals are read with ``ast`` and run here."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from drs_desktop import APP_ID, APP_NAME, __version__

from .conftest import ROOT

SPEC = ROOT / "build.spec"


@pytest.fixture(autouse=True)
def _versioninfo_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyInstaller's version-resource module imports ``compat.win32api``, which only Windows defines (the
    classes never call it; only writing into an .exe does): give it its non-Windows None."""
    import PyInstaller.compat

    monkeypatch.setattr(PyInstaller.compat, "win32api", None, raising=False)


def _spec_function(name: str) -> Any:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    (node,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    namespace: dict[str, Any] = {"APP_ID": APP_ID, "APP_NAME": APP_NAME}
    exec(compile(ast.Module(body=[node], type_ignores=[]), str(SPEC), "exec"), namespace)
    return namespace[name]


def test_the_windows_exe_carries_the_package_version() -> None:
    """The version resource Windows shows in the file's Properties (and Inno Setup can read): built by the
    spec's own function with PyInstaller's classes, serialised as the Windows build would."""
    info = _spec_function("windows_version_info")(__version__)
    numbers = (*(int(n) for n in __version__.split(".")), 0)
    assert (info.ffi.fileVersionMS >> 16, info.ffi.fileVersionMS & 0xFFFF) == numbers[:2]
    assert (info.ffi.fileVersionLS >> 16, info.ffi.fileVersionLS & 0xFFFF) == numbers[2:4]
    text = str(info)
    for expected in (f"'ProductVersion', '{__version__}'", f"'OriginalFilename', '{APP_ID}.exe'"):
        assert expected in text
    assert len(info.toRaw()) > 200  # serialises: what PyInstaller writes into the .exe


def test_a_version_with_fewer_or_more_parts_still_gives_four_numbers() -> None:
    build = _spec_function("windows_version_info")
    assert build("2.1").ffi.fileVersionLS == 0
    assert build("1.2.3.4.5").ffi.fileVersionLS == (3 << 16) | 4
