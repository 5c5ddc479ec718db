"""The driver lock: which process drives an execution, as the operating system sees it.

An execution has one driver at a time (only the driver appends to its journal). On one machine that
driver is, by definition, the process holding an exclusive advisory lock on the execution's lock file,
``<home>/locks/<execution_id>.lock`` (beside the database: one lock folder per database). ``run``, ``run
--resume``, ``control`` without a live driver, the GUI's start, resume and cleanup all take it before they
append; whoever cannot take it is told who holds it ("being driven by pid 1234 on host since ...") and
sends controls through the control inbox instead (``storage.control_inbox``).

Why an OS lock and not a row in the database: the kernel releases it when its process dies, however it
dies (``kill -9``, a power cut of a laptop that then reboots), so a crash never leaves a stale "driven"
mark that someone must clear by hand. Team sync may add a lease across machines on top of it, never
instead of it.

``flock`` on POSIX (per open file, so two locks in one process exclude each other too), ``msvcrt.locking``
on Windows (on a byte far past the holder's note, which Windows would otherwise hide from readers). The
file holds the holder's pid, host and start time for the message; it is never deleted (deleting a lock
file that another process is about to lock would let two processes hold "the" lock on two files).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from drs_desktop.domain.errors import DrsDesktopError

logger = logging.getLogger(__name__)

__all__ = ["DriverBusyError", "DriverLock", "LockHolder", "lock_path", "take_driver_lock"]

#: Windows locks a byte range; this one lies past any note, so the note stays readable to others.
_WINDOWS_LOCK_OFFSET = 1 << 20
#: How often, and how far apart, a refused taker reads the note again while it names nobody alive.
_NOTE_LOOKS = 10
_NOTE_PAUSE = 0.02


def _may_be_alive(holder: LockHolder) -> bool:
    """False only for a process of this host that certainly no longer exists (a stale note)."""
    if holder.host != socket.gethostname() or sys.platform == "win32":
        return True  # on Windows os.kill(pid, 0) would send the process a Ctrl-C: never probe there
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal (or the platform cannot tell)
        return True
    return True


class DriverBusyError(DrsDesktopError):
    """Another process drives the execution (holds its driver lock)."""

    def __init__(self, execution_id: str, holder: LockHolder | None) -> None:
        self.execution_id = execution_id
        self.holder = holder
        super().__init__(describe_driver(execution_id, holder))


@dataclass(frozen=True)
class LockHolder:
    """What the driver wrote into its lock file: for the operator's message only, never for a decision."""

    pid: int
    host: str
    since: datetime | None

    def describe(self) -> str:
        when = f" since {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since else ""
        return f"pid {self.pid} on {self.host}{when}"


def describe_driver(execution_id: str, holder: LockHolder | None) -> str:
    who = holder.describe() if holder is not None else "another process"
    return f"execution {execution_id} is being driven by {who}"


def lock_path(database: Path, execution_id: str) -> Path:
    """The lock file of an execution of the database at ``database``."""
    if not execution_id or any(sep in execution_id for sep in ("/", "\\", "..")):
        raise ValueError(f"not an execution ID: {execution_id!r}")
    return database.parent / "locks" / f"{execution_id}.lock"


class DriverLock:
    """An exclusive, non-blocking advisory lock on one file; ``with`` takes it or raises DriverBusyError."""

    def __init__(self, path: Path, *, execution_id: str = "") -> None:
        self._path = path
        self._execution_id = execution_id or path.stem
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self._path

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it (True), else False at once. Writes this process's note."""
        if self._fd is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                os.close(fd)
                return False
            _write_note(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        logger.info("driver lock taken: %s", self._path)
        return True

    def release(self) -> None:
        """Give the lock up (the OS does it anyway when the process dies). The file stays."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)
        logger.info("driver lock released: %s", self._path)

    def holder(self) -> LockHolder | None:
        """Who holds (or last held) the lock, from its note; None when there is no readable note."""
        try:
            text = self._path.read_text(encoding="utf-8")
        except OSError:
            return None
        return _parse_note(text)

    def busy_error(self) -> DriverBusyError:
        """Who drives, for the message. The new holder writes its note just after it takes the lock, so
        for a moment the file may be empty or still name a process that is gone: look again briefly."""
        holder = self.holder()
        for _ in range(_NOTE_LOOKS):
            if holder is not None and _may_be_alive(holder):
                break
            time.sleep(_NOTE_PAUSE)
            holder = self.holder()
        return DriverBusyError(self._execution_id, holder)

    def __enter__(self) -> Self:
        if not self.acquire():
            raise self.busy_error()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __del__(self) -> None:  # a lock dropped without release() must not outlive its owner object
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass

    def __repr__(self) -> str:
        return f"DriverLock({str(self._path)!r}{', held' if self.held else ''})"


def take_driver_lock(database: Path, execution_id: str) -> DriverLock:
    """The execution's driver lock, taken; DriverBusyError (who drives it) when another process holds it."""
    lock = DriverLock(lock_path(database, execution_id), execution_id=execution_id)
    if not lock.acquire():
        raise lock.busy_error()
    return lock


def _write_note(fd: int) -> None:
    note = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    data = json.dumps(note).encode("utf-8")
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.ftruncate(fd, len(data))
    os.fsync(fd)


def _parse_note(text: str) -> LockHolder | None:
    try:
        note = json.loads(text)
        since = datetime.fromisoformat(note["since"]) if note.get("since") else None
        return LockHolder(pid=int(note["pid"]), host=str(note.get("host") or "?"), since=since)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
