"""What differs when DRS Desktop runs as the packaged bundle (PyInstaller), decided before anything else.

The bundle has one executable for the GUI and every CLI command. On Windows it is a windowed program (a
double-click opens no console), so Windows gives it no standard streams: started from a terminal for a
CLI command (``drs-desktop plan list``), it attaches to that terminal's console so that what it prints
shows there. macOS starts an ``.app`` with a ``-psn_...`` argument on old releases, which is dropped.
Elsewhere, and outside a bundle, nothing changes. Standard library only: it runs before the package's
layers are imported.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

ATTACH_PARENT_PROCESS = -1


def is_frozen() -> bool:
    """True inside the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> str | None:
    """The bundle's unpacked folder (``sys._MEIPASS``), or None outside a bundle."""
    base = getattr(sys, "_MEIPASS", None)
    return str(base) if base else None


def prepare_process(argv: Sequence[str]) -> list[str]:
    """Make the bundle's process behave like the installed command; return the arguments to parse."""
    args = [a for a in argv if not (sys.platform == "darwin" and a.startswith("-psn_"))]
    if is_frozen() and sys.platform == "win32" and args:
        _attach_parent_console()
    return args


def _attach_parent_console() -> None:  # pragma: no cover - Windows only
    """A windowed Windows program started from a console for a command: print to that console."""
    if sys.stdout is not None and sys.stderr is not None:
        return
    import ctypes

    if not ctypes.windll.kernel32.AttachConsole(ATTACH_PARENT_PROCESS):  # type: ignore[attr-defined]
        return  # started by a double-click or a shortcut: no console to attach to
    # Line-buffered, in the console's encoding; the prompt returned at once when the program was
    # started, so what it prints appears after that prompt (as with any windowed program).
    sys.stdout = open("CONOUT$", "w", buffering=1, encoding="utf-8", errors="replace")
    sys.stderr = open("CONOUT$", "w", buffering=1, encoding="utf-8", errors="replace")
    if sys.stdin is None:
        sys.stdin = open("CONIN$", encoding="utf-8", errors="replace")
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
