"""The GUI's log file (``<home>/logs/drs-desktop.log``, written off the GUI thread) and the start-up probe
the benchmark reads: the real application started as an operator starts it, in its own process."""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.log_file import LOG_NAME, LogFile
from drs_desktop.ui.startup_probe import PROBE_ENV, READY_PREFIX
from tests.process_output import first_line

ROOT = Path(__file__).resolve().parent.parent


def test_the_gui_starts_logs_to_its_file_and_reports_when_usable(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", PROBE_ENV: "quit", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "drs_desktop", "--demo", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    (ready,) = [line for line in done.stdout.splitlines() if line.startswith(READY_PREFIX)]
    assert float(ready.split()[-1]) > 0
    log = (tmp_path / "logs" / LOG_NAME).read_text(encoding="utf-8")
    assert "drs_desktop.app: DRS Desktop" in log and "started (home" in log
    assert " INFO " in log  # the file has INFO while standard error kept WARNING:
    assert "INFO drs_desktop.app" not in done.stderr and "started (home" not in done.stderr


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for handler in handlers:
        handler.setLevel(logging.NOTSET)


def test_records_reach_the_file_from_any_thread_and_stderr_keeps_its_level(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    stderr_handler = logging.StreamHandler()
    clean_root.addHandler(stderr_handler)
    clean_root.setLevel(logging.WARNING)
    log_file = LogFile(AppPaths(tmp_path))
    assert log_file.start()
    try:
        assert stderr_handler.level == logging.WARNING  # what standard error showed, it still shows
        logging.getLogger("drs_desktop.test").info("from the main thread")
        worker = threading.Thread(
            target=lambda: logging.getLogger("drs_desktop.test").warning("from a worker")
        )
        worker.start()
        worker.join()
        logging.getLogger("drs_desktop.test").debug("below the file's level")
    finally:
        log_file.stop()
    text = log_file.path.read_text(encoding="utf-8")
    assert "INFO MainThread drs_desktop.test: from the main thread" in text
    assert "WARNING" in text and "from a worker" in text
    assert "below the file's level" not in text


def test_a_home_where_no_log_can_be_written_is_said_and_survived(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    (tmp_path / "logs").write_text("a file where the folder should be", encoding="utf-8")
    log_file = LogFile(AppPaths(tmp_path))
    assert log_file.start() is False
    log_file.stop()  # nothing started: nothing to stop, and no error
    assert not any(isinstance(h, logging.handlers.QueueHandler) for h in clean_root.handlers)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_logout_kill_or_ctrl_c_shuts_the_gui_down_in_order(tmp_path: Path, signum: int) -> None:
    """The running application (demo mode, its simulator and task threads up) gets the signal a session
    logout or ``kill`` sends (or Ctrl-C in its terminal): it quits as a closed window does, exit 0, with
    the database closed (SQLite removes its WAL file when the last connection closes cleanly)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", PROBE_ENV: "report", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "drs_desktop", "--demo", "--home", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = first_line(process)  # when the window is usable
        assert first.startswith(READY_PREFIX), first
        assert (tmp_path / "drs-desktop.sqlite3-wal").exists(), "the database is open while the app runs"
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    log = (tmp_path / "logs" / LOG_NAME).read_text(encoding="utf-8")
    assert f"{signal.Signals(signum).name} received: quitting as if the window were closed" in log
    assert not (tmp_path / "drs-desktop.sqlite3-wal").exists(), "the database was closed in order"


def test_a_second_instance_on_the_same_home_keeps_a_log_of_its_own(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    """Two DRS Desktops on one home would rotate one file from two processes (lines lost; on Windows the
    rollover fails): the second writes drs-desktop-<pid>.log; once the first stops, the file is free."""
    first, second = LogFile(AppPaths(tmp_path)), LogFile(AppPaths(tmp_path))
    assert first.start()
    try:
        assert second.start()
        try:
            assert first.path.name == LOG_NAME and second.path.name == f"drs-desktop-{os.getpid()}.log"
            logging.getLogger("drs_desktop.test").info("written twice, once per file")
        finally:
            second.stop()
    finally:
        first.stop()
    assert "written twice" in first.path.read_text(encoding="utf-8")
    assert "written twice" in second.path.read_text(encoding="utf-8")
    third = LogFile(AppPaths(tmp_path))
    assert third.start()
    third.stop()
    assert third.path.name == LOG_NAME
