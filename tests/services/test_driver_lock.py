"""The driver lock: one holder per execution, a message naming it, released by the OS when it dies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from drs_desktop.services.driver_lock import (
    DriverBusyError,
    DriverLock,
    LockHolder,
    lock_path,
    take_driver_lock,
)

EXECUTION = "0f8b2c1e-1111-4222-8333-944455556666"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "home" / "drs-desktop.sqlite3"


def test_the_lock_file_lives_beside_the_database(database: Path, tmp_path: Path) -> None:
    from drs_desktop.config import AppPaths

    assert lock_path(database, EXECUTION) == database.parent / "locks" / f"{EXECUTION}.lock"
    paths = AppPaths.resolve(tmp_path / "elsewhere")
    assert lock_path(paths.database, EXECUTION).parent == paths.home / "locks"
    for bad in ("", "../x", "a/b", "a\\b"):
        with pytest.raises(ValueError):
            lock_path(database, bad)


def test_only_one_of_two_racing_drivers_gets_the_lock(database: Path) -> None:
    """Eight would-be drivers start together (separate open files, as separate processes have): exactly
    one takes the lock; the others are told who drives."""
    barrier = threading.Barrier(8)
    taken: list[DriverLock] = []
    refused: list[DriverBusyError] = []
    guard = threading.Lock()

    def race() -> None:
        barrier.wait()
        try:
            lock = take_driver_lock(database, EXECUTION)
        except DriverBusyError as busy:
            with guard:
                refused.append(busy)
        else:
            with guard:
                taken.append(lock)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(taken) == 1 and len(refused) == 7
    message = str(refused[0])
    assert message.startswith(f"execution {EXECUTION} is being driven by pid {os.getpid()} on ")
    assert socket.gethostname() in message and " since " in message
    taken[0].release()
    with take_driver_lock(database, EXECUTION) as again:
        assert again.held


def test_the_holder_note_names_the_process_and_the_lock_is_reusable(database: Path) -> None:
    with DriverLock(lock_path(database, EXECUTION)) as lock:
        holder = lock.holder()
        assert isinstance(holder, LockHolder)
        assert (holder.pid, holder.host) == (os.getpid(), socket.gethostname())
        assert holder.since is not None
        other = DriverLock(lock_path(database, EXECUTION))
        assert not other.acquire() and not other.held
        with pytest.raises(DriverBusyError, match=f"pid {os.getpid()}"):
            other.__enter__()
    assert not lock.held
    assert lock.path.exists(), "a lock file is never deleted"
    assert other.acquire()
    other.release()


def test_a_note_that_cannot_be_read_still_gives_a_message(database: Path) -> None:
    path = lock_path(database, EXECUTION)
    with DriverLock(path):
        path.write_text("not json", encoding="utf-8")
        busy = DriverLock(path).busy_error()
    assert str(busy) == f"execution {EXECUTION} is being driven by another process"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_of_the_holder_releases_the_lock(database: Path) -> None:
    """The operating system drops a dead process's lock: nobody has to clear a stale mark by hand."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib\n"
            "from drs_desktop.services.driver_lock import take_driver_lock\n"
            f"lock = take_driver_lock(pathlib.Path({str(database)!r}), {EXECUTION!r})\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DriverBusyError, match=f"pid {holder.pid} on "):
            take_driver_lock(database, EXECUTION)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert holder.returncode == -signal.SIGKILL
    with take_driver_lock(database, EXECUTION) as lock:
        assert lock.held
