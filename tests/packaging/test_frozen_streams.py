"""drs_desktop.frozen's stream repair, the part of the Windows console handling that runs on any system.

The bundle's Windows executable is windowed, so Python starts it with None for the standard streams it
was not given. ``fill_missing_streams`` decides which streams to replace and with what; the two Windows
calls (AttachConsole and opening CONOUT$) are passed in, and here a real file stands for the console.
Not covered here, because it needs Windows: that AttachConsole succeeds from cmd.exe and PowerShell, and
what the console shows (docs/packaging.md lists the checks to make on a Windows machine).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import pytest

from drs_desktop import cli
from drs_desktop.frozen import CONSOLE_OUTPUT, fill_missing_streams, prepare_process


class FakeTerminal:
    """The console a terminal would give: a real file, and a record of every attach and open asked for."""

    def __init__(self, folder: Path, *, present: bool) -> None:
        self.path = folder / "console.txt"
        self.present = present
        self.attached = 0
        self.opened: list[str] = []
        self._files: list[TextIO] = []

    def attach(self) -> bool:
        self.attached += 1
        return self.present

    def open(self, device: str) -> TextIO:
        self.opened.append(device)
        stream = open(self.path, "a", buffering=1, encoding="utf-8")  # closed by close()
        self._files.append(stream)
        return stream

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8") if self.path.exists() else ""

    def close(self) -> None:
        for stream in self._files:
            stream.close()


@contextmanager
def windowed_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Inside: sys.stdin/stdout/stderr None, as a windowed Windows program starts. (In the test body, not
    a fixture: pytest puts its capture streams back between setup and the test.) On leaving, the null-device
    files the code opened are closed and pytest's streams come back."""
    for name in ("stdin", "stdout", "stderr"):
        monkeypatch.setattr(sys, name, None)
    try:
        yield
    finally:
        for name in ("stdin", "stdout", "stderr"):
            stream = getattr(sys, name)
            if isinstance(stream, io.TextIOWrapper) and stream.name == os.devnull:
                stream.close()
        monkeypatch.undo()


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[FakeTerminal]:
    term = FakeTerminal(tmp_path, present=True)
    yield term
    term.close()


def test_started_from_a_terminal_every_output_goes_to_its_console(
    terminal: FakeTerminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    with windowed_start(monkeypatch):
        missing = fill_missing_streams(terminal.attach, terminal.open)
        print("plan-a  rev 1")
        print("warning: slow", file=sys.stderr)
        assert terminal.text() == "plan-a  rev 1\nwarning: slow\n"  # line-buffered: there before exit
        assert sys.stdin is not None and sys.stdin.read() == ""  # never the console the shell also reads

    assert missing == ["stdin", "stdout", "stderr"]
    assert terminal.attached == 1
    assert terminal.opened == [CONSOLE_OUTPUT, CONSOLE_OUTPUT]


def test_output_redirected_to_a_file_stays_there_and_errors_go_to_the_console(
    terminal: FakeTerminal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``drs-desktop plan list > plans.txt``: the old code replaced a redirected stdout with the console."""
    with windowed_start(monkeypatch), open(tmp_path / "plans.txt", "w", encoding="utf-8") as redirected:
        monkeypatch.setattr(sys, "stdout", redirected)
        missing = fill_missing_streams(terminal.attach, terminal.open)
        stays = sys.stdout is redirected
        print("plan-a")
        print("no such plan", file=sys.stderr)

    assert stays
    assert missing == ["stdin", "stderr"]
    assert (tmp_path / "plans.txt").read_text(encoding="utf-8") == "plan-a\n"
    assert terminal.text() == "no such plan\n"


def test_both_outputs_redirected_no_console_is_attached(
    terminal: FakeTerminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``drs-desktop plan list 2>&1 | findstr plan``: nothing to attach for, the shell keeps its console."""
    piped = io.StringIO()
    with windowed_start(monkeypatch):
        monkeypatch.setattr(sys, "stdout", piped)
        monkeypatch.setattr(sys, "stderr", piped)
        missing = fill_missing_streams(terminal.attach, terminal.open)
        kept = sys.stdout is piped and sys.stderr is piped

    assert missing == ["stdin"]
    assert kept
    assert terminal.attached == 0 and terminal.opened == []


def test_without_a_console_a_command_still_runs_to_its_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shortcut or Task Scheduler running ``drs-desktop plan list --json``: no console to attach to.
    Before, ``sys.stdout`` stayed None and the command died writing its answer."""
    nowhere = FakeTerminal(tmp_path, present=False)
    with windowed_start(monkeypatch):
        fill_missing_streams(nowhere.attach, nowhere.open)
        code = cli.main(["plan", "list", "--json", "--home", str(tmp_path / "home")])

    assert code == cli.EXIT_OK
    assert nowhere.attached == 1 and nowhere.opened == []
    assert (tmp_path / "home" / "drs-desktop.sqlite3").exists()  # it did run, and wrote nowhere visible


def test_all_streams_present_nothing_is_touched(terminal: FakeTerminal) -> None:
    before = (sys.stdin, sys.stdout, sys.stderr)

    assert fill_missing_streams(terminal.attach, terminal.open) == []
    assert (sys.stdin, sys.stdout, sys.stderr) == before
    assert terminal.attached == 0


def test_outside_windows_the_arguments_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundle on Linux keeps its streams and arguments; on macOS the Finder's -psn_ argument goes."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    streams = (sys.stdout, sys.stderr)
    assert prepare_process(["-psn_0_1234", "plan", "list"]) == ["-psn_0_1234", "plan", "list"]
    assert (sys.stdout, sys.stderr) == streams
    monkeypatch.setattr(sys, "platform", "darwin")
    assert prepare_process(["-psn_0_1234", "plan", "list"]) == ["plan", "list"]


def test_children_get_the_callers_library_path_back() -> None:
    """The bootloader's LD_LIBRARY_PATH (the bundle's libraries) never reaches a program the bundle starts."""
    from drs_desktop.frozen import restore_library_path

    set_by_caller = {
        "LD_LIBRARY_PATH": "/bundle/_internal",
        "LD_LIBRARY_PATH_ORIG": "/opt/vendor/lib",
        "X": "1",
    }
    restore_library_path(set_by_caller)
    assert set_by_caller == {"LD_LIBRARY_PATH": "/opt/vendor/lib", "X": "1"}
    none_before = {"LD_LIBRARY_PATH": "/bundle/_internal", "X": "1"}
    restore_library_path(none_before)
    assert none_before == {"X": "1"}
