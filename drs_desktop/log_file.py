"""The application's log file: ``<home>/logs/drs-desktop.log``, rotated (5 files of 2 MB).

A double-clicked program has no terminal, and on Windows and macOS a windowed program's standard error
goes nowhere, so what the GUI logs (INFO and up: runs started and picked up, AWS errors by code, tasks
that failed) also goes to this file, where an operator or their support can read it after a bad day. The
file is written by a ``QueueListener`` thread: the GUI thread only puts a record in a queue and never
waits on the disk. What is logged never holds a secret (botocore is kept at INFO, where it logs no
request or response body; the package logs AWS errors by code and message only).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import queue
import sys
from pathlib import Path
from typing import IO

from drs_desktop.config import AppPaths

LOG_NAME = "drs-desktop.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 4
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"

logger = logging.getLogger(__name__)


class LogFile:
    """Sends the root logger's records at ``level`` and up to the rotating file, off the caller's thread.

    ``start()`` opens the file (creating ``logs/``); when it cannot (a read-only home), it says so on
    standard error and the application runs on without a file. ``stop()`` flushes what is queued.
    """

    def __init__(self, paths: AppPaths, *, level: int = logging.INFO) -> None:
        self.path: Path = paths.logs / LOG_NAME
        self._level = level
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._handler: logging.handlers.QueueHandler | None = None
        self._listener: logging.handlers.QueueListener | None = None
        self._lock: IO[bytes] | None = None

    def start(self) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self._own_the_file():
                # Another DRS Desktop on this home writes the shared log: rotating one file from two
                # processes loses lines (and fails on Windows), so this one keeps a log of its own.
                self.path = self.path.with_name(f"{self.path.stem}-{os.getpid()}{self.path.suffix}")
                logger.info("another DRS Desktop writes %s; this one logs to %s", LOG_NAME, self.path.name)
            file_handler = logging.handlers.RotatingFileHandler(
                self.path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
            )
        except OSError as error:
            logger.warning("no log file at %s: %s", self.path, error)
            return False
        file_handler.setFormatter(logging.Formatter(FORMAT))
        file_handler.setLevel(self._level)
        self._handler = logging.handlers.QueueHandler(self._queue)
        self._handler.setLevel(self._level)
        root = logging.getLogger()
        before = root.getEffectiveLevel()
        if before > self._level:
            # The file wants INFO; standard error keeps what it showed (WARNING unless -v).
            for handler in root.handlers:
                if handler.level == logging.NOTSET:
                    handler.setLevel(before)
            root.setLevel(self._level)
        root.addHandler(self._handler)
        self._listener = logging.handlers.QueueListener(self._queue, file_handler, respect_handler_level=True)
        self._listener.start()
        return True

    def _own_the_file(self) -> bool:
        """Take the log's lock (held until the process ends or ``stop``); False when another holds it."""
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        handle = open(lock_path, "a+b")  # held open: the lock lives as long as the handle
        try:
            if sys.platform == "win32":  # pragma: no cover - Windows only
                import msvcrt

                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock = handle
        return True

    def stop(self) -> None:
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler = None
        if self._listener is not None:
            self._listener.stop()  # drains the queue, then closes the file
            for handler in self._listener.handlers:
                handler.close()
            self._listener = None
        if self._lock is not None:
            self._lock.close()  # the lock goes with the handle
            self._lock = None
