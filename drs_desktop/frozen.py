"""What differs when DRS Desktop runs as the packaged bundle (PyInstaller), decided before anything else.

The bundle has one executable for the GUI and every CLI command. On Windows it is a windowed (GUI
subsystem) program so that a double-click opens no console; as under ``pythonw.exe`` (PyInstaller 5 dropped
its stand-in writers), ``sys.stdin``, ``sys.stdout`` and ``sys.stderr`` are then None, except perhaps a
stream the caller redirected to a file or a pipe (a handle the C runtime may take); either is handled,
stream by stream (not tried on Windows: no Windows machine builds here). Started from a terminal
for a CLI command (``drs-desktop plan list``), the program attaches to that terminal's console and writes
the streams it lacks there; a stream redirected to a file stays with that file. With no console to attach
to (a shortcut or Task Scheduler running a command), the missing streams go to the null device, so that a
command that writes to ``sys.stdout`` runs to its exit code instead of failing on None.

What Windows does not let a GUI program change: cmd.exe and PowerShell do not wait for it, so the prompt
comes back at once and the command's output appears after it, and ``%ERRORLEVEL%``/``$LASTEXITCODE`` is
not the command's. ``start /wait drs-desktop plan list`` (cmd), piping the output, or running it from a
batch file make the shell wait (docs/packaging.md). For the same reason standard input is
never the console: the shell reads the keyboard at the same time, so the CLI, which reads no standard
input, gets the null device.

On Linux the programs the bundle starts (the browser for an SSO sign-in, a profile's credential process)
get the caller's library path back, not the bundle's (``restore_library_path``). macOS starts an
``.app`` with a ``-psn_...`` argument on old releases, which is dropped. Elsewhere, and
outside a bundle, nothing changes. Standard library only: it runs before the package's layers are imported.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, MutableMapping, Sequence
from typing import TextIO

ATTACH_PARENT_PROCESS = -1
#: The Windows device that is the attached console's screen buffer, whoever else holds the standard handles.
CONSOLE_OUTPUT = "CONOUT$"
OUTPUT_STREAMS = ("stdout", "stderr")


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
        fill_missing_streams(_attach_parent_console, _open_console)
    if is_frozen() and sys.platform.startswith("linux"):
        restore_library_path(os.environ)
    return args


def restore_library_path(environ: MutableMapping[str, str]) -> None:
    """Give child processes the library path the caller set, not the bundle's.

    On Linux the bootloader points ``LD_LIBRARY_PATH`` at the bundle's own libraries (keeping the
    caller's in ``LD_LIBRARY_PATH_ORIG``). This process no longer needs it (the dynamic loader read it at
    start), but every program it starts would inherit it: ``xdg-open`` opening the SSO sign-in page in
    the browser, or an AWS profile's ``credential_process``, would load the bundle's Debian 12 glib or
    OpenSSL against the system's newer libraries and fail.
    """
    original = environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        environ["LD_LIBRARY_PATH"] = original
    else:
        environ.pop("LD_LIBRARY_PATH", None)


def fill_missing_streams(attach: Callable[[], bool], open_console: Callable[[str], TextIO]) -> list[str]:
    """Give each standard stream that is None a file; return the names of those that were None.

    ``attach`` is asked for a console only when an output stream is missing (a redirected one is kept, so
    ``drs-desktop plan list > plans.txt`` writes the list to the file and its errors to the console);
    when it gives one, ``open_console(CONSOLE_OUTPUT)`` opens each missing output stream on it. Every
    stream still missing then gets the null device.
    """
    missing = [name for name in ("stdin", *OUTPUT_STREAMS) if getattr(sys, name) is None]
    console = any(name in OUTPUT_STREAMS for name in missing) and attach()
    for name in missing:
        if name == "stdin":
            stream: TextIO = open(os.devnull, encoding="utf-8")  # open as long as the process
        elif console:
            stream = open_console(CONSOLE_OUTPUT)
        else:
            stream = open(os.devnull, "w", encoding="utf-8")
        setattr(sys, name, stream)
    return missing


def _attach_parent_console() -> bool:  # pragma: no cover - Windows only
    """Attach to the console of the process that started this one (a terminal); False when it has none
    (started by a double-click, a shortcut, or a service), or when this process has a console already."""
    import ctypes

    return bool(ctypes.windll.kernel32.AttachConsole(ATTACH_PARENT_PROCESS))  # type: ignore[attr-defined]


def _open_console(device: str) -> TextIO:  # pragma: no cover - the device exists on Windows only
    """Line-buffered, so each line shows as it is printed. ``open`` gives a console device Python's
    console writer (WriteConsoleW), which takes UTF-8 from the text layer whatever the console's code page,
    so any plan name prints as it is."""
    return open(device, "w", buffering=1, encoding="utf-8", errors="replace")
